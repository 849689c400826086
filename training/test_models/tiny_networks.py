"""Tiny random-weight networks with the shapes of the project's model roles, used only by tests and benchmarks.

They are NOT trained: weights come from torch's default initialisation under a fixed seed, so the same code rebuilds
the exact same weights (the golden end-to-end test rebuilds them to run the PyTorch reference loop). Each denoiser is
a few 3x3 convolutions with a sinusoidal timestep embedding and a pooled reference feature added as a bias, which is
enough for classifier-free guidance (conditional and unconditional outputs differ) and for shape/binding coverage.
"""
import math
import torch
import torch.nn as nn
import torch.nn.functional as F


def timestep_embedding(t, dim):
    # Sinusoidal embedding as in DDPM/diffusers (shift 0): [cos, sin] of t * exp(-ln(10000) k / half).
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32) / half)
    args = t.to(torch.float32)[:, None] * freqs[None, :]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=1)


class TinyDenoiser(nn.Module):
    """x_t (+ mask + masked context + detail map) -> prediction, conditioned on t and a reference (image or embedding)."""

    def __init__(self, sample_ch, extra_ch, ref_ch, ref_is_embedding, hidden=16, temb=16):
        super().__init__()
        self.temb_dim = temb
        self.ref_is_embedding = ref_is_embedding
        self.conv_in = nn.Conv2d(sample_ch + extra_ch, hidden, 3, padding=1)
        self.t_mlp = nn.Sequential(nn.Linear(temb, hidden), nn.SiLU(), nn.Linear(hidden, hidden))
        if ref_is_embedding:
            self.ref_proj = nn.Linear(ref_ch, hidden)
        else:
            self.ref_conv = nn.Conv2d(ref_ch, hidden, 3, padding=1)
            self.ref_proj = nn.Linear(hidden, hidden)
        self.conv_mid = nn.Conv2d(hidden, hidden, 3, padding=1)
        self.conv_out = nn.Conv2d(hidden, sample_ch, 3, padding=1)

    def forward(self, x, t, reference, extras):
        h = torch.cat([x] + extras, dim=1) if extras else x
        h = self.conv_in(h)
        h = h + self.t_mlp(timestep_embedding(t, self.temb_dim))[:, :, None, None]
        if self.ref_is_embedding:
            r = reference
        else:
            r = F.silu(self.ref_conv(reference)).mean(dim=(2, 3))
        h = h + self.ref_proj(r)[:, :, None, None]
        h = F.silu(h)
        h = F.silu(self.conv_mid(h)) + h
        # Residual around x_t: an untrained epsilon network that returns ~x_t keeps the sampler's x0 estimate
        # bounded (a pure random output would blow x0 up by 1/sqrt(abar_T) and make comparisons meaningless).
        return x + 0.3 * self.conv_out(h)


class PixelBlendDenoiser(nn.Module):
    """pixel, 1 channel, no mask input (known-region blending); t int64; reference image."""

    def __init__(self):
        super().__init__()
        self.net = TinyDenoiser(1, 0, 1, False)

    def forward(self, x_t, t, ref):
        return self.net(x_t, t, ref, [])


class PixelInpaintDenoiser(nn.Module):
    """pixel, 1 channel, '9-channel style': x_t, mask, masked context and HF map concatenated; t float32; reference image."""

    def __init__(self):
        super().__init__()
        self.net = TinyDenoiser(1, 3, 1, False)

    def forward(self, x_t, t, mask, context, hf, ref):
        return self.net(x_t, t, ref, [mask, context, hf])


class BenchInpaintDenoiser(nn.Module):
    """Benchmark size: pixel 64x64, 1 channel, hidden 64 (about 0.2 GFLOP per row); inputs as PixelInpaintDenoiser."""

    def __init__(self):
        super().__init__()
        self.net = TinyDenoiser(1, 3, 1, False, hidden=64, temb=32)

    def forward(self, x_t, t, mask, context, hf, ref):
        return self.net(x_t, t, ref, [mask, context, hf])


class LatentInpaintDenoiser(nn.Module):
    """latent (4 channels), mask + masked latent context; t int64; reference embedding [N, 8]."""

    def __init__(self):
        super().__init__()
        self.net = TinyDenoiser(4, 5, 8, True)

    def forward(self, z_t, t, mask, context, emb):
        return self.net(z_t, t, emb, [mask, context])


class TinyVaeEncoder(nn.Module):
    """image [N,1,32,32] in [-1,1] -> latent mean [N,4,8,8] (downsample 4)."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 8, 3, stride=2, padding=1)
        self.c2 = nn.Conv2d(8, 4, 3, stride=2, padding=1)

    def forward(self, image):
        return self.c2(F.silu(self.c1(image)))


class TinyVaeDecoder(nn.Module):
    """latent [N,4,8,8] -> image [N,1,32,32]."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(4, 8, 3, padding=1)
        self.c2 = nn.Conv2d(8, 1, 3, padding=1)

    def forward(self, latent):
        h = F.interpolate(F.silu(self.c1(latent)), scale_factor=4, mode="nearest")
        return self.c2(h)


class TinyReferenceEncoder(nn.Module):
    """reference image [N,1,16,16] -> embedding [N,8]."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 8, 3, stride=2, padding=1)
        self.fc = nn.Linear(8, 8)

    def forward(self, image):
        return self.fc(F.silu(self.c1(image)).mean(dim=(2, 3)))


def build(cls, seed):
    """The same weights every time: default init under a fixed seed, in eval mode."""
    torch.manual_seed(seed)
    return cls().eval()


# name -> (class, seed); the export script and the golden reference both build from this table.
NETWORKS = {
    "pixel_blend.denoiser": (PixelBlendDenoiser, 1001),
    "pixel_inpaint.denoiser": (PixelInpaintDenoiser, 1002),
    "latent_inpaint.denoiser": (LatentInpaintDenoiser, 1003),
    "bench_inpaint.denoiser": (BenchInpaintDenoiser, 1008),
    "latent_inpaint.vae_encoder": (TinyVaeEncoder, 1004),
    "latent_inpaint.vae_decoder": (TinyVaeDecoder, 1005),
    "latent_inpaint.reference_encoder": (TinyReferenceEncoder, 1006),
}


def network(name):
    cls, seed = NETWORKS[name]
    return build(cls, seed)
