#!/usr/bin/python3
"""Reference vectors for Sobel, binary erosion, the breast foreground mask, the HF map and the feather alpha.

Run with Debian's python3 (python3-scipy 1.10):  /usr/bin/python3 make_vectors.py
All arrays are .npy (float32 images, uint8 masks).
"""
import os

import numpy as np
from scipy import ndimage

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(7)


def save(name, a):
    np.save(os.path.join(HERE, name), a)


# --- Sobel: scipy.ndimage.sobel with replicate borders (mode="nearest"); axis=1 is Gx, axis=0 is Gy
img = rng.random((19, 23), dtype=np.float32)
img[5:12, 6:15] += 1.0
save("sobel_input.npy", img)
save("sobel_gx.npy", ndimage.sobel(img, axis=1, mode="nearest").astype(np.float32))
save("sobel_gy.npy", ndimage.sobel(img, axis=0, mode="nearest").astype(np.float32))
col = img[:, :1].copy()
save("sobel_col_input.npy", col)
save("sobel_col_gx.npy", ndimage.sobel(col, axis=1, mode="nearest").astype(np.float32))
save("sobel_col_gy.npy", ndimage.sobel(col, axis=0, mode="nearest").astype(np.float32))

# --- Gaussian smoothing: scipy.ndimage.gaussian_filter with replicate borders, truncate 4
for s in (0.7, 1.5, 3.0):
    save(f"gaussian_{s}.npy", ndimage.gaussian_filter(img, s, mode="nearest", truncate=4.0).astype(np.float32))

# --- Binary erosion by a k x k square, pixels outside the image counting as set (border_value=1)
blobs = ndimage.gaussian_filter(rng.random((33, 40)), 3) > 0.5
blobs[:, :4] = True  # foreground touching the border must not erode from it
mask = blobs.astype(np.uint8)
save("erosion_input.npy", mask)
for k in (1, 2, 3, 4, 5, 20):
    out = ndimage.binary_erosion(mask, structure=np.ones((k, k), bool), border_value=1)
    save(f"erosion_{k}.npy", out.astype(np.uint8))
    out = ndimage.binary_erosion(mask, structure=np.ones((k, k), bool), border_value=0)
    save(f"erosion_{k}_border0.npy", out.astype(np.uint8))

# --- Breast foreground mask: threshold, largest 8-connected component, fill holes (4-connected background)
H, W = 50, 60
yy, xx = np.mgrid[0:H, 0:W]
breast = (((xx - 0) / 40.0) ** 2 + ((yy - 25) / 22.0) ** 2 < 1).astype(np.float32)
tissue = breast * (0.3 + 0.5 * ndimage.gaussian_filter(rng.random((H, W)), 2)).astype(np.float32)
tissue[20:24, 10:14] = 0.0        # a hole inside the breast (dark fat/lesion), must be filled
tissue[2:5, 52:57] = 0.9          # a label in the corner: a separate, smaller component
tissue[40, 45] = 0.8              # isolated noise pixel
tissue[45:47, 0:2] = 0.0          # a notch open to the border: stays background
fg_input = tissue.astype(np.float32)
save("foreground_input.npy", fg_input)
t = 0.05
lab, n = ndimage.label(fg_input > t, structure=np.ones((3, 3), bool))
sizes = np.bincount(lab.ravel())
sizes[0] = 0
largest = lab == np.argmax(sizes)
save("foreground_mask.npy", ndimage.binary_fill_holes(largest).astype(np.uint8))
# the same after smoothing with sigma 1.5 (the isolated noise pixel and the thin hole edges blur away)
smoothed = ndimage.gaussian_filter(fg_input, 1.5, mode="nearest", truncate=4.0)
lab, n = ndimage.label(smoothed > t, structure=np.ones((3, 3), bool))
sizes = np.bincount(lab.ravel())
sizes[0] = 0
save("foreground_mask_smoothed.npy", ndimage.binary_fill_holes(lab == np.argmax(sizes)).astype(np.uint8))

