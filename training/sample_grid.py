#!/usr/bin/env python3
"""Sample grid for the model card: reinsertion and insertion on held-out lesions with the Python DDIM sampler.

  /usr/bin/python3 training/sample_grid.py --run <train --out folder> --data <dataset> --out grid.png

Uses the checkpoint that train.py selected (<run>/selection.json; the same weights as <run>/package/denoiser.onnx).
Each row: reference | masked context | HF collage | generated | real crop (reinsertion rows) and the same for
insertion rows (box moved to lesion-free tissue of the same image, reference taken from another image's lesion; the
"real crop" column then shows the unedited tissue). Crops are 64 px, shown at 2x.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402

from data import read_display, read_findings  # noqa: E402
from diffusion import LinearSchedule, ddim_sample  # noqa: E402
from model import Denoiser  # noqa: E402
from preprocess import build_pair, to_display_space  # noqa: E402
from train import _image_split  # noqa: E402


def load_selected(run: Path, checkpoint: str | None = None, baseline: bool = False):
    """The selected EMA snapshot (or --checkpoint); with baseline=True the same network untrained (the collage)."""
    sel_path = run / "selection.json"
    sel = json.loads(sel_path.read_text()) if sel_path.exists() else {"selected": {"step": None}, "guidanceScale": 1.0}
    path = Path(checkpoint) if checkpoint else run / "checkpoints" / sel["selected"]["file"]
    snap = torch.load(path, map_location="cpu")
    cfg = snap["config"]
    torch.manual_seed(0)
    m = Denoiser.from_config(cfg)
    if not baseline:
        m.load_state_dict(snap["ema"])
    sel = {**sel, "selected": {**sel["selected"], "step": 0 if baseline else snap.get("step")}}
    return m.eval(), cfg, sel


def insertion_box(display, ref_box, avoid, rng, tries=200):
    """A box of the reference's size in breast tissue, away from every finding (foreground > 0.9 of a 3x area)."""
    H, W = display.shape
    bw, bh = ref_box[2] - ref_box[0], ref_box[3] - ref_box[1]
    fg = display > 0.15
    best, best_frac = None, -1.0
    for _ in range(tries):
        x0, y0 = rng.uniform(bw, W - 2 * bw), rng.uniform(bh, H - 2 * bh)
        b = (x0, y0, x0 + bw, y0 + bh)
        if any(not (b[2] + bw < a[0] or a[2] + bw < b[0] or b[3] + bh < a[1] or a[3] + bh < b[1]) for a in avoid):
            continue
        ex = fg[max(int(y0 - bh), 0):int(y0 + 2 * bh), max(int(x0 - bw), 0):int(x0 + 2 * bw)]
        frac = float(ex.mean()) if ex.size else 0.0
        if frac > best_frac:
            best, best_frac = b, frac
        if frac > 0.9:
            break
    return best


def tile(a, scale=2):
    img = (to_display_space(a) * 255).round().astype(np.uint8)
    return np.kron(img, np.ones((scale, scale), np.uint8))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--items", type=int, default=6)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--steps", type=int, default=25)
    ap.add_argument("--guidance", type=float, default=None, help="CFG scale (default: the one train.py selected)")
    ap.add_argument("--ratio", type=float, default=3.5)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--checkpoint", help="an EMA snapshot to use instead of the run's selected one")
    ap.add_argument("--baseline", action="store_true", help="the untrained network (reference collage only)")
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    run = Path(a.run)
    model, cfg, sel = load_selected(run, a.checkpoint, a.baseline)
    R, S = cfg["resolution"], cfg["ref_size"]
    guidance = a.guidance if a.guidance is not None else float(sel.get("guidanceScale", 1.0))
    findings = read_findings(a.data)
    _, val = _image_split(findings, 0.15)
    by_image = {}
    for f in findings:
        by_image.setdefault(f.path, []).append(f)
    rng = np.random.default_rng(a.seed)
    picks = val[:a.items]
    rows, kinds = [], []
    cache = {}

    def disp(path):
        if path not in cache:
            cache[path] = read_display(path)
        return cache[path]

    for i, f in enumerate(picks):
        d = disp(f.path)
        rows.append(build_pair(d, f.box, a.ratio, R, S))
        kinds.append("reinsertion")
        donor = picks[(i + 1) % len(picks)] if len(picks) > 1 else f
        box = insertion_box(d, donor.box, [g.box for g in by_image[f.path]], rng)
        if box is not None:
            rows.append(build_pair(d, box, a.ratio, R, S, ref_box=donor.box, ref_display=disp(donor.path)))
            kinds.append("insertion")
    t = lambda k: torch.from_numpy(np.stack([getattr(p, k) for p in rows])[:, None])  # noqa: E731
    g = torch.Generator().manual_seed(a.seed)
    gen = ddim_sample(model, LinearSchedule(), t("context"), t("mask"), t("reference"), t("hf"), steps=a.steps,
                      guidance=guidance, generator=g).numpy()[:, 0]
    sc, pad, head = 2, 4, 16
    cols = ["reference", "context", "HF collage", "generated", "real"]
    cw = R * sc
    grid = Image.new("L", (len(cols) * (cw + pad) + 90, head + len(rows) * (cw + pad)), 40)
    draw = ImageDraw.Draw(grid)
    for c, name in enumerate(cols):
        draw.text((90 + c * (cw + pad) + 2, 2), name, fill=255)
    for r, (p, kind) in enumerate(zip(rows, kinds)):
        y = head + r * (cw + pad)
        draw.text((2, y + cw // 2 - 5), kind, fill=255)
        ref = p.reference if p.reference.shape[0] == R else np.asarray(
            Image.fromarray(p.reference).resize((R, R), Image.BILINEAR))
        for c, arr in enumerate([ref, p.context, p.hf, gen[r], p.target]):
            grid.paste(Image.fromarray(tile(arr, sc)), (90 + c * (cw + pad), y))
        x0, y0, x1, y1 = p.box_model
        for c in (1,):   # box outline on the context only (generated pixels stay unobscured), one pixel outside
            ox = 90 + c * (cw + pad)
            draw.rectangle([ox + x0 * sc - 1, y + y0 * sc - 1, ox + x1 * sc, y + y1 * sc], outline=255 if c != 4 else 160)
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    grid.save(a.out)
    print(json.dumps({"out": a.out, "rows": kinds, "selectedStep": sel["selected"]["step"], "guidance": guidance,
                      "steps": a.steps, "seed": a.seed}))


if __name__ == "__main__":
    main()
