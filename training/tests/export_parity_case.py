"""Writes one ONNX export parity case for the C# side: a tiny perturbed model exported as a package, a batch of
inputs and PyTorch's output on them, so tests/Pipeline.Inference.Tests/Training/ExportParityTests.cs can run the
exported graph through ONNX Runtime (the official package the pipeline uses) and compare.

Usage: python3 training/tests/export_parity_case.py OUT_DIR [PLACEMENT]   (PLACEMENT: the model's default, or "harmonised")
Writes OUT_DIR/model.json + denoiser.onnx (the package), OUT_DIR/inputs.json ({name: {type, dims, data}}) and
OUT_DIR/expected.json ({dims, data}: PyTorch's output).
"""
import json
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, ".."))

from package import INPUT_NAMES  # noqa: E402
from test_export import tiny_model, write  # noqa: E402


def main(out_dir, placement=None):
    os.makedirs(out_dir, exist_ok=True)
    model = tiny_model(1) if placement is None else tiny_model(2, placement=placement)
    write(out_dir, model)
    g = torch.Generator().manual_seed(5)
    n = 3   # not the export batch (2): checks the dynamic batch axis
    x = torch.randn(n, 1, 32, 32, generator=g)
    t = torch.tensor([0, 500, 999])
    ctx = torch.randn(n, 1, 32, 32, generator=g)
    mask = torch.zeros(n, 1, 32, 32)   # box masks, as the pipeline gives (the harmonised placement needs a box)
    for k, (y0, x0, hh, ww) in enumerate([(8, 9, 10, 12), (4, 14, 14, 9), (12, 6, 8, 8)]):
        mask[k, :, y0:y0 + hh, x0:x0 + ww] = 1
    ref = torch.randn(n, 1, 32, 32, generator=g)
    hf = torch.randn(n, 1, 32, 32, generator=g)
    with torch.no_grad():
        expected = model(x, t, ctx, mask, ref, hf)
    inputs = {name: {"type": "int64" if v.dtype == torch.long else "float32", "dims": list(v.shape),
                     "data": v.flatten().tolist()}
              for name, v in zip(INPUT_NAMES, (x, t, ctx, mask, ref, hf))}
    with open(os.path.join(out_dir, "inputs.json"), "w", encoding="utf-8") as f:
        json.dump(inputs, f)
    with open(os.path.join(out_dir, "expected.json"), "w", encoding="utf-8") as f:
        json.dump({"dims": list(expected.shape), "data": expected.flatten().tolist()}, f)


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2] if len(sys.argv) == 3 else None)
