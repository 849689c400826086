#!/usr/bin/python3
"""Frozen vectors for the texture measure (docs/metrics.md, "Texture"), written independently of the C# code.

Run from this folder: /usr/bin/python3 make_texture_vectors.py
Writes <case>.f32 (raw little-endian float32, row-major, W x H below) and texture.json (box, options, expected values).

Reference definition, in numpy/scipy terms, on the whole image:
  e        : img - scipy.ndimage.gaussian_filter(img, sigma, mode="nearest", truncate=4.0)   (float64)
  inside   : e over the box [x0, x0 + w) x [y0, y0 + h)
  ring     : e over binary_dilation(box, ones((2R+1, 2R+1))) & ~box (clipped to the image)
  texture  : |ln(max(rms(inside), floor) / max(rms(ring), floor))|
  detail   : ln(max(rms(inside of output), floor) / max(rms(inside of source), floor))   (docs/metrics.md, "Detail")
Constructed cases: untouched fibrous tissue scores low; the same tissue with the box replaced by its own low-pass (a
smooth square, what an upsampled low-resolution fill looks like) scores high; a lesion added onto the tissue stays low.
"""
import json
import numpy as np
from scipy import ndimage

W, H = 96, 80
BOX = (30, 24, 28, 22)   # x0, y0, w, h
OPTS = dict(sigma=1.5, ring=8, floor=1e-6)
rng = np.random.default_rng(1202)


def fibrous():
    coarse = ndimage.gaussian_filter(rng.standard_normal((H, W)), (2.0, 6.0), mode="reflect")
    fine = ndimage.gaussian_filter(rng.standard_normal((H, W)), 0.7, mode="reflect")
    return 0.45 + 0.08 * coarse / coarse.std() + 0.02 * fine / fine.std()


def box_mask(box):
    x0, y0, w, h = box
    m = np.zeros((H, W), bool)
    m[y0:y0 + h, x0:x0 + w] = True
    return m


def texture(img, box):
    e = img.astype(np.float64) - ndimage.gaussian_filter(img.astype(np.float64), OPTS["sigma"], mode="nearest", truncate=4.0)
    m = box_mask(box)
    r = OPTS["ring"]
    ring = ndimage.binary_dilation(m, np.ones((2 * r + 1, 2 * r + 1), bool)) & ~m
    rin = np.sqrt(np.mean(e[m] ** 2))
    rring = np.sqrt(np.mean(e[ring] ** 2))
    return abs(np.log(max(rin, OPTS["floor"]) / max(rring, OPTS["floor"]))), rin, rring


tissue = fibrous()
x0, y0, w, h = BOX
smooth = tissue.copy()
smooth[y0:y0 + h, x0:x0 + w] = ndimage.gaussian_filter(tissue, 3.0, mode="nearest")[y0:y0 + h, x0:x0 + w]
yy, xx = np.mgrid[0:H, 0:W] + 0.5
lesion = tissue + 0.15 * np.exp(-((xx - (x0 + w / 2)) ** 2 + (yy - (y0 + h / 2)) ** 2) / (2 * 5.0 ** 2))
# a box at the image's corner: the ring is clipped, the filter uses the image's replicate border
corner = fibrous()
CORNER = (0, 0, 20, 16)
corner[0:16, 0:20] = ndimage.gaussian_filter(corner, 3.0, mode="nearest")[0:16, 0:20]
cases = {"untouched": (tissue, BOX), "smooth_square": (smooth, BOX), "lesion_on_tissue": (lesion, BOX), "smooth_at_corner": (corner, CORNER)}
out = {"width": W, "height": H, "options": OPTS, "cases": {}}
for name, (img, box) in cases.items():
    img = img.astype(np.float32)
    img.tofile(f"{name}.f32")
    t, rin, rring = texture(img, box)
    out["cases"][name] = {"box": list(box), "texture": t, "inside": rin, "ring": rring}
# the detail measure: output case against source case at the same box
out["detail"] = {}
for name, src in (("smooth_square", "untouched"), ("lesion_on_tissue", "untouched"), ("untouched", "untouched")):
    (o, box), (s, _) = cases[name], cases[src]
    out["detail"][name] = {"source": src, "box": list(box),
                           "detail": float(np.log(max(texture(o.astype(np.float32), box)[1], OPTS["floor"]) / max(texture(s.astype(np.float32), box)[1], OPTS["floor"])))}
json.dump(out, open("texture.json", "w"), indent=2)
print(json.dumps(out["cases"], indent=2))
