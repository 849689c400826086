#!/usr/bin/python3
"""Golden vectors for the ONNX feature-network metrics, from PyTorch on the same seeded tiny networks.

Run from this folder:  /usr/bin/python3 make_feature_golden.py
Needs training/feature_models/tiny_feature_networks.py (same seeds as the exported ONNX files). Writes images as
raw float32 HWC in [0, 1] (*.f32) and feature_golden.json.

Reference definitions:
  input prep : grayscale tiled to 3 channels; F.interpolate(bilinear, align_corners=False) to 32x32 (pytorch-fid's
               resize inside its network); [0,1] mapped to the descriptor's range; (x - mean) / std per channel.
  LPIPS      : richzhang/PerceptualSimilarity v0.1 formula: unit-normalise each layer's channels
               (x / (sqrt(sum_c x^2) + 1e-10)), squared difference, weighted by the non-negative head per channel,
               spatial mean, summed over layers. Inputs in [-1, 1] then ScalingLayer (x - shift) / scale.
  embedding  : 100 * cosine(e1, e2).
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', '..', '..', '..', 'training', 'feature_models'))
from tiny_feature_networks import INPUT, LPIPS_SCALE, LPIPS_SHIFT, EMBED_MEAN, EMBED_STD, build  # noqa: E402

rng = np.random.default_rng(99)


def image(h, w, c):
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.stack([0.5 + 0.3 * np.sin(xx * rng.uniform(0.1, 0.5) + yy * rng.uniform(0.1, 0.4) + k) for k in range(c)], -1)
    img += 0.15 * rng.random((h, w, c))
    return np.clip(img, 0, 1).astype(np.float32)


def prep(img, lo, hi, mean, std):
    x = torch.from_numpy(img.astype(np.float32)).permute(2, 0, 1)[None]
    if x.shape[1] == 1:
        x = x.repeat(1, 3, 1, 1)
    x = F.interpolate(x, size=(INPUT, INPUT), mode='bilinear', align_corners=False)
    x = x * (hi - lo) + lo
    return (x - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)


images = {
    'rgb0': image(36, 40, 3), 'rgb1': image(36, 40, 3), 'rgb2': image(50, 44, 3), 'rgb3': image(50, 44, 3),
    'gray0': image(28, 30, 1), 'gray1': image(28, 30, 1), 'depth0': image(24, 64, 1), 'depth1': image(24, 64, 1),
}
out = {'images': {}}
for name, img in images.items():
    img.tofile(f'{name}.f32')
    out['images'][name] = {'height': img.shape[0], 'width': img.shape[1], 'channels': img.shape[2]}

with torch.no_grad():
    feat, _ = build('tiny-feat')
    out['features'] = {n: feat(prep(img, 0, 1, [0, 0, 0], [1, 1, 1]))[0].double().tolist() for n, img in images.items()}

    lp, heads = build('tiny-lpips')

    def lpips(a, b):
        fa = lp(prep(a, -1, 1, LPIPS_SHIFT, LPIPS_SCALE))
        fb = lp(prep(b, -1, 1, LPIPS_SHIFT, LPIPS_SCALE))
        total = 0.0
        for x, y, w in zip(fa, fb, heads):
            x, y = x.double(), y.double()
            nx = x / (torch.sqrt((x * x).sum(1, keepdim=True)) + 1e-10)
            ny = y / (torch.sqrt((y * y).sum(1, keepdim=True)) + 1e-10)
            d = ((nx - ny) ** 2 * w.view(1, -1, 1, 1)).sum(1)
            total += float(d.mean())
        return total

    pairs = [('rgb0', 'rgb1'), ('rgb2', 'rgb3'), ('gray0', 'gray1'), ('depth0', 'depth1'), ('rgb0', 'rgb0')]
    out['lpips'] = [{'a': a, 'b': b, 'value': lpips(images[a], images[b])} for a, b in pairs]

    emb, _ = build('tiny-embed')

    def cos100(a, b):
        ea = emb(prep(a, 0, 1, EMBED_MEAN, EMBED_STD))[0].double()
        eb = emb(prep(b, 0, 1, EMBED_MEAN, EMBED_STD))[0].double()
        return float(100 * torch.dot(ea, eb) / (ea.norm() * eb.norm()))

    out['embeddings'] = {n: emb(prep(img, 0, 1, EMBED_MEAN, EMBED_STD))[0].double().tolist() for n, img in images.items()}
    out['embedding'] = [{'a': a, 'b': b, 'value': cos100(images[a], images[b])} for a, b in pairs]

with open('feature_golden.json', 'w') as f:
    json.dump(out, f, indent=1)
print('wrote feature_golden.json')
