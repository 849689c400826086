"""Training-side implementation of docs/preprocessing.md (the C# side is src/Pipeline.Imaging/Preprocessing).

Every function here is a pure numpy function over float arrays; the geometry rules are the ones in
docs/preprocessing.md and are checked against the C# side's frozen vectors in
tests/Pipeline.Imaging.Tests/data/preprocess/ by training/tests/test_preprocess_vectors.py, so training
and inference build their crops the same way.

Coordinates: pixels, x right, y down, boxes [x0, y0, x1, y1) (VinDr xmin, ymin, xmax, ymax; floats allowed).
Arrays are indexed [y, x].
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = [
    "PreprocessError",
    "voi_window",
    "display_from_modality",
    "to_model_space",
    "to_display_space",
    "resize_matrix",
    "resize",
    "ZoomInCrop",
    "zoom_in_crop",
    "ReferenceCrop",
    "reference_crop",
    "sobel_hf",
    "hf_collage",
    "masked_context",
    "TrainingPair",
    "build_pair",
]


class PreprocessError(ValueError):
    """Bad input to a preprocessing step; the message names the item and the problem."""


# ---------------------------------------------------------------------------------------------
# Values (docs/preprocessing.md "Values")
# ---------------------------------------------------------------------------------------------

def voi_window(values: np.ndarray, center: float, width: float, function: str = "LINEAR") -> np.ndarray:
    """VOI windowing to [0, 1].

    LINEAR follows DICOM PS3.3 C.11.2.1.2.1 (ymin = 0, ymax = 1):
      x <= c - 0.5 - (w - 1) / 2  -> 0
      x >  c - 0.5 + (w - 1) / 2  -> 1
      else ((x - (c - 0.5)) / (w - 1) + 0.5)
    LINEAR_EXACT follows C.11.2.1.3.2: x <= c - w/2 -> 0, x > c + w/2 -> 1, else (x - c) / w + 0.5.
    SIGMOID follows C.11.2.1.3.1: 1 / (1 + exp(-4 (x - c) / w)).
    """
    v = np.asarray(values, dtype=np.float64)
    fn = (function or "LINEAR").strip().upper()
    if fn == "LINEAR":
        if width < 1:
            raise PreprocessError(f"VOI LINEAR window width {width} < 1 (PS3.3 C.11.2.1.2.1 requires >= 1)")
        lo = center - 0.5 - (width - 1) / 2.0
        hi = center - 0.5 + (width - 1) / 2.0
        if width == 1:
            # degenerate window: a threshold at c - 0.5 (the formula's interior is empty)
            out = (v > lo).astype(np.float64)
        else:
            out = (v - (center - 0.5)) / (width - 1) + 0.5
            out = np.where(v <= lo, 0.0, np.where(v > hi, 1.0, out))
    elif fn == "LINEAR_EXACT":
        if width <= 0:
            raise PreprocessError(f"VOI LINEAR_EXACT window width {width} <= 0 (PS3.3 C.11.2.1.3.2 requires > 0)")
        out = (v - center) / width + 0.5
        out = np.where(v <= center - width / 2.0, 0.0, np.where(v > center + width / 2.0, 1.0, out))
    elif fn == "SIGMOID":
        if width <= 0:
            raise PreprocessError(f"VOI SIGMOID window width {width} <= 0 (PS3.3 C.11.2.1.3.1 requires > 0)")
        out = 1.0 / (1.0 + np.exp(-4.0 * (v - center) / width))
    else:
        raise PreprocessError(f"unsupported VOILUTFunction '{function}'")
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def display_from_modality(modality: np.ndarray, center: float | None, width: float | None,
                          function: str = "LINEAR", monochrome1: bool = False) -> np.ndarray:
    """Modality values -> display image in [0, 1] (VOI, then MONOCHROME1 inversion).

    Without a window (no WindowCenter/Width in the file) the full range of the image's modality values is used,
    i.e. c = (min + max + 1) / 2, w = max - min + 1 for LINEAR, which maps min -> 0 and max -> 1.
    """
    m = np.asarray(modality, dtype=np.float64)
    if m.ndim != 2 or m.size == 0:
        raise PreprocessError(f"expected a non-empty 2-D image, got shape {m.shape}")
    if center is None or width is None:
        lo, hi = float(m.min()), float(m.max())
        center, width, function = (lo + hi + 1) / 2.0, max(hi - lo + 1, 2.0), "LINEAR"
    v = voi_window(m, float(center), float(width), function)
    if monochrome1:
        v = 1.0 - v
    return v.astype(np.float32)


def to_model_space(display: np.ndarray) -> np.ndarray:
    """[0, 1] display -> [-1, 1] model space: m = 2 v - 1."""
    return (2.0 * np.asarray(display, dtype=np.float32) - 1.0).astype(np.float32)


def to_display_space(model: np.ndarray) -> np.ndarray:
    """[-1, 1] model space -> [0, 1] display: v = (m + 1) / 2, clamped."""
    return np.clip((np.asarray(model, dtype=np.float32) + 1.0) / 2.0, 0.0, 1.0).astype(np.float32)


# ---------------------------------------------------------------------------------------------
# Resize rule: area averaging when downscaling (or same size), bilinear half-pixel otherwise.
# Separable: each axis gets its own (out x in) weight matrix, out = Wy @ img @ Wx^T.
# ---------------------------------------------------------------------------------------------

def _area_matrix(n_in: int, n_out: int) -> np.ndarray:
    """Exact area averaging: output i averages the input interval [i n_in / n_out, (i + 1) n_in / n_out) with edge
    pixels weighted by their fractional overlap (= cv2 INTER_AREA when shrinking; = torch 'area' / PIL BOX only at
    integer factors). docs/preprocessing.md "Resize rule"; the C# side's ResampleMode.AreaCoverage."""
    w = np.zeros((n_out, n_in), dtype=np.float64)
    scale = n_in / n_out
    for i in range(n_out):
        lo, hi = i * scale, (i + 1) * scale
        for j in range(int(math.floor(lo)), min(int(math.ceil(hi)), n_in)):
            overlap = min(hi, j + 1) - max(lo, j)
            if overlap > 0:
                w[i, j] = overlap
        w[i] /= w[i].sum()
    return w


