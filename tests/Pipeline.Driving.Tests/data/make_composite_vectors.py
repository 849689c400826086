#!/usr/bin/env python3
"""Frozen reference vectors for Pipeline.Driving's compositing (docs/driving.md, "Compositing"), written from the
formulas there, independently of the C# code: the hull mask from scipy's ConvexHull half-planes, the blur with
scipy.ndimage.convolve1d, the bilinear sampling with scipy.ndimage.map_coordinates, the range view with numpy's
lexsort, the box test with a 4x4 homogeneous inverse.

    /usr/bin/python3 tests/Pipeline.Driving.Tests/data/make_composite_vectors.py   # rewrites composite_vectors.json
"""
import json
import math
import os

import numpy as np
from scipy.ndimage import convolve1d, map_coordinates
from scipy.spatial import ConvexHull
from scipy.spatial.transform import Rotation

rng = np.random.default_rng(20261215)
H, W = 32, 1096
PITCH_STEP, LOW, HIGH = 0.0232, -23, 8
MIN_D, MAX_D = 1.4, 54.0
ALPHA, LAMBDA = 0.75, 4.0
out = {}


def hull_mask(xs, ys, width, height):
    hull = ConvexHull(np.column_stack([xs, ys]))
    gx, gy = np.meshgrid(np.arange(width) + 0.5, np.arange(height) + 0.5)
    inside = np.ones((height, width), dtype=bool)
    for a, b, c in hull.equations:
        inside &= a * gx + b * gy + c <= 1e-9
    return inside.astype(np.float64)


# ---- camera: Gaussian blend of the edited crop into the image -----------------------------------------------------
IW, IH, D, SIGMA = 48, 40, 8, 1.2
img = rng.integers(0, 256, size=(IH, IW, 3)).astype(np.uint8)
crop_left, crop_top, side = -3, 5, 30
edited = rng.uniform(-1.2, 1.2, size=(3, D, D)).astype(np.float32)
hu = 12 + rng.uniform(-7, 7, 8)
hv = 20 + rng.uniform(-7, 7, 8)
r = math.ceil(3 * SIGMA)
wx0, wy0 = math.floor(hu.min()) - 2 * r, math.floor(hv.min()) - 2 * r
ww, wh = math.ceil(hu.max()) + 2 * r + 1 - wx0, math.ceil(hv.max()) + 2 * r + 1 - wy0
mask = hull_mask(hu - wx0, hv - wy0, ww, wh)
k = np.exp(-np.arange(-r, r + 1) ** 2 / (2 * SIGMA ** 2))
k /= k.sum()
blur = convolve1d(convolve1d(mask, k, axis=1, mode="constant", cval=0.0), k, axis=0, mode="constant", cval=0.0)
alpha_w = np.minimum(1.0, 2.0 * blur)
result = img.astype(np.float64).copy()
scale = D / side
ys, xs = np.mgrid[0:IH, 0:IW]
inwin = (xs >= wx0) & (xs < wx0 + ww) & (ys >= wy0) & (ys < wy0 + wh)
alpha = np.zeros((IH, IW))
alpha[inwin] = alpha_w[(ys[inwin] - wy0), (xs[inwin] - wx0)]
cy = (ys + 0.5 - crop_top) * scale - 0.5
cx = (xs + 0.5 - crop_left) * scale - 0.5
for c in range(3):
    e = map_coordinates(edited[c].astype(np.float64), [np.clip(cy, 0, D - 1).ravel(), np.clip(cx, 0, D - 1).ravel()], order=1, mode="nearest").reshape(IH, IW)
    e = np.clip((e + 1) * 127.5, 0, 255)
    blended = np.clip(np.floor(alpha * e + (1 - alpha) * img[:, :, c] + 0.5), 0, 255)
    result[:, :, c] = np.where(alpha > 0, blended, img[:, :, c])
out["camera"] = dict(width=IW, height=IH, image=img.ravel().tolist(), crop=[crop_left, crop_top, side], resolution=D,
                     edited=edited.ravel().astype(float).tolist(), hull_u=hu.tolist(), hull_v=hv.tolist(), sigma=SIGMA,
                     result=result.astype(np.uint8).ravel().tolist(), margin=r)

