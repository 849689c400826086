#!/usr/bin/python3
"""Measures the in-graph reference placements on lesion-transfer pairs (`pipeline synth lesion-transfer`), untrained:
the plain collage (the reference's pixels, background included, placed into the box: what mammo-tiny 1.0.0 starts
from and a copy&paste at model resolution) against the harmonised collage (model.harmonize_reference: the lesion's
excess over its own tissue added to the target tissue's estimate). The target crop of each pair is the truth: the same
lesion drawn over the target's tissue. Reports the median seam (docs/metrics.md) and box RMSE.

  nice -n 10 /usr/bin/python3 training/measure_priors.py --pairs /tmp/lt-held [--json out.json]
"""
from __future__ import annotations

import argparse
import csv
import glob
import json
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from data import read_display  # noqa: E402
from model import harmonize_reference, warp_reference, warp_reference_full  # noqa: E402
from preprocess import build_pair, to_display_space  # noqa: E402
from seam import seam  # noqa: E402


def read_pairs(folder):
    with open(os.path.join(folder, "lesion_transfer_pairs.csv"), newline="") as f:
        rows = list(csv.DictReader(f))

    def find(image_id):
        hits = glob.glob(os.path.join(folder, "images", "*", image_id + ".dicom"))
        if not hits:
            raise FileNotFoundError(f"{folder}: no DICOM for image {image_id}")
        return hits[0]
    for r in rows:
        yield (r, find(r["reference_image_id"]), tuple(float(r[k]) for k in ("reference_xmin", "reference_ymin", "reference_xmax", "reference_ymax")),
               find(r["target_image_id"]), tuple(float(r[k]) for k in ("target_xmin", "target_ymin", "target_xmax", "target_ymax")))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--pairs", required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json")
    p.add_argument("--grid", help="PNG: per pair, reference | target (truth) | collage | harmonised | tapered, 3x nearest")
    p.add_argument("--grid-rows", type=int, default=8)
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    rng = np.random.default_rng(args.seed)
    coords = torch.arange(64, dtype=torch.float32) + 0.5
    rows, tiles = [], []
    for r, ref_path, ref_box, tgt_path, tgt_box in read_pairs(args.pairs):
        pair = build_pair(read_display(tgt_path), tgt_box, float(rng.uniform(3, 4)), 64, 64, ref_box=ref_box, ref_display=read_display(ref_path))
        t = lambda a: torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))[None, None]
        ctx, mask, ref = t(pair.context), t(pair.mask), t(pair.reference)
        with torch.no_grad():
            collage = (ctx + warp_reference(ref, mask, 1.2, coords))[0, 0].numpy()
            full, support = warp_reference_full(ref, mask, 1.2, coords)
            harmonised = (ctx + harmonize_reference(full, ctx, mask, support))[0, 0].numpy()
            tapered = (ctx + harmonize_reference(full, ctx, mask, support, taper=2.0))[0, 0].numpy()
        box = pair.box_model
        m = pair.mask > 0.5
        row = {"pair": r["pair_id"], "category": r["category"]}
        for name, img in (("untouched", pair.target), ("collage", collage), ("harmonised", harmonised), ("tapered", tapered)):
            d = to_display_space(img)
            row[f"seam.{name}"] = seam(d, box)
            row[f"rmse.{name}"] = float(np.sqrt(np.mean((d[m] - to_display_space(pair.target)[m]) ** 2)))
        rows.append(row)
        if args.grid and len(tiles) < args.grid_rows:
            tiles.append(np.concatenate([np.pad(to_display_space(a), 1, constant_values=1.0)
                                         for a in (pair.reference, pair.target, collage, harmonised, tapered)], axis=1))
    summary = {k: float(np.median([r[k] for r in rows if r[k] is not None])) for k in rows[0] if k.startswith(("seam", "rmse"))}
    summary["pairs"] = len(rows)
    print(json.dumps(summary, indent=1))
    if args.grid and tiles:
        from PIL import Image
        grid = (np.concatenate(tiles, axis=0) * 255).round().astype(np.uint8)
        Image.fromarray(grid).resize((grid.shape[1] * 3, grid.shape[0] * 3), Image.NEAREST).save(args.grid)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"summary": summary, "pairs": rows}, f, indent=1)


if __name__ == "__main__":
    main()
