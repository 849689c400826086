#!/usr/bin/python3
"""Python peer of the metrics benchmark (run by MetricsBenchmark with /usr/bin/python3, OpenBLAS via Debian).

  metrics_peer.py ssim <a.f64> <b.f64> <size> <repeats>     -> JSON {value, times_s, cpu_s}
  metrics_peer.py fd-prepare <dir> <d> <seed>                 writes mu1/mu2/s1/s2 .f64 (row-major)
  metrics_peer.py fd <dir> <d> <repeats>                      -> JSON {sqrtm: {value, times_s}, eigh: {...}}

The SSIM peer is scikit-image's structural_similarity(gaussian_weights=True, sigma=1.5,
use_sample_covariance=False, data_range=1). The FD peers start from the covariances, as pytorch-fid's
calculate_frechet_distance does: the scipy sqrtm path (pytorch-fid, clean-fid) and the numpy eigh path
(the same symmetric form Pipeline.Metrics uses).
"""
import json
import sys
import time
import numpy as np


def ssim(a_path, b_path, size, repeats):
    from skimage.metrics import structural_similarity
    a = np.fromfile(a_path, '<f8').reshape(size, size)
    b = np.fromfile(b_path, '<f8').reshape(size, size)
    times, cpu, value = [], [], None
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        value = structural_similarity(a, b, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=1.0)
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return {'value': float(value), 'times_s': times, 'cpu_s': cpu}


def fd_prepare(d_dir, d, seed):
    rng = np.random.default_rng(seed)
    n = d + d // 4
    for k in (1, 2):
        x = rng.standard_normal((n, d)) @ (np.eye(d) + 0.05 * rng.standard_normal((d, d)))
        mu = x.mean(0) + 0.1 * k
        s = np.cov(x, rowvar=False)
        mu.astype('<f8').tofile(f'{d_dir}/mu{k}.f64')
        s.astype('<f8').tofile(f'{d_dir}/s{k}.f64')


def blas_description():
    """OpenBLAS' configuration and chosen core as numpy loaded it (None when numpy uses another BLAS)."""
    import ctypes
    try:
        lib = ctypes.CDLL('libopenblas.so.0')  # numpy has loaded it already: the same instance
    except OSError:
        return None
    lib.openblas_get_config.restype = ctypes.c_char_p
    lib.openblas_get_corename.restype = ctypes.c_char_p
    return f"{lib.openblas_get_config().decode().strip()} (core {lib.openblas_get_corename().decode()})"


def fd(d_dir, d, repeats):
    import scipy.linalg
    mu1, mu2 = (np.fromfile(f'{d_dir}/mu{k}.f64', '<f8') for k in (1, 2))
    s1, s2 = (np.fromfile(f'{d_dir}/s{k}.f64', '<f8').reshape(d, d) for k in (1, 2))

    def sqrtm_path():
        # pytorch-fid calculate_frechet_distance
        diff = mu1 - mu2
        covmean, _ = scipy.linalg.sqrtm(s1.dot(s2), disp=False)
        if not np.isfinite(covmean).all():
            offset = np.eye(d) * 1e-6
            covmean = scipy.linalg.sqrtm((s1 + offset).dot(s2 + offset))
        if np.iscomplexobj(covmean):
            covmean = covmean.real
        return float(diff.dot(diff) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))

    def eigh_path():
        w1, v1 = np.linalg.eigh(s1)
        r1 = (v1 * np.sqrt(np.clip(w1, 0, None))) @ v1.T
        w = np.linalg.eigvalsh(r1 @ s2 @ r1)
        diff = mu1 - mu2
        return float(diff @ diff + np.trace(s1) + np.trace(s2) - 2 * np.sqrt(np.clip(w, 0, None)).sum())

    out = {'blas': blas_description()}
    for name, f in (('sqrtm', sqrtm_path), ('eigh', eigh_path)):
        times, cpu, value = [], [], None
        for _ in range(repeats):
            t, c = time.perf_counter(), time.process_time()
            value = f()
            times.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
        out[name] = {'value': value, 'times_s': times, 'cpu_s': cpu}
    return out


if __name__ == '__main__':
    cmd = sys.argv[1]
    if cmd == 'ssim':
        print(json.dumps(ssim(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))))
    elif cmd == 'fd-prepare':
        fd_prepare(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif cmd == 'fd':
        print(json.dumps(fd(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))))
    else:
        sys.exit(f'unknown command {cmd}')
