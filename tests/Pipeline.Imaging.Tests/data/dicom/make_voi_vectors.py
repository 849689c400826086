#!/usr/bin/python3
"""Frozen VOI vectors for tests/Pipeline.Imaging.Tests/Dicom/VoiTests.cs.

Computes the grayscale pipeline of DICOM PS3.3 independently of the C# code, in float64 numpy, straight from the
standard's text: Modality LUT (C.11.1: rescale), VOI (C.11.2.1.2.1 LINEAR, C.11.2.1.3.2 LINEAR_EXACT,
C.11.2.1.3.1 SIGMOID, C.11.2.1.1 VOI LUT with clamping to the first/last entry), MONOCHROME1 inverted after VOI.
Output range [0, 1]. Regenerate: /usr/bin/python3 make_voi_vectors.py > voi_vectors.json
"""
import json
import numpy as np

rng = np.random.default_rng(20261122)

def linear(x, c, w):
    y = (x - (c - 0.5)) / (w - 1) + 0.5
    y = np.where(x <= c - 0.5 - (w - 1) / 2, 0.0, y)
    return np.where(x > c - 0.5 + (w - 1) / 2, 1.0, y)

def linear_exact(x, c, w):
    y = (x - c) / w + 0.5
    y = np.where(x <= c - w / 2, 0.0, y)
    return np.where(x > c + w / 2, 1.0, y)

def sigmoid(x, c, w):
    return 1.0 / (1.0 + np.exp(-4.0 * (x - c) / w))

cases = []
stored = np.concatenate([np.arange(0, 4096, 37), [0, 1, 2047, 2048, 4095], rng.integers(0, 4096, 64)]).astype(np.int64)
for name, fn in [("LINEAR", linear), ("LINEAR_EXACT", linear_exact), ("SIGMOID", sigmoid)]:
    for (slope, intercept) in [(1.0, 0.0), (0.5, -100.0), (2.0, 10.0)]:
        for mono1 in [False, True]:
            centers = [2048.0, 1000.5, 300.0]
            widths = [4096.0, 801.0, 2.0]
            for idx in range(len(centers)):
                x = stored * slope + intercept
                y = fn(x, centers[idx], widths[idx])
                if mono1:
                    y = 1.0 - y
                cases.append(dict(kind="window", function=name, slope=slope, intercept=intercept, monochrome1=mono1,
                                  centers=centers, widths=widths, index=idx, stored=stored.tolist(), expected=y.tolist()))

# VOI LUT Sequence: 12-bit LUT, first mapped value 100, 3000 entries (a gamma-like curve); input = modality values.
entries, first, bits = 3000, 100, 12
lut = np.round((np.linspace(0, 1, entries) ** 0.6) * (2 ** bits - 1)).astype(np.int64)
for mono1 in [False, True]:
    x = stored * 1.0
    idx = np.clip(np.floor(x).astype(np.int64) - first, 0, entries - 1)
    y = lut[idx] / (2 ** bits - 1)
    if mono1:
        y = 1.0 - y
    cases.append(dict(kind="lut", function="LUT", slope=1.0, intercept=0.0, monochrome1=mono1, lutFirst=first, lutBits=bits,
                      lut=lut.tolist(), stored=stored.tolist(), expected=y.tolist()))

print(json.dumps({"generator": "make_voi_vectors.py", "cases": cases}))
