"""Writes the driving model package (docs/model-package.md, "Several modalities"): denoiser.onnx (opset 17, dynamic
batch) + model.json + SHA256SUMS, from a checkpoint of driving_train.py.

  python3 training/driving_package.py --checkpoint /tmp/drv-run/best.pt --summary /tmp/drv-run/summary.json \
      --out models/driving-tiny --guidance 2.0 --steps 25
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from pathlib import Path

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from driving_model import DrivingDenoiser  # noqa: E402
from package import OPSET, sha256_file  # noqa: E402

INPUT_NAMES = ["x_t", "t", "context", "mask", "reference", "box"]
OUTPUT_NAME = "out"
ROLES = {"sample": "x_t", "timestep": "t", "maskedContext": "context", "mask": "mask", "reference": "reference",
         "box": "box"}
MODALITIES = [{"name": "camera", "channels": 3}, {"name": "range", "channels": 2}]


def export_onnx(model: DrivingDenoiser, path: str | os.PathLike) -> None:
    d, s = model.config["resolution"], model.config["ref_size"]
    n = 2
    dummy = (torch.randn(n, 5, d, d), torch.tensor([999, 1], dtype=torch.long), torch.randn(n, 5, d, d),
             torch.ones(n, 2, d, d), torch.randn(n, 3, s, s), torch.rand(n, 2, 8, 3))
    tmp = str(path) + ".tmp"
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        torch.onnx.export(model.eval(), dummy, tmp, opset_version=OPSET, input_names=INPUT_NAMES,
                          output_names=[OUTPUT_NAME], dynamic_axes={k: {0: "batch"} for k in INPUT_NAMES + [OUTPUT_NAME]},
                          do_constant_folding=True)
    import onnx
    m = onnx.load(tmp)
    onnx.checker.check_model(m, full_check=True)
    got = [i.name for i in m.graph.input]
    if got != INPUT_NAMES:
        raise RuntimeError(f"ONNX export of '{path}': graph inputs {got}, expected {INPUT_NAMES}")
    os.replace(tmp, path)


def model_json(model: DrivingDenoiser, sha: str, guidance: float, steps: int, training: dict, version: str = "1.0.0") -> dict:
    c = model.config
    return {
        "formatVersion": 1,
        "name": "driving-tiny",
        "version": version,
        "description": "Tiny MObI-style camera + lidar insertion denoiser: one network for both modalities, box Fourier "
                       "embedding + MLP, gated cross-attention to box and reference, camera<->lidar cross-attention; "
                       f"pixel space, {c['resolution']} px crops; trained by training/driving_train.py on synthetic scenes.",
        "kind": "pixel",
        "resolution": c["resolution"],
        "imageChannels": 5,
        "valueRange": [-1.0, 1.0],
        "latent": None,
        "inpainting": "model",
        "modalities": MODALITIES,
        "reference": {"input": "image", "size": c["ref_size"], "channels": 3, "null": "zeros"},
        "components": {
            "denoiser": {"file": "denoiser.onnx", "sha256": sha, "inputs": dict(ROLES), "outputs": {"prediction": OUTPUT_NAME}},
            "vaeEncoder": None, "vaeDecoder": None, "referenceEncoder": None,
        },
        "schedule": {"numTrainTimesteps": c["num_train_timesteps"], "betaStart": c["beta_start"], "betaEnd": c["beta_end"],
                     "betaSchedule": "linear", "predictionType": "epsilon", "clipSample": False},
        "guidance": {"scale": guidance, "referenceDropout": 0.2},
        "sampler": {"scheduler": "ddim", "steps": steps, "eta": 0.0, "timestepSpacing": "leading", "stepsOffset": 1},
        "training": training,
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--summary", required=True, help="summary.json of the training run")
    ap.add_argument("--out", required=True)
    ap.add_argument("--guidance", type=float, default=2.0)
    ap.add_argument("--steps", type=int, default=25)
    ap.add_argument("--version", default="1.0.0", help="the package version (semantic; part of a run's model reference)")
    args = ap.parse_args(argv)
    ck = torch.load(args.checkpoint, map_location="cpu")
    model = DrivingDenoiser.from_config(ck["config"])
    model.load_state_dict(ck["state"])
    with open(args.summary) as f:
        training = json.load(f)
    training["selectedStep"] = ck.get("step")
    training["config"] = ck["config"]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    export_onnx(model, out / "denoiser.onnx")
    sha = sha256_file(out / "denoiser.onnx")
    (out / "model.json").write_text(json.dumps(model_json(model, sha, args.guidance, args.steps, training, args.version), indent=2) + "\n")
    (out / "SHA256SUMS").write_text(f"{sha}  denoiser.onnx\n{sha256_file(out / 'model.json')}  model.json\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
