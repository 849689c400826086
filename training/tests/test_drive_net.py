"""drive-net (training/feature_models/drive_net.py): patches from an export-training folder, the exported descriptors,
and the committed export against its weights."""
import json
import os
import shutil
import struct
import sys
import tempfile
import unittest

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
FEATURE_MODELS = os.path.join(HERE, "..", "feature_models")
sys.path.insert(0, FEATURE_MODELS)
from drive_net import FEATURE_DIM, LAYERS, DriveNet, export, patches, sha256  # noqa: E402


def write_bundle(path, arrays):
    """The C# TensorBundle layout (driving_train.read_tensor_bundle reads it)."""
    with open(path, "wb") as f:
        f.write(b"PTB1" + struct.pack("<i", len(arrays)))
        for name, a in arrays.items():
            n = name.encode()
            a = np.ascontiguousarray(a, dtype="<f4").ravel()
            f.write(struct.pack("<i", len(n)) + n + struct.pack("<i", a.size) + a.tobytes())


class DriveNetTests(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="drive-net-test-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_patches_per_example_and_modality(self):
        d, n = 32, 3
        rng = np.random.default_rng(1)
        x0 = rng.uniform(-1, 1, (n, 5, d, d)).astype(np.float32)
        mask = np.zeros((n, 2, d, d), np.float32)
        mask[:, :, 8:24, 8:24] = 1
        ref = np.full((n, 3, d, d), 0.5, np.float32)
        empty = np.array([0, 0, 1], np.float32)
        write_bundle(os.path.join(self.tmp, "examples.tensors"), {
            "x0": x0, "mask": mask, "box": np.zeros((n, 2, 8, 3)), "reference": ref, "empty": empty,
            "class": np.zeros(n), "deltaT": np.zeros(n), "scene": np.array([0, 1, 1])})
        with open(os.path.join(self.tmp, "manifest.json"), "w") as f:
            json.dump({"resolution": d, "referenceSize": d, "count": n}, f)
        x, y, m, s = patches(self.tmp)
        # per object: camera, depth, intensity, composite; the empty box: camera, depth, intensity
        self.assertEqual(list(y), [1, 1, 1, 2, 1, 1, 1, 2, 0, 0, 0])
        self.assertEqual(list(m), [0, 1, 2, 0, 0, 1, 2, 0, 0, 1, 2])
        self.assertEqual(list(s), [0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1])
        np.testing.assert_array_equal(x[1], np.repeat(x0[0, 3:4], 3, 0))                 # depth tiled
        comp = x[3]
        np.testing.assert_allclose(comp[:, 8:24, 8:24], 0.5)                              # reference inside the hull
        np.testing.assert_array_equal(comp[:, :8], x0[0, :3, :8])                         # the scene outside

    def test_descriptors(self):
        torch.manual_seed(0)
        export(DriveNet(), self.tmp, "test")
        for folder, kind in (("drive-net", "features"), ("drive-net-lpips", "lpips"), ("drive-net-embed", "embedding")):
            with open(os.path.join(self.tmp, folder, "feature-model.json")) as f:
                doc = json.load(f)
            self.assertEqual((doc["name"], doc["kind"]), ("drive-net", kind))
            self.assertEqual(doc["sha256"], sha256(os.path.join(self.tmp, folder, "model.onnx")))
            self.assertEqual((doc["input"]["width"], doc["input"]["range"]), (32, [-1, 1]))
            if kind == "lpips":
                self.assertEqual([l["name"] for l in doc["layers"]], LAYERS)
                self.assertEqual([len(l["weights"]) for l in doc["layers"]], [16, 32, 48, 64])
            else:
                self.assertEqual(doc["output"]["dim"], FEATURE_DIM)


class CommittedDriveNetTests(unittest.TestCase):
    def test_committed_descriptors_match_their_files_and_weights_load(self):
        for folder, kind in (("drive-net", "features"), ("drive-net-lpips", "lpips"), ("drive-net-embed", "embedding")):
            d = os.path.join(FEATURE_MODELS, folder)
            with open(os.path.join(d, "feature-model.json")) as f:
                doc = json.load(f)
            self.assertEqual((doc["name"], doc["kind"]), ("drive-net", kind))
            self.assertEqual(doc["sha256"], sha256(os.path.join(d, doc["file"])))
        net = DriveNet()
        net.load_state_dict(torch.load(os.path.join(FEATURE_MODELS, "drive-net", "weights.pt"))["net"])


if __name__ == "__main__":
    unittest.main()
