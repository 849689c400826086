"""Golden end-to-end vectors for the inpainting sampler (tests/Pipeline.Inference.Tests/Sampling/GoldenSamplerTests.cs).

A PyTorch reference loop over the SAME tiny networks (rebuilt from training/test_models/tiny_networks.py, whose
weights were exported to the committed ONNX files), the same noise (noise.py, the documented Philox stream), the
float64 reference schedulers of the sched engineer (../../Schedulers/data/reference_schedulers.py), the same
classifier-free guidance and the same inpainting rules as src/Pipeline.Inference/Sampling/InpaintingSampler.cs:

  x = noise(initial) * init_noise_sigma
  for each evaluation i (timestep t), iteration counter k:
     blend models: x = m*x + (1-m)*add_noise(known0, noise(known_region, k), t)
     u, c = net(scale(x), t, null reference), net(scale(x), t, reference)      (one batch of 2)
     x = step(u + w (c - u), i, x, noise(scheduler_step, k));  k += 1
     RePaint: after every jump_length evaluations (not the last), r-1 times: forward-jump back jump_length steps
  blend models: x = m*x + (1-m)*known0;  latent models: image = D(x / scalingFactor)

Tensors crossing the scheduler interface are rounded to float32 as the C# pipeline does.
Run from the repository root: /usr/bin/python3 tests/Pipeline.Inference.Tests/data/sampling/make_golden.py
"""
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", "..", ".."))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(REPO, "training", "test_models"))
sys.path.insert(0, os.environ.get("REFERENCE_SCHEDULERS_DIR", os.path.join(HERE, "..", "..", "Schedulers", "data")))

import noise as N  # noqa: E402
import reference_schedulers as RS  # noqa: E402
from tiny_networks import network  # noqa: E402

torch.set_grad_enabled(False)
torch.set_num_threads(1)
SEED = 2026
ITEM_IDS = [11, 12, 13]


def f32(a):
    return np.asarray(a, dtype=np.float64).astype(np.float32).astype(np.float64)


def load_package(name):
    with open(os.path.join(REPO, "training", "test_models", name, "model.json")) as f:
        return json.load(f)


def make_items(pkg, salt):
    rng = np.random.default_rng(1000 + salt)
    res, c = pkg["resolution"], pkg["imageChannels"]
    rs, rc = pkg["reference"]["size"], pkg["reference"]["channels"]
    items = []
    for n, item_id in enumerate(ITEM_IDS):
        ctx = rng.uniform(-1, 1, (c, res, res)).astype(np.float32)
        mask = np.zeros((1, res, res), np.float32)
        y0, x0, h, w = res // 4 + n % 2, res // 4 + n, res // 2, res // 2 - 1
        mask[:, y0:y0 + h, x0:x0 + w] = 1
        ref = rng.uniform(-1, 1, (rc, rs, rs)).astype(np.float32)
        hf = rng.uniform(-0.5, 0.5, (c, res, res)).astype(np.float32)
        items.append({"id": item_id, "context": ctx, "mask": mask, "reference": ref, "hf": hf})
    return items


