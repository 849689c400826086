"""Reference vectors for LesionMask and DicomSegmentation (run with /usr/bin/python3: numpy, scipy, skimage, pydicom).

lesion_*: an original 12-bit texture, a composite that regenerates the box with small texture changes and adds a
bright elliptical lesion, the box, and the expected mask computed independently of the C# code:
    d = |composite - original| over the box, t = skimage.filters.threshold_otsu(d),
    m = largest 8-connected component of d > t (scipy.ndimage.label, structure ones(3, 3)), binary_fill_holes.
liver_1frame.json: what pydicom decodes from its own test file liver_1frame.dcm (a 512 x 512 BINARY SEG).
"""
import hashlib, json, os
import numpy as np
from scipy import ndimage
from skimage.filters import threshold_otsu

here = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20261202)
cases = {}
for name, (h, w, box, amp, noise) in {
    "lesion_mass": (96, 80, (20.5, 30.2, 61.7, 70.0), 400.0, 25.0),
    "lesion_faint": (64, 64, (8, 8, 40, 36), 60.0, 20.0),
    "lesion_edge": (50, 70, (40, 10, 70, 50), 300.0, 10.0),
}.items():
    original = (1500 + 400 * rng.random((h, w))).astype(np.uint16)
    x0, y0, x1, y1 = box
    ix0, iy0, ix1, iy1 = int(np.floor(x0)), int(np.floor(y0)), int(np.ceil(x1)), int(np.ceil(y1))
    ix1, iy1 = min(ix1, w), min(iy1, h)
    composite = original.astype(np.float64)
    yy, xx = np.mgrid[0:h, 0:w]
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    ell = ((xx - cx) / ((x1 - x0) / 3)) ** 2 + ((yy - cy) / ((y1 - y0) / 3.5)) ** 2 <= 1
    inside = (xx >= ix0) & (xx < ix1) & (yy >= iy0) & (yy < iy1)
    composite[inside] += rng.normal(0, noise, inside.sum())
    composite[ell & inside] += amp
    composite = np.clip(np.round(composite), 0, 4095).astype(np.uint16)
    d = np.abs(composite.astype(np.float64) - original.astype(np.float64))[iy0:iy1, ix0:ix1]
    t = threshold_otsu(d)
    m = d > t
    labels, n = ndimage.label(m, structure=np.ones((3, 3)))
    sizes = ndimage.sum(m, labels, range(1, n + 1))
    m = labels == (1 + int(np.argmax(sizes)))
    m = ndimage.binary_fill_holes(m)
    full = np.zeros((h, w), np.uint8)
    full[iy0:iy1, ix0:ix1] = m
    np.save(os.path.join(here, f"{name}_original.npy"), original)
    np.save(os.path.join(here, f"{name}_composite.npy"), composite)
    np.save(os.path.join(here, f"{name}_mask.npy"), full)
    cases[name] = {"box": [x0, y0, x1, y1], "threshold": float(t), "pixels": int(full.sum())}
json.dump(cases, open(os.path.join(here, "lesion_cases.json"), "w"), indent=1)

import pydicom
from pydicom.data import get_testdata_file
path = get_testdata_file("liver_1frame.dcm")
ds = pydicom.dcmread(path)
a = ds.pixel_array.astype(np.uint8)
ys, xs = np.nonzero(a)
json.dump({
    "file": "liver_1frame.dcm", "rows": int(ds.Rows), "columns": int(ds.Columns),
    "segmentLabel": str(ds.SegmentSequence[0].SegmentLabel),
    "referencedSopInstanceUid": str(ds.PerFrameFunctionalGroupsSequence[0].DerivationImageSequence[0].SourceImageSequence[0].ReferencedSOPInstanceUID),
    "pixels": int(a.sum()), "box": [int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1],
    "maskSha256": hashlib.sha256(a.tobytes()).hexdigest(),
}, open(os.path.join(here, "liver_1frame.json"), "w"), indent=1)
