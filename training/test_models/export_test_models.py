"""Exports the tiny random-weight test models (tiny_networks.py) to ONNX model packages (docs/model-package.md).

Run from the repository root with Debian's PyTorch:  /usr/bin/python3 training/test_models/export_test_models.py
Writes training/test_models/{pixel_blend,pixel_inpaint,latent_inpaint}/ with model.json and the ONNX files (each a
few kB; committed). Re-running produces the same weights; the ONNX bytes (and so the hashes) may differ between
PyTorch versions, so regenerate model.json together with the files.
"""
import hashlib
import json
import os
import struct
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tiny_networks import network  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OPSET = 17


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def export(net, args, path, input_names, output_names):
    dynamic = {n: {0: "batch"} for n in input_names + output_names}
    with torch.no_grad():
        torch.onnx.export(net, args, path, input_names=input_names, output_names=output_names,
                          dynamic_axes=dynamic, opset_version=OPSET, do_constant_folding=True)


def component(folder, file, inputs, outputs):
    return {"file": file, "sha256": sha256(os.path.join(folder, file)), "inputs": inputs, "outputs": outputs}


SCHEDULE = {"numTrainTimesteps": 1000, "betaStart": 0.00085, "betaEnd": 0.012, "betaSchedule": "scaled_linear",
            "predictionType": "epsilon", "clipSample": False}


def write_json(folder, doc):
    with open(os.path.join(folder, "model.json"), "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")


def pixel_blend():
    folder = os.path.join(HERE, "pixel_blend")
    os.makedirs(folder, exist_ok=True)
    n = 2
    export(network("pixel_blend.denoiser"),
           (torch.randn(n, 1, 16, 16), torch.tensor([10, 500], dtype=torch.int64), torch.randn(n, 1, 16, 16)),
           os.path.join(folder, "denoiser.onnx"), ["x_t", "t", "ref"], ["eps"])
    write_json(folder, {
        "formatVersion": 1, "name": "test-pixel-blend", "version": "1.0.0",
        "description": "Tiny random-weight pixel denoiser without mask inputs (known-region blending). Tests only.",
        "kind": "pixel", "resolution": 16, "imageChannels": 1, "valueRange": [-1.0, 1.0], "latent": None,
        "inpainting": "blend",
        "reference": {"input": "image", "size": 16, "channels": 1, "null": "zeros"},
        "components": {
            "denoiser": component(folder, "denoiser.onnx", {"sample": "x_t", "timestep": "t", "reference": "ref"}, {"prediction": "eps"}),
            "vaeEncoder": None, "vaeDecoder": None, "referenceEncoder": None},
        "schedule": SCHEDULE,
        "guidance": {"scale": 3.0, "referenceDropout": 0.0},
        "sampler": {"scheduler": "ddim", "steps": 10, "eta": 0.0, "timestepSpacing": "leading", "stepsOffset": 1},
        "training": {"note": "random weights, tiny_networks.py seed 1001"},
    })


def pixel_inpaint():
    """Tiny 16x16 pixel inpainting denoiser (float timestep input) for the golden and behaviour tests."""
    _pixel_inpaint_package("pixel_inpaint", "test-pixel-inpaint", size=16, timestep=torch.tensor([10.0, 500.0]), steps=10, seed=1002,
                           description="Tiny random-weight pixel inpainting denoiser (mask, masked context and HF map as inputs). Tests only.")


def bench_inpaint():
    """A larger pixel inpainting denoiser for bench/Pipeline.Bench/Inference (64x64, hidden 64)."""
    _pixel_inpaint_package("bench_inpaint", "bench-pixel-inpaint", size=64, timestep=torch.tensor([10, 500], dtype=torch.int64), steps=20, seed=1008,
                           description="Random-weight 64x64 pixel inpainting denoiser for throughput benchmarks. Not a real model.")


