"""Writes one ONNX export parity case for the C# side: a tiny perturbed model exported as a package, a batch of
inputs and PyTorch's output on them, so tests/Pipeline.Inference.Tests/Training/ExportParityTests.cs can run the
exported graph through ONNX Runtime (the official package the pipeline uses) and compare.

Usage: python3 training/tests/export_parity_case.py OUT_DIR
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


def main(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    model = tiny_model(1)
    write(out_dir, model)
    g = torch.Generator().manual_seed(5)
    n = 3   # not the export batch (2): checks the dynamic batch axis
    x = torch.randn(n, 1, 32, 32, generator=g)
    t = torch.tensor([0, 500, 999])
    ctx = torch.randn(n, 1, 32, 32, generator=g)
    mask = (torch.rand(n, 1, 32, 32, generator=g) > 0.5).float()
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
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
