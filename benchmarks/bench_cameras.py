"""Telling cameras apart at scale: `videoad.cameras.cluster` on many scene pictures, the exact
average linkage (an n x n matrix) against the sampled path taken above CLUSTER_EXACT pictures.

Every `videoad detect` runs it (the note on groups that hold several cameras), so a folder of a
camera's month in one-minute files (43,200 videos) must not build a 43,200 x 43,200 matrix. Each
measurement runs in a process of its own (peak memory from its resource usage); the pictures are
synthetic cameras (three layouts, exposure and noise drawn per video). Prints the figures and
writes benchmarks/results/bench_cameras.{json,md}:

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_cameras.py
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def pictures(n: int, cameras: int = 12, seed: int = 0):
    """`n` pictures of `cameras` synthetic cameras (each a random layout), exposure and noise per picture."""
    from extract.scene import SCENE_SHAPE

    rng = np.random.default_rng(seed)
    layouts = [rng.uniform(20, 235, SCENE_SHAPE) for _ in range(cameras)]
    which = rng.integers(0, cameras, n)
    pics = [np.clip(rng.uniform(0.6, 1.3) * layouts[c] + rng.uniform(-20, 20) + rng.normal(0, 4, SCENE_SHAPE), 0, 255)
            for c in which]
    return pics, [[240, 320]] * n, which


def _measure(n: int, exact: bool, out) -> None:
    from videoad import cameras

    pics, sizes, truth = pictures(n)
    if exact:
        cameras.CLUSTER_EXACT = n
    t = time.perf_counter()
    labels = cameras.cluster(pics, sizes)
    seconds = time.perf_counter() - t
    found = {(int(a), int(b)) for a, b in zip(labels, truth)}
    exact_partition = len(found) == len(set(labels.tolist())) == len(set(truth.tolist()))
    out.put({"n": n, "path": "exact" if exact else "sampled", "seconds": seconds,
             "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
             "cameras_found": len(set(labels.tolist())), "cameras": len(set(truth.tolist())),
             "partition_exact": exact_partition})


def measure(n: int, exact: bool, timeout: float) -> dict:
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=_measure, args=(n, exact, q))
    p.start()
    p.join(timeout)
    if p.is_alive():
        p.kill()
        return {"n": n, "path": "exact" if exact else "sampled", "seconds": None, "note": f"over {timeout:g} s"}
    return q.get() if not q.empty() else {"n": n, "path": "exact" if exact else "sampled", "note": f"exit {p.exitcode}"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="2000,4000,8000,43200")
    ap.add_argument("--exact-up-to", type=int, default=8000, help="the exact path is measured up to this many")
    ap.add_argument("--timeout", type=float, default=900)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = ap.parse_args()
    rows = []
    for n in (int(v) for v in args.sizes.split(",")):
        for exact in ((True, False) if n <= args.exact_up_to else (False,)):
            row = measure(n, exact, args.timeout)
            rows.append(row)
            print(json.dumps(row), flush=True)
    from videoad.cameras import CLUSTER_EXACT

    by = {(r["n"], r["path"]): r for r in rows}
    lines = ["# Telling cameras apart at scale (`videoad.cameras.cluster`)", "",
             f"Synthetic scene pictures of 12 cameras; the exact average linkage against the path taken above "
             f"{CLUSTER_EXACT} pictures (an even sample clustered, every picture attached to the best camera mean, "
             "the rest clustered among themselves). One process per measurement; peak memory is the process's "
             "(the interpreter and numpy included). At or under that many pictures both rows run the exact path; "
             "the exact path is not run above --exact-up-to (at 43,200 pictures its n x n float64 matrix alone "
             "would be 14.9 GB, and it builds three).", "",
             "Command: `OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_cameras.py`", "",
             "| pictures | path | seconds | peak MB | cameras found / drawn | same partition as drawn | time against exact |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        ex = by.get((r["n"], "exact"))
        ratio = (f"{r['seconds'] / ex['seconds']:.2f}x" if r["path"] == "sampled" and ex and ex.get("seconds")
                 and r.get("seconds") else "")
        if r.get("seconds") is None:
            lines.append(f"| {r['n']} | {r['path']} | {r.get('note', '')} | | | | |")
            continue
        lines.append(f"| {r['n']} | {r['path']} | {r['seconds']:.2f} | {r['peak_mb']:.0f} | {r['cameras_found']} / "
                     f"{r['cameras']} | {'yes' if r['partition_exact'] else 'no'} | {ratio} |")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench_cameras.json").write_text(json.dumps({"created": time.strftime("%Y-%m-%d %H:%M"),
                                                             "rows": rows}, indent=2) + "\n")
    (args.out / "bench_cameras.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
