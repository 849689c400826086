#!/usr/bin/env python3
"""Frozen reference vectors for Pipeline.Driving's geometry, written from the formulas in docs/driving.md
(nuScenes frames and box corners, pinhole projection, MObI's range view, range crop, resize and normalisations),
independently of the C# code: rotations come from scipy's Rotation (x, y, z, w order), inverse poses from 4x4
homogeneous matrices, hull masks from scipy's ConvexHull half-planes.

    /usr/bin/python3 tests/Pipeline.Driving.Tests/data/make_driving_vectors.py   # rewrites driving_vectors.json
"""
import json
import math
import os

import numpy as np
from scipy.spatial import ConvexHull
from scipy.spatial.transform import Rotation

rng = np.random.default_rng(20261202)
H, W = 32, 1096
PITCH_STEP, LOW, HIGH = 0.0232, -23, 8
MIN_D, MAX_D = 1.4, 54.0
ALPHA, LAMBDA = 0.75, 4.0


def unit_quat():
    q = rng.normal(size=4)
    q /= np.linalg.norm(q)
    return q if q[0] >= 0 else -q  # w, x, y, z


def rot(q):  # nuScenes (w, x, y, z) -> matrix, via scipy's (x, y, z, w)
    return Rotation.from_quat([q[1], q[2], q[3], q[0]]).as_matrix()


def homogeneous(t, q):
    m = np.eye(4)
    m[:3, :3] = rot(q)
    m[:3, 3] = t
    return m


def box_corners(center, wlh, q):
    w, l, h = wlh
    x = l / 2 * np.array([1, 1, 1, 1, -1, -1, -1, -1])
    y = w / 2 * np.array([1, -1, -1, 1, 1, -1, -1, 1])
    z = h / 2 * np.array([1, 1, -1, -1, 1, 1, -1, -1])
    return (rot(q) @ np.vstack([x, y, z])).T + np.asarray(center)


def to_child(points, t, q):  # parent -> child with the inverse of the child's pose
    m = np.linalg.inv(homogeneous(t, q))
    p = np.hstack([points, np.ones((len(points), 1))])
    return (m @ p.T).T[:, :3]


def project(K, pts):
    uvw = (K @ pts.T).T
    return uvw[:, 0] / uvw[:, 2], uvw[:, 1] / uvw[:, 2], pts[:, 2]


def iou(a, b):
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def hull_mask(xs, ys, width, height):
    pts = np.column_stack([xs, ys])
    hull = ConvexHull(pts)
    gx, gy = np.meshgrid(np.arange(width) + 0.5, np.arange(height) + 0.5)
    inside = np.ones((height, width), dtype=bool)
    for a, b, c in hull.equations:  # a x + b y + c <= 0 inside
        inside &= a * gx + b * gy + c <= 1e-9
    return inside.astype(np.float32)


def range_view(points):
    p = points.astype(np.float64)
    d = np.sqrt((p[:, :3] ** 2).sum(1))
    keep = (d >= MIN_D) & (d <= MAX_D)
    idx = np.nonzero(keep)[0]
    d = d[idx]
    yaw = -np.arctan2(p[idx, 1], p[idx, 0])
    pitch = np.arcsin(p[idx, 2] / d)
    tmin, tmax = PITCH_STEP * LOW, PITCH_STEP * HIGH
    row = (H - 1) - np.round(np.clip((pitch - tmin) / (tmax - tmin) * (H - 1), 0, H - 1)).astype(int)
    col = np.minimum(W - 1, np.floor(yaw / np.pi * W / 2 + W / 2).astype(int))
    pix = row * W + col
    order = np.lexsort((idx, d, pix))  # by pixel, then nearest, then earliest
    first = np.ones(len(order), dtype=bool)
    first[1:] = pix[order][1:] != pix[order][:-1]
    win = order[first]
    collided = len(idx) - len(win)
    res = dict(pixel=pix[win], index=idx[win], depth=d[win], intensity=p[idx[win], 3], yaw=yaw[win], pitch=pitch[win])
    srt = np.argsort(res["pixel"])
    res = {k: v[srt] for k, v in res.items()}
    return res, int((~keep).sum()), int(collided)


def locate(c):
    d = np.sqrt((c ** 2).sum(1))
    yaw = -np.arctan2(c[:, 1], c[:, 0])
    pitch = np.arcsin(c[:, 2] / d)
    tmin, tmax = PITCH_STEP * LOW, PITCH_STEP * HIGH
    col = yaw / np.pi * W / 2 + W / 2
    row = (H - 1) + 0.5 - (pitch - tmin) / (tmax - tmin) * (H - 1)
    if col.max() - col.min() > W / 2:
        col = np.where(col < W / 2, col + W, col)
    return col, row, d