class Denoise:
    """The package's networks behind the sampler's roles, in torch float32."""

    def __init__(self, name, pkg):
        self.name, self.pkg = name, pkg
        self.den = network(f"{name}.denoiser")
        self.latent = pkg["kind"] == "latent"
        if self.latent:
            self.enc = network(f"{name}.vae_encoder")
            self.dec = network(f"{name}.vae_decoder")
            self.scale = pkg["latent"]["scalingFactor"]
            self.down = pkg["latent"]["downsample"]
        self.ref_enc = network(f"{name}.reference_encoder") if pkg["reference"]["input"] == "embedding" else None
        nul = pkg["reference"]["null"]
        self.null_file = None if nul == "zeros" else np.fromfile(os.path.join(REPO, "training", "test_models", name, nul), dtype="<f4")
        self.t_float = pkg["components"]["denoiser"]["inputs"]["timestep"] == "t" and name == "pixel_inpaint"

    def to_sample_space(self, img):
        if not self.latent:
            return f32(img)
        z = self.enc(torch.from_numpy(np.asarray(img, np.float32)[None]))[0].numpy()
        return f32(f32(z) * np.float32(self.scale))

    def sample_mask(self, mask):
        if not self.latent:
            return mask
        return F.max_pool2d(torch.from_numpy(mask[None]), self.down)[0].numpy()

    def condition(self, item):
        masked = item["context"] * (1 - item["mask"])
        cond = {"mask_s": self.sample_mask(item["mask"]).astype(np.float64)}
        ins = self.pkg["components"]["denoiser"]["inputs"]
        if "maskedContext" in ins:
            cond["ctx"] = self.to_sample_space(masked)
        if "detailMap" in ins:
            cond["hf"] = self.to_sample_space(item["hf"])
        if self.pkg["inpainting"] == "blend":
            cond["known0"] = self.to_sample_space(item["context"])
        if self.ref_enc is not None:
            ref = self.ref_enc(torch.from_numpy(item["reference"][None]))[0].numpy()
        else:
            ref = item["reference"]
        cond["ref"] = np.asarray(ref, np.float32)
        cond["null"] = np.zeros_like(cond["ref"]) if self.null_file is None else self.null_file.reshape(cond["ref"].shape).astype(np.float32)
        return cond

    def __call__(self, x, t, cond):
        """[uncond, cond] predictions for one item as one batch of 2 (as the C# sampler stacks them)."""
        xt = torch.from_numpy(np.stack([x, x]).astype(np.float32))
        tt = torch.tensor([float(t)] * 2, dtype=torch.float32) if self.t_float else torch.tensor([t, t], dtype=torch.int64)
        ref = torch.from_numpy(np.stack([cond["null"], cond["ref"]]))
        two = lambda a: torch.from_numpy(np.stack([a, a]).astype(np.float32))  # noqa: E731
        if self.name == "pixel_blend":
            out = self.den(xt, tt, ref)
        elif self.name == "pixel_inpaint":
            out = self.den(xt, tt, two(cond["mask_s"]), two(cond["ctx"]), two(cond["hf"]), ref)
        else:
            out = self.den(xt, tt, two(cond["mask_s"]), two(cond["ctx"]), ref)
        out = out.numpy().astype(np.float64)
        return out[0], out[1]

    def decode(self, x):
        if not self.latent:
            return x
        z = torch.from_numpy((np.asarray(x, np.float32) * np.float32(1.0 / self.scale))[None])
        return self.dec(z)[0].numpy().astype(np.float64)


def forward_coeffs(sch, t):
    a = float(sch.add_noise(np.array([1.0]), np.array([0.0]), t)[0])
    b = float(sch.add_noise(np.array([0.0]), np.array([1.0]), t)[0])
    return a, b


