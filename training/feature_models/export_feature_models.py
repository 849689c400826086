"""Exports the tiny stand-in feature networks to ONNX with their descriptors (docs/metrics.md, "Feature models").

Run from the repository root:  /usr/bin/python3 training/feature_models/export_feature_models.py
Writes training/feature_models/{tiny-feat,tiny-lpips,tiny-embed}/ with feature-model.json and model.onnx (a few kB
each; committed). The weights are seeded, so a re-run reproduces them; ONNX bytes may differ across PyTorch versions.
"""
import hashlib
import json
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from tiny_feature_networks import INPUT, LPIPS_SCALE, LPIPS_SHIFT, EMBED_MEAN, EMBED_STD, build  # noqa: E402


def sha256(path):
    with open(path, 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()


def export(name, outputs):
    net, heads = build(name)
    folder = os.path.join(HERE, name)
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, 'model.onnx')
    x = torch.zeros(1, 3, INPUT, INPUT)
    with torch.no_grad():
        torch.onnx.export(net, (x,), path, input_names=['image'], output_names=outputs,
                          dynamic_axes={n: {0: 'batch'} for n in ['image'] + outputs}, opset_version=17)
    return folder, path, heads


def write(folder, doc):
    with open(os.path.join(folder, 'feature-model.json'), 'w') as f:
        json.dump(doc, f, indent=2)
        f.write('\n')


def main():
    folder, path, _ = export('tiny-feat', ['features'])
    write(folder, {
        'name': 'tiny-feat', 'kind': 'features', 'file': 'model.onnx', 'sha256': sha256(path),
        'description': 'random-weight stand-in for Inception pool3 features (tests and demo only; never FID)',
        'input': {'name': 'image', 'width': INPUT, 'height': INPUT, 'resize': 'bilinear', 'range': [0, 1],
                  'mean': [0, 0, 0], 'std': [1, 1, 1]},
        'output': {'name': 'features', 'dim': 16},
    })
    folder, path, heads = export('tiny-lpips', ['relu1', 'relu2', 'relu3'])
    write(folder, {
        'name': 'tiny-lpips', 'kind': 'lpips', 'file': 'model.onnx', 'sha256': sha256(path),
        'description': 'random-weight stand-in LPIPS backbone with random non-negative heads (tests and demo only)',
        'input': {'name': 'image', 'width': INPUT, 'height': INPUT, 'resize': 'bilinear', 'range': [-1, 1],
                  'mean': LPIPS_SHIFT, 'std': LPIPS_SCALE},
        'layers': [{'name': n, 'weights': [float(v) for v in h]} for n, h in zip(['relu1', 'relu2', 'relu3'], heads)],
    })
    folder, path, _ = export('tiny-embed', ['embedding'])
    write(folder, {
        'name': 'tiny-embed', 'kind': 'embedding', 'file': 'model.onnx', 'sha256': sha256(path),
        'description': 'random-weight stand-in for CLIP / DINOv2 image embeddings (tests and demo only)',
        'input': {'name': 'image', 'width': INPUT, 'height': INPUT, 'resize': 'bilinear', 'range': [0, 1],
                  'mean': EMBED_MEAN, 'std': EMBED_STD},
        'output': {'name': 'embedding', 'dim': 12},
    })
    print('exported tiny-feat, tiny-lpips, tiny-embed')


if __name__ == '__main__':
    main()