# --- HF map on a 32 x 32 display-space reference with a padded (support-less) band
S = 32
ref = rng.random((S, S), dtype=np.float32) * 0.5
ref[10:20, 12:22] += 0.5
support = np.ones((S, S), np.uint8)
support[:5, :] = 0
ref[:5, :] = 0.0
save("hf_input.npy", ref)
save("hf_support.npy", support)
gx = ndimage.sobel(ref, axis=1, mode="nearest")
gy = ndimage.sobel(ref, axis=0, mode="nearest")
E = ndimage.binary_erosion(support, structure=np.ones((3, 3), bool), border_value=0)
hf = np.clip(0.5 * (np.abs(gx) + np.abs(gy)), 0, 1) * ref * E
save("hf_output.npy", hf.astype(np.float32))

# --- Feather alpha for box [10, 20) x [5, 12), margin 5, sigma 2 (docs/preprocessing.md, Compositing)
def profile(first, count, b0, b1, m, s):
    p = np.arange(first, first + count)
    d = np.where(p < b0, b0 - p, np.where(p >= b1, p - b1 + 1, 0))
    tail = np.exp(-((m + 1.0) ** 2) / (2 * s * s))
    g = (np.exp(-(d.astype(np.float64) ** 2) / (2 * s * s)) - tail) / (1 - tail)
    g[d == 0] = 1
    g[d > m] = 0
    return g

m, s = 5, 2.0
ax = profile(10 - m, 10 + 2 * m, 10, 20, m, s)
ay = profile(5 - m, 7 + 2 * m, 5, 12, m, s)
save("feather_alpha.npy", (ay[:, None] * ax[None, :]).astype(np.float32))


# --- Keeping the target's tissue under an inserted lesion (docs/preprocessing.md), in model space: inside the box
# clip(original + taper max(sample - fill, 0), -1, 1), outside it clip(sample); fill = G(sample w) / (G(w) + 1e-6), w = the 2-px band
# just inside the box edge (the box minus its binary_erosion by a 5 x 5 square, the crop's outside counting as
# background), G = gaussian_filter with replicate borders, truncate 4, sigma 6. Own generator: the vectors above stay.
tt = np.random.default_rng(2026)
original = (ndimage.gaussian_filter(tt.random((24, 24)), 1.0) * 2.4 - 1.2).clip(-1, 1).astype(np.float32)
sample = (tt.random((24, 24)) * 2 - 1).astype(np.float32)
mask = np.zeros((24, 24), np.float32)
mask[7:19, 5:15] = 1
band = ((mask > 0) & ~ndimage.binary_erosion(mask > 0, np.ones((5, 5), bool), border_value=0)).astype(np.float64)
g = lambda a: ndimage.gaussian_filter(a, 6.0, mode="nearest", truncate=4.0)
fill = g(sample.astype(np.float64) * band) / (g(band) + 1e-6)
save("texture_original.npy", original)
save("texture_sample.npy", sample)
save("texture_mask.npy", mask)
save("texture_fill.npy", fill.astype(np.float32))
# the excess is tapered at the box edge: weight min(1, (k - 1) / 2), k the chessboard distance to the nearest pixel
# outside the box or the crop (scipy's distance_transform_cdt on the mask padded with background)
k = ndimage.distance_transform_cdt(np.pad(mask > 0, 1), metric="chessboard")[1:-1, 1:-1]
taper = np.clip((k - 1) / 2.0, 0, 1)
save("texture_taper.npy", np.where(mask > 0, taper, 0).astype(np.float32))
save("texture_kept.npy", np.clip(np.where(mask > 0, original + taper * np.maximum(sample - fill, 0), sample), -1, 1).astype(np.float32))


# --- Matching the box to its border (docs/preprocessing.md), in model space: out = original outside the box,
# clip(sample + f, -1, 1) inside, where f solves the 5-point Laplace equation on the box pixels with Dirichlet values
# original - sample on the pixels just outside the box (0 beyond the crop). Solved here with scipy.sparse's direct
# solver on the assembled system (the C# solves it with sine transforms). Two boxes: one inside the crop, one touching
# its left and bottom edges. Own generator: the vectors above stay.
from scipy import sparse
from scipy.sparse.linalg import spsolve

