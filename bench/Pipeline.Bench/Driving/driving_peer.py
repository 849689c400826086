#!/usr/bin/env python3
"""numpy peer of `bench driving`: the same steps as Pipeline.Driving for one sample and one object, written from
docs/driving.md: point cloud -> range view (32 x 1096, 1.4-54 m, nearest wins, yaw/pitch kept), the box's corners
into the view, the x3-tiled range crop (width rule), normalisation (object-aware depth, alpha 0.75; exponential
intensity) and the resize to D x D (average pooling for integer downscale, else nearest).

    python3 driving_peer.py <points.pcd.bin> <corners.json> <D> <repeats> <out-prefix>

Prints JSON: wall and CPU seconds per repeat, counts; writes <out-prefix>.depth.f32 and .intensity.f32 (the D x D planes).
"""
import json
import math
import sys
import time

import numpy as np

H, W = 32, 1096
STEP, LOW, HIGH = 0.0232, -23, 8
MIN_D, MAX_D, ALPHA, LAMBDA = 1.4, 54.0, 0.75, 4.0
TMIN, TMAX = STEP * LOW, STEP * HIGH


def range_view(points):
    p = points[:, :4].astype(np.float64)
    d = np.sqrt((p[:, :3] ** 2).sum(1))
    keep = np.nonzero((d >= MIN_D) & (d <= MAX_D))[0]
    d = d[keep]
    yaw = -np.arctan2(p[keep, 1], p[keep, 0])
    pitch = np.arcsin(p[keep, 2] / d)
    row = (H - 1) - np.round(np.clip((pitch - TMIN) / (TMAX - TMIN) * (H - 1), 0, H - 1)).astype(np.int64)
    col = np.minimum(W - 1, np.floor(yaw / np.pi * W / 2 + W / 2).astype(np.int64))
    pix = row * W + col
    order = np.lexsort((keep, d, pix))
    first = np.ones(len(order), dtype=bool)
    first[1:] = pix[order][1:] != pix[order][:-1]
    win = order[first]
    depth = np.zeros(H * W, np.float32)
    inten = np.zeros(H * W, np.float32)
    vyaw = np.zeros(H * W, np.float32)
    vpitch = np.zeros(H * W, np.float32)
    depth[pix[win]] = d[win]
    inten[pix[win]] = p[keep[win], 3]
    vyaw[pix[win]] = yaw[win]
    vpitch[pix[win]] = pitch[win]
    return depth.reshape(H, W), inten.reshape(H, W), vyaw, vpitch, len(win), len(keep) - len(win)


def locate(c):
    d = np.sqrt((c ** 2).sum(1))
    col = -np.arctan2(c[:, 1], c[:, 0]) / np.pi * W / 2 + W / 2
    if col.max() - col.min() > W / 2:
        col = np.where(col < W / 2, col + W, col)
    return col, d


def resize(plane, dh, dw):
    def axis(src, dst):
        if src > dst and src % dst == 0:
            return src // dst, np.arange(dst) * (src // dst)
        return 1, np.minimum(src - 1, (np.arange(dst) * src) // dst)
    fy, rows = axis(plane.shape[0], dh)
    fx, cols = axis(plane.shape[1], dw)
    if fx == 1 and fy == 1:
        return plane[np.ix_(rows, cols)]
    out = plane[np.ix_(rows, cols)].astype(np.float64) * 0
    for dy in range(fy):
        for dx in range(fx):
            out += plane[np.ix_(rows + dy, cols + dx)]
    return (out / (fx * fy)).astype(np.float32)


def object_image(points, corners, D):
    depth, inten, _, _, kept, collided = range_view(points)
    col, cd = locate(corners)
    span = col.max() - col.min()
    cw = 64 if 1.5 * span <= 1 else int(max(64, min(512, 2 ** math.ceil(math.log2(1.5 * span)))))
    start = math.floor((col.min() + col.max()) / 2 - cw / 2)
    d = np.tile(depth, 3)[:, start + W:start + W + cw].astype(np.float64)
    i = np.tile(inten, 3)[:, start + W:start + W + cw].astype(np.float64)
    lin = lambda x: 2 * x / MAX_D - 1
    mn = min(max(lin(cd).min(), -1 + 1e-6), 1 - 2e-6)
    mx = min(max(lin(cd).max(), mn + 1e-6), 1 - 1e-6)
    dl = np.clip(lin(d), -1, 1)
    dn = np.where(dl < mn, -1 + (1 - ALPHA) * (dl + 1) / (mn + 1),
                  np.where(dl <= mx, -ALPHA + 2 * ALPHA * (dl - mn) / (mx - mn), ALPHA + (1 - ALPHA) * (dl - mx) / (1 - mx)))
    inorm = 2 * np.exp(-LAMBDA * i / 255) - 1
    return resize(dn.astype(np.float32), D, D), resize(inorm.astype(np.float32), D, D), kept, collided, start, cw


def main():
    points = np.fromfile(sys.argv[1], dtype="<f4").reshape(-1, 5)
    corners = np.array(json.load(open(sys.argv[2])), dtype=np.float64)
    D, repeats, out = int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    object_image(points, corners, D)  # warm-up
    times, cpu = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        rd, ri, kept, collided, start, cw = object_image(points, corners, D)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    rd.astype("<f4").tofile(out + ".depth.f32")
    ri.astype("<f4").tofile(out + ".intensity.f32")
    print(json.dumps(dict(seconds=times, cpu_seconds=cpu, kept=kept, collided=collided, start=start, crop_width=cw, numpy=np.__version__)))


if __name__ == "__main__":
    main()
