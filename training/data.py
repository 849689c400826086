"""Dataset reading: a local folder in the pipeline's layout (VinDr-Mammo CSV + DICOMs).

Layout (what `pipeline synth mammo --out <folder>` writes, and what VinDr-Mammo ships):
  <folder>/finding_annotations.csv   (or the only *.csv at the top level)
  <folder>/images/<study_id>/<image_id>.dicom   (.dcm also accepted; a recursive search by image_id is the fallback)
CSV columns used: image_id, study_id, finding_categories, xmin, ymin, xmax, ymax, split (and height/width, checked
against the DICOM when present). Rows without a box ("No Finding") are skipped.

A dataset in blob storage is read by first copying it to a local folder (see training/README.md).
"""
from __future__ import annotations

import csv
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from preprocess import PreprocessError, display_from_modality


class DatasetError(ValueError):
    """A dataset problem; the message names the file/row and the problem."""


@dataclass(frozen=True)
class Finding:
    image_id: str
    study_id: str
    path: str
    box: tuple[float, float, float, float]
    category: str
    split: str          # "training" | "test" (VinDr) - anything else is kept as given
    row: int            # 1-based CSV data row, for messages


def find_annotation_csv(folder: Path) -> Path:
    preferred = folder / "finding_annotations.csv"
    if preferred.is_file():
        return preferred
    csvs = sorted(p for p in folder.glob("*.csv") if p.is_file())
    if len(csvs) == 1:
        return csvs[0]
    if not csvs:
        raise DatasetError(f"dataset '{folder}': no finding_annotations.csv (or other *.csv) at the top level")
    raise DatasetError(f"dataset '{folder}': several CSV files ({', '.join(p.name for p in csvs)}) "
                       "and no finding_annotations.csv")


def _parse_float(value: str):
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _category(raw: str) -> str:
    s = (raw or "").strip().strip("[]")
    parts = [p.strip().strip("'\"") for p in s.split(",") if p.strip()]
    return parts[0] if parts else "Unknown"


def _resolve_image(folder: Path, study_id: str, image_id: str, index: dict | None) -> Path | None:
    for ext in (".dicom", ".dcm", ""):
        p = folder / "images" / study_id / f"{image_id}{ext}"
        if p.is_file():
            return p
    if index is not None:
        return index.get(image_id)
    return None


def read_findings(folder: str | os.PathLike) -> list[Finding]:
    folder = Path(folder)
    if not folder.is_dir():
        raise DatasetError(f"dataset folder '{folder}' does not exist")
    csv_path = find_annotation_csv(folder)
    findings: list[Finding] = []
    index = None
    with open(csv_path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        need = {"image_id", "xmin", "ymin", "xmax", "ymax"}
        missing = need - set(reader.fieldnames or [])
        if missing:
            raise DatasetError(f"{csv_path}: missing column(s) {sorted(missing)}")
        for n, row in enumerate(reader, start=1):
            coords = [_parse_float(row.get(k, "")) for k in ("xmin", "ymin", "xmax", "ymax")]
            if any(c is None for c in coords):
                continue   # "No Finding" row
            x0, y0, x1, y1 = coords
            if x1 <= x0 or y1 <= y0:
                raise DatasetError(f"{csv_path} row {n} (image {row['image_id']}): empty box {coords}")
            image_id, study_id = row["image_id"].strip(), (row.get("study_id") or "").strip()
            path = _resolve_image(folder, study_id, image_id, index)
            if path is None and index is None:
                index = {}
                for p in (folder / "images" if (folder / "images").is_dir() else folder).rglob("*"):
                    if p.is_file() and p.suffix.lower() in (".dicom", ".dcm", ""):
                        index.setdefault(p.stem, p)
                path = index.get(image_id)
            if path is None:
                raise DatasetError(f"{csv_path} row {n}: no DICOM for image_id '{image_id}' "
                                   f"(looked for images/{study_id}/{image_id}.dicom|.dcm)")
            findings.append(Finding(image_id, study_id, str(path), (x0, y0, x1, y1),
                                    _category(row.get("finding_categories", "")),
                                    (row.get("split") or "training").strip().lower(), n))
    if not findings:
        raise DatasetError(f"{csv_path}: no rows with a finding box")
    return findings


def read_display(path: str) -> np.ndarray:
    """DICOM -> display image in [0, 1]: modality LUT, VOI (first window), MONOCHROME1 inversion
    (docs/preprocessing.md "Values")."""
    import pydicom  # imported here so the rest of training/ works without pydicom installed
    try:
        ds = pydicom.dcmread(path)
        stored = ds.pixel_array
    except Exception as e:  # pydicom raises many types; name the file
        raise DatasetError(f"DICOM '{path}': cannot read pixels ({type(e).__name__}: {e})") from e
    if stored.ndim != 2:
        raise DatasetError(f"DICOM '{path}': expected one grayscale frame, got pixel array shape {stored.shape}")
    slope = float(getattr(ds, "RescaleSlope", 1) or 1)
    intercept = float(getattr(ds, "RescaleIntercept", 0) or 0)
    modality = stored.astype(np.float64) * slope + intercept

    def first(v):
        if v is None:
            return None
        try:
            return float(v[0]) if isinstance(v, (list, tuple)) or hasattr(v, "__len__") and not isinstance(v, str) \
                else float(v)
        except (TypeError, ValueError, IndexError):
            return None

    center = first(getattr(ds, "WindowCenter", None))
    width = first(getattr(ds, "WindowWidth", None))
    function = str(getattr(ds, "VOILUTFunction", "LINEAR") or "LINEAR")
    mono1 = str(getattr(ds, "PhotometricInterpretation", "MONOCHROME2")).upper() == "MONOCHROME1"
    try:
        return display_from_modality(modality, center, width, function, mono1)
    except PreprocessError as e:
        raise DatasetError(f"DICOM '{path}': {e}") from e
