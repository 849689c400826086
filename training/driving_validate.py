"""Checkpoint selection for driving-tiny on the held-out validation scenes (the export of `pipeline synth driving
--seed 202`; not the demo's scenes, which stay the test set): the object examples (tracked references: reinsertion)
are sampled the way the C# sampler samples (masked context, classifier-free guidance with the unconditional rows
given the zero reference AND the zero box, DDIM "leading" + 1, eta 0), composited into the target inside the masks as
DrivingMeasurer composes them, and scored with LPIPS[drive-net] (the demo's network; docs/metrics.md "drive-net") on
the camera, depth and intensity patches. Lower is better. Noise: torch, seed 11 (the same for every checkpoint).

  python3 training/driving_validate.py /tmp/drv-run/last.pt --val /tmp/drv2/ex-heldout --guidance 2,3 --steps 25
"""
import argparse
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "feature_models"))
from diffusion import LinearSchedule  # noqa: E402
from drive_net import DriveNet  # noqa: E402
from driving_model import DrivingDenoiser, masked_context  # noqa: E402
from driving_evaluate import sample  # noqa: E402  (the same DDIM + CFG sampler as the evaluation)
from driving_train import Examples  # noqa: E402


def lpips(net, a, b):
    """LPIPS with unit heads (docs/metrics.md; as tests/Pipeline.Metrics.Tests/data/features/make_drive_net_vectors.py),
    batched: a, b [N, 3, H, W] in [0, 1]."""
    with torch.no_grad():
        sa, sb = net.stages(2 * a - 1), net.stages(2 * b - 1)
    total = 0
    for x, y in zip(sa, sb):
        x, y = x.double(), y.double()
        x = x / (x.pow(2).sum(1, keepdim=True).sqrt() + 1e-10)
        y = y / (y.pow(2).sum(1, keepdim=True).sqrt() + 1e-10)
        total = total + (x - y).pow(2).sum(1).mean((1, 2))
    return total


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoint")
    ap.add_argument("--val", required=True, help="folder written by `pipeline scene export-training` (validation scenes)")
    ap.add_argument("--guidance", default="2", help="comma-separated guidance scales")
    ap.add_argument("--steps", type=int, default=25)
    ap.add_argument("--network", default=os.path.join(HERE, "feature_models", "drive-net", "weights.pt"))
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    ck = torch.load(args.checkpoint)
    model = DrivingDenoiser.from_config(ck["config"])
    model.load_state_dict(ck["state"])
    model.eval()
    ex = Examples(args.val)
    idx = ex.objects
    x0, mask, box, ref = ex.x0[idx], ex.mask[idx], ex.box[idx], ex.reference[idx]
    net = DriveNet()
    net.load_state_dict(torch.load(args.network)["net"])
    net.eval()
    schedule = LinearSchedule(model.config["num_train_timesteps"], model.config["beta_start"], model.config["beta_end"])
    ctx = masked_context(x0, mask)
    inside = torch.cat([mask[:, :1].expand(-1, 3, -1, -1), mask[:, 1:].expand(-1, 2, -1, -1)], 1) > 0
    display = lambda a: ((a + 1) / 2).clamp(0, 1)  # noqa: E731
    for g in (float(v) for v in args.guidance.split(",")):
        x = sample(model, schedule, ctx, mask, ref, box, g, args.steps, torch.Generator().manual_seed(11))
        comp = torch.where(inside, x, x0)
        cam = lpips(net, display(x0[:, :3]), display(comp[:, :3]))
        dep = lpips(net, display(x0[:, 3:4]).expand(-1, 3, -1, -1), display(comp[:, 3:4]).expand(-1, 3, -1, -1))
        inten = lpips(net, display(x0[:, 4:5]).expand(-1, 3, -1, -1), display(comp[:, 4:5]).expand(-1, 3, -1, -1))
        print(f"step {ck.get('step')} guidance {g:.2f} steps {args.steps}: LPIPS camera {cam.mean():.3f} "
              f"depth {dep.mean():.3f} intensity {inten.mean():.3f} (n={len(idx)})", flush=True)


if __name__ == "__main__":
    main()
