"""Float64 reference implementations of the project's noise schedulers.

Written for this project from the papers (not copied from diffusers or LDM); the C# schedulers in
src/Pipeline.Inference/Schedulers must agree with these within 1e-6 on the frozen vectors that
make_vectors.py writes. Run with Debian's /usr/bin/python3 (numpy only; torch tensors are accepted
wherever an array is, they are converted to float64 numpy).

Two ways to use it:

* the two-verb classes, mirroring the C# IScheduler (set_timesteps, step, plus scale_model_input and
  add_noise), for loops that interleave other work (inpainting blends, CFG):

      sch = make_scheduler("ddim", SchedulerConfig.from_json(model_json["schedule"], eta=0.0))
      sch.set_timesteps(25)
      x = x_T * sch.init_noise_sigma
      for i, t in enumerate(sch.timesteps):
          out = model(sch.scale_model_input(x, i), t)
          x = sch.step(out, i, x, noise[i])

* the loop function sample(name, model, config, steps, x_T, noise) that does exactly that.

Conventions (the same as the C# side):
  - timesteps are integers in [0, T-1] (0-based: alpha_bar[t] = prod_{i<=t} (1 - beta_i), so the
    1-based "t = 1" of Ho et al. is index 0 here);
  - `model(x, t)` takes the *scaled* sample (scale_model_input) and the integer timestep and returns
    the prediction of the config's prediction_type;
  - noise[i] is standard normal noise for step i (DDPM, DDIM with eta > 0), pre-drawn by the caller;
    x_T is standard normal and the loop multiplies it by init_noise_sigma;
  - PLMS lists one timestep per denoiser evaluation: its pseudo-improved-Euler warm-up evaluates the
    second timestep twice, so len(timesteps) == steps + 1.

Notation map (code -> paper):
  alpha_bar[t]   -> \\bar\\alpha_t (Ho et al. 2020 Eq. 4)
  beta[t]        -> \\beta_t
  a_t, s_t       -> \\alpha_t = sqrt(\\bar\\alpha_t), \\sigma_t = sqrt(1 - \\bar\\alpha_t) (DPM-Solver notation)
  lam            -> \\lambda_t = log(\\alpha_t / \\sigma_t)
  sigma (Euler)  -> Karras et al. 2022 \\sigma = sqrt((1 - \\bar\\alpha_t) / \\bar\\alpha_t)
  x0, eps        -> \\hat x_0, \\hat\\epsilon (predicted clean sample and noise)
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Callable, List, Optional, Sequence

import numpy as np

__all__ = [
    "SchedulerConfig", "betas", "alphas_cumprod", "inference_timesteps", "make_scheduler", "sample",
    "DdpmScheduler", "DdimScheduler", "PlmsScheduler", "DpmSolverPlusPlus2MScheduler", "EulerScheduler",
    "SCHEDULER_NAMES",
]


@dataclass(frozen=True)
class SchedulerConfig:
    num_train_timesteps: int = 1000
    beta_start: float = 0.00085
    beta_end: float = 0.012
    beta_schedule: str = "scaled_linear"      # linear | scaled_linear | squaredcos_cap_v2
    prediction_type: str = "epsilon"          # epsilon | v_prediction | sample
    timestep_spacing: str = "leading"         # leading | trailing | linspace | ldm
    steps_offset: int = 0
    set_alpha_to_one: bool = True
    eta: float = 0.0
    variance_type: str = "fixed_small"        # fixed_small | fixed_large
    clip_sample: bool = False
    clip_sample_range: float = 1.0
    lower_order_final: bool = True

    _JSON = {
        "numTrainTimesteps": "num_train_timesteps", "betaStart": "beta_start", "betaEnd": "beta_end",
        "betaSchedule": "beta_schedule", "predictionType": "prediction_type",
        "timestepSpacing": "timestep_spacing", "stepsOffset": "steps_offset",
        "setAlphaToOne": "set_alpha_to_one", "eta": "eta", "varianceType": "variance_type",
        "clipSample": "clip_sample", "clipSampleRange": "clip_sample_range",
        "lowerOrderFinal": "lower_order_final",
    }

    @staticmethod
    def from_json(d: dict, **overrides) -> "SchedulerConfig":
        """From model.json's camelCase `schedule`/`sampler` keys (or snake_case), unknown keys ignored."""
        names = {f for f in SchedulerConfig.__dataclass_fields__}
        kw = {}
        for k, v in d.items():
            k = SchedulerConfig._JSON.get(k, k)
            if k in names:
                kw[k] = v
        kw.update(overrides)
        return SchedulerConfig(**kw)

    def to_json(self) -> dict:
        inv = {v: k for k, v in SchedulerConfig._JSON.items()}
        return {inv[f]: getattr(self, f) for f in inv}


