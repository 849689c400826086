#!/usr/bin/env python3
"""Training job: reference-guided inpainting denoiser (AnydoorMed-style, pixel space) -> ONNX model package.

  ./pipeline train-data export --dataset <dataset folder> --out <data folder>     # the C# preparation
  /usr/bin/python3 training/train.py --data <data folder> --out <folder> --max-minutes M --seed S

The job trains only on the exported tensors (training/data.py): the preparation (crops, masks, reference crops,
detail maps) is the inference code's, and its parameters are written into model.json.

Every option can also come from the environment as TRAIN_<OPTION> (e.g. TRAIN_MAX_MINUTES=45); the command line
wins. Re-running with the same --out resumes from <out>/checkpoints/last.pt (model, EMA, optimiser, RNG states,
step, elapsed time, validation history); --max-minutes is the total training-time budget across all runs.
Outputs: <out>/train_log.jsonl (loss, validation, events), <out>/checkpoints/, <out>/selection.json and the model
package in <out>/package/ (denoiser.onnx, model.json, SHA256SUMS). See training/README.md.
"""
from __future__ import annotations

import argparse
import copy
import json
import math
import os
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import torch  # noqa: E402

from data import LESION_TRANSFER, REINSERTION, DatasetError, concat, load, model_inputs  # noqa: E402
from diffusion import LinearSchedule  # noqa: E402
from evaluate import batch_inputs, reinsertion_proxy, snr_weight, validation_loss, weighted_loss  # noqa: E402
from model import Denoiser, count_parameters  # noqa: E402
from package import load_onnx_weights, sha256_file, write_package  # noqa: E402

CHECKPOINT_FORMAT = 1


