"""The MObI-style driving denoiser (driving_model.py): shapes, zero-initialised gates, the two modalities interacting
through cross-modal attention, the conditioning reaching the output, and the exported contract."""
import os
import sys
import tempfile
import unittest

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from driving_model import DrivingDenoiser, fourier_embedding, masked_context  # noqa: E402
from driving_train import read_tensor_bundle  # noqa: E402


def inputs(n=2, d=32, s=32, seed=0):
    g = torch.Generator().manual_seed(seed)
    x0 = torch.rand(n, 5, d, d, generator=g) * 2 - 1
    mask = torch.zeros(n, 2, d, d)
    mask[:, :, 8:24, 10:22] = 1
    return (torch.randn(n, 5, d, d, generator=g), torch.tensor([500] * n), masked_context(x0, mask), mask,
            torch.rand(n, 3, s, s, generator=g) * 2 - 1, torch.rand(n, 2, 8, 3, generator=g))


class DrivingModelTests(unittest.TestCase):
    def setUp(self):
        torch.manual_seed(0)
        torch.set_num_threads(1)

    def test_fourier_embedding_has_the_value_and_sin_cos_per_octave(self):
        e = fourier_embedding(torch.tensor([[0.25, 0.5, 1.0]]), 3)
        self.assertEqual(tuple(e.shape), (1, 3 + 6 * 3))
        self.assertAlmostEqual(float(e[0, 3]), 0.0 + __import__("math").sin(0.25 * __import__("math").pi), places=6)

    def test_at_init_the_gates_are_closed_and_the_output_is_the_context(self):
        m = DrivingDenoiser().eval()
        x_t, t, ctx, mask, ref, box = inputs()
        with torch.no_grad():
            x0 = m.predict_x0(x_t, t, ctx, mask, ref, box)
        self.assertTrue(torch.equal(x0, ctx))
        gates = [p for n, p in m.named_parameters() if n.endswith("gate")]
        self.assertGreaterEqual(len(gates), 6)
        self.assertTrue(all(float(g.abs().sum()) == 0 for g in gates))

    def test_with_open_gates_box_reference_and_the_other_modality_reach_the_output(self):
        m = DrivingDenoiser().eval()
        with torch.no_grad():
            for n, p in m.named_parameters():
                if n.endswith("gate"):
                    p.fill_(0.5)
                if n.startswith("out_"):
                    p.normal_(0, 0.05)
        x_t, t, ctx, mask, ref, box = inputs()
        with torch.no_grad():
            base = m.predict_x0(x_t, t, ctx, mask, ref, box)
            other_box = m.predict_x0(x_t, t, ctx, mask, ref, box.flip(1))
            other_ref = m.predict_x0(x_t, t, ctx, mask, torch.zeros_like(ref), box)
            x_t2 = x_t.clone()
            x_t2[:, 3:] = torch.randn_like(x_t2[:, 3:])
            other_range = m.predict_x0(x_t2, t, ctx, mask, ref, box)
        self.assertGreater(float((base - other_box).abs().max()), 1e-5)
        self.assertGreater(float((base - other_ref).abs().max()), 1e-5)
        # the camera channels change when only the range input changes: camera <-> lidar cross-attention
        self.assertGreater(float((base[:, :3] - other_range[:, :3]).abs().max()), 1e-5)

    def test_learning_rate_warms_up_then_decays_by_cosine_between_the_given_steps(self):
        import argparse
        import math
        from driving_train import learning_rate
        a = argparse.Namespace(lr=1e-3, decay_from=None, decay_to=None, min_lr=1e-5)
        self.assertAlmostEqual(learning_rate(0, a), 1e-3 / 200)
        self.assertAlmostEqual(learning_rate(5000, a), 1e-3)
        a.decay_from, a.decay_to = 1000, 3000
        self.assertAlmostEqual(learning_rate(1000, a), 1e-3)
        self.assertAlmostEqual(learning_rate(2000, a), 1e-5 + (1e-3 - 1e-5) * 0.5 * (1 + math.cos(math.pi / 2)))
        self.assertAlmostEqual(learning_rate(3000, a), 1e-5)
        self.assertAlmostEqual(learning_rate(9000, a), 1e-5)

    def test_masked_context_zeroes_each_modality_with_its_own_mask(self):
        x0 = torch.ones(1, 5, 4, 4)
        mask = torch.zeros(1, 2, 4, 4)
        mask[0, 0, 0, 0] = 1
        mask[0, 1, 3, 3] = 1
        c = masked_context(x0, mask)
        self.assertEqual(float(c[0, :3, 0, 0].sum()), 0.0)
        self.assertEqual(float(c[0, 3:, 0, 0].sum()), 2.0)
        self.assertEqual(float(c[0, 3:, 3, 3].sum()), 0.0)
        self.assertEqual(float(c[0, :3, 3, 3].sum()), 3.0)

    def test_tensor_bundle_reader_reads_the_csharp_layout(self):
        import struct
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "x.tensors")
            with open(path, "wb") as f:
                f.write(b"PTB1" + struct.pack("<i", 1) + struct.pack("<i", 1) + b"a" + struct.pack("<i", 2) + struct.pack("<2f", 1.5, -2.0))
            b = read_tensor_bundle(path)
            self.assertEqual(b["a"].tolist(), [1.5, -2.0])


if __name__ == "__main__":
    unittest.main()
