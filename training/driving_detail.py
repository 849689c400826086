"""camera/detail (docs/metrics.md, "Detail") recomputed in numpy/scipy from a finished driving run: for each item of its
report.json, the lineage's target image and targetBox (the projected box's 2D bounds, rounded to 0.01 px) and the
output out/images/{item}.png; detail = ln(rms_in(output) / rms_in(source)) of the residual
I - gaussian_filter(I, 1.5, mode="nearest", truncate=4) of the luminance 0.299 R + 0.587 G + 0.114 B over
[floor x0, ceil x1) x [floor y0, ceil y1). For runs made before the composer measured it (driving-tiny 1.1.0's), and as
a cross-check of the C# value (printed beside it when the run has one).

  python3 training/driving_detail.py .pipeline/demo/runs/<run id> .pipeline/demo/datasets
"""
import json
import math
import sys

import numpy as np
from PIL import Image
from scipy import ndimage

FLOOR = 1e-6


def luminance(rgb: np.ndarray) -> np.ndarray:
    return 0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]


def inside_rms(image: np.ndarray, box) -> float:
    x0, y0, x1, y1 = box
    e = image - ndimage.gaussian_filter(image, 1.5, mode="nearest", truncate=4.0)
    return math.sqrt((e[math.floor(y0):math.ceil(y1), math.floor(x0):math.ceil(x1)] ** 2).mean())


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2 or argv[0] in ("-h", "--help"):
        print(__doc__)
        return
    run, datasets = argv
    with open(f"{run}/report.json") as f:
        report = json.load(f)
    per_task = {}
    for item in report["items"]:
        lineage = item.get("lineage")
        if not item.get("succeeded") or not lineage:
            continue
        box = [float(v) for v in lineage["targetBox"].split(",")]
        target = lineage["target"][len("datasets/"):]
        source = luminance(np.asarray(Image.open(f"{datasets}/{target}").convert("RGB"), dtype=np.float64))
        output = luminance(np.asarray(Image.open(f"{run}/out/images/{item['itemId']}.png").convert("RGB"), dtype=np.float64))
        detail = math.log(max(inside_rms(output, box), FLOOR) / max(inside_rms(source, box), FLOOR))
        measured = [m["value"] for m in item["metrics"] if m["metric"] == "camera/detail" and m["method"] == "model"]
        per_task.setdefault(item["task"], []).append(detail)
        print(f"{item['itemId']} {item['task']}: {detail:.4f}" + (f" (run: {measured[0]:.4f})" if measured else ""))
    for task, values in sorted(per_task.items()):
        print(f"mean {task}: {np.mean(values):.3f} over {len(values)} items")


if __name__ == "__main__":
    main()
