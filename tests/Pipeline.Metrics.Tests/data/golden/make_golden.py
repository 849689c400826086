#!/usr/bin/python3
"""Golden vectors for Pipeline.Metrics, from the reference implementations (Debian packages).

Run with /usr/bin/python3 from this folder:  /usr/bin/python3 make_golden.py
It writes golden.json (expected values) and *.bin inputs (raw little-endian float32 / uint8).

References:
  SSIM, PSNR : scikit-image structural_similarity(gaussian_weights=True, sigma=1.5,
               use_sample_covariance=False, data_range=R) and peak_signal_noise_ratio.
  SSIM (torchmetrics border): torchmetrics' definition written out in PyTorch (torchmetrics itself is
               not packaged by Debian): reflect padding (torch 'reflect', edge not repeated), 11-tap Gaussian
               sigma 1.5, no crop of the padded border (torchmetrics >= PR #2721), float64.
  MS-SSIM    : torchmetrics' multiscale definition in PyTorch: 5 scales, betas (0.0448, 0.2856, 0.3001,
               0.2363, 0.1333), 2x2 average pooling between scales, relu normalisation.
  FD         : pytorch-fid's calculate_frechet_distance (scipy.linalg.sqrtm, eps offset when non-finite),
               and clean-fid's variant (real part kept without the 1e-3 check). fd_exact: the same FD from the
               float32 features in 40-digit arithmetic (mpmath), through an independent formula: the non-zero
               eigenvalues of S1^(1/2) S2 S1^(1/2) are those of the n1 x n1 matrix X1c S2 X1c^T / (n1 - 1), with
               X1c the centred features of the first set. It is exact where sqrtm loses digits (rank-deficient
               covariances, fewer samples than dimensions).
  KID        : clean-fid / torchmetrics polynomial kernel (x.y/d + 1)^3, unbiased MMD^2, in PyTorch float64,
               on subsets whose indices are stored here.
"""
import json
import numpy as np
import scipy.linalg
import torch
import torch.nn.functional as F
from skimage.metrics import structural_similarity, peak_signal_noise_ratio

rng = np.random.default_rng(20261122)
out = {}


def save(name, arr, dtype):
    np.ascontiguousarray(arr, dtype=dtype).tofile(name)


def smooth_image(h, w, c, rng):
    """Structured test image: blobs + gradients + noise, values in [0, 1]."""
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.zeros((h, w, c))
    for ch in range(c):
        for _ in range(6):
            cy, cx = rng.uniform(0, h), rng.uniform(0, w)
            s = rng.uniform(3, max(4, min(h, w) / 3))
            img[..., ch] += rng.uniform(0.2, 1) * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * s * s))
        img[..., ch] += 0.3 * xx / w + 0.1 * rng.standard_normal((h, w))
    img -= img.min()
    img /= img.max()
    return img