def run_case(net, pkg, item, scheduler, steps, guidance, eta, repaint):
    sampler = dict(pkg["sampler"])
    sampler["eta"] = eta
    cfg = RS.SchedulerConfig.from_json({**pkg["schedule"], **sampler})
    sch = RS.make_scheduler(scheduler, cfg)
    sch.set_timesteps(steps)
    ts = sch.timesteps
    cond = net.condition(item)
    shape = cond["ctx"].shape if "ctx" in cond else cond["known0"].shape
    count = int(np.prod(shape))
    draw = lambda purpose, k: N.noise(SEED, item["id"], purpose, k, count).reshape(shape).astype(np.float64)  # noqa: E731
    x = f32(draw("initial", 0) * np.float32(sch.init_noise_sigma))
    blend = pkg["inpainting"] == "blend"
    m = cond["mask_s"]
    w = np.float32(guidance)
    jumps = [0] * len(ts)
    k = 0
    i = 0
    while i < len(ts):
        t = ts[i]
        if blend:
            known_t = f32(sch.add_noise(cond["known0"], draw("known_region", k), t))
            x = f32(m * x + (1 - m) * known_t)
        model_in = f32(sch.scale_model_input(x, i))
        u, c = net(model_in, t, cond)
        u32, c32 = u.astype(np.float32), c.astype(np.float32)
        g = (u32 + w * (c32 - u32)).astype(np.float64)
        z = draw("scheduler_step", k) if sch.needs_noise else None
        x = f32(sch.step(g, i, x, z))
        k += 1
        if repaint and (i + 1) % repaint[0] == 0 and i + 1 < len(ts) and jumps[i] < repaint[1] - 1:
            jumps[i] += 1
            back = i + 1 - repaint[0]
            af, bf = forward_coeffs(sch, ts[i + 1])
            at, bt = forward_coeffs(sch, ts[back])
            ratio = at / af
            sd = math.sqrt(max(0.0, bt * bt - ratio * ratio * bf * bf))
            x = f32(ratio * x + sd * draw("resample", k))
            i = back
        else:
            i += 1
    if blend:
        x = f32(m * x + (1 - m) * cond["known0"])
    return net.decode(x)


CASES = [
    # package, scheduler, steps, guidance, eta, repaint (jump, resamplings)
    ("pixel_inpaint", "ddim", 8, 3.0, 0.0, None),
    ("pixel_inpaint", "ddim", 8, 3.0, 0.7, None),
    ("pixel_inpaint", "plms", 8, 3.0, 0.0, None),
    ("pixel_inpaint", "dpmpp2m", 8, 3.0, 0.0, None),
    ("pixel_blend", "ddim", 8, 3.0, 0.0, None),
    ("pixel_blend", "plms", 8, 3.0, 0.0, None),
    ("pixel_blend", "dpmpp2m", 8, 3.0, 0.0, None),
    ("pixel_blend", "ddim", 8, 3.0, 0.0, (3, 2)),
    ("pixel_blend", "ddpm", 8, 2.0, 0.0, None),
    ("pixel_inpaint", "euler", 8, 3.0, 0.0, None),
    ("pixel_blend", "euler", 8, 3.0, 0.0, (3, 2)),
    ("latent_inpaint", "ddim", 8, 2.5, 0.0, None),
    ("latent_inpaint", "plms", 8, 2.5, 0.0, None),
    ("latent_inpaint", "dpmpp2m", 8, 2.5, 0.0, None),
]


def rounded(a):
    return [float("%.9g" % v) for v in np.asarray(a, np.float64).reshape(-1)]


if __name__ == "__main__":
    packages = {}
    out_cases = []
    for salt, name in enumerate(["pixel_blend", "pixel_inpaint", "latent_inpaint"]):
        pkg = load_package(name)
        packages[name] = {"pkg": pkg, "net": Denoise(name, pkg), "items": make_items(pkg, salt)}
    for name, scheduler, steps, guidance, eta, repaint in CASES:
        P = packages[name]
        outputs = [rounded(run_case(P["net"], P["pkg"], it, scheduler, steps, guidance, eta, repaint)) for it in P["items"]]
        out_cases.append({"package": name, "scheduler": scheduler, "steps": steps, "guidance": guidance, "eta": eta,
                          "repaint": list(repaint) if repaint else None, "outputs": outputs})
        print(name, scheduler, repaint, "range", min(min(o) for o in outputs), max(max(o) for o in outputs))
    doc = {"seed": SEED,
           "items": {name: [{"id": it["id"], "context": rounded(it["context"]), "mask": rounded(it["mask"]),
                             "reference": rounded(it["reference"]), "hf": rounded(it["hf"])} for it in P["items"]]
                     for name, P in packages.items()},
           "cases": out_cases}
    with open(os.path.join(HERE, "golden_sampler.json"), "w") as f:
        json.dump(doc, f, separators=(",", ":"))
