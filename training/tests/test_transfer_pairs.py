"""Lesion-transfer pairs in the training job (transfer_pairs.py) and the harmonised placement (model.py): the pair
sampler takes the reference from the other image, so its background is other tissue; the harmonised placement puts
the reference's lesion on the target's tissue without a step, and exports to ONNX like the collage model."""
import csv
import os
import shutil
import sys
import tempfile
import unittest

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))

from data import DatasetError  # noqa: E402
from model import Denoiser, harmonize_reference, warp_reference, warp_reference_full  # noqa: E402
from seam import seam  # noqa: E402
import transfer_pairs  # noqa: E402


def write_dicom(path, img):
    import pydicom
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.1.2"
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(None, {}, file_meta=meta, preamble=b"\0" * 128)
    ds.is_little_endian, ds.is_implicit_VR = True, False
    ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID
    ds.Modality = "MG"
    ds.Rows, ds.Columns = img.shape
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.WindowCenter, ds.WindowWidth = 2048, 4096
    ds.RescaleSlope, ds.RescaleIntercept = 1, 0
    ds.PixelData = img.astype(np.uint16).tobytes()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    ds.save_as(path, write_like_original=False)


def lesion(h, w, cx, cy, r):
    yy, xx = np.mgrid[0:h, 0:w] + 0.5
    return 900.0 * np.clip((r - np.hypot(xx - cx, yy - cy)) / 2, 0, 1)


class TransferPairTests(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="transfer-pairs-")
        h, w = 256, 200
        # the same round lesion on a dark flat tissue (reference) and a bright one (target), at different places
        write_dicom(os.path.join(self.tmp, "images", "s1", "ref.dicom"), 800 + lesion(h, w, 60, 80, 10))
        write_dicom(os.path.join(self.tmp, "images", "s2", "tgt.dicom"), 2600 + lesion(h, w, 120, 170, 10))
        with open(os.path.join(self.tmp, transfer_pairs.PAIRS_FILE), "w", newline="") as f:
            wr = csv.writer(f)
            wr.writerow(["pair_id", "category", "reference_image_id", "reference_xmin", "reference_ymin", "reference_xmax",
                         "reference_ymax", "target_image_id", "target_xmin", "target_ymin", "target_xmax", "target_ymax",
                         "size_scale", "contrast_scale", "split"])
            wr.writerow(["p1", "Mass", "ref", 48, 68, 72, 92, "tgt", 108, 158, 132, 182, 1, 1, "training"])

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_reference_background_comes_from_the_other_image(self):
        pairs = transfer_pairs.read_transfer_pairs(self.tmp)
        self.assertEqual(len(pairs), 1)
        cache = transfer_pairs.build_transfer_cache(pairs, variants=2, ratio_range=(3, 4), resolution=64, ref_size=64,
                                                    ref_expand=1.2, rng=np.random.default_rng(0), log=lambda *a, **k: None,
                                                    what="test")
        self.assertEqual(tuple(cache["target"].shape), (2, 1, 64, 64))
        dark, bright = 2 * (800 / 4095) - 1, 2 * (2600 / 4095) - 1   # model space of the two tissues (window 0..4096)
        for i in range(2):
            ref, tgt, mask = (cache[k][i, 0].float().numpy() for k in ("reference", "target", "mask"))
            # the reference crop's corners are its own (dark) tissue, the target's surroundings the bright tissue
            self.assertAlmostEqual(float(ref[2:6, 2:6].mean()), dark, delta=0.01)
            self.assertAlmostEqual(float(tgt[mask < 0.5].min()), bright, delta=0.01)
            self.assertGreater(float(tgt[mask > 0.5].max()), bright + 0.3)   # the lesion is in the target's box

    def test_bad_pairs_are_named(self):
        with open(os.path.join(self.tmp, transfer_pairs.PAIRS_FILE), "a", newline="") as f:
            csv.writer(f).writerow(["p2", "Mass", "ref", 1, 1, 9, 9, "missing", 1, 1, 9, 9, 1, 1, "training"])
        with self.assertRaisesRegex(DatasetError, "row 2: no DICOM for target image 'missing'"):
            transfer_pairs.read_transfer_pairs(self.tmp)
        with self.assertRaisesRegex(DatasetError, "no lesion_transfer_pairs.csv"):
            transfer_pairs.read_transfer_pairs(os.path.join(self.tmp, "images"))


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
