"""Pictures comparing driving runs item by item (docs/images/driving-*.png; driving-tiny's model card).

Reads, per run, its report.html (the per-item pictures the report embeds: camera before/after with the box, range
depth and intensity before/after, bird's-eye view after) and optionally the item tensors the run prepared and
generated, taken from the local Azurite store of `./pipeline demo` (.pipeline/demo/azurite: blobs
runs/{id}/prep/{item}.tensors and runs/{id}/gen/{item}.tensors) or from a folder an earlier call saved them in
(--save-tensors). With the tensors it draws the metric patches the run measured (docs/driving.md, "Metrics"): the
32 px camera / depth / intensity patches, original, each run's model output composited inside the mask, copy&paste.

  python3 training/driving_figures.py --run 1.1.0=/tmp/run110 --run 1.2.0=.pipeline/demo/runs/<id> \\
      --tensors 1.1.0=/tmp/t110 --tensors 1.2.0=azurite:.pipeline/demo/azurite:<id> \\
      --items t2-000000,t2-000010 --out docs/images --prefix driving-reinsertion
"""
from __future__ import annotations

import argparse
import base64
import html
import io
import json
import os
import re
import sys

import numpy as np
from PIL import Image, ImageDraw

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from driving_train import read_tensor_bundle  # noqa: E402

D = 32


def report_pictures(report_html: str, item: str) -> dict[str, Image.Image]:
    """The pictures of one item in a run report, by their alt text."""
    with open(report_html, encoding="utf-8") as f:
        h = f.read()
    i = h.find(f"<code>{item}</code>")
    if i < 0:
        raise SystemExit(f"{report_html}: no item {item}")
    seg = h[i:h.find("</article>", i)]
    out = {}
    for alt, data in re.findall(r'<img alt="([^"]+)" src="data:image/png;base64,([^"]+)"', seg):
        out[html.unescape(alt)] = Image.open(io.BytesIO(base64.b64decode(data))).convert("RGB")
    return out


def azurite_tensors(folder: str, run_id: str) -> dict[str, dict[str, np.ndarray]]:
    """runs/{run_id}/prep|gen/*.tensors from an Azurite (LokiJS) blob store, keyed "{item}.{prep|gen}"."""
    with open(os.path.join(folder, "__azurite_db_blob__.json")) as f:
        db = json.load(f)
    blobs = next(c for c in db["collections"] if c["name"] == "$BLOBS_COLLECTION$")["data"]
    out = {}
    for b in blobs:
        name = b["name"]
        if b.get("containerName") != "runs" or not name.startswith(run_id + "/") or not name.endswith(".tensors"):
            continue
        kind, item = name.split("/")[-2], name.split("/")[-1][:-len(".tensors")]
        if kind not in ("prep", "gen"):
            continue
        p = b["persistency"]
        with open(os.path.join(folder, "__blobstorage__", p["id"]), "rb") as f:
            f.seek(p["offset"])
            data = f.read(p["count"])
        tmp = os.path.join("/tmp", f"driving-figures-{os.getpid()}.tensors")
        with open(tmp, "wb") as f:
            f.write(data)
        out[f"{item}.{kind}"] = read_tensor_bundle(tmp)
        os.remove(tmp)
    return out


def load_tensors(spec: str, save: str | None) -> dict[str, dict[str, np.ndarray]]:
    if spec.startswith("azurite:"):
        _, folder, run_id = spec.split(":", 2)
        t = azurite_tensors(folder, run_id)
        if save:
            os.makedirs(save, exist_ok=True)
            for k, v in t.items():
                np.savez(os.path.join(save, k + ".npz"), **v)
        return t
    return {f[:-4]: dict(np.load(os.path.join(spec, f))) for f in os.listdir(spec) if f.endswith(".npz")}


def patches(t: dict[str, dict[str, np.ndarray]], item: str):
    """(original, model composited inside the masks, copy&paste, masks) as the measurer composes them, model space."""
    p, g = t[f"{item}.prep"], t[f"{item}.gen"]
    o = p["original"].reshape(5, D, D)
    cp = p["copypaste"].reshape(5, D, D)
    s = g["sample"].reshape(5, D, D)
    m = p["mask"].reshape(2, D, D)
    m5 = np.concatenate([np.repeat(m[:1], 3, 0), np.repeat(m[1:], 2, 0)]) > 0
    return o, np.where(m5, s, o), cp, m


