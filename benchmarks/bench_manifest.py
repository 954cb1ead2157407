"""The extraction manifest's rewrites in a run over a large store: the share of the run's main
process spent writing manifest.json, under the rule before 2026-12-06 (a save a second whatever
the manifest's size) and under the rule now (a save waits at least 1/SAVE_SHARE times its last
write's duration), measured in the same run, one after the other.

A store that already lists N videos (a camera's month in one-minute files, or UCF-Crime's 1,900)
takes --new more, each after --work-ms of computation (a busy loop standing in for decoding and
the backbone, which the local runner's main process does between saves). The entries are those a
real run writes (status, decoder, frame and clip counts, seconds, settings id). Prints the shares
and writes benchmarks/results/manifest_<N>videos.{json,md}:

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_manifest.py --videos 20000
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def entry(i: int) -> dict:
    return {"decoder": "pyav", "n_clips": 150 + i % 7, "n_frames": 600 + i % 13, "seconds": 0.152,
            "settings": "774d13c27c387375", "status": "done"}


def one_run(folder: Path, n_old: int, n_new: int, work_s: float, share: float | None) -> dict:
    """Seconds of the run and of its manifest writes; `share` None: the rule before (every second)."""
    from extract import manifest as m

    keys = [f"cam/{i:06d}.mp4" for i in range(n_old + n_new)]
    saved = m.SAVE_SHARE
    m.SAVE_SHARE = float("inf") if share is None else share  # inf: the wait is the second alone
    write, spent = m._write_json, [0.0, 0]

    def timed(path, data):
        t = time.perf_counter()
        write(path, data)
        spent[0] += time.perf_counter() - t
        spent[1] += 1

    m._write_json = timed
    try:
        manifest = m.Manifest(folder, input_root="/in", settings={"clip": {"clip_len": 16}},
                              n_videos_total=len(keys), keys=keys)
        manifest.videos.update({k: entry(i) for i, k in enumerate(keys[:n_old])})
        started = time.perf_counter()
        for i, key in enumerate(keys[n_old:]):
            until = time.perf_counter() + work_s
            while time.perf_counter() < until:  # the video's decoding and forward passes
                pass
            manifest.record(key, entry(i))
        manifest.finish()
        total = time.perf_counter() - started
    finally:
        m._write_json, m.SAVE_SHARE = write, saved
    return {"seconds": round(total, 3), "writing_s": round(spent[0], 3), "writes": spent[1],
            "share": round(spent[0] / total, 4), "manifest_bytes": (folder / m.MANIFEST).stat().st_size}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--videos", type=int, default=20000, help="videos the manifest lists already")
    ap.add_argument("--new", type=int, default=300, help="videos the run adds")
    ap.add_argument("--work-ms", type=float, default=20.0, help="computation per video (ms)")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    import _results

    from extract.manifest import SAVE_SHARE

    run = _results.Run()
    with tempfile.TemporaryDirectory(prefix="bench-manifest-") as tmp:
        before = one_run(Path(tmp) / "before", args.videos, args.new, args.work_ms / 1000, None)
        now = one_run(Path(tmp) / "now", args.videos, args.new, args.work_ms / 1000, SAVE_SHARE)
    ratio = before["seconds"] / now["seconds"]
    for name, r in (("a save a second (before)", before), (f"SAVE_SHARE {SAVE_SHARE:g} (now)", now)):
        print(f"{name}: run {r['seconds']:.2f} s, {r['writes']} writes taking {r['writing_s']:.2f} s "
              f"({100 * r['share']:.1f}% of the run), manifest {r['manifest_bytes'] / 1e6:.1f} MB")
    print(f"run time before / now: {ratio:.2f}x")
    table = ["| rule | run, s | manifest writes | writing, s | share of the run |", "|---|---|---|---|---|",
             *(f"| {name} | {r['seconds']:.2f} | {r['writes']} | {r['writing_s']:.2f} | {100 * r['share']:.1f}% |"
               for name, r in (("a save a second (before)", before), (f"SAVE_SHARE {SAVE_SHARE:g} (now)", now))),
             "", f"**Run time, before / now: {ratio:.2f}x** (manifest {now['manifest_bytes'] / 1e6:.1f} MB)."]
    protocol = (f"A manifest listing {args.videos} videos; the run adds {args.new} more, each after {args.work_ms:g} ms "
                "of computation in the main process (a busy loop); the two rules measured in the same run, one "
                "after the other, each with its own folder.")
    run.write(f"manifest_{args.videos}videos", f"The extraction manifest's rewrites over {args.videos} videos",
              protocol, table, {"videos": args.videos, "new": args.new, "work_ms": args.work_ms,
                                "before": before, "now": now, "ratio": round(ratio, 3)}, out=args.out)


if __name__ == "__main__":
    main()
