"""A small AnydoorMed-style conditional denoiser for 64 px single-channel pixel-space diffusion.

Denoiser input: noisy target crop x_t, masked context, box mask, high-frequency collage and the reference placed into
the box (warp_reference), concatenated channel-wise (the "9-channel" inpainting style of Paint-by-Example / MObI, here 5
channels in pixel space). Conditioning:
  * timestep t -> sinusoidal embedding -> MLP (epsilon prediction, DDPM schedule T = 1000);
  * reference crop -> a small convolutional reference encoder (stand-in for AnydoorMed's frozen DINOv2) giving
    (a) a pooled vector added to the time embedding, which drives FiLM (scale/shift) in every residual block, and
    (b) an 8 x 8 grid of reference tokens read by cross-attention at the 16 x 16 and 8 x 8 UNet levels, with a
        zero-initialised output projection (the gated cross-attention adapter of AnydoorMed/Flamingo, gate = 0 at
        init).
Classifier-free guidance: the unconditional branch is the all-zeros reference (model.json reference.null = "zeros").
Parameterisation: the network predicts x0 (with a collage skip, see predict_x0) and the graph converts it to epsilon,
so the exported contract is epsilon prediction; training minimises the x0 error with min-SNR weighting.
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal embedding of integer timesteps (DDPM/Transformer style)."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    args = t.to(torch.float32)[:, None] * freqs[None, :]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=1)


def _reference_grid(mask: torch.Tensor, expand: float, coords: torch.Tensor) -> torch.Tensor:
    """GridSample coordinates that map the reference crop onto the box of `mask` (see warp_reference)."""
    rows = mask.amax(dim=3)                          # N, 1, H  (1 on the box rows)
    cols = mask.amax(dim=2)                          # N, 1, W
    bh = rows.sum(dim=2).clamp(min=1.0)              # N, 1
    bw = cols.sum(dim=2).clamp(min=1.0)
    cy = (rows * coords).sum(dim=2) / bh
    cx = (cols * coords).sum(dim=2) / bw
    # floor/ceil of the box edges grows the integer box by about one pixel on average: estimate the true side as -1
    half = expand * (torch.maximum(bw, bh) - 1.0).clamp(min=1.0) / 2.0
    u = (coords[None, :] - cx) / half                # N, W   normalised [-1, 1] over the reference (align_corners=False)
    v = (coords[None, :] - cy) / half                # N, H
    n, size = mask.shape[0], coords.shape[0]
    grid = torch.stack([u[:, None, :].expand(n, size, size), v[:, :, None].expand(n, size, size)], dim=-1)
    return grid


def warp_reference(reference: torch.Tensor, mask: torch.Tensor, expand: float, coords: torch.Tensor) -> torch.Tensor:
    """The reference crop placed into the box (AnyDoor-style collage, done inside the graph so the model.json inputs
    stay the contract's): the box centre and size come from the mask (row/column sums), and the reference, which
    covers the box expanded by `expand` and padded to a square (docs/preprocessing.md), is mapped so its centre sits on
    the box centre and its side spans expand * max(box w, box h) model pixels. Bilinear GridSample (ONNX opset 16+)
    from a 2x area-downscaled reference (less aliasing when shrinking 64 px onto ~20 px). Zero outside the box."""
    grid = _reference_grid(mask, expand, coords)
    small = F.avg_pool2d(reference, 2)
    return F.grid_sample(small, grid, mode="bilinear", padding_mode="zeros", align_corners=False) * mask


def warp_reference_full(reference: torch.Tensor, mask: torch.Tensor, expand: float, coords: torch.Tensor):
    """As warp_reference, without the final masking: the whole reference crop placed around the box (its expansion
    ring lands just outside the box), and its support (1 where the warped crop has content, 0 where grid_sample
    reads outside the crop or from its -1 padding)."""
    grid = _reference_grid(mask, expand, coords)
    small = F.avg_pool2d(reference, 2)
    content = F.avg_pool2d((reference > -0.999).to(reference.dtype), 2)
    placed = F.grid_sample(small, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    support = F.grid_sample(content, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    return placed, support


def _gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur (radius 3 sigma, zero padding) as two fixed convolutions (ONNX-exportable)."""
    radius = max(1, int(math.ceil(3 * sigma)))
    k = torch.exp(-torch.arange(-radius, radius + 1, dtype=torch.float32) ** 2 / (2 * sigma * sigma))
    k = (k / k.sum()).to(x.device)
    x = F.conv2d(x, k.view(1, 1, 1, -1), padding=(0, radius))
    return F.conv2d(x, k.view(1, 1, -1, 1), padding=(radius, 0))


def harmonize_reference(placed_full: torch.Tensor, context: torch.Tensor, mask: torch.Tensor, support: torch.Tensor,
                        ring: int = 2, sigma: float = 6.0, taper: float = 0.0) -> torch.Tensor:
    """The reference with its own background replaced by the target's (the lesion's excess over a local low-pass
    estimate of its tissue, added to the same estimate of the target's tissue), inside the box:
        mask * (fill(context) + placed - fill(placed)),
    where fill(v) is the normalised convolution (Knutsson and Westin 1993) of v over a `ring`-pixel band just outside
    the box, restricted to where the warped reference has content (`support`), with a Gaussian of `sigma` pixels: a
    smooth interpolation of the band's values into the box. At the box border the two fills equal the band values,
    so the placed lesion meets the target tissue without a step; inside, the reference keeps its lesion and its
    texture. Without any band pixel both fills are 0 and this is the plain placed reference. `taper` > 0 fades the
    excess to 0 at the box border over about 2 taper pixels (clamp(2 blur(mask, taper) - 1, 0, 1)), so the reference's
    own tissue texture does not end in a straight edge either."""
    band = F.max_pool2d(mask, 2 * ring + 1, stride=1, padding=ring) - mask
    w = band * (support > 0.99).to(band.dtype)
    den = _gaussian_blur(w, sigma) + 1e-6
    fill_target = _gaussian_blur(context * w, sigma) / den
    fill_reference = _gaussian_blur(placed_full * w, sigma) / den
    excess = placed_full - fill_reference
    if taper > 0:
        excess = excess * (2 * _gaussian_blur(mask, taper) - 1).clamp(0.0, 1.0)
    return mask * (fill_target + excess)


def ring_agreement(placed_full: torch.Tensor, context: torch.Tensor, mask: torch.Tensor, support: torch.Tensor,
                   ring: int = 2, sigma: float = 6.0, eps: float = 1e-3) -> torch.Tensor:
    """How well the placed reference's expansion ring reproduces the target's context in the band just outside the box,
    per item (N, 1, 1, 1): the correlation of the two high-passed bands (each minus its normalised-convolution fill,
    as in harmonize_reference; Gaussian sigma 6 px), over band pixels where the reference has content. 1 when the
    reference shows the target's own surroundings (a reinsertion: the lesion cut from this image at this place), about
    0 for tissue from another place or image (texture does not correlate), and 0 without band pixels. Invariant to the
    reference's brightness and contrast (an exposure change does not make the surroundings another tissue); `eps` is
    a per-pixel standard deviation below which a band counts as flat (agreement near 0)."""
    band = F.max_pool2d(mask, 2 * ring + 1, stride=1, padding=ring) - mask
    w = band * (support > 0.99).to(band.dtype)
    den = _gaussian_blur(w, sigma) + 1e-6
    a = (context - _gaussian_blur(context * w, sigma) / den) * w
    b = (placed_full - _gaussian_blur(placed_full * w, sigma) / den) * w
    ab = (a * b).sum(dim=(2, 3), keepdim=True)
    aa = (a * a).sum(dim=(2, 3), keepdim=True)
    bb = (b * b).sum(dim=(2, 3), keepdim=True)
    return ab / (torch.sqrt(aa * bb) + eps * eps * w.sum(dim=(2, 3), keepdim=True) + 1e-12)


def agreement_gate(rho: torch.Tensor, low: float = 0.6, high: float = 0.85) -> torch.Tensor:
    """0 below `low` ring agreement, 1 above `high`, linear between."""
    return ((rho - low) / (high - low)).clamp(0.0, 1.0)


def _norm(ch: int) -> nn.GroupNorm:
    return nn.GroupNorm(8 if ch % 8 == 0 else 1, ch)


class ResBlock(nn.Module):
    def __init__(self, cin: int, cout: int, emb_dim: int):
        super().__init__()
        self.n1 = _norm(cin)
        self.c1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.film = nn.Linear(emb_dim, 2 * cout)
        self.n2 = _norm(cout)
        self.c2 = nn.Conv2d(cout, cout, 3, padding=1)
        nn.init.zeros_(self.c2.weight)
        nn.init.zeros_(self.c2.bias)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x, emb):
        h = self.c1(F.silu(self.n1(x)))
        scale, shift = self.film(emb)[:, :, None, None].chunk(2, dim=1)
        h = self.n2(h) * (1 + scale) + shift
        h = self.c2(F.silu(h))
        return self.skip(x) + h


