"""`videoad watch` through a dusk and a dawn on real footage: does a stream scored by models fitted
per level of activity (a camera's day and night history, `activity_levels: apart`) switch to the
night's model once at dusk and back once at dawn?

The history is Ped2's training clips 01-16 by day and through check-night's night, in one folder
(`video_defaults.py check-levels --part confirm` made its features). The stream, at Ped2's 10 fps:
test 01 by day, test 02 with its frames blended from the day to the night version over its 180
frames (dusk), test 01 at night, test 02 blended back (dawn), test 01 by day: 900 frames. Watched
with the pair as shipped (leaving a level only past the margin, the fourth root of the split's
ratio), the pair with no margin, and one model fitted over both (`together`).

Reading written and committed before the run: the shipped pair holds if it switches to the busier
level exactly once between the start of the dusk and the end of the night piece, and back exactly
once between the start of the dawn and the end of the stream, with no other `level` record. The
no-margin pair's switches and every switch's place in the ramp (the night's share of the blend) are
reported beside it; nothing is chosen on them.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/watch_dusk.py
"""
from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "runs" / "video_defaults"
DATA = ROOT.parent / "shared" / "data"
HISTORY = WORK / "together" / "Ped2-inductive-(train-01-16-->-test-01-02)-inductive-history" / "features"
NIGHT = WORK / "camera" / "night-confirm" / "ped2" / "testing"
FPS = 10.0
PIECES = ("day", "dusk", "night", "dawn", "day again")


def frames_of(folder: Path) -> list[np.ndarray]:
    """A folder of numbered images as RGB arrays, in order."""
    import cv2

    return [cv2.cvtColor(cv2.imread(str(p)), cv2.COLOR_BGR2RGB) for p in sorted(folder.glob("*.jpg"))]


def blend(day: list[np.ndarray], night: list[np.ndarray], rising: bool) -> tuple[list[np.ndarray], list[float]]:
    """Frame by frame from the day to the night version (rising) or back; with each frame's night share."""
    n = len(day)
    shares = [i / (n - 1) if rising else 1 - i / (n - 1) for i in range(n)]
    return [np.clip(d * (1 - s) + g * s, 0, 255).astype(np.uint8) for d, g, s in zip(day, night, shares)], shares


def the_stream() -> tuple[list[np.ndarray], list[float], list[tuple[str, int, int]]]:
    """(frames, each frame's night share, the pieces as (name, first frame, end frame))."""
    test = DATA / "ucsd_ped2" / "testing" / "frames"
    day01, day02 = frames_of(test / "01"), frames_of(test / "02")
    night01, night02 = frames_of(NIGHT / "01"), frames_of(NIGHT / "02")
    dusk, dusk_share = blend(day02, night02, rising=True)
    dawn, dawn_share = blend(day02, night02, rising=False)
    parts = [(day01, [0.0] * len(day01)), (dusk, dusk_share), (night01, [1.0] * len(night01)), (dawn, dawn_share),
             (day01, [0.0] * len(day01))]
    frames, shares, pieces, at = [], [], [], 0
    for name, (f, s) in zip(PIECES, parts):
        frames += f
        shares += s
        pieces.append((name, at, at + len(f)))
        at += len(f)
    return frames, shares, pieces


def fit(models: Path, levels: str) -> None:
    from videoad import video

    if not (models / "models.json").is_file():
        video.fit_and_score(HISTORY, HISTORY, video.DetectConfig(mode="pooled", activity_levels=levels),
                            save_models=models)


def watch(frames, wm, out: Path) -> list[dict]:
    from videoad import live

    live.watch([live.FramesSource("dusk", lambda: iter(frames), fps=FPS)], wm, out, live.WatchOptions())
    return [json.loads(line) for line in (out / live.EVENTS_FILE).read_text().splitlines()]


def piece_of(frame: int, pieces) -> str:
    return next(name for name, a, b in pieces if a <= frame < b)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", type=Path, default=WORK / "watch-dusk")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = ap.parse_args()
    from videoad import live

    if not (HISTORY.is_dir() and NIGHT.is_dir()):
        raise SystemExit(f"run `video_defaults.py check-levels --part confirm` first ({HISTORY}, {NIGHT})")
    frames, shares, pieces = the_stream()
    fit(args.work / "models-apart", "apart")
    fit(args.work / "models-together", "together")
    pair = live.WatchModel.load(args.work / "models-apart")
    no_margin = live.WatchModel.load(args.work / "models-apart")
    no_margin.levels.ratio = 1.0
    runs = {"pair (shipped margin)": (pair, "pair"), "pair, no margin": (no_margin, "pair-no-margin"),
            "one model over both (together)": (live.WatchModel.load(args.work / "models-together"), "together")}
    rows = []
    for name, (wm, folder) in runs.items():
        out = args.work / "live" / folder
        shutil.rmtree(out, ignore_errors=True)
        t0 = time.perf_counter()
        records = watch(frames, wm, out)
        switches = [{"frame": r["frame"], "piece": piece_of(r["frame"], pieces), "level": r["level"],
                     "night_share": round(shares[r["frame"]], 3), "crossing": r["crossing"]}
                    for r in records if r["type"] == "level"]
        events = [r for r in records if r["type"] == "close"]
        per_piece = {p: sum(1 for e in events if piece_of(e["start_frame"], pieces) == p) for p, _, _ in pieces}
        rows.append({"run": name, "switches": switches, "events_by_piece": per_piece,
                     "seconds": round(time.perf_counter() - t0, 1),
                     **({"boundary": wm.levels.boundary, "ratio": wm.levels.ratio} if wm.levels else {})})
        print(name, json.dumps(rows[-1]), flush=True)
    shipped = rows[0]["switches"]
    up = [s for s in shipped if s["level"] == "busier"]
    down = [s for s in shipped if s["level"] == "quieter"]
    holds = (len(shipped) == 2 and len(up) == 1 and len(down) == 1 and up[0]["piece"] in ("dusk", "night")
             and down[0]["piece"] in ("dawn", "day again"))
    result = {"pieces": pieces, "rows": rows, "reading_holds": holds,
              "command": "OMP_NUM_THREADS=1 .venv/bin/python benchmarks/watch_dusk.py",
              "created": time.strftime("%Y-%m-%d %H:%M")}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "watch_dusk.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = ["# videoad watch through a dusk and a dawn (Ped2, models fitted per level of activity)", "",
             __doc__.split("\n\n", 1)[1].split("    OMP_NUM_THREADS")[0].strip(), "",
             f"Command: `{result['command']}`", "",
             "Pieces (frames): " + ", ".join(f"{n} {a}-{b - 1}" for n, a, b in pieces), "",
             "| run | level records (frame, piece, night share of the blend) | events opened per piece |",
             "|---|---|---|"]
    for r in rows:
        sw = "; ".join(f"{s['level']} at {s['frame']} ({s['piece']}, {s['night_share']:.2f})" for s in r["switches"])
        ev = ", ".join(f"{p} {n}" for p, n in r["events_by_piece"].items())
        lines.append(f"| {r['run']} | {sw or 'none'} | {ev} |")
    lines += ["", f"Reading: {'holds' if holds else 'does not hold'}."]
    (args.out / "watch_dusk.md").write_text("\n".join(lines) + "\n")
    print("reading holds" if holds else "reading does not hold", flush=True)


if __name__ == "__main__":
    main()