def ellipse_mask(h, w, cy, cx, ry, rx):
    yy, xx = np.mgrid[0:h, 0:w]
    return ((((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2) <= 1).astype(np.uint8)


# ---------------------------------------------------------------- SSIM / PSNR / MSE / MAE
def gaussian_window():
    x = np.arange(-5, 6, dtype=np.float64)
    g = np.exp(-0.5 * x * x / 1.5 ** 2)
    return g / g.sum()


def torch_ssim_maps(a, b, data_range, border):
    """a, b: (H, W) float64 arrays. Returns (ssim_map, cs_map, valid_mask) computed in torch float64.
    border 'skimage': scipy 'reflect' (= numpy 'symmetric') padding, then the 5-px border of the map is excluded.
    border 'torchmetrics': torch 'reflect' (= numpy 'reflect') padding, the whole map counts."""
    g = gaussian_window()
    pad = 5
    mode = 'symmetric' if border == 'skimage' else 'reflect'
    x = torch.from_numpy(np.stack([a, b, a * a, b * b, a * b]))[None]  # 1x5xHxW
    xp = torch.from_numpy(np.pad(x[0].numpy(), ((0, 0), (pad, pad), (pad, pad)), mode=mode))[None]
    k = torch.from_numpy(np.outer(g, g))[None, None].repeat(5, 1, 1, 1)
    f = F.conv2d(xp, k, groups=5)[0]
    ux, uy, uxx, uyy, uxy = f
    vx, vy, vxy = uxx - ux * ux, uyy - uy * uy, uxy - ux * uy
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    cs = (2 * vxy + c2) / (vx + vy + c2)
    s = ((2 * ux * uy + c1) / (ux * ux + uy * uy + c1)) * cs
    valid = np.ones(a.shape, bool)
    if border == 'skimage':
        valid[:pad, :] = valid[-pad:, :] = False
        valid[:, :pad] = valid[:, -pad:] = False
    return s.numpy(), cs.numpy(), valid


def region_means(maps, valid, mask):
    """maps: list over channels of (H, W). Mean over channels and the selected pixels."""
    res = {}
    for name, sel in (('whole', valid), ('inside', valid & (mask > 0)), ('outside', valid & (mask == 0))):
        res[name] = float(np.mean([m[sel] for m in maps])) if sel.any() else None
    return res


cases = []
for name, (h, w, c, rng_range) in {
    'gray_unit': (48, 64, 1, 1.0),
    'rgb_255': (36, 40, 3, 255.0),
    'gray_small': (13, 17, 1, 1.0),
}.items():
    a = smooth_image(h, w, c, rng)
    b = np.clip(0.75 * a + 0.15 * smooth_image(h, w, c, rng) + 0.02 * rng.standard_normal(a.shape), 0, 1)
    if rng_range == 255.0:
        a, b = np.round(a * 255), np.round(b * 255)
    a = a.astype(np.float32).astype(np.float64)
    b = b.astype(np.float32).astype(np.float64)
    mask = ellipse_mask(h, w, h * 0.45, w * 0.55, h * 0.3, w * 0.25)
    save(f'ssim_{name}_a.f32', a, '<f4')
    save(f'ssim_{name}_b.f32', b, '<f4')
    save(f'ssim_{name}_mask.u8', mask, 'u1')
    case = {'name': name, 'width': w, 'height': h, 'channels': c, 'data_range': rng_range}
    # scikit-image: the reference for the default border handling.
    kw = dict(gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=rng_range)
    if c == 1:
        mssim, smap = structural_similarity(a[..., 0], b[..., 0], full=True, **kw)
        smaps = [smap]
    else:
        mssim, smap = structural_similarity(a, b, full=True, channel_axis=2, **kw)
        smaps = [smap[..., ch] for ch in range(c)]
    valid = np.ones((h, w), bool)
    valid[:5, :] = valid[-5:, :] = False
    valid[:, :5] = valid[:, -5:] = False
    sk = region_means(smaps, valid, mask)
    assert abs(sk['whole'] - mssim) < 1e-12, (sk['whole'], mssim)
    case['ssim_skimage'] = sk
    # the same border in torch, as a cross-check of the torch path
    tsk = region_means([torch_ssim_maps(a[..., ch], b[..., ch], rng_range, 'skimage')[0] for ch in range(c)], valid, mask)
    assert abs(tsk['whole'] - sk['whole']) < 1e-12
    tm_maps = [torch_ssim_maps(a[..., ch], b[..., ch], rng_range, 'torchmetrics')[0] for ch in range(c)]
    case['ssim_torchmetrics'] = region_means(tm_maps, np.ones((h, w), bool), mask)
    # PSNR / MSE / MAE
    case['psnr'] = {'whole': float(peak_signal_noise_ratio(a, b, data_range=rng_range))}
    d = a - b
    m3 = np.repeat(mask[..., None], c, axis=2)
    for region, sel in (('whole', np.ones_like(m3, bool)), ('inside', m3 > 0), ('outside', m3 == 0)):
        mse = float(np.mean(d[sel] ** 2))
        case.setdefault('mse', {})[region] = mse
        case.setdefault('mae', {})[region] = float(np.mean(np.abs(d[sel])))
        case['psnr'][region] = float(10 * np.log10(rng_range ** 2 / mse))
    assert abs(case['psnr']['whole'] - peak_signal_noise_ratio(a, b, data_range=rng_range)) < 1e-9
    cases.append(case)
out['ssim'] = cases

# torchmetrics' PSNR docstring example (anchors.md 4(c)): 2.5527
out['psnr_docstring'] = {'a': [0, 1, 2, 3], 'b': [3, 2, 1, 0], 'data_range': 3.0,
                         'psnr': float(peak_signal_noise_ratio(np.array([[3., 2], [1, 0]]), np.array([[0., 1], [2, 3]]), data_range=3.0))}

# ---------------------------------------------------------------- MS-SSIM
BETAS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)


def ms_ssim(a, b, mask, data_range, border):
    """a, b: (H, W, C) float64; mask (H, W) uint8 or None. Returns dict of whole/inside/outside."""
    res = {}
    for region in ('whole', 'inside', 'outside'):
        x = torch.from_numpy(a).permute(2, 0, 1)[None]
        y = torch.from_numpy(b).permute(2, 0, 1)[None]
        m = torch.from_numpy(mask.astype(np.float64))[None, None]
        vals = []
        for scale in range(5):
            s_list, cs_list = [], []
            sel_m = (m[0, 0].numpy() >= 0.5)  # a coarse pixel is inside when at least half of it was
            for ch in range(x.shape[1]):
                s, cs, valid = torch_ssim_maps(x[0, ch].numpy(), y[0, ch].numpy(), data_range, border)
                sel = valid if region == 'whole' else (valid & sel_m if region == 'inside' else valid & ~sel_m)
                s_list.append(s[sel]); cs_list.append(cs[sel])
            if scale < 4:
                vals.append(float(np.mean(cs_list)))
                x = F.avg_pool2d(x, 2, 2); y = F.avg_pool2d(y, 2, 2); m = F.avg_pool2d(m, 2, 2)
            else:
                vals.append(float(np.mean(s_list)))
        vals = [max(v, 0.0) for v in vals]  # relu normalisation (torchmetrics default)
        res[region] = float(np.prod([v ** bt for v, bt in zip(vals, BETAS)]))
        assert np.isfinite(res[region]), (region, vals)
        res[region + '_scales'] = vals
    return res


ms_cases = []
for name, (h, w, c, rr) in {'gray_255': (240, 256, 1, 255.0), 'rgb_unit': (200, 210, 3, 1.0)}.items():
    a = smooth_image(h, w, c, rng)
    b = np.clip(0.8 * a + 0.2 * smooth_image(h, w, c, rng) + 0.03 * rng.standard_normal(a.shape), 0, 1)
    if rr == 255.0:
        a, b = np.round(a * 255), np.round(b * 255)
    a = a.astype(np.float32).astype(np.float64)
    b = b.astype(np.float32).astype(np.float64)
    mask = ellipse_mask(h, w, h * 0.4, w * 0.35, h * 0.2, w * 0.15)
    save(f'msssim_{name}_a.f32', a, '<f4')
    save(f'msssim_{name}_b.f32', b, '<f4')
    save(f'msssim_{name}_mask.u8', mask, 'u1')
    ms_cases.append({'name': name, 'width': w, 'height': h, 'channels': c, 'data_range': rr,
                     'msssim_skimage': ms_ssim(a, b, mask, rr, 'skimage'),
                     'msssim_torchmetrics': ms_ssim(a, b, mask, rr, 'torchmetrics')})
out['msssim'] = ms_cases


# ---------------------------------------------------------------- Frechet distance
def fd_pytorch_fid(mu1, s1, mu2, s2, eps=1e-6):
    """pytorch-fid calculate_frechet_distance (mseitzer @b9c1811), verbatim logic."""
    diff = mu1 - mu2
    covmean, _ = scipy.linalg.sqrtm(s1.dot(s2), disp=False)
    offset_used = False
    if not np.isfinite(covmean).all():
        offset = np.eye(s1.shape[0]) * eps
        covmean = scipy.linalg.sqrtm((s1 + offset).dot(s2 + offset))
        offset_used = True
    imag = 0.0
    if np.iscomplexobj(covmean):
        imag = float(np.max(np.abs(np.diagonal(covmean).imag)))
        covmean = covmean.real
    return float(diff.dot(diff) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean)), offset_used, imag