class CrossAttention(nn.Module):
    """Image features attend to reference tokens; zero-initialised output = closed gate at init."""

    def __init__(self, ch: int, ref_dim: int, heads: int = 4):
        super().__init__()
        self.heads = heads
        self.scale = 1.0 / math.sqrt(ch // heads)
        self.norm = _norm(ch)
        self.q = nn.Conv2d(ch, ch, 1)
        self.kv = nn.Linear(ref_dim, 2 * ch)
        self.ref_norm = nn.LayerNorm(ref_dim)
        self.out = nn.Conv2d(ch, ch, 1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, x, tokens):
        b, c, h, w = x.shape
        d = c // self.heads
        q = self.q(self.norm(x)).reshape(b, self.heads, d, h * w).transpose(2, 3)        # b, H, hw, d
        k, v = self.kv(self.ref_norm(tokens)).chunk(2, dim=2)                             # b, n, c
        n = tokens.shape[1]
        k = k.reshape(b, n, self.heads, d).permute(0, 2, 3, 1)                            # b, H, d, n
        v = v.reshape(b, n, self.heads, d).transpose(1, 2)                                # b, H, n, d
        a = torch.softmax(torch.matmul(q, k) * self.scale, dim=-1)
        o = torch.matmul(a, v).transpose(2, 3).reshape(b, c, h, w)
        return x + self.out(o)


class ReferenceEncoder(nn.Module):
    """64 x 64 x 1 reference -> 8 x 8 tokens of ref_dim, and a pooled vector."""

    def __init__(self, ref_dim: int = 64, ref_size: int = 64):
        super().__init__()
        if ref_size % 8 != 0:
            raise ValueError(f"reference size {ref_size} must be a multiple of 8")
        self.net = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.SiLU(),
            nn.Conv2d(32, 32, 4, stride=2, padding=1), _norm(32), nn.SiLU(),
            nn.Conv2d(32, 48, 4, stride=2, padding=1), _norm(48), nn.SiLU(),
            nn.Conv2d(48, ref_dim, 4, stride=2, padding=1), _norm(ref_dim), nn.SiLU(),
            nn.Conv2d(ref_dim, ref_dim, 3, padding=1),
        )
        n = (ref_size // 8) ** 2
        self.pos = nn.Parameter(torch.randn(1, n, ref_dim) * 0.02)

    def forward(self, ref):
        f = self.net(ref)                                   # b, D, S/8, S/8
        tokens = f.flatten(2).transpose(1, 2) + self.pos    # b, n, D
        return tokens, f.mean(dim=(2, 3))


class Denoiser(nn.Module):
    def __init__(self, resolution: int = 64, ref_size: int = 64, channels=(16, 32, 48, 64),
                 emb_dim: int = 128, ref_dim: int = 64, attn_levels=(3,), ref_expand: float = 1.2,
                 num_train_timesteps: int = 1000, beta_start: float = 1e-4, beta_end: float = 0.02,
                 placement: str = "collage", ring_gate: bool = False):
        super().__init__()
        if resolution % (2 ** (len(channels) - 1)) != 0:
            raise ValueError(f"resolution {resolution} must be divisible by {2 ** (len(channels) - 1)} "
                             f"for {len(channels)} UNet levels")
        self.config = dict(resolution=resolution, ref_size=ref_size, channels=list(channels), emb_dim=emb_dim,
                           ref_dim=ref_dim, attn_levels=list(attn_levels), ref_expand=ref_expand,
                           num_train_timesteps=num_train_timesteps, beta_start=beta_start, beta_end=beta_end)
        if placement not in ("collage", "harmonised"):
            raise ValueError(f"placement '{placement}': expected collage or harmonised")
        if placement != "collage":   # configs of collage models stay as they were (1.0.0's checkpoints load unchanged)
            self.config["placement"] = placement
        if ring_gate and placement != "harmonised":
            raise ValueError("ring_gate needs the harmonised placement")
        if ring_gate:                # absent from 2.0.0's config: its checkpoints load unchanged
            self.config["ring_gate"] = True
        self.placement = placement
        self.ring_gate = ring_gate
        self.ref_expand = ref_expand
        # the schedule's sqrt(abar_t), sqrt(1 - abar_t) (float64 cumprod, then float32), for the eps <-> x0 conversion
        betas = torch.linspace(beta_start, beta_end, num_train_timesteps, dtype=torch.float64)
        abar = torch.cumprod(1.0 - betas, dim=0)
        self.register_buffer("sqrt_abar", abar.sqrt().float(), persistent=False)
        self.register_buffer("sqrt_1m_abar", (1.0 - abar).sqrt().float(), persistent=False)
        self.register_buffer("coords", torch.arange(resolution, dtype=torch.float32) + 0.5, persistent=False)
        self.emb_dim = emb_dim
        self.t_mlp = nn.Sequential(nn.Linear(emb_dim, emb_dim), nn.SiLU(), nn.Linear(emb_dim, emb_dim))
        self.ref_enc = ReferenceEncoder(ref_dim, ref_size)
        self.ref_mlp = nn.Sequential(nn.Linear(ref_dim, emb_dim), nn.SiLU(), nn.Linear(emb_dim, emb_dim))
        if ring_gate:
            # the gate's value conditions every block (FiLM), zero-initialised: at init the model is the ungated
            # network with the gated placement, so a released ungated model is a starting point (train.py --init-package)
            self.gate_emb = nn.Linear(1, emb_dim)
            nn.init.zeros_(self.gate_emb.weight)
            nn.init.zeros_(self.gate_emb.bias)
        self.inp = nn.Conv2d(5, channels[0], 3, padding=1)
        self.down_blocks = nn.ModuleList()
        self.down_attn = nn.ModuleList()
        self.downsample = nn.ModuleList()
        prev = channels[0]
        for i, ch in enumerate(channels):
            self.down_blocks.append(ResBlock(prev, ch, emb_dim))
            self.down_attn.append(CrossAttention(ch, ref_dim) if i in attn_levels else nn.Identity())
            self.downsample.append(nn.Conv2d(ch, ch, 3, stride=2, padding=1) if i < len(channels) - 1 else nn.Identity())
            prev = ch
        self.mid1 = ResBlock(prev, prev, emb_dim)
        self.mid_attn = CrossAttention(prev, ref_dim)
        self.mid2 = ResBlock(prev, prev, emb_dim)
        self.up_blocks = nn.ModuleList()
        self.up_attn = nn.ModuleList()
        for i in reversed(range(len(channels))):
            ch = channels[i]
            self.up_blocks.append(ResBlock(prev + ch, ch, emb_dim))
            self.up_attn.append(CrossAttention(ch, ref_dim) if i in attn_levels else nn.Identity())
            prev = ch
        self.out_norm = _norm(prev)
        self.out = nn.Conv2d(prev, 1, 3, padding=1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    @classmethod
    def from_config(cls, cfg: dict) -> "Denoiser":
        return cls(cfg["resolution"], cfg["ref_size"], channels=cfg["channels"], emb_dim=cfg["emb_dim"],
                   ref_dim=cfg["ref_dim"], attn_levels=cfg["attn_levels"], ref_expand=cfg["ref_expand"], placement=cfg.get("placement", "collage"), ring_gate=cfg.get("ring_gate", False),
                   num_train_timesteps=cfg["num_train_timesteps"], beta_start=cfg["beta_start"],
                   beta_end=cfg["beta_end"])

    def forward(self, x_t, t, context, mask, reference, hf):
        """Epsilon prediction (the exported graph): eps = (x_t - sqrt(abar_t) x0_hat) / sqrt(1 - abar_t), the
        DDPM identity x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps solved for eps. A DDIM step's x0 estimate from
        this eps is x0_hat exactly, and CFG in eps space equals CFG in x0 space (same x_t, t)."""
        x0 = self.predict_x0(x_t, t, context, mask, reference, hf)
        return (x_t - self.sqrt_abar[t][:, None, None, None] * x0) / self.sqrt_1m_abar[t][:, None, None, None]

    def predict_x0(self, x_t, t, context, mask, reference, hf):
        """x0_hat = context + mask * placed reference + learned residual. The skip makes the untrained network the
        collage (context outside, reference inside the box); training learns the residual: intensity matching to the
        context, boundary blending and detail (with zero reference, the unconditional fill)."""
        tokens, pooled = self.ref_enc(reference)
        emb = self.t_mlp(timestep_embedding(t, self.emb_dim)) + self.ref_mlp(pooled)
        if self.placement == "harmonised":
            full, support = warp_reference_full(reference, mask, self.ref_expand, self.coords)
            placed = harmonize_reference(full, context, mask, support, taper=2.0)
            if self.ring_gate:
                # a reference whose surroundings are the target's own (reinsertion) keeps its pixels, background
                # included: there is no other tissue to hide; otherwise the harmonised placement
                g = agreement_gate(ring_agreement(full, context, mask, support))
                placed = g * mask * full + (1 - g) * placed
                emb = emb + self.gate_emb(g.flatten(1))
        else:
            placed = warp_reference(reference, mask, self.ref_expand, self.coords)
        emb = F.silu(emb)
        h = self.inp(torch.cat([x_t, context, mask, hf, placed], dim=1))
        skips = []
        for block, attn, down in zip(self.down_blocks, self.down_attn, self.downsample):
            h = block(h, emb)
            if not isinstance(attn, nn.Identity):
                h = attn(h, tokens)
            skips.append(h)
            h = down(h)
        h = self.mid2(self.mid_attn(self.mid1(h, emb), tokens), emb)
        for j, (block, attn) in enumerate(zip(self.up_blocks, self.up_attn)):
            s = skips.pop()
            if j > 0:   # the deepest level is not downsampled; every other level comes back up by 2
                h = F.interpolate(h, scale_factor=2.0, mode="nearest")
            h = block(torch.cat([h, s], dim=1), emb)
            if not isinstance(attn, nn.Identity):
                h = attn(h, tokens)
        return context + mask * placed + self.out(F.silu(self.out_norm(h)))


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
