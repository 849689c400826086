#!/usr/bin/python3
"""Frozen vectors for the seam measure (docs/metrics.md, "Seam"), written independently of the C# code.

Run from this folder: /usr/bin/python3 make_seam_vectors.py
Writes <case>.f32 (raw little-endian float32, row-major) and seam.json (box, options, expected values).

Reference definition, in numpy/scipy terms:
  bands     : the w-row (w-column) slices just inside and just outside each box edge, restricted to the segment of
              length L = max(1, round_half_up(f * side)) that starts at each corner (8 segments);
              a side whose outer band leaves the image is skipped;
  step      : mean(inside band) - mean(outside band), float64;
  contrast  : np.std (population) of the pixels of scipy.ndimage.binary_dilation(box, ones((2R+1, 2R+1))) & ~box;
  seam      : sqrt(mean(step^2)) / max(contrast, floor).
The constructed cases are the behaviour the measure exists for: a hard paste of a crop whose background differs from
the tissue must score high, the untouched tissue and a lesion that blends into it low.
"""
import json
import math
import numpy as np
from scipy import ndimage

W = H = 64
OPTS = dict(band=2, corner=0.25, ring=6, floor=1.0 / 255)
rng = np.random.default_rng(20261202)


def tissue(seed_rng, level=0.45, amp=0.05):
    low = ndimage.gaussian_filter(seed_rng.standard_normal((H, W)), 4.0, mode="reflect")
    low /= low.std()
    fine = ndimage.gaussian_filter(seed_rng.standard_normal((H, W)), 0.8, mode="reflect")
    fine /= fine.std()
    return level + amp * low + 0.01 * fine


def blob(box, amp, frac=0.2):
    x0, y0, bw, bh = box
    yy, xx = np.mgrid[0:H, 0:W] + 0.5
    cx, cy = x0 + bw / 2, y0 + bh / 2
    s = frac * min(bw, bh)
    return amp * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * s * s))


def paste(target, source, box):
    x0, y0, bw, bh = box
    out = target.copy()
    out[y0:y0 + bh, x0:x0 + bw] = source[y0:y0 + bh, x0:x0 + bw]
    return out


def round_half_up(v):
    return int(math.floor(v + 0.5))


def seam(img, box, band, corner, ring, floor):
    img = img.astype(np.float64)
    h, w_img = img.shape
    x0, y0, bw, bh = box
    x1, y1 = x0 + bw, y0 + bh
    w = band
    lx, ly = max(1, round_half_up(corner * bw)), max(1, round_half_up(corner * bh))
    steps = []
    if y0 - w >= 0:
        for xs in (slice(x0, x0 + lx), slice(x1 - lx, x1)):
            steps.append(img[y0:y0 + w, xs].mean() - img[y0 - w:y0, xs].mean())
    if y1 + w <= h:
        for xs in (slice(x0, x0 + lx), slice(x1 - lx, x1)):
            steps.append(img[y1 - w:y1, xs].mean() - img[y1:y1 + w, xs].mean())
    if x0 - w >= 0:
        for ys in (slice(y0, y0 + ly), slice(y1 - ly, y1)):
            steps.append(img[ys, x0:x0 + w].mean() - img[ys, x0 - w:x0].mean())
    if x1 + w <= w_img:
        for ys in (slice(y0, y0 + ly), slice(y1 - ly, y1)):
            steps.append(img[ys, x1 - w:x1].mean() - img[ys, x1:x1 + w].mean())
    if not steps:
        return None
    inside = np.zeros(img.shape, bool)
    inside[y0:y1, x0:x1] = True
    ring_mask = ndimage.binary_dilation(inside, structure=np.ones((2 * ring + 1, 2 * ring + 1), bool)) & ~inside
    contrast = float(img[ring_mask].std()) if ring_mask.any() else 0.0
    step_rms = float(np.sqrt(np.mean(np.square(steps))))
    return dict(seam=step_rms / max(contrast, floor), step_rms=step_rms, contrast=contrast, segments=len(steps))


box = (23, 21, 18, 20)
t = tissue(rng)
other = tissue(rng)
lesion = blob(box, 0.12)
cases = {
    "untouched": (t, box),
    "hard_paste_brighter": (paste(t, other + 0.08, box), box),
    "hard_paste_darker": (paste(t, other - 0.06, box), box),
    "blended_lesion": (t + lesion, box),
    "pasted_lesion": (paste(t, other + 0.08 + lesion, box), box),
    "box_at_corner": (paste(t, other + 0.08, (0, 0, 15, 15)), (0, 0, 15, 15)),
    "narrow_box": (paste(t, other + 0.05, (30, 10, 3, 30)), (30, 10, 3, 30)),
    "flat_with_paste": (paste(np.full((H, W), 0.3) + 1e-4 * rng.standard_normal((H, W)), np.full((H, W), 0.32), box), box),
}
expected = {"width": W, "height": H, "options": OPTS, "cases": []}
for name, (img, b) in cases.items():
    arr = np.ascontiguousarray(img, dtype="<f4")
    arr.tofile(f"{name}.f32")
    r = seam(arr, b, **OPTS)
    expected["cases"].append(dict(name=name, box=list(b), **r))
    print(f"{name:22s} seam {r['seam']:.4f}  step {r['step_rms']:.5f}  contrast {r['contrast']:.5f}  segments {r['segments']}")
with open("seam.json", "w") as f:
    json.dump(expected, f, indent=1)
