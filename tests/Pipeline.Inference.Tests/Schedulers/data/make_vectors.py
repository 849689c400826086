"""Writes the frozen scheduler vectors the C# tests read (run from this folder with /usr/bin/python3):

  alpha_bars.json     alphas_cumprod for the three beta schedules (T = 1000)
  timesteps.json      inference timesteps per spacing / steps / offset
  single_steps.json   one Step call per scheduler x prediction type on frozen (x, model output, noise)
  loops.json          full loops with the analytic denoiser (analytic_denoiser.py) from frozen x_T and noise

Inputs handed to C# (x_T, noise, x, model outputs) are float32 values; the expected outputs are float64. The loops
round the tensors crossing the scheduler interface to float32 (sample(..., tensor_dtype=np.float32)), as the C#
pipeline does; the scheduler arithmetic is float64 on both sides.
Before writing, it checks identities that hold between the schedulers independently of this file's code paths
(DDIM eta=1 == DDPM fixed_small posterior, DPM-Solver++ first step == DDIM eta=0, Euler == DDIM in the scaled
space) so the reference cannot silently drift.
"""
import json
import math

import numpy as np

from analytic_denoiser import make_denoiser
from reference_schedulers import (SchedulerConfig, alphas_cumprod, inference_timesteps, make_scheduler, sample)

N = 48          # elements per sample (a batch of 3 x 1 x 4 x 4)
rng = np.random.RandomState(20261122)


def f32(a):
    return np.asarray(a, dtype=np.float32).astype(np.float64)


def lst(a):
    return [float(v) for v in np.asarray(a, dtype=np.float64).ravel()]


def cfg_json(c: SchedulerConfig):
    return c.to_json()


LINEAR = dict(beta_schedule="linear", beta_start=1e-4, beta_end=0.02)
SCALED = dict(beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012)
COSINE = dict(beta_schedule="squaredcos_cap_v2")


def alpha_bars():
    out = {}
    for name, kw in [("linear", LINEAR), ("scaled_linear", SCALED), ("squaredcos_cap_v2", COSINE)]:
        c = SchedulerConfig(**kw)
        out[name] = {"config": cfg_json(c), "alphasCumprod": lst(alphas_cumprod(c))}
    return out


def timesteps():
    cases = []
    for sp in ["leading", "trailing", "linspace", "ldm"]:
        for steps in [1, 3, 7, 10, 25, 30, 50, 999]:
            for off in ([0, 1] if sp == "leading" else [0]):
                c = SchedulerConfig(timestep_spacing=sp, steps_offset=off)
                try:
                    ts = inference_timesteps(c, steps)
                except ValueError:
                    continue
                cases.append({"spacing": sp, "steps": steps, "stepsOffset": off, "timesteps": [int(t) for t in ts]})
    return cases


def single_steps():
    cases = []
    specs = [
        ("ddim", dict(SCALED, timestep_spacing="leading", steps_offset=1, set_alpha_to_one=False), 10, [0, 4, 9]),
        ("ddim", dict(LINEAR, timestep_spacing="trailing", eta=0.7), 10, [0, 5, 9]),
        ("ddpm", dict(LINEAR, variance_type="fixed_small"), 10, [0, 5, 9]),
        ("ddpm", dict(COSINE, variance_type="fixed_large", timestep_spacing="linspace"), 10, [0, 5, 9]),
        ("ddpm", dict(LINEAR, clip_sample=True), 10, [3]),
        ("plms", dict(SCALED, timestep_spacing="ldm"), 10, [0]),
        ("dpmpp2m", dict(SCALED, timestep_spacing="linspace"), 10, [0]),
        ("euler", dict(SCALED, timestep_spacing="linspace"), 10, [0, 5, 9]),
    ]
    for name, kw, steps, idx in specs:
        for pt in ["epsilon", "v_prediction", "sample"]:
            c = SchedulerConfig(prediction_type=pt, **kw)
            for i in idx:
                sch = make_scheduler(name, c)
                sch.set_timesteps(steps)
                x = f32(rng.randn(N) * (sch.init_noise_sigma if i == 0 else 1.0))
                pred = f32(rng.randn(N))
                z = f32(rng.randn(N))
                scaled = sch.scale_model_input(x, i)
                out = sch.step(pred, i, x, z if sch.needs_noise else None)
                cases.append({"scheduler": name, "config": cfg_json(c), "steps": steps, "stepIndex": i,
                              "timesteps": [int(t) for t in sch.timesteps], "initNoiseSigma": sch.init_noise_sigma,
                              "sample": lst(x), "modelOutput": lst(pred), "noise": lst(z) if sch.needs_noise else [],
                              "scaledSample": lst(scaled), "expected": lst(out)})
    return cases


