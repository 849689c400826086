"""phantom-net: a small patch network trained on the project's synthetic mammograms, used as the demo's feature,
LPIPS and embedding network (docs/metrics.md, "phantom-net"). Reported as FD[phantom-net], KID[phantom-net],
LPIPS[phantom-net], CLIP-I[phantom-net]: never as FID, LPIPS(alex), CLIP-I or DINOv2 of the real networks.

Patches are what the run measures: the zoom-in crop (docs/preprocessing.md) of a box at 64 x 64 in display values,
the box covering about 1/3.5 of the crop. Five classes:
  0 tissue        a box on lesion-free breast tissue
  1 mass          a Mass finding's box (circumscribed and spiculated masses)
  2 calcification a Suspicious Calcification finding's box
  3 asymmetry     a Focal Asymmetry finding's box
  4 composite     copy&paste: another image's lesion box pasted into this image with the run's feathered compositing
                  (docs/preprocessing.md "Compositing": Gaussian feather sigma 2 over a 5 px margin), at a tissue box
                  (insertion) or over a lesion of similar size (replacement)
The composite class is what makes the features see a pasted square; the docs say so, because it means FD[phantom-net]
is by construction sensitive to that artefact.
"""
from __future__ import annotations

import csv
import math
import os
import sys
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
from data import DatasetError, find_annotation_csv, read_display  # noqa: E402
from preprocess import zoom_in_crop  # noqa: E402

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

    def __init__(self, widths=(12, 24, 48, 64)):
        super().__init__()
        w1, w2, w3, w4 = widths
        self.s1 = _block(1, w1, 1)
        self.s2 = nn.Sequential(_block(w1, w2, 2), _block(w2, w2, 1))
        self.s3 = nn.Sequential(_block(w2, w3, 2), _block(w3, w3, 1))
        self.s4 = nn.Sequential(_block(w3, w4, 2), _block(w4, w4, 1))
        self.embed = nn.Linear(w4, FEATURE_DIM)
        self.classify = nn.Linear(FEATURE_DIM, len(CLASSES))

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

@dataclass
class ImageEntry:
    image_id: str
    path: str
    findings: list  # [(box (x0, y0, x1, y1), class index)]


def read_images(folder: str) -> list[ImageEntry]:
    """Every image of a VinDr-layout dataset, with its finding boxes (images without findings included)."""
    csv_path = find_annotation_csv(__import__("pathlib").Path(folder))
    images: dict[str, ImageEntry] = {}
    with open(csv_path, newline="", encoding="utf-8-sig") as f:
        for n, row in enumerate(csv.DictReader(f), start=1):
            image_id, study = row["image_id"].strip(), (row.get("study_id") or "").strip()
            path = None
            for ext in (".dicom", ".dcm"):
                p = os.path.join(folder, "images", study, image_id + ext)
                if os.path.isfile(p):
                    path = p
            if path is None:
                raise DatasetError(f"{csv_path} row {n}: no DICOM for image_id '{image_id}'")
            entry = images.setdefault(image_id, ImageEntry(image_id, path, []))
            try:
                box = tuple(float(row[k]) for k in ("xmin", "ymin", "xmax", "ymax"))
            except (ValueError, KeyError):
                continue
            cats = row.get("finding_categories", "")
            cls = next((c for name, c in CATEGORY_CLASS.items() if name in cats), None)
            if cls is not None:
                entry.findings.append((box, cls))
    return list(images.values())


def feather_alpha(box_w: int, box_h: int, margin: int = 5, sigma: float = 2.0) -> np.ndarray:
    """PasteBack.FeatherAlpha (docs/preprocessing.md "Compositing"): 1 inside the box, a Gaussian fall-off over the
    margin reaching 0 one pixel past it, separable; for the box grown by the margin."""
    tail = math.exp(-(margin + 1.0) ** 2 / (2 * sigma * sigma))

    def profile(n):
        g = np.zeros(n + 2 * margin)
        for i in range(n + 2 * margin):
            d = max(margin - i, i - (n + margin - 1), 0)
            g[i] = 1.0 if d == 0 else (math.exp(-d * d / (2 * sigma * sigma)) - tail) / (1 - tail)
        return g

    return np.outer(profile(box_h), profile(box_w))


def paste(target: np.ndarray, donor_region: np.ndarray, x0: int, y0: int, margin: int = 5) -> np.ndarray:
    """Copy&paste with the run's compositing: the donor's pixels (box + margin around it) blended with the feathered
    alpha into a copy of the target at the box's top-left (x0, y0)."""
    out = target.copy()
    h, w = donor_region.shape[0] - 2 * margin, donor_region.shape[1] - 2 * margin
    a = feather_alpha(w, h, margin)
    ys, xs = slice(y0 - margin, y0 + h + margin), slice(x0 - margin, x0 + w + margin)
    out[ys, xs] = out[ys, xs] + a * (donor_region - out[ys, xs])
    return out


