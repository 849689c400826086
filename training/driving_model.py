"""A small MObI-style multimodal denoiser (camera + lidar range) for D x D pixel-space diffusion (docs/driving.md,
"The model").

Exported graph inputs (docs/model-package.md, two modalities): x_t [N,5,D,D] (camera RGB then range depth,
intensity), t [N], context [N,5,D,D] (each modality's crop with its own edit mask zeroed), mask [N,2,D,D]
(m^(C), m^(R)), reference [N,3,S,S] (RGB crop of the object), box [N,2,8,3] (corners per modality). Output: epsilon
[N,5,D,D].

MObI's shape (thesis §2.3.3), scaled down:
  * ONE network for both modalities: each modality has its own input/output convolution (MObI's modality-specific
    autoencoder adapters), then the camera and range feature maps are stacked in the batch dimension (2N rows) and go
    through the same UNet, with a learned modality embedding added to the time embedding;
  * the box: corners -> Fourier embedding (sin/cos at `fourier` octaves, as MagicDrive) -> modality-agnostic MLP -> 8
    box tokens per modality;
  * bounding-box adapter: gated cross-attention (Flamingo: tanh(gate) with the gate initialised at 0, so the layer is
    the identity at init) from the UNet features to [box tokens; reference tokens];
  * cross-modal attention at the lowest levels: camera features attend to the range features of the same scene and
    vice versa, also gated and zero-initialised;
  * the reference: a small convolutional encoder (stand-in for MObI's frozen CLIP) giving tokens and a pooled vector.
The network predicts x0 = context + residual; the graph converts it to epsilon (x_t = sqrt(abar) x0 + sqrt(1-abar)
eps solved for eps), so the package contract is epsilon prediction.
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from model import ResBlock, _norm, timestep_embedding


def fourier_embedding(box: torch.Tensor, octaves: int) -> torch.Tensor:
    """[..., 3] -> [..., 3 + 6 * octaves]: the value and sin/cos(2^k pi v) for k < octaves (MagicDrive's box encoding)."""
    freqs = (2.0 ** torch.arange(octaves, dtype=torch.float32, device=box.device)) * math.pi
    a = box[..., None] * freqs                                   # ..., 3, K
    return torch.cat([box, torch.sin(a).flatten(-2), torch.cos(a).flatten(-2)], dim=-1)


class GatedAttention(nn.Module):
    """h <- h + tanh(gate) * Attn(norm(h), tokens); gate = 0 at init (Flamingo's gated cross-attention)."""

    def __init__(self, ch: int, token_dim: int, heads: int = 4):
        super().__init__()
        self.heads = heads
        self.norm = _norm(ch)
        self.q = nn.Conv2d(ch, ch, 1)
        self.kv = nn.Linear(token_dim, 2 * ch)
        self.tnorm = nn.LayerNorm(token_dim)
        self.out = nn.Conv2d(ch, ch, 1)
        self.gate = nn.Parameter(torch.zeros(1))

    def forward(self, h, tokens):
        b, c, hh, ww = h.shape
        d = c // self.heads
        q = self.q(self.norm(h)).reshape(b, self.heads, d, hh * ww).transpose(2, 3)
        k, v = self.kv(self.tnorm(tokens)).chunk(2, dim=2)
        n = tokens.shape[1]
        k = k.reshape(b, n, self.heads, d).permute(0, 2, 3, 1)
        v = v.reshape(b, n, self.heads, d).transpose(1, 2)
        a = torch.softmax(torch.matmul(q, k) / math.sqrt(d), dim=-1)
        o = torch.matmul(a, v).transpose(2, 3).reshape(b, c, hh, ww)
        return h + torch.tanh(self.gate) * self.out(o)


class CrossModal(nn.Module):
    """Camera queries attend to the range features of the same scene and range queries to the camera's (thesis §2.3.3,
    "Cross-modal attention"); rows [0, N) are camera, [N, 2N) range."""

    def __init__(self, ch: int):
        super().__init__()
        self.to_camera = GatedAttention(ch, ch)
        self.to_range = GatedAttention(ch, ch)

    def forward(self, h):
        n = h.shape[0] // 2
        cam, rng = h[:n], h[n:]
        cam_tokens = cam.flatten(2).transpose(1, 2)
        rng_tokens = rng.flatten(2).transpose(1, 2)
        return torch.cat([self.to_camera(cam, rng_tokens), self.to_range(rng, cam_tokens)], dim=0)


class RefEncoder(nn.Module):
    """3 x S x S RGB reference -> (S/4)^2 tokens and a pooled vector."""

    def __init__(self, dim: int):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(3, 32, 3, padding=1), nn.SiLU(),
            nn.Conv2d(32, 48, 4, stride=2, padding=1), _norm(48), nn.SiLU(),
            nn.Conv2d(48, dim, 4, stride=2, padding=1), _norm(dim), nn.SiLU(),
            nn.Conv2d(dim, dim, 3, padding=1))

    def forward(self, ref):
        f = self.net(ref)
        return f.flatten(2).transpose(1, 2), f.mean(dim=(2, 3))


