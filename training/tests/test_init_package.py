"""package.load_onnx_weights: a released package's denoiser.onnx back into PyTorch (train.py --init-package)."""
import os
import sys
import tempfile
import unittest

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from model import Denoiser  # noqa: E402
from package import export_onnx, load_onnx_weights  # noqa: E402


def tiny(channels=(8, 16, 16), placement="harmonised"):
    return Denoiser(32, 32, channels=list(channels), emb_dim=32, ref_dim=16, attn_levels=[1, 2], placement=placement)


class LoadOnnxWeightsTests(unittest.TestCase):
    def test_weights_come_back_bit_for_bit(self):
        for placement in ("collage", "harmonised"):
            torch.manual_seed(1)
            src = tiny(placement=placement)
            with torch.no_grad():      # zero-initialised layers get values too, so a mix-up cannot pass unnoticed
                for p in src.parameters():
                    p.add_(torch.randn_like(p) * 0.01)
            with tempfile.TemporaryDirectory() as tmp:
                path = os.path.join(tmp, "denoiser.onnx")
                export_onnx(src, path, 32, 32)
                torch.manual_seed(2)
                dst = tiny(placement=placement)
                load_onnx_weights(dst, path)
                for k, v in src.state_dict().items():
                    self.assertTrue(torch.equal(v, dst.state_dict()[k]), f"{placement}: {k}")

    def test_another_architecture_is_a_clear_error(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "denoiser.onnx")
            export_onnx(tiny(), path, 32, 32)
            with self.assertRaises(ValueError) as e:
                load_onnx_weights(tiny(channels=(8, 16, 24)), path)
            self.assertIn("denoiser.onnx", str(e.exception))


if __name__ == "__main__":
    unittest.main()
