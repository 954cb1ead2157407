"""Temporal smoothing of a video's clip scores: a centred Gaussian over time, offline and live alike.

Why: an anomaly lasts seconds, a single clip's score is noisy; a short Gaussian (sigma 0.5 s by
default, `smooth` in the detect settings) lifts every development set (docs/defaults.md). The
kernel is cut at 4 sigma and the ends repeat the first and last clip (scipy's
`gaussian_filter1d(..., mode="nearest")`, which `smooth_scores` equals).

One implementation serves both paths so that `videoad watch` on a file gives the scores of
`videoad detect` on it: `ScoreSmoother` takes clip scores one at a time and hands back each
clip's smoothed score once the clips `radius` ahead of it have arrived (a live stream's alarms
therefore come `radius` clips late); `flush` ends the video.
"""
from __future__ import annotations

import math
from collections import deque
from typing import Any

import numpy as np

from videoad.events import ASSUMED_FPS  # the frame rate assumed when a video does not say

TRUNCATE = 4.0
DIRECT_TAPS = 255  # kernels up to this many taps are convolved directly (FFT is no faster there)


def step_seconds(stride: float, fps: float | None, target_fps: float | None = None) -> float:
    """Seconds between the starts of consecutive clips: `stride` sampled frames, sampled at
    `target_fps` when the extraction resampled, else at the video's `fps`."""
    rate = target_fps if target_fps and target_fps > 0 else fps
    rate = rate if rate and math.isfinite(rate) and rate > 0 else ASSUMED_FPS
    return float(stride) / rate


def clip_step_seconds(attrs, frames) -> float:
    """Seconds between a stored video's clips: from its extraction settings (what `videoad watch`
    uses too), or, for imported features whose clips are not `stride` apart (32 segments per
    video), from the clips' own first frames: their mean spacing (a short video's segments share
    first frames: the median spacing was 0, or the stride, where they are a few frames apart)."""
    fps = attrs.get("fps")
    fps = float(fps) if isinstance(fps, (int, float)) and math.isfinite(fps) and fps > 0 else None
    sampled = attrs.get("sampled_fps")  # the rate clips were cut at (stores since the frame-rate cap)
    resampled = float(attrs.get("target_fps") or 0.0) or (
        float(sampled) if isinstance(sampled, (int, float)) and math.isfinite(sampled) and sampled > 0
        and fps and sampled != fps else 0.0)
    step = step_seconds(float(attrs.get("stride") or 1), fps, resampled)
    starts = np.asarray(frames)[:, 0] if np.ndim(frames) == 2 else np.asarray(frames)
    if len(starts) > 1 and not resampled:
        gap = float(np.median(np.diff(starts)))
        span = float(starts[-1] - starts[0]) / (len(starts) - 1)
        segments = str(attrs.get("row_kind", "")) == "segment"  # Sultani's: they record stride 16 all the same
        if (segments or abs(gap - float(attrs.get("stride") or gap)) > 1) and span > 0:
            step = span / (fps or ASSUMED_FPS)
    return step


