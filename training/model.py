"""A small AnydoorMed-style conditional denoiser for 64 px single-channel pixel-space diffusion.

Denoiser input: noisy target crop x_t, masked context, box mask and high-frequency collage, concatenated channel-wise
(the "9-channel" inpainting style of Paint-by-Example / MObI, here 4 channels in pixel space). Conditioning:
  * timestep t -> sinusoidal embedding -> MLP (epsilon prediction, DDPM schedule T = 1000);
  * reference crop -> a small convolutional reference encoder (stand-in for AnydoorMed's frozen DINOv2) giving
    (a) a pooled vector added to the time embedding, which drives FiLM (scale/shift) in every residual block, and
    (b) an 8 x 8 grid of reference tokens read by cross-attention at the 16 x 16 and 8 x 8 UNet levels, with a
        zero-initialised output projection (the gated cross-attention adapter of AnydoorMed/Flamingo, gate = 0 at
        init).
Classifier-free guidance: the unconditional branch is the all-zeros reference (model.json reference.null = "zeros").
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
    def __init__(self, resolution: int = 64, ref_size: int = 64, channels=(32, 64, 96, 128),
                 emb_dim: int = 128, ref_dim: int = 64, attn_levels=(2, 3)):
        super().__init__()
        if resolution % (2 ** (len(channels) - 1)) != 0:
            raise ValueError(f"resolution {resolution} must be divisible by {2 ** (len(channels) - 1)} "
                             f"for {len(channels)} UNet levels")
        self.config = dict(resolution=resolution, ref_size=ref_size, channels=list(channels), emb_dim=emb_dim,
                           ref_dim=ref_dim, attn_levels=list(attn_levels))
        self.emb_dim = emb_dim
        self.t_mlp = nn.Sequential(nn.Linear(emb_dim, emb_dim), nn.SiLU(), nn.Linear(emb_dim, emb_dim))
        self.ref_enc = ReferenceEncoder(ref_dim, ref_size)
        self.ref_mlp = nn.Sequential(nn.Linear(ref_dim, emb_dim), nn.SiLU(), nn.Linear(emb_dim, emb_dim))
        self.inp = nn.Conv2d(4, channels[0], 3, padding=1)
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

    def forward(self, x_t, t, context, mask, reference, hf):
        tokens, pooled = self.ref_enc(reference)
        emb = self.t_mlp(timestep_embedding(t, self.emb_dim)) + self.ref_mlp(pooled)
        emb = F.silu(emb)
        h = self.inp(torch.cat([x_t, context, mask, hf], dim=1))
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
        return self.out(F.silu(self.out_norm(h)))


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
