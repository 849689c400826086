"""Trains the MObI-style driving denoiser (driving_model.py) on examples exported by the C# preparation
(`pipeline scene export-training`), and writes the model package (driving_package.py).

MObI's recipe (thesis §2.4; docs/driving.md, "Training"):
  * reference = the same track at another timestamp, dt ~ Beta(4, 1) (drawn by the export, `--variants` per object);
  * 30% of each batch are empty-box examples (all-zero reference and box; the target is the scene itself);
  * reference augmentation: random horizontal flip, rotation (+-15 deg), Gaussian blur, brightness/contrast;
  * reference and box dropped together (zeros) for classifier-free guidance 20% of the time;
  * epsilon objective in the DDPM schedule (here: x0 prediction converted to epsilon in the graph, x0 loss with
    min-SNR-5 weighting, the edit region weighted `--mask-weight` times).
Runs on one CPU thread (torch.set_num_threads(1)); stops after --max-minutes; keeps an EMA of the weights.
Resumable: every 100 steps `state.pt` in --out holds the network, its EMA, the optimiser, the step, the best
held-out loss and the random generator; a second call with the same --out continues from it (the time limit counts
per call). `--init CKPT` starts instead from the EMA weights of an exported checkpoint (best.pt of an earlier run
without state.pt), continuing its step count (so without a second warm-up) with a fresh optimiser.

  python3 training/driving_train.py --train /tmp/ex/train --val /tmp/ex/heldout --out /tmp/drv-run --max-minutes 55
"""
from __future__ import annotations

import argparse
import copy
import json
import math
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from diffusion import LinearSchedule  # noqa: E402
from driving_model import DrivingDenoiser, count_parameters, masked_context  # noqa: E402
from train import learning_rate as train_schedule  # noqa: E402

EMPTY_SHARE = 0.3
CFG_DROP = 0.2