fd_cases = []
for name, (n1, n2, d) in {'full_rank': (120, 100, 24), 'near_singular': (30, 40, 48), 'tiny': (5, 6, 3)}.items():
    basis = rng.standard_normal((d, d)) / np.sqrt(d)
    x = (rng.standard_normal((n1, d)) @ basis + 0.3).astype(np.float32)
    y = (rng.standard_normal((n2, d)) @ (basis + 0.2 * rng.standard_normal((d, d)) / np.sqrt(d))).astype(np.float32)
    save(f'fd_{name}_x.f32', x, '<f4')
    save(f'fd_{name}_y.f32', y, '<f4')
    x64, y64 = x.astype(np.float64), y.astype(np.float64)
    mu1, mu2 = x64.mean(0), y64.mean(0)
    s1, s2 = np.cov(x64, rowvar=False), np.cov(y64, rowvar=False)
    v, offset_used, imag = fd_pytorch_fid(mu1, s1, mu2, s2)
    # A more accurate value for the singular case: the symmetric form sqrt(s1) s2 sqrt(s1) via eigh.
    w1, v1 = np.linalg.eigh(s1)
    r1 = (v1 * np.sqrt(np.clip(w1, 0, None))) @ v1.T
    w = np.linalg.eigvalsh(r1 @ s2 @ r1)
    eig = float((mu1 - mu2) @ (mu1 - mu2) + np.trace(s1) + np.trace(s2) - 2 * np.sqrt(np.clip(w, 0, None)).sum())
    fd_cases.append({'name': name, 'n1': n1, 'n2': n2, 'dim': d, 'fd_scipy_sqrtm': v,
                     'scipy_offset_used': offset_used, 'scipy_max_imag_diag': imag, 'fd_numpy_eigh': eig})
