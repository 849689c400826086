"""The seam measure of docs/metrics.md ("Seam") in numpy, for the training job's own evaluations (the C# metric,
src/Pipeline.Metrics/Pixel/SeamMeasure.cs, is what runs report; both follow the same written definition)."""
from __future__ import annotations

import math

import numpy as np


def seam(img: np.ndarray, box, band: int = 2, corner: float = 0.25, ring: int = 6, floor: float = 1.0 / 255):
    """Seam of a 2-D display-space patch at the integer box (x0, y0, x1, y1); None when no segment fits."""
    img = np.asarray(img, dtype=np.float64)
    h, w_img = img.shape
    x0, y0, x1, y1 = (int(v) for v in box)
    bw, bh, w = x1 - x0, y1 - y0, band
    lx, ly = max(1, int(math.floor(corner * bw + 0.5))), max(1, int(math.floor(corner * bh + 0.5)))
    steps = []
    if y0 - w >= 0:
        steps += [img[y0:y0 + w, xs].mean() - img[y0 - w:y0, xs].mean() for xs in (slice(x0, x0 + lx), slice(x1 - lx, x1))]
    if y1 + w <= h:
        steps += [img[y1 - w:y1, xs].mean() - img[y1:y1 + w, xs].mean() for xs in (slice(x0, x0 + lx), slice(x1 - lx, x1))]
    if x0 - w >= 0:
        steps += [img[ys, x0:x0 + w].mean() - img[ys, x0 - w:x0].mean() for ys in (slice(y0, y0 + ly), slice(y1 - ly, y1))]
    if x1 + w <= w_img:
        steps += [img[ys, x1 - w:x1].mean() - img[ys, x1:x1 + w].mean() for ys in (slice(y0, y0 + ly), slice(y1 - ly, y1))]
    if not steps:
        return None
    outer = img[max(0, y0 - ring):min(h, y1 + ring), max(0, x0 - ring):min(w_img, x1 + ring)].copy()
    inner = np.zeros(outer.shape, bool)
    inner[y0 - max(0, y0 - ring):y1 - max(0, y0 - ring), x0 - max(0, x0 - ring):x1 - max(0, x0 - ring)] = True
    contrast = float(outer[~inner].std()) if (~inner).any() else 0.0
    return float(np.sqrt(np.mean(np.square(steps)))) / max(contrast, floor)
