"""Validation loss and the reinsertion-quality proxy used to pick the exported checkpoint.

Reinsertion proxy (documented in training/README.md): for held-out lesions, erase the lesion (masked context), use the
lesion's own crop as the reference, sample with the package's default sampler (DDIM, eta 0, CFG scale) from fixed
noise, and compare the generated box region with the real one in model space:
  * box RMSE - pixel fidelity of the reinsertion (lower is better);
  * detail ratio - gradient energy inside the box, generated / real (1 is ideal; a blurry "average" fill is << 1);
  * score = box RMSE * (1 + |ln(detail ratio)|), lower is better; it penalises both wrong content and blur.
The thesis's rule is a Fréchet distance over reinsertions computed with a feature network; the C# metrics compute that
on packaged models (`pipeline metrics`), this proxy is what the training job can compute by itself.
"""
from __future__ import annotations

import math

import torch

from diffusion import LinearSchedule, ddim_sample


def batch_inputs(cache: dict, idx, *, flip: torch.Tensor | None = None):
    """cache tensors (float16 storage) -> float32 model inputs for the given indices."""
    target = cache["target"][idx].float()
    mask = cache["mask"][idx].float()
    hf = cache["hf"][idx].float()
    ref = cache["reference"][idx].float()
    if flip is not None and bool(flip.any()):
        f = flip[:, None, None, None]
        target = torch.where(f, target.flip(-1), target)
        mask = torch.where(f, mask.flip(-1), mask)
        hf = torch.where(f, hf.flip(-1), hf)
        ref = torch.where(f, ref.flip(-1), ref)
    context = target * (1 - mask)
    return target, context, mask, ref, hf


def snr_weight(schedule: LinearSchedule, t: torch.Tensor, gamma: float = 5.0, floor: float = 0.25) -> torch.Tensor:
    """Per-sample loss weight on the x0 error: min(SNR_t, gamma) (min-SNR-gamma, Hang et al. 2023; gamma = 5 is
    their default; with x0 error this equals min(SNR, gamma)/SNR times the epsilon error), floored so the high-noise
    steps, where the collage prior already does the work, still get some gradient."""
    a = schedule.alphas_cumprod[t]
    return (a / (1 - a)).clamp(min=floor, max=gamma).float()


def weighted_loss(x0_pred, x0, mask, weight_t, mask_weight: float):
    """x0 MSE weighted per sample by weight_t and per pixel by 1 + mask_weight inside the box (the pasted-back
    region is what the pipeline keeps)."""
    w = (1.0 + mask_weight * mask) * weight_t[:, None, None, None]
    return ((x0_pred - x0) ** 2 * w).sum() / ((1.0 + mask_weight * mask).sum() * x0_pred.shape[1])


