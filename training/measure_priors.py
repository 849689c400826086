#!/usr/bin/python3
"""Measures the in-graph reference placements on lesion-transfer pairs (`pipeline synth lesion-transfer`), untrained:
the plain collage (the reference's pixels, background included, placed into the box: what mammo-tiny 1.0.0 starts
from and a copy&paste at model resolution) against the harmonised collage (model.harmonize_reference: the lesion's
excess over its own tissue added to the target tissue's estimate). The target crop of each pair is the truth: the same
lesion drawn over the target's tissue. Reports the median seam (docs/metrics.md) and box RMSE.

The pairs are prepared by the C# export (the inference preparation), read as tensors:

  ./pipeline synth lesion-transfer --pairs 40 --out /tmp/lt-held --seed 4242
  ./pipeline train-data export --dataset /tmp/lt-held --transfer-pairs /tmp/lt-held --out /tmp/lt-held-tensors --variants 1
  nice -n 10 /usr/bin/python3 training/measure_priors.py --data /tmp/lt-held-tensors [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from data import LESION_TRANSFER, indices, load  # noqa: E402
from model import harmonize_reference, warp_reference, warp_reference_full  # noqa: E402
from seam import seam  # noqa: E402


def to_display(model: np.ndarray) -> np.ndarray:
    """Model space [-1, 1] -> display [0, 1] (docs/preprocessing.md, "Values")."""
    return (np.asarray(model, dtype=np.float64) + 1.0) / 2.0


def transfer_examples(data):
    """(split, row, item) of every lesion-transfer example, all splits (the pairs are held out from any training)."""
    for name in sorted(data.splits):
        split = data.splits[name]
        if split.pair_kinds.get(LESION_TRANSFER):
            for i in indices(split, {LESION_TRANSFER}):
                yield split, int(i), split.items[int(i)]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help="a `pipeline train-data export --transfer-pairs` folder")
    p.add_argument("--json")
    p.add_argument("--grid", help="PNG: per pair, reference | target (truth) | collage | harmonised | tapered, 3x nearest")
    p.add_argument("--grid-rows", type=int, default=8)
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    data = load(args.data)
    r, expand = data.preparation.resolution, data.preparation.reference_expand
    coords = torch.arange(r, dtype=torch.float32) + 0.5
    rows, tiles = [], []
    for split, i, item in transfer_examples(data):
        target, ctx_np, mask_np, ref_np = (np.asarray(split.tensors[k][i], dtype=np.float32) for k in ("original", "context", "mask", "reference"))
        x, y, w, h = (int(v) for v in split.tensors["box"][i])
        t = lambda a: torch.from_numpy(np.ascontiguousarray(a))[None, None]
        ctx, mask, ref = t(ctx_np), t(mask_np), t(ref_np)
        with torch.no_grad():
            collage = (ctx + warp_reference(ref, mask, expand, coords))[0, 0].numpy()
            full, support = warp_reference_full(ref, mask, expand, coords)
            harmonised = (ctx + harmonize_reference(full, ctx, mask, support))[0, 0].numpy()
            tapered = (ctx + harmonize_reference(full, ctx, mask, support, taper=2.0))[0, 0].numpy()
        box = (x, y, x + w, y + h)
        m = mask_np > 0.5
        row = {"pair": item["imageId"], "split": split.name, "category": item["className"]}
        for name, img in (("untouched", target), ("collage", collage), ("harmonised", harmonised), ("tapered", tapered)):
            d = to_display(img)
            row[f"seam.{name}"] = seam(d, box)
            row[f"rmse.{name}"] = float(np.sqrt(np.mean((d[m] - to_display(target)[m]) ** 2)))
        rows.append(row)
        if args.grid and len(tiles) < args.grid_rows:
            tiles.append(np.concatenate([np.pad(to_display(a), 1, constant_values=1.0)
                                         for a in (ref_np, target, collage, harmonised, tapered)], axis=1))
    if not rows:
        raise SystemExit(f"{args.data}: no lesion-transfer examples (export with --transfer-pairs)")
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