out['fd'] = fd_cases

# ---------------------------------------------------------------- KID


def poly_mmd2(x, y):
    """Unbiased MMD^2 with k(a, b) = (a.b / d + 1)^3 (clean-fid kernel_distance / torchmetrics poly_mmd)."""
    d = x.shape[1]
    m = x.shape[0]
    kxx = (x @ x.T / d + 1) ** 3
    kyy = (y @ y.T / d + 1) ** 3
    kxy = (x @ y.T / d + 1) ** 3
    return float((kxx.sum() - kxx.diag().sum()) / (m * (m - 1)) + (kyy.sum() - kyy.diag().sum()) / (m * (m - 1))
                 - 2 * kxy.sum() / (m * m))


kx = (rng.standard_normal((60, 16)) + 0.1).astype(np.float32)
ky = (rng.standard_normal((50, 16)) * 1.1).astype(np.float32)
save('kid_x.f32', kx, '<f4')
save('kid_y.f32', ky, '<f4')
tx, ty = torch.from_numpy(kx.astype(np.float64)), torch.from_numpy(ky.astype(np.float64))
subsets = []
values = []
for _ in range(10):
    ix = rng.choice(60, 20, replace=False)
    iy = rng.choice(50, 20, replace=False)
    subsets.append({'x': ix.tolist(), 'y': iy.tolist()})
    values.append(poly_mmd2(tx[ix], ty[iy]))