# ----------------------------------------------------------------------------------------------
# Noise schedule
# ----------------------------------------------------------------------------------------------

def _linspace(a: float, b: float, n: int) -> np.ndarray:
    # a + i * (b - a) / (n - 1), last element exactly b (what numpy.linspace does; stated so C# can match).
    if n == 1:
        return np.array([a], dtype=np.float64)
    step = (b - a) / (n - 1)
    out = a + np.arange(n, dtype=np.float64) * step
    out[-1] = b
    return out


def betas(cfg: SchedulerConfig) -> np.ndarray:
    T = cfg.num_train_timesteps
    if cfg.beta_schedule == "linear":
        # Ho et al. 2020 §4: betas increasing linearly (1e-4 -> 0.02 there).
        return _linspace(cfg.beta_start, cfg.beta_end, T)
    if cfg.beta_schedule == "scaled_linear":
        # LDM / Stable Diffusion: linear in sqrt(beta).
        return _linspace(math.sqrt(cfg.beta_start), math.sqrt(cfg.beta_end), T) ** 2
    if cfg.beta_schedule == "squaredcos_cap_v2":
        # Nichol & Dhariwal 2021 Eq. 17 with s = 0.008, beta_t = 1 - abar(t)/abar(t-1) clipped at 0.999.
        def f(u):
            return math.cos((u + 0.008) / 1.008 * math.pi / 2) ** 2
        return np.array([min(1.0 - f((i + 1) / T) / f(i / T), 0.999) for i in range(T)], dtype=np.float64)
    raise ValueError(f"unknown beta schedule {cfg.beta_schedule!r}")


def alphas_cumprod(cfg: SchedulerConfig) -> np.ndarray:
    return np.cumprod(1.0 - betas(cfg))


