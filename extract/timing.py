"""When a video's frames are not evenly spaced in time: read their timestamps, and say so.

A container's frame rate is a claim about every frame. Cameras that write only on change, drop
frames under load or record by motion trigger break it: `tree.avi` in the shared data says 15
fps and holds 68 frames over 29.5 s (2.3 fps, 0.33-0.73 s apart). Taken at its word, such a
video is 6.5 times shorter than it is: seconds in the report, the smoothing in time, the event
rules and the frame-rate cap all act on the wrong clock, and for the motion features each
pair of frames spans more time than assumed, which reads as faster motion, the very thing an
anomaly often is.

`packet_times` reads the presentation times of a file's video packets (a demux pass, no
decoding). `variable_timing` finds a video whose gaps between frames stray by more than half a
frame from the container's rate; only those change:
the video's rate becomes the one its frames keep on average (between pauses, below), and the frame-rate cap samples
them by timestamp (`extract.clips.resample`). A video whose frames keep its container's rate
is read exactly as before, bit for bit.

A gap of more than `PAUSE_STEPS` of the steps around it (and over `PAUSE_MIN_S`) is a pause in the
recording: a motion-triggered camera between its bursts, a stream that stalled; a camera that
lowers its rate keeps steps like its neighbours' and does not pause. The frames on either side of
it were not taken one step apart, so the motion backbone leaves such a pair out (`pauses_before`),
and the last frame before it lasts one step on the timeline (`videoad.scores.FrameClock`).

Frames that never arrive (a transport stream's packets destroyed, a recording's bytes overwritten:
the demuxer skips what it cannot parse, and no decoder error says so) leave gaps of a whole number
of frames in a recording that otherwise keeps its container's rate. `frame_slots` counts the slots
such a recording spans, so that the frames missing from them are said (`FrameStream.missing_note`);
a recording that keeps no one rate (a phone's variable rate, a camera that lowers its rate, a burst
camera) has no slots to miss.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from .video_stream import main_video_stream

#: an interval further than this fraction of a frame from the container's makes a video variable
STRAY = 0.5
#: a gap between frames over this many of the steps around it, and over PAUSE_MIN_S, is a pause in
#: the recording: a burst camera's gap between bursts, a stalled stream; a camera that lowers its
#: rate (30 fps, then 2) keeps steps like its neighbours' and does not pause
PAUSE_STEPS = 10
PAUSE_MIN_S = 1.0
#: gaps on each side of a gap whose median is "the steps around it"
PAUSE_WINDOW = 8
#: a gap within this fraction of a frame of a whole number of the container's frame intervals is that
#: many frames (`frame_slots`); a phone's variable rate strays further (0.67 and 2 intervals at 30 and
#: 10 fps under an average of 20)
WHOLE = 0.25


def local_steps(times) -> np.ndarray:
    """For each gap between consecutive frames, the median of the PAUSE_WINDOW gaps on each side of
    it (itself left out; the gap itself where it has no neighbour): the step the recording kept
    there."""
    gaps = np.diff(np.asarray(times, dtype=np.float64))
    if gaps.size < 2:
        return gaps.copy()
    padded = np.concatenate([np.full(PAUSE_WINDOW, np.nan), gaps, np.full(PAUSE_WINDOW, np.nan)])
    windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * PAUSE_WINDOW + 1).copy()
    windows[:, PAUSE_WINDOW] = np.nan  # the gap itself is not its own neighbour
    return np.nanmedian(windows, axis=1)


def pauses_before(times) -> np.ndarray:
    """For each frame, whether a pause in the recording (a gap over PAUSE_STEPS of the steps around
    it and over PAUSE_MIN_S) lies just before it: (n,) bool, the first frame False."""
    times = np.asarray(times, dtype=np.float64)
    gaps = np.diff(times)
    if gaps.size == 0:
        return np.zeros(len(times), dtype=bool)
    return np.concatenate([[False], gaps > np.maximum(PAUSE_STEPS * local_steps(times), PAUSE_MIN_S)])


@dataclass(frozen=True)
class Slots:
    """The frame slots a constant-rate recording spans (`frame_slots`) and where frames skip some."""

    count: int  # slots from the first frame to the last, a pause counted as one step
    gaps: tuple[tuple[float, int], ...]  # (time (s) of the frame after the gap, slots with no frame in it)


def frame_slots(times, container_fps: float) -> Slots | None:
    """The frame slots at `container_fps` that frames at `times` (s) span, a pause counted as one step,
    where every gap short of a pause (`pauses_before`) is within WHOLE of a whole number of frames and
    each gap of several lies among steps of one frame: a constant-rate recording whose frames in
    those gaps never arrived. None where the frames keep no one rate: a phone's variable rate, a
    camera that lowers its rate (its longer steps lie among steps as long), a container that states
    none; their gaps are not frames lost."""
    if times is None or len(times) < 2 or not math.isfinite(container_fps) or not container_fps > 0:
        return None
    steps = np.diff(np.asarray(times, dtype=np.float64)) * container_fps
    kept = ~pauses_before(times)[1:]
    whole = np.rint(steps)
    if not np.all((np.abs(steps - whole) <= WHOLE)[kept] & (whole[kept] >= 1)):
        return None
    several = kept & (whole > 1)
    if several.any() and not np.all(np.abs(local_steps(times)[several] * container_fps - 1.0) <= WHOLE):
        return None
    at = np.flatnonzero(several)
    gaps = tuple((round(float(times[i + 1]), 3), int(whole[i]) - 1) for i in at)
    return Slots(int(len(times) + np.sum(whole[several] - 1)), gaps)


@dataclass(frozen=True)
class Packets:
    """The first video stream's packet timestamps (`packet_table`)."""

    pts: np.ndarray  # sorted; frame i as extraction counts them has the i-th; runs that restart carried on
    base: Fraction  # their time base
    #: the times (s from the first frame, as carried on) of the frames where the clock went back (a
    #: recorder's clock set back, recordings joined byte for byte: `_unwrapped`, `_joined`): from there
    #: on a decoded frame's own timestamp is not its `pts`
    restarts: tuple[float, ...] = ()
    #: in demux order: each packet's timestamp as stamped (a decoded frame's own), as read (carried on),
    #: its byte position (-1 unknown) and whether it is a keyframe: where a reader can start decoding
    #: a file whose own timestamps do not name its frames (`videoad.footage`)
    stamped: np.ndarray | None = None
    read: np.ndarray | None = None
    pos: np.ndarray | None = None
    keys: np.ndarray | None = None

    def times(self) -> np.ndarray:
        """Their times (s) from the first frame's (`packet_times`)."""
        times = self.pts.astype(np.float64) * float(self.base)
        return times - times[0]

    def restart_note(self) -> str | None:
        """One line on the timestamps going back, or None: read as carrying on, so nothing else says it."""
        if not self.restarts:
            return None
        shown = ", ".join(f"{t:.2f} s" for t in self.restarts[:6]) + (
            f" and {len(self.restarts) - 6} more" if len(self.restarts) > 6 else "")
        return (f"its timestamps go back {len(self.restarts)} time(s) (at {shown}: a recorder's clock set back, or "
                "recordings joined end to end): each run read as carrying on from the one before, one frame later; "
                "times after it are the recording's, not its clock's")


