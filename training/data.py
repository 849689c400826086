"""Training data: the tensors `pipeline train-data export` writes (docs/training.md, "Training data").

The C# command prepares every example with the code a run's Preprocess uses (DICOM decoding and display rendering,
zoom-in crop, masks, reference crop, high-frequency collage), so a model is trained on exactly what inference feeds
it; this module only reads and checks the result:

  <folder>/manifest.json            format "pipeline-training-tensors" v1: domain, preparation, source, splits
  <folder>/<split>/<tensor>.npy     float32 [N, R, R]: original, context, mask, detail, copypaste (the copy&paste
                                    baseline crop); [N, S, S]: reference; int32 [N, 4]: box (model pixels: left, top,
                                    width, height)
  <folder>/<split>/items.json       per example: kind (pair kind), source, image, class, boxes, seed

Pair kinds: "reinsertion" (the lesion is its own reference), "lesion-transfer" (the same lesion over two tissues: the
target crop is the truth, the reference comes from the other image) and "insertion" (a lesion inserted into a
lesion-free image as a run plans it: no truth for the box; the target crop is tissue, copypaste the baseline).

The preparation parameters (resolution, reference size, crop ratio range, reference expansion, value range) are the
export's; the training job writes them into model.json, and inference reads them from there.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FORMAT = "pipeline-training-tensors"
FORMAT_VERSION = 1
MODEL_TENSORS = ("original", "context", "mask", "detail", "reference")
IMAGE_TENSORS = MODEL_TENSORS + ("copypaste",)
REINSERTION, LESION_TRANSFER, INSERTION = "reinsertion", "lesion-transfer", "insertion"


class DatasetError(ValueError):
    """A training-data problem; the message names the file and the problem."""


@dataclass(frozen=True)
class Preparation:
    resolution: int
    reference_size: int
    crop_ratio: tuple[float, float]
    reference_expand: float
    value_range: tuple[float, float]

    def model_json(self) -> dict:
        """model.json's "preparation" section (resolution, reference size and value range have their own keys)."""
        return {"cropRatio": list(self.crop_ratio), "referenceExpand": self.reference_expand}


@dataclass
class Split:
    name: str
    count: int
    tensors: dict          # name -> np.ndarray (read-only memory map)
    items: list            # dicts from items.json, row i = example i
    pair_kinds: dict       # kind -> count


@dataclass
class TrainingData:
    folder: Path
    manifest: dict
    preparation: Preparation
    splits: dict           # name -> Split
    fingerprint: str       # SHA-256 (16 hex digits) of the manifest and every tensor file


def _read_json(path: Path, what: str):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        raise DatasetError(f"{path}: {what} is missing (export the data with `pipeline train-data export "
                           f"--dataset <folder> --out {path.parent}`)") from None
    except json.JSONDecodeError as e:
        raise DatasetError(f"{path}: not valid JSON ({e})") from e


def _number(d: dict, key: str, where: str) -> float:
    v = d.get(key)
    if not isinstance(v, (int, float)) or isinstance(v, bool):
        raise DatasetError(f"{where}: '{key}' must be a number, got {v!r}")
    return float(v)


def _preparation(p, where: str) -> Preparation:
    if not isinstance(p, dict):
        raise DatasetError(f"{where}: 'preparation' is missing")
    prep = Preparation(int(_number(p, "resolution", where)), int(_number(p, "referenceSize", where)),
                       (_number(p, "cropRatioMin", where), _number(p, "cropRatioMax", where)),
                       _number(p, "referenceExpand", where), (_number(p, "valueMin", where), _number(p, "valueMax", where)))
    if prep.value_range != (-1.0, 1.0):
        raise DatasetError(f"{where}: value range {prep.value_range}; the training job works in [-1, 1]")
    return prep


