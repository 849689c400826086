"""Lesion-transfer pairs in the training job and the harmonised placement (model.py): the C# export (TRAINING_TEST_DATA,
exported with --transfer-pairs) holds lesion-transfer examples whose reference comes from the other image, the training
job mixes them with reinsertion examples; the harmonised placement puts the reference's lesion on the target's tissue
without a step, and exports to ONNX like the collage model. The export's own preparation of the pairs (each equals what a
run's Preprocess makes of it, the reference cut from the other image) is checked in C# (tests/Pipeline.Mammography.Tests,
TrainingExportTests)."""
import os
import shutil
import sys
import tempfile
import unittest

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, ".."))

from data import LESION_TRANSFER, REINSERTION, indices  # noqa: E402
from exported_data import ExportedDataCase  # noqa: E402
from model import Denoiser, harmonize_reference, warp_reference, warp_reference_full  # noqa: E402
from seam import seam  # noqa: E402


class ExportedTransferPairTests(ExportedDataCase):

    def test_the_export_holds_transfer_pairs_from_two_images(self):
        train = self.data.splits["train"]
        self.assertGreater(train.pair_kinds.get(LESION_TRANSFER, 0), 0, train.pair_kinds)
        self.assertIsNotNone(self.data.manifest["source"].get("transferPairs"))
        for i in indices(train, {LESION_TRANSFER}):
            item = train.items[int(i)]
            self.assertEqual(item["source"], "transfer-pairs")
            self.assertNotEqual(item["image"], item["referenceImage"])

    def test_copy_paste_of_a_transfer_pair_is_not_the_truth(self):
        """Reinsertion pastes the lesion onto itself (copypaste = original); a transfer pair's copy&paste brings the other
        image's tissue into the box, so it differs from the truth there."""
        train = self.data.splits["train"]
        for kind, same in ((REINSERTION, True), (LESION_TRANSFER, False)):
            for i in indices(train, {kind}):
                o, cp, m = (np.asarray(train.tensors[k][int(i)]) for k in ("original", "copypaste", "mask"))
                err = float(np.abs(cp - o)[m > 0.5].max())
                if same:
                    self.assertLess(err, 1e-4, f"reinsertion {i}")
                else:
                    self.assertGreater(err, 0.02, f"lesion-transfer {i}")

    def test_training_mixes_the_kinds(self):
        import train as train_job
        out = tempfile.mkdtemp(prefix="transfer-train-")
        try:
            rc = train_job.main(["--data", self.folder, "--out", out, "--max-steps", "4", "--batch-size", "4",
                                 "--channels", "8,16,16", "--threads", "1", "--val-every", "4", "--ckpt-every", "4", "--proxy-items", "1",
                                 "--proxy-steps", "2", "--guidance", "1", "--placement", "harmonised",
                                 "--transfer-fraction", "0.5", "--max-minutes", "5"])
            self.assertEqual(rc, 0)
            import json
            with open(os.path.join(out, "package", "model.json"), encoding="utf-8") as f:
                doc = json.load(f)
            data = doc["training"]["data"]
            self.assertEqual(data["transferItems"], self.data.splits["train"].pair_kinds[LESION_TRANSFER])
            self.assertEqual(data["trainItems"], self.data.splits["train"].pair_kinds[REINSERTION])
            self.assertEqual(doc["training"]["placement"], "harmonised")
            self.assertIn("--transfer-fraction 0.5", doc["training"]["command"])
            val = self.data.splits["val"]
            self.assertEqual(data["valItems"], val.pair_kinds.get(REINSERTION, 0) + val.pair_kinds.get(LESION_TRANSFER, 0))
        finally:
            shutil.rmtree(out, ignore_errors=True)


class HarmonisedPlacementTests(unittest.TestCase):
    def setUp(self):
        self.coords = torch.arange(64, dtype=torch.float32) + 0.5
        self.mask = torch.zeros(1, 1, 64, 64)
        self.mask[..., 23:43, 22:42] = 1
        yy, xx = torch.meshgrid(torch.arange(64.0) + 0.5, torch.arange(64.0) + 0.5, indexing="ij")
        # reference: a bright disc on dark tissue with vertical stripes; target: brighter tissue with a gradient
        self.reference = (-0.6 + 0.05 * torch.sin(xx / 2) + 0.8 * ((xx - 32) ** 2 + (yy - 32) ** 2 < 100).float())[None, None]
        self.target = (0.1 + 0.004 * xx)[None, None]

    def test_the_lesion_meets_the_target_tissue_without_a_step(self):
        context = self.target * (1 - self.mask)
        collage = context + warp_reference(self.reference, self.mask, 1.2, self.coords)
        full, support = warp_reference_full(self.reference, self.mask, 1.2, self.coords)
        harmonised = context + harmonize_reference(full, context, self.mask, support, taper=2.0)
        untouched = self.target.clone()
        box = (22, 23, 42, 43)
        d = lambda x: ((x[0, 0] + 1) / 2).numpy()
        s_collage, s_harm, s_untouched = seam(d(collage), box), seam(d(harmonised), box), seam(d(untouched), box)
        self.assertGreater(s_collage, 5 * max(s_harm, 0.05))
        self.assertLess(s_harm, 1.5 * s_untouched + 0.5)
        # the lesion is still there: the box centre is brighter than the tissue by about the disc's excess
        self.assertGreater(float(harmonised[0, 0, 33, 32] - self.target[0, 0, 33, 32]), 0.5)

    def test_without_a_reference_the_box_is_the_tissue_estimate(self):
        context = self.target * (1 - self.mask)
        full, support = warp_reference_full(torch.zeros(1, 1, 64, 64), self.mask, 1.2, self.coords)
        fill = context + harmonize_reference(full, context, self.mask, support)
        np.testing.assert_allclose(fill[0, 0, 33].numpy(), self.target[0, 0, 33].numpy(), atol=0.02)

    def test_harmonised_model_config_round_trips_and_collage_configs_are_unchanged(self):
        m = Denoiser(32, 32, channels=[8, 16, 16], emb_dim=32, ref_dim=16, attn_levels=[1, 2], placement="harmonised")
        self.assertEqual(Denoiser.from_config(m.config).placement, "harmonised")
        self.assertNotIn("placement", Denoiser(32, 32, channels=[8, 16, 16], emb_dim=32, ref_dim=16, attn_levels=[1, 2]).config)


if __name__ == "__main__":
    unittest.main()
