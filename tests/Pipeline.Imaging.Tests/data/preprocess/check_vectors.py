#!/usr/bin/python3
"""Independent numpy/torch/scipy implementation of docs/preprocessing.md, checked against the C#-generated vectors here.

Run with Debian's python3:  /usr/bin/python3 check_vectors.py      (exit status 0 = all cases agree)
The training job trains on tensors the C# code exports (`pipeline train-data export`); this file is only the
independent reference of the C# implementation.
"""
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from scipy import ndimage

HERE = os.path.dirname(os.path.abspath(__file__))


def _coverage_axis0(a, n):
    """Exact area averaging along axis 0: repeat each input n times, average blocks of len(a) (float64)."""
    m = a.shape[0]
    return np.repeat(a, n, axis=0).reshape(n, m, *a.shape[1:]).mean(axis=1)


def _bilinear_axis0(a, n):
    """torch bilinear, half-pixel centres, no antialias, along axis 0 only."""
    t = torch.from_numpy(np.ascontiguousarray(a, dtype=np.float64))[None, None]
    return F.interpolate(t, size=(n, a.shape[1]), mode="bilinear", align_corners=False, antialias=False)[0, 0].numpy()


def resize(a, h, w):
    """The spec's resize rule, per axis: exact area averaging where the axis does not grow, else bilinear."""
    a = np.asarray(a, dtype=np.float64)
    axis0 = lambda x, n: _coverage_axis0(x, n) if n <= x.shape[0] else _bilinear_axis0(x, n)
    a = axis0(a.T, w).T   # x first, as the C# side does
    a = axis0(a, h)
    return a


def crop_padded(img, left, top, w, h):
    out = np.zeros((h, w), np.float32)
    H, W = img.shape
    x0, y0, x1, y1 = max(left, 0), max(top, 0), min(left + w, W), min(top + h, H)
    if x1 > x0 and y1 > y0:
        out[y0 - top:y1 - top, x0 - left:x1 - left] = img[y0:y1, x0:x1]
    return out


def zoom_in(img, box, r, R):
    x0, y0, x1, y1 = box
    bw, bh = x1 - x0, y1 - y0
    side = max(8, math.ceil(r * max(bw, bh)))
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    left, top = math.floor(cx - side / 2), math.floor(cy - side / 2)
    crop = resize(crop_padded(img, left, top, side, side), R, R).astype(np.float32)
    s = R / side
    clip = lambda v: min(max(v, 0), R)
    mbox = [clip(math.floor((x0 - left) * s)), clip(math.floor((y0 - top) * s)), clip(math.ceil((x1 - left) * s)), clip(math.ceil((y1 - top) * s))]
    return crop, [left, top, left + side, top + side], side, mbox


def reference(img, box, e, S):
    H, W = img.shape
    x0, y0, x1, y1 = box
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    w2, h2 = e * (x1 - x0), e * (y1 - y0)
    rx0, ry0 = min(max(math.floor(cx - w2 / 2), 0), W), min(max(math.floor(cy - h2 / 2), 0), H)
    rx1, ry1 = min(max(math.ceil(cx + w2 / 2), 0), W), min(max(math.ceil(cy + h2 / 2), 0), H)
    w, h = rx1 - rx0, ry1 - ry0
    side = max(w, h)
    pl, pt = (side - w) // 2, (side - h) // 2
    square = np.zeros((side, side), np.float32)
    square[pt:pt + h, pl:pl + w] = img[ry0:ry1, rx0:rx1]
    ref = resize(square, S, S).astype(np.float32)
    full = np.zeros((side, side))
    full[pt:pt + h, pl:pl + w] = 1
    support = (resize(full, S, S) >= 0.5).astype(np.uint8)
    return ref, support, [rx0, ry0, rx1, ry1], side, [pl, pt]


def hf_map(ref, support):
    gx = ndimage.sobel(ref, axis=1, mode="nearest")
    gy = ndimage.sobel(ref, axis=0, mode="nearest")
    E = ndimage.binary_erosion(support, structure=np.ones((3, 3), bool), border_value=0)
    return (np.clip(0.5 * (np.abs(gx) + np.abs(gy)), 0, 1) * ref * E).astype(np.float32)


def collage(hf, mbox, R):
    out = np.zeros((R, R), np.float32)
    x0, y0, x1, y1 = mbox
    if x1 > x0 and y1 > y0:
        out[y0:y1, x0:x1] = 2 * resize(hf, y1 - y0, x1 - x0).astype(np.float32) - 1
    return out


def main():
    meta = json.load(open(os.path.join(HERE, "cases.json")))
    img = np.load(os.path.join(HERE, meta["image"]))
    R, S = meta["R"], meta["S"]
    failures = []

    def close(name, a, tol=1e-5):
        b = np.load(os.path.join(HERE, name + ".npy"))
        d = float(np.abs(a.astype(np.float64) - b).max())
        if not d <= tol:
            failures.append(f"{name}: max |diff| {d}")

    for c in meta["cases"]:
        n = c["name"]
        crop, rect, side, mbox = zoom_in(img, c["box"], c["r"], R)
        if rect != c["crop_rect"] or side != c["side"] or mbox != c["model_box"]:
            failures.append(f"{n}: geometry {rect} {side} {mbox} vs {c['crop_rect']} {c['side']} {c['model_box']}")
        m = 2 * crop - 1
        mask = np.zeros((R, R), np.float32)
        mask[mbox[1]:mbox[3], mbox[0]:mbox[2]] = 1
        close(f"{n}_crop", m)
        close(f"{n}_mask", mask, 0)
        close(f"{n}_context", m * (1 - mask))
        ref, support, rrect, rside, pad = reference(img, c["box"], c["e"], S)
        if rrect != c["reference_rect"] or rside != c["reference_side"] or pad != c["reference_pad"]:
            failures.append(f"{n}: reference geometry {rrect} {rside} {pad} vs {c['reference_rect']} {c['reference_side']} {c['reference_pad']}")
        close(f"{n}_reference", ref)
        close(f"{n}_support", support.astype(np.float32), 0)
        hf = hf_map(ref, support)
        close(f"{n}_hf", hf)
        close(f"{n}_collage", collage(hf, mbox, R))
    for f in failures:
        print("MISMATCH", f)
    print(f"{len(meta['cases'])} cases, {len(failures)} mismatches")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