# ---- lidar: range crop back to points, replace pixels in/into the box -------------------------------------------
box_c, box_wlh, box_yaw = np.array([12.0, 2.0, -0.9]), np.array([1.9, 4.3, 1.6]), 0.3
R = Rotation.from_euler("z", box_yaw).as_matrix()
M = np.eye(4); M[:3, :3] = R; M[:3, 3] = box_c
Minv = np.linalg.inv(M)


def inside(p):
    q = (Minv @ np.hstack([p, np.ones((len(p), 1))]).T).T[:, :3]
    return (np.abs(q[:, 0]) <= box_wlh[1] / 2) & (np.abs(q[:, 1]) <= box_wlh[0] / 2) & (np.abs(q[:, 2]) <= box_wlh[2] / 2)


def corners():
    w, l, h = box_wlh
    x = l / 2 * np.array([1, 1, 1, 1, -1, -1, -1, -1]); y = w / 2 * np.array([1, -1, -1, 1, 1, -1, -1, 1]); z = h / 2 * np.array([1, 1, -1, -1, 1, 1, -1, -1])
    return (R @ np.vstack([x, y, z])).T + box_c


beams = PITCH_STEP * np.arange(LOW, HIGH + 1)
n_bg, n_obj = 700, 160
yaw = rng.uniform(-0.5, 0.1, n_bg); pitch = rng.choice(beams[:24], n_bg) + rng.normal(0, 0.002, n_bg); dist = rng.uniform(6, 40, n_bg)
bg = np.column_stack([dist * np.cos(yaw) * np.cos(pitch), -dist * np.sin(yaw) * np.cos(pitch), dist * np.sin(pitch)])
local = rng.uniform(-0.5, 0.5, (n_obj, 3)) * np.array([box_wlh[1], box_wlh[0], box_wlh[2]]) * 0.95
obj = (R @ local.T).T + box_c
xyz = np.vstack([bg, obj])
perm = rng.permutation(len(xyz))
xyz = xyz[perm]
pts = np.column_stack([xyz, rng.uniform(0, 255, len(xyz)), rng.integers(0, 32, len(xyz))]).astype(np.float32)

p = pts.astype(np.float64)
d = np.sqrt((p[:, :3] ** 2).sum(1))
keep = (d >= MIN_D) & (d <= MAX_D)
idx = np.nonzero(keep)[0]
yaw_p = -np.arctan2(p[idx, 1], p[idx, 0]); pitch_p = np.arcsin(p[idx, 2] / d[idx])
tmin, tmax = PITCH_STEP * LOW, PITCH_STEP * HIGH
row = (H - 1) - np.round(np.clip((pitch_p - tmin) / (tmax - tmin) * (H - 1), 0, H - 1)).astype(int)
col = np.minimum(W - 1, np.floor(yaw_p / np.pi * W / 2 + W / 2).astype(int))
pix = row * W + col
order = np.lexsort((idx, d[idx], pix))
first = np.ones(len(order), dtype=bool); first[1:] = pix[order][1:] != pix[order][:-1]
win = order[first]
index_of = np.full(H * W, -1); index_of[pix[win]] = idx[win]
vyaw = np.zeros(H * W, np.float32); vyaw[pix[win]] = yaw_p[win]
vpitch = np.zeros(H * W, np.float32); vpitch[pix[win]] = pitch_p[win]
vdepth = np.zeros(H * W); vdepth[pix[win]] = d[idx[win]]
vint = np.zeros(H * W); vint[pix[win]] = p[idx[win], 3]

c8 = corners()
cd = np.sqrt((c8 ** 2).sum(1)); ccol = -np.arctan2(c8[:, 1], c8[:, 0]) / np.pi * W / 2 + W / 2
wanted = 1.5 * (ccol.max() - ccol.min())
WR = 64 if wanted <= 1 else int(max(64, min(512, 2 ** math.ceil(math.log2(wanted)))))
start = math.floor((ccol.min() + ccol.max()) / 2 - WR / 2)
vcols = (start + np.arange(WR)) % W
lin = lambda x: 2 * x / MAX_D - 1
mn = min(max(lin(cd).min(), -1 + 1e-6), 1 - 2e-6); mx = min(max(lin(cd).max(), mn + 1e-6), 1 - 1e-6)