out['kid'] = {'dim': 16, 'nx': 60, 'ny': 50, 'subset_size': 20, 'subsets': subsets, 'values': values,
              'mean': float(np.mean(values)), 'std': float(np.std(values)),  # torchmetrics: std(unbiased=False)
              'full_equal_size': poly_mmd2(tx[:50], ty)}

# ---------------------------------------------------------------- FD exact reference (mpmath)
# Cases added later draw from their own generator so the vectors above stay byte-identical.
rng_fd = np.random.default_rng(20261202)
for name, (n1, n2, d) in {'one_undersampled': (20, 200, 64), 'wider_full_rank': (300, 260, 96)}.items():
    basis = rng_fd.standard_normal((d, d)) / np.sqrt(d)
    x = (rng_fd.standard_normal((n1, d)) @ basis + 0.2).astype(np.float32)
    y = (rng_fd.standard_normal((n2, d)) @ (basis + 0.3 * rng_fd.standard_normal((d, d)) / np.sqrt(d))).astype(np.float32)
    save(f'fd_{name}_x.f32', x, '<f4')
    save(f'fd_{name}_y.f32', y, '<f4')
    x64, y64 = x.astype(np.float64), y.astype(np.float64)
    v, offset_used, imag = fd_pytorch_fid(x64.mean(0), np.cov(x64, rowvar=False), y64.mean(0), np.cov(y64, rowvar=False))
    fd_cases.append({'name': name, 'n1': n1, 'n2': n2, 'dim': d, 'fd_scipy_sqrtm': v,
                     'scipy_offset_used': offset_used, 'scipy_max_imag_diag': imag})


def fd_exact(x, y):
    """FD of the float32 feature sets in 40-digit arithmetic via the n1 x n1 Gram form (see the header)."""
    import mpmath
    mpmath.mp.dps = 40
    n1, d = x.shape
    n2 = y.shape[0]
    X = mpmath.matrix([[mpmath.mpf(float(v)) for v in row] for row in x])
    Y = mpmath.matrix([[mpmath.mpf(float(v)) for v in row] for row in y])
    mu1 = [sum(X[i, j] for i in range(n1)) / n1 for j in range(d)]
    mu2 = [sum(Y[i, j] for i in range(n2)) / n2 for j in range(d)]
    X1c = mpmath.matrix(n1, d)
    for i in range(n1):
        for j in range(d):
            X1c[i, j] = X[i, j] - mu1[j]
    Y2c = mpmath.matrix(n2, d)
    for i in range(n2):
        for j in range(d):
            Y2c[i, j] = Y[i, j] - mu2[j]
    # X1c S2 X1c^T = (X1c Y2c^T)(X1c Y2c^T)^T / (n2 - 1)
    P = X1c * Y2c.T
    G = (P * P.T) / ((n1 - 1) * (n2 - 1))
    G = (G + G.T) / 2
    lam = mpmath.eigsy(G, eigvals_only=True)
    trace_sqrt = sum(mpmath.sqrt(max(l, 0)) for l in lam)
    tr1 = sum(X1c[i, j] ** 2 for i in range(n1) for j in range(d)) / (n1 - 1)
    tr2 = sum(Y2c[i, j] ** 2 for i in range(n2) for j in range(d)) / (n2 - 1)
    mean_term = sum((mu1[j] - mu2[j]) ** 2 for j in range(d))
    return float(mean_term + tr1 + tr2 - 2 * trace_sqrt), float(trace_sqrt)


for c in fd_cases:
    x = np.fromfile(f"fd_{c['name']}_x.f32", '<f4').reshape(c['n1'], c['dim'])
    y = np.fromfile(f"fd_{c['name']}_y.f32", '<f4').reshape(c['n2'], c['dim'])
    c['fd_exact'], c['trace_sqrt_exact'] = fd_exact(x, y)

with open('golden.json', 'w') as f:
    json.dump(out, f, indent=1)
print('wrote golden.json')