def _bilinear_matrix(n_in: int, n_out: int) -> np.ndarray:
    """Bilinear with half-pixel centres, antialias off: src = (i + 0.5) n_in / n_out - 0.5, clamped at 0, neighbour
    index clamped at n_in - 1 (= torch.nn.functional.interpolate(mode='bilinear', align_corners=False))."""
    w = np.zeros((n_out, n_in), dtype=np.float64)
    scale = n_in / n_out
    for i in range(n_out):
        src = max((i + 0.5) * scale - 0.5, 0.0)
        j0 = min(int(math.floor(src)), n_in - 1)
        j1 = min(j0 + 1, n_in - 1)
        f = src - j0
        w[i, j0] += 1.0 - f
        w[i, j1] += f
    return w


def resize_matrix(n_in: int, n_out: int) -> np.ndarray:
    """One axis of the resize rule: exact area averaging when the axis does not grow, bilinear when it grows."""
    if n_in <= 0 or n_out <= 0:
        raise PreprocessError(f"resize from {n_in} to {n_out} pixels: sizes must be positive")
    return _area_matrix(n_in, n_out) if n_out <= n_in else _bilinear_matrix(n_in, n_out)


def resize(img: np.ndarray, out_w: int, out_h: int) -> np.ndarray:
    """Resize a 2-D image by the docs/preprocessing.md rule, decided per axis (separable; float64 inside)."""
    img = np.asarray(img, dtype=np.float64)
    if img.ndim != 2:
        raise PreprocessError(f"resize expects a 2-D image, got shape {img.shape}")
    wy = resize_matrix(img.shape[0], out_h)
    wx = resize_matrix(img.shape[1], out_w)
    return (wy @ img @ wx.T).astype(np.float32)


def _check_box(box, width: int, height: int, what: str = "box"):
    x0, y0, x1, y1 = (float(v) for v in box)
    if not all(math.isfinite(v) for v in (x0, y0, x1, y1)):
        raise PreprocessError(f"{what} {box}: coordinates must be finite")
    if x1 <= x0 or y1 <= y0:
        raise PreprocessError(f"{what} {box}: empty (need xmax > xmin and ymax > ymin)")
    if x1 <= 0 or y1 <= 0 or x0 >= width or y0 >= height:
        raise PreprocessError(f"{what} {box}: lies outside the {width}x{height} image")
    return x0, y0, x1, y1