def loops():
    cases = []
    specs = [
        ("ddim", "anydoor-ldm", dict(SCALED, timestep_spacing="ldm"), 30),
        ("ddim", "leading-offset1", dict(SCALED, timestep_spacing="leading", steps_offset=1, set_alpha_to_one=False), 25),
        ("ddim", "trailing-eta05", dict(LINEAR, timestep_spacing="trailing", eta=0.5), 20),
        ("ddim", "linspace-cosine-eta1", dict(COSINE, timestep_spacing="linspace", eta=1.0), 12),
        ("ddpm", "fixed-small", dict(LINEAR, variance_type="fixed_small"), 20),
        ("ddpm", "fixed-large-offset1", dict(LINEAR, variance_type="fixed_large", steps_offset=1), 20),
        ("ddpm", "clip-cosine", dict(COSINE, clip_sample=True, timestep_spacing="trailing"), 15),
        ("plms", "pbe-ldm", dict(SCALED, timestep_spacing="ldm"), 50),
        ("plms", "leading-offset1", dict(SCALED, steps_offset=1, set_alpha_to_one=False), 10),
        ("plms", "two-steps", dict(LINEAR, timestep_spacing="trailing"), 2),
        ("dpmpp2m", "linspace-20", dict(SCALED, timestep_spacing="linspace"), 20),
        ("dpmpp2m", "leading-10-alpha0", dict(SCALED, steps_offset=1, set_alpha_to_one=False), 10),
        ("dpmpp2m", "trailing-cosine-16", dict(COSINE, timestep_spacing="trailing"), 16),
        ("euler", "linspace-20", dict(SCALED, timestep_spacing="linspace"), 20),
        ("euler", "leading-offset1-linear", dict(LINEAR, steps_offset=1), 15),
    ]
    for name, label, kw, steps in specs:
        for pt in ["epsilon", "v_prediction", "sample"]:
            c = SchedulerConfig(prediction_type=pt, **kw)
            sch = make_scheduler(name, c)
            sch.set_timesteps(steps)
            x_T = f32(rng.randn(N))
            noise = [f32(rng.randn(N)) for _ in sch.timesteps] if sch.needs_noise else []
            out = sample(name, make_denoiser(c), c, steps, x_T, noise, tensor_dtype=np.float32)
            assert np.all(np.isfinite(out)), (name, label, pt)
            cases.append({"scheduler": name, "label": label, "config": cfg_json(c), "steps": steps,
                          "timesteps": [int(t) for t in sch.timesteps], "initNoiseSigma": sch.init_noise_sigma,
                          "xT": lst(x_T), "noise": [lst(z) for z in noise], "expected": lst(out)})
    return cases


def check_identities():
    model_rng = np.random.RandomState(7)
    for pt in ["epsilon", "v_prediction", "sample"]:
        c = SchedulerConfig(prediction_type=pt, **LINEAR)
        x, pred, z = model_rng.randn(N), model_rng.randn(N), model_rng.randn(N)
        for i in [0, 3, 9]:
            ddim1 = make_scheduler("ddim", SchedulerConfig(prediction_type=pt, eta=1.0, **LINEAR))
            ddpm = make_scheduler("ddpm", c)
            ddim0 = make_scheduler("ddim", c)
            dpm = make_scheduler("dpmpp2m", c)
            for s in (ddim1, ddpm, ddim0, dpm):
                s.set_timesteps(10)
            if i < 9:  # DDPM adds no noise at the last step, DDIM eta=1 does not either (abar_prev = 1)
                np.testing.assert_allclose(ddim1.step(pred, i, x, z), ddpm.step(pred, i, x, z), rtol=0, atol=1e-12)
            if i == 0:
                np.testing.assert_allclose(dpm.step(pred, 0, x), ddim0.step(pred, 0, x), rtol=0, atol=1e-12)
        # Euler on sigma-space samples == DDIM eta=0 on VP samples (Song et al. 2021 Eq. 14)
        eu, dd = make_scheduler("euler", c), make_scheduler("ddim", c)
        eu.set_timesteps(10)
        dd.set_timesteps(10)
        for i in [0, 4, 9]:
            c_i = math.sqrt(eu.sigmas[i] ** 2 + 1)
            c_n = math.sqrt(eu.sigmas[i + 1] ** 2 + 1)
            xe = x * c_i
            np.testing.assert_allclose(eu.scale_model_input(xe, i), x, rtol=0, atol=1e-12)
            np.testing.assert_allclose(eu.step(pred, i, xe) / c_n, dd.step(pred, i, x), rtol=0, atol=1e-10)


if __name__ == "__main__":
    check_identities()
    for fname, fn in [("alpha_bars.json", alpha_bars), ("timesteps.json", timesteps),
                      ("single_steps.json", single_steps), ("loops.json", loops)]:
        with open(fname, "w") as f:
            json.dump(fn(), f, separators=(",", ":"))
        print("wrote", fname)
