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

Then (`--cli-rounds`, 0 to skip) the import every spawned worker of the `videoad` script pays
again: `import videoad.cli` in a fresh interpreter, against the same import followed by the three
`videoad bench` modules (they import scikit-learn) that `videoad.cli` imported at start-up before
commit bf75d53, alternately, the median of the rounds.

Prints the figures and writes benchmarks/results/worker_start.{json,md} (`--out` for another
folder).
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import pickle
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

# the modules `videoad.cli` imported at start-up before bf75d53 (now imported on demand)
BENCH_MODULES = ("videoad.bench.kddcup", "videoad.bench.images", "videoad.bench.scale")


def _import_seconds(modules: tuple[str, ...]) -> float:
    """Seconds a fresh interpreter takes to import `modules`, timed inside it."""
    code = ("import importlib, time; t = time.perf_counter()\n"
            f"for m in {modules!r}: importlib.import_module(m)\n"
            "print(time.perf_counter() - t)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


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
    ap.add_argument("--cli-rounds", type=int, default=5,
                    help="rounds of the `import videoad.cli` timing (0: skip it)")
    ap.add_argument("--out", type=Path, default=None, help="results folder [default: benchmarks/results]")
    args = ap.parse_args()
    import _results

    run = _results.Run()
    rows = []
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
        rows.append({"backbone": name, "workers": args.workers, "pickle_bytes": len(blob),
                     "interpreter_up_s": round(max(t[0] for t in times), 2),
                     "backbone_ready_s": round(max(t[1] for t in times), 2),
                     "torch_imported": any(t[2] for t in times)})
        print(json.dumps(rows[-1]), flush=True)
    table = ["| backbone copy | workers | interpreter up, s | backbone ready (slowest worker), s | torch imported |",
             "|---|---|---|---|---|"]
    table += [f"| {r['backbone']} | {r['workers']} | {r['interpreter_up_s']:.2f} | **{r['backbone_ready_s']:.2f}** | "
              f"{'yes' if r['torch_imported'] else 'no'} |" for r in rows]
    cli = {}
    if args.cli_rounds:
        now, before = [], []
        for _ in range(args.cli_rounds):  # alternately, so that both see the same load
            now.append(_import_seconds(("videoad.cli",)))
            before.append(_import_seconds(("videoad.cli", *BENCH_MODULES)))
        cli = {"rounds": args.cli_rounds, "now_s": now, "before_s": before,
               "median_now_s": statistics.median(now), "median_before_s": statistics.median(before)}
        cli["ratio"] = cli["median_before_s"] / cli["median_now_s"]
        print(json.dumps(cli), flush=True)
        table += ["", f"`import videoad.cli` in a fresh interpreter, median of {args.cli_rounds} alternate rounds: "
                  f"**{cli['median_now_s']:.2f} s** now (min {min(now):.2f}, max {max(now):.2f}); with the "
                  f"`videoad bench` modules it imported before bf75d53 ({', '.join(BENCH_MODULES)}) "
                  f"**{cli['median_before_s']:.2f} s** (min {min(before):.2f}, max {max(before):.2f}); "
                  f"ratio {cli['ratio']:.1f}x."]
    run.write("worker_start", "A spawned decode worker's start, and the import of `videoad.cli`",
              " ".join(__doc__.split("\n\n")[2].split()), table, {"workers": rows, "cli_import": cli}, args.out)


if __name__ == "__main__":
    main()