@torch.no_grad()
def validation_loss(model, schedule: LinearSchedule, cache: dict, *, mask_weight: float, seed: int = 1234,
                    batch: int = 32, repeats: int = 4, device: str = "cpu") -> float:
    """Deterministic validation loss: every item at `repeats` fixed timesteps spread over [0, T) with fixed noise."""
    model.eval()
    g = torch.Generator().manual_seed(seed)
    n = cache["target"].shape[0]
    total, count = 0.0, 0
    for r in range(repeats):
        for s in range(0, n, batch):
            idx = torch.arange(s, min(s + batch, n))
            target, context, mask, ref, hf = batch_inputs(cache, idx)
            # stratified timesteps: item i, repeat r -> ((i + r n / repeats) mod n) spread over [0, T)
            t = (((idx + r * n // repeats) % n).double() + 0.5) / n * schedule.T
            t = t.long().clamp(0, schedule.T - 1)
            noise = torch.randn(target.shape, generator=g)
            x_t = schedule.q_sample(target, t, noise)
            d = [v.to(device) for v in (x_t, t, context, mask, ref, hf, target)]
            pred = model.predict_x0(*d[:6])
            total += weighted_loss(pred, d[6], d[3], snr_weight(schedule, t).to(device), mask_weight).item() * len(idx)
            count += len(idx)
    return total / max(count, 1)


def _grad_energy(x, mask):
    gx = x[..., :, 1:] - x[..., :, :-1]
    gy = x[..., 1:, :] - x[..., :-1, :]
    mx = mask[..., :, 1:] * mask[..., :, :-1]
    my = mask[..., 1:, :] * mask[..., :-1, :]
    return ((gx ** 2 * mx).sum() + (gy ** 2 * my).sum()) / (mx.sum() + my.sum()).clamp(min=1)


@torch.no_grad()
def reinsertion_proxy(model, schedule: LinearSchedule, cache: dict, *, items: int, steps: int, guidance: float,
                      seed: int = 4321, batch: int = 16, device: str = "cpu") -> dict:
    model.eval()
    n = min(items, cache["target"].shape[0])
    g = torch.Generator().manual_seed(seed)
    se, cnt, ge_gen, ge_real = 0.0, 0.0, 0.0, 0.0
    for s in range(0, n, batch):
        idx = torch.arange(s, min(s + batch, n))
        target, context, mask, ref, hf = batch_inputs(cache, idx)
        noise = torch.randn(target.shape, generator=g)
        gen = ddim_sample(model, schedule, *(v.to(device) for v in (context, mask, ref, hf)), steps=steps,
                          guidance=guidance, noise=noise.to(device)).cpu()
        se += (((gen - target) ** 2) * mask).sum().item()
        cnt += mask.sum().item()
        ge_gen += _grad_energy(gen, mask).item() * len(idx)
        ge_real += _grad_energy(target, mask).item() * len(idx)
    rmse = math.sqrt(se / max(cnt, 1.0))
    ratio = ge_gen / max(ge_real, 1e-12)
    score = rmse * (1.0 + abs(math.log(max(ratio, 1e-6))))
    return {"items": n, "steps": steps, "guidance": guidance, "boxRmse": rmse, "detailRatio": ratio, "score": score}


def main(argv=None):
    """Re-scores a finished run on its held-out lesions: the selected checkpoint and the untrained collage baseline
    (the same network before training: out layer zero, so x0 = context + mask * placed reference).

      /usr/bin/python3 training/evaluate.py --run <train --out folder> --data <its export> [--items N] [--steps S]
    """
    import argparse
    import json
    from pathlib import Path

    from data import LESION_TRANSFER, REINSERTION, load, model_inputs
    from model import Denoiser

    ap = argparse.ArgumentParser(description=main.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", required=True)
    ap.add_argument("--data", required=True, help="the run's `pipeline train-data export` folder")
    ap.add_argument("--items", type=int, default=64)
    ap.add_argument("--steps", type=int, default=25)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    run = Path(a.run)
    sel = json.loads((run / "selection.json").read_text())
    # the held-out examples the run validated on: reinsertion and lesion-transfer (insertion has no truth)
    val = model_inputs(load(a.data).splits["val"], (REINSERTION, LESION_TRANSFER))
    snap = torch.load(run / "checkpoints" / sel["selected"]["file"], map_location="cpu")
    trained = Denoiser.from_config(snap["config"])
    trained.load_state_dict(snap["ema"])
    torch.manual_seed(0)
    baseline = Denoiser.from_config(snap["config"])   # untrained: the residual is exactly 0
    schedule = LinearSchedule(snap["config"]["num_train_timesteps"], snap["config"]["beta_start"],
                              snap["config"]["beta_end"])
    g = float(sel["guidanceScale"])
    # the same lesions with a brighter, higher-contrast reference (display v -> clamp(1.1 v + 0.06)): what a reference
    # from another exposure looks like; the target stays the real crop
    shifted = dict(val)
    shifted["reference"] = ((((val["reference"].float() + 1) / 2 * 1.1 + 0.06).clamp(0, 1)) * 2 - 1).half()
    kw = dict(items=a.items, steps=a.steps)
    out = {"items": min(a.items, int(val["target"].shape[0])), "steps": a.steps, "guidance": g,
           "selectedStep": sel["selected"]["step"],
           "trained": reinsertion_proxy(trained, schedule, val, guidance=g, **kw),
           "collageBaseline": reinsertion_proxy(baseline, schedule, val, guidance=1.0, **kw),
           "trainedShiftedReference": reinsertion_proxy(trained, schedule, shifted, guidance=g, **kw),
           "collageBaselineShiftedReference": reinsertion_proxy(baseline, schedule, shifted, guidance=1.0, **kw)}
    print(json.dumps(out, indent=2))
    return out


if __name__ == "__main__":
    import sys
    sys.path.insert(0, __import__("os").path.dirname(__import__("os").path.abspath(__file__)))
    main()
