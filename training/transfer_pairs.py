"""Lesion-transfer training pairs (`pipeline synth lesion-transfer`, src/Pipeline.Imaging/Synthetic/LesionTransferPairs.cs):
the same lesion drawn over two different tissues. The training item's target is the target image's crop around its
lesion (the lesion over the target's own tissue); its reference is the reference crop from the *other* image, whose
background is other tissue. So the network cannot score by copying the reference's pixels into the box: it has to
put the lesion onto the target's tissue (AnyDoor's other-frame references, made exact by the phantom)."""
from __future__ import annotations

import csv
import hashlib
import os
from dataclasses import dataclass

import numpy as np
import torch

from data import DatasetError, read_display
from preprocess import PreprocessError, build_pair

PAIRS_FILE = "lesion_transfer_pairs.csv"


@dataclass(frozen=True)
class TransferPair:
    pair_id: str
    category: str
    reference_path: str
    reference_box: tuple
    target_path: str
    target_box: tuple
    split: str
    row: int


def read_transfer_pairs(folder: str) -> list[TransferPair]:
    path = os.path.join(folder, PAIRS_FILE)
    if not os.path.isfile(path):
        raise DatasetError(f"{folder}: no {PAIRS_FILE} (write one with `pipeline synth lesion-transfer`)")
    index = {}
    for root, _, files in os.walk(os.path.join(folder, "images")):
        for f in files:
            stem, ext = os.path.splitext(f)
            if ext.lower() in (".dicom", ".dcm"):
                index[stem] = os.path.join(root, f)
    pairs = []
    with open(path, newline="", encoding="utf-8") as f:
        for n, r in enumerate(csv.DictReader(f), start=1):
            try:
                ref_box = tuple(float(r[f"reference_{k}"]) for k in ("xmin", "ymin", "xmax", "ymax"))
                tgt_box = tuple(float(r[f"target_{k}"]) for k in ("xmin", "ymin", "xmax", "ymax"))
            except (KeyError, ValueError) as e:
                raise DatasetError(f"{path} row {n}: bad or missing box ({e})") from e
            for which in ("reference", "target"):
                if r[f"{which}_image_id"] not in index:
                    raise DatasetError(f"{path} row {n}: no DICOM for {which} image '{r[f'{which}_image_id']}'")
            if r["reference_image_id"] == r["target_image_id"]:
                raise DatasetError(f"{path} row {n}: reference and target are the same image; a transfer pair needs two")
            pairs.append(TransferPair(r["pair_id"], r["category"], index[r["reference_image_id"]], ref_box,
                                      index[r["target_image_id"]], tgt_box, (r.get("split") or "training").strip().lower(), n))
    if not pairs:
        raise DatasetError(f"{path}: no pairs")
    return pairs


def fingerprint(pairs) -> str:
    h = hashlib.sha256()
    for p in pairs:
        h.update(f"{p.pair_id}|{p.reference_box}|{p.target_box}|{p.split}|{os.path.getsize(p.target_path)}\n".encode())
    return h.hexdigest()[:16]


def build_transfer_cache(pairs, *, variants: int, ratio_range, resolution: int, ref_size: int, ref_expand: float,
                         rng: np.random.Generator, log, what: str) -> dict:
    """Each pair `variants` times (fresh zoom-in ratio): target crop from the target image at its box, reference crop
    from the reference image at its box; float16 tensors in the training cache's layout."""
    keys = ("target", "mask", "hf", "reference")
    out = {k: [] for k in keys}
    skipped = 0
    for p in pairs:
        target_display, reference_display = read_display(p.target_path), read_display(p.reference_path)
        for _ in range(variants):
            try:
                pair = build_pair(target_display, p.target_box, float(rng.uniform(*ratio_range)), resolution, ref_size,
                                  ref_expand, ref_box=p.reference_box, ref_display=reference_display)
            except PreprocessError as e:
                log("skip", item=f"pair {p.pair_id} row {p.row}", reason=str(e))
                skipped += 1
                break
            for k in keys:
                out[k].append(getattr(pair, k))
    if not out["target"]:
        raise DatasetError(f"no usable {what} transfer pairs (all {skipped} skipped)")
    cache = {k: torch.from_numpy(np.stack(v)[:, None]).to(torch.float16) for k, v in out.items()}
    log("cache", split=what, items=int(cache["target"].shape[0]), pairs=len(pairs), skipped=skipped)
    return cache


def concat(a: dict, b: dict) -> dict:
    return {k: torch.cat([a[k], b[k]]) for k in a}
