"""ONNX export: graph validity and the package contract. Numerical parity of the exported graph with PyTorch is
checked through the C# side's own ONNX Runtime: export_parity_case.py writes a case that
tests/Pipeline.Inference.Tests/Training/ExportParityTests.cs runs."""
import json
import os
import shutil
import sys
import tempfile
import unittest

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))

from diffusion import LinearSchedule  # noqa: E402
from model import Denoiser  # noqa: E402
from package import INPUT_NAMES, verify_package, write_package  # noqa: E402


def tiny_model(seed=0, placement="collage"):
    torch.manual_seed(seed)
    m = Denoiser(32, 32, channels=[8, 16, 16], emb_dim=32, ref_dim=16, attn_levels=[1, 2], placement=placement)
    # zero-initialised output layers would make every output 0; perturb all weights so parity is meaningful
    with torch.no_grad():
        for p in m.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    return m.eval()


def write(tmp, model):
    return write_package(model, tmp, name="t", version="0.0.1", description="test", resolution=32, ref_size=32,
                         schedule=LinearSchedule(), guidance_scale=3.0, reference_dropout=0.2, sampler_steps=10,
                         training={"test": True}, preparation={"cropRatio": [3.0, 4.0], "referenceExpand": 1.2})


def read_json(*parts):
    with open(os.path.join(*parts), encoding="utf-8") as f:
        return json.load(f)


SCHEMA = os.path.join(HERE, "..", "..", "schemas", "model-package.schema.json")


def validate_model_json(doc):
    """Validates against schemas/model-package.schema.json, the file the C# reader (ModelPackage.Parse) checks too."""
    import jsonschema  # Debian python3-jsonschema (infra/setup.sh)
    schema = read_json(SCHEMA)
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(doc)


class ModelPackageSchemaTests(unittest.TestCase):
    def test_committed_packages_match_the_schema(self):
        root = os.path.join(HERE, "..", "..")
        found = [os.path.join(d, "model.json") for base in ("models", os.path.join("training", "test_models"))
                 for d in sorted(os.scandir(os.path.join(root, base)), key=lambda e: e.name) if d.is_dir()
                 and os.path.isfile(os.path.join(d, "model.json"))]
        self.assertGreaterEqual(len(found), 5)
        for path in found:
            with self.subTest(path=path):
                validate_model_json(read_json(path))

    def test_the_schema_refuses_what_the_reader_refuses(self):
        import jsonschema
        doc = read_json(HERE, "..", "..", "models", "mammo-tiny", "model.json")
        for mutate in (lambda d: d.update(kind="voxel"), lambda d: d["schedule"].update(betaSchedule="cosine"),
                       lambda d: d["components"]["denoiser"].update(file="../x.onnx"),
                       lambda d: d["components"]["denoiser"].update(sha256="abc"), lambda d: d.update(extra=1),
                       lambda d: d["sampler"].update(scheduler="lms"),
                       lambda d: d.update(preparation={"cropRatio": [0.5, 4.0]}),
                       lambda d: d.update(preparation={"referenceExpand": 1.2, "ratio": 3})):
            bad = json.loads(json.dumps(doc))
            mutate(bad)
            with self.assertRaises(jsonschema.ValidationError):
                validate_model_json(bad)


class ExportTests(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="export-test-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_package_follows_contract(self):
        doc = write(self.tmp, tiny_model())
        self.assertEqual(doc["formatVersion"], 1)
        self.assertEqual(doc["components"]["denoiser"]["inputs"],
                         {"sample": "x_t", "timestep": "t", "maskedContext": "context", "mask": "mask",
                          "reference": "reference", "detailMap": "hf"})
        self.assertEqual(doc["schedule"]["predictionType"], "epsilon")
        self.assertEqual(doc["schedule"]["numTrainTimesteps"], 1000)
        on_disk = read_json(self.tmp, "model.json")
        self.assertEqual(on_disk, doc)
        validate_model_json(on_disk)
        verify_package(self.tmp)
        import onnx
        g = onnx.load(os.path.join(self.tmp, "denoiser.onnx"))
        self.assertEqual(g.opset_import[0].version, 17)
        self.assertEqual([i.name for i in g.graph.input], INPUT_NAMES)
        t_type = g.graph.input[1].type.tensor_type.elem_type
        self.assertEqual(t_type, onnx.TensorProto.INT64)

    def test_tampered_file_fails_hash_check(self):
        write(self.tmp, tiny_model())
        with open(os.path.join(self.tmp, "denoiser.onnx"), "ab") as f:
            f.write(b"\0")
        with self.assertRaisesRegex(ValueError, "SHA-256 mismatch"):
            verify_package(self.tmp)


if __name__ == "__main__":
    unittest.main()