bm = np.random.default_rng(2027)
bm_original = (ndimage.gaussian_filter(bm.random((24, 24)), 1.0) * 2.4 - 1.2).clip(-1, 1).astype(np.float32)
bm_sample = (ndimage.gaussian_filter(bm.random((24, 24)), 2.0) * 2 - 0.4).clip(-1, 1).astype(np.float32)
save("boundary_original.npy", bm_original)
save("boundary_sample.npy", bm_sample)


def boundary_match(original, sample, left, top, width, height):
    r = original.shape[0]
    d = original.astype(np.float64) - sample.astype(np.float64)
    idx = lambda x, y: (y - top) * width + (x - left)
    inside = lambda x, y: left <= x < left + width and top <= y < top + height
    rows, cols, vals = [], [], []
    b = np.zeros(width * height)
    for y in range(top, top + height):
        for x in range(left, left + width):
            p = idx(x, y)
            rows.append(p); cols.append(p); vals.append(4.0)
            for qx, qy in ((x - 1, y), (x + 1, y), (x, y - 1), (x, y + 1)):
                if inside(qx, qy):
                    rows.append(p); cols.append(idx(qx, qy)); vals.append(-1.0)
                elif 0 <= qx < r and 0 <= qy < r:
                    b[p] += d[qy, qx]
    a = sparse.csr_matrix((vals, (rows, cols)), shape=(width * height, width * height))
    f = spsolve(a, b).reshape(height, width)
    out = original.astype(np.float64).copy()
    out[top:top + height, left:left + width] = np.clip(sample[top:top + height, left:left + width] + f, -1, 1)
    return out.astype(np.float32)


save("boundary_inner.npy", boundary_match(bm_original, bm_sample, 6, 5, 11, 13))
save("boundary_edge.npy", boundary_match(bm_original, bm_sample, 0, 14, 9, 10))


# --- Replacement tissue donor (docs/preprocessing.md, "Replacement: tissue from the image itself"): brute force over
# every integer offset of the definition (direct sums, no FFT); the score is var(t - d) / max(sd(t) sd(d), (1/255)^2)
# over the box's ring (Chebyshev distance <= ring, outside the box, inside the image); with an air mask, an offset
# whose box grown by the margin holds a pixel that is air in the donor and tissue in the target is not admissible.
# A 96 x 80 texture whose box region was replaced by a bright blob (the old lesion), with a patch elsewhere copied from
# the box's surroundings so one offset matches exactly (up to brightness and contrast). Own generator.
td = np.random.default_rng(2028)
tex = ndimage.gaussian_filter(td.random((80, 96)), (0.8, 3.0)).astype(np.float32)
tex = ((tex - tex.min()) / (tex.max() - tex.min())).astype(np.float32)
bx, by, bw, bh = 40, 30, 12, 10     # the box [x, x + w) x [y, y + h)
margin = 5
# the true tissue around the box also lies at offset (-29, 23): copy the window there, brighter and with less contrast
src = tex[by - 8:by + bh + 8, bx - 8:bx + bw + 8].copy()
tex[by + 23 - 8:by + 23 + bh + 8, bx - 29 - 8:bx - 29 + bw + 8] = 0.8 * src + 0.15
# a flat window (air, a saturated region) that the unnormalised variance of the difference preferred
tex[2:24, 62:92] = 0.5
tex[by:by + bh, bx:bx + bw] += 0.6 * np.exp(-(((np.arange(bw) - bw / 2) / 3.0) ** 2))[None, :]
FLOOR = 1.0 / 255


def ring_score(img, bx, by, bw, bh, ring, dx, dy):
    H, W = img.shape
    ys, xs = np.mgrid[max(by - ring, 0):min(by + bh + ring, H), max(bx - ring, 0):min(bx + bw + ring, W)]
    keep = ~((xs >= bx) & (xs < bx + bw) & (ys >= by) & (ys < by + bh))
    ys, xs = ys[keep], xs[keep]
    sx, sy = xs + dx, ys + dy
    ok = (sx >= 0) & (sy >= 0) & (sx < W) & (sy < H)
    t = img[ys[ok], xs[ok]].astype(np.float64)
    d = img[sy[ok], sx[ok]].astype(np.float64)
    return np.var(t - d) / max(np.std(t) * np.std(d), FLOOR ** 2)