def _overlaps(box, others, grow):
    x0, y0, x1, y1 = box
    for (a0, b0, a1, b1), _ in others:
        gw, gh = (a1 - a0) * grow, (b1 - b0) * grow
        if x1 > a0 - gw and x0 < a1 + gw and y1 > b0 - gh and y0 < b1 + gh:
            return True
    return False


def tissue_boxes(display: np.ndarray, findings, sizes, count, rng, fg_dist=None):
    """Boxes of the given sizes on breast tissue: inside the breast by at least the box's size, away from every finding."""
    from scipy import ndimage
    if fg_dist is None:
        fg_dist = ndimage.distance_transform_edt(display > 0.03)
    H, W = display.shape
    out = []
    for _ in range(count * 30):
        if len(out) >= count:
            break
        w, h = sizes[rng.integers(len(sizes))]
        x0, y0 = int(rng.integers(0, max(1, W - w))), int(rng.integers(0, max(1, H - h)))
        box = (x0, y0, x0 + w, y0 + h)
        cx, cy = x0 + w // 2, y0 + h // 2
        if fg_dist[cy, cx] < 1.5 * max(w, h) + 10 or _overlaps(box, findings, 1.0) or _overlaps(box, [(b, 0) for b in out], 0.5):
            continue
        out.append(box)
    return out


def crop(display: np.ndarray, box, rng) -> np.ndarray:
    return zoom_in_crop(display, box, float(rng.uniform(3.0, 4.0)), RESOLUTION).crop


def make_patches(folders, tissue_per_image=2, composite_per_image=2, variants=2, seed=0, log=print):
    """Patch arrays (N, 64, 64) float32 display values, labels (N,), image index (N,) from every image of the folders.
    Each finding gives `variants` crops (fresh crop ratio); each image `tissue_per_image` tissue boxes and
    `composite_per_image` copy&paste composites (donor lesion from another image, 70% at a tissue box, 30% over a
    finding of its own)."""
    rng = np.random.default_rng(seed)
    images = [e for f in folders for e in read_images(f)]
    lesions = [(i, box, cls) for i, e in enumerate(images) for box, cls in e.findings]
    sizes = [(int(round(b[2] - b[0])), int(round(b[3] - b[1]))) for _, b, _ in lesions]
    if not lesions:
        raise DatasetError(f"{folders}: no findings to learn from")
    X, y, g = [], [], []
    cache = {}

    def display_of(i):
        if i not in cache:
            if len(cache) > 8:
                cache.pop(next(iter(cache)))
            cache[i] = read_display(images[i].path).astype(np.float32)
        return cache[i]

    from scipy import ndimage
    for i, entry in enumerate(images):
        d = display_of(i)
        fg = ndimage.distance_transform_edt(d > 0.03)
        for box, cls in entry.findings:
            for _ in range(variants):
                X.append(crop(d, box, rng)); y.append(cls); g.append(i)
        for box in tissue_boxes(d, entry.findings, sizes, tissue_per_image, rng, fg):
            X.append(crop(d, box, rng)); y.append(0); g.append(i)
        for _ in range(composite_per_image):
            j, dbox, _ = lesions[int(rng.integers(len(lesions)))]
            if j == i:
                continue
            donor = display_of(j)
            dx0, dy0 = int(round(dbox[0])), int(round(dbox[1]))
            w, h = int(round(dbox[2] - dbox[0])), int(round(dbox[3] - dbox[1]))
            own = [b for b, _ in entry.findings if abs((b[2] - b[0]) / w - 1) < 0.15 and abs((b[3] - b[1]) / h - 1) < 0.15]
            if own and rng.uniform() < 0.3:
                tb = own[0]
                tx0, ty0 = int(round(tb[0])), int(round(tb[1]))
            else:
                boxes = tissue_boxes(d, entry.findings, [(w, h)], 1, rng, fg)
                if not boxes:
                    continue
                tx0, ty0 = boxes[0][0], boxes[0][1]
            m = 5
            if min(dx0, dy0, tx0, ty0) < m or dx0 + w + m > donor.shape[1] or dy0 + h + m > donor.shape[0] \
                    or tx0 + w + m > d.shape[1] or ty0 + h + m > d.shape[0]:
                continue
            region = donor[dy0 - m:dy0 + h + m, dx0 - m:dx0 + w + m]
            composed = paste(d, region, tx0, ty0, m)
            X.append(crop(composed, (tx0, ty0, tx0 + w, ty0 + h), rng)); y.append(4); g.append(i)
        if (i + 1) % 50 == 0:
            log(f"patches: {i + 1}/{len(images)} images, {len(X)} patches")
    return np.stack(X).astype(np.float32), np.array(y, np.int64), np.array(g, np.int64)


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
