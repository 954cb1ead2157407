"""Time `smoothing.smooth_scores` (a long kernel by FFT, the repeated ends in closed form) against the
direct convolution of the padded scores it used until 2026-12-07 (cost clips x kernel taps: at
`smooth: 3600`, stride 1, 25 fps, a sigma of 90,000 clips, 10k clips took 17 s and 100k clips did
not end in 5 minutes). Same inputs, one run; the largest worst difference is printed too. The
direct way is run only up to `--direct-max` clips x taps; each time is the best of 3 calls (1 past a
second); the stream
(`ScoreSmoother`, what `videoad watch` uses) is timed as it is now and, up to `--stream-before-max`,
as it was (its flush cost 5 ms a clip at that sigma).
Writes benchmarks/results/smoothing.{json,md} (`--out` for another folder):

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_smoothing.py
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _results  # noqa: E402

#: (clips, sigma in clips): the default 0.5 s at a 0.16-0.4 s stride, minutes at a clip a frame, an hour
CASES = [(10_000, 3.0), (100_000, 3.0), (100_000, 40.0), (10_000, 750.0), (100_000, 750.0),
         (2_000, 90_000.0), (10_000, 90_000.0), (100_000, 9_000.0), (100_000, 90_000.0)]


def direct(scores: np.ndarray, sigma: float) -> np.ndarray:
    """The way before: the ends padded by repetition, then np.convolve over the whole kernel."""
    from videoad.smoothing import kernel

    weights = kernel(sigma)
    radius = len(weights) // 2
    return np.convolve(np.pad(scores, radius, mode="edge"), weights[::-1], mode="valid")


def timed(fn, *args) -> tuple[float, np.ndarray]:
    """The best of 3 calls, of 1 where a call takes over a second."""
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        out = fn(*args)
        best = min(best, time.perf_counter() - t0)
        if best > 1.0:
            break
    return best, out


class StreamBefore:
    """`ScoreSmoother` before: a deque of held scores, each clip's window gathered by clipped indices
    over the whole kernel (its cost: clips x taps, in the flush too)."""

    def __init__(self, sigma: float) -> None:
        from collections import deque

        from videoad.smoothing import kernel

        self.weights = kernel(sigma)
        self.radius = len(self.weights) // 2
        self._scores, self._items, self._first, self._n = deque(), deque(), 0, 0

    def push(self, score, item=None):
        self._scores.append(float(score))
        self._items.append(item)
        self._n += 1
        out = []
        while self._items and self._first + self.radius < self._n:
            out.append(self._emit())
        return out

    def flush(self):
        return [self._emit() for _ in range(len(self._items))]

    def _emit(self):
        t = self._first
        lo = max(0, t - self.radius)
        held = np.fromiter(self._scores, dtype=np.float64)
        idx = np.clip(np.arange(t - self.radius, t + self.radius + 1), 0, self._n - 1) - lo
        value = float(np.dot(self.weights, held[idx]))
        item = self._items.popleft()
        self._first += 1
        if self._first - self.radius > lo:
            self._scores.popleft()
        return item, value


def streamed(scores: np.ndarray, sigma: float, smoother=None) -> np.ndarray:
    from videoad.smoothing import ScoreSmoother

    sm = (smoother or ScoreSmoother)(sigma)
    got = [v for s in scores for _, v in sm.push(s)] + [v for _, v in sm.flush()]
    return np.asarray(got)


def main() -> None:
    from videoad.smoothing import DIRECT_TAPS, kernel, smooth_scores

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--direct-max", type=float, default=1e11, help="clips x taps up to which the direct way runs")
    ap.add_argument("--stream-before-max", type=float, default=2e9,
                    help="clips x taps up to which the stream as before runs")
    ap.add_argument("--out", type=Path, default=None, help="results folder [default: benchmarks/results]")
    args = ap.parse_args()
    run = _results.Run()
    smooth_scores(np.zeros(2), 100.0)  # scipy.signal's import, once, outside the timings
    rows, table = [], ["| clips | sigma (clips) | taps | now by | direct s | now s | ratio | stream before s | stream s "
                       "| ratio | max diff |", "|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|"]
    for n, sigma in CASES:
        x = 1.0 + np.random.default_rng(n).normal(size=n)
        taps = len(kernel(sigma))
        now_s, now = timed(smooth_scores, x, sigma)
        stream_s, stream = timed(streamed, x, sigma)
        diff = float(np.abs(stream - now).max())
        direct_s = ratio = None
        if n * taps <= args.direct_max:
            direct_s, old = timed(direct, x, sigma)
            diff = max(diff, float(np.abs(old - now).max()))
            ratio = direct_s / now_s
        before_s = stream_ratio = None
        if n * taps <= args.stream_before_max:
            before_s, before = timed(streamed, x, sigma, StreamBefore)
            diff = max(diff, float(np.abs(before - now).max()))
            stream_ratio = before_s / stream_s
        path = "direct (as before)" if taps <= DIRECT_TAPS else "FFT"
        rows.append({"clips": n, "sigma": sigma, "taps": taps, "path": path, "direct_s": direct_s, "now_s": now_s,
                     "ratio": ratio, "stream_before_s": before_s, "stream_s": stream_s, "stream_ratio": stream_ratio, "max_abs_diff": diff})
        d = "not run" if direct_s is None else f"{direct_s:.3f}"
        r = "-" if ratio is None else f"{ratio:.1f}"
        sb = "not run" if before_s is None else f"{before_s:.3f}"
        sr = "-" if stream_ratio is None else f"{stream_ratio:.1f}"
        print(f"{n:>9} clips, sigma {sigma:>8g} ({taps} taps): direct {d} s, now {now_s:.4f} s (ratio {r}), "
              f"stream before {sb} s, now {stream_s:.3f} s (ratio {sr}), max diff {diff:.1e}")
        table.append(f"| {n} | {sigma:g} | {taps} | {path} | {d} | {now_s:.4f} | {r} | {sb} | {stream_s:.3f} | {sr} "
                     f"| {diff:.1e} |")
    run.write("smoothing", "Smoothing clip scores in time: FFT with closed-form ends against direct convolution",
              "Each case smooths one video of standard-normal scores (plus 1) with `smooth_scores` as it is now "
              "and with the direct convolution it used before (padded ends, np.convolve: clips x taps), "
              "each in the same run (the best of 3 calls, 1 where a call takes over a second), and through "
              "`ScoreSmoother` clip by clip (the stream of `videoad watch`), now and as before (its whole kernel "
              "gathered per clip, the flush too). max diff: the largest absolute difference of the direct way and "
              "both streams from `smooth_scores`. The direct way is not run past "
              f"{args.direct_max:g} clips x taps, the stream as before past {args.stream_before_max:g}.",
              table, {"cases": rows}, out=args.out,
              notes=[f"Kernels up to {DIRECT_TAPS} taps still go the direct way: there both columns run the same "
                     "code and their ratio is the machine's noise."])


if __name__ == "__main__":
    main()
