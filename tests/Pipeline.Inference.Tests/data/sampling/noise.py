"""Reference implementation of the sampler's counter-based noise (src/Pipeline.Inference/Random/NoiseStream.cs).

Philox4x32-10 (Salmon et al., SC'11; Random123) keyed by the run seed, counter (block, purpose<<24 | iteration,
item lo, item hi), then Box-Muller in float64 on each pair of words, rounded to float32. Pure numpy, written from the
paper's round function; used to make the golden noise and the frozen vectors in noise_vectors.json.
Run: /usr/bin/python3 tests/Pipeline.Inference.Tests/data/sampling/noise.py
"""
import json
import os
import numpy as np

M0, M1 = 0xD2511F53, 0xCD9E8D57
W0, W1 = 0x9E3779B9, 0xBB67AE85
MASK = 0xFFFFFFFF


def philox4x32_10(c, k):
    """c: uint64 array [4, n] of 32-bit words; k: (k0, k1). Returns [4, n] uint64 holding 32-bit words."""
    c0, c1, c2, c3 = [np.asarray(x, dtype=np.uint64) for x in c]
    k0, k1 = np.uint64(k[0]), np.uint64(k[1])
    for r in range(10):
        if r > 0:
            k0 = np.uint64((int(k0) + W0) & MASK)
            k1 = np.uint64((int(k1) + W1) & MASK)
        p0 = c0 * np.uint64(M0)
        p1 = c2 * np.uint64(M1)
        hi0, lo0 = p0 >> np.uint64(32), p0 & np.uint64(MASK)
        hi1, lo1 = p1 >> np.uint64(32), p1 & np.uint64(MASK)
        c0, c1, c2, c3 = hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0
    return c0, c1, c2, c3


PURPOSE = {"initial": 0, "scheduler_step": 1, "known_region": 2, "resample": 3}


def noise(run_seed, item_id, purpose, iteration, count):
    """float32 array of `count` N(0,1) values for (run_seed, item_id, purpose, iteration)."""
    blocks = (count + 3) // 4
    j = np.arange(blocks, dtype=np.uint64)
    c1 = np.full(blocks, (PURPOSE[purpose] << 24) | iteration, dtype=np.uint64)
    c2 = np.full(blocks, item_id & MASK, dtype=np.uint64)
    c3 = np.full(blocks, item_id >> 32, dtype=np.uint64)
    x0, x1, x2, x3 = philox4x32_10((j, c1, c2, c3), (run_seed & MASK, run_seed >> 32))
    out = np.empty((blocks, 4), dtype=np.float64)
    for (a, b, col) in ((x0, x1, 0), (x2, x3, 2)):
        u1 = (a.astype(np.float64) + 1.0) / 4294967296.0
        u2 = b.astype(np.float64) / 4294967296.0
        r = np.sqrt(-2.0 * np.log(u1))
        out[:, col] = r * np.cos(2.0 * np.pi * u2)
        out[:, col + 1] = r * np.sin(2.0 * np.pi * u2)
    return out.reshape(-1)[:count].astype(np.float32)


if __name__ == "__main__":
    cases = []
    for seed, item, purpose, it, n in [(0, 0, "initial", 0, 10), (42, 7, "initial", 0, 33), (2**40 + 5, 2**50 + 3, "scheduler_step", 17, 9),
                                       (123456789, 987654321, "resample", 3, 16)]:
        cases.append({"seed": seed, "item": item, "purpose": purpose, "iteration": it,
                      "values": [float(v) for v in noise(seed, item, purpose, it, n)]})
    big = noise(7, 11, "initial", 0, 100000)
    doc = {"cases": cases, "moments": {"seed": 7, "item": 11, "n": 100000, "mean": float(big.mean()), "std": float(big.std())}}
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "noise_vectors.json"), "w") as f:
        json.dump(doc, f, indent=1)
    print(doc["moments"])