def packet_table(path: str) -> Packets | None:
    """The first video stream's packet timestamps (`Packets`); None when the container does not give
    every packet a timestamp. Packets an MP4's edit list hides (frames before its start: B-frames
    from a source with a negative start) are left out, as the decoders leave out their frames."""
    import av

    try:
        with av.open(path) as container:
            stream = main_video_stream(container)
            base = stream.time_base
            bits = wrap_bits(container.format.name)
            stamps, decode, keys, where = [], [], [], []
            for packet in container.demux(stream):
                if packet.size == 0:  # a flush packet, or an AVI slot with no frame in it
                    continue
                if getattr(packet, "is_discard", False):  # before an MP4's edit list starts: decoded, never shown
                    continue
                if packet.pts is None:
                    return None
                stamps.append(packet.pts)
                decode.append(packet.dts)
                keys.append(bool(packet.is_keyframe))
                where.append(-1 if packet.pos is None else packet.pos)
    except Exception:  # noqa: BLE001 - no timestamps: the container's rate stands, as before
        return None
    if len(stamps) < 2 or base is None:
        return None
    raw = np.asarray(stamps, dtype=np.int64)
    dts = None if any(d is None for d in decode) else _unwrapped(np.asarray(decode, dtype=np.int64), bits)
    read = _joined(_unwrapped(raw, bits), base, dts, np.asarray(keys))
    pts = np.sort(read)
    moved = np.flatnonzero(np.diff(read - raw)) + 1  # where, in demux order, the reading parts from the stamps
    restarts = tuple(round(float((read[i] - pts[0]) * base), 3) for i in moved)
    return Packets(pts, base, restarts, raw, read, np.asarray(where, dtype=np.int64), np.asarray(keys))