class DrivingDenoiser(nn.Module):
    def __init__(self, resolution: int = 32, ref_size: int = 32, channels=(24, 48, 64), emb_dim: int = 96,
                 token_dim: int = 48, fourier: int = 6, num_train_timesteps: int = 1000,
                 beta_start: float = 1e-4, beta_end: float = 0.02):
        super().__init__()
        if resolution % (2 ** (len(channels) - 1)) != 0:
            raise ValueError(f"resolution {resolution} must be divisible by {2 ** (len(channels) - 1)}")
        self.config = dict(resolution=resolution, ref_size=ref_size, channels=list(channels), emb_dim=emb_dim,
                           token_dim=token_dim, fourier=fourier, num_train_timesteps=num_train_timesteps,
                           beta_start=beta_start, beta_end=beta_end)
        betas = torch.linspace(beta_start, beta_end, num_train_timesteps, dtype=torch.float64)
        abar = torch.cumprod(1.0 - betas, dim=0)
        self.register_buffer("sqrt_abar", abar.sqrt().float(), persistent=False)
        self.register_buffer("sqrt_1m_abar", (1.0 - abar).sqrt().float(), persistent=False)
        self.fourier = fourier
        self.emb_dim = emb_dim
        self.t_mlp = nn.Sequential(nn.Linear(emb_dim, emb_dim), nn.SiLU(), nn.Linear(emb_dim, emb_dim))
        self.modality = nn.Parameter(torch.zeros(2, emb_dim))
        self.ref_enc = RefEncoder(token_dim)
        self.ref_mlp = nn.Sequential(nn.Linear(token_dim, emb_dim), nn.SiLU(), nn.Linear(emb_dim, emb_dim))
        box_in = 3 + 6 * fourier
        self.box_mlp = nn.Sequential(nn.Linear(box_in, token_dim), nn.SiLU(), nn.Linear(token_dim, token_dim))
        self.corner = nn.Parameter(torch.randn(8, token_dim) * 0.02)
        c0 = channels[0]
        self.in_camera = nn.Conv2d(3 + 3 + 1, c0, 3, padding=1)
        self.in_range = nn.Conv2d(2 + 2 + 1, c0, 3, padding=1)
        self.down = nn.ModuleList()
        self.down_adapter = nn.ModuleList()
        self.pool = nn.ModuleList()
        prev = c0
        for i, ch in enumerate(channels):
            self.down.append(ResBlock(prev, ch, emb_dim))
            self.down_adapter.append(GatedAttention(ch, token_dim) if i > 0 else nn.Identity())
            self.pool.append(nn.Conv2d(ch, ch, 3, stride=2, padding=1) if i < len(channels) - 1 else nn.Identity())
            prev = ch
        self.mid1 = ResBlock(prev, prev, emb_dim)
        self.mid_adapter = GatedAttention(prev, token_dim)
        self.mid_cross = CrossModal(prev)
        self.mid2 = ResBlock(prev, prev, emb_dim)
        self.up = nn.ModuleList()
        self.up_adapter = nn.ModuleList()
        self.up_cross = nn.ModuleList()
        for i in reversed(range(len(channels))):
            ch = channels[i]
            self.up.append(ResBlock(prev + ch, ch, emb_dim))
            self.up_adapter.append(GatedAttention(ch, token_dim) if i > 0 else nn.Identity())
            self.up_cross.append(CrossModal(ch) if i == len(channels) - 1 else nn.Identity())
            prev = ch
        self.out_norm = _norm(prev)
        self.out_camera = nn.Conv2d(prev, 3, 3, padding=1)
        self.out_range = nn.Conv2d(prev, 2, 3, padding=1)
        for conv in (self.out_camera, self.out_range):
            nn.init.zeros_(conv.weight)
            nn.init.zeros_(conv.bias)

    @classmethod
    def from_config(cls, cfg: dict) -> "DrivingDenoiser":
        return cls(**cfg)

    def forward(self, x_t, t, context, mask, reference, box):
        x0 = self.predict_x0(x_t, t, context, mask, reference, box)
        return (x_t - self.sqrt_abar[t][:, None, None, None] * x0) / self.sqrt_1m_abar[t][:, None, None, None]

    def predict_x0(self, x_t, t, context, mask, reference, box):
        n = x_t.shape[0]
        ref_tokens, pooled = self.ref_enc(reference)                          # N, R, T
        box_tokens = self.box_mlp(fourier_embedding(box, self.fourier)) + self.corner   # N, 2, 8, T
        tokens = torch.cat([torch.cat([box_tokens[:, 0], ref_tokens], dim=1),
                            torch.cat([box_tokens[:, 1], ref_tokens], dim=1)], dim=0)  # 2N, 8 + R, T
        base = self.t_mlp(timestep_embedding(t, self.emb_dim)) + self.ref_mlp(pooled)
        emb = F.silu(torch.cat([base + self.modality[0], base + self.modality[1]], dim=0))
        h = torch.cat([self.in_camera(torch.cat([x_t[:, :3], context[:, :3], mask[:, :1]], dim=1)),
                       self.in_range(torch.cat([x_t[:, 3:], context[:, 3:], mask[:, 1:]], dim=1))], dim=0)
        skips = []
        for block, adapter, pool in zip(self.down, self.down_adapter, self.pool):
            h = block(h, emb)
            if not isinstance(adapter, nn.Identity):
                h = adapter(h, tokens)
            skips.append(h)
            h = pool(h)
        h = self.mid1(h, emb)
        h = self.mid_cross(self.mid_adapter(h, tokens))
        h = self.mid2(h, emb)
        for j, (block, adapter, cross) in enumerate(zip(self.up, self.up_adapter, self.up_cross)):
            s = skips.pop()
            if j > 0:
                h = F.interpolate(h, scale_factor=2.0, mode="nearest")
            h = block(torch.cat([h, s], dim=1), emb)
            if not isinstance(adapter, nn.Identity):
                h = adapter(h, tokens)
            if not isinstance(cross, nn.Identity):
                h = cross(h)
        h = F.silu(self.out_norm(h))
        residual = torch.cat([self.out_camera(h[:n]), self.out_range(h[n:])], dim=1)
        return context + residual


def masked_context(x0: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Each modality's channels with its own mask zeroed (what the C# sampler feeds as maskedContext)."""
    return torch.cat([x0[:, :3] * (1 - mask[:, :1]), x0[:, 3:] * (1 - mask[:, 1:])], dim=1)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
