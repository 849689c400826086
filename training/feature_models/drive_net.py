"""drive-net: a small patch network trained on the project's synthetic driving scenes, the driving counterpart of
phantom-net (docs/metrics.md, "drive-net"): the feature, LPIPS and embedding network of the driving demo, reported as
FD[drive-net], LPIPS[drive-net], D-LPIPS[drive-net], I-LPIPS[drive-net], CLIP-I[drive-net] -- never as FID,
LPIPS(alex), CLIP-I or DINOv2 of the real networks.

Patches are what a driving run measures (docs/driving.md, "Metrics"): the object-centric crops at the model's 32 px
around a box, in model space [-1, 1], as `pipeline scene export-training` writes them (the C# preparation of a run):
the camera crop (RGB) and the range crop's depth and intensity planes, each tiled to three channels as the C# side
tiles a single-channel patch. Classes (per patch):
  0 background   the scene at an empty box of the pool (no object in it)
  1 car          an object crop (cars passing MObI's filters)
  2 composite    camera only: the reference crop pasted into the box's hull mask with a hard edge (copy&paste)
and the modality is a second, auxiliary label (camera / depth / intensity), so one network serves the camera LPIPS
and D-/I-LPIPS. The composite class makes the features see a pasted patch, as phantom-net's does.

  OMP_NUM_THREADS=1 nice -n 10 /usr/bin/python3 training/feature_models/drive_net.py \\
      --train /tmp/drv2/ex-train --held-out /tmp/drv2/ex-heldout --out /tmp/dn-run --max-minutes 10
writes /tmp/dn-run/{state.pt, check.json} (resumable: a second call continues from state.pt) and exports
training/feature_models/drive-net{,-lpips,-embed}/ with --export.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, HERE)
from driving_train import read_tensor_bundle  # noqa: E402
from phantom_net import FEATURE_DIM, LAYERS, PhantomNet, frechet_distance  # noqa: E402
from train_phantom_net import export as export_feature_models, sha256  # noqa: E402,F401

CLASSES = ["background", "car", "composite"]
MODALITIES = ["camera", "depth", "intensity"]
RESOLUTION = 32


class DriveNet(PhantomNet):
    """phantom-net's four conv stages (32, 16, 8, 4 px here) on RGB input, global average pooling, a 32-d embedding,
    a 3-way class head and a 3-way modality head. Input: [N, 3, 32, 32] in [-1, 1]."""

    def __init__(self, widths=(16, 32, 48, 64)):
        super().__init__(widths, in_channels=3, classes=len(CLASSES))
        self.modality = nn.Linear(FEATURE_DIM, len(MODALITIES))

    def forward(self, x):
        h = F.relu(self.features(x))
        return self.classify(h), self.modality(h)


class ExportFeatures(nn.Module):
    """The exported graphs take the descriptor's [N, 3, H, W] input as it is (RGB, or a range plane tiled by the C# side)."""

    def __init__(self, net: DriveNet, kind: str):
        super().__init__()
        self.net, self.kind = net, kind

    def forward(self, image):
        if self.kind == "lpips":
            return self.net.stages(image)
        return self.net.features(image)


def patches(folder: str):
    """(X [N, 3, 32, 32] in [-1, 1], class [N], modality [N], scene [N]) from an export-training folder."""
    with open(os.path.join(folder, "manifest.json")) as f:
        manifest = json.load(f)
    d, n = manifest["resolution"], manifest["count"]
    if d != RESOLUTION:
        raise ValueError(f"{folder}: exported at {d} px; drive-net patches are {RESOLUTION} px")
    b = read_tensor_bundle(os.path.join(folder, "examples.tensors"))
    x0 = b["x0"].reshape(n, 5, d, d)
    mask = b["mask"].reshape(n, 2, d, d)
    ref = b["reference"].reshape(n, 3, manifest["referenceSize"], manifest["referenceSize"])
    empty = b["empty"] > 0.5
    scene = b["scene"].astype(np.int64)
    X, y, m, s = [], [], [], []
    for i in range(n):
        cls = 0 if empty[i] else 1
        X.append(x0[i, :3]); y.append(cls); m.append(0); s.append(scene[i])
        for k, ch in ((1, 3), (2, 4)):
            X.append(np.repeat(x0[i, ch:ch + 1], 3, axis=0)); y.append(cls); m.append(k); s.append(scene[i])
        if not empty[i]:
            r = torch.from_numpy(ref[i:i + 1])
            r = F.interpolate(r, size=(d, d), mode="bilinear", align_corners=False)[0].numpy()
            hull = mask[i, 0:1] > 0
            X.append(np.where(hull, r, x0[i, :3])); y.append(2); m.append(0); s.append(scene[i])
    return (np.stack(X).astype(np.float32), np.array(y, np.int64), np.array(m, np.int64), np.array(s, np.int64))


def augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Horizontal flips and a global gain/offset (road scenes have an up, so no rotations)."""
    n = x.shape[0]
    flip = torch.rand(n, generator=gen) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(3), x)
    gain = 1 + 0.1 * (torch.rand(n, 1, 1, 1, generator=gen) - 0.5)
    bias = 0.1 * (torch.rand(n, 1, 1, 1, generator=gen) - 0.5)
    return (x * gain + bias).clamp(-1, 1)


def export(net: DriveNet, export_dir: str, description: str):
    return export_feature_models(net, export_dir, description, name="drive-net", resolution=RESOLUTION, wrapper=ExportFeatures)


@torch.no_grad()
def check(net, held):
    """Held-out accuracy per class and modality, and FD between held-out sets of camera patches."""
    x, y, m, s = held
    net.eval()
    feats, pc, pm = [], [], []
    for k in range(0, len(x), 256):
        t = torch.from_numpy(x[k:k + 256])
        feats.append(net.features(t).double().numpy())
        c, mo = net(t)
        pc.append(c.argmax(1).numpy()); pm.append(mo.argmax(1).numpy())
    f, pc, pm = np.concatenate(feats), np.concatenate(pc), np.concatenate(pm)
    cam = m == 0
    scenes = np.unique(s[cam & (y == 1)])
    half = np.isin(s, scenes[::2])
    out = {
        "counts": {f"{c}/{mo}": int(((y == i) & (m == j)).sum()) for i, c in enumerate(CLASSES) for j, mo in enumerate(MODALITIES)},
        "classAccuracy": {c: float((pc[y == i] == i).mean()) for i, c in enumerate(CLASSES) if (y == i).any()},
        "modalityAccuracy": float((pm == m).mean()),
        "fdCamera": {
            "car_vs_car_other_scenes": frechet_distance(f[cam & (y == 1) & half], f[cam & (y == 1) & ~half]) if len(scenes) > 1 else None,
            "background_vs_car": frechet_distance(f[cam & (y == 0)], f[cam & (y == 1)]),
            "copypaste_vs_car": frechet_distance(f[cam & (y == 2)], f[cam & (y == 1)]),
        },
    }
    net.train()
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--train", required=True, help="`pipeline scene export-training` folder of the training scenes")
    ap.add_argument("--held-out", required=True, help="the same for held-out scenes")
    ap.add_argument("--out", required=True)
    ap.add_argument("--max-minutes", type=float, default=10.0)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--export", default=None, help="folder to write drive-net, drive-net-lpips, drive-net-embed into")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    os.makedirs(args.out, exist_ok=True)
    train, held = patches(args.train), patches(args.held_out)
    x, y, m = torch.from_numpy(train[0]), torch.from_numpy(train[1]), torch.from_numpy(train[2])
    torch.manual_seed(args.seed)
    net = DriveNet()
    opt = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=1e-4)
    gen = torch.Generator().manual_seed(args.seed)
    step = 0
    state_path = os.path.join(args.out, "state.pt")
    if os.path.exists(state_path):
        st = torch.load(state_path)
        net.load_state_dict(st["net"]); opt.load_state_dict(st["opt"]); gen.set_state(st["generator"]); step = st["step"]
        print(f"resumed {state_path} at step {step}", flush=True)
    # class-balanced sampling: each batch draws the three classes equally
    by_class = [torch.nonzero(y == c).flatten() for c in range(len(CLASSES))]
    print(f"train patches {len(x)} ({', '.join(f'{c} {len(i)}' for c, i in zip(CLASSES, by_class))}); held-out {len(held[0])}", flush=True)
    start = time.time()
    net.train()
    while (time.time() - start) / 60 < args.max_minutes:
        per = args.batch_size // len(CLASSES)
        idx = torch.cat([i[torch.randint(len(i), (per,), generator=gen)] for i in by_class])
        logits_c, logits_m = net(augment(x[idx], gen))
        loss = F.cross_entropy(logits_c, y[idx]) + 0.5 * F.cross_entropy(logits_m, m[idx])
        opt.zero_grad(); loss.backward(); opt.step()
        step += 1
        if step % 100 == 0:
            torch.save({"net": net.state_dict(), "opt": opt.state_dict(), "generator": gen.get_state(), "step": step}, state_path + ".tmp")
            os.replace(state_path + ".tmp", state_path)
            print(json.dumps({"step": step, "loss": round(float(loss), 4), "minutes": round((time.time() - start) / 60, 2)}), flush=True)
    torch.save({"net": net.state_dict(), "opt": opt.state_dict(), "generator": gen.get_state(), "step": step}, state_path)
    result = check(net, held)
    result["steps"] = step
    result["command"] = "drive_net.py " + " ".join(argv if argv is not None else sys.argv[1:])
    with open(os.path.join(args.out, "check.json"), "w") as f:
        json.dump(result, f, indent=2)
    print(json.dumps(result, indent=2), flush=True)
    if args.export:
        export(net, args.export, f"drive-net: 3-class patch network (background, car, copy&paste composite) with a modality "
                                 f"head (camera, depth, intensity), trained on synthetic driving scenes, {step} steps, seed {args.seed}; "
                                 f"not Inception/AlexNet/CLIP/DINOv2")
        with open(os.path.join(args.export, "drive-net", "check.json"), "w") as f:
            json.dump(result, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