def packet_pts(path: str):
    """(sorted presentation timestamps of the first video stream's frames, their time base):
    frame i as extraction counts them has the i-th; None when the container does not give
    every packet a timestamp (`packet_table`)."""
    found = packet_table(path)
    return None if found is None else (found.pts, found.base)


#: demuxers whose timestamps are a clock of so many bits that FFmpeg reads as wrapping around
#: (MPEG-TS and MPEG-PS: 33 bits at 90 kHz, 26.5 h; FLV: 32 bits of milliseconds)
WRAP_BITS = {"mpegts": 33, "mpegtsraw": 33, "mpeg": 33, "flv": 32}


def wrap_bits(format_name: str | None) -> int | None:
    """The bits of a container's timestamp clock where FFmpeg corrects its wraparound, else None."""
    return next((WRAP_BITS[n] for n in (format_name or "").split(",") if n in WRAP_BITS), None)


def _unwrapped(stamps: np.ndarray, bits: int | None) -> np.ndarray:
    """Timestamps in demux order with each step of over half the clock's period read the shorter
    way round (as serial numbers are compared, RFC 1982). FFmpeg adds 2**bits to a timestamp more
    than 60 s below the stream's first, taking it for the clock's wraparound: an MPEG-TS recorder's
    clock set back an hour mid-file read as 25.5 h forward (91,843 s), and an event across it as
    91,841 s long. Read as the hour back it was, the new run carries on from the one before
    (`_joined`). A wrap FFmpeg corrected steps one frame and stays as it is, as does every file
    without a step that long."""
    if bits is None or len(stamps) < 2:
        return stamps
    period = 1 << bits
    steps = np.diff(stamps)
    turns = np.where(steps > period // 2, -period, np.where(steps < -(period // 2), period, 0))
    if not turns.any():
        return stamps
    return stamps + np.concatenate([[0], np.cumsum(turns)]).astype(np.int64)


#: a timestamp this far (s) below the highest of its run, in demux order, with the packets after it
#: staying there, starts a new run where the container tells no better (no decoding timestamps,
#: no keyframe flags): far more than most reordering of frames (B-frames: a few frames back)
RESET_S = 2.0
#: packets after a drop that must all stay below it for such a reset (fewer where the file ends first)
RESET_RUN = 8


def _run_starts(stamps: np.ndarray, base, dts: np.ndarray | None = None,
                keys: np.ndarray | None = None) -> list[int]:
    """Where, in demux order, a new run of timestamps begins (a recorder's clock set back, two
    recordings joined byte for byte), by what the container says, not by how far back it goes:
    B-frames put a frame's presentation time up to their reordering depth back (16 B-frames: 1.6 s
    at 10 fps, 4 s at 4 fps), more than a clock corrected by a second. Within one run

    * the decoding timestamps (DTS) only rise, so one going back starts a new run (unless the packet
      after it is back above the one before: one packet's stray stamp); trusted where every packet
      has one and they go back at most once per keyframe (not a muxer that copied the presentation
      times of B-frames into them);
    * a keyframe is shown after every frame decoded before it (closed GOPs and open ones alike), so
      a keyframe at or below the latest presentation time of its run starts a new one;
    * with neither (`dts` and `keys` None, or no trusted DTS and no keyframe flagged), a time over
      `RESET_S` below the highest of its run, the `RESET_RUN` packets after it staying there."""
    n = len(stamps)
    if keys is not None and not np.any(keys[1:]):
        keys = None
    if dts is not None and int(np.sum(np.diff(dts) < 0)) > max(1, int(np.sum(keys)) if keys is not None else 1):
        dts = None
    back = int(round(RESET_S / float(base)))
    starts, top = [], int(stamps[0])
    for i in range(1, n):
        pts = int(stamps[i])
        if dts is not None and dts[i] < dts[i - 1] and not (i + 1 < n and dts[i + 1] > dts[i - 1]):
            new = True
        elif keys is not None and keys[i] and pts <= top:
            new = True
        elif dts is None and keys is None:
            new = pts < top - back and bool(np.all(stamps[i + 1: i + 1 + RESET_RUN] < top - back))
        else:
            new = False
        if new:
            starts.append(i)
            top = pts
        else:
            top = max(top, pts)
    return starts


def _joined(stamps: np.ndarray, base, dts: np.ndarray | None = None, keys: np.ndarray | None = None) -> np.ndarray:
    """Timestamps in demux order with each run that restarts (`_run_starts`) over the times before
    it carried on from where they stood, one typical step later. Sorted as they were, two MPEG-TS
    recordings joined end to end interleaved: 500 frames at 10 fps read as 29.9 s at 16.7 fps,
    every second after the join wrong; a clock set back by a second, 80 frames at 10 fps as 6.7 s.
    A run that starts later than the times before it (a clock set forward) keeps its times."""
    starts = _run_starts(stamps, base, dts, keys)
    if not starts:
        return stamps
    out = stamps.copy()
    for start, end in zip(starts, [*starts[1:], len(stamps)]):
        before = np.sort(out[:start])
        if out[start:end].min() > before[-1]:
            continue
        steps = np.diff(before)
        step = int(np.median(steps[steps > 0])) if np.any(steps > 0) else 1
        out[start:end] += before[-1] + step - out[start:end].min()
    return out


def packet_times(path: str) -> np.ndarray | None:
    """Presentation times (s) of the first video stream's frames, from 0, in presentation
    order; None when the container does not give every packet a timestamp."""
    found = packet_table(path)
    return None if found is None else found.times()


@dataclass(frozen=True)
class Timing:
    """A video whose frames do not keep its container's rate."""

    container_fps: float
    fps: float  # the rate its frames keep on average between pauses (`kept_rate`)
    times: np.ndarray  # each frame's time (s) from the first
    intervals: tuple[float, float, float]  # shortest, median, longest gap between frames (s)
    #: frames the decoder put out late, kept at the time of the one before (`DecodedClock.held`): the
    #: gaps of 0 s before them are no spacing of the recording, and `intervals` leaves them out
    held: int = 0

    def note(self) -> str:
        shortest, median, longest = self.intervals
        pauses = int(np.count_nonzero(pauses_before(self.times)))
        between = f" between its {pauses} pause(s)" if pauses else ""
        # no rate stated (an MPEG-TS of two frames): nothing to be uneven against, its timestamps give the rate
        head = (f"frames unevenly spaced: the container says {self.container_fps:g} fps"
                if math.isfinite(self.container_fps) else "the container states no frame rate")
        return (f"{head}, its {len(self.times)} frames span "
                f"{self.times[-1]:.2f} s ({self.fps:.3g} fps{between}, {shortest:.3g}-{longest:.3g} s apart, median "
                f"{median:.3g} s{self._held_words()}); read at {self.fps:.3g} fps")

    def _held_words(self) -> str:
        if not self.held:
            return ""
        return (f"; {self.held} frame(s) the decoder put out late kept at the time of the one before, "
                "their 0 s gaps left out")

    def attrs(self) -> dict:
        """What the feature store keeps of it (extract.run)."""
        return {"container_fps": float(self.container_fps), "frame_span_s": round(float(self.times[-1]), 6),
                "frame_intervals_s": [round(v, 6) for v in self.intervals]}

    @staticmethod
    def covers_slots(attrs: dict, claimed: int) -> bool:
        """Whether frames of these `attrs` span all `claimed` frame slots of the container's rate:
        then the slots without a frame are ones the camera did not write (tree.avi: 444 slots,
        68 frames from the first to the last), not frames lost to damage."""
        fps, span = attrs.get("container_fps"), attrs.get("frame_span_s")
        if not attrs or fps is None or span is None or not math.isfinite(fps) or claimed < 1:
            return False
        return abs(span * fps + 1 - claimed) <= max(1.0, 0.01 * claimed)


def variable_timing(times: np.ndarray | None, container_fps: float, held=()) -> Timing | None:
    """A `Timing` when some gap between frames strays more than `STRAY` of a frame from the
    container's rate (an MP4 says its average rate), else None. `held`: the indices of frames kept at
    the time of the one before (`DecodedClock.held`): the gaps just before them are left out of the
    intervals (the note said "0-0.3 s apart" of a 10 fps camera whose frames were never 0 s apart)."""
    if times is None or len(times) < 2:
        return None
    gaps = np.diff(times)
    span = float(times[-1])
    if not span > 0:
        return None
    regular = (math.isfinite(container_fps) and container_fps > 0
               and bool(np.all(np.abs(gaps * container_fps - 1.0) <= STRAY)))
    if regular:
        return None
    spaced = gaps
    if len(held):
        keep = np.ones(len(gaps), dtype=bool)
        keep[[i - 1 for i in held if 0 < i <= len(gaps)]] = False
        spaced = gaps[keep] if keep.any() else gaps
    return Timing(float(container_fps), kept_rate(times), times,
                  (float(spaced.min()), float(np.median(spaced)), float(spaced.max())), len(held))


def kept_rate(times: np.ndarray) -> float:
    """The rate frames keep between the pauses in the recording (`pauses_before`): over a recorder's
    clock set an hour forward mid-file (a pause, as a burst camera's), (n - 1) / span read 240 frames at
    10 fps as 0.066 fps, and `detect` refused the file for a rate its clips were never cut at while
    `watch` warned of it; without pauses, (n - 1) / span as before."""
    gaps = np.diff(times)
    paused = pauses_before(times)[1:]
    kept = float(gaps[~paused].sum())
    if not paused.any() or not kept > 0:
        return (len(times) - 1) / float(times[-1])
    return int(np.count_nonzero(~paused)) / kept


class DecodedClock:
    """Each decoded frame's own time (s from the first frame), recorded as PyAV gives the frames, next to
    the times the packets promised (`Packets.times`): frame i as extraction counts them has the i-th
    packet's time only while every packet decodes. A decoder that drops frames without an error (damaged
    data it skips: 225 packets, 215 frames) or puts some out late leaves fewer, or other, frames than
    packets, and from there frame i's time is its own (`drifted`): the frame-rate cap samples by it
    (`extract.clips.resample`), and the store keeps these times (`final`). While no frame has drifted,
    every time here is the packets' own, bit for bit: a file whose packets all decode is read as before.

    A frame with no timestamp of its own (a damaged frame's stand-in, `extract.decode.PyAVFrames`) takes
    the slot after the frame before it, as the packets lay them out; a frame put out later than the one
    before it (the decoder's late frames after damage) is kept at the one before's time, so that the
    times never go back."""

    def __init__(self, packets: "Packets") -> None:
        self.base = float(packets.base)
        self.pts = packets.pts
        self.planned = packets.times()  # sorted, from the first packet's (the first decoded frame's: `_rebase`)
        self.origin = float(packets.pts[0]) * self.base  # as `Packets.times` computes it
        steps = np.diff(self.planned)
        self.step = float(np.median(steps[steps > 0])) if np.any(steps > 0) else 0.0
        self.times: list[float] = []
        self.drifted_at: int | None = None  # the first frame whose time is not its packet's
        self.held: list[int] = []  # the frames put out later than the one before, kept at its time
        self._slot = -1  # the packet slot of the latest frame
        self._planned_pauses: np.ndarray | None = None

    @property
    def drifted(self) -> bool:
        return self.drifted_at is not None

    def add(self, pts) -> None:
        """The next decoded frame's timestamp (in the stream's time base; None for a stand-in)."""
        i = len(self.times)
        if pts is None:
            t = self.forecast(i)
        else:
            if i == 0 and float(pts) * self.base != self.origin:  # the first packets gave no frame
                self._rebase(pts)
            t = float(pts) * self.base - self.origin
        if self.times and t < self.times[-1]:
            t = self.times[-1]
            self.held.append(i)
        self.times.append(t)
        if pts is not None:
            at = int(np.searchsorted(self.planned, t))
            self._slot = at if at < len(self.planned) and self.planned[at] == t else self._slot + 1
        else:
            self._slot += 1
        if self.drifted_at is None and (i >= len(self.planned) or t != self.planned[i]):
            self.drifted_at = i

    def _rebase(self, pts) -> None:
        """The first frame came from a later packet than the first (the packets before its keyframe gave
        none: a segment cut mid-GOP, `extract.decode.PyAVFrames.leading_lost`): times count from it, and so
        do the packets' slots, frame i taking packet k + i's. With the slots still counted from the first
        packet, a stand-in after such a loss took the slot of a packet k earlier, whose step differs where
        frames do not keep one rate (0.2 s off in a camera that skips two slots every eighth frame), and
        the frame after it was held at that time. Where the packets after the loss do not keep the steps
        of those from the first (times told before decoding: `Timing.times`), every frame has drifted."""
        self.origin = float(pts) * self.base
        k = int(np.searchsorted(self.pts, pts))
        if k >= len(self.pts) or self.pts[k] != pts:  # not a packet's timestamp: no slots to go by
            self.planned, self.drifted_at = np.zeros(0), 0
            return
        kept = self.pts[k:]
        if not np.array_equal(kept - kept[0], self.pts[:len(kept)] - self.pts[0]):
            self.drifted_at = 0
        self.planned = kept.astype(np.float64) * self.base - self.origin  # as `Packets.times` computes them
        self._planned_pauses = None

    def forecast(self, i: int) -> float:
        """Frame i's time: its own when decoded, else the packets' slots after the latest frame's."""
        if i < len(self.times):
            return self.times[i]
        if self.drifted_at is None and i < len(self.planned):
            return float(self.planned[i])
        ahead = i - len(self.times) + 1
        last = self.times[-1] if self.times else 0.0
        slot = self._slot + ahead
        if 0 <= slot < len(self.planned):
            return max(float(self.planned[slot]), last)
        return last + ahead * self.step

    def paused(self, i: int) -> bool:
        """Whether a pause in the recording lies just before frame i (`pauses_before`), by the times known
        and forecast around it: the packets' own while no frame has drifted."""
        if i <= 0:
            return False
        if self.drifted_at is None or i + PAUSE_WINDOW < self.drifted_at:
            if self._planned_pauses is None:
                self._planned_pauses = pauses_before(self.planned)
            if i < len(self._planned_pauses):
                return bool(self._planned_pauses[i])
        lo, hi = max(0, i - 1 - PAUSE_WINDOW), i + PAUSE_WINDOW + 1
        window = np.array([self.forecast(k) for k in range(lo, hi + 1)])
        return bool(pauses_before(window)[i - lo]) if len(window) > 1 else False

    def window(self, first: int, last: int) -> np.ndarray:
        """The times of frames `first`..`last` (known or forecast)."""
        return np.array([self.forecast(k) for k in range(first, last + 1)], dtype=np.float64)

    def final(self, count: int) -> np.ndarray | None:
        """The decoded frames' times once all `count` are read, or None where they are the packets'
        (every packet gave its frame: the times the run has kept all along)."""
        if self.drifted_at is None and count == len(self.planned):
            return None
        return np.asarray(self.times[:count], dtype=np.float64)
