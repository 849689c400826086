"""DDPM training schedule and a DDIM sampler with classifier-free guidance (Python reference, used for validation
samples, the reinsertion proxy and the model card's sample grid; the product's sampler is the C# one).

Schedule: linear betas from beta_start to beta_end over T = 1000 steps (DDPM, Ho et al. 2020 eq. 4:
x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps). DDIM (Song et al. 2021 eq. 12, eta = 0) with "leading" timestep
spacing and steps_offset (diffusers DDIMScheduler conventions, the ones model.json names).
"""
from __future__ import annotations

import numpy as np
import torch


class LinearSchedule:
    def __init__(self, num_train_timesteps: int = 1000, beta_start: float = 1e-4, beta_end: float = 0.02):
        self.T = num_train_timesteps
        self.beta_start, self.beta_end = beta_start, beta_end
        betas = np.linspace(beta_start, beta_end, num_train_timesteps, dtype=np.float64)
        self.alphas_cumprod = torch.tensor(np.cumprod(1.0 - betas), dtype=torch.float64)

    def q_sample(self, x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        a = self.alphas_cumprod[t].to(x0.dtype)[:, None, None, None]
        return a.sqrt() * x0 + (1 - a).sqrt() * noise

    def ddim_timesteps(self, steps: int, offset: int = 1) -> list[int]:
        """"leading" spacing: (0, k, 2k, ...) * with k = T // steps, plus the offset, descending."""
        if not 1 <= steps <= self.T:
            raise ValueError(f"DDIM steps {steps} must be in [1, {self.T}]")
        k = self.T // steps
        return [min(i * k + offset, self.T - 1) for i in range(steps)][::-1]


@torch.no_grad()
def ddim_sample(model, schedule: LinearSchedule, context, mask, reference, hf, *, steps: int = 25,
                guidance: float = 3.0, offset: int = 1, generator: torch.Generator | None = None,
                noise: torch.Tensor | None = None) -> torch.Tensor:
    """Returns x_0 in model space [-1, 1], shape like context.

    CFG (Ho & Salimans 2022): eps = eps_u + s (eps_c - eps_u), eps_u with the all-zeros reference.
    The final step uses alpha_prev = alphas_cumprod[0] (LDM / diffusers set_alpha_to_one=False).
    """
    n = context.shape[0]
    x = noise.clone() if noise is not None else torch.randn(context.shape, generator=generator).to(context.device)
    ts = schedule.ddim_timesteps(steps, offset)
    ac = schedule.alphas_cumprod
    null_ref = torch.zeros_like(reference)
    for i, t in enumerate(ts):
        tt = torch.full((n,), t, dtype=torch.long, device=context.device)
        if guidance == 1.0:
            eps = model(x, tt, context, mask, reference, hf)
        else:
            eps_both = model(torch.cat([x, x]), torch.cat([tt, tt]), torch.cat([context, context]),
                             torch.cat([mask, mask]), torch.cat([reference, null_ref]), torch.cat([hf, hf]))
            eps_c, eps_u = eps_both[:n], eps_both[n:]
            eps = eps_u + guidance * (eps_c - eps_u)
        a_t = ac[t].item()
        a_prev = ac[ts[i + 1]].item() if i + 1 < len(ts) else ac[0].item()
        x0 = (x - (1 - a_t) ** 0.5 * eps) / a_t ** 0.5
        x = a_prev ** 0.5 * x0 + (1 - a_prev) ** 0.5 * eps
    return x.clamp(-1, 1)
