#!/usr/bin/python3
"""PNG files and their expected pixels for Pipeline.Imaging.Codecs.PngCodec.

Run with Debian's python3 (python3-pil 9.4):  /usr/bin/python3 make_vectors.py
pil_*.png   written by PIL in every mode it saves; pil_*.npy = PIL's own decode (palette expanded to RGB/RGBA, "1" as 0/255).
raw_*.png   written here with numpy + zlib, so that every filter type (0-4) and Adam7 interlacing (which PIL cannot
            write) are exercised; raw_*.npy = the source pixels. PIL must decode each raw_*.png to the same pixels
            (checked below), so these files are valid PNGs by an independent reader.
"""
import os
import struct
import zlib

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(3)


def out(name):
    return os.path.join(HERE, name)


# ---------- PIL-written files
def pil_case(name, im, expected, **save_kw):
    im.save(out(f"pil_{name}.png"), **save_kw)
    np.save(out(f"pil_{name}.npy"), expected(Image.open(out(f"pil_{name}.png"))))


h, w = 21, 34
gray8 = rng.integers(0, 256, (h, w), dtype=np.uint8)
rgb8 = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
rgba8 = rng.integers(0, 256, (h, w, 4), dtype=np.uint8)
la8 = rng.integers(0, 256, (h, w, 2), dtype=np.uint8)
gray16 = rng.integers(0, 65536, (h, w), dtype=np.uint16)
ident = lambda im: np.asarray(im)
pil_case("L", Image.fromarray(gray8, "L"), ident)
pil_case("RGB", Image.fromarray(rgb8, "RGB"), ident)
pil_case("RGBA", Image.fromarray(rgba8, "RGBA"), ident)
pil_case("LA", Image.fromarray(la8, "LA"), ident)
pil_case("I16", Image.fromarray(gray16, "I;16"), lambda im: np.asarray(im).astype(np.uint16))
pil_case("1", Image.fromarray(gray8 > 127), lambda im: np.asarray(im.convert("L")))
pal = Image.fromarray(rgb8 // 64 * 64, "RGB").quantize(colors=16)
pil_case("P", pal, lambda im: np.asarray(im.convert("RGB")))
pil_case("P4bit", pal, lambda im: np.asarray(im.convert("RGB")), bits=4)
palt = pal.copy()
palt.info["transparency"] = bytes([0, 128] + [255] * 14)
pil_case("P_tRNS", palt, lambda im: np.asarray(im.convert("RGBA")), transparency=bytes([0, 128] + [255] * 14))
pil_case("RGB_optimize", Image.fromarray(rgb8, "RGB"), ident, optimize=True, compress_level=9)
# a large-ish smooth image makes PIL's adaptive filtering pick several filter types
yy, xx = np.mgrid[0:64, 0:80]
smooth = ((np.sin(xx / 7.0) + np.cos(yy / 5.0)) * 60 + 128).astype(np.uint8)
pil_case("L_smooth", Image.fromarray(smooth, "L"), ident)


# ---------- hand-written files
def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else (b if pb <= pc else c)


def filter_row(ft, row, prior, bpp):
    o = bytearray(len(row))
    for i in range(len(row)):
        a = row[i - bpp] if i >= bpp else 0
        b = prior[i]
        c = prior[i - bpp] if i >= bpp else 0
        pred = [0, a, b, (a + b) // 2, paeth(a, b, c)][ft]
        o[i] = (row[i] - pred) & 0xFF
    return bytes([ft]) + bytes(o)


def pack_rows(samples, depth):
    """samples: (h, w*ch) integer array -> list of row byte strings."""
    rows = []
    for r in samples:
        if depth == 16:
            rows.append(b"".join(struct.pack(">H", int(v)) for v in r))
        elif depth == 8:
            rows.append(bytes(int(v) for v in r))
        else:
            bits = "".join(format(int(v), f"0{depth}b") for v in r)
            bits += "0" * (-len(bits) % 8)
            rows.append(bytes(int(bits[i:i + 8], 2) for i in range(0, len(bits), 8)))
    return rows


def chunk(t, body):
    return struct.pack(">I", len(body)) + t + body + struct.pack(">I", zlib.crc32(t + body) & 0xFFFFFFFF)


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def write_png(name, pixels, depth, color, filters, interlace=False, palette=None, trns=None):
    """pixels: (h, w, ch) stored samples (palette indices for colour type 3). filters: callable row index -> filter type."""
    h, w, ch = pixels.shape
    bpp = max(1, ch * depth // 8)
    passes = ADAM7 if interlace else [(0, 0, 1, 1)]
    raw = b""
    k = 0
    for (x0, y0, dx, dy) in passes:
        sub = pixels[y0::dy, x0::dx]
        if sub.shape[0] == 0 or sub.shape[1] == 0:
            continue
        rows = pack_rows(sub.reshape(sub.shape[0], -1), depth)
        prior = bytes(len(rows[0]))
        for r in rows:
            raw += filter_row(filters(k), r, prior, bpp)
            prior = r
            k += 1
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, color, 0, 0, 1 if interlace else 0))
    if palette is not None:
        data += chunk(b"PLTE", bytes(palette.astype(np.uint8).ravel()))
    if trns is not None:
        data += chunk(b"tRNS", bytes(trns))
    data += chunk(b"tEXt", b"Comment\x00ancillary chunk the reader must skip")
    comp = zlib.compress(raw, 9)
    data += chunk(b"IDAT", comp[: len(comp) // 2]) + chunk(b"IDAT", comp[len(comp) // 2:])  # split IDAT
    data += chunk(b"IEND", b"")
    with open(out(f"raw_{name}.png"), "wb") as f:
        f.write(data)


def case(name, expected, pil_expected=None, **kw):
    write_png(name, **kw)
    np.save(out(f"raw_{name}.npy"), expected)
    got = np.asarray(Image.open(out(f"raw_{name}.png")).convert(*(pil_expected or ()))) if pil_expected else np.asarray(Image.open(out(f"raw_{name}.png")))
    ref = expected if expected.ndim == 2 or expected.shape[2] > 1 else expected[..., 0]
    if got.dtype != np.uint8 and ref.dtype == np.uint8:
        got = got.astype(np.uint8)
    assert got.shape == ref.shape and np.array_equal(got.astype(np.int64), ref.astype(np.int64)), name


g = rng.integers(0, 256, (9, 13, 1), dtype=np.uint8)
for ft in range(5):
    case(f"gray8_filter{ft}", g[..., 0], pixels=g, depth=8, color=0, filters=lambda k, ft=ft: ft)
rgb = rng.integers(0, 256, (11, 7, 3), dtype=np.uint8)
for ft in range(5):
    case(f"rgb8_filter{ft}", rgb, pixels=rgb, depth=8, color=2, filters=lambda k, ft=ft: ft)
rgba16 = rng.integers(0, 65536, (6, 5, 4), dtype=np.uint16)
write_png("rgba16_mixed", rgba16, 16, 6, lambda k: k % 5)
np.save(out("raw_rgba16_mixed.npy"), rgba16)  # PIL reduces 16-bit RGBA to 8 bits, so it is not cross-checked
gray16 = rng.integers(0, 65536, (8, 10, 1), dtype=np.uint16)
case("gray16_mixed", gray16[..., 0], pixels=gray16, depth=16, color=0, filters=lambda k: (k * 3) % 5)
la = rng.integers(0, 256, (5, 17, 2), dtype=np.uint8)
case("la8_interlaced", la, pixels=la, depth=8, color=4, filters=lambda k: k % 5, interlace=True)
g13 = rng.integers(0, 256, (7, 13, 1), dtype=np.uint8)
case("gray8_interlaced", g13[..., 0], pixels=g13, depth=8, color=0, filters=lambda k: k % 5, interlace=True)
rgb16 = rng.integers(0, 65536, (11, 9, 3), dtype=np.uint16)
write_png("rgb16_interlaced", rgb16, 16, 2, lambda k: (k + 2) % 5, interlace=True)
np.save(out("raw_rgb16_interlaced.npy"), rgb16)
one = rng.integers(0, 256, (1, 1, 3), dtype=np.uint8)
case("rgb8_1x1_interlaced", one, pixels=one, depth=8, color=2, filters=lambda k: 4, interlace=True)
for depth in (1, 2, 4):
    v = rng.integers(0, 1 << depth, (5, 11, 1), dtype=np.uint8)
    scaled = (v[..., 0].astype(np.int32) * (255 // ((1 << depth) - 1))).astype(np.uint8)
    case(f"gray{depth}bit_interlaced", scaled, pil_expected=("L",), pixels=v, depth=depth, color=0, filters=lambda k: k % 5, interlace=True)
palette = rng.integers(0, 256, (16, 3), dtype=np.uint8)
idx = rng.integers(0, 16, (3, 10, 1), dtype=np.uint8)
case("pal4_interlaced", palette[idx[..., 0]], pil_expected=("RGB",), pixels=idx, depth=4, color=3, filters=lambda k: k % 5,
     interlace=True, palette=palette)
trns = [255] * 16
trns[3], trns[7] = 0, 100
rgba_exp = np.concatenate([palette[idx[..., 0]], np.array(trns, np.uint8)[idx[..., 0]][..., None]], axis=2)
case("pal4_tRNS", rgba_exp, pil_expected=("RGBA",), pixels=idx, depth=4, color=3, filters=lambda k: 1, palette=palette, trns=trns[:8])
