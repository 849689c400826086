#!/usr/bin/env python3
"""Sample grid for the model card: reinsertion on held-out lesions with the Python DDIM sampler.

  /usr/bin/python3 training/sample_grid.py --run <train --out folder> --data <train-data export> --out grid.png

Uses the checkpoint that train.py selected (<run>/selection.json; the same weights as <run>/package/denoiser.onnx)
and the validation examples of the training-data export (`pipeline train-data export`, prepared by the inference
code). Each row: reference | masked context | HF collage | generated | real crop. Rows of other pair kinds (e.g.
lesion transfer) appear when the export holds them. Crops are shown at 2x.
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

from data import load  # noqa: E402
from diffusion import LinearSchedule, ddim_sample  # noqa: E402
from model import Denoiser  # noqa: E402


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


def tile(a, scale=2):
    img = (np.clip((np.asarray(a, dtype=np.float32) + 1) / 2, 0, 1) * 255).round().astype(np.uint8)
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
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--checkpoint", help="an EMA snapshot to use instead of the run's selected one")
    ap.add_argument("--baseline", action="store_true", help="the untrained network (reference collage only)")
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    run = Path(a.run)
    model, cfg, sel = load_selected(run, a.checkpoint, a.baseline)
    R, S = cfg["resolution"], cfg["ref_size"]
    guidance = a.guidance if a.guidance is not None else float(sel.get("guidanceScale", 1.0))
    val = load(a.data).splits["val"]
    picks = list(range(min(a.items, val.count)))
    kinds = [val.items[i]["kind"] for i in picks]
    arr = lambda name: np.stack([np.asarray(val.tensors[name][i], dtype=np.float32) for i in picks])  # noqa: E731
    original, context, mask, hf, reference, boxes = (arr("original"), arr("context"), arr("mask"), arr("detail"),
                                                     arr("reference"), np.asarray(val.tensors["box"])[picks])
    if original.shape[-1] != R or reference.shape[-1] != S:
        raise SystemExit(f"{a.data}: examples are {original.shape[-1]} px (reference {reference.shape[-1]}), "
                         f"the model {R} px (reference {S})")
    t = lambda x: torch.from_numpy(x[:, None])  # noqa: E731
    g = torch.Generator().manual_seed(a.seed)
    gen = ddim_sample(model, LinearSchedule(), t(context), t(mask), t(reference), t(hf), steps=a.steps,
                      guidance=guidance, generator=g).numpy()[:, 0]
    sc, pad, head = 2, 4, 16
    cols = ["reference", "context", "HF collage", "generated", "real"]
    cw = R * sc
    grid = Image.new("L", (len(cols) * (cw + pad) + 90, head + len(picks) * (cw + pad)), 40)
    draw = ImageDraw.Draw(grid)
    for c, name in enumerate(cols):
        draw.text((90 + c * (cw + pad) + 2, 2), name, fill=255)
    for r, kind in enumerate(kinds):
        y = head + r * (cw + pad)
        draw.text((2, y + cw // 2 - 5), kind, fill=255)
        ref = reference[r] if S == R else np.asarray(Image.fromarray(reference[r]).resize((R, R), Image.BILINEAR))
        for c, img in enumerate([ref, context[r], hf[r], gen[r], original[r]]):
            grid.paste(Image.fromarray(tile(img, sc)), (90 + c * (cw + pad), y))
        bx, by, bw, bh = (int(v) for v in boxes[r])
        x0, y0, x1, y1 = bx, by, bx + bw, by + bh
        for c in (1,):   # box outline on the context only (generated pixels stay unobscured), one pixel outside
            ox = 90 + c * (cw + pad)
            draw.rectangle([ox + x0 * sc - 1, y + y0 * sc - 1, ox + x1 * sc, y + y1 * sc], outline=255 if c != 4 else 160)
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    grid.save(a.out)
    print(json.dumps({"out": a.out, "rows": kinds, "selectedStep": sel["selected"]["step"], "guidance": guidance,
                      "steps": a.steps, "seed": a.seed}))


if __name__ == "__main__":
    main()