def crop_width(span):
    wanted = 1.5 * span
    if wanted <= 1:
        return 64
    return int(max(64, min(512, 2 ** math.ceil(math.log2(wanted)))))


def resize(plane, dh, dw):
    def axis(src, dst):
        if src > dst and src % dst == 0:
            f = src // dst
            return f, np.arange(dst) * f
        return 1, np.minimum(src - 1, (np.arange(dst) * src) // dst)
    fy, rows = axis(plane.shape[0], dh)
    fx, cols = axis(plane.shape[1], dw)
    out = np.zeros((dh, dw), dtype=np.float64)
    for dy in range(fy):
        for dx in range(fx):
            out += plane[np.ix_(rows + dy, cols + dx)]
    return (out / (fx * fy)).astype(np.float32)


def depth_norm(depth, corner_depths):
    lin = lambda d: 2 * d / MAX_D - 1
    mn = min(max(lin(corner_depths).min(), -1 + 1e-6), 1 - 2e-6)
    mx = min(max(lin(corner_depths).max(), mn + 1e-6), 1 - 1e-6)
    d = np.clip(lin(depth), -1, 1)
    out = np.where(d < mn, -1 + (1 - ALPHA) * (d + 1) / (mn + 1),
                   np.where(d <= mx, -ALPHA + 2 * ALPHA * (d - mn) / (mx - mn),
                            ALPHA + (1 - ALPHA) * (d - mx) / (1 - mx)))
    return out, mn, mx


def intensity_norm(i):
    return 2 * np.exp(-LAMBDA * i / 255) - 1


out = {}

# 1. quaternions -> rotation matrices
quats = [unit_quat() for _ in range(5)]
out["quaternions"] = [dict(q=q.tolist(), matrix=rot(q).tolist()) for q in quats]

# 2. global -> ego -> sensor
ego_t, ego_q = np.array([411.3, 1180.9, 0.0]), np.array([math.cos(0.35), 0, 0, math.sin(0.35)])
cs_t, cs_q = np.array([1.70079118954, 0.0159456324149, 1.51095763913]), np.array([0.4998015430569128, -0.5030316162024876, 0.4997798114386805, -0.49737083824542755])
cs_q = cs_q / np.linalg.norm(cs_q)
gpts = np.array([ego_t + rng.uniform(-40, 40, 3) for _ in range(10)])
ego_pts = to_child(gpts, ego_t, ego_q)
cam_pts = to_child(ego_pts, cs_t, cs_q)
out["transforms"] = dict(ego=dict(t=ego_t.tolist(), q=ego_q.tolist()), sensor=dict(t=cs_t.tolist(), q=cs_q.tolist()),
                         global_points=gpts.tolist(), ego_points=ego_pts.tolist(), sensor_points=cam_pts.tolist())

# 3. box corners, 4. projection of boxes seen by CAM_FRONT
K = np.array([[1266.417203046554, 0, 816.2670197447984], [0, 1266.417203046554, 491.50706579294757], [0, 0, 1]])
boxes = []
for k in range(4):
    fwd = 8 + 6 * k
    cg = homogeneous(ego_t, ego_q) @ np.array([fwd, rng.uniform(-4, 4), 0.8, 1.0])
    q = np.array([math.cos(rng.uniform(-1.5, 1.5)), 0, 0, 0.0])
    q[3] = math.sqrt(1 - q[0] ** 2)
    wlh = [rng.uniform(1.6, 2.1), rng.uniform(3.8, 4.9), rng.uniform(1.4, 1.8)]
    corners = box_corners(cg[:3], wlh, q)
    cam = to_child(to_child(corners, ego_t, ego_q), cs_t, cs_q)
    u, v, z = project(K, cam)
    bounds = [u.min(), v.min(), u.max(), v.max()]
    clipped = [max(bounds[0], 0), max(bounds[1], 0), min(bounds[2], 1600), min(bounds[3], 900)]
    boxes.append(dict(center=cg[:3].tolist(), wlh=wlh, q=q.tolist(), corners=corners.tolist(), u=u.tolist(), v=v.tolist(), depth=z.tolist(),
                      clipped=clipped))
for b in boxes:
    b["max_iou"] = max(iou(b["clipped"], o["clipped"]) for o in boxes if o is not b)
    # object-centric camera crop at D = 64
    x0, y0, x1, y1 = b["clipped"]
    bw, bh = x1 - x0, y1 - y0
    side = int(max(8, math.ceil(max(bw, bh, math.sqrt(bw * bh / 0.2)))))
    left = math.floor((x0 + x1) / 2 - side / 2)
    top = math.floor((y0 + y1) / 2 - side / 2)
    s = 64 / side
    mu, mv = (np.array(b["u"]) - left) * s, (np.array(b["v"]) - top) * s
    b["crop"] = dict(left=left, top=top, side=side, mask=hull_mask(mu, mv, 64, 64).ravel().astype(int).tolist())
out["intrinsic"] = K.tolist()
out["boxes"] = boxes

# 5. range view of a synthetic sweep: random directions, depths 0.5-60 m, duplicated directions (collisions)
n = 4000
yaw = rng.uniform(-math.pi, math.pi, n)
pitch = rng.uniform(PITCH_STEP * LOW - 0.05, PITCH_STEP * HIGH + 0.05, n)
dist = rng.uniform(0.5, 60, n)
dup = rng.choice(n, 300, replace=False)
pts = np.column_stack([dist * np.cos(yaw) * np.cos(pitch), dist * np.sin(yaw) * np.cos(pitch), dist * np.sin(pitch), rng.uniform(0, 255, n)])
extra = pts[dup].copy()
extra[:, :3] *= rng.uniform(0.9, 1.1, (len(dup), 1))
pts = np.vstack([pts, extra]).astype(np.float32)
rv, oor, coll = range_view(pts)
rx = rv["depth"] * np.cos(rv["yaw"]) * np.cos(rv["pitch"])
ry = -rv["depth"] * np.sin(rv["yaw"]) * np.cos(rv["pitch"])
rz = rv["depth"] * np.sin(rv["pitch"])
out["range_view"] = dict(points=pts.ravel().astype(float).tolist(), out_of_range=oor, collided=coll,
                         pixel=rv["pixel"].tolist(), index=rv["index"].tolist(), depth=rv["depth"].tolist(),
                         intensity=rv["intensity"].tolist(), yaw=rv["yaw"].tolist(), pitch=rv["pitch"].tolist(),
                         reconstructed=np.column_stack([rx, ry, rz]).tolist())

# dense planes of that view for the crop
dplane = np.zeros(H * W, dtype=np.float32)
iplane = np.zeros(H * W, dtype=np.float32)
dplane[rv["pixel"]] = rv["depth"].astype(np.float32)
iplane[rv["pixel"]] = rv["intensity"].astype(np.float32)
dplane, iplane = dplane.reshape(H, W), iplane.reshape(H, W)

# 6. range boxes (lidar frame): in front, behind across the +-pi seam, a wide close one; crop, normalise, resize to D = 64
rboxes = []
for center, wlh, yawb in [((12.0, 3.0, -0.9), (1.9, 4.5, 1.6), 0.4), ((-9.0, 0.2, -1.0), (2.0, 4.6, 1.5), 1.2), ((3.5, -4.0, -1.0), (1.8, 4.4, 1.5), 2.0)]:
    q = np.array([math.cos(yawb / 2), 0, 0, math.sin(yawb / 2)])
    c = box_corners(center, wlh, q)
    col, row, d = locate(c)
    span = col.max() - col.min()
    cw = crop_width(span)
    start = math.floor((col.min() + col.max()) / 2 - cw / 2)
    tiled_d, tiled_i = np.tile(dplane, 3), np.tile(iplane, 3)
    cd, ci = tiled_d[:, start + W:start + W + cw], tiled_i[:, start + W:start + W + cw]
    nd, mn, mx = depth_norm(cd.astype(np.float64), d)
    ni = intensity_norm(ci.astype(np.float64))
    D = 64
    rd, ri = resize(nd.astype(np.float32), D, D), resize(ni.astype(np.float32), D, D)
    mcol, mrow = (col - start) * D / cw, row * D / H
    rboxes.append(dict(center=list(center), wlh=list(wlh), q=q.tolist(), column=col.tolist(), row=row.tolist(), depth=d.tolist(),
                       crop_width=cw, start=start, min_d=mn, max_d=mx, crop_depth=cd.ravel().astype(float).tolist(),
                       resized_depth=rd.ravel().astype(float).tolist(), resized_intensity=ri.ravel().astype(float).tolist(),
                       mask=hull_mask(mcol, mrow, D, D).ravel().astype(int).tolist()))
out["range_boxes"] = rboxes

# 7. normalisations on sample values
corner_depths = np.array([10.2, 11.0, 12.5, 13.1])
depths = np.array([0.0, 1.4, 5.0, 10.2, 11.7, 13.1, 20.0, 54.0])
nd, mn, mx = depth_norm(depths, corner_depths)
ints = np.array([0.0, 1.0, 17.5, 100.0, 254.0, 255.0])
out["normalisation"] = dict(corner_depths=corner_depths.tolist(), depths=depths.tolist(), normalised=nd.tolist(), min_d=mn, max_d=mx,
                            intensities=ints.tolist(), intensity_normalised=intensity_norm(ints).tolist())

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "driving_vectors.json")
with open(path, "w") as f:
    json.dump(out, f, separators=(",", ":"))
print(f"wrote {path}: {os.path.getsize(path)} bytes; range view kept {len(rv['pixel'])}, out of range {oor}, collided {coll}")
