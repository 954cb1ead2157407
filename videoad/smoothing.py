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


def kernel(sigma: float) -> np.ndarray:
    """Normalised Gaussian weights over offsets -radius..radius (radius = int(4 sigma + 0.5))."""
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
    """

    def __init__(self, sigma: float) -> None:
        self.weights = kernel(sigma)
        self.radius = len(self.weights) // 2
        self._scores: deque[float] = deque()  # raw scores from clip `_first` - radius (or 0) on
        self._items: deque[Any] = deque()  # items not yet handed back
        self._first = 0  # index of the oldest item not handed back
        self._n = 0  # clips pushed

    def push(self, score: float, item: Any = None) -> list[tuple[Any, float]]:
        self._scores.append(float(score))
        self._items.append(item)
        self._n += 1
        out = []
        while self._items and self._first + self.radius < self._n:
            out.append(self._emit())
        return out

    def flush(self) -> list[tuple[Any, float]]:
        out = [self._emit() for _ in range(len(self._items))]
        self._scores.clear()
        self._first = self._n = 0
        return out

    def _emit(self) -> tuple[Any, float]:
        t = self._first
        # raw scores held: clips max(0, t - radius) .. n - 1; offsets outside repeat the ends
        lo = max(0, t - self.radius)
        held = np.fromiter(self._scores, dtype=np.float64)
        idx = np.clip(np.arange(t - self.radius, t + self.radius + 1), 0, self._n - 1) - lo
        value = float(np.dot(self.weights, held[idx]))
        item = self._items.popleft()
        self._first += 1
        if self._first - self.radius > lo:  # the oldest raw score is no longer needed
            self._scores.popleft()
        return item, value


def smooth_scores(scores: np.ndarray, sigma: float) -> np.ndarray:
    """One video's clip scores smoothed: the numbers `ScoreSmoother` gives one at a time (equal to
    float rounding), computed at once rather than through the streaming loop clip by clip."""
    scores = np.asarray(scores, dtype=np.float64)
    if sigma <= 0 or scores.size == 0:
        return scores.copy()
    weights = kernel(sigma)
    radius = len(weights) // 2
    padded = np.pad(scores, radius, mode="edge")  # the ends repeat, as the smoother's clipped indices do
    return np.convolve(padded, weights[::-1], mode="valid")
