#!/usr/bin/python3
"""JPEG files written by PIL and PIL's decode of them, for Pipeline.Imaging.Codecs.JpegCodec.

Run with Debian's python3 (python3-pil 9.4, linked to libjpeg62-turbo):  /usr/bin/python3 make_vectors.py
pil_<name>.jpg is PIL's encode, pil_<name>.npy PIL's decode (islow IDCT, fancy upsampling: libjpeg defaults).
"""
import os

import numpy as np
from PIL import Image, features

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(11)
yy, xx = np.mgrid[0:45, 0:61]
base = (np.sin(xx / 6.0) * np.cos(yy / 9.0) * 80 + 128)
gray = np.clip(base + rng.normal(0, 12, base.shape), 0, 255).astype(np.uint8)
rgb = np.clip(np.stack([base, 255 - base, base * 0.5 + 60], axis=2) + rng.normal(0, 12, base.shape + (3,)), 0, 255).astype(np.uint8)

cases = {
    "gray_q90": (Image.fromarray(gray, "L"), dict(quality=90)),
    "gray_q50_progressive": (Image.fromarray(gray, "L"), dict(quality=50, progressive=True)),
    "rgb_420_q85": (Image.fromarray(rgb, "RGB"), dict(quality=85, subsampling=2)),
    "rgb_444_q95": (Image.fromarray(rgb, "RGB"), dict(quality=95, subsampling=0)),
    "rgb_422_q75": (Image.fromarray(rgb, "RGB"), dict(quality=75, subsampling=1)),
    "rgb_420_progressive": (Image.fromarray(rgb, "RGB"), dict(quality=80, progressive=True)),
    "rgb_420_odd_size": (Image.fromarray(rgb[:17, :23], "RGB"), dict(quality=85)),
}
for name, (im, kw) in cases.items():
    path = os.path.join(HERE, f"pil_{name}.jpg")
    im.save(path, **kw)
    np.save(os.path.join(HERE, f"pil_{name}.npy"), np.asarray(Image.open(path)))
np.save(os.path.join(HERE, "source_gray.npy"), gray)
np.save(os.path.join(HERE, "source_rgb.npy"), rgb)
print("libjpeg_turbo", features.version("libjpeg_turbo"))
