"""The training job's preprocessing (training/preprocess.py) against the vectors the C# side writes
(tests/Pipeline.Imaging.Tests/data/preprocess/, see its README.md): same geometry, same arrays, so the pairs the model
is trained on are the inputs the pipeline gives it at inference."""
import json
import os
import sys
import unittest

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))

import preprocess as pp  # noqa: E402

VECTORS = os.environ.get("PIPELINE_PREPROCESS_VECTORS") or os.path.join(HERE, "..", "..", "tests", "Pipeline.Imaging.Tests",
                                                                       "data", "preprocess")
TOL = 1e-5   # float32 results of float32 (C#) vs float64 (numpy) arithmetic


@unittest.skipUnless(os.path.isfile(os.path.join(VECTORS, "cases.json")), "C# preprocessing vectors not present")
class CSharpVectorTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(os.path.join(VECTORS, "cases.json"), encoding="utf-8") as f:
            cls.spec = json.load(f)
        cls.image = np.load(os.path.join(VECTORS, cls.spec["image"])).astype(np.float32)

    def load(self, case, what):
        return np.load(os.path.join(VECTORS, f"{case['name']}_{what}.npy"))

    def test_there_are_cases(self):
        self.assertGreaterEqual(len(self.spec["cases"]), 3)
        self.assertEqual(self.image.shape, (self.spec["height"], self.spec["width"]))

    def test_every_case_matches(self):
        R, S = self.spec["R"], self.spec["S"]
        for case in self.spec["cases"]:
            with self.subTest(case=case["name"]):
                z = pp.zoom_in_crop(self.image, case["box"], case["r"], R)
                self.assertEqual([z.left, z.top, z.left + z.side, z.top + z.side], list(case["crop_rect"]))
                self.assertEqual(z.side, case["side"])
                self.assertEqual(list(z.box_model), list(case["model_box"]))
                ref = pp.reference_crop(self.image, case["box"], S, case["e"])
                self.assertEqual(list(ref.rect), list(case["reference_rect"]))
                self.assertEqual(ref.side, case["reference_side"])
                self.assertEqual([ref.pad_left, ref.pad_top], list(case["reference_pad"]))
                crop = pp.to_model_space(z.crop)
                np.testing.assert_allclose(crop, self.load(case, "crop"), atol=TOL, err_msg="crop")
                np.testing.assert_array_equal(z.mask, self.load(case, "mask"), err_msg="mask")
                np.testing.assert_allclose(pp.masked_context(crop, z.mask), self.load(case, "context"), atol=TOL,
                                           err_msg="context")
                np.testing.assert_allclose(ref.crop, self.load(case, "reference"), atol=TOL, err_msg="reference")
                np.testing.assert_array_equal(ref.support, self.load(case, "support").astype(np.float32),
                                              err_msg="support")
                hf = pp.sobel_hf(ref.crop, ref.support)
                np.testing.assert_allclose(hf, self.load(case, "hf"), atol=TOL, err_msg="hf")
                np.testing.assert_allclose(pp.hf_collage(hf, z.box_model, R), self.load(case, "collage"), atol=TOL,
                                           err_msg="collage")


if __name__ == "__main__":
    unittest.main()
