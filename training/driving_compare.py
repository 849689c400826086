"""Model vs copy&paste per task from a driving run's report.json (the numbers of models/driving-tiny/MODEL_CARD.md,
"Held-out comparison with copy&paste"): per task and metric, the mean over succeeded items for the model and for the
copy&paste baseline (the reference's pixels and points pasted into the same box, composited and measured the same
way), and the share of items on which the model is better (paired, same item). Lower is better for every metric
listed (LPIPS, D-LPIPS, I-LPIPS and the masked MAEs); the embedding similarity (higher is better) is left out: with the
reference's own pixels in the box copy&paste matches the reference by construction.

  python3 training/driving_compare.py .pipeline/demo/runs/<run>/report.json [--markdown]
"""
from __future__ import annotations

import argparse
import json
from collections import defaultdict

LOWER_IS_BETTER = ("LPIPS[", "D-LPIPS[", "I-LPIPS[", "camera/mae", "depth/mae", "intensity/mae")


def compare(report: dict) -> dict:
    # task -> metric -> item -> method -> value
    values = defaultdict(lambda: defaultdict(lambda: defaultdict(dict)))
    for item in report["items"]:
        if not item["succeeded"]:
            continue
        for m in item["metrics"]:
            if m["value"] is None or not m["metric"].startswith(LOWER_IS_BETTER):
                continue
            values[item["task"]][m["metric"]][item["itemId"]][m["method"]] = m["value"]
    out = {}
    for task, metrics in sorted(values.items()):
        rows = {}
        for metric, items in sorted(metrics.items()):
            pairs = [(v["model"], v["copy&paste"]) for v in items.values() if "model" in v and "copy&paste" in v]
            if not pairs:
                continue
            n = len(pairs)
            rows[metric] = {"n": n, "model": sum(p[0] for p in pairs) / n, "copyPaste": sum(p[1] for p in pairs) / n,
                            "modelBetter": sum(p[0] < p[1] for p in pairs) / n}
        out[task] = rows
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("report")
    ap.add_argument("--markdown", action="store_true", help="a markdown table instead of JSON")
    args = ap.parse_args(argv)
    with open(args.report) as f:
        report = json.load(f)
    result = compare(report)
    if not args.markdown:
        print(json.dumps({"run": report["runId"], "model": report["settings"].get("model"), "tasks": result}, indent=2))
        return
    print("| task | metric (lower is better) | n | model | copy&paste | model better on |")
    print("|---|---|---|---|---|---|")
    for task, rows in result.items():
        for metric, r in rows.items():
            win = "**model**" if r["model"] < r["copyPaste"] else "copy&paste"
            print(f"| {task} | {metric} | {r['n']} | {r['model']:.4f} | {r['copyPaste']:.4f} | {100 * r['modelBetter']:.0f}% of items (mean: {win}) |")


if __name__ == "__main__":
    main()
