"""Model package writer: ONNX (opset 17) + model.json (docs/model-package.md) + SHA-256s.

The C# reader is Pipeline.Inference.Packages.ModelPackage; keep this file and docs/model-package.md in step.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import torch

OPSET = 17
INPUT_NAMES = ["x_t", "t", "context", "mask", "reference", "hf"]
OUTPUT_NAME = "out"
ROLES = {"sample": "x_t", "timestep": "t", "maskedContext": "context", "mask": "mask",
         "reference": "reference", "detailMap": "hf"}


def sha256_file(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def export_onnx(model: torch.nn.Module, path: str | os.PathLike, resolution: int, ref_size: int) -> None:
    """Exports with a dynamic batch axis (the C# sampler batches the CFG pair). Timestep is int64 [N]."""
    model = model.eval()
    n = 2
    dummy = (torch.randn(n, 1, resolution, resolution), torch.tensor([999, 1], dtype=torch.long),
             torch.randn(n, 1, resolution, resolution), torch.ones(n, 1, resolution, resolution),
             torch.randn(n, 1, ref_size, ref_size), torch.randn(n, 1, resolution, resolution))
    dyn = {name: {0: "batch"} for name in INPUT_NAMES + [OUTPUT_NAME]}
    tmp = str(path) + ".tmp"
    import warnings
    with torch.no_grad(), warnings.catch_warnings():
        # the tracer's shape-inference notes on constants are expected for this graph; keep job logs readable
        warnings.simplefilter("ignore", UserWarning)
        torch.onnx.export(model, dummy, tmp, opset_version=OPSET, input_names=INPUT_NAMES,
                          output_names=[OUTPUT_NAME], dynamic_axes=dyn, do_constant_folding=True)
    import onnx
    m = onnx.load(tmp)
    onnx.checker.check_model(m, full_check=True)
    got = [i.name for i in m.graph.input]
    if got != INPUT_NAMES:
        raise RuntimeError(f"ONNX export of '{path}': graph inputs {got}, expected {INPUT_NAMES} "
                           "(an input the graph does not use was pruned by the exporter)")
    os.replace(tmp, path)


def model_json(*, name: str, version: str, description: str, resolution: int, ref_size: int, denoiser_sha: str,
               schedule, guidance_scale: float, reference_dropout: float, sampler_steps: int,
               training: dict, preparation: dict | None = None) -> dict:
    """model.json (docs/model-package.md). `preparation` ({cropRatio, referenceExpand}, from the training data's
    manifest) is how inference must prepare inputs for this model; absent, readers use the AnydoorMed defaults."""
    doc = {
        "formatVersion": 1,
        "name": name,
        "version": version,
        "description": description,
        "kind": "pixel",
        "resolution": resolution,
        "imageChannels": 1,
        "valueRange": [-1.0, 1.0],
        "latent": None,
        "inpainting": "model",
        "reference": {"input": "image", "size": ref_size, "channels": 1, "null": "zeros"},
        "components": {
            "denoiser": {
                "file": "denoiser.onnx",
                "sha256": denoiser_sha,
                "inputs": dict(ROLES),
                "outputs": {"prediction": OUTPUT_NAME},
            },
            "vaeEncoder": None,
            "vaeDecoder": None,
            "referenceEncoder": None,
        },
        "schedule": {
            "numTrainTimesteps": schedule.T,
            "betaStart": schedule.beta_start,
            "betaEnd": schedule.beta_end,
            "betaSchedule": "linear",
            "predictionType": "epsilon",
            "clipSample": False,
        },
        "guidance": {"scale": guidance_scale, "referenceDropout": reference_dropout},
        "sampler": {"scheduler": "ddim", "steps": sampler_steps, "eta": 0.0, "timestepSpacing": "leading",
                    "stepsOffset": 1},
        "training": training,
    }
    if preparation is not None:
        doc["preparation"] = dict(preparation)
    return doc


def write_package(model: torch.nn.Module, out_dir: str | os.PathLike, *, name: str, version: str, description: str,
                  resolution: int, ref_size: int, schedule, guidance_scale: float, reference_dropout: float,
                  sampler_steps: int, training: dict, preparation: dict | None = None) -> dict:
    """Writes denoiser.onnx, model.json and SHA256SUMS into out_dir; returns the model.json dict."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    onnx_path = out / "denoiser.onnx"
    export_onnx(model, onnx_path, resolution, ref_size)
    sha = sha256_file(onnx_path)
    doc = model_json(name=name, version=version, description=description, resolution=resolution, ref_size=ref_size,
                     denoiser_sha=sha, schedule=schedule, guidance_scale=guidance_scale,
                     reference_dropout=reference_dropout, sampler_steps=sampler_steps, training=training,
                     preparation=preparation)
    tmp = out / "model.json.tmp"
    tmp.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, out / "model.json")
    (out / "SHA256SUMS").write_text(f"{sha}  denoiser.onnx\n{sha256_file(out / 'model.json')}  model.json\n",
                                    encoding="utf-8")
    return doc


def verify_package(folder: str | os.PathLike) -> dict:
    """Checks what the C# loader checks that Python can: files exist, hashes match, bound inputs exist in the graph
    and every graph input is bound. Raises ValueError naming the package and the problem."""
    import onnx
    folder = Path(folder)
    mj = folder / "model.json"
    if not mj.is_file():
        raise ValueError(f"package '{folder}': no model.json")
    doc = json.loads(mj.read_text(encoding="utf-8"))
    den = doc["components"]["denoiser"]
    f = folder / den["file"]
    if not f.is_file():
        raise ValueError(f"package '{folder}': denoiser file '{den['file']}' missing")
    if sha256_file(f) != den["sha256"]:
        raise ValueError(f"package '{folder}': denoiser SHA-256 mismatch")
    g = onnx.load(str(f))
    onnx.checker.check_model(g)
    names = {i.name for i in g.graph.input} - {i.name for i in g.graph.initializer}
    bound = set(den["inputs"].values())
    if bound - names:
        raise ValueError(f"package '{folder}': bound inputs {sorted(bound - names)} not in the graph")
    if names - bound:
        raise ValueError(f"package '{folder}': graph inputs {sorted(names - bound)} left unbound")
    if g.opset_import[0].version != OPSET:
        raise ValueError(f"package '{folder}': opset {g.opset_import[0].version}, expected {OPSET}")
    return doc


def _execution_order(model: torch.nn.Module):
    """Sort key for parameter names: the order in which a forward pass of the export's dummy inputs first calls the
    module that owns each parameter (the order in which the exporter writes constants)."""
    order = {}
    def seen(name):
        def hook(_module, _inputs):   # returns None: the inputs pass unchanged
            order.setdefault(name, len(order))
        return hook

    hooks = [m.register_forward_pre_hook(seen(name)) for name, m in model.named_modules()]
    try:
        r, s = model.config["resolution"], model.config["ref_size"]
        with torch.no_grad():
            model.eval()(torch.zeros(1, 1, r, r), torch.tensor([1]), torch.zeros(1, 1, r, r), torch.ones(1, 1, r, r),
                         torch.zeros(1, 1, s, s), torch.zeros(1, 1, r, r))
    finally:
        for h in hooks:
            h.remove()
    return lambda key: order.get(key.rsplit(".", 1)[0], len(order))


def load_onnx_weights(model: torch.nn.Module, onnx_path: str | os.PathLike, *, verify: bool = True) -> None:
    """Loads the weights of an exported denoiser (this file's export_onnx of the same architecture) back into `model`,
    so training can continue from a released package whose checkpoints are not kept (train.py --init-package).

    The exporter keeps parameter names for most initializers; it renames the GroupNorm affine parameters (folded into
    Mul/Add constants of shape (C, 1, 1)) and the cross-attention key/value weights (a transposed MatMul constant).
    Those are matched in order: the model's unnamed parameters in the order a forward pass first calls their modules
    (the order the exporter writes constants in) against the graph's unnamed initializers in file order, each pair
    checked by shape. With `verify` the model is exported again and every
    initializer of the new graph must equal the package's bit for bit; otherwise this raises ValueError naming the
    first difference (a package of another architecture, or an exporter that orders constants differently)."""
    import numpy as np
    import onnx
    from onnx import numpy_helper
    g = onnx.load(str(onnx_path))
    inits = [(i.name, numpy_helper.to_array(i)) for i in g.graph.initializer]
    by_name = dict(inits)
    state = model.state_dict()
    loaded = {}
    unnamed_params = sorted((k for k in state if k not in by_name), key=_execution_order(model))
    unnamed_inits = [(n, a) for n, a in inits if n not in state]
    if len(unnamed_params) != len(unnamed_inits):
        raise ValueError(f"'{onnx_path}': {len(unnamed_params)} parameters without a name in the graph, "
                         f"{len(unnamed_inits)} unnamed initializers: not this architecture")
    for k in state:
        if k in by_name:
            a = by_name[k]
            if tuple(a.shape) != tuple(state[k].shape):
                raise ValueError(f"'{onnx_path}': '{k}' has shape {a.shape}, the model {tuple(state[k].shape)}")
            loaded[k] = torch.from_numpy(a.copy())
    for k, (name, a) in zip(unnamed_params, unnamed_inits):
        want = tuple(state[k].shape)
        if len(want) == 1 and a.shape == (want[0], 1, 1):
            loaded[k] = torch.from_numpy(a.reshape(want).copy())
        elif len(want) == 2 and a.shape == (want[1], want[0]):
            loaded[k] = torch.from_numpy(a.T.copy())
        else:
            raise ValueError(f"'{onnx_path}': parameter '{k}' {want} paired with initializer '{name}' {a.shape}")
    model.load_state_dict(loaded)
    if not verify:
        return
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        again = Path(tmp) / "again.onnx"
        export_onnx(model, again, model.config["resolution"], model.config["ref_size"])
        redo = [numpy_helper.to_array(i) for i in onnx.load(str(again)).graph.initializer]
    if len(redo) != len(inits):
        raise ValueError(f"'{onnx_path}': re-export has {len(redo)} initializers, the package {len(inits)}")
    for (name, a), b in zip(inits, redo):
        if a.shape != b.shape or not np.array_equal(a, b):
            raise ValueError(f"'{onnx_path}': initializer '{name}' differs after loading and exporting again")