def smooth_seconds(value) -> float:
    """`smooth` checked: a negative or NaN sigma read as no smoothing at fit, and the models.json
    it wrote was then refused at load (`videoad.video.index`: a finite number >= 0)."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = math.nan
    if not (math.isfinite(seconds) and seconds >= 0):
        raise ValueError(f"smooth must be a finite number of seconds >= 0 (0: off), got {value!r}")
    return seconds


def kernel(sigma: float) -> np.ndarray:
    """Normalised Gaussian weights over offsets -radius..radius (radius = int(4 sigma + 0.5))."""
    if not math.isfinite(sigma):  # NaN failed in int() with a message naming no parameter
        raise ValueError(f"the smoothing's sigma must be a finite number of clips, got {sigma!r}")
    if sigma <= 0:
        return np.ones(1)
    radius = int(TRUNCATE * sigma + 0.5)
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    w = np.exp(-0.5 * (x / sigma) ** 2)
    return w / w.sum()


class ScoreSmoother:
    """Streaming centred Gaussian over one video's clip scores.

    `push(score, item)` returns the (item, smoothed score) pairs that became final; `flush()`
    returns the rest at the end of the video (the last clip repeated past the end). `item` is
    whatever the caller needs back with the score (a clip's index, its frames, ...).
    Each clip costs one dot product over the kernel's reach and the flush one `smooth_scores`
    call, so a kernel longer than the video (`smooth` allows an hour) does not cost clips x kernel.
    """

    def __init__(self, sigma: float) -> None:
        self.sigma = float(sigma)
        self.weights = kernel(sigma)
        self.radius = len(self.weights) // 2
        self._past = np.concatenate([[0.0], np.cumsum(self.weights)])  # _past[k]: the first k weights' sum
        self._buf = np.empty(64)  # raw scores from clip `_lo` on in _buf[_start:_end]
        self._start = self._end = 0
        self._lo = 0  # clip index of _buf[_start]
        self._items: deque[Any] = deque()  # items not yet handed back
        self._first = 0  # index of the oldest item not handed back
        self._n = 0  # clips pushed

    def push(self, score: float, item: Any = None) -> list[tuple[Any, float]]:
        self._append(float(score))
        self._items.append(item)
        self._n += 1
        out = []
        while self._items and self._first + self.radius < self._n:
            out.append(self._emit())
        return out

    def flush(self) -> list[tuple[Any, float]]:
        # the held scores as a video of their own: clip _first's window reaches no lower than _lo
        values = smooth_scores(self._buf[self._start:self._end], self.sigma)[self._first - self._lo:]
        out = list(zip(self._items, values.tolist()))
        self._items.clear()
        self._start = self._end = self._lo = self._first = self._n = 0
        return out

    def _append(self, score: float) -> None:
        if self._end == len(self._buf):  # full: move the held scores to the front, or grow
            held = self._buf[self._start:self._end]
            if len(held) > len(self._buf) // 2:
                self._buf = np.empty(2 * len(self._buf))
            self._buf[:len(held)] = held
            self._start, self._end = 0, len(held)
        self._buf[self._end] = score
        self._end += 1

    def _emit(self) -> tuple[Any, float]:
        """Clip `_first`'s value once clip `_first` + radius has arrived (so only the start is clipped)."""
        t, r = self._first, self.radius
        cut = max(0, r - t)  # offsets before clip 0: clip 0 repeated (held while t < r)
        window = self._buf[self._start + t - r + cut - self._lo:self._start + t + r + 1 - self._lo]
        value = float(np.dot(self.weights[cut:], window)) + (self._past[cut] * window[0] if cut else 0.0)
        item = self._items.popleft()
        self._first += 1
        if self._first - r > self._lo:  # the oldest raw score is no longer needed
            self._start += 1
            self._lo += 1
        return item, value


def smooth_scores(scores: np.ndarray, sigma: float) -> np.ndarray:
    """One video's clip scores smoothed: the numbers `ScoreSmoother` gives one at a time (equal to
    float rounding), computed at once rather than through the streaming loop clip by clip.

    A long kernel (a sigma of minutes at a clip a frame: `smooth` allows an hour) is not run
    directly, which cost clips x kernel (100k clips did not end in 5 minutes): the repeated ends
    add each end score times the kernel's weight past that end (a cumulative sum), and the clips
    themselves meet only the kernel's middle 2 x clips - 1 taps, convolved by FFT."""
    scores = np.asarray(scores, dtype=np.float64)
    if sigma <= 0 or scores.size == 0:
        return scores.copy()
    weights = kernel(sigma)
    radius = len(weights) // 2
    if len(weights) <= DIRECT_TAPS:  # short: directly, the numbers as ever
        padded = np.pad(scores, radius, mode="edge")  # the ends repeat, as the smoother's clipped indices do
        return np.convolve(padded, weights[::-1], mode="valid")
    return _smooth_long(scores, weights)


def _smooth_long(scores: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """`smooth_scores` for a long kernel: O(clips log clips + kernel) whatever the sigma."""
    from scipy.signal import oaconvolve  # scipy.signal's import is slow: only where needed

    n, radius = scores.size, len(weights) // 2
    reach = min(radius, n - 1)  # offsets farther than the video is long meet only the repeated ends
    middle = weights[radius - reach:radius + reach + 1][::-1]
    out = oaconvolve(scores, middle, mode="full")[reach:reach + n]
    # clip t's weight on offsets before clip 0 (-radius .. -t-1), and by symmetry after clip n-1
    last = radius - 1 - np.arange(n)  # the last such offset's index in `weights`
    before = np.where(last >= 0, np.cumsum(weights[:radius])[np.maximum(last, 0)], 0.0)
    return out + before * scores[0] + before[::-1] * scores[-1]