def donor(img, bx, by, bw, bh, margin, air=None):
    H, W = img.shape
    rnd = lambda v: int(np.floor(v + 0.5))
    ring = max(3, rnd(min(bw, bh) / 4)); reach = int(np.floor(2.5 * max(bw, bh)))
    grow = max(ring, margin)
    best = None
    for dy in range(-reach, reach + 1):
        for dx in range(-reach, reach + 1):
            l, t, r, b = bx - grow + dx, by - grow + dy, bx + bw + grow + dx, by + bh + grow + dy
            if l < 0 or t < 0 or r > W or b > H:
                continue
            kl, kt, kr, kb = bx - margin, by - margin, bx + bw + margin, by + bh + margin
            if l < kr and kl < r and t < kb and kt < b:
                continue
            if air is not None:
                zl, zt, zr, zb = max(kl, 0), max(kt, 0), min(kr, W), min(kb, H)
                if np.any(air[zt + dy:zb + dy, zl + dx:zr + dx] & ~air[zt:zb, zl:zr]):
                    continue
            score = ring_score(img, bx, by, bw, bh, ring, dx, dy)
            if best is None or score < best[2]:
                best = (dx, dy, score)
    return best


save("donor_image.npy", tex)
best = donor(tex, bx, by, bw, bh, margin)
np.save(os.path.join(HERE, "donor_expected.npy"), np.array(best, np.float64))
# ring scores at a few offsets (dx, dy, ring, score), one box at the image's corner (its ring leaves the image), one
# offset onto the flat window (the floor)
rows = [(dx, dy, r, ring_score(tex, bx, by, bw, bh, r, dx, dy)) for dx, dy, r in ((3, -21, 3), (-12, 0, 5), (27, 30, 4), (30, -22, 3))]
rows += [(dx, dy, 3, ring_score(tex, 0, 0, 12, 10, 3, dx, dy)) for dx, dy in ((0, 21), (24, 3))]
np.save(os.path.join(HERE, "donor_ring_scores.npy"), np.array(rows, np.float64))

# A box on the skin line: a breast whose edge runs diagonally through the box, with the skin's bright line and the
# thinning tissue's fall-off inside it, air (0, padding) outside. The donor must carry the same edge (a shift along
# the skin line) and never bring air into the target's tissue.
sk = np.random.default_rng(2029)
H2, W2 = 120, 130
yy, xx = np.mgrid[0:H2, 0:W2].astype(np.float64)
dist = (70 + 0.35 * yy - xx) / np.hypot(1, 0.35)          # distance (px) inside the skin line x = 70 + 0.35 y
fib = ndimage.gaussian_filter(sk.random((H2, W2)), (0.8, 3.0))
fib = (fib - fib.mean()) / fib.std()
thick = np.sqrt(np.clip(1 - np.clip(1 - dist / 25, 0, 1) ** 2, 0, 1))
skin = np.where(dist > 0, (0.5 + 0.5 * thick) * (0.45 + 0.05 * fib) + 0.08 * np.exp(-((dist - 1.0) / 0.8) ** 2), 0.0)
skin_air = dist <= 0
skin = skin.astype(np.float32)
sbx, sby, sbw, sbh = 80, 50, 16, 14                       # the box straddles the skin line
skin[sby:sby + sbh, sbx:sbx + sbw] += (0.3 * np.exp(-((xx[sby:sby + sbh, sbx:sbx + sbw] - 85) ** 2 + (yy[sby:sby + sbh, sbx:sbx + sbw] - 57) ** 2) / 18) * (dist[sby:sby + sbh, sbx:sbx + sbw] > 2)).astype(np.float32)
save("skin_image.npy", skin)
save("skin_air.npy", skin_air.astype(np.uint8))
skin_best = donor(skin, sbx, sby, sbw, sbh, margin, skin_air)
np.save(os.path.join(HERE, "skin_expected.npy"), np.array(skin_best, np.float64))
