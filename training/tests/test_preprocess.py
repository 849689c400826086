"""training/preprocess.py against independent references (PyTorch, PIL, scipy) and the PS3.3 formulas."""
import math
import os
import sys
import unittest

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import preprocess as pp  # noqa: E402


class ValueTests(unittest.TestCase):
    def test_linear_window_matches_ps33_formula(self):
        c, w = 2000.0, 3000.0
        x = np.array([0, 499.4, 499.5, 500.5, 1000, 2000, 3498.5, 3499.5, 3500, 5000], dtype=np.float64)
        lo, hi = c - 0.5 - (w - 1) / 2, c - 0.5 + (w - 1) / 2
        ref = [0.0 if v <= lo else 1.0 if v > hi else (v - (c - 0.5)) / (w - 1) + 0.5 for v in x]
        np.testing.assert_allclose(pp.voi_window(x, c, w), ref, atol=1e-6)

    def test_linear_exact_and_sigmoid(self):
        x = np.array([0.0, 40.0, 50.0, 60.0, 100.0])
        np.testing.assert_allclose(pp.voi_window(x, 50, 20, "LINEAR_EXACT"), [0, 0, 0.5, 1, 1], atol=1e-6)
        np.testing.assert_allclose(pp.voi_window(x, 50, 20, "SIGMOID"),
                                   1 / (1 + np.exp(-4 * (x - 50) / 20)), atol=1e-6)

    def test_bad_windows_raise_named_errors(self):
        with self.assertRaisesRegex(pp.PreprocessError, "width 0"):
            pp.voi_window(np.zeros(3), 10, 0)
        with self.assertRaisesRegex(pp.PreprocessError, "unsupported VOILUTFunction 'FOO'"):
            pp.voi_window(np.zeros(3), 10, 10, "FOO")

    def test_monochrome1_and_model_space(self):
        d = pp.display_from_modality(np.array([[0.0, 4095.0]]), 2048, 4096, monochrome1=True)
        self.assertGreater(d[0, 0], 0.99)
        self.assertLess(d[0, 1], 0.01)
        m = pp.to_model_space(np.array([0.0, 0.5, 1.0]))
        np.testing.assert_allclose(m, [-1, 0, 1])
        np.testing.assert_allclose(pp.to_display_space(np.array([-2.0, 0.0, 3.0])), [0, 0.5, 1])


class ResizeTests(unittest.TestCase):
    def test_bilinear_upscale_matches_torch(self):
        import torch
        import torch.nn.functional as F
        rng = np.random.default_rng(0)
        for (h, w, oh, ow) in [(10, 13, 64, 64), (37, 50, 64, 63), (5, 5, 64, 64)]:
            img = rng.random((h, w)).astype(np.float32)
            ref = F.interpolate(torch.from_numpy(img)[None, None], size=(oh, ow), mode="bilinear",
                                align_corners=False, antialias=False)[0, 0].numpy()
            np.testing.assert_allclose(pp.resize(img, ow, oh), ref, atol=1e-5)

    def test_area_downscale_matches_torch_for_integer_factors_and_exact_area_otherwise(self):
        import torch
        import torch.nn.functional as F
        rng = np.random.default_rng(1)
        img = rng.random((256, 192)).astype(np.float32)
        ref = F.interpolate(torch.from_numpy(img)[None, None], size=(64, 64), mode="area")[0, 0].numpy()
        np.testing.assert_allclose(pp.resize(img, 64, 64), ref, atol=1e-5)
        for shape in [(150, 97), (65, 64), (245, 245)]:
            img = rng.random(shape).astype(np.float32)
            # exact area average: replicate every pixel 64 x 64 times, then average 64 equal blocks per axis
            up = np.repeat(np.repeat(img.astype(np.float64), 64, 0), 64, 1)
            exact = up.reshape(64, shape[0], 64, shape[1]).mean(axis=(1, 3))
            np.testing.assert_allclose(pp.resize(img, 64, 64), exact, atol=1e-5)

    def test_mixed_sizes_decide_per_axis(self):
        import torch
        import torch.nn.functional as F
        img = np.random.default_rng(5).random((100, 40)).astype(np.float64)   # y: 100 -> 64 area, x: 40 -> 64 up
        x_up = F.interpolate(torch.from_numpy(img)[None, None], size=(100, 64), mode="bilinear",
                             align_corners=False, antialias=False)[0, 0].numpy()
        exact = np.repeat(x_up, 64, 0).reshape(64, 100, 64).mean(axis=1)
        np.testing.assert_allclose(pp.resize(img, 64, 64), exact, atol=1e-5)

    def test_same_size_is_identity(self):
        img = np.random.default_rng(2).random((64, 64)).astype(np.float32)
        np.testing.assert_allclose(pp.resize(img, 64, 64), img, atol=1e-6)


