#!/usr/bin/python3
"""Reference vectors for Pipeline.Imaging.Preprocessing.Resample.

Run with Debian's python3 (python3-torch 1.13, python3-pil 9.4):  /usr/bin/python3 make_vectors.py
Writes input.npy, input_rgb.npy and one <mode>_<w>x<h>.npy per case (float32, shape (h, w) or (h, w, 3)).
"""
import json
import os

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20261122)
H, W = 29, 37
img = rng.random((H, W), dtype=np.float32)
# a smooth ramp plus a bright square makes edges that separate the kernels clearly
img += np.linspace(0, 1, W, dtype=np.float32)[None, :]
img[8:15, 10:20] += 2.0
np.save(os.path.join(HERE, "input.npy"), img)
rgb = rng.random((H, W, 3), dtype=np.float32)
np.save(os.path.join(HERE, "input_rgb.npy"), rgb)

SIZES = [(16, 12), (74, 58), (53, 41), (9, 7), (37, 29), (12, 40), (1, 1)]
MODES = {
    "area": dict(mode="area"),
    "bilinear": dict(mode="bilinear", align_corners=False, antialias=False),
    "bicubic": dict(mode="bicubic", align_corners=False, antialias=False),
    "bilinear_aa": dict(mode="bilinear", align_corners=False, antialias=True),
    "bicubic_aa": dict(mode="bicubic", align_corners=False, antialias=True),
}
cases = []
for name, kw in MODES.items():
    for (w, h) in SIZES:
        t = torch.from_numpy(img)[None, None]
        out = F.interpolate(t, size=(h, w), **kw)[0, 0].numpy().astype(np.float32)
        np.save(os.path.join(HERE, f"{name}_{w}x{h}.npy"), out)
        cases.append({"mode": name, "width": w, "height": h, "file": f"{name}_{w}x{h}.npy", "channels": 1})
    t = torch.from_numpy(rgb).permute(2, 0, 1)[None]
    out = F.interpolate(t, size=(12, 16), **kw)[0].permute(1, 2, 0).contiguous().numpy().astype(np.float32)
    np.save(os.path.join(HERE, f"{name}_rgb_16x12.npy"), out)
    cases.append({"mode": name, "width": 16, "height": 12, "file": f"{name}_rgb_16x12.npy", "channels": 3})

# Exact area averaging (coverage weights, = cv2 INTER_AREA): each input pixel repeated n_out times, then blocks of n_in
# averaged -- an independent formulation of "output i averages [i n_in/n_out, (i+1) n_in/n_out)".
def coverage(a, h, w):
    a = a.astype(np.float64)
    a = np.repeat(a, h, axis=0).reshape(h, a.shape[0], *a.shape[1:]).mean(axis=1)
    a = np.repeat(a, w, axis=1).reshape(h, w, -1, *a.shape[2:]).mean(axis=2)
    return a.astype(np.float32)


for (w, h) in SIZES:
    np.save(os.path.join(HERE, f"area_coverage_{w}x{h}.npy"), coverage(img, h, w))
    cases.append({"mode": "area_coverage", "width": w, "height": h, "file": f"area_coverage_{w}x{h}.npy", "channels": 1})
np.save(os.path.join(HERE, "area_coverage_rgb_16x12.npy"), coverage(rgb, 12, 16))
cases.append({"mode": "area_coverage", "width": 16, "height": 12, "file": "area_coverage_rgb_16x12.npy", "channels": 3})

# docs/preprocessing.md's rule per axis: 37 -> 12 shrinks x (coverage), 29 -> 40 grows y (bilinear, torch)
shrunk = coverage(img, H, 12)
mixed = F.interpolate(torch.from_numpy(shrunk)[None, None], size=(40, 12), mode="bilinear", align_corners=False, antialias=False)[0, 0].numpy()
np.save(os.path.join(HERE, "model_rule_12x40.npy"), mixed.astype(np.float32))
cases.append({"mode": "model_rule", "width": 12, "height": 40, "file": "model_rule_12x40.npy", "channels": 1})

# PIL on mode "F" (float32): the antialiased modes are claimed to equal PIL's BILINEAR / BICUBIC.
for name, flt in (("pil_bilinear", Image.BILINEAR), ("pil_bicubic", Image.BICUBIC)):
    for (w, h) in [(16, 12), (53, 41), (9, 7)]:
        out = np.asarray(Image.fromarray(img, mode="F").resize((w, h), flt), dtype=np.float32)
        np.save(os.path.join(HERE, f"{name}_{w}x{h}.npy"), out)
        cases.append({"mode": name, "width": w, "height": h, "file": f"{name}_{w}x{h}.npy", "channels": 1})

with open(os.path.join(HERE, "cases.json"), "w") as f:
    json.dump({"torch": torch.__version__, "pil": Image.__version__, "cases": cases}, f, indent=1)
