"""The training data the Python tests read: a `pipeline train-data export` folder named by TRAINING_TEST_DATA.

The C# test wrapper (tests/Pipeline.Inference.Tests/Training/TrainingJobTests.cs) exports a small synthetic
mammography dataset with the inference preprocessing (32 px crops and references, 2 variants per lesion) and runs
this suite with TRAINING_TEST_DATA set. To run the suite by hand:

  ./pipeline synth mammo --count 6 --rows 384 --columns 256 --seed 1 --out /tmp/tiny
  ./pipeline train-data export --dataset /tmp/tiny --out /tmp/tiny-tensors --resolution 32 --reference-size 32 --variants 2
  TRAINING_TEST_DATA=/tmp/tiny-tensors /usr/bin/python3 -m unittest discover -s training/tests
"""
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def folder() -> str:
    path = os.environ.get("TRAINING_TEST_DATA")
    if not path or not os.path.isfile(os.path.join(path, "manifest.json")):
        raise RuntimeError("TRAINING_TEST_DATA must name a `pipeline train-data export` folder (see "
                           "training/tests/exported_data.py; `dotnet test tests/Pipeline.Inference.Tests` sets it)")
    return path


class ExportedDataCase(unittest.TestCase):
    """A test case on the export: `folder` and the loaded `data` (training/data.py), read once per class."""

    @classmethod
    def setUpClass(cls):
        from data import load
        cls.folder = folder()
        cls.data = load(cls.folder)
