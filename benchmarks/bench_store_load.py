"""Loading a dataset's feature files as `videoad detect` does after screening them: every file's
attributes read once (`FeatureStore.attrs`), then each video loaded (`FeatureStore.load`). The
baseline is the load before 2026-12-06, which read every attribute of the file again; both in the
same run, one after the other, over the same files.

The store: N videos shaped like imported UCF-Crime features (300-3,000 clips of a 64-value vector
at stride 32, the attributes `videoad import npy` writes). Prints the seconds and the ratio and
writes benchmarks/results/store_load_<N>videos.{json,md}:

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_store_load.py --videos 1900
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def make_store(root: Path, n: int) -> list[str]:
    from extract.store import write_video

    rng = np.random.default_rng(0)
    keys = []
    for i in range(n):
        clips = int(rng.integers(300, 3000)) // 10
        key = f"Cat{i % 14}/v{i:04d}_x264.mp4"
        starts = np.arange(clips) * 32
        attrs = {"source_path": f"/data/npy/{key}.npy", "source_sha256": "0" * 64, "n_frames": clips * 32, "fps": 30.0,
                 "frame_count_source": "counts.txt", "imported": True, "backbone": "c3d", "layer": "unknown",
                 "weights_sha256": "unknown (imported)", "preprocessing": "unknown (imported)", "import_format": "npy",
                 "row_kind": "clip", "crops": 1, "crop_reduce": "none", "clip_len": 16, "stride": 32,
                 "tail_policy": "unknown (imported)"}
        write_video(root, key, rng.normal(size=(clips, 64)).astype(np.float32),
                    np.stack([starts, starts + 15], 1), attrs)
        keys.append(key)
    return keys


def load_before(store, key: str) -> None:
    """The load before: datasets and every attribute read from the file."""
    import h5py

    from extract.store import _from_attr

    with h5py.File(store.path(key), "r") as f:
        {name: _from_attr(value) for name, value in f.attrs.items()}
        np.asarray(f["features"][()], dtype=np.float32)
        np.asarray(f["frames"][()], dtype=np.int64)
        "cells" in f
        "frame_times" in f


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--videos", type=int, default=1900)
    ap.add_argument("--repeats", type=int, default=3, help="best of this many passes of each way")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    import _results

    from extract.store import FeatureStore

    run = _results.Run()
    with tempfile.TemporaryDirectory(prefix="bench-store-load-") as tmp:
        keys = make_store(Path(tmp) / "store", args.videos)
        store = FeatureStore(Path(tmp) / "store")
        for key in keys:  # screening: each file's attributes read once
            store.attrs(key)
        before, now = [], []
        for _ in range(args.repeats):
            t = time.perf_counter()
            for key in keys:
                load_before(store, key)
            before.append(time.perf_counter() - t)
            t = time.perf_counter()
            for key in keys:
                store.load(key)
            now.append(time.perf_counter() - t)
    b, n = min(before), min(now)
    print(f"{args.videos} videos loaded: before {b:.2f} s, now {n:.2f} s, {b / n:.2f}x")
    table = ["| way | seconds (best of %d) |" % args.repeats, "|---|---|",
             f"| every attribute read again (before) | {b:.2f} |", f"| attributes from the cache (now) | {n:.2f} |",
             "", f"**{b / n:.2f}x**"]
    protocol = (f"{args.videos} feature files shaped like imported UCF-Crime features (30-300 clips of 64 values); "
                "each file's attributes read once first, as screening does; then every video loaded, the way "
                "before and now in turn, the best of the passes.")
    run.write(f"store_load_{args.videos}videos", f"Loading {args.videos} feature files after screening", protocol, table,
              {"videos": args.videos, "before_s": [round(x, 3) for x in before], "now_s": [round(x, 3) for x in now],
               "ratio": round(b / n, 3)}, out=args.out)


if __name__ == "__main__":
    main()
