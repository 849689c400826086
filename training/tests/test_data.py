"""The training-data reader against a real C# export (TRAINING_TEST_DATA): the contract's shapes and dtypes, the
relations the C# preparation guarantees, and clear errors for broken exports."""
import json
import os
import shutil
import sys
import tempfile
import unittest

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, ".."))

from data import INSERTION, REINSERTION, DatasetError, indices, load, model_inputs  # noqa: E402
from exported_data import ExportedDataCase  # noqa: E402


class ExportedDataTests(ExportedDataCase):

    def test_manifest_and_tensors_follow_the_contract(self):
        d = self.data
        self.assertEqual(d.manifest["domain"], "mammography")
        r, s = d.preparation.resolution, d.preparation.reference_size
        self.assertLessEqual(d.preparation.crop_ratio[0], d.preparation.crop_ratio[1])
        for split in d.splits.values():
            self.assertGreater(split.count, 0)
            self.assertEqual(sum(split.pair_kinds.values()), split.count)
            self.assertEqual(split.tensors["original"].shape, (split.count, r, r))
            self.assertEqual(split.tensors["reference"].shape, (split.count, s, s))
            self.assertEqual(split.tensors["box"].dtype, np.int32)
            self.assertEqual({it["kind"] for it in split.items}, set(split.pair_kinds))

    def test_examples_are_inference_inputs(self):
        """What the C# preparation guarantees: binary masks equal to the box, context = original outside the box and 0
        inside, the detail map only inside the box, all values in [-1, 1]."""
        for split in self.data.splits.values():
            for i in range(split.count):
                o, c, m = (np.asarray(split.tensors[k][i]) for k in ("original", "context", "mask"))
                det, ref = np.asarray(split.tensors["detail"][i]), np.asarray(split.tensors["reference"][i])
                x, y, w, h = (int(v) for v in split.tensors["box"][i])
                self.assertTrue(set(np.unique(m)) <= {0.0, 1.0})
                box = np.zeros_like(m)
                box[y:y + h, x:x + w] = 1
                np.testing.assert_array_equal(m, box, f"{split.name}[{i}]: mask is not the box")
                np.testing.assert_allclose(c, o * (1 - m), atol=1e-6)
                self.assertEqual(np.abs(det[m == 0]).max(), 0.0)
                for a in (o, c, det, ref):
                    self.assertTrue(np.isfinite(a).all())
                    self.assertLessEqual(np.abs(a).max(), 1.0 + 1e-6)
                g = split.items[i]["geometry"]
                self.assertEqual((g["boxLeft"], g["boxTop"], g["boxWidth"], g["boxHeight"]), (x, y, w, h))

    def test_variants_of_a_lesion_differ_in_crop_ratio(self):
        items = self.data.splits["train"].items
        by_lesion = {}
        for it in items:
            if it["kind"] == REINSERTION:
                by_lesion.setdefault((it["image"], json.dumps(it["box"], sort_keys=True)), []).append(it["geometry"]["ratio"])
        multi = [v for v in by_lesion.values() if len(v) > 1]
        self.assertTrue(multi, "the export has no lesion with several variants")
        for ratios in multi:
            self.assertEqual(len(set(ratios)), len(ratios))
            lo, hi = self.data.preparation.crop_ratio
            self.assertTrue(all(lo <= r < hi for r in ratios), ratios)

    def test_insertions_are_copy_paste_into_lesion_free_images(self):
        """An insertion example: the target is a lesion-free image (never the reference's), the copy&paste crop differs
        from the tissue crop in the box and equals it beyond the compositing margin (5 source pixels, feathered)."""
        seen = 0
        lesion_images = {it["image"] for s in self.data.splits.values() for it in s.items if it["kind"] == REINSERTION}
        for split in self.data.splits.values():
            if not split.pair_kinds.get(INSERTION):
                continue
            for i in indices(split, {INSERTION}):
                i = int(i)
                it = split.items[i]
                self.assertNotIn(it["image"], lesion_images)
                self.assertNotEqual(it["image"], it["referenceImage"])
                o, cp, m = (np.asarray(split.tensors[k][i]) for k in ("original", "copypaste", "mask"))
                self.assertGreater(float(np.abs(cp - o)[m > 0.5].max()), 1e-3)
                g = it["geometry"]
                scale = g["resolution"] / g["side"]                    # model pixels per source pixel
                yy, xx = np.mgrid[0:m.shape[0], 0:m.shape[1]]
                x, y, w, h = g["boxLeft"], g["boxTop"], g["boxWidth"], g["boxHeight"]
                d = np.maximum(np.maximum(x - (xx + 1), xx - (x + w)), np.maximum(y - (yy + 1), yy - (y + h)))
                far = d > 7 * scale + 2                                # margin + 1 px, resampling footprint
                if far.any():
                    np.testing.assert_allclose(cp[far], o[far], atol=1e-6)
                seen += 1
        self.assertGreater(seen, 0, "the export has no insertion examples (TrainingJobTests exports with insertions)")

    def test_model_inputs_are_float16_with_a_channel_axis(self):
        t = model_inputs(self.data.splits["val"])
        n, r = self.data.splits["val"].count, self.data.preparation.resolution
        self.assertEqual(tuple(t["target"].shape), (n, 1, r, r))
        self.assertEqual(str(t["hf"].dtype), "torch.float16")
        with self.assertRaisesRegex(DatasetError, "no examples of kind"):
            model_inputs(self.data.splits["val"], kinds={"transfer"})

    def test_broken_exports_are_clear_errors(self):
        tmp = tempfile.mkdtemp(prefix="broken-export-")
        try:
            bad = os.path.join(tmp, "x")
            shutil.copytree(self.folder, bad)
            with open(os.path.join(bad, "manifest.json"), encoding="utf-8") as f:
                m = json.load(f)
            # a tensor whose shape disagrees with the manifest
            np.save(os.path.join(bad, "val", "mask.npy"), np.zeros((1, 3, 3), np.float32))
            with self.assertRaisesRegex(DatasetError, r"val[/\\]mask\.npy: <f4 \[1, 3, 3\], expected <f4"):
                load(bad)
            # another format
            m["format"] = "something-else"
            with open(os.path.join(bad, "manifest.json"), "w", encoding="utf-8") as f:
                json.dump(m, f)
            with self.assertRaisesRegex(DatasetError, "format 'something-else'"):
                load(bad)
            with self.assertRaisesRegex(DatasetError, "manifest.json is missing"):
                load(tmp)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
