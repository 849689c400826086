"""Reference values for the committed drive-net export (tests/Pipeline.Metrics.Tests DriveNetTests): the PyTorch
network (training/feature_models/drive_net.py) with the committed weights (drive-net/weights.pt) on fixed seeded
32 x 32 patches, display values in [0, 1]: the 32-d features (kind features / embedding) and LPIPS (Zhang et al. 2018
v0.1 with unit heads, written here in numpy: channel unit-normalisation with eps 1e-10, squared difference, spatial
mean, sum over the four stages) of camera pairs and of a depth pair tiled to three channels.

  /usr/bin/python3 tests/Pipeline.Metrics.Tests/data/features/make_drive_net_vectors.py
writes drive_net_vectors.json beside this script.
"""
import json
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "training", "feature_models"))
from drive_net import DriveNet  # noqa: E402


def lpips(net, a, b):
    with torch.no_grad():
        sa = net.stages(torch.from_numpy(2 * a[None] - 1))
        sb = net.stages(torch.from_numpy(2 * b[None] - 1))
    total = 0.0
    for x, y in zip(sa, sb):
        x, y = x[0].double().numpy(), y[0].double().numpy()
        x = x / (np.sqrt((x * x).sum(axis=0, keepdims=True)) + 1e-10)
        y = y / (np.sqrt((y * y).sum(axis=0, keepdims=True)) + 1e-10)
        total += float(((x - y) ** 2).sum(axis=0).mean())
    return total


def main():
    net = DriveNet()
    net.load_state_dict(torch.load(os.path.join(ROOT, "training", "feature_models", "drive-net", "weights.pt"))["net"])
    net.eval()
    rng = np.random.default_rng(2026)
    cams = [rng.random((3, 32, 32), dtype=np.float32) for _ in range(3)]
    cams[1] = np.clip(cams[0] * 0.7 + 0.15, 0, 1).astype(np.float32)   # a related pair
    depth = [rng.random((1, 32, 32), dtype=np.float32) for _ in range(2)]
    with torch.no_grad():
        feats = net.features(torch.from_numpy(2 * np.stack(cams) - 1)).double().numpy()
    out = {
        # interleaved HWC floats in [0, 1], as the C# FeatureImage holds them
        "camera": [c.transpose(1, 2, 0).flatten().tolist() for c in cams],
        "depth": [d[0].flatten().tolist() for d in depth],
        "features": feats.tolist(),
        "lpips": [{"a": 0, "b": 1, "value": lpips(net, cams[0], cams[1])}, {"a": 0, "b": 2, "value": lpips(net, cams[0], cams[2])}],
        "depthLpips": lpips(net, np.repeat(depth[0], 3, 0), np.repeat(depth[1], 3, 0)),
    }
    with open(os.path.join(HERE, "drive_net_vectors.json"), "w") as f:
        json.dump(out, f)
    print(json.dumps({k: v for k, v in out.items() if k in ("lpips", "depthLpips")}))


if __name__ == "__main__":
    main()