def _extract_padded(img: np.ndarray, left: int, top: int, w: int, h: int) -> np.ndarray:
    """img[top:top+h, left:left+w] with zero padding outside the image."""
    H, W = img.shape
    out = np.zeros((h, w), dtype=np.float32)
    sx0, sy0 = max(left, 0), max(top, 0)
    sx1, sy1 = min(left + w, W), min(top + h, H)
    if sx1 > sx0 and sy1 > sy0:
        out[sy0 - top:sy1 - top, sx0 - left:sx1 - left] = img[sy0:sy1, sx0:sx1]
    return out


# ---------------------------------------------------------------------------------------------
# Zoom-in crop
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ZoomInCrop:
    left: int
    top: int
    side: int
    box_model: tuple[int, int, int, int]   # [x0, y0, x1, y1) in model pixels
    crop: np.ndarray                        # R x R display space
    mask: np.ndarray                        # R x R, 1 inside box_model


def zoom_in_crop(display: np.ndarray, box, ratio: float, resolution: int) -> ZoomInCrop:
    H, W = display.shape
    x0, y0, x1, y1 = _check_box(box, W, H)
    if not (ratio > 0 and math.isfinite(ratio)):
        raise PreprocessError(f"zoom-in crop ratio {ratio} must be positive")
    bw, bh = x1 - x0, y1 - y0
    side = max(8, int(math.ceil(ratio * max(bw, bh))))
    cx, cy = (x0 + x1) / 2.0, (y0 + y1) / 2.0
    left = int(math.floor(cx - side / 2.0))
    top = int(math.floor(cy - side / 2.0))
    crop = resize(_extract_padded(display, left, top, side, side), resolution, resolution)
    s = resolution / side
    bx0 = min(max(int(math.floor((x0 - left) * s)), 0), resolution)
    by0 = min(max(int(math.floor((y0 - top) * s)), 0), resolution)
    bx1 = min(max(int(math.ceil((x1 - left) * s)), 0), resolution)
    by1 = min(max(int(math.ceil((y1 - top) * s)), 0), resolution)
    mask = np.zeros((resolution, resolution), dtype=np.float32)
    mask[by0:by1, bx0:bx1] = 1.0
    return ZoomInCrop(left, top, side, (bx0, by0, bx1, by1), crop, mask)


# ---------------------------------------------------------------------------------------------
# Reference crop
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ReferenceCrop:
    rect: tuple[int, int, int, int]   # clipped source rect [x0, y0, x1, y1)
    side: int                          # padded square side (source pixels)
    pad_left: int
    pad_top: int
    crop: np.ndarray                   # S x S display space
    support: np.ndarray                # S x S, 1 on the non-padding area


def reference_crop(display: np.ndarray, box, size: int, expand: float = 1.2) -> ReferenceCrop:
    H, W = display.shape
    x0, y0, x1, y1 = _check_box(box, W, H, "reference box")
    if not (expand > 0 and math.isfinite(expand)):
        raise PreprocessError(f"reference expansion {expand} must be positive")
    cx, cy = (x0 + x1) / 2.0, (y0 + y1) / 2.0
    w2, h2 = expand * (x1 - x0) / 2.0, expand * (y1 - y0) / 2.0
    rx0 = max(int(math.floor(cx - w2)), 0)
    ry0 = max(int(math.floor(cy - h2)), 0)
    rx1 = min(int(math.ceil(cx + w2)), W)
    ry1 = min(int(math.ceil(cy + h2)), H)
    w, h = rx1 - rx0, ry1 - ry0
    if w <= 0 or h <= 0:
        raise PreprocessError(f"reference box {box}: empty after clipping to the {W}x{H} image")
    side = max(w, h)
    pad_left, pad_top = (side - w) // 2, (side - h) // 2
    square = np.zeros((side, side), dtype=np.float32)
    square[pad_top:pad_top + h, pad_left:pad_left + w] = display[ry0:ry1, rx0:rx1]
    crop = resize(square, size, size)
    # Support: the content indicator carried through the same resize (float64, the product of two resized 1-D
    # indicators); a pixel is content when at least half of it comes from content (docs/preprocessing.md).
    wm = resize_matrix(side, size)
    ind_x = np.zeros(side)
    ind_x[pad_left:pad_left + w] = 1.0
    ind_y = np.zeros(side)
    ind_y[pad_top:pad_top + h] = 1.0
    support = (np.outer(wm @ ind_y, wm @ ind_x) >= 0.5).astype(np.float32)
    return ReferenceCrop((rx0, ry0, rx1, ry1), side, pad_left, pad_top, crop, support)


