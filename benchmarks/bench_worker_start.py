"""How long a spawned decode worker takes before it can decode: the backbone copy it unpickles.

    OMP_NUM_THREADS=1 .venv-full/bin/python benchmarks/bench_worker_start.py [--workers 2]

Decode workers are spawned (CUDA needs it) and receive a pickled copy of the backbone; unpickling
imports the backbone's module. For the torch backbones that is torch itself, which the workers
never use (they only decode and prepare clips). Prints, per backbone, the seconds from spawning
`--workers` processes at once until each could start (the interpreter up) and until each held
its backbone (the slowest worker), the pickle's size, and whether torch was imported; the
baseline of the same run is the C3D copy with `import torch` after it, which is what unpickling
it cost before torch was imported lazily (`extract.lazy`). A reading for the GPU pipeline's
start-up (benchmarks/results/gpu_checks.md, run 5), taken on whatever machine runs it.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import pickle
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _child(blob: bytes, t0: float, results, import_torch: bool) -> None:
    up = time.time() - t0
    pickle.loads(blob)
    if import_torch:  # the baseline: what unpickling a torch backbone cost before (import torch)
        import torch  # noqa: F401  (imported for its cost alone)
    from extract.lazy import is_loaded

    results.put((up, time.time() - t0, is_loaded("torch")))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    from extract.backbones.c3d import C3DBackbone
    from extract.backbones.motion import MotionBackbone

    ctx = mp.get_context("spawn")
    c3d = C3DBackbone(random_init=True, width=64)
    for name, backbone, import_torch in (("motion", MotionBackbone(), False), ("c3d", c3d, False),
                                         ("c3d, torch imported too (the baseline)", c3d, True)):
        blob = pickle.dumps(backbone)
        results = ctx.Queue()
        t0 = time.time()
        workers = [ctx.Process(target=_child, args=(blob, t0, results, import_torch))
                   for _ in range(args.workers)]
        for worker in workers:
            worker.start()
        times = [results.get() for _ in workers]
        for worker in workers:
            worker.join()
        print(json.dumps({"backbone": name, "workers": args.workers, "pickle_bytes": len(blob),
                          "interpreter_up_s": round(max(t[0] for t in times), 2),
                          "backbone_ready_s": round(max(t[1] for t in times), 2),
                          "torch_imported": any(t[2] for t in times)}), flush=True)


if __name__ == "__main__":
    main()
