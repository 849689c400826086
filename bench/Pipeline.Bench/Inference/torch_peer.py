"""PyTorch peer for the inference benchmark: the same network (training/test_models/tiny_networks.py) in eager
PyTorch, the same loop shape (B items, CFG as one batch of 2B rows, S DDIM steps via the project's float64
reference scheduler). Prints one JSON line: {"seconds": fastest wall, "cpuSeconds": fastest process CPU time, "median", "runs"}.
Usage: /usr/bin/python3 torch_peer.py <network> <items> <steps> <repeats> <threads>
"""
import json
import os
import sys
import time

import numpy as np
import torch

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))
sys.path.insert(0, os.path.join(REPO, "training", "test_models"))
sys.path.insert(0, os.path.join(REPO, "tests", "Pipeline.Inference.Tests", "Schedulers", "data"))
from tiny_networks import network  # noqa: E402
import reference_schedulers as RS  # noqa: E402

name, items, steps, repeats, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
torch.set_num_threads(threads)
torch.set_grad_enabled(False)
net = network(name)
res = 64 if name.startswith("bench") else 16
rows = 2 * items
g = torch.Generator().manual_seed(0)
mask = torch.ones(rows, 1, res, res)
ctx = torch.randn(rows, 1, res, res, generator=g)
hf = torch.randn(rows, 1, res, res, generator=g)
ref = torch.randn(rows, 1, res, res, generator=g)
cfg = RS.SchedulerConfig(steps_offset=1)


def run():
    sch = RS.make_scheduler("ddim", cfg)
    sch.set_timesteps(steps)
    x = torch.randn(items, 1, res, res, generator=g)
    for i, t in enumerate(sch.timesteps):
        xin = torch.cat([x, x])
        out = net(xin, torch.full((rows,), float(t)), mask, ctx, hf, ref) if "inpaint" in name else None
        u, c = out[:items], out[items:]
        e = u + 3.0 * (c - u)
        x = torch.from_numpy(sch.step(e.numpy(), i, x.numpy()).astype(np.float32))
    return x


run()  # warm-up
times, cpu = [], []
for _ in range(repeats):
    s, c = time.perf_counter(), time.process_time()
    run()
    times.append(time.perf_counter() - s)
    cpu.append(time.process_time() - c)
print(json.dumps({"seconds": min(times), "cpuSeconds": min(cpu), "median": sorted(times)[len(times) // 2], "runs": times,
                  "torch": torch.__version__, "threads": threads}))
