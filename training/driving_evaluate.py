"""Held-out check of a driving checkpoint (DDIM in Python, the reference of the C# sampler's arithmetic): reinsertion
examples of the held-out export, sampled with guidance scales; reports the mean absolute error inside each modality's
mask against the real crop, for the model and for the copy of the masked context (no object), per scale.

  python3 training/driving_evaluate.py --checkpoint /tmp/drv-run/best.pt --val /tmp/ex/heldout --guidance 1 2 3
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from diffusion import LinearSchedule  # noqa: E402
from driving_model import DrivingDenoiser, masked_context  # noqa: E402
from driving_train import Examples  # noqa: E402


@torch.no_grad()
def sample(model, schedule, ctx, mask, ref, box, guidance, steps, g):
    n = ctx.shape[0]
    x = torch.randn(ctx.shape, generator=g)
    ts = schedule.ddim_timesteps(steps, 1)
    ac = schedule.alphas_cumprod
    for i, t in enumerate(ts):
        tt = torch.full((n,), t, dtype=torch.long)
        if guidance == 1.0:
            eps = model(x, tt, ctx, mask, ref, box)
        else:
            both = model(torch.cat([x, x]), torch.cat([tt, tt]), torch.cat([ctx, ctx]), torch.cat([mask, mask]),
                         torch.cat([torch.zeros_like(ref), ref]), torch.cat([torch.zeros_like(box), box]))
            eps = both[:n] + guidance * (both[n:] - both[:n])
        a_t = ac[t].item()
        a_prev = ac[ts[i + 1]].item() if i + 1 < len(ts) else ac[0].item()
        x0 = (x - (1 - a_t) ** 0.5 * eps) / a_t ** 0.5
        x = a_prev ** 0.5 * x0 + (1 - a_prev) ** 0.5 * eps
    return x.clamp(-1, 1)


def mae_inside(a, b, mask):
    cam = ((a[:, :3] - b[:, :3]).abs() * mask[:, :1]).sum() / (3 * mask[:, :1].sum())
    rng = ((a[:, 3:] - b[:, 3:]).abs() * mask[:, 1:]).sum() / (2 * mask[:, 1:].sum())
    return float(cam) / 2, float(rng) / 2


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--val", required=True)
    ap.add_argument("--guidance", type=float, nargs="+", default=[1.0, 2.0])
    ap.add_argument("--steps", type=int, default=25)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    ck = torch.load(args.checkpoint, map_location="cpu")
    model = DrivingDenoiser.from_config(ck["config"]).eval()
    model.load_state_dict(ck["state"])
    schedule = LinearSchedule(ck["config"]["num_train_timesteps"], ck["config"]["beta_start"], ck["config"]["beta_end"])
    ex = Examples(args.val)
    idx = ex.objects
    x0, mask, box, ref = ex.x0[idx], ex.mask[idx], ex.box[idx], ex.reference[idx]
    ctx = masked_context(x0, mask)
    out = {"checkpointStep": ck.get("step"), "examples": int(len(idx)), "steps": args.steps,
           "maskedContext": dict(zip(("camera", "range"), mae_inside(ctx, x0, mask)))}
    for gs in args.guidance:
        g = torch.Generator().manual_seed(7)
        y = torch.cat([sample(model, schedule, ctx[k:k + 16], mask[k:k + 16], ref[k:k + 16], box[k:k + 16], gs, args.steps, g)
                       for k in range(0, len(idx), 16)])
        out[f"guidance {gs:g}"] = dict(zip(("camera", "range"), mae_inside(y, x0, mask)))
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
