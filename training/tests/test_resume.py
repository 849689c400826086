"""The training job end to end on a tiny C# export (TRAINING_TEST_DATA): interruption (SIGKILL and SIGTERM) and resume from the same --out
give exactly the weights of an uninterrupted run, and the job exports a package."""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
TRAIN = os.path.join(HERE, "..", "train.py")
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, ".."))

from exported_data import folder  # noqa: E402
from package import verify_package  # noqa: E402

ARGS = ["--max-minutes", "10", "--max-steps", "40", "--seed", "3",
        "--channels", "8,16,16", "--batch-size", "4", "--ckpt-every", "5", "--val-every", "20",
        "--log-every", "5", "--proxy-items", "2", "--proxy-steps", "3", "--threads", "1"]


def run(data, out, **kw):
    return subprocess.Popen([sys.executable, TRAIN, "--data", data, "--out", out] + ARGS,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)


def log_records(out):
    with open(os.path.join(out, "train_log.jsonl")) as f:
        return [json.loads(line) for line in f]


def wait_for_step(out, step, proc, timeout=300):
    """Waits until a checkpoint at >= step exists (read from the log's train records)."""
    t0 = time.time()
    while time.time() - t0 < timeout:
        if proc.poll() is not None:
            raise AssertionError("job ended before it could be interrupted:\n" + proc.stdout.read())
        path = os.path.join(out, "train_log.jsonl")
        if os.path.exists(path) and any(r["kind"] == "train" and r["step"] >= step for r in log_records(out)):
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting for training progress")


def read_json(*parts):
    with open(os.path.join(*parts), encoding="utf-8") as f:
        return json.load(f)


class ResumeTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="resume-test-")
        cls.data = folder()
        cls.ref_out = os.path.join(cls.tmp, "uninterrupted")
        p = run(cls.data, cls.ref_out)
        cls.ref_log = p.communicate(timeout=600)[0]
        cls.ref_rc = p.returncode

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def final_state(self, out):
        return torch.load(os.path.join(out, "checkpoints", "last.pt"))

    def assert_same_result(self, out):
        a, b = self.final_state(self.ref_out), self.final_state(out)
        self.assertEqual(a["step"], 40)
        self.assertEqual(b["step"], 40)
        for k in a["ema"]:
            torch.testing.assert_close(a["ema"][k], b["ema"][k], rtol=0, atol=0, msg=f"EMA tensor {k} differs")
        self.assertEqual([h["valLoss"] for h in a["history"]], [h["valLoss"] for h in b["history"]])
        pa = read_json(self.ref_out, "package", "model.json")
        pb = read_json(out, "package", "model.json")
        self.assertEqual(pa["components"]["denoiser"]["sha256"], pb["components"]["denoiser"]["sha256"])

    def test_uninterrupted_run_exports_a_valid_package(self):
        self.assertEqual(self.ref_rc, 0, self.ref_log)
        doc = verify_package(os.path.join(self.ref_out, "package"))
        self.assertEqual(doc["training"]["steps"], 40)
        # the export's preparation is what model.json tells inference to do
        prep = read_json(self.data, "manifest.json")["preparation"]
        self.assertEqual(doc["resolution"], prep["resolution"])
        self.assertEqual(doc["reference"]["size"], prep["referenceSize"])
        self.assertEqual(doc["preparation"], {"cropRatio": [prep["cropRatioMin"], prep["cropRatioMax"]],
                                              "referenceExpand": prep["referenceExpand"]})
        kinds = [r["kind"] for r in log_records(self.ref_out)]
        for k in ("train", "val", "proxy", "exported"):
            self.assertIn(k, kinds)
        sel = read_json(self.ref_out, "selection.json")
        self.assertIn(sel["selected"]["step"], [c["step"] for c in sel["candidates"]])

    def test_kill_and_resume_gives_identical_weights(self):
        out = os.path.join(self.tmp, "killed")
        p = run(self.data, out)
        wait_for_step(out, 12, p)
        p.send_signal(signal.SIGKILL)
        p.communicate(timeout=60)
        state = self.final_state(out)
        self.assertGreater(state["step"], 0)
        self.assertLess(state["step"], 40)
        p2 = run(self.data, out)
        log2 = p2.communicate(timeout=600)[0]
        self.assertEqual(p2.returncode, 0, log2)
        resumes = [r for r in log_records(out) if r["kind"] == "resume"]
        self.assertEqual(len(resumes), 1)
        self.assertEqual(resumes[0]["step"], state["step"])
        self.assert_same_result(out)

    def test_sigterm_checkpoints_and_exits_130(self):
        out = os.path.join(self.tmp, "terminated")
        p = run(self.data, out)
        wait_for_step(out, 7, p)
        p.send_signal(signal.SIGTERM)
        log = p.communicate(timeout=120)[0]
        self.assertEqual(p.returncode, 130, log)
        rec = [r for r in log_records(out) if r["kind"] == "interrupted"]
        self.assertEqual(len(rec), 1)
        self.assertEqual(self.final_state(out)["step"], rec[0]["step"])
        p2 = run(self.data, out)
        log2 = p2.communicate(timeout=600)[0]
        self.assertEqual(p2.returncode, 0, log2)
        self.assert_same_result(out)

    def test_a_new_run_starts_from_a_released_package(self):
        """--init-package: a new run's weights are the package's (with a vanishing learning rate, the package it
        exports two steps later carries the same constants: a random start would not); another shape is an error."""
        import numpy as np
        import onnx
        from onnx import numpy_helper
        self.assertEqual(self.ref_rc, 0, self.ref_log)
        package = os.path.join(self.ref_out, "package")
        args = list(ARGS)
        args[args.index("--max-steps") + 1] = "2"
        out = os.path.join(self.tmp, "continued")
        r = subprocess.run([sys.executable, TRAIN, "--data", self.data, "--out", out, "--lr", "1e-12",
                            "--init-package", package] + args, capture_output=True, text=True, timeout=600)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        init = [x for x in log_records(out) if x["kind"] == "init"]
        self.assertEqual(len(init), 1)
        self.assertEqual(read_json(out, "package", "model.json")["training"]["initPackage"], package)
        a, b = (onnx.load(os.path.join(d, "denoiser.onnx")).graph.initializer for d in (package, os.path.join(out, "package")))
        for x, y in zip(a, b):
            np.testing.assert_allclose(numpy_helper.to_array(y), numpy_helper.to_array(x), atol=1e-6, err_msg=x.name)
        args[args.index("--channels") + 1] = "8,16,24"
        r = subprocess.run([sys.executable, TRAIN, "--data", self.data, "--out", os.path.join(self.tmp, "other"),
                            "--init-package", package] + args, capture_output=True, text=True, timeout=600)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("--init-package", r.stderr)

    def test_bad_dataset_is_a_clear_error(self):
        empty = os.path.join(self.tmp, "empty")
        os.makedirs(empty, exist_ok=True)
        r = subprocess.run([sys.executable, TRAIN, "--data", empty, "--out", os.path.join(self.tmp, "x")] + ARGS,
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 2)
        self.assertIn("manifest.json is missing", r.stderr)
        self.assertIn("pipeline train-data export", r.stderr)


if __name__ == "__main__":
    unittest.main()
