"""Render a demo run's outputs for a person to look at: for the first 8 succeeded items of a task, the source crop (3.2x
the box, at the DICOM's own VOI window, as a viewer shows it) beside the output of each run named, with its seam and
texture values (docs/metrics.md). Used for the figures of models/mammo-tiny/MODEL_CARD.md.

usage: /usr/bin/python3 docs/images/render_crops.py OUT.png TASK [LABEL=]RUN [[LABEL=]RUN ...]
  RUN: a run folder name under $PIPELINE_DEMO/runs (default .pipeline/demo, where ./pipeline demo keeps its local copy);
  LABEL: the column's title (default: from the run name)
"""
import sys, json, os
import numpy as np, pydicom
from PIL import Image, ImageDraw
demo = os.environ.get('PIPELINE_DEMO', '.pipeline/demo')
if len(sys.argv) < 4 or sys.argv[1] in ('-h', '--help'):
    print(__doc__); sys.exit(0 if len(sys.argv) > 1 and sys.argv[1] in ('-h', '--help') else 2)
out, task = sys.argv[1], sys.argv[2]
given = [a.split('=', 1) if '=' in a else [None, a] for a in sys.argv[3:]]
runs = [r for _, r in given]
def win(ds):
    a = ds.pixel_array.astype(np.float64) * float(getattr(ds, 'RescaleSlope', 1)) + float(getattr(ds, 'RescaleIntercept', 0))
    c, w = float(np.atleast_1d(ds.WindowCenter)[0]), float(np.atleast_1d(ds.WindowWidth)[0])
    v = np.clip((a - (c - 0.5) ) / (w - 1) + 0.5, 0, 1)
    if ds.PhotometricInterpretation == 'MONOCHROME1': v = 1 - v
    return v
def crop(img, box, f=3.2, side=240):
    x0, y0, x1, y1 = box; cx, cy = (x0 + x1) / 2, (y0 + y1) / 2; s = f * max(x1 - x0, y1 - y0) / 2
    l, t = int(cx - s), int(cy - s); r, b = int(cx + s), int(cy + s)
    pad = np.zeros((b - t, r - l))
    H, W = img.shape
    sl = img[max(t, 0):min(b, H), max(l, 0):min(r, W)]
    pad[max(t, 0) - t:max(t, 0) - t + sl.shape[0], max(l, 0) - l:max(l, 0) - l + sl.shape[1]] = sl
    return Image.fromarray((pad * 255).astype(np.uint8)).resize((side, side), Image.BILINEAR)
reports = [json.load(open(os.path.join(demo, 'runs', r, 'report.json'))) for r in runs]
items = [i for i in reports[0]['items'] if i['task'] == task and i['succeeded']][:8]
LABELS = {'s2026-n1': 'as generated', 'k6-s2026': 'target kept', 'p6-s2026': 'target kept', 'asgen-s2': 'as generated', 'td-s2026': 'tissue donor', 'taper-s2': 'donor + taper', 'ownband-': 'edge-aware donor'}   # run-name parts of the card's figures
side, lab = 240, 16
cols = 1 + len(runs)
canvas = Image.new('L', (cols * (side + 4), len(items) * (side + lab + 4)), 40)
d = ImageDraw.Draw(canvas)
for k, it in enumerate(items):
    box = [int(v) for v in it['lineage']['targetBox'].split(',')]
    src = win(pydicom.dcmread(os.path.join(demo, it['lineage']['target'])))
    y = k * (side + lab + 4)
    canvas.paste(crop(src, box), (0, y + lab)); d.text((2, y + 2), f"{it['itemId']} {it['class']} source", fill=255)
    for j, (r, rep) in enumerate(zip(runs, reports)):
        ri = next(i for i in rep['items'] if i['itemId'] == it['itemId'])
        o = win(pydicom.dcmread(os.path.join(demo, ri['lineage']['output'])))
        tex = next((m['value'] for m in ri['metrics'] if m['metric'] == 'texture' and m.get('method', 'model') == 'model'), None)
        seam = next((m['value'] for m in ri['metrics'] if m['metric'] == 'seam' and m.get('method', 'model') == 'model'), None)
        canvas.paste(crop(o, box), ((j + 1) * (side + 4), y + lab))
        d.text(((j + 1) * (side + 4) + 2, y + 2), f"{given[j][0] or LABELS.get(r.split('-2-0-0-')[-1][:8], r[-12:])} seam {seam:.2f} tex {tex if tex is None else round(tex, 2)}", fill=255)
canvas.save(out)
print(out, len(items))
