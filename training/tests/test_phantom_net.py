"""phantom-net (training/feature_models): the copy&paste compositing of its composite class, the export of its three
feature models (descriptors and numerical parity with PyTorch through onnxruntime-node, the ORT the C# side binds),
and the committed models' descriptors."""
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
FEATURE_MODELS = os.path.join(HERE, "..", "feature_models")
sys.path.insert(0, FEATURE_MODELS)

from phantom_net import FEATURE_DIM, LAYERS, PhantomNet, feather_alpha, paste  # noqa: E402
from train_phantom_net import export, sha256  # noqa: E402

ORT_MODULE = os.environ.get("ORT_NODE_MODULE", os.path.join(HERE, "..", "..", "node_modules", "onnxruntime-node"))


def random_net(seed=0):
    torch.manual_seed(seed)
    net = PhantomNet()
    with torch.no_grad():   # non-trivial BatchNorm statistics, so the eval-mode export is exercised
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.1, 0.1)
    return net.eval()


class CompositeTests(unittest.TestCase):
    def test_feather_alpha_is_the_pasteback_profile(self):
        a = feather_alpha(4, 3, margin=5, sigma=2.0)
        self.assertEqual(a.shape, (3 + 10, 4 + 10))
        np.testing.assert_array_equal(a[5:8, 5:9], 1.0)
        tail = math.exp(-36 / 8)
        g1 = (math.exp(-1 / 8) - tail) / (1 - tail)
        self.assertAlmostEqual(a[6, 4], g1, places=12)           # one pixel left of the box
        self.assertAlmostEqual(a[4, 4], g1 * g1, places=12)      # diagonal: product of the axis profiles
        g5 = (math.exp(-25 / 8) - tail) / (1 - tail)
        self.assertAlmostEqual(a[0, 0], g5 * g5, places=12)
        self.assertGreater(a[0, 0], 0.0)

    def test_paste_keeps_the_donor_inside_and_the_target_beyond_the_margin(self):
        rng = np.random.default_rng(1)
        target = rng.uniform(0, 1, (40, 40))
        donor = rng.uniform(0, 1, (6 + 10, 5 + 10))
        out = paste(target, donor, 12, 14, margin=5)
        np.testing.assert_array_equal(out[14:20, 12:17], donor[5:11, 5:10])
        keep = np.ones_like(target, bool)
        keep[9:25, 7:22] = False
        np.testing.assert_array_equal(out[keep], target[keep])
        self.assertFalse(np.array_equal(out[13, 12:17], target[13, 12:17]))   # the feathered margin blends


class ExportTests(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="phantom-net-test-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_descriptors(self):
        net = random_net()
        folders = export(net, self.tmp, "test")
        for kind, folder in folders.items():
            with open(os.path.join(folder, "feature-model.json")) as f:
                doc = json.load(f)
            self.assertEqual(doc["name"], "phantom-net")
            self.assertEqual(doc["kind"], kind)
            self.assertEqual(doc["sha256"], sha256(os.path.join(folder, "model.onnx")))
            self.assertEqual(doc["input"]["range"], [-1, 1])
            if kind == "lpips":
                self.assertEqual([l["name"] for l in doc["layers"]], LAYERS)
                self.assertEqual([len(l["weights"]) for l in doc["layers"]], [12, 24, 48, 64])
            else:
                self.assertEqual(doc["output"]["dim"], FEATURE_DIM)

    @unittest.skipUnless(shutil.which("node") and os.path.isdir(ORT_MODULE), "node + onnxruntime-node not installed")
    def test_onnx_matches_torch_in_onnxruntime(self):
        net = random_net(3)
        folders = export(net, self.tmp, "test")
        g = torch.Generator().manual_seed(7)
        grey = torch.rand(3, 1, 64, 64, generator=g) * 2 - 1     # batch 3: not the export batch (2)
        image = grey.repeat(1, 3, 1, 1)
        with torch.no_grad():
            feats = net.features(grey).numpy()
            stages = [s.numpy() for s in net.stages(grey)]
        inp = os.path.join(self.tmp, "in.json")
        with open(inp, "w") as f:
            json.dump({"image": {"type": "float32", "dims": list(image.shape), "data": image.flatten().tolist()}}, f)
        for kind, expected in (("features", {"features": feats}), ("embedding", {"embedding": feats}),
                               ("lpips", dict(zip(LAYERS, stages)))):
            outp = os.path.join(self.tmp, f"{kind}.json")
            r = subprocess.run(["node", os.path.join(HERE, "ort_run.js"), os.path.join(folders[kind], "model.onnx"), inp, outp],
                               capture_output=True, text=True, timeout=120, env={**os.environ, "ORT_NODE_MODULE": ORT_MODULE})
            self.assertEqual(r.returncode, 0, r.stderr)
            with open(outp) as f:
                got = json.load(f)
            for name, want in expected.items():
                self.assertEqual(got[name]["dims"], list(want.shape), f"{kind}/{name}")
                actual = np.asarray(got[name]["data"], dtype=np.float32).reshape(want.shape)
                self.assertGreater(np.abs(want).max(), 1e-3)
                np.testing.assert_allclose(actual, want, atol=1e-4, rtol=1e-4, err_msg=f"{kind}/{name}")


class CommittedModelTests(unittest.TestCase):
    def test_committed_descriptors_match_their_files(self):
        for folder, kind in (("phantom-net", "features"), ("phantom-net-lpips", "lpips"), ("phantom-net-embed", "embedding")):
            d = os.path.join(FEATURE_MODELS, folder)
            if not os.path.isdir(d):
                self.skipTest("phantom-net is not exported in this checkout")
            with open(os.path.join(d, "feature-model.json")) as f:
                doc = json.load(f)
            self.assertEqual((doc["name"], doc["kind"]), ("phantom-net", kind))
            self.assertEqual(doc["sha256"], sha256(os.path.join(d, doc["file"])))


if __name__ == "__main__":
    unittest.main()
