#!/usr/bin/python3
"""Trains phantom-net (phantom_net.py) on synthetic mammograms and exports it as three feature models
(docs/metrics.md, "phantom-net"):

  training/feature_models/phantom-net/        kind features   (FD[phantom-net], KID[phantom-net])
  training/feature_models/phantom-net-lpips/  kind lpips      (LPIPS[phantom-net]: relu1..relu4, unit heads)
  training/feature_models/phantom-net-embed/  kind embedding  (CLIP-I[phantom-net]: cosine of the 32-d embedding)

  ./pipeline synth mammo --count 400 --out /tmp/pn-train --seed 101
  ./pipeline synth mammo --count 160 --out /tmp/pn-held --seed 202
  ./pipeline train-data export --dataset /tmp/pn-train --out /tmp/pn-train-tensors --variants 2 --insertions 1 --seed 1
  ./pipeline train-data export --dataset /tmp/pn-held --out /tmp/pn-held-tensors --variants 2 --insertions 1 --seed 2
  nice -n 10 /usr/bin/python3 training/feature_models/train_phantom_net.py --data /tmp/pn-train-tensors \
      --held-out /tmp/pn-held-tensors --out /tmp/pn-run --max-minutes 12

Resumable: rerunning the same command continues from <out>/checkpoint.pt (written every --ckpt-every steps and on
SIGTERM/SIGINT). The held-out check (<out>/check.json) reports per-class accuracy and, with these features, the FD
between held-out real lesion patches and (a) other real lesion patches (images split in two), (b) tissue patches,
(c) copy&paste composites.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import signal
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from phantom_net import CLASSES, FEATURE_DIM, LAYERS, RESOLUTION, ExportFeatures, PhantomNet, embed, frechet_distance, make_patches  # noqa: E402


def parse(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", action="append", required=True, help="training data: a `pipeline train-data export --insertions N` folder; repeatable")
    p.add_argument("--held-out", help="held-out export for check.json (images never trained on)")
    p.add_argument("--out", required=True, help="run folder: patch caches, checkpoint, log, check.json")
    p.add_argument("--export-dir", default=HERE, help="where the three feature-model folders are written")
    p.add_argument("--max-minutes", type=float, default=12.0, help="training-time budget across resumes")
    p.add_argument("--max-steps", type=int, default=3000)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--ckpt-every", type=int, default=50)
    p.add_argument("--log-every", type=int, default=25)
    p.add_argument("--no-export", action="store_true")
    return p.parse_args(argv)


def log(out, record):
    record = {"time": round(time.time(), 1), **record}
    print(json.dumps(record), flush=True)
    with open(os.path.join(out, "train_log.jsonl"), "a") as f:
        f.write(json.dumps(record) + "\n")


def patches(path, folders, out):
    if os.path.isfile(path):
        z = np.load(path)
        if list(z["folders"]) == list(folders):
            return z["x"], z["y"], z["g"]
    x, y, g = make_patches(folders, log=lambda m: log(out, {"event": "patches", "message": m}))
    np.savez(path + ".tmp.npz", x=x, y=y, g=g, folders=np.array(folders))
    os.replace(path + ".tmp.npz", path)
    return x, y, g


def augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Random flips, 90-degree rotations and a global brightness/contrast change (keeps relative steps)."""
    n = x.shape[0]
    k = int(torch.randint(0, 4, (1,), generator=gen))
    x = torch.rot90(x, k, dims=(2, 3))
    flip = torch.rand(n, generator=gen) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(3), x)
    gain = 1 + 0.1 * (torch.rand(n, 1, 1, 1, generator=gen) - 0.5)
    bias = 0.1 * (torch.rand(n, 1, 1, 1, generator=gen) - 0.5)
    return x * gain + bias


def save_checkpoint(path, state):
    torch.save(state, path + ".tmp")
    os.replace(path + ".tmp", path)


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def export(net: PhantomNet, export_dir: str, description: str, name: str = "phantom-net", resolution: int = RESOLUTION,
           wrapper=ExportFeatures):
    """The three feature models of a PhantomNet-shaped network ({name}, {name}-lpips, {name}-embed), each an ONNX graph
    (opset 17, dynamic batch) of `wrapper(net, kind)` and its feature-model.json; drive-net exports through it too."""
    net.eval()
    x = torch.zeros(2, 3, resolution, resolution)
    common_input = {"name": "image", "width": resolution, "height": resolution, "resize": "bilinear", "range": [-1, 1],
                    "mean": [0, 0, 0], "std": [1, 1, 1]}
    folders = {}
    for kind, folder, outputs in (("features", name, ["features"]), ("lpips", f"{name}-lpips", LAYERS),
                                  ("embedding", f"{name}-embed", ["embedding"])):
        d = os.path.join(export_dir, folder)
        os.makedirs(d, exist_ok=True)
        path = os.path.join(d, "model.onnx")
        with torch.no_grad():
            # An eval-mode wrapper: the exporter restores the wrapper's mode afterwards, and a training-mode wrapper
            # would leave the network's BatchNorm layers in training mode.
            torch.onnx.export(wrapper(net, kind).eval(), (x,), path, input_names=["image"], output_names=outputs,
                              dynamic_axes={n: {0: "batch"} for n in ["image"] + outputs}, opset_version=17)
        doc = {"name": name, "kind": kind, "file": "model.onnx", "sha256": sha256(path),
               "description": description, "input": common_input}
        if kind == "lpips":
            widths = [net.s1[0].out_channels, net.s2[-1][0].out_channels, net.s3[-1][0].out_channels, net.s4[-1][0].out_channels]
            # No human-judgement data exists to learn LPIPS' linear heads: unit weights (every channel counts once).
            doc["layers"] = [{"name": n, "weights": [1.0] * c} for n, c in zip(LAYERS, widths)]
        else:
            doc["output"] = {"name": outputs[0], "dim": FEATURE_DIM}
        with open(os.path.join(d, "feature-model.json"), "w") as f:
            json.dump(doc, f, indent=2)
            f.write("\n")
        folders[kind] = d
    return folders


