"""A small mammography-like dataset in the pipeline's layout (VinDr CSV + DICOMs) for the training job's tests.

The demo model is trained on `pipeline synth mammo` output; this fixture exists so the Python tests and the CI-sized
training run need neither the C# build nor large files. 16-bit MONOCHROME2 DICOMs with a window, an elliptical breast
with smooth texture, and 1-2 bright lesions per image (round "Mass" or spiculated "Architectural Distortion").

  /usr/bin/python3 training/tests/tiny_dataset.py <out folder> [--count N] [--seed S]
"""
from __future__ import annotations

import argparse
import csv
import os

import numpy as np


def make(out: str, count: int = 8, seed: int = 0, height: int = 384, width: int = 256) -> int:
    import pydicom
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(seed)
    os.makedirs(out, exist_ok=True)
    rows = []
    yy, xx = np.mgrid[0:height, 0:width]
    for i in range(count):
        breast = (xx / (width * 0.8)) ** 2 + ((yy - height / 2) / (height * 0.45)) ** 2 < 1
        tex = gaussian_filter(rng.normal(size=(height, width)), 5) * 8 + gaussian_filter(rng.normal(size=(height, width)), 1.5) * 2
        img = np.where(breast, 1500 + 300 * tex, 100.0)
        study, iid = f"study{i:04d}", f"img{i:04d}"
        for _ in range(int(rng.integers(1, 3))):
            r = rng.uniform(8, 20)
            cx, cy = rng.uniform(r + 10, width * 0.6), rng.uniform(height * 0.25, height * 0.75)
            d = np.hypot(xx - cx, yy - cy)
            if rng.random() < 0.5:
                img += 900 * np.clip((r - d) / 3, 0, 1)
                cat = "Mass"
            else:
                rr = r * (1 + 0.35 * np.sin(7 * np.arctan2(yy - cy, xx - cx)))
                img += 700 * np.clip((rr - d) / 2, 0, 1)
                cat = "Architectural Distortion"
            rows.append(dict(image_id=iid, study_id=study, series_id=f"series{i:04d}", laterality="L",
                             view_position="CC", height=height, width=width, breast_birads="BI-RADS 4",
                             breast_density="DENSITY B", finding_categories=f"['{cat}']", finding_birads="BI-RADS 4",
                             xmin=f"{cx - r * 1.1:.2f}", ymin=f"{cy - r * 1.1:.2f}", xmax=f"{cx + r * 1.1:.2f}",
                             ymax=f"{cy + r * 1.1:.2f}", split="training" if i < count * 0.75 else "test"))
        img = np.clip(img + rng.normal(size=img.shape) * 20, 0, 4095).astype(np.uint16)
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.1.2"   # Digital Mammography X-Ray, For Presentation
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = FileDataset(None, {}, file_meta=meta, preamble=b"\0" * 128)
        ds.is_little_endian, ds.is_implicit_VR = True, False
        ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID
        ds.Modality = "MG"
        ds.Rows, ds.Columns = height, width
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.WindowCenter, ds.WindowWidth = 2000, 3000
        ds.RescaleSlope, ds.RescaleIntercept = 1, 0
        ds.PixelData = img.tobytes()
        os.makedirs(os.path.join(out, "images", study), exist_ok=True)
        ds.save_as(os.path.join(out, "images", study, f"{iid}.dicom"), write_like_original=False)
    with open(os.path.join(out, "finding_annotations.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
        w.writeheader()
        w.writerows(rows)
    return len(rows)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--count", type=int, default=8)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    print(make(a.out, a.count, a.seed))