def _env(name, default):
    return os.environ.get("TRAIN_" + name.upper().replace("-", "_"), default)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    a = p.add_argument
    a("--data", default=_env("data", None), help="training data folder written by `pipeline train-data export`")
    a("--out", default=_env("out", None), help="output folder (checkpoints, logs, package); reused to resume")
    a("--max-minutes", type=float, default=float(_env("max-minutes", 30)), help="total training time budget")
    a("--seed", type=int, default=int(_env("seed", 0)))
    a("--max-steps", type=int, default=int(_env("max-steps", 0)), help="stop after this many steps (0: no limit)")
    a("--batch-size", type=int, default=int(_env("batch-size", 16)))
    a("--lr", type=float, default=float(_env("lr", 5e-4)))
    a("--warmup", type=int, default=int(_env("warmup", 100)), help="linear LR warm-up steps")
    a("--decay-start", type=int, default=int(_env("decay-start", 0)),
      help="step at which a cosine LR decay starts (0: constant LR after the warm-up); may be set when resuming")
    a("--decay-steps", type=int, default=int(_env("decay-steps", 1000)), help="length of the cosine decay in steps")
    a("--lr-final", type=float, default=float(_env("lr-final", 0.05)),
      help="LR at the end of the decay, as a fraction of --lr (kept after it)")
    a("--ema", type=float, default=float(_env("ema", 0.999)), help="EMA decay (with 1+n/10+n warm-up)")
    a("--channels", default=_env("channels", "16,32,48,64"), help="UNet channels per level")
    a("--ref-dropout", type=float, default=float(_env("ref-dropout", 0.2)), help="CFG: P(reference -> zeros)")
    a("--ref-jitter", default=_env("ref-jitter", "0.15,0.08"),
      help="reference brightness/contrast augmentation: contrast +-c, brightness +-b (display space)")
    a("--transfer-fraction", type=float, default=float(_env("transfer-fraction", 0.5)),
      help="when the data holds lesion-transfer pairs (`train-data export --transfer-pairs`): probability that a "
           "batch element is one")
    a("--placement", default=_env("placement", "collage"), choices=["collage", "harmonised"],
      help="in-graph reference placement: the reference's pixels (collage) or its excess over its own tissue on the "
           "target's tissue estimate (harmonised; model.harmonize_reference)")
    a("--ring-gate", action="store_true", default=_env("ring-gate", "") not in ("", "0", "false"),
      help="with --placement harmonised: a reference whose expansion ring reproduces the target's surroundings (a "
           "reinsertion) is placed with its own pixels (model.ring_agreement)")
    a("--init-package", default=_env("init-package", None),
      help="start a new run from the weights of a model package of the same architecture (its denoiser.onnx; "
           "package.load_onnx_weights): continues a released model, whose checkpoints are not kept")
    a("--mask-weight", type=float, default=float(_env("mask-weight", 4.0)), help="extra loss weight in the box")
    a("--val-every", type=int, default=int(_env("val-every", 200)))
    a("--ckpt-every", type=int, default=int(_env("ckpt-every", 50)))
    a("--keep-top", type=int, default=int(_env("keep-top", 3)), help="EMA snapshots kept by validation loss")
    a("--proxy-items", type=int, default=int(_env("proxy-items", 16)))
    a("--proxy-steps", type=int, default=int(_env("proxy-steps", 10)), help="DDIM steps of the reinsertion proxy")
    a("--guidance", default=_env("guidance", "1,1.5,2,3"),
      help="CFG scales tried on the selected checkpoint; the best proxy score goes into model.json")
    a("--sampler-steps", type=int, default=int(_env("sampler-steps", 25)), help="model.json sampler.steps")
    a("--name", default=_env("name", "mammo-tiny"))
    a("--version", default=_env("version", "1.0.0"))
    a("--device", default=_env("device", "auto"), help="auto (cuda when available), cpu or cuda[:n]")
    a("--threads", type=int, default=int(_env("threads", 1)),
      help="torch CPU threads; 1 by default: on an oversubscribed CPU two OpenMP threads spin at barriers "
           "(measured: 18x the CPU time per step at load 40 on 2 cores)")
    a("--log-every", type=int, default=int(_env("log-every", 10)))
    args = p.parse_args(argv)
    if not args.data or not args.out:
        p.error("--data and --out are required (or TRAIN_DATA / TRAIN_OUT)")
    try:
        args.channels = [int(c) for c in str(args.channels).split(",")]
        args.ref_jitter = [float(v) for v in str(args.ref_jitter).split(",")]
        args.guidance = [float(v) for v in str(args.guidance).split(",")]
    except ValueError:
        p.error(f"--channels '{args.channels}' / --ref-jitter / --guidance: expected comma-separated numbers")
    if len(args.ref_jitter) != 2 or min(args.ref_jitter) < 0:
        p.error("--ref-jitter: expected two non-negative numbers c,b")
    if not args.guidance or min(args.guidance) < 0:
        p.error("--guidance: expected non-negative CFG scales")
    for name in ("batch_size", "val_every", "ckpt_every", "keep_top", "proxy_steps", "sampler_steps",
                 "threads"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be >= 1")
    if not 0 <= args.transfer_fraction <= 1:
        p.error("--transfer-fraction must be in [0, 1]")
    if args.ring_gate and args.placement != "harmonised":
        p.error("--ring-gate needs --placement harmonised")
    if not 0 <= args.ref_dropout < 1:
        p.error("--ref-dropout must be in [0, 1)")
    if args.decay_start < 0 or args.decay_steps < 1 or not 0 <= args.lr_final <= 1:
        p.error("--decay-start must be >= 0, --decay-steps >= 1 and --lr-final in [0, 1]")
    if args.max_minutes <= 0 and args.max_steps <= 0:
        p.error("give a positive --max-minutes or --max-steps")
    return args


def learning_rate(step: int, lr: float, warmup: int, decay_start: int = 0, decay_steps: int = 1000,
                  lr_final: float = 0.05) -> float:
    """The LR of a step: linear warm-up over `warmup` steps, constant, then (decay_start > 0) a cosine from lr down to
    lr * lr_final over decay_steps steps (Loshchilov and Hutter 2017, SGDR eq. 5 without restarts), constant after."""
    rate = lr * min(1.0, (step + 1) / max(warmup, 1))
    if decay_start > 0 and step >= decay_start:
        progress = min(1.0, (step - decay_start) / decay_steps)
        rate *= lr_final + (1 - lr_final) * 0.5 * (1 + math.cos(math.pi * progress))
    return rate


class Log:
    def __init__(self, path: Path):
        self.f = open(path, "a", encoding="utf-8")

    def __call__(self, kind: str, **fields):
        rec = {"kind": kind, "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **fields}
        self.f.write(json.dumps(rec) + "\n")
        self.f.flush()
        shown = " ".join(f"{k}={v:.5g}" if isinstance(v, float) else f"{k}={v}" for k, v in fields.items())
        print(f"[{kind}] {shown}", flush=True)


def _atomic_save(obj, path: Path):
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


class Interrupted(Exception):
    pass


def main(argv=None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    device = ("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto" else args.device
    out = Path(args.out)
    ckdir = out / "checkpoints"
    ckdir.mkdir(parents=True, exist_ok=True)
    log = Log(out / "train_log.jsonl")
    last_path = ckdir / "last.pt"
    # all random draws happen on the CPU generator (then move to the device), so a run is reproducible and resumable
    # wherever it runs; checkpoints are always loaded onto the CPU first
    resume = torch.load(last_path, map_location="cpu") if last_path.exists() else None
    if resume is not None:
        if resume.get("format") != CHECKPOINT_FORMAT:
            raise SystemExit(f"{last_path}: checkpoint format {resume.get('format')} != {CHECKPOINT_FORMAT}")
        # the run's identity (model shape, data handling, seed) comes from the checkpoint; budgets from this call
        saved = resume["args"]
        for k in ("seed", "batch_size", "lr", "warmup", "ema", "channels", "ref_dropout", "ref_jitter", "mask_weight",
                  "name", "version"):
            setattr(args, k, saved[k])
        for k, default in (("transfer_fraction", 0.5), ("placement", "collage"), ("ring_gate", False),
                           ("init_package", None)):
            setattr(args, k, saved.get(k, default))
        log("resume", step=resume["step"], elapsed_min=resume["elapsed"] / 60.0)
    log("start", data=str(args.data), out=str(out), seed=args.seed, max_minutes=args.max_minutes,
        max_steps=args.max_steps, threads=torch.get_num_threads(), device=device)

    data = load(args.data)
    fingerprint = data.fingerprint
    if resume is not None and resume["data_fingerprint"] != fingerprint:
        raise SystemExit(f"{out}: checkpoint was trained on different data (fingerprint {resume['data_fingerprint']}"
                         f" vs {fingerprint}); use a new --out")
    prep = data.preparation
    # pairs with a truth for the box: reinsertion (the lesion itself) and lesion-transfer (the same lesion over the
    # target's own tissue, the reference from another image); insertion examples have no truth and are not trained on
    train_split, val_split = data.splits["train"], data.splits["val"]
    train_c = model_inputs(train_split, {REINSERTION})
    n_train = int(train_c["target"].shape[0])
    n_transfer = train_split.pair_kinds.get(LESION_TRANSFER, 0)
    if n_transfer:
        # transfer items follow the reinsertion items; validation and selection score both kinds
        train_c = concat(train_c, model_inputs(train_split, {LESION_TRANSFER}))
    val_c = model_inputs(val_split, (REINSERTION, LESION_TRANSFER))
    log("data", folder=str(args.data), fingerprint=fingerprint, train_items=n_train, transfer_items=n_transfer,
        val_items=int(val_c["target"].shape[0]), resolution=prep.resolution, ref_size=prep.reference_size,
        crop_ratio=str(list(prep.crop_ratio)), ref_expand=prep.reference_expand)

    torch.manual_seed(args.seed)
    schedule = LinearSchedule(1000, 1e-4, 0.02)
    model = Denoiser(prep.resolution, prep.reference_size, channels=args.channels, ref_expand=prep.reference_expand,
                     placement=args.placement, ring_gate=args.ring_gate, num_train_timesteps=schedule.T, beta_start=schedule.beta_start, beta_end=schedule.beta_end)
    if args.init_package and resume is None:
        onnx_file = Path(args.init_package) / "denoiser.onnx"
        try:
            load_onnx_weights(model, onnx_file)
        except (OSError, ValueError) as e:
            raise SystemExit(f"--init-package {args.init_package}: {e}")
        log("init", package=str(args.init_package), sha256=sha256_file(onnx_file))
    model = model.to(device)
    ema = copy.deepcopy(model).eval()
    for p in ema.parameters():
        p.requires_grad_(False)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.0)
    gen = torch.Generator().manual_seed(args.seed)
    step, elapsed, history, top = 0, 0.0, [], []
    if resume is not None:
        model.load_state_dict(resume["model"])
        ema.load_state_dict(resume["ema"])
        opt.load_state_dict(resume["opt"])
        gen.set_state(resume["gen"])
        step, elapsed, history, top = resume["step"], resume["elapsed"], resume["history"], resume["top"]
    log("model", parameters=count_parameters(model), train_items=n_train, transfer_items=n_transfer,
        val_items=int(val_c["target"].shape[0]), channels=str(args.channels), placement=args.placement)

    def save_last():
        _atomic_save({"format": CHECKPOINT_FORMAT, "args": vars(args), "model": model.state_dict(),
                      "ema": ema.state_dict(), "opt": opt.state_dict(), "gen": gen.get_state(), "step": step,
                      "elapsed": elapsed, "history": history, "top": top, "data_fingerprint": fingerprint}, last_path)

    def validate():
        vl = validation_loss(ema, schedule, val_c, mask_weight=args.mask_weight, device=device)
        history.append({"step": step, "valLoss": vl, "elapsedMin": elapsed / 60.0})
        log("val", step=step, val_loss=vl, elapsed_min=elapsed / 60.0)
        # keep the best `keep_top` EMA snapshots by validation loss (thesis: top-k by val loss, then FID)
        snap = ckdir / f"ema-step{step:07d}.pt"
        if len(top) < args.keep_top or vl < max(e["valLoss"] for e in top):
            _atomic_save({"ema": ema.state_dict(), "step": step, "valLoss": vl, "config": model.config}, snap)
            top.append({"step": step, "valLoss": vl, "file": snap.name})
            top.sort(key=lambda e: e["valLoss"])
            while len(top) > args.keep_top:
                dropped = top.pop()
                (ckdir / dropped["file"]).unlink(missing_ok=True)

    stop = {"signal": None}

    def on_signal(signum, _frame):
        stop["signal"] = signum

    old = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    budget_s = args.max_minutes * 60.0 if args.max_minutes > 0 else math.inf
    last_val_step = history[-1]["step"] if history else -1
    seg_start = time.time()
    seg_elapsed0 = elapsed
    running = 0.0
    try:
        while elapsed < budget_s and (args.max_steps <= 0 or step < args.max_steps):
            if stop["signal"] is not None:
                raise Interrupted()
            model.train()
            if n_transfer:
                pick = torch.rand(args.batch_size, generator=gen) < args.transfer_fraction
                idx = torch.where(pick, n_train + torch.randint(0, n_transfer, (args.batch_size,), generator=gen),
                                  torch.randint(0, n_train, (args.batch_size,), generator=gen))
            else:
                idx = torch.randint(0, n_train, (args.batch_size,), generator=gen)
            flip = torch.rand(args.batch_size, generator=gen) < 0.5
            target, context, mask, ref, hf = batch_inputs(train_c, idx, flip=flip)
            # AnydoorMed's reference brightness-contrast augmentation (display space): the lesion's look comes from
            # the reference, its absolute grey level has to agree with the context
            jc, jb = args.ref_jitter
            c = 1 + (torch.rand(args.batch_size, 1, 1, 1, generator=gen) * 2 - 1) * jc
            b = (torch.rand(args.batch_size, 1, 1, 1, generator=gen) * 2 - 1) * jb
            ref = (((ref + 1) / 2 * c + b).clamp(0, 1)) * 2 - 1
            drop = torch.rand(args.batch_size, generator=gen) < args.ref_dropout
            ref = torch.where(drop[:, None, None, None], torch.zeros_like(ref), ref)
            t = torch.randint(0, schedule.T, (args.batch_size,), generator=gen)
            noise = torch.randn(target.shape, generator=gen)
            x_t = schedule.q_sample(target, t, noise)
            lr = learning_rate(step, args.lr, args.warmup, args.decay_start, args.decay_steps, args.lr_final)
            for g_ in opt.param_groups:
                g_["lr"] = lr
            w_t = snr_weight(schedule, t)
            x_t, t, context, mask, ref, hf, target, w_t = (v.to(device) for v in
                                                           (x_t, t, context, mask, ref, hf, target, w_t))
            x0_pred = model.predict_x0(x_t, t, context, mask, ref, hf)
            loss = weighted_loss(x0_pred, target, mask, w_t, args.mask_weight)
            if not torch.isfinite(loss):
                raise RuntimeError(f"non-finite loss at step {step}; lower --lr")
            opt.zero_grad(set_to_none=True)
            loss.backward()
            gnorm = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            step += 1
            # the EMA's warm-up averages a new run's early weights; a run started from a released package (itself an
            # EMA of a converged run) keeps the full decay, or its first noisy steps would replace those weights
            decay = args.ema if args.init_package else min(args.ema, (1 + step) / (10 + step))
            with torch.no_grad():
                for pe, pm in zip(ema.parameters(), model.parameters()):
                    pe.mul_(decay).add_(pm.detach(), alpha=1 - decay)
                for be, bm in zip(ema.buffers(), model.buffers()):
                    be.copy_(bm)
            elapsed = seg_elapsed0 + (time.time() - seg_start)
            running = loss.item() if step == 1 else 0.95 * running + 0.05 * loss.item()
            if step % args.log_every == 0:
                log("train", step=step, loss=loss.item(), loss_avg=running, lr=lr, grad_norm=float(gnorm),
                    elapsed_min=elapsed / 60.0, steps_per_s=step / max(elapsed, 1e-9))
            if step % args.val_every == 0:
                validate()
                last_val_step = step
            if step % args.ckpt_every == 0:
                save_last()
    except Interrupted:
        save_last()
        log("interrupted", step=step, signal=int(stop["signal"]))
        return 130
    finally:
        for s, h in old.items():
            signal.signal(s, h)
    if last_val_step != step:
        validate()
    save_last()
    log("trained", step=step, elapsed_min=elapsed / 60.0)

    # ---- selection: top-k by validation loss, then the reinsertion proxy on held-out lesions ----
    scored = []
    for entry in top:
        snap = torch.load(ckdir / entry["file"], map_location="cpu")
        cand = Denoiser.from_config(snap["config"])
        cand.load_state_dict(snap["ema"])
        proxy = reinsertion_proxy(cand.to(device), schedule, val_c, items=args.proxy_items, steps=args.proxy_steps,
                                  guidance=args.guidance[0], device=device)
        scored.append({**entry, "proxy": proxy})
        log("proxy", step=entry["step"], val_loss=entry["valLoss"], box_rmse=proxy["boxRmse"],
            detail_ratio=proxy["detailRatio"], score=proxy["score"])
    best = min(scored, key=lambda e: e["proxy"]["score"])
    snap = torch.load(ckdir / best["file"], map_location="cpu")
    final = Denoiser.from_config(snap["config"])
    final.load_state_dict(snap["ema"])
    final = final.to(device)
    # guidance scale for model.json: the best proxy score among the --guidance values on the selected checkpoint
    by_scale = [best["proxy"]]
    for s in args.guidance[1:]:
        pr = reinsertion_proxy(final, schedule, val_c, items=args.proxy_items, steps=args.proxy_steps, guidance=s,
                               device=device)
        by_scale.append(pr)
        log("guidance", scale=s, box_rmse=pr["boxRmse"], detail_ratio=pr["detailRatio"], score=pr["score"])
    chosen = min(by_scale, key=lambda pr: pr["score"])
    selection = {"selected": best, "candidates": scored, "guidance": by_scale, "guidanceScale": chosen["guidance"],
                 "rule": "top-k EMA snapshots by validation loss, then lowest reinsertion proxy score (at the first "
                         "--guidance scale); then the CFG scale with the lowest proxy score"}
    (out / "selection.json").write_text(json.dumps(selection, indent=2) + "\n", encoding="utf-8")

    training = {
        "data": {"folder": str(args.data), "fingerprint": fingerprint, "trainItems": n_train,
                 "transferItems": n_transfer, "transferFraction": args.transfer_fraction if n_transfer else None,
                 "valItems": int(val_c["target"].shape[0]), "source": data.manifest.get("source"),
                 "pairKinds": {k: s.pair_kinds for k, s in data.splits.items()}},
        "seed": args.seed, "steps": step, "trainMinutes": round(elapsed / 60.0, 2), "batchSize": args.batch_size,
        "lr": args.lr, "lrDecay": ({"start": args.decay_start, "steps": args.decay_steps, "final": args.lr_final}
                                   if args.decay_start > 0 else None), "ema": args.ema, "channels": args.channels, "parameters": count_parameters(final),
        "maskWeight": args.mask_weight, "placement": args.placement, "ringGate": args.ring_gate, "initPackage": args.init_package, "selectedStep": best["step"], "valLoss": best["valLoss"],
        "reinsertionProxy": chosen, "torch": torch.__version__,
        "command": f"train.py --data {args.data} --out {args.out} --max-minutes {args.max_minutes} --seed {args.seed}"
                   + (f" --transfer-fraction {args.transfer_fraction}" if n_transfer else "")
                   + f" --placement {args.placement}"
                   + (" --ring-gate" if args.ring_gate else "")
                   + (f" --init-package {args.init_package}" if args.init_package else "")
                   + (f" --decay-start {args.decay_start} --decay-steps {args.decay_steps} --lr-final {args.lr_final}"
                      if args.decay_start > 0 else ""),
    }
    doc = write_package(final.cpu(), out / "package", name=args.name, version=args.version,
                        description="Tiny AnydoorMed-style reference-guided inpainting denoiser for 64 px mammography "
                                    "crops (pixel space, epsilon prediction; reference collage inside the graph); "
                                    "trained by training/train.py.",
                        resolution=prep.resolution, ref_size=prep.reference_size, preparation=prep.model_json(),
                        schedule=schedule,
                        guidance_scale=chosen["guidance"], reference_dropout=args.ref_dropout,
                        sampler_steps=args.sampler_steps, training=training)
    log("exported", package=str(out / "package"), sha256=doc["components"]["denoiser"]["sha256"],
        selected_step=best["step"])
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except DatasetError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