def inference_timesteps(cfg: SchedulerConfig, steps: int) -> np.ndarray:
    """The decreasing integer timesteps of a loop of `steps` steps (one per step, PLMS adds its repeat)."""
    T = cfg.num_train_timesteps
    if not 1 <= steps <= T:
        raise ValueError(f"steps must be in [1, {T}], got {steps}")
    sp = cfg.timestep_spacing
    if sp == "leading":
        ts = np.arange(steps, dtype=np.int64) * (T // steps) + cfg.steps_offset
    elif sp == "trailing":
        ts = np.round(np.arange(T, 0, -T / steps)).astype(np.int64) - 1
        ts = ts[:steps]
    elif sp == "linspace":
        ts = np.round(_linspace(0.0, T - 1.0, steps)).astype(np.int64)
    elif sp == "ldm":
        # LDM make_ddim_timesteps(discr="uniform"): range(0, T, T // S) + 1 (may give more than S steps).
        ts = np.arange(0, T, T // steps, dtype=np.int64) + 1
    else:
        raise ValueError(f"unknown timestep spacing {sp!r}")
    ts = np.sort(ts)[::-1].copy()
    if ts[0] >= T or ts[-1] < 0 or np.any(np.diff(ts) >= 0):
        raise ValueError(f"spacing {sp} with {steps} steps gives invalid timesteps {ts.tolist()}")
    return ts


def final_alpha_cumprod(cfg: SchedulerConfig, abar: np.ndarray) -> float:
    # ldm spacing always ends on alpha_bar[0] (LDM's alphas_prev[0] = alphacums[0]).
    if cfg.timestep_spacing == "ldm":
        return float(abar[0])
    return 1.0 if cfg.set_alpha_to_one else float(abar[0])


# ----------------------------------------------------------------------------------------------
# Prediction conversions (Ho et al. 2020 Eq. 15; Salimans & Ho 2022 §4 for v)
# ----------------------------------------------------------------------------------------------

def to_x0(pred, x, abar_t, prediction_type):
    a, s = math.sqrt(abar_t), math.sqrt(1.0 - abar_t)
    if prediction_type == "epsilon":
        return (x - s * pred) / a
    if prediction_type == "v_prediction":
        return a * x - s * pred
    if prediction_type == "sample":
        return pred
    raise ValueError(prediction_type)


def to_eps(pred, x, abar_t, prediction_type):
    a, s = math.sqrt(abar_t), math.sqrt(1.0 - abar_t)
    if prediction_type == "epsilon":
        return pred
    if prediction_type == "v_prediction":
        return s * x + a * pred
    if prediction_type == "sample":
        return (x - a * pred) / s
    raise ValueError(prediction_type)


def _f64(a):
    if hasattr(a, "detach"):
        a = a.detach().cpu().numpy()
    return np.asarray(a, dtype=np.float64)


class _Base:
    name = ""

    def __init__(self, cfg: SchedulerConfig):
        self.config = cfg
        self.betas = betas(cfg)
        self.alphas_cumprod = np.cumprod(1.0 - self.betas)
        self.final_alpha_cumprod = final_alpha_cumprod(cfg, self.alphas_cumprod)
        self.timesteps: List[int] = []
        self.init_noise_sigma = 1.0
        self.needs_noise = False

    def abar(self, t: int) -> float:
        return self.final_alpha_cumprod if t < 0 else float(self.alphas_cumprod[t])

    def set_timesteps(self, steps: int):
        self._ts = [int(t) for t in inference_timesteps(self.config, steps)]
        self.timesteps = list(self._ts)

    def prev_timestep(self, i: int) -> int:
        """Timestep the step at loop index i goes to; -1 means 'final' (alpha_bar = final_alpha_cumprod)."""
        return self._ts[i + 1] if i + 1 < len(self._ts) else -1

    def scale_model_input(self, x, i: int):
        return _f64(x)

    def add_noise(self, x0, noise, t: int):
        # Ho et al. 2020 Eq. 4: q(x_t | x_0) = N(sqrt(abar_t) x_0, (1 - abar_t) I)
        ab = self.abar(t)
        return math.sqrt(ab) * _f64(x0) + math.sqrt(1.0 - ab) * _f64(noise)

    def _clip(self, x0):
        if self.config.clip_sample:
            r = self.config.clip_sample_range
            return np.clip(x0, -r, r)
        return x0


class DdpmScheduler(_Base):
    """Ho et al. 2020, Algorithm 2 over a (possibly strided) timestep subsequence."""
    name = "ddpm"

    def __init__(self, cfg):
        super().__init__(cfg)
        self.needs_noise = True

    def step(self, pred, i, x, noise=None):
        pred, x = _f64(pred), _f64(x)
        t, tp = self._ts[i], self.prev_timestep(i)
        ab_t, ab_p = self.abar(t), self.abar(tp)
        # strided chain: the effective beta of the jump t -> tp
        alpha = ab_t / ab_p
        beta = 1.0 - alpha
        x0 = self._clip(to_x0(pred, x, ab_t, self.config.prediction_type))
        # posterior mean, Eq. 7
        mean = (math.sqrt(ab_p) * beta / (1.0 - ab_t)) * x0 + (math.sqrt(alpha) * (1.0 - ab_p) / (1.0 - ab_t)) * x
        if i == len(self._ts) - 1:
            return mean  # z = 0 at the last step (Algorithm 2)
        if self.config.variance_type == "fixed_small":
            var = max((1.0 - ab_p) / (1.0 - ab_t) * beta, 1e-20)  # beta tilde, Eq. 7
        elif self.config.variance_type == "fixed_large":
            var = beta  # sigma_t^2 = beta_t (§3.2)
        else:
            raise ValueError(self.config.variance_type)
        return mean + math.sqrt(var) * _f64(noise)


class DdimScheduler(_Base):
    """Song et al. 2021, Eq. 12 with sigma_t(eta) of Eq. 16."""
    name = "ddim"

    def __init__(self, cfg):
        super().__init__(cfg)
        self.needs_noise = cfg.eta > 0

    def step(self, pred, i, x, noise=None):
        pred, x = _f64(pred), _f64(x)
        t, tp = self._ts[i], self.prev_timestep(i)
        ab_t, ab_p = self.abar(t), self.abar(tp)
        pt = self.config.prediction_type
        x0 = self._clip(to_x0(pred, x, ab_t, pt))
        eps = to_eps(pred, x, ab_t, pt)
        sigma = self.config.eta * math.sqrt((1.0 - ab_p) / (1.0 - ab_t)) * math.sqrt(1.0 - ab_t / ab_p)
        out = math.sqrt(ab_p) * x0 + math.sqrt(max(1.0 - ab_p - sigma * sigma, 0.0)) * eps
        if sigma > 0:
            out = out + sigma * _f64(noise)
        return out


class PlmsScheduler(_Base):
    """Liu et al. 2022 (PNDM) as LDM's PLMSSampler runs it: the transfer part phi of Eq. 9 (the DDIM eta = 0
    step), a pseudo improved Euler first step (two evaluations), then Adams-Bashforth of order 2, 3 and 4
    on the noise predictions (Eq. 12 for order 4)."""
    name = "plms"

    def set_timesteps(self, steps):
        super().set_timesteps(steps)
        base = self._ts
        self._base = base
        if len(base) >= 2:
            self.timesteps = [base[0], base[1]] + base[1:]
        else:
            self.timesteps = list(base)
        self._eps = []       # real noise predictions, newest last
        self._x_start = None
        self._eps_first = None

    def _phi(self, x, eps, t, tp):
        ab_t, ab_p = self.abar(t), self.abar(tp)
        x0 = (x - math.sqrt(1.0 - ab_t) * eps) / math.sqrt(ab_t)
        return math.sqrt(ab_p) * x0 + math.sqrt(1.0 - ab_p) * eps

    def step(self, pred, i, x, noise=None):
        pred, x = _f64(pred), _f64(x)
        t = self.timesteps[i]
        eps = to_eps(pred, x, self.abar(t), self.config.prediction_type)
        base = self._base
        if len(base) == 1:
            return self._phi(x, eps, base[0], -1)
        if i == 0:
            # first half of the pseudo improved Euler step: provisional sample at base[1]
            self._x_start, self._eps_first = x.copy(), eps
            return self._phi(x, eps, base[0], base[1])
        if i == 1:
            e = 0.5 * (self._eps_first + eps)
            self._eps = [self._eps_first]
            out = self._phi(self._x_start, e, base[0], base[1])
            self._x_start = None
            return out
        k = i - 1                      # index into base of the current timestep
        tp = base[k + 1] if k + 1 < len(base) else -1
        h = self._eps
        if len(h) == 1:
            e = (3 * eps - h[-1]) / 2
        elif len(h) == 2:
            e = (23 * eps - 16 * h[-1] + 5 * h[-2]) / 12
        else:
            e = (55 * eps - 59 * h[-1] + 37 * h[-2] - 9 * h[-3]) / 24
        self._eps = (h + [eps])[-3:]
        return self._phi(x, e, t, tp)


class DpmSolverPlusPlus2MScheduler(_Base):
    """Lu et al. 2022, DPM-Solver++(2M) (Algorithm 2), data prediction, in lambda = log(alpha/sigma)."""
    name = "dpmpp2m"

    def set_timesteps(self, steps):
        super().set_timesteps(steps)
        self._x0_prev = None
        self._h_prev = None

    def step(self, pred, i, x, noise=None):
        pred, x = _f64(pred), _f64(x)
        t, tp = self._ts[i], self.prev_timestep(i)
        ab_t, ab_p = self.abar(t), self.abar(tp)
        x0 = self._clip(to_x0(pred, x, ab_t, self.config.prediction_type))
        a_t, s_t = math.sqrt(ab_t), math.sqrt(1.0 - ab_t)
        a_p, s_p = math.sqrt(ab_p), math.sqrt(1.0 - ab_p)
        last = i == len(self._ts) - 1
        if s_p == 0.0:
            # lambda_prev = +inf: the exact first-order update is x0 itself (exp(-h) -> 0)
            out, h = x0, math.inf
        else:
            lam_t = math.log(a_t) - math.log(s_t)
            lam_p = math.log(a_p) - math.log(s_p)
            h = lam_p - lam_t
            lower = self._x0_prev is None or (last and self.config.lower_order_final and len(self._ts) < 15)
            if lower:
                d = x0
            else:
                r = self._h_prev / h
                d = (1 + 1 / (2 * r)) * x0 - (1 / (2 * r)) * self._x0_prev
            out = (s_p / s_t) * x - a_p * math.expm1(-h) * d
        self._x0_prev, self._h_prev = x0, h
        return out


class EulerScheduler(_Base):
    """Karras et al. 2022, Euler method on the probability-flow ODE dx/dsigma = (x - D(x; sigma)) / sigma
    (Eq. 1 with sigma(t) = t, Algorithm 1 without the Heun correction), samples in the sigma (VE) space;
    the model sees x / sqrt(sigma^2 + 1) (the VP sample)."""
    name = "euler"

    def set_timesteps(self, steps):
        super().set_timesteps(steps)
        self.sigmas = [self._sigma(t) for t in self._ts] + [self._sigma(-1)]
        self.init_noise_sigma = math.sqrt(self.sigmas[0] ** 2 + 1.0)

    def _sigma(self, t):
        ab = self.abar(t)
        return math.sqrt((1.0 - ab) / ab)

    def scale_model_input(self, x, i):
        return _f64(x) / math.sqrt(self.sigmas[i] ** 2 + 1.0)

    def add_noise(self, x0, noise, t):
        return _f64(x0) + self._sigma(t) * _f64(noise)

    def step(self, pred, i, x, noise=None):
        pred, x = _f64(pred), _f64(x)
        s, sn = self.sigmas[i], self.sigmas[i + 1]
        c = math.sqrt(s * s + 1.0)
        # the VP-space sample is x / c with abar = 1 / c^2
        x0 = self._clip(to_x0(pred, x / c, 1.0 / (c * c), self.config.prediction_type))
        d = (x - x0) / s
        return x + (sn - s) * d


SCHEDULER_NAMES = {
    "ddpm": DdpmScheduler, "ddim": DdimScheduler, "plms": PlmsScheduler,
    "dpmpp2m": DpmSolverPlusPlus2MScheduler, "euler": EulerScheduler,
}


def make_scheduler(name: str, cfg: SchedulerConfig):
    try:
        return SCHEDULER_NAMES[name](cfg)
    except KeyError:
        raise ValueError(f"unknown scheduler {name!r}; expected one of {sorted(SCHEDULER_NAMES)}") from None


def sample(name: str, model: Callable, cfg: SchedulerConfig, steps: int, x_T,
           noise: Optional[Sequence] = None, callback: Optional[Callable] = None,
           tensor_dtype=None) -> np.ndarray:
    """The whole loop: x = x_T * init_noise_sigma; for each evaluation i: x = step(model(scale(x), t_i), i, x, noise[i]).

    noise[i] is read only for stochastic schedulers (a sequence with one array per evaluation).
    callback(i, t, x_next) is called after each step (e.g. to blend a known region); a non-None return replaces x.
    tensor_dtype=np.float32 rounds every tensor that crosses the scheduler's interface (the initial sample, the
    model's input and output, the sample after each step) to float32, as a float32 pipeline (ONNX, the C# side)
    does, while the scheduler arithmetic itself stays float64. Without it everything is float64. Use it when
    comparing with a float32 implementation: epsilon prediction near abar_T ~ 0 amplifies a float32 rounding of
    the model output by 1/sqrt(abar_T), which no scheduler can undo.
    """
    def r(a):
        a = _f64(a)
        return a if tensor_dtype is None else a.astype(tensor_dtype).astype(np.float64)

    sch = make_scheduler(name, cfg)
    sch.set_timesteps(steps)
    x = r(_f64(x_T) * sch.init_noise_sigma)
    for i, t in enumerate(sch.timesteps):
        out = r(model(r(sch.scale_model_input(x, i)), t))
        z = None
        if sch.needs_noise:
            if noise is None:
                raise ValueError(f"{name} needs noise for every step")
            z = _f64(noise[i])
        x = r(sch.step(out, i, x, z))
        if callback is not None:
            y = callback(i, t, x)
            if y is not None:
                x = r(y)
    return x
