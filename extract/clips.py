"""Clip sampling: a stream of decoded frames -> fixed-length clips with their source frame range.

Clips are cut while the frames stream past, holding at most `clip_len` frames, so memory does
not grow with the video's length. Frame indices always refer to the *source* video's decoded
frames (0-based, inclusive), also after fps resampling, so scores can be laid over the original
frames and ground truth without knowing how the clips were sampled.
"""
from __future__ import annotations

import math
from collections import deque
from dataclasses import asdict, dataclass
from typing import Callable, Iterable, Iterator

import numpy as np

from .timing import pauses_before

TAIL_POLICIES = ("drop", "pad")
#: a source within this fraction above `max_fps` is not resampled
RATE_SLACK = 0.01
#: frames per second no camera films: a rate above it is a clock or a wrong header (RTSP's 90 kHz,
#: a recorder's AVI saying 1000), not the footage's rate
MAX_PLAUSIBLE_FPS = 240.0


@dataclass(frozen=True)
class ClipSpec:
    """How clips are cut from a video.

    stride: sampled frames between the starts of consecutive clips (== clip_len: no overlap).
    tail: "drop" the frames after the last full clip (the UCF-Crime convention), or "pad" them
        into one more clip by repeating the last frame.
    target_fps: resample to this frame rate first (None: every decoded frame).
    max_fps: resample sources faster than this to this rate, keep slower ones as they are
        (`rate_for`); `target_fps`, when given, wins.
    """

    clip_len: int = 16
    stride: int = 16
    tail: str = "drop"
    target_fps: float | None = None
    max_fps: float | None = None

    def __post_init__(self) -> None:
        if self.clip_len < 1:
            raise ValueError(f"clip_len must be >= 1, got {self.clip_len}")
        if self.stride < 1:
            raise ValueError(f"stride must be >= 1, got {self.stride}")
        if self.tail not in TAIL_POLICIES:
            raise ValueError(f"tail must be one of {TAIL_POLICIES}, got {self.tail!r}")
        for name in ("target_fps", "max_fps"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise ValueError(f"{name} must be > 0, got {value}")

    def rate_for(self, src_fps: float | None) -> float | None:
        """The rate a source at `src_fps` is resampled to, None to keep every frame. Under
        `max_fps` a source within 1% of the cap is kept (29.97 and 30 fps are one rate), and one
        whose rate is unknown (a frame folder without --image-fps) cannot be resampled."""
        if self.target_fps is not None:
            return self.target_fps
        if self.max_fps is None or src_fps is None or not math.isfinite(src_fps):
            return None
        return self.max_fps if src_fps > self.max_fps * (1 + RATE_SLACK) else None

    def as_dict(self) -> dict:
        out = asdict(self)
        if out["max_fps"] is None:  # as stores written before the cap record their settings
            del out["max_fps"]
        return out


@dataclass
class Clip:
    index: int
    first: int  # source frame index of the clip's first frame
    last: int   # source frame index of its last real (not padded) frame
    frames: np.ndarray | None  # (clip_len, H, W, 3) uint8; None when prepared and not kept (iter_clips)
    #: the frames after `iter_clips`' `prepare` (the very `frames` array when none was given)
    prepared: np.ndarray | None = None
    #: (height, width) of the source's frames
    source_shape: tuple[int, int] = (0, 0)
    #: each frame's source index (a padded tail repeats the last)
    sources: tuple[int, ...] = ()


def resample(frames: Iterable[np.ndarray], src_fps: float, target_fps: float | None,
             times: np.ndarray | None = None, clock=None) -> Iterator[tuple[int, np.ndarray]]:
    """Yield (source index, frame) at `target_fps`, picking the latest source frame at each tick.

    Sampled frame p sits at time p / target_fps and takes source frame floor(t * src_fps), so
    downsampling skips frames and upsampling repeats them; a constant frame rate is assumed.
    With `times` (each source frame's time from the first, for frames that do not keep one
    rate: extract.timing) it takes the latest frame whose time is at or before the tick; frames
    past the end of `times` continue a typical (median) step apart, and a pause in the recording
    (`extract.timing.pauses_before`) holds no tick but the one at its last frame.

    With `clock` (`extract.timing.DecodedClock`, which `frames` feed as they are decoded), the frames are
    read one ahead, and from the first frame whose own time is not its packet's (a decoder that dropped
    frames without an error) the ticks go by the frames' own times; before it, by `times` or the rate as
    above, tick for tick.
    """
    if target_fps is None:
        yield from enumerate(frames)
        return
    if not (src_fps > 0 and math.isfinite(src_fps)):
        raise ValueError("cannot resample: the source frame rate is unknown "
                         "(for an image folder, give its rate with --image-fps)")
    if clock is not None:
        yield from _resample_by_clock(frames, src_fps, target_fps, times, clock)
        return
    if times is not None:
        yield from _resample_by_time(frames, src_fps, target_fps, np.asarray(times, dtype=np.float64))
        return
    ratio = src_fps / target_fps
    wanted = 0  # next sampled position
    for index, frame in enumerate(frames):
        # the small epsilon keeps exact ratios (30 -> 10 fps) from losing a frame to rounding
        while math.floor(wanted * ratio + 1e-9) == index:
            yield index, frame
            wanted += 1


def _resample_by_time(frames: Iterable[np.ndarray], src_fps: float, target_fps: float, times: np.ndarray
                      ) -> Iterator[tuple[int, np.ndarray]]:
    gaps = np.diff(times)
    typical = float(np.median(gaps)) if gaps.size and np.median(gaps) > 0 else 1.0 / src_fps

    def time_of(i: int) -> float:  # frames past the times (and the last one's end) a typical step apart
        return float(times[i]) if i < len(times) else float(times[-1]) + (i - len(times) + 1) * typical

    paused = pauses_before(times)  # a pause after frame i: paused[i + 1]
    wanted = 0
    for index, frame in enumerate(frames):
        following = time_of(index + 1)  # this frame holds every tick before the next one's time
        if index + 1 < len(paused) and paused[index + 1]:
            # the recording pauses after this frame: it holds one tick, not every tick of the pause
            # (minutes of a frozen picture), and the next burst starts at the first tick in it
            if wanted / target_fps < following - 1e-9:
                yield index, frame
            wanted = max(wanted + 1, math.ceil(following * target_fps - 1e-9))
            continue
        while wanted / target_fps < following - 1e-9:
            yield index, frame
            wanted += 1


def _resample_by_clock(frames: Iterable[np.ndarray], src_fps: float, target_fps: float, times, clock
                       ) -> Iterator[tuple[int, np.ndarray]]:
    """`resample` with the frames' own times (`clock`), each frame held until the next is decoded: until
    a frame's time departs from its packet's, ticks are dealt as `_resample_by_time` (with `times`) or
    the rate (without) deals them, the same frames; from there by the times the frames carry."""
    ratio = src_fps / target_fps
    times = None if times is None else np.asarray(times, dtype=np.float64)
    paused = None if times is None else pauses_before(times)
    if times is not None:
        gaps = np.diff(times)
        typical = float(np.median(gaps)) if gaps.size and np.median(gaps) > 0 else 1.0 / src_fps
    else:
        typical = 1.0 / src_fps

    def static_ticks(index: int, wanted: int) -> int:  # how far the ticks go with frame `index`, as before
        if times is None:
            while math.floor(wanted * ratio + 1e-9) == index:
                wanted += 1
            return wanted
        following = float(times[index + 1]) if index + 1 < len(times) else float(times[-1]) + (
            index + 2 - len(times)) * typical
        if index + 1 < len(paused) and paused[index + 1]:
            return wanted + 1 if wanted / target_fps < following - 1e-9 else wanted  # the tick before the pause
        while wanted / target_fps < following - 1e-9:
            wanted += 1
        return wanted

    def static_next(index: int, wanted: int) -> int:  # `wanted` after frame `index`, a pause's skip included
        ticks = static_ticks(index, wanted)
        if times is not None and index + 1 < len(paused) and paused[index + 1]:
            following = float(times[index + 1])
            return max(wanted + 1, math.ceil(following * target_fps - 1e-9))
        return ticks

    iterator = iter(frames)
    try:
        held = next(iterator)
    except StopIteration:
        return
    index, wanted, done = 0, 0, False
    while not done:
        try:
            after = next(iterator)  # decoded: the clock knows frame index + 1's time now
        except StopIteration:
            after, done = None, True
        drifted = clock.drifted_at is not None and clock.drifted_at <= index + 1
        if not drifted:
            end = static_ticks(index, wanted)
            for _ in range(end - wanted):
                yield index, held
            wanted = static_next(index, wanted)
        else:
            # the last frame lasts a typical step
            following = clock.forecast(index) + (clock.step or typical) if done else clock.forecast(index + 1)
            if clock.paused(index + 1) and not done:
                if wanted / target_fps < following - 1e-9:
                    yield index, held
                wanted = max(wanted + 1, math.ceil(following * target_fps - 1e-9))
            else:
                while wanted / target_fps < following - 1e-9:
                    yield index, held
                    wanted += 1
        held, index = after, index + 1


def iter_clips(frames: Iterable[np.ndarray], spec: ClipSpec, src_fps: float = math.nan, *,
               prepare: Callable[[np.ndarray], np.ndarray] | None = None, keep_frames: bool = True,
               times: np.ndarray | None = None, clock=None) -> Iterator[Clip]:
    """Cut `frames` into clips per `spec`, streaming; see the module docstring. `times`: each
    frame's time for a video whose frames do not keep one rate (`resample`); `clock`: the frames' own
    times as they are decoded (`resample`).

    `prepare` runs once per sampled frame as it enters the window (a backbone's
    `prepare_frame`): overlapping clips share frames, and per-frame work done here is not
    repeated for each of the clip_len / stride clips that hold the frame. `keep_frames=False`
    drops the raw frames once prepared (the clips then carry `prepared` only); without
    `prepare`, `prepared` is the raw stack itself either way.
    """
    keep_frames = keep_frames or prepare is None
    window: deque[tuple[int, np.ndarray | None, np.ndarray | None]] = deque(maxlen=spec.clip_len)
    next_start = 0         # sampled position where the next clip begins
    last_covered = -1      # last sampled position inside an emitted clip
    position = -1
    n_clips = 0
    shape = (0, 0)
    for position, (source_index, frame) in enumerate(resample(frames, src_fps, spec.rate_for(src_fps), times,
                                                                             clock)):
        if position == 0:
            shape = (int(frame.shape[0]), int(frame.shape[1]))
        window.append((source_index, frame if keep_frames else None,
                       prepare(frame) if prepare is not None else None))
        if position == next_start + spec.clip_len - 1:
            yield _make_clip(n_clips, list(window), spec.clip_len, shape)
            n_clips += 1
            last_covered = position
            next_start += spec.stride
    if spec.tail == "pad" and last_covered < position and next_start <= position:
        remaining = list(window)[-(position - next_start + 1):]
        yield _make_clip(n_clips, remaining, spec.clip_len, shape)


def _padded_stack(frames: list[np.ndarray], clip_len: int) -> np.ndarray:
    frames = frames + [frames[-1]] * (clip_len - len(frames))  # pad by repeating the last frame
    return np.stack(frames)


def _make_clip(index: int, window: list[tuple[int, np.ndarray | None, np.ndarray | None]], clip_len: int,
               shape: tuple[int, int]) -> Clip:
    raw = _padded_stack([frame for _, frame, _ in window], clip_len) if window[0][1] is not None else None
    prepared = _padded_stack([p for _, _, p in window], clip_len) if window[0][2] is not None else raw
    sources = [i for i, _, _ in window]
    sources += [sources[-1]] * (clip_len - len(sources))
    return Clip(index=index, first=window[0][0], last=window[-1][0], frames=raw, prepared=prepared,
                source_shape=shape, sources=tuple(sources))


def count_full_clips(n_frames: int, spec: ClipSpec) -> int:
    """Clips `iter_clips` yields for `n_frames` frames at the native rate (for checks and docs)."""
    full = 0 if n_frames < spec.clip_len else (n_frames - spec.clip_len) // spec.stride + 1
    if spec.tail == "pad":
        last_covered = -1 if full == 0 else (full - 1) * spec.stride + spec.clip_len - 1
        next_start = full * spec.stride
        if last_covered < n_frames - 1 and next_start <= n_frames - 1:
            full += 1
    return full