def cell(a: np.ndarray, scale: int, mask: np.ndarray | None) -> Image.Image:
    a = np.clip((a + 1) / 2, 0, 1)
    if a.ndim == 2:
        a = np.stack([a] * 3, -1)
    else:
        a = a.transpose(1, 2, 0)
    im = Image.fromarray((a * 255 + 0.5).astype(np.uint8)).resize((D * scale, D * scale), Image.NEAREST)
    if mask is not None:
        ys, xs = np.nonzero(mask)
        if len(xs):
            ImageDraw.Draw(im).rectangle([xs.min() * scale, ys.min() * scale, (xs.max() + 1) * scale - 1,
                                          (ys.max() + 1) * scale - 1], outline=(255, 0, 0))
    return im


def grid(rows: list[tuple[str, list[Image.Image]]], header: list[str]) -> Image.Image:
    pad, top = 4, 16
    widths = [max(r[1][k].width for r in rows) for k in range(len(header))]
    heights = [max(c.height for c in r[1]) for r in rows]
    img = Image.new("RGB", (sum(widths) + pad * (len(widths) + 1), top + sum(h + top for h in heights)), "white")
    d = ImageDraw.Draw(img)
    x = pad
    for k, name in enumerate(header):
        d.text((x, 2), name, fill=(0, 0, 0))
        x += widths[k] + pad
    y = top
    for (label, cells), h in zip(rows, heights):
        d.text((pad, y + 2), label, fill=(0, 0, 0))
        x = pad
        for k, c in enumerate(cells):
            img.paste(c, (x, y + top))
            x += widths[k] + pad
        y += h + top
    return img


def fit(im: Image.Image, height: int) -> Image.Image:
    return im.resize((max(1, round(im.width * height / im.height)), height), Image.BILINEAR)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", action="append", required=True, help="LABEL=run folder holding report.html (repeat)")
    ap.add_argument("--tensors", action="append", default=[], help="LABEL=folder of saved .npz or azurite:DIR:RUN_ID")
    ap.add_argument("--save-tensors", action="append", default=[], help="LABEL=folder to save a run's tensors in")
    ap.add_argument("--items", required=True, help="comma-separated item ids")
    ap.add_argument("--out", required=True)
    ap.add_argument("--prefix", default="driving-reinsertion")
    ap.add_argument("--height", type=int, default=200)
    args = ap.parse_args(argv)
    runs = [r.split("=", 1) for r in args.run]
    save = dict(s.split("=", 1) for s in args.save_tensors)
    tensors = {k: load_tensors(v, save.get(k)) for k, v in (t.split("=", 1) for t in args.tensors)}
    items = args.items.split(",")
    os.makedirs(args.out, exist_ok=True)
    # camera crops with the box: before, then each run's output
    rows = []
    for item in items:
        pics = [report_pictures(os.path.join(f, "report.html"), item) for _, f in runs]
        rows.append((item, [fit(pics[0]["camera before"], args.height)] + [fit(p["camera after"], args.height) for p in pics]))
    grid(rows, ["camera before"] + [f"{label} after" for label, _ in runs]).save(os.path.join(args.out, f"{args.prefix}-camera.png"))
    # range views (depth, intensity) before/after and the bird's-eye view after, per run
    rows = []
    for item in items:
        pics = [report_pictures(os.path.join(f, "report.html"), item) for _, f in runs]
        cells = [fit(pics[0]["range depth before"], args.height // 2)] + [fit(p["range depth after"], args.height // 2) for p in pics]
        cells += [fit(pics[0]["range intensity before"], args.height // 2)] + [fit(p["range intensity after"], args.height // 2) for p in pics]
        cells += [fit(p["bird's-eye view after"], args.height) for p in pics]
        rows.append((item, cells))
    header = (["depth before"] + [f"depth {l}" for l, _ in runs] + ["intensity before"] + [f"intensity {l}" for l, _ in runs]
              + [f"BEV {l}" for l, _ in runs])
    grid(rows, header).save(os.path.join(args.out, f"{args.prefix}-range-bev.png"))
    # the metric patches: original, each run's model output, copy&paste (camera, depth, intensity; the mask's bounds in red)
    if tensors:
        labels = list(tensors)
        rows = []
        for item in items:
            cells = []
            for ch, name in ((slice(0, 3), "camera"), (3, "depth"), (4, "intensity")):
                mi = 0 if name == "camera" else 1
                o, _, cp, m = patches(tensors[labels[0]], item)
                cells.append(cell(o[ch], 4, m[mi]))
                for label in labels:
                    cells.append(cell(patches(tensors[label], item)[1][ch], 4, m[mi]))
                cells.append(cell(cp[ch], 4, m[mi]))
            rows.append((item, cells))
        header = [f"{n} {w}" for n in ("camera", "depth", "intensity") for w in ["original"] + labels + ["copy&paste"]]
        grid(rows, header).save(os.path.join(args.out, f"{args.prefix}-patches.png"))


if __name__ == "__main__":
    main()
