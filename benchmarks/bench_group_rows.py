"""Peak memory of a pooled group's rows: the store's videos loaded into one matrix (what `detect`
does, `FeatureStore.load_packed` + `group_model.rows`) against each video loaded on its own and
the rows concatenated (the way until 2026-12-06), in the same run.

A store of N videos of 4,096-d clip features (C3D fc6's width, the learned defaults' clip rows)
is written once; each way then runs in a fresh child process that loads the group and builds its
rows, and reports its peak resident memory (VmHWM) beyond what it held before loading. The
figure that matters is that peak over the features' own size (1.0 = the features held once).
Prints the figures and writes benchmarks/results/group_rows.{json,md} (`--out` for another folder):

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_group_rows.py --videos 60 --clips 500
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))


def _hwm_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status (Linux only)")


def child(store_root: str, way: str) -> None:
    from videoad.group_model import rows
    from videoad.video.groups import _load_group, open_store

    store = open_store(store_root)
    keys = store.keys()
    before = _hwm_mib()
    if way == "packed":
        X = rows(_load_group(store_root, keys, cells=False), "clip")
    else:
        X = np.concatenate([store.load(k).features for k in keys]).astype(np.float32, copy=False)
    print(json.dumps({"way": way, "rows": int(X.shape[0]), "peak_mib": _hwm_mib() - before,
                      "checksum": float(X[:, :8].sum(dtype=np.float64))}))


def build(root: Path, videos: int, clips: int, dim: int) -> float:
    from extract.store import write_video

    rng = np.random.default_rng(0)
    total = 0
    for i in range(videos):
        n = clips + int(rng.integers(-clips // 4, clips // 4 + 1))
        starts = np.arange(n) * 16
        features = rng.random((n, dim), dtype=np.float32)
        write_video(root, f"Cat{i % 5}/v{i:03d}.mp4", features, np.stack([starts, starts + 15], 1),
                    {"n_frames": int(n * 16), "fps": 30.0, "clip_len": 16, "stride": 16, "backbone": "c3d"})
        total += features.nbytes
    return total / 2**20


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--videos", type=int, default=60)
    ap.add_argument("--clips", type=int, default=500, help="clips per video (+-25%%)")
    ap.add_argument("--dim", type=int, default=4096)
    ap.add_argument("--child", nargs=2, metavar=("STORE", "WAY"), help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, default=None, help="results folder [default: benchmarks/results]")
    args = ap.parse_args()
    if args.child:
        child(*args.child)
        return
    import _results

    run = _results.Run()
    work = Path(tempfile.mkdtemp(prefix="bench-group-rows-"))
    try:
        mib = build(work / "store", args.videos, args.clips, args.dim)
        got = {}
        for way in ("per-video", "packed"):
            out = subprocess.run([sys.executable, __file__, "--child", str(work / "store"), way], cwd=REPO,
                                 capture_output=True, text=True, check=True)
            got[way] = json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    assert got["packed"]["checksum"] == got["per-video"]["checksum"], got
    print(f"{args.videos} videos, {got['packed']['rows']} clips x {args.dim}: features {mib:.0f} MiB "
          f"({platform.node()}, {os.cpu_count()} cores)")
    for way, r in got.items():
        print(f"{way}: peak {r['peak_mib']:.0f} MiB over the start, {r['peak_mib'] / mib:.2f}x the features")
    ratio = got["per-video"]["peak_mib"] / got["packed"]["peak_mib"]
    print(f"ratio per-video / packed: {ratio:.2f}")
    table = ["| way | peak MiB over the start | peak / the features' size |", "|---|---|---|"]
    table += [f"| {'the group loaded into one matrix (now)' if way == 'packed' else 'each video loaded alone, rows concatenated (before)'} "
              f"| {r['peak_mib']:.0f} | **{r['peak_mib'] / mib:.2f}x** |" for way, r in got.items()]
    run.write("group_rows", "A pooled group's rows: peak memory",
              f"A store of {args.videos} videos of {args.dim}-d clip features ({got['packed']['rows']} clips, "
              f"{mib:.0f} MiB of features), written once; each way loads the group and builds its rows in a fresh "
              "child process that reports its peak resident memory (VmHWM) beyond what it held before loading. "
              "Both ways give the same rows (checked). The figure to read: the peak over the features' own size "
              "(1.0 = the features held once).",
              table + ["", f"Ratio before / now: **{ratio:.2f}x**."],
              {"videos": args.videos, "clips": got["packed"]["rows"], "dim": args.dim, "features_mib": mib,
               "ways": got, "ratio": ratio}, args.out)


if __name__ == "__main__":
    main()
