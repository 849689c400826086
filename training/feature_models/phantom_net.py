"""phantom-net: a small patch network trained on the project's synthetic mammograms, used as the demo's feature,
LPIPS and embedding network (docs/metrics.md, "phantom-net"). Reported as FD[phantom-net], KID[phantom-net],
LPIPS[phantom-net], CLIP-I[phantom-net]: never as FID, LPIPS(alex), CLIP-I or DINOv2 of the real networks.

Patches are what the run measures: the zoom-in crop (docs/preprocessing.md) of a box at 64 x 64 in display values,
the box covering about 1/3.5 of the crop, cut by the C# preparation (`pipeline train-data export`). Five classes:
  0 tissue        a box on lesion-free breast tissue
  1 mass          a Mass finding's box (circumscribed and spiculated masses)
  2 calcification a Suspicious Calcification finding's box
  3 asymmetry     a Focal Asymmetry finding's box
  4 composite     copy&paste: another image's lesion box pasted into this image with the run's feathered compositing
                  (docs/preprocessing.md "Compositing": Gaussian feather sigma 2 over a 5 px margin), at a tissue box
                  (insertion examples) or over a lesion (lesion-transfer examples)
The composite class is what makes the features see a pasted square; the docs say so, because it means FD[phantom-net]
is by construction sensitive to that artefact.
"""
from __future__ import annotations

import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
from data import INSERTION, LESION_TRANSFER, REINSERTION, DatasetError, load  # noqa: E402

CLASSES = ["tissue", "mass", "calcification", "asymmetry", "composite"]
CATEGORY_CLASS = {"Mass": 1, "Suspicious Calcification": 2, "Focal Asymmetry": 3}
RESOLUTION = 64
FEATURE_DIM = 32
LAYERS = ["relu1", "relu2", "relu3", "relu4"]


# ---------------------------------------------------------------------------------------------------------------------
# Network
# ---------------------------------------------------------------------------------------------------------------------

def _block(cin, cout, stride):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU())


class PhantomNet(nn.Module):
    """Four conv stages (64, 32, 16, 8 px), global average pooling, a 32-d embedding and a 5-way classifier.
    Input: [N, 1, 64, 64] in model space [-1, 1] (2 v - 1 of the display value)."""

    def __init__(self, widths=(12, 24, 48, 64), in_channels=1, classes=len(CLASSES)):
        super().__init__()
        w1, w2, w3, w4 = widths
        self.widths = tuple(widths)
        self.s1 = _block(in_channels, w1, 1)
        self.s2 = nn.Sequential(_block(w1, w2, 2), _block(w2, w2, 1))
        self.s3 = nn.Sequential(_block(w2, w3, 2), _block(w3, w3, 1))
        self.s4 = nn.Sequential(_block(w3, w4, 2), _block(w4, w4, 1))
        self.embed = nn.Linear(w4, FEATURE_DIM)
        self.classify = nn.Linear(FEATURE_DIM, classes)

    def stages(self, x):
        a = self.s1(x)
        b = self.s2(a)
        c = self.s3(b)
        d = self.s4(c)
        return a, b, c, d

    def features(self, x):
        return self.embed(self.stages(x)[3].mean(dim=(2, 3)))

    def forward(self, x):
        return self.classify(F.relu(self.features(x)))


class ExportFeatures(nn.Module):
    """The exported graphs take the descriptor's [N, 3, H, W] input (grey tiled to 3 channels by the C# side, already
    mapped to [-1, 1]) and average the channels back to one."""

    def __init__(self, net: PhantomNet, kind: str):
        super().__init__()
        self.net, self.kind = net, kind

    def forward(self, image):
        x = image.mean(dim=1, keepdim=True)
        if self.kind == "lpips":
            return self.net.stages(x)
        return self.net.features(x)


# ---------------------------------------------------------------------------------------------------------------------
# Patches
# ---------------------------------------------------------------------------------------------------------------------

def make_patches(folders, log=print, resolution=RESOLUTION):
    """Patch arrays (N, 64, 64) float32 display values, labels (N,), image index (N,) from `pipeline train-data export`
    folders (every split; the C# export cuts every crop with the run's preparation and composites with the run's
    copy&paste, so the patches are what a run measures):
      reinsertion examples      the lesion crop                      -> its class (mass, calcification, asymmetry)
      lesion-transfer examples  the target's lesion crop             -> its class; the copy&paste crop -> composite
                                (another image's lesion pasted over a lesion of similar size)
      insertion examples        the tissue crop at the drawn box     -> tissue; the copy&paste crop -> composite
    Export with `--insertions N` for the tissue and composite classes (docs/metrics.md, "phantom-net")."""
    X, y, g = [], [], []
    groups = {}
    for folder in folders:
        data = load(folder)
        if data.preparation.resolution != resolution:
            raise DatasetError(f"{folder}: exported at {data.preparation.resolution} px; phantom-net patches are {resolution} px")
        for name in sorted(data.splits):
            split = data.splits[name]
            original, copypaste = split.tensors["original"], split.tensors["copypaste"]
            for i, item in enumerate(split.items):
                group = groups.setdefault((folder, item.get("source"), item["image"]), len(groups))
                kind, cls = item["kind"], CATEGORY_CLASS.get(item["className"])
                if kind in (REINSERTION, LESION_TRANSFER) and cls is not None:
                    X.append(original[i]); y.append(cls); g.append(group)
                if kind == INSERTION:
                    X.append(original[i]); y.append(0); g.append(group)
                if kind in (INSERTION, LESION_TRANSFER):
                    X.append(copypaste[i]); y.append(4); g.append(group)
            log(f"patches: {folder} {name}: {split.count} examples {split.pair_kinds}, {len(X)} patches")
    if not X:
        raise DatasetError(f"{folders}: no patches")
    labels = np.array(y, np.int64)
    for c in (0, 4):
        if not (labels == c).any():
            raise DatasetError(f"{folders}: no {CLASSES[c]} patches (export with --insertions)")
    return ((np.stack(X).astype(np.float32) + 1.0) / 2.0), labels, np.array(g, np.int64)


# ---------------------------------------------------------------------------------------------------------------------
# Fréchet distance (pytorch-fid's formula, scipy sqrtm) for the held-out check
# ---------------------------------------------------------------------------------------------------------------------

def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    import scipy.linalg
    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean, _ = scipy.linalg.sqrtm(s1 @ s2, disp=False)
    if not np.isfinite(covmean).all():
        off = np.eye(s1.shape[0]) * 1e-6
        covmean = scipy.linalg.sqrtm((s1 + off) @ (s2 + off))
    covmean = covmean.real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


@torch.no_grad()
def embed(net: PhantomNet, patches: np.ndarray, batch: int = 256) -> np.ndarray:
    net.eval()
    out = []
    for k in range(0, len(patches), batch):
        x = torch.from_numpy(2 * patches[k:k + batch] - 1)[:, None]
        out.append(net.features(x).double().numpy())
    return np.concatenate(out)