def check(net, out, held):
    x, y, g = held
    feats = embed(net, x)
    with torch.no_grad():
        pred = np.concatenate([net(torch.from_numpy(2 * x[k:k + 256] - 1)[:, None]).argmax(1).numpy() for k in range(0, len(x), 256)])
    acc = {c: float((pred[y == i] == i).mean()) if (y == i).any() else None for i, c in enumerate(CLASSES)}
    lesion = np.isin(y, [1, 2, 3])
    images = np.unique(g[lesion])
    half = set(images[::2].tolist())
    a = lesion & np.isin(g, list(half))
    b = lesion & ~np.isin(g, list(half))
    result = {
        "counts": {c: int((y == i).sum()) for i, c in enumerate(CLASSES)},
        "accuracy": acc,
        "fd": {
            "lesion_vs_lesion_other_images": frechet_distance(feats[a], feats[b]),
            "tissue_vs_lesion": frechet_distance(feats[y == 0], feats[lesion]),
            "copypaste_vs_lesion": frechet_distance(feats[y == 4], feats[lesion]),
            "copypaste_vs_tissue": frechet_distance(feats[y == 4], feats[y == 0]),
        },
        "feature_dim": FEATURE_DIM,
    }
    with open(os.path.join(out, "check.json"), "w") as f:
        json.dump(result, f, indent=2)
    return result


def main(argv=None):
    args = parse(argv)
    torch.set_num_threads(args.threads)
    os.makedirs(args.out, exist_ok=True)
    train = patches(os.path.join(args.out, "train-patches.npz"), args.data, args.out)
    held = patches(os.path.join(args.out, "held-patches.npz"), [args.held_out], args.out) if args.held_out else None
    x, y, _ = train
    log(args.out, {"event": "data", "train": {c: int((y == i).sum()) for i, c in enumerate(CLASSES)},
                   "held_out": None if held is None else int(len(held[1]))})

    torch.manual_seed(args.seed)
    net = PhantomNet()
    opt = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=1e-4)
    gen = torch.Generator().manual_seed(args.seed)
    step, elapsed = 0, 0.0
    ckpt = os.path.join(args.out, "checkpoint.pt")
    if os.path.isfile(ckpt):
        s = torch.load(ckpt)
        net.load_state_dict(s["model"]); opt.load_state_dict(s["opt"]); gen.set_state(s["gen"])
        step, elapsed = s["step"], s["elapsed"]
        log(args.out, {"event": "resume", "step": step, "elapsed_s": round(elapsed, 1)})

    def state():
        return {"model": net.state_dict(), "opt": opt.state_dict(), "gen": gen.get_state(), "step": step, "elapsed": elapsed}

    stop = {"flag": False}

    def on_signal(signum, frame):
        stop["flag"] = True
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    # Class-balanced sampling: each class drawn equally often.
    weights = torch.from_numpy(1.0 / np.bincount(y, minlength=len(CLASSES))[y]).double()
    xt, yt = torch.from_numpy(2 * x - 1), torch.from_numpy(y)
    running = None
    t0 = time.time() - elapsed
    while step < args.max_steps and elapsed < args.max_minutes * 60 and not stop["flag"]:
        net.train()
        idx = torch.multinomial(weights, args.batch_size, replacement=True, generator=gen)
        batch = augment(xt[idx][:, None], gen)
        lr = args.lr * min(1.0, (step + 1) / 100) * 0.5 * (1 + np.cos(np.pi * min(step / args.max_steps, 1.0)))
        for group in opt.param_groups:
            group["lr"] = lr
        loss = F.cross_entropy(net(batch), yt[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        elapsed = time.time() - t0
        running = loss.item() if running is None else 0.95 * running + 0.05 * loss.item()
        if step % args.log_every == 0:
            log(args.out, {"event": "train", "step": step, "loss": round(loss.item(), 4), "running": round(running, 4),
                           "lr": round(lr, 6), "elapsed_s": round(elapsed, 1)})
        if step % args.ckpt_every == 0:
            save_checkpoint(ckpt, state())
    save_checkpoint(ckpt, state())
    if stop["flag"]:
        log(args.out, {"event": "interrupted", "step": step})
        return 130
    net.eval()
    if held is not None:
        log(args.out, {"event": "check", **check(net, args.out, held)})
    if not args.no_export:
        folders = export(net, args.export_dir, f"phantom-net: 5-class patch network (tissue, mass, calcification, asymmetry, "
                                                f"copy&paste composite) trained on the synthetic phantom, {step} steps, seed {args.seed}; "
                                                f"not Inception/AlexNet/CLIP/DINOv2")
        log(args.out, {"event": "exported", "folders": folders, "step": step})
    return 0


if __name__ == "__main__":
    sys.exit(main())