def read_tensor_bundle(path: str) -> dict[str, np.ndarray]:
    """The C# TensorBundle layout: "PTB1", int32 count, then per array int32 name length, UTF-8 name, int32 length,
    float32 LE values."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"PTB1":
        raise ValueError(f"{path}: not a tensor bundle")
    pos = 4
    (count,) = struct.unpack_from("<i", data, pos); pos += 4
    out = {}
    for _ in range(count):
        (nl,) = struct.unpack_from("<i", data, pos); pos += 4
        name = data[pos:pos + nl].decode("utf-8"); pos += nl
        (n,) = struct.unpack_from("<i", data, pos); pos += 4
        out[name] = np.frombuffer(data, dtype="<f4", count=n, offset=pos).copy(); pos += 4 * n
    return out


class Examples:
    def __init__(self, folder: str):
        with open(os.path.join(folder, "manifest.json")) as f:
            self.manifest = json.load(f)
        d, s = self.manifest["resolution"], self.manifest["referenceSize"]
        b = read_tensor_bundle(os.path.join(folder, "examples.tensors"))
        n = self.manifest["count"]
        self.x0 = torch.from_numpy(b["x0"].reshape(n, 5, d, d))
        self.mask = torch.from_numpy(b["mask"].reshape(n, 2, d, d))
        self.box = torch.from_numpy(b["box"].reshape(n, 2, 8, 3))
        self.reference = torch.from_numpy(b["reference"].reshape(n, 3, s, s))
        self.empty = torch.from_numpy(b["empty"]) > 0.5
        self.objects = torch.nonzero(~self.empty).flatten()
        self.empties = torch.nonzero(self.empty).flatten()
        self.resolution, self.ref_size, self.count = d, s, n


def gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    r = max(1, int(math.ceil(2 * sigma)))
    k = torch.exp(-torch.arange(-r, r + 1, dtype=torch.float32) ** 2 / (2 * sigma * sigma))
    k = (k / k.sum())
    c = x.shape[1]
    x = F.conv2d(F.pad(x, (r, r, 0, 0), mode="replicate"), k.view(1, 1, 1, -1).repeat(c, 1, 1, 1), groups=c)
    return F.conv2d(F.pad(x, (0, 0, r, r), mode="replicate"), k.view(1, 1, -1, 1).repeat(c, 1, 1, 1), groups=c)


def augment_reference(ref: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """Paint-by-Example's reference augmentation as MObI uses it: flip, rotation, blur, brightness/contrast (each
    example independently; zero references, the empty boxes, stay zero)."""
    out = ref.clone()
    for i in range(ref.shape[0]):
        r = out[i:i + 1]
        if float(r.abs().max()) == 0.0:
            continue
        if torch.rand(1, generator=g).item() < 0.5:
            r = torch.flip(r, dims=[3])
        if torch.rand(1, generator=g).item() < 0.5:
            a = (torch.rand(1, generator=g).item() * 2 - 1) * math.radians(15)
            theta = torch.tensor([[[math.cos(a), -math.sin(a), 0.0], [math.sin(a), math.cos(a), 0.0]]])
            grid = F.affine_grid(theta, list(r.shape), align_corners=False)
            r = F.grid_sample(r, grid, padding_mode="border", align_corners=False)
        if torch.rand(1, generator=g).item() < 0.3:
            r = gaussian_blur(r, 0.5 + torch.rand(1, generator=g).item())
        if torch.rand(1, generator=g).item() < 0.5:
            contrast = 1 + (torch.rand(1, generator=g).item() * 2 - 1) * 0.2
            brightness = (torch.rand(1, generator=g).item() * 2 - 1) * 0.2
            mean = r.mean()
            r = ((r - mean) * contrast + mean + brightness).clamp(-1, 1)
        out[i:i + 1] = r
    return out


def batch(ex: Examples, size: int, g: torch.Generator, train: bool = True):
    n_empty = int(round(size * EMPTY_SHARE)) if len(ex.empties) else 0
    idx_o = ex.objects[torch.randint(len(ex.objects), (size - n_empty,), generator=g)]
    idx_e = ex.empties[torch.randint(len(ex.empties), (n_empty,), generator=g)] if n_empty else idx_o[:0]
    idx = torch.cat([idx_o, idx_e])
    x0, mask, box, ref = ex.x0[idx], ex.mask[idx], ex.box[idx].clone(), ex.reference[idx]
    if train:
        ref = augment_reference(ref, g)
        drop = torch.rand(size, generator=g) < CFG_DROP
        ref = torch.where(drop[:, None, None, None], torch.zeros_like(ref), ref)
        box = torch.where(drop[:, None, None, None], torch.zeros_like(box), box)
    return x0, mask, box, ref


def loss_fn(model, schedule, x0, mask, box, ref, g, mask_weight, t=None, noise=None):
    n = x0.shape[0]
    if t is None:
        t = torch.randint(0, schedule.T, (n,), generator=g)
    if noise is None:
        noise = torch.randn(x0.shape, generator=g)
    x_t = schedule.q_sample(x0, t, noise)
    ctx = masked_context(x0, mask)
    pred = model.predict_x0(x_t, t, ctx, mask, ref, box)
    abar = schedule.alphas_cumprod[t].float()
    snr = abar / (1 - abar)
    w_t = torch.clamp(snr, max=5.0)[:, None, None, None]
    m = torch.cat([mask[:, :1].expand(-1, 3, -1, -1), mask[:, 1:].expand(-1, 2, -1, -1)], dim=1)
    w = 1 + (mask_weight - 1) * m
    return (w_t * w * (pred - x0) ** 2).mean()


@torch.no_grad()
def val_loss(model, schedule, ex: Examples, mask_weight: float, n: int = 64) -> float:
    g = torch.Generator().manual_seed(1234)
    total = 0.0
    for k in range(0, n, 16):
        x0, mask, box, ref = batch(ex, 16, g, train=False)
        total += float(loss_fn(model, schedule, x0, mask, box, ref, g, mask_weight))
    return total / math.ceil(n / 16)


def learning_rate(step: int, args) -> float:
    """MObI's linear warm-up over 200 steps, then constant; with --decay-from/--decay-to a cosine decay to --min-lr
    between those steps (train.learning_rate, the mammography trainer's schedule; a function of the step only, so a
    resumed run follows the same schedule)."""
    decay = args.decay_from is not None and args.decay_to is not None
    return train_schedule(step, args.lr, 200, args.decay_from if decay else 0,
                          max(1, args.decay_to - args.decay_from) if decay else 1, args.min_lr / args.lr)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--train", required=True, help="folder written by `pipeline scene export-training` (training scenes)")
    ap.add_argument("--val", required=True, help="the same for held-out scenes")
    ap.add_argument("--out", required=True)
    ap.add_argument("--max-minutes", type=float, default=55.0)
    ap.add_argument("--max-steps", type=int, default=100000, help="steps in this call")
    ap.add_argument("--batch-size", type=int, default=12)
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--mask-weight", type=float, default=4.0)
    ap.add_argument("--ema", type=float, default=0.999)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--init", default=None, help="EMA checkpoint (best.pt/last.pt) to start from when --out has no state.pt")
    ap.add_argument("--decay-from", type=int, default=None, help="step (> 0) at which a cosine LR decay starts (with --decay-to)")
    ap.add_argument("--decay-to", type=int, default=None, help="step at which the LR reaches --min-lr (cosine from --decay-from)")
    ap.add_argument("--min-lr", type=float, default=1e-5)
    args = ap.parse_args(argv)
    if (args.decay_from is None) != (args.decay_to is None) or (args.decay_from is not None and not 0 < args.decay_from < args.decay_to):
        ap.error("--decay-from and --decay-to go together, with 0 < --decay-from < --decay-to")
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    os.makedirs(args.out, exist_ok=True)
    train, val = Examples(args.train), Examples(args.val)
    model = DrivingDenoiser(resolution=train.resolution, ref_size=train.ref_size)
    ema = copy.deepcopy(model).eval()
    for p in ema.parameters():
        p.requires_grad_(False)
    schedule = LinearSchedule(model.config["num_train_timesteps"], model.config["beta_start"], model.config["beta_end"])
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.0)
    g = torch.Generator().manual_seed(args.seed)
    step, running, best = 0, 0.0, (float("inf"), 0)
    state_path = os.path.join(args.out, "state.pt")
    resumed = None
    if os.path.exists(state_path):
        st = torch.load(state_path)
        model.load_state_dict(st["model"]); ema.load_state_dict(st["ema"]); opt.load_state_dict(st["opt"])
        g.set_state(st["generator"]); step, best = st["step"], tuple(st["best"])
        resumed = f"resumed {state_path} at step {step}"
    elif args.init:
        st = torch.load(args.init)
        model.load_state_dict(st["state"]); ema.load_state_dict(st["state"])
        step = int(st.get("step", 0))
        resumed = f"initialised from {args.init} (step {step}, fresh optimiser)"
    log = open(os.path.join(args.out, "train_log.jsonl"), "a" if resumed else "w")
    print(f"train: {train.count} examples ({len(train.objects)} objects, {len(train.empties)} empty); "
          f"val: {val.count}; parameters {count_parameters(model)}" + (f"; {resumed}" if resumed else ""), flush=True)
    start = time.time()
    first_step = step
    while step - first_step < args.max_steps and (time.time() - start) / 60 < args.max_minutes:
        lr = learning_rate(step, args)
        for group in opt.param_groups:
            group["lr"] = lr
        x0, mask, box, ref = batch(train, args.batch_size, g)
        loss = loss_fn(model, schedule, x0, mask, box, ref, g, args.mask_weight)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        with torch.no_grad():
            for pe, pm in zip(ema.parameters(), model.parameters()):
                pe.mul_(args.ema).add_(pm, alpha=1 - args.ema)
        step += 1
        running += float(loss)
        if step % 100 == 0:
            v = val_loss(ema, schedule, val, args.mask_weight)
            rec = {"step": step, "loss": running / 100, "valLoss": v, "lr": lr, "minutes": round((time.time() - start) / 60, 2)}
            running = 0.0
            log.write(json.dumps(rec) + "\n"); log.flush()
            print(json.dumps(rec), flush=True)
            if v < best[0]:
                best = (v, step)
                torch.save({"config": model.config, "state": ema.state_dict(), "step": step, "valLoss": v},
                           os.path.join(args.out, "best.pt"))
            torch.save({"config": model.config, "state": ema.state_dict(), "step": step},
                       os.path.join(args.out, "last.pt"))
            torch.save({"model": model.state_dict(), "ema": ema.state_dict(), "opt": opt.state_dict(), "step": step,
                        "best": list(best), "generator": g.get_state()}, state_path + ".tmp")
            os.replace(state_path + ".tmp", state_path)
    summary = {"steps": step, "stepsThisCall": step - first_step, "start": resumed or "scratch", "minutes": round((time.time() - start) / 60, 2), "bestValLoss": best[0], "bestStep": best[1],
               "parameters": count_parameters(model), "batchSize": args.batch_size, "lr": args.lr, "ema": args.ema,
               "maskWeight": args.mask_weight, "decayFrom": args.decay_from, "decayTo": args.decay_to, "minLr": args.min_lr, "seed": args.seed, "emptyShare": EMPTY_SHARE, "cfgDrop": CFG_DROP,
               "trainExamples": train.count, "trainObjects": int(len(train.objects)), "trainEmpty": int(len(train.empties)),
               "valExamples": val.count, "torch": torch.__version__,
               "command": "driving_train.py " + " ".join(argv if argv is not None else sys.argv[1:])}
    with open(os.path.join(args.out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