# ---------------------------------------------------------------------------------------------
# High-frequency (detail) map and its collage
# ---------------------------------------------------------------------------------------------

def _correlate3(img: np.ndarray, k: np.ndarray) -> np.ndarray:
    """3x3 correlation with replicate borders."""
    p = np.pad(img.astype(np.float64), 1, mode="edge")
    H, W = img.shape
    out = np.zeros((H, W), dtype=np.float64)
    for dy in range(3):
        for dx in range(3):
            if k[dy, dx] != 0:
                out += k[dy, dx] * p[dy:dy + H, dx:dx + W]
    return out


_KX = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=np.float64)
_KY = np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], dtype=np.float64)


def erode3(mask: np.ndarray) -> np.ndarray:
    """Binary erosion by a 3x3 square, once; pixels beyond the border count as 0
    (= scipy.ndimage.binary_erosion(mask, np.ones((3, 3)), border_value=0), docs/preprocessing.md): E is 0 on the
    outermost ring as well as along the padding edge."""
    m = (np.asarray(mask) > 0.5)
    p = np.pad(m, 1, mode="constant", constant_values=False)
    H, W = m.shape
    out = np.ones((H, W), dtype=bool)
    for dy in range(3):
        for dx in range(3):
            out &= p[dy:dy + H, dx:dx + W]
    return out.astype(np.float32)


def sobel_hf(reference: np.ndarray, support: np.ndarray) -> np.ndarray:
    """HF = clamp(0.5 (|Gx| + |Gy|), 0, 1) * I * erode3(support), on the display-space reference."""
    i = np.asarray(reference, dtype=np.float64)
    gx = _correlate3(i, _KX)
    gy = _correlate3(i, _KY)
    hf = np.clip(0.5 * (np.abs(gx) + np.abs(gy)), 0.0, 1.0) * i * erode3(support)
    return hf.astype(np.float32)


def hf_collage(hf: np.ndarray, box_model, resolution: int) -> np.ndarray:
    """HF resized to the box size, written at the box position, model space inside the box (2 HF - 1), 0 outside."""
    bx0, by0, bx1, by1 = (int(v) for v in box_model)
    out = np.zeros((resolution, resolution), dtype=np.float32)
    bw, bh = bx1 - bx0, by1 - by0
    if bw <= 0 or bh <= 0:
        return out
    out[by0:by1, bx0:bx1] = 2.0 * resize(hf, bw, bh) - 1.0
    return out


def masked_context(target_model: np.ndarray, mask: np.ndarray) -> np.ndarray:
    return (np.asarray(target_model, dtype=np.float32) * (1.0 - np.asarray(mask, dtype=np.float32))).astype(np.float32)


# ---------------------------------------------------------------------------------------------
# One training pair (reinsertion: the reference is the lesion itself)
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TrainingPair:
    target: np.ndarray      # R x R model space
    context: np.ndarray     # R x R model space, box region 0
    mask: np.ndarray        # R x R {0, 1}
    hf: np.ndarray          # R x R model-space collage
    reference: np.ndarray   # S x S model space (padding -> -1)
    box_model: tuple[int, int, int, int]


def build_pair(display: np.ndarray, box, ratio: float, resolution: int, ref_size: int,
               ref_expand: float = 1.2, ref_box=None, ref_display: np.ndarray | None = None) -> TrainingPair:
    """Inputs for one item exactly as the pipeline builds them at inference.

    The target crop comes from `display` around `box`; the reference comes from `ref_display` (default: the same
    image) around `ref_box` (default: `box`, i.e. reinsertion)."""
    z = zoom_in_crop(display, box, ratio, resolution)
    ref = reference_crop(display if ref_display is None else ref_display, box if ref_box is None else ref_box,
                         ref_size, ref_expand)
    target = to_model_space(z.crop)
    hf = hf_collage(sobel_hf(ref.crop, ref.support), z.box_model, resolution)
    return TrainingPair(target, masked_context(target, z.mask), z.mask, hf, to_model_space(ref.crop), z.box_model)
