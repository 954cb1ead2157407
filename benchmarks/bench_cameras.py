"""Telling cameras apart at scale: `videoad.cameras.cluster` on many scene pictures, the exact
average linkage (an n x n matrix) against the sampled path taken above CLUSTER_EXACT pictures.

Every `videoad detect` runs it (the note on groups that hold several cameras), so a folder of a
camera's month in one-minute files (43,200 videos) must not build a 43,200 x 43,200 matrix. Each
measurement runs in a process of its own (peak memory from its resource usage); the pictures are
synthetic cameras (three layouts, exposure and noise drawn per video). Prints the figures and
writes benchmarks/results/bench_cameras.{json,md}:

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_cameras.py

`--match N:K` instead times matching N scored videos' pictures to K known cameras (what
`--per-camera` with `--fit-on` or `--model` does before any fit): `cameras.match_many`, against
the per-picture similarity matrix it replaced (the way until 2026-12-06), in the same run,
checks that both give the same cameras, and writes benchmarks/results/bench_cameras_match.{json,md}:

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_cameras.py --match 1900:634
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
sys.path.insert(0, str(ROOT / "benchmarks"))


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


def matching(n: int, k: int, out: Path) -> None:
    """Print and write the seconds of matching n pictures to k cameras, one product against a loop."""
    import _results

    run = _results.Run()
    from extract.scene import SCENE_SHAPE
    from videoad.cameras import SAME_CAMERA, match_many, similarities

    pics, sizes, _ = pictures(n + k, cameras=k)
    known = {f"camera-{c:03d}": {"scene": pics[n + c].ravel().tolist(), "frame_size": sizes[n + c]} for c in range(k)}
    t = time.perf_counter()
    fast = match_many(pics[:n], sizes[:n], known)
    t_fast = time.perf_counter() - t
    t = time.perf_counter()
    names = list(known)
    slow = []
    for pic, size in zip(pics[:n], sizes[:n]):  # the baseline: a (k + 1) x (k + 1) matrix per picture
        refs = [np.asarray(known[c]["scene"], np.float64).reshape(SCENE_SHAPE) for c in names]
        sims = similarities([pic, *refs], [size, *[known[c]["frame_size"] for c in names]])[0, 1:]
        b = int(np.argmax(sims))
        slow.append((names[b] if sims[b] >= SAME_CAMERA else None, float(sims[b])))
    t_slow = time.perf_counter() - t
    same = all(a[0] == b[0] and abs(a[1] - b[1]) < 1e-9 for a, b in zip(fast, slow))
    print(f"{n} pictures against {k} cameras: match_many {t_fast:.3f} s, per-picture matrices {t_slow:.2f} s, "
          f"ratio {t_slow / t_fast:.0f}; same cameras and correlations: {same}")
    run.write("bench_cameras_match", "Matching scored videos' pictures to known cameras (`cameras.match_many`)",
              "Synthetic scene pictures (benchmarks/bench_cameras.py's cameras): N pictures matched to K known "
              "cameras in one product (`cameras.match_many`, what `--per-camera` with `--fit-on` or `--model` "
              "does before any fit) against a (K + 1) x (K + 1) similarity matrix per picture (the way until "
              "2026-12-06), in the same run; both must give the same cameras and correlations.",
              ["| pictures | known cameras | match_many, s | a matrix per picture (before), s | ratio "
               "| same cameras and correlations |", "|---|---|---|---|---|---|",
               f"| {n} | {k} | {t_fast:.3f} | {t_slow:.2f} | **{t_slow / t_fast:.0f}x** | {'yes' if same else 'NO'} |"],
              {"pictures": n, "cameras": k, "match_many_s": t_fast, "per_picture_s": t_slow,
               "ratio": t_slow / t_fast, "same": same}, out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--match", metavar="N:K", help="time matching N pictures to K cameras instead "
                                                   "(writes bench_cameras_match.{json,md})")
    ap.add_argument("--sizes", default="2000,4000,8000,43200")
    ap.add_argument("--exact-up-to", type=int, default=8000, help="the exact path is measured up to this many")
    ap.add_argument("--timeout", type=float, default=900)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = ap.parse_args()
    if args.match:
        n, k = (int(v) for v in args.match.split(":"))
        matching(n, k, args.out)
        return
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
