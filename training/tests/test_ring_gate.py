"""The ring-agreement gate of the harmonised placement (model.ring_agreement, model.agreement_gate).

ring_agreement is checked against an independent scipy implementation of its definition (docs/training.md "Reinsertion:
the reference's own surroundings"): the correlation, over the 2-px band outside the box where the reference has
content, of each image minus its normalised convolution (Gaussian sigma 6, radius 3 sigma, zero padding) over that
band."""
import os
import sys
import unittest

import numpy as np
import torch
from scipy import ndimage

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))

from model import Denoiser, agreement_gate, ring_agreement, warp_reference_full  # noqa: E402


def reference_agreement(placed, context, mask, support, ring=2, sigma=6.0, eps=1e-3):
    """scipy version of the definition (float64), written from the docs, not from model.py."""
    grown = ndimage.maximum_filter(mask, size=2 * ring + 1, mode="constant", cval=0.0)
    w = (grown - mask) * (support > 0.99)
    blur = lambda v: ndimage.gaussian_filter(v, sigma, mode="constant", cval=0.0, truncate=3.0)
    den = blur(w) + 1e-6
    a = (context - blur(context * w) / den) * w
    b = (placed - blur(placed * w) / den) * w
    return float((a * b).sum() / (np.sqrt((a * a).sum() * (b * b).sum()) + eps * eps * w.sum() + 1e-12))


def texture(seed, size=96):
    """Fibrous tissue-like texture: smoothed noise, display range about [-0.6, 0.2]."""
    rng = np.random.default_rng(seed)
    return (-0.2 + 0.4 * ndimage.gaussian_filter(rng.standard_normal((size, size)), 1.5)).astype(np.float32)


class RingAgreementTests(unittest.TestCase):
    def setUp(self):
        self.coords = torch.arange(64, dtype=torch.float32) + 0.5
        self.mask = torch.zeros(1, 1, 64, 64)
        self.mask[..., 24:40, 24:40] = 1          # a 16 px box; the reference covers 1.2 x 16 = 19.2 px around it

    def reference_of(self, image):
        """The reference crop of `image` around the box as the preparation cuts it: 19.2 px square around the box
        centre, resampled to 64 px (bilinear)."""
        t = torch.from_numpy(image)[None, None]
        half = 1.2 * 15 / 2              # as _reference_grid: expand * (side - 1) / 2
        u = (torch.linspace(-1, 1, 64) * (64 - 1) / 64) * half + 32.0
        g = (u - 0.0) / 64 * 2 - 1        # model pixel centre -> grid_sample coordinate over the 64 px image
        grid = torch.stack([g[None, :].expand(64, 64), g[:, None].expand(64, 64)], dim=-1)[None]
        return torch.nn.functional.grid_sample(t[..., :64, :64], grid, mode="bilinear", align_corners=False)

    def agreement(self, image, ref):
        context = torch.from_numpy(image[:64, :64].copy())[None, None] * (1 - self.mask)
        full, support = warp_reference_full(ref, self.mask, 1.2, self.coords)
        rho = float(ring_agreement(full, context, self.mask, support))
        expected = reference_agreement(full[0, 0].double().numpy(), context[0, 0].double().numpy(),
                                       self.mask[0, 0].double().numpy(), support[0, 0].double().numpy())
        self.assertAlmostEqual(rho, expected, places=4)
        return rho

    def test_a_reference_of_the_same_place_agrees_and_another_tissue_does_not(self):
        image = texture(1)
        same = self.agreement(image, self.reference_of(image))
        self.assertGreater(same, 0.85)
        for seed in (2, 3, 4, 5):
            other = self.agreement(image, self.reference_of(texture(seed)))
            self.assertLess(abs(other), 0.5, f"seed {seed}")
            self.assertEqual(float(agreement_gate(torch.tensor(other))), 0.0)
        self.assertEqual(float(agreement_gate(torch.tensor(same))), 1.0)

    def test_brightness_and_contrast_of_the_reference_do_not_matter(self):
        image = texture(7)
        ref = self.reference_of(image)
        a = self.agreement(image, ref)
        b = self.agreement(image, 0.7 * ref + 0.1)
        self.assertAlmostEqual(a, b, places=3)

    def test_without_band_pixels_the_agreement_is_zero(self):
        image = texture(8)
        zeros = torch.full((1, 1, 64, 64), -1.0)    # all padding: the reference has no content anywhere
        self.assertEqual(self.agreement(image, zeros), 0.0)

    def test_the_gate_is_linear_between_its_thresholds(self):
        rho = torch.tensor([-1.0, 0.0, 0.6, 0.725, 0.85, 1.0])
        np.testing.assert_allclose(agreement_gate(rho).numpy(), [0, 0, 0, 0.5, 1, 1], atol=1e-6)

    def test_the_gated_model_places_a_reinsertion_reference_as_it_is(self):
        """With the gate open the placement is the reference itself (before the residual): the untrained gated model's
        x0 inside the box equals the warped reference; ungated it is the harmonised (tapered) placement."""
        torch.manual_seed(0)
        image = texture(9)
        ref = self.reference_of(image)
        context = torch.from_numpy(image[:64, :64].copy())[None, None] * (1 - self.mask)
        args = (torch.zeros(1, 1, 64, 64), torch.tensor([500]), context, self.mask, ref, torch.zeros(1, 1, 64, 64))
        gated = Denoiser(channels=[8, 16, 16], placement="harmonised", ring_gate=True).eval()
        plain = Denoiser(channels=[8, 16, 16], placement="harmonised").eval()
        plain.load_state_dict({k: v for k, v in gated.state_dict().items() if not k.startswith("gate_emb.")})
        full, _ = warp_reference_full(ref, self.mask, 1.2, self.coords)
        with torch.no_grad():
            x_gated = gated.predict_x0(*args)
            x_plain = plain.predict_x0(*args)
        box = self.mask[0, 0] > 0
        np.testing.assert_allclose(x_gated[0, 0][box].numpy(), full[0, 0][box].numpy(), atol=1e-6)
        self.assertGreater(float((x_plain - x_gated).abs().max()), 0.05)

    def test_the_gate_needs_the_harmonised_placement(self):
        with self.assertRaises(ValueError):
            Denoiser(channels=[8, 16, 16], ring_gate=True)
        self.assertTrue(Denoiser.from_config(Denoiser(channels=[8, 16, 16], placement="harmonised",
                                                      ring_gate=True).config).ring_gate)
        self.assertNotIn("ring_gate", Denoiser(channels=[8, 16, 16], placement="harmonised").config)


if __name__ == "__main__":
    unittest.main()