class GeometryTests(unittest.TestCase):
    def test_zoom_in_crop_worked_example(self):
        # box 20x10 at (100, 200); r = 3.2 -> side = ceil(64) = 64, cx = 110, cy = 205, left = 78, top = 173
        img = np.zeros((400, 300), np.float32)
        z = pp.zoom_in_crop(img, (100, 200, 120, 210), 3.2, 64)
        self.assertEqual((z.left, z.top, z.side), (78, 173, 64))
        self.assertEqual(z.box_model, (22, 27, 42, 37))
        self.assertEqual(z.mask.sum(), 20 * 10)

    def test_zoom_in_crop_pads_outside_with_zero_and_scales_box(self):
        img = np.ones((100, 100), np.float32)
        z = pp.zoom_in_crop(img, (0.5, 0.5, 20.5, 30.5), 4.0, 64)   # side 120, left = -50, top = -45
        self.assertEqual((z.left, z.top, z.side), (-50, -45, 120))
        self.assertAlmostEqual(float(z.crop[0, 0]), 0.0)
        self.assertAlmostEqual(float(z.crop[40, 40]), 1.0, places=5)
        s = 64 / 120
        self.assertEqual(z.box_model, (math.floor(50.5 * s), math.floor(45.5 * s), math.ceil(70.5 * s),
                                       math.ceil(75.5 * s)))

    def test_reference_crop_pads_to_centred_square(self):
        img = np.arange(200 * 200, dtype=np.float32).reshape(200, 200) / 40000
        r = pp.reference_crop(img, (50, 60, 90, 80), 64, 1.2)   # w' = 48, h' = 24 around (70, 70)
        self.assertEqual(r.rect, (46, 58, 94, 82))
        self.assertEqual((r.side, r.pad_left, r.pad_top), (48, 0, 12))
        self.assertEqual(r.support[:16].sum(), 0)     # top padding rows: (i + 0.5) * 48 / 64 < 12 for i < 16
        self.assertEqual(r.support[16:48].min(), 1)
        self.assertEqual(r.support[48:].sum(), 0)

    def test_bad_boxes_raise_named_errors(self):
        img = np.zeros((50, 50), np.float32)
        with self.assertRaisesRegex(pp.PreprocessError, "empty"):
            pp.zoom_in_crop(img, (10, 10, 10, 20), 3.0, 64)
        with self.assertRaisesRegex(pp.PreprocessError, "outside"):
            pp.zoom_in_crop(img, (60, 60, 70, 70), 3.0, 64)
        with self.assertRaisesRegex(pp.PreprocessError, "finite"):
            pp.reference_crop(img, (float("nan"), 1, 5, 5), 64)


class DetailMapTests(unittest.TestCase):
    def test_sobel_and_erosion_match_scipy(self):
        from scipy import ndimage
        rng = np.random.default_rng(3)
        img = rng.random((64, 64)).astype(np.float32)
        support = np.zeros((64, 64), np.float32)
        support[8:60, 0:64] = 1
        gx = ndimage.sobel(img.astype(np.float64), axis=1, mode="nearest")
        gy = ndimage.sobel(img.astype(np.float64), axis=0, mode="nearest")
        er = ndimage.binary_erosion(support > 0, np.ones((3, 3)), border_value=0)
        ref = np.clip(0.5 * (np.abs(gx) + np.abs(gy)), 0, 1) * img * er
        np.testing.assert_allclose(pp.sobel_hf(img, support), ref, atol=1e-6)
        np.testing.assert_array_equal(pp.erode3(support), er.astype(np.float32))

    def test_collage_inside_box_only(self):
        hf = np.full((64, 64), 0.25, np.float32)
        c = pp.hf_collage(hf, (10, 20, 30, 25), 64)
        self.assertTrue(np.all(c[20:25, 10:30] == -0.5))
        c[20:25, 10:30] = 0
        self.assertEqual(np.abs(c).sum(), 0)

    def test_build_pair_consistency(self):
        rng = np.random.default_rng(4)
        img = rng.random((300, 200)).astype(np.float32)
        p = pp.build_pair(img, (80, 100, 110, 125), 3.5, 64, 64)
        np.testing.assert_array_equal(p.context, p.target * (1 - p.mask))
        self.assertEqual(p.target.shape, (64, 64))
        self.assertTrue(np.all(p.hf[p.mask == 0] == 0))
        self.assertLessEqual(p.target.max(), 1.0)
        self.assertGreaterEqual(p.target.min(), -1.0)


if __name__ == "__main__":
    unittest.main()