def _pixel_inpaint_package(key, name, size, timestep, steps, seed, description):
    """A 9-channel-style pixel inpainting package: x_t, t, mask, masked context, HF map and a reference image as inputs."""
    folder = os.path.join(HERE, key)
    os.makedirs(folder, exist_ok=True)
    n = 2
    x = torch.randn(n, 1, size, size)
    export(network(f"{key}.denoiser"),
           (x, timestep, torch.ones(n, 1, size, size), x, x, torch.randn(n, 1, size, size)),
           os.path.join(folder, "denoiser.onnx"), ["x_t", "t", "mask", "context", "hf", "ref"], ["eps"])
    write_json(folder, {
        "formatVersion": 1, "name": name, "version": "1.0.0",
        "description": description,
        "kind": "pixel", "resolution": size, "imageChannels": 1, "valueRange": [-1.0, 1.0], "latent": None,
        "inpainting": "model",
        "reference": {"input": "image", "size": size, "channels": 1, "null": "zeros"},
        "components": {
            "denoiser": component(folder, "denoiser.onnx",
                                  {"sample": "x_t", "timestep": "t", "mask": "mask", "maskedContext": "context",
                                   "detailMap": "hf", "reference": "ref"}, {"prediction": "eps"}),
            "vaeEncoder": None, "vaeDecoder": None, "referenceEncoder": None},
        "schedule": SCHEDULE,
        "guidance": {"scale": 3.0, "referenceDropout": 0.0},
        "sampler": {"scheduler": "ddim", "steps": steps, "eta": 0.0, "timestepSpacing": "leading", "stepsOffset": 1},
        "training": {"note": f"random weights, tiny_networks.py seed {seed}"},
    })


def latent_inpaint():
    folder = os.path.join(HERE, "latent_inpaint")
    os.makedirs(folder, exist_ok=True)
    n = 2
    z = torch.randn(n, 4, 8, 8)
    export(network("latent_inpaint.denoiser"),
           (z, torch.tensor([10, 500], dtype=torch.int64), torch.ones(n, 1, 8, 8), z, torch.randn(n, 8)),
           os.path.join(folder, "denoiser.onnx"), ["z_t", "t", "mask", "context", "emb"], ["eps"])
    export(network("latent_inpaint.vae_encoder"), (torch.randn(n, 1, 32, 32),),
           os.path.join(folder, "vae_encoder.onnx"), ["image"], ["latent"])
    export(network("latent_inpaint.vae_decoder"), (z,),
           os.path.join(folder, "vae_decoder.onnx"), ["latent"], ["image"])
    export(network("latent_inpaint.reference_encoder"), (torch.randn(n, 1, 16, 16),),
           os.path.join(folder, "reference_encoder.onnx"), ["image"], ["embedding"])
    # Model-provided null embedding for the unconditional CFG branch: raw float32 little-endian, [8].
    g = torch.Generator().manual_seed(1007)
    null = (0.1 * torch.randn(8, generator=g)).tolist()
    with open(os.path.join(folder, "null_embedding.bin"), "wb") as f:
        f.write(struct.pack("<8f", *null))
    write_json(folder, {
        "formatVersion": 1, "name": "test-latent-inpaint", "version": "1.0.0",
        "description": "Tiny random-weight latent inpainting model: VAE (x4 downsample, 4 channels), reference encoder, denoiser. Tests only.",
        "kind": "latent", "resolution": 32, "imageChannels": 1, "valueRange": [-1.0, 1.0],
        "latent": {"channels": 4, "downsample": 4, "scalingFactor": 0.5},
        "inpainting": "model",
        "reference": {"input": "embedding", "size": 16, "channels": 1, "null": "null_embedding.bin"},
        "components": {
            "denoiser": component(folder, "denoiser.onnx",
                                  {"sample": "z_t", "timestep": "t", "mask": "mask", "maskedContext": "context", "reference": "emb"},
                                  {"prediction": "eps"}),
            "vaeEncoder": component(folder, "vae_encoder.onnx", {"image": "image"}, {"latent": "latent"}),
            "vaeDecoder": component(folder, "vae_decoder.onnx", {"latent": "latent"}, {"image": "image"}),
            "referenceEncoder": component(folder, "reference_encoder.onnx", {"image": "image"}, {"embedding": "embedding"})},
        "schedule": SCHEDULE,
        "guidance": {"scale": 2.5, "referenceDropout": 0.0},
        "sampler": {"scheduler": "ddim", "steps": 10, "eta": 0.0, "timestepSpacing": "leading", "stepsOffset": 1},
        "training": {"note": "random weights, tiny_networks.py seeds 1003-1007"},
    })


if __name__ == "__main__":
    pixel_blend()
    pixel_inpaint()
    latent_inpaint()
    bench_inpaint()
    for d in ("pixel_blend", "pixel_inpaint", "latent_inpaint", "bench_inpaint"):
        for f in sorted(os.listdir(os.path.join(HERE, d))):
            print(f"{d}/{f}: {os.path.getsize(os.path.join(HERE, d, f))} bytes")