def _split(folder: Path, name: str, doc, prep: Preparation, where: str) -> Split:
    if not isinstance(doc, dict):
        raise DatasetError(f"{where}: split '{name}' is not an object")
    count = int(_number(doc, "count", f"{where} split '{name}'"))
    files = doc.get("tensors") or {}
    r, s = prep.resolution, prep.reference_size
    expected = {**{t: ("<f4", [count, r, r]) for t in IMAGE_TENSORS if t != "reference"},
                "reference": ("<f4", [count, s, s]), "box": ("<i4", [count, 4])}
    tensors = {}
    for t, (dtype, shape) in expected.items():
        entry = files.get(t)
        if not isinstance(entry, dict) or "file" not in entry:
            raise DatasetError(f"{where}: split '{name}' lists no '{t}' tensor")
        path = folder / entry["file"]
        try:
            a = np.load(path, mmap_mode="r", allow_pickle=False)
        except FileNotFoundError:
            raise DatasetError(f"{path}: missing (split '{name}', tensor '{t}')") from None
        except ValueError as e:
            raise DatasetError(f"{path}: not a .npy file ({e})") from e
        if a.dtype != np.dtype(dtype) or list(a.shape) != shape:
            raise DatasetError(f"{path}: {a.dtype.str} {list(a.shape)}, expected {dtype} {shape} (manifest: {count} "
                               f"examples at {r} px, reference {s} px)")
        tensors[t] = a
    items = _read_json(folder / doc.get("items", f"{name}/items.json"), f"split '{name}' items")
    if not isinstance(items, list) or len(items) != count:
        raise DatasetError(f"{folder / doc.get('items', '')}: {len(items) if isinstance(items, list) else 'no'} items, "
                           f"expected {count}")
    return Split(name, count, tensors, items, dict(doc.get("pairKinds") or {}))


def load(folder: str | os.PathLike) -> TrainingData:
    """Reads and checks an export: format, preparation, every tensor's dtype and shape, the items."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DatasetError(f"training data folder '{folder}' does not exist")
    manifest_path = folder / "manifest.json"
    m = _read_json(manifest_path, "manifest.json")
    where = str(manifest_path)
    if m.get("format") != FORMAT:
        raise DatasetError(f"{where}: format {m.get('format')!r}, expected {FORMAT!r} (written by `pipeline train-data "
                           "export`)")
    if m.get("formatVersion") != FORMAT_VERSION:
        raise DatasetError(f"{where}: formatVersion {m.get('formatVersion')}, this reader knows {FORMAT_VERSION}")
    prep = _preparation(m.get("preparation"), where)
    splits = {name: _split(folder, name, doc, prep, where) for name, doc in (m.get("splits") or {}).items()}
    for need in ("train", "val"):
        if need not in splits or splits[need].count == 0:
            raise DatasetError(f"{where}: no '{need}' examples")
    h = hashlib.sha256(manifest_path.read_bytes())
    for s in splits.values():
        for t in sorted(s.tensors):
            with open(s.tensors[t].filename, "rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    h.update(block)
    return TrainingData(folder, m, prep, splits, h.hexdigest()[:16])


def indices(split: Split, kinds) -> np.ndarray:
    """Rows of the split whose pair kind is one of `kinds`."""
    idx = np.array([i for i, it in enumerate(split.items) if it.get("kind") in kinds], dtype=np.int64)
    if idx.size == 0:
        raise DatasetError(f"split '{split.name}' has no examples of kind {sorted(kinds)} (it has {split.pair_kinds})")
    return idx


def concat(a: dict, b: dict) -> dict:
    import torch
    return {k: torch.cat([a[k], b[k]]) for k in a}


def model_inputs(split: Split, kinds=None) -> dict:
    """The training job's in-memory form of a split: float16 tensors [N, 1, H, W] named as train.py uses them
    (target = the unmasked crop, hf = the detail collage), restricted to the given pair kinds (None: all)."""
    import torch
    idx = np.arange(split.count) if kinds is None else indices(split, kinds)
    names = {"target": "original", "mask": "mask", "hf": "detail", "reference": "reference"}
    return {k: torch.from_numpy(np.ascontiguousarray(split.tensors[v][idx]))[:, None].to(torch.float16)
            for k, v in names.items()}
