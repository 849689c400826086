"""The fixed analytic "denoiser" the scheduler loop tests use (the C# twin is AnalyticDenoiser.cs in the tests).

It is the exact posterior-mean denoiser for Gaussian data x0 ~ N(mu, s^2 I) (mu_j = 0.5 cos(0.7 j) for flat
element index j, s^2 = 0.25), plus a small nonlinear term so that multistep methods see curvature:

    x0_hat(x, t) = mu + k_t (x - sqrt(abar_t) mu) + 0.05 sin(3 x),   k_t = s^2 sqrt(abar_t) / (abar_t s^2 + 1 - abar_t)

and returns it as the configured prediction type (eps = (x - sqrt(abar) x0) / sqrt(1 - abar),
v = sqrt(abar) eps - sqrt(1 - abar) x0). x is the (scaled, VP-space) model input; t an integer timestep.
"""
import math

import numpy as np

from reference_schedulers import SchedulerConfig, alphas_cumprod

S2 = 0.25


def mu(n: int) -> np.ndarray:
    return 0.5 * np.cos(0.7 * np.arange(n, dtype=np.float64))


def make_denoiser(cfg: SchedulerConfig):
    abars = alphas_cumprod(cfg)

    def model(x, t):
        x = np.asarray(x, dtype=np.float64)
        ab = float(abars[t])
        a, s = math.sqrt(ab), math.sqrt(1.0 - ab)
        m = mu(x.size).reshape(x.shape)
        k = S2 * a / (ab * S2 + 1.0 - ab)
        x0 = m + k * (x - a * m) + 0.05 * np.sin(3.0 * x)
        eps = (x - a * x0) / s
        if cfg.prediction_type == "epsilon":
            return eps
        if cfg.prediction_type == "v_prediction":
            return a * eps - s * x0
        if cfg.prediction_type == "sample":
            return x0
        raise ValueError(cfg.prediction_type)

    return model