def norm_depth(x):
    t = np.clip(lin(x), -1, 1)
    return np.where(t < mn, -1 + (1 - ALPHA) * (t + 1) / (mn + 1), np.where(t <= mx, -ALPHA + 2 * ALPHA * (t - mn) / (mx - mn), ALPHA + (1 - ALPHA) * (t - mx) / (1 - mx)))


def denorm_depth(nv):
    nv = np.clip(nv, -1, 1)
    t = np.where(nv < -ALPHA, -1 + (nv + 1) * (mn + 1) / (1 - ALPHA), np.where(nv <= ALPHA, mn + (nv + ALPHA) * (mx - mn) / (2 * ALPHA), mx + (nv - ALPHA) * (1 - mx) / (1 - ALPHA)))
    return (t + 1) * MAX_D / 2


def denorm_int(nv):
    q = (np.clip(nv, -1, 1) + 1) / 2
    return np.where(q <= 0, 255.0, np.clip(-255 / LAMBDA * np.log(np.maximum(q, 1e-300)), 0, 255))


DR = 32
crop_depth = vdepth.reshape(H, W)[:, vcols]
crop_int = vint.reshape(H, W)[:, vcols]
f = WR // DR
base_d = norm_depth(crop_depth).reshape(H, DR, f).mean(2)
base_i = (2 * np.exp(-LAMBDA * crop_int / 255) - 1).reshape(H, DR, f).mean(2)
ed = base_d.copy(); ei = base_i + rng.normal(0, 0.05, base_i.shape)
dc = np.sqrt((box_c ** 2).sum())
# the object's columns: redraw depths around the box centre's (some land inside the box, some behind it)
c_lo, c_hi = int((ccol.min() - start) / f), int(math.ceil((ccol.max() - start) / f))
rows_obj = slice(18, 30)
ed[rows_obj, c_lo:c_hi] = norm_depth(dc + rng.uniform(-1.5, 3.0, ed[rows_obj, c_lo:c_hi].shape))
ed = ed.astype(np.float32); ei = np.clip(ei, -1, 1).astype(np.float32)

# back: nearest upsample along the width (64 / 32 is not a downscale), denormalise
cols_src = np.minimum(DR - 1, (np.arange(WR) * DR) // WR)
back_d = denorm_depth(ed[:, cols_src].astype(np.float64)).astype(np.float32)
back_i = denorm_int(ei[:, cols_src].astype(np.float64)).astype(np.float32)
drop = inside(p[:, :3])
added = []
for rr in range(H):
    for cc in range(WR):
        v = vcols[cc]; px = rr * W + v; src = index_of[px]
        yw = float(vyaw[px]) if src >= 0 else ((v + 0.5) - W / 2) / (W / 2) * np.pi
        pt = float(vpitch[px]) if src >= 0 else PITCH_STEP * (HIGH - rr)
        dd = float(back_d[rr, cc])
        valid = MIN_D <= dd <= MAX_D
        q = np.array([[dd * np.cos(yw) * np.cos(pt), -dd * np.sin(yw) * np.cos(pt), dd * np.sin(pt)]])
        ein = valid and bool(inside(q)[0])
        if not ((src >= 0 and drop[src]) or ein):
            continue
        if src >= 0:
            drop[src] = True
        if not valid:
            continue
        ring = pts[src, 4] if src >= 0 else H - 1 - rr
        added.append([q[0, 0], q[0, 1], q[0, 2], min(255.0, max(0.0, float(back_i[rr, cc]))), float(ring)])
kept = pts[~drop]
out["lidar"] = dict(points=pts.ravel().astype(float).tolist(), box=dict(center=box_c.tolist(), wlh=box_wlh.tolist(), yaw=box_yaw),
                    resolution=DR, edited_depth=ed.ravel().astype(float).tolist(), edited_intensity=ei.ravel().astype(float).tolist(),
                    crop_start=start, crop_width=WR, kept_count=int(len(kept)), removed=int(drop.sum()),
                    added=np.array(added).ravel().tolist(), added_inside=int(inside(np.array(added)[:, :3]).sum()) if added else 0)
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "composite_vectors.json"), "w") as fh:
    json.dump(out, fh, separators=(",", ":"))
print(f"camera: {int((result.astype(np.uint8) != img).any(2).sum())} pixels changed, margin {r}; lidar: {len(pts)} points, "
      f"{int(drop.sum())} removed, {len(added)} added ({out['lidar']['added_inside']} inside), crop {start}+{WR}")
