"""The two threads of a source: the reader (decode, stamp arrival times, a bounded frame queue) and
the scorer (clips, features, scores, events, dropping clips that fall too far behind a live source)."""
from __future__ import annotations

import copy
import itertools
import logging
import math
import queue
import threading
import time
from collections import deque
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Iterator

import numpy as np

from extract.clips import MAX_PLAUSIBLE_FPS
from extract.decode import StreamAddressError
from extract.sources import names_shown
from extract.store import write_atomic
from videoad import coverage
from videoad.events import (Event, EventTracker, cell_names, clock_times, event_name, fmt_score, json_number,
                            where_words)
from videoad.live.model import WatchError, WatchModel, frame_rate_mismatch, frame_shape_mismatch
from videoad.live.outputs import WATCHED_FILE, OutputError, Recorder, SourceStats, WatchOptions, _iso, _r
from videoad.live.sources import Feed, FileSource, Source
from videoad.names import file_stems
from videoad.scores import FrameClock
from videoad.smoothing import ScoreSmoother, step_seconds

log = logging.getLogger(__name__)


#: the peak-frame JPEG is at most this wide (the frame is kept at this size while its clip waits)
IMAGE_WIDTH = 640
#: ... and at least this wide (a 160x120 frame is enlarged, so that the picture and its caption read)
MIN_IMAGE_WIDTH = 480
#: digits of an event's number in its id, picture file and picture title (E0001, `events.event_name`):
#: 4, not the batch report's 3, as a watch numbers on through a source's files for days, and the ids
#: already recorded (and sent to hooks, kept in watched.jsonl to recognise an event scored again) say E0001
EVENT_DIGITS = 4


_STOP = ("stop",)
#: a `close` record's `closed_by` where a pause in a file's recording ended the event (`EventTracker`)
PAUSED = "pause in the recording"


class _Arrivals:
    """Arrival times of the latest frames, by frame index (a ring: nothing kept per frame)."""

    def __init__(self, size: int):
        self._times: deque = deque(maxlen=size)
        self._first = 0  # frame index of _times[0]

    def add(self, index: int, t: float) -> None:
        if not self._times or index != self._first + len(self._times):  # the first, or a new video
            self._times.clear()
            self._first = index
        elif len(self._times) == self._times.maxlen:
            self._first += 1
        self._times.append(t)

    def at(self, index: int) -> float | None:
        k = index - self._first
        return self._times[k] if 0 <= k < len(self._times) else None


#: a live session's latest frame times kept for the pause rule (`_Scorer._live_pauses`): more than a clip spans
#: at a capped frame rate, with the frames queued after it
LIVE_TIMES = 4096

#: a megabyte of `frame_queue_mb`, as the frame sizes are said (a 4K frame: 24.9 MB)
MB = 1_000_000
#: frames a source's queue always lets in, whatever their bytes: a frame larger than the cap still
#: passes, and the reader decodes the next while the scorer takes this one
MIN_QUEUED_FRAMES = 2


class FrameQueue:
    """A source's messages from its reader to its scorer, bounded by count and by the bytes of
    the frames queued (`videoad watch --frame-queue-mb`): 64 frames of 4K video are 1.6 GB, so a
    count alone let 16 cameras outgrow the machine. A frame waits while the queued frames' bytes
    and its own would pass `max_bytes`, unless fewer than MIN_QUEUED_FRAMES are queued, so the
    queue never stalls and holds at most max(max_bytes, two frames); other messages count no
    bytes. `put` and `get` take a timeout and raise `queue.Full` / `queue.Empty`, as
    `queue.Queue`'s do (the reader and the scorer wait in steps of 0.2 s to see a stop)."""

    def __init__(self, maxsize: int, max_bytes: int):
        self.maxsize, self.max_bytes = max(MIN_QUEUED_FRAMES, int(maxsize)), int(max_bytes)
        self.bytes = 0  # of the frames queued now
        self._items: deque = deque()  # (message, its bytes)
        self._frames = 0
        self._changed = threading.Condition()

    @staticmethod
    def _size(item) -> int:
        return int(getattr(item[1], "nbytes", 0)) if item[0] == "frame" else 0

    def _room(self, size: int) -> bool:
        if len(self._items) >= self.maxsize:
            return False
        return not size or self._frames < MIN_QUEUED_FRAMES or self.bytes + size <= self.max_bytes

    def put(self, item, timeout: float | None = None) -> None:
        size = self._size(item)
        with self._changed:
            if not self._changed.wait_for(lambda: self._room(size), timeout):
                raise queue.Full
            self._items.append((item, size))
            self.bytes += size
            self._frames += item[0] == "frame"
            self._changed.notify_all()

    def get(self, timeout: float | None = None):
        with self._changed:
            if not self._changed.wait_for(lambda: self._items, timeout):
                raise queue.Empty
            item, size = self._items.popleft()
            self.bytes -= size
            self._frames -= item[0] == "frame"
            self._changed.notify_all()
            return item

    def qsize(self) -> int:
        with self._changed:
            return len(self._items)

    def empty(self) -> bool:
        return not self.qsize()


def _reader(source: Source, q: queue.Queue | FrameQueue, stop: threading.Event, options: WatchOptions) -> None:
    """Decode every feed of `source` into `q`; reopen streams that drop, with backoff."""

    def put(item) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    try:
        for feed in source.feeds(stop):
            if not put(("video", feed)):
                break
            _read_feed(feed, put, stop, options)
            if stop.is_set():
                break
    except Exception as exc:  # noqa: BLE001 - a folder that vanished, a bug: the scorer says so
        log.exception("reader of %s failed", source.name)
        put(("lost", f"reading failed: {type(exc).__name__}: {exc}"))
    put(("done",))


def _read_feed(feed: Feed, put, stop: threading.Event, options: WatchOptions) -> None:
    """One feed's sessions: open, decode, and for a stream reopen after each drop, waiting
    `backoff_s` doubled per failed attempt; give up (a `lost` message) after `retries` + 1
    failed opens in a row. With `retries` 0 a stream is not reopened at all: a clean end of
    stream ends it, an error loses it."""
    failures = 0  # failed opens in a row (a session without a single frame counts as one)
    dropped_at: float | None = None
    why = ""

    def backoff() -> float:  # the exponent capped: 2 ** 1024 failures (8.5 h at 30 s) is no float
        return min(options.backoff_s * 2.0 ** min(max(0, failures - 1), 40), options.backoff_max_s)

    while not stop.is_set():
        try:
            stream = feed.open()
        except Exception as exc:  # noqa: BLE001 - each library raises its own types
            why = _error_text(exc, feed)
            if not feed.reconnect:  # a file this process may not read: tried again by the next start
                put(("failed", feed.name, f"cannot be read: {why}", isinstance(exc, PermissionError)))
                return
            if isinstance(exc, StreamAddressError):  # retrying for ever would never open it, in silence
                put(("lost", f"{why}; not retried"))
                return
            failures += 1
            if options.retries is not None and failures > options.retries:
                put(("lost", f"gave up after {failures} failed attempt(s) in a row to open it: {why}"))
                return
            dropped_at = dropped_at or time.time()
            log.warning("%s: cannot open it (%s); trying again in %.1f s", feed.name, why, backoff())
            put(("down", dropped_at, why, failures))  # the summary and the progress line say it is down now
            stop.wait(backoff())
            continue
        if dropped_at is not None:
            put(("gap", dropped_at, time.time(), why, failures))
            dropped_at = None
        timing = getattr(stream, "timing", None)
        reader = getattr(stream, "reader", None)
        frames, ahead, why = iter(stream.frames), [], "end of stream"
        stamp = getattr(stream, "frame_time", None)  # the stream's own time of each frame (PyAV's pts), if any
        if not feed.reconnect:  # a file's first frame decoded before its session: what a segment cut mid-GOP
            try:  # lost before it moves its recording start (extract.clock), as extraction's does
                ahead.append(next(frames))
            except StopIteration:
                pass
            except Exception as exc:  # noqa: BLE001 - said as a failure in the loop below is
                why, frames = _error_text(exc, feed), iter(())
        put(("session", stream.fps, stream.backend, None if timing is None else timing.times,
             None if reader is None else reader.metadata, bool(getattr(stream, "rate_guessed", False)),
             float(getattr(stream, "leading_seconds", None) or getattr(reader, "leading_seconds", 0.0) or 0.0),
             getattr(stream, "rate_note", None)))
        fps = stream.fps if stream.fps and math.isfinite(stream.fps) and stream.fps > 0 else None
        n, t0, last = 0, None, None
        # seconds of this session the reader spent in `put` rather than reading: a full queue (the scorer
        # behind) holds it there while the camera's frames wait in the stream's buffers. Each frame is
        # sent with its arrival less these (its `read` time), so that wait is no gap in the times a stream
        # timed by arrival pauses by (`_Scorer._live_time`); the camera stalling still is one
        held = 0.0
        try:
            for frame in itertools.chain(ahead, frames):
                now = time.time()
                if feed.realtime and fps:
                    t0 = now if t0 is None else t0
                    wait = t0 + n / fps - now
                    if wait > 0:
                        if stop.wait(wait):
                            break
                        now = time.time()
                n, last = n + 1, now  # the last frame's arrival: where an outage after it begins
                if not put(("frame", frame, now, stamp() if stamp is not None else None, now - held)):
                    break
                held += time.time() - now
        except Exception as exc:  # noqa: BLE001
            why = _error_text(exc, feed)
        finally:
            try:
                stream.close()
            except Exception:  # noqa: BLE001
                pass
        damage = stream.damage_note() if hasattr(stream, "damage_note") else None
        if damage:  # frames filled in for damaged packets (extract.decode.PyAVFrames)
            put(("warning", damage))
        missing = stream.missing_note() if hasattr(stream, "missing_note") else None
        if missing:  # frames of a constant-rate recording that never arrived (extract.decode), as extraction warns
            put(("warning", missing))
        leading = stream.start_note() if hasattr(stream, "start_note") else None
        if leading:  # a segment cut mid-GOP: its first frames lost (extract.decode), as extraction warns
            put(("warning", leading))
        restarted = getattr(stream, "restart_note", None)
        if restarted:  # its timestamps go back (a clock set back, recordings joined: extract.timing), as extraction says
            put(("warning", restarted))
        resized = stream.size_note() if hasattr(stream, "size_note") else None
        if resized:  # the picture changed size part-way: resized to the first frame's, as extraction says
            put(("warning", resized))
        put(("session_end", why, n))
        if not feed.reconnect and why != "end of stream" and not stop.is_set():
            put(("failed", feed.name, f"stopped after {n} frame(s): {why}"))  # a file that breaks partway
            return
        if stop.is_set() or not feed.reconnect:
            return
        if options.retries == 0:
            if why != "end of stream":
                put(("lost", f"{why} (not reopened: --retries 0)"))
            return
        dropped_at = last or time.time()  # the outage began when the last frame came, not when a read gave up
        failures = 0 if n else failures + 1
        if options.retries is not None and failures > options.retries:
            put(("lost", f"{why}; it opened {failures} time(s) in a row without a frame"))
            return
        if failures:  # it opened but gave no frame: down as a failed open is
            put(("down", dropped_at, why, failures))
        stop.wait(backoff() if failures else options.backoff_s)


def _error_text(exc: BaseException, feed: Feed | None = None) -> str:
    """The exception in one line, with the feed's address shown without its password (the
    libraries quote the URL as given)."""
    text = (str(exc).strip().splitlines() or [""])[-1]
    if "Immediate exit requested" in text:  # PyAV's read timeout, in FFmpeg's words
        return "no data within the read timeout (--timeout): the stream stalled"
    text = names_shown(f"{type(exc).__name__}: {text}" if text else type(exc).__name__)  # `caf\\xe9.avi`, as shown
    return feed.mask(text) if feed is not None else text


#: sampled frames of a video or stream after which its share of repeated frames is compared with the
#: models' footage (`_check_repeats`; 10 s at the motion backbone's 10 fps)
REPEAT_CHECK_FRAMES = 100
#: a live stream reporting more frames per second than this reports a clock, not its rate (RTSP's
#: 90 kHz): its rate is read from its frames' arrival over the first ARRIVAL_FRAMES frames instead
MAX_STREAM_FPS = MAX_PLAUSIBLE_FPS
ARRIVAL_FRAMES = 30
#: ... and the fewest it is timed by where those frames would pass the source's byte cap (large frames)
ARRIVAL_MIN_FRAMES = 10
#: a live stream whose rate is FFmpeg's guess keeps it unless its frames arrive slower by more than
#: this share (arrival over 30 frames wavers by a few percent; a wrong guess, MJPEG's 25 for a 15 fps
#: camera, is 40% off; arriving faster is the probe's buffered burst, so it never overrides)
GUESS_AGREES = 0.15
#: frames a view's picture is made of (`_View`), at a video's start and after each scene cut: the
#: picture `videoad.live.camera` tells a per-camera source's camera by (CAMERA_FRAMES)
VIEW_FRAMES = 48
#: ... and the fewest a video that ends sooner is still told by
VIEW_MIN_FRAMES = 12


class _View:
    """The picture of what a source shows from one frame on (its start, or a scene cut), to tell
    whether it is one of the views the models' history shows (`WatchModel.views`)."""

    def __init__(self, frame: int, why: str) -> None:
        from extract.scene import SceneSampler

        self.frame, self.why = int(frame), why
        self.sampler, self.size, self.left = SceneSampler(), None, VIEW_FRAMES

    def add(self, image: np.ndarray) -> bool:
        """Sample one frame; True once the picture has its VIEW_FRAMES."""
        self.sampler.add(image)
        self.size = self.size or [int(image.shape[0]), int(image.shape[1])]
        self.left -= 1
        return self.left <= 0


class _Scorer:
    """A source's scoring thread: frames -> clips -> features -> scores -> events -> records."""

    def __init__(self, source: Source, wm, q: queue.Queue | FrameQueue, stop: threading.Event, recorder: Recorder,
                 options: WatchOptions, score_lock: threading.Lock, slug: str | None = None):
        """`wm`: the source's WatchModel, or a `videoad.live.camera.CameraModels` that tells each of
        its videos' camera as it begins (a folder of several cameras' files). `slug`: the source's
        part of its event ids and image names (`videoad.names.file_stems` over all sources, so that
        `cam 1` and `cam_1` do not share ids)."""
        self.source, self.q, self.stop = source, q, stop
        self.recorder, self.options, self.score_lock = recorder, options, score_lock
        self.cameras = None if isinstance(wm, WatchModel) else wm
        self.wm: WatchModel | None = None
        self.skipping: str | None = None  # why the current video is not scored (its camera unknown)
        self._camera: dict | None = None  # the camera told for the current video, for its record
        self.stats = SourceStats(source.name)
        self.slug = slug or file_stems([source.name], empty="source")[source.name]
        self.run_stamp = recorder.run_stamp  # ids stay unique when events.jsonl is appended to
        self.numbered = 0  # events of the source's earlier videos
        # the current folder file's events an earlier watch into OUT recorded ({start frame: id}): not raised again
        self._before: dict[int, str] = {}
        # the current folder file grown since it was scored to its end: its record's `grown_from`, and the
        # frames it had then (its events starting before are marked `rescored`; math.inf where not known)
        self._grown: dict | None = None
        self._rescored_below: float = 0
        self.feed: Feed | None = None
        self.tracker: EventTracker | None = None
        self.smoother: ScoreSmoother | None = None  # the model's smoothing in time, per video
        self.fps: float | None = None
        self.frame_offset = self.clip_offset = 0
        self.arrivals = _Arrivals(4096)  # covers a clip even when --fps resampling spreads it out
        self.pending: list[tuple] = []
        self.stash: dict = {}
        self.cell_sample: deque = deque(maxlen=max(1, options.cell_sample))
        self.region = (0.0, 0.0, 1.0, 1.0)
        self._dropped_since, self._warned_at = 0, time.time()
        self._coverage_warned: set[str] = set()
        self._busier_warned: set[str] = set()
        self._levels: deque = deque()  # the current video's latest clips' activity (videoad.coverage; `_use` sizes it)
        # the same, for models fitted per level of activity: which level scores the next clip (kept across them)
        self._level_window: deque = deque(maxlen=coverage.WINDOW)
        self._repeats_checked = False  # the current video's share of repeated frames compared (once)
        self._shape: tuple[int, int] | None = None  # the latest clip's frame shape (a camera switch is checked on it)
        self._view: _View | None = None  # the view being pictured: at a video's start, after a cut
        self._clock: datetime | None = None  # the current file's recording start, when it says (extract.clock)
        self._frame_clock: FrameClock | None = None  # the current file's frame times (no one rate), else None
        self._pause_times = None  # the times the backbone reads the current session's pauses from
        #: a live session's frames' times for the pause rule (`_live_pauses`), from its first frame; None
        #: where the session is not live (a file's own times stand) or its clock is not chosen yet
        self._live_times: deque | None = None
        self._live_from = 0  # the frame index of `_live_times[0]`
        self._live_clock: str | None = None  # "stamps" or "arrival", chosen at the session's first frame
        self._live_guessed = False  # the session's rate is FFmpeg's guess: its stamps are too
        self._ending = None
        self._read_whole = False  # the current file was read to its end (a folder's: OUT/watched.jsonl)
        self._decided_at: float | None = None  # arrival of the last frame of the clip being fed
        self.done = threading.Event()
        if self.cameras is None:
            self._use(wm)

    def _use(self, wm: WatchModel, keep_backbone: bool = False) -> None:
        """Score with `wm` from the next video on (`keep_backbone`: from the next clip on, the
        stream's backbone and its caches kept: the other level of a pair, extracted alike)."""
        if wm is self.wm:
            return
        self.wm = wm
        if not keep_backbone:
            self.backbone = copy.copy(wm.backbone)  # its own caches (motion's frame pairs), shared weights
        self.cell_sample.clear()  # another camera's cells are not this one's typical level
        # cells the models' history never showed moving (videoad.coverage), warned of once per video
        self._still = list(wm.model.info.get("history_still_cells") or [])
        self._coverage_attrs = {"backbone": wm.extraction.get("backbone"), "backbone_options": wm.extraction.get("options")}
        self._peak = wm.model.info.get("history_activity_peak")  # the history's busiest clip
        self._levels = deque(maxlen=coverage.WINDOW)  # another model's history: its window starts anew

    # -- the loop -----------------------------------------------------------------------------
    def run(self) -> None:
        import cv2

        cv2.setNumThreads(1)  # as extraction's workers do: the same flow, the same features
        try:
            msg = self._get()
            while msg[0] not in ("done", "stop"):
                kind = msg[0]
                if kind == "video":
                    self._begin_video(msg[1])
                elif kind == "session" and self.skipping is not None:
                    msg = self._skip_session()
                    continue
                elif kind == "session":
                    msg = self._session(*msg[1:])
                    continue
                elif kind == "session_end":
                    self._session_end(*msg[1:])
                elif kind == "gap":
                    self._gap(*msg[1:])
                elif kind == "down":  # a stream that cannot be reopened (yet): its `gap` record comes when it is back
                    since, why, attempts = msg[1:]
                    self.stats.down = (f"down since {_iso(since)}, {attempts} failed attempt(s) in a row to "
                                       f"reopen it: {why}")
                elif kind == "warning":  # what the reader noticed in the frames: damage, a change of size
                    log.warning("%s: %s", self.feed.name if self.feed else self.source.name, msg[1])
                    self.recorder.record({"type": "warning", "source": self.source.name,
                                          "video": self.feed.name if self.feed else None, "warning": msg[1],
                                          "at": _iso(time.time())})
                elif kind == "failed":
                    self.stats.failed += 1
                    denied = len(msg) > 3 and msg[3] and self.feed is not None and self.feed.key is not None
                    reason = msg[2] + (f"; not listed in {WATCHED_FILE}: the next watch into this output tries "
                                       "it again" if denied else "")
                    self.recorder.record({"type": "failed", "source": self.source.name, "video": msg[1],
                                          "reason": reason, "at": _iso(time.time())}, hook=True)
                    if self.feed is not None and self.feed.key is not None and not denied:  # events closed at session_end
                        self.recorder.watched(self.feed.key, "failed")
                    if isinstance(self.source, FileSource):
                        self.stats.lost = msg[2]
                elif kind == "lost":
                    self.stats.down = ""  # the `lost` reason says it
                    self._finish("source lost")
                    self.stats.lost = msg[1]
                    self.recorder.record({"type": "lost", "source": self.source.name, "reason": msg[1],
                                          "at": _iso(time.time())}, hook=True)
                msg = self._get()
            self._finish("stopped" if msg[0] == "stop" else "end of stream")
            self.stats.ended = "stopped" if msg[0] == "stop" else "lost" if self.stats.lost else "ended"
        except Exception as exc:  # noqa: BLE001 - the run says why this source stopped
            if isinstance(exc, OutputError):  # OUT's disk full, or made read-only: said in one line
                log.error("%s stopped: %s", self.source.name, exc)
                self.stats.lost = str(exc)
            elif isinstance(exc, WatchError):  # a known refusal, said in full: no traceback
                log.error("scoring %s failed: %s", self.source.name, exc)
                self.stats.lost = f"scoring failed: {exc}"
            else:
                log.exception("scoring %s failed", self.source.name)
                self.stats.lost = f"scoring failed: {type(exc).__name__}: {exc}"
            try:  # the write that failed may fail again: the thread ended with a second traceback
                self.recorder.record({"type": "lost", "source": self.source.name, "reason": self.stats.lost,
                                      "at": _iso(time.time())}, hook=True)
            except OutputError:
                pass
        finally:
            self.stop.set()  # its reader stops too
            self.done.set()

    def _get(self):
        while True:
            if self.stop.is_set():
                return _STOP
            try:
                return self.q.get(timeout=0.2)
            except queue.Empty:
                continue

    def _begin_video(self, feed: Feed) -> None:
        self._finish("end of video")
        self._read_whole = False
        self.stats.live = feed.live
        if self.tracker is not None:
            self.numbered = self.tracker.n_events
        self.feed = feed
        self._before = self.recorder.file_begun(self.source.name, feed.key) if feed.key is not None else {}
        self._grown, self._rescored_below = None, 0
        if feed.key is not None and feed.grown_from is not None:  # scored to its end before, at a smaller size
            scored, frames = self.recorder.scored_frames(feed.key[0], feed.key[1], *feed.grown_from)
            if scored:
                self._grown = {"file_size": feed.grown_from[0], "file_mtime_ns": feed.grown_from[1], "frames": frames}
                self._rescored_below = math.inf if frames is None else frames
        self.fps = None
        self.frame_offset = self.clip_offset = 0
        self.tracker = None
        self.smoother = None
        self.skipping, self._camera = None, None
        self._repeats_checked = False
        self._levels.clear()  # the busier-than-history window is one video's
        self._level_window.clear()  # and so is the level's: a new file decides its own from its first clips
        if self.cameras is not None:  # the model of the camera this video shows
            wm, name, sim = self.cameras.for_feed(feed)
            if wm is None:
                self.skipping = name
                return
            self._use(wm)
            self._camera = {"camera": name, "scene_correlation": _r(sim, 3)}
        self.backbone.start_video()  # its caches and the cuts it found belong to one video

    def _skip_session(self):
        """A video whose camera is unknown: its frames are read and dropped, and a `skipped` record
        says why (once per video, when its frames arrive: a file that cannot be opened is the
        reader's to report, as `failed`)."""
        msg = self._get()
        while msg[0] == "frame":
            msg = self._get()
        if self.skipping:
            self.stats.unknown_camera += 1
            log.warning("%s: not scored: %s", self.feed.name, self.skipping)
            self.recorder.record({"type": "skipped", "source": self.source.name, "video": self.feed.name,
                                  "reason": self.skipping, "at": _iso(time.time())}, hook=True)
            self.skipping = ""
        return msg

    def _session(self, fps: float, backend: str, times=None, metadata: dict | None = None, guessed: bool = False,
                 leading_s: float = 0.0, raw_note: str | None = None):
        """Frames until the session ends -> clips -> scores; returns the message that ended it.
        `times`: the frames' own times when a file's frames do not keep one rate (extract.timing),
        sampled by them as extraction does. `metadata`: the container's tags, where a file's
        recording start may be (extract.clock). `guessed`: `fps` is FFmpeg's guess, not the
        stream's (a live one is then timed by its frames' arrival, the guess kept when they agree).
        `leading_s`: the seconds of a file's first frames its decoder lost (a segment cut mid-GOP),
        by which its frame 0 is after its recording start. `raw_note`: where a raw H.264/HEVC file's rate
        came from (extract.decode.raw_rate), warned of where it was assumed."""
        from extract.clips import iter_clips
        from extract.clock import clock_after, recording_start, unset_clock

        fps = fps if fps and math.isfinite(fps) and fps > 0 else None
        early: deque = deque()  # messages read ahead to time the frames' arrival
        # a raw stream's file that states no rate: read at one assumed, said once per file (extract warns so)
        rate_note = raw_note if raw_note and guessed and not self.feed.reconnect else None
        if self.feed.reconnect and (fps is None or fps > MAX_STREAM_FPS or guessed):
            # an RTSP camera may report its 90 kHz clock as its rate: cut at that, no clip would form;
            # an MJPEG camera over HTTP states none, and FFmpeg's guess (25) cut a 15 fps one as if
            # at 6 fps: seconds 0.6x, and every normal clip read as fast motion
            measured, early = self._arrival_rate()
            if guessed and fps is not None and measured and measured >= fps * (1.0 - GUESS_AGREES):
                # the guess holds: frames no slower than it (faster is the burst of frames buffered
                # while FFmpeg probed the stream, not the camera's rate), no note
                pass
            else:
                said = ("no frame rate" if fps is None else
                        f"no frame rate (FFmpeg guesses {fps:g})" if guessed else f"{fps:g} frames/s")
                rate_note = (f"the stream reports {said}; "
                             + (f"its frames arrive at {measured:.3g}/s, the rate used" if measured else
                                "too few frames arrived to time them: taken as unknown"))
                log.warning("%s: %s", self.feed.name, rate_note)
                fps = measured
        # a file whose frames keep no one rate: its events' seconds from each frame's time, as detect's
        self._frame_clock = FrameClock(times, fps) if times is not None and len(times) >= 2 else None
        self._pause_times = times if self.frame_offset == 0 else None  # sources count from the file's frame 0
        self.backbone.frame_times(self._pause_times)  # pairs across a pause left out, as extraction leaves them
        # a live stream has no file's times: its frames' own, as they come (`_live_pauses`); a file played
        # in real time keeps the file's, as extraction reads it
        live = self.feed.live and not self.feed.realtime and times is None
        self._live_times = deque(maxlen=LIVE_TIMES) if live else None
        self._live_from, self._live_clock = self.frame_offset, None
        self._live_guessed = guessed
        if self.tracker is None:
            self.fps = fps
            # a file's recording start (its name, else its creation_time tag): its events' clock times,
            # as `videoad detect` gives them; a live stream's are its arrival times (`*_at`)
            start = None if self.feed.reconnect else recording_start(self.feed.name, metadata)[0]
            unset = None if start or self.feed.reconnect else unset_clock(self.feed.name, metadata)
            self._clock = datetime.fromisoformat(start) if start else None
            if self._clock is not None and leading_s > 0:  # frame 0 that much after it (extraction's workers)
                self._clock = datetime.fromisoformat(clock_after(self._clock, leading_s, "exact"))
            self._new_rules(self.numbered)  # a folder's files number on
            record = {"type": "video", "source": self.source.name, "video": self.feed.name,
                      "fps": fps, "decoder": backend, "live": self.feed.live, "at": _iso(time.time())}
            if self._camera is not None:
                record.update(self._camera, group=self.wm.group,
                              threshold=json_number("threshold", self.wm.alarm_line(self.options.smooth)))
            if self.feed.key is not None:  # a folder's file, as watched.jsonl names it: a restart finds its events
                record.update(folder=self.feed.key[0], file_size=self.feed.key[2], file_mtime_ns=self.feed.key[3])
                if self._before:
                    record["recorded_before"] = [{"id": i, "start_frame": f} for f, i in sorted(self._before.items())]
                if self._grown is not None:  # scored again from its start: its events in that part are `rescored`
                    record["grown_from"] = self._grown
            problem = "; ".join(filter(None, [rate_note, frame_rate_mismatch(self.wm.extraction, fps), unset]))
            if problem:
                log.warning("%s: %s", self.feed.name, problem)
                record["warning"] = problem
            self.recorder.record(record)
        self._ending = None
        offset = self.frame_offset
        if self.wm.views:  # what this session shows: at a video's start, or a stream come back after a gap
            self._view = _View(offset, "start" if offset == 0 else "reconnect")
        spec = self.wm.spec
        n_clips = 0
        frames_in = 0

        def frames() -> Iterator[np.ndarray]:
            nonlocal frames_in
            while True:
                if early:
                    msg = early.popleft()
                else:
                    if self.pending and self.q.empty():
                        self._score_pending()  # caught up with the source: score now, for the lowest lag
                    msg = self._get()
                if msg[0] != "frame":
                    self._ending = msg
                    return
                self.arrivals.add(offset + frames_in, msg[2])
                if self._live_times is not None:
                    self._live_time(offset + frames_in, msg)
                frames_in += 1
                self.stats.frames += 1
                if self._view is not None and self._view.add(msg[1]):
                    self._check_view()
                yield msg[1]

        for clip in iter_clips(frames(), spec, fps if fps else math.nan, prepare=self.backbone.prepare_frame,
                               times=times if offset == 0 else None):
            n_clips = clip.index + 1
            self._clip(clip, offset)
        self._score_pending()
        self.frame_offset += frames_in
        self.clip_offset += n_clips
        return self._ending or _STOP

    def _live_time(self, index: int, msg: tuple) -> None:
        """Keep frame `index`'s time for the pause rule: the stream's stamp (PyAV's pts: an RTSP camera's
        clock, a capture device's) where the session's first frame has one and the rate is the stream's own
        (FFmpeg stamps a stream that states none at its guessed rate, so a stall leaves no gap in them),
        else its arrival less the time the reader waited on a full queue before it (the message's `read`
        time, `_read_feed`): the watch falling behind is not the camera stalling."""
        stamped = msg[3] if len(msg) > 3 else None
        if self._live_clock is None:
            self._live_clock = "stamps" if stamped is not None and not self._live_guessed else "arrival"
        if len(self._live_times) == self._live_times.maxlen:
            self._live_from += 1
        if not self._live_times:
            self._live_from = index
        t = (msg[4] if len(msg) > 4 else msg[2]) if self._live_clock == "arrival" else stamped
        self._live_times.append(math.nan if t is None else float(t))

    def _live_pauses(self, sources: list[int]) -> None:
        """Before a live clip: the backbone's pauses (extract.timing.pauses_before, the rule and threshold
        extraction applies to a file's times) from the session's frame times around the clip's frames,
        PAUSE_WINDOW steps each side where they have come. A live stream that stalls and resumes (for less
        than --timeout: no reconnection) read the pair across the stall as motion."""
        import warnings

        from extract.timing import PAUSE_WINDOW

        start = max(self._live_from, sources[0] - PAUSE_WINDOW - 1)
        end = min(self._live_from + len(self._live_times), sources[-1] + PAUSE_WINDOW + 2)
        times = np.array([self._live_times[i - self._live_from] for i in range(start, end)])
        with warnings.catch_warnings():  # frames without a stamp (damage's stand-ins): no pause told there
            warnings.simplefilter("ignore", RuntimeWarning)
            self.backbone.frame_times(times, first=start)

    def _arrival_rate(self) -> tuple[float | None, deque]:
        """The frames' arrival rate over the session's first `ARRIVAL_FRAMES` frames (None when
        fewer than 5 came before the session ended), and the messages read to time them. The frames
        read ahead are held beside the queue, so they stop at the queue's byte cap once
        `ARRIVAL_MIN_FRAMES` are in: 30 frames of a 4K camera are 750 MB a source at each connection."""
        read: deque = deque()
        times = []
        held, cap = 0, self.options.frame_queue_mb * MB
        while len(times) < ARRIVAL_FRAMES and (held < cap or len(times) < ARRIVAL_MIN_FRAMES):
            msg = self._get()
            read.append(msg)
            if msg[0] != "frame":
                break
            times.append(msg[2])
            held += int(getattr(msg[1], "nbytes", 0))
        span = times[-1] - times[0] if len(times) >= 5 else 0.0
        return ((len(times) - 1) / span if span > 0 else None), read

    def _session_end(self, why: str, n: int) -> None:
        if self.stop.is_set() or self.feed is None:
            return
        # read to its end and scored (a file of no known camera was read and dropped: not "watched")
        self._read_whole = not self.feed.reconnect and why == "end of stream" and self.skipping is None
        if self._read_whole and self.feed.key is not None:  # a folder's file: its events close now, not
            self._finish("end of video")  # when the next file arrives (which may be an hour away)
            return
        if self.feed.reconnect or why != "end of stream":
            # a gap cannot be merged across, nor a file read past where it broke: what was open ends here
            self._close_open("end of stream" if why == "end of stream" else "stream lost")

    def _gap(self, since: float, until: float, why: str, attempts: int) -> None:
        self.stats.gaps += 1
        self.stats.down = ""
        self.recorder.record({"type": "gap", "source": self.source.name, "from": _iso(since), "to": _iso(until),
                              "seconds": round(until - since, 3), "reason": why, "attempts": attempts,
                              "resumes_at_frame": self.frame_offset}, hook=True)

    def _finish(self, why: str) -> None:
        if self._view is not None and self._view.sampler.seen >= VIEW_MIN_FRAMES:
            self._check_view()  # a video that ended before its view's picture was full
        self._view = None
        self._score_pending()
        self._close_open(why)
        self._warn_dropped(time.time())  # what was dropped since the last warning is counted too
        short = self._read_whole and self.feed is not None and self.wm is not None and self.clip_offset == 0
        if short:
            self._too_short()
        if self._read_whole and self.feed is not None and self.feed.key is not None:
            # after its events: a kill before leaves it to redo; its frames, for the file scored again grown.
            # One too short for a clip is listed as such: not scored again unless it changes (grows)
            self.recorder.watched(self.feed.key, "too short" if short else "scored", frames=self.frame_offset)
        self._read_whole = False

    def _too_short(self) -> None:
        """A file read to its end without forming one clip (a stub a recorder left, a file cut after a
        few frames): a `skipped` record (to the hooks too) and a log line say so, and the summary
        counts it; it was listed in watched.jsonl as scored, with no word of it."""
        spec, n = self.wm.spec, self.frame_offset
        rate = spec.rate_for(self.fps)
        need = f"{spec.clip_len} frames at the models' rate" + (
            f", {rate:g}/s: about {math.ceil(spec.clip_len * self.fps / rate)} of this file's"
            if rate and self.fps else "")
        reason = f"{n} frame(s), shorter than one clip ({need}): nothing scored"
        self.stats.too_short += 1
        log.warning("%s: %s", self.feed.name, reason)
        self.recorder.record({"type": "skipped", "source": self.source.name, "video": self.feed.name,
                              "reason": reason, "frames": n, "at": _iso(time.time())}, hook=True)

    def _close_open(self, why: str) -> None:
        if self.smoother is not None:  # the clips the smoothing still held: the video (or session) ends
            for item, score in self.smoother.flush():
                self._decide(item, score)
        self.stats.open = False
        if self.tracker is not None:
            for kind, ev in self.tracker.flush():
                self._report(kind, ev, why)
            self.stash = {}

    # -- clips ----------------------------------------------------------------------------------
    def _check_shape(self, height: int, width: int, since: str = "") -> None:
        """At a video's (or session's) first clip, and at a switch to another camera's model
        (`since` says from where): warn when its frames differ in shape or working size from the
        models' footage (log and a `warning` record); scored anyway."""
        sized = getattr(self.backbone, "working_size", None)
        problem = frame_shape_mismatch(self.wm.extraction, height, width,
                                       sized(width, height) if callable(sized) else None)
        if problem and since:
            problem = f"{since}: {problem}"
        if problem:
            log.warning("%s: %s", self.feed.name, problem)
            self.recorder.record({"type": "warning", "source": self.source.name, "video": self.feed.name,
                                  "warning": problem, "at": _iso(time.time())})

    def _clip(self, clip, offset: int) -> None:
        first, last = offset + clip.first, offset + clip.last
        self._shape = clip.source_shape  # what a switch to another camera's model is checked against
        if clip.index == 0:  # each session's first clip: a reconnected camera may send another size
            self._check_shape(*clip.source_shape)
        t_last = self.arrivals.at(last) or time.time()
        self.stats.clips += 1
        if self.feed.live and time.time() - t_last > self.options.max_lag_s:
            self._drop()
            return
        sources = [offset + i for i in clip.sources]
        if self._live_times:
            self._live_pauses(sources)
        features = np.ascontiguousarray(self.backbone.preprocess_prepared(clip.prepared, sources))
        for frame in self.backbone.take_scene_cuts():
            self._scene_cut(frame)
        if not self._repeats_checked:
            self._check_repeats()
        if self.stats.scored == 0 and not self.pending and self.wm.cell_grid is not None:
            region = self.backbone.cell_region(*clip.source_shape)
            self.region = tuple(float(r) for r in region) if region is not None else self.region
        k = (clip.last - clip.first) // 2 if self.wm.spec.rate_for(self.fps) is None else len(clip.frames) // 2
        self.pending.append((self.clip_offset + clip.index, first, last, features, _small(clip.frames[k]),
                             self.arrivals.at(first) or t_last, t_last))
        if len(self.pending) >= self.options.batch_size or (
                self.feed.live and time.time() - self.pending[0][6] > self.options.max_lag_s / 2):
            self._score_pending()  # a live clip does not wait for a batch to fill

    def _check_repeats(self) -> None:
        """Once REPEAT_CHECK_FRAMES sampled frames of a video are in: a `warning` record and a log line
        when its frames repeat the one before far more (or less) often than the models' footage's (a
        camera set to a lower rate since; `videoad.video.run.repeat_mismatch`), as `--fit-on` warns."""
        from videoad.video.run import repeat_mismatch

        counted = getattr(self.backbone, "repeat_share", None)
        if counted is None:  # a backbone that does not count repeats
            self._repeats_checked = True
            return
        share, seen = counted()
        if seen < REPEAT_CHECK_FRAMES:
            return
        self._repeats_checked = True
        problem = repeat_mismatch(self.wm.extraction, {"repeat_share": share, "options": self.wm.extraction.get("options")},
                                  "this stream's")
        if problem:
            log.warning("%s: %s", self.feed.name, problem)
            self.recorder.record({"type": "warning", "source": self.source.name, "video": self.feed.name,
                                  "warning": problem, "at": _iso(time.time())})

    def _check_view(self) -> None:
        """The view pictured since `self._view.frame`: when it is none of the models' history's
        (`videoad.cameras.match`), a `view` record (to the hooks too) and a log line: the scores
        from there compare footage of another view with that history's, and mean little."""
        from videoad.cameras import match

        view, self._view = self._view, None
        picture = view.sampler.picture()
        if picture is None or not self.wm.views:
            return
        name, sim = match(picture, view.size, self.wm.views)
        if name is not None:
            return
        cameras = self.cameras or self.wm.cameras  # per-camera models: maybe another of the folder's cameras
        if cameras is not None:
            camera, camera_sim = match(picture, view.size, cameras.known)
            other = cameras.model(camera) if camera is not None else None
            same = self.wm.levels is not None and any(other is m for m in self.wm.levels.models.values())  # its other level
            if other is not None and other is not self.wm and not same and _extracted_alike(other, self.wm):
                self._switch(other, camera, camera_sim, view)
                return
        self.stats.unknown_views += 1
        since = {"start": "from its start", "reconnect": f"since the stream came back at frame {view.frame}"}.get(
            view.why, f"since the scene cut at frame {view.frame}")
        from videoad.cameras import unfitted_match

        unfitted = unfitted_match(picture, view.size, self.wm.unfitted)
        note = (f"the view {since} is none of the {len(self.wm.views)} view(s) of the models' history "
                f"(scene correlation {sim:.2f} < 0.85): "
                + (unfitted if unfitted else "another camera, or this one moved, covered or switched")
                + "; its scores compare it with footage of another view and mean little")
        log.warning("%s: %s", self.feed.name, note)
        at = self.arrivals.at(view.frame) or time.time()
        self.recorder.record({"type": "view", "source": self.source.name, "video": self.feed.name,
                              "frame": view.frame, "second": round(view.frame / self.fps, 3) if self.fps else None,
                              "scene_correlation": _r(sim, 3), "at": _iso(at), "note": note}, hook=True)

    def _switch(self, wm: WatchModel, camera: str, sim: float, view: _View) -> None:
        """The source now shows another camera of the per-camera models (a switcher cycling
        cameras, a recorder's feed switched): what was open closes, and the clips from here are
        scored with that camera's model and alarm line, events numbered on; a `camera` record (to
        the hooks too). Clips between the cut and this decision (VIEW_FRAMES) went to the model
        before."""
        self._score_pending()
        self._close_open(f"the view changed to {camera}")
        numbered = self.tracker.n_events if self.tracker is not None else self.numbered
        self._level_window.clear()  # the new camera's level is decided from its own clips, as at a video's start
        self._use(wm)
        self.backbone.start_video()  # the new view's frame pairs and cuts are its own
        self.backbone.frame_times(self._pause_times)  # the file's pauses are still its own
        self._camera = {"camera": camera, "scene_correlation": _r(sim, 3)}
        self._new_rules(numbered)
        self.stats.camera_switches += 1
        note = (f"from frame {view.frame} the source shows {camera} (scene correlation {sim:.2f}): scored with its "
                "model from here")
        log.warning("%s: %s", self.feed.name, note)
        at = self.arrivals.at(view.frame) or time.time()
        self.recorder.record({"type": "camera", "source": self.source.name, "video": self.feed.name,
                              "frame": view.frame, "second": round(view.frame / self.fps, 3) if self.fps else None,
                              "camera": camera, "group": wm.group, "scene_correlation": _r(sim, 3),
                              "threshold": json_number("threshold", wm.alarm_line(self.options.smooth)), "at": _iso(at), "note": note},
                             hook=True)
        if self._shape:  # that camera's footage may have been worked at another size
            self._check_shape(*self._shape, since=f"from frame {view.frame}, as {camera}")

    def _scene_cut(self, frame: int) -> None:
        """A cut in the stream: in a fixed camera's footage, the view itself changed (the camera
        was moved, covered or switched): a `scene_cut` record, to the hooks too, and a log line;
        the view from there is pictured and told against the history's (`_check_view`)."""
        if self.wm.views:
            self._view = _View(frame, "cut")
        self.stats.scene_cuts += 1
        at = self.arrivals.at(frame) or time.time()
        note = ("the view changed from one frame to the next (an edit, or the camera was moved, covered "
                "or switched)")
        log.warning("%s: scene cut at frame %d: %s", self.feed.name, frame, note)
        self.recorder.record({"type": "scene_cut", "source": self.source.name, "video": self.feed.name,
                              "frame": int(frame), "second": round(frame / self.fps, 3) if self.fps else None,
                              "at": _iso(at), "note": note}, hook=True)

    def _drop(self) -> None:
        self.stats.dropped += 1
        self._dropped_since += 1
        now = time.time()
        if now - self._warned_at >= self.options.warn_every_s:
            self._warn_dropped(now)

    def _warn_dropped(self, now: float) -> None:
        if not self._dropped_since:
            return
        log.warning("%s: %d clip(s) dropped in the last %.0f s (%d in all): scoring is slower than the "
                    "stream; the lag limit is %g s", self.source.name, self._dropped_since, now - self._warned_at,
                    self.stats.dropped, self.options.max_lag_s)
        self.recorder.record({"type": "dropped", "source": self.source.name, "clips": self._dropped_since,
                              "total": self.stats.dropped, "at": _iso(now), "max_lag_s": self.options.max_lag_s})
        self._dropped_since, self._warned_at = 0, now

    def _score_pending(self) -> None:
        if not self.pending:
            return
        batch, self.pending = self.pending, []
        features, cells = self.backbone.forward_cells(np.stack([p[3] for p in batch]))
        features = np.asarray(features)
        self._check_layout(features, cells)  # before the history checks read the cells
        initial = not self._level_window  # a video's first clips: their level is decided, not crossed
        level = (coverage.activity(cells, self._coverage_attrs)  # how much of the picture each clip moves in
                 if self.wm.levels is not None or self._peak is not None else None)
        runs = self._level_runs(level, len(batch))
        for n, (rows, side) in enumerate(runs):
            if side is not None and self.wm.levels.models[side] is not self.wm:
                self._switch_level(self.wm.levels.models[side], batch[rows.start], side, initial=initial and n == 0)
                self._check_layout(features, cells)  # the model that scores these rows now
            if n == 0:  # the history checks read the model that scores the batch's first clips
                if self._still and self.feed.name not in self._coverage_warned:
                    self._check_coverage(cells, batch)
                if self._peak is not None and self.feed.name not in self._busier_warned:
                    self._check_busier(level, batch)
            with self.score_lock:
                cell_scores, clip_scores = self.wm.model.score_arrays(features[rows], None if cells is None else cells[rows])
            self._decide_batch([batch[r] for r in range(rows.start, rows.stop)], cell_scores, clip_scores)
        if self._dropped_since and time.time() - self._warned_at >= self.options.warn_every_s:
            self._warn_dropped(time.time())

    def _check_layout(self, features: np.ndarray, cells: np.ndarray | None) -> None:
        """A `WatchError` naming the video and the model folder where the clips are laid out unlike
        the features the model was fitted on (`WatchModel.layout_problem`)."""
        problem = self.wm.layout_problem(features, cells)
        if problem:
            raise WatchError(f"the clips of {self.feed.name} {problem}, in the model folder {self.wm.model_dir} "
                             f"(group {self.wm.group!r}): its extraction record does not describe the features "
                             "its model was fitted on (written by an older videoad, or edited); extract the "
                             "history again with this version and refit the models")

    def _level_runs(self, level, n: int) -> list[tuple[slice, str | None]]:
        """The batch's rows in runs, each with the level that scores it: one run and no level but
        with models fitted per level of activity (`LevelPair`), where each clip goes to the level
        the median of the video's latest `coverage.WINDOW` clips lies in, past the pair's margin to
        leave the current one (a video's first batch by its own median and the plain boundary, so
        that no clip is scored before its level is known)."""
        pair = self.wm.levels
        if pair is None or level is None:
            return [(slice(0, n), None)]
        if not self._level_window:  # a video's start: its first clips decide together
            sides = [pair.side(float(np.median(level)))] * len(level)
            self._level_window.extend(float(v) for v in level)
        else:
            sides, side = [], next(s for s, m in pair.models.items() if m is self.wm)
            for value in level:
                self._level_window.append(float(value))
                side = pair.side(float(np.median(self._level_window)), side)
                sides.append(side)
        runs, start = [], 0
        for row in range(1, len(sides) + 1):
            if row == len(sides) or sides[row] != sides[start]:
                runs.append((slice(start, row), sides[start]))
                start = row
        return runs

    def _new_rules(self, numbered: int) -> None:
        """The event rules and the smoothing in time of the current model (`self.wm`): its alarm line,
        its group, its sigma at the video's rate; events numbered after `numbered`."""
        wm = self.wm
        clock = self._frame_clock if self.fps else None
        self.tracker = EventTracker(self.feed.name, wm.alarm_line(self.options.smooth), self.fps, self.options.events,
                                    category=wm.group, cell_base=self._cell_base, numbered_after=numbered,
                                    seconds=None if clock is None else clock.seconds,
                                    ends=None if clock is None else clock.end_seconds,
                                    recorded=None if clock is None else clock.recorded,
                                    pauses=None if clock is None else clock.pauses)
        step = step_seconds(wm.spec.stride, self.fps, wm.spec.rate_for(self.fps))
        self.smoother = ScoreSmoother(wm.model.sigma(step) if self.options.smooth else 0.0)

    def _switch_level(self, wm: WatchModel, item: tuple, side: str, initial: bool = False) -> None:
        """The stream's activity crossed the pair's boundary (dusk, dawn), or a video's first clips
        are the other level's (`initial`): the clips before are decided and what was open closes,
        and from `item`'s clip on the other level's model and alarm line score it, events numbered
        on; a `level` record (a crossing: to the hooks and the log too)."""
        clip, first = item[0], item[1]
        self._close_open(f"the activity changed to the {side} level")
        numbered = self.tracker.n_events if self.tracker is not None else self.numbered
        self._use(wm, keep_backbone=True)
        if self.tracker is not None:
            self._new_rules(numbered)
        median = float(np.median(self._level_window))
        note = (f"from frame {first} the picture moves at the {side} of the two levels of activity the models were "
                f"fitted on (median of the latest {len(self._level_window)} clips {median:.4f}, boundary "
                f"{wm.levels.boundary:.4f}): scored with {wm.group!r} and its alarm line from here")
        if not initial:
            log.warning("%s: %s", self.feed.name, note)
        at = self.arrivals.at(first) or time.time()
        self.recorder.record({"type": "level", "source": self.source.name, "video": self.feed.name, "clip": int(clip),
                              "frame": int(first), "second": round(first / self.fps, 3) if self.fps else None,
                              "level": side, "crossing": not initial, "group": wm.group,
                              "threshold": json_number("threshold", wm.alarm_line(self.options.smooth)), "at": _iso(at), "note": note},
                             hook=not initial)

    def _decide_batch(self, batch: list, cell_scores, clip_scores) -> None:
        """One scored run of clips into the smoothing, then the records and the event rules."""
        now = time.time()
        for row, (clip, first, last, _, frame, t_first, t_last) in enumerate(batch):
            self.stats.scored += 1
            lag = now - t_last  # scoring lag; the smoothing's wait comes on top (in an event's `rules_s`)
            self.stats.lag_s = lag
            self.stats.max_lag_s = max(self.stats.max_lag_s, lag) if self.feed.live else 0.0
            cs = None if cell_scores is None else cell_scores[row]
            item = (clip, first, last, frame, t_first, t_last, cs, lag)
            for done_item, score in self.smoother.push(float(clip_scores[row]), item):
                self._decide(done_item, score, decided_at=t_last)  # final once this clip came

    def _check_coverage(self, cells, batch) -> None:
        """The first clip of a video that moves where the models' history never did: a `warning`
        record and a log line (once per video), as `videoad detect --fit-on` warns."""
        share = coverage.moving_share(cells, self._coverage_attrs)
        if share is None:
            return
        hits = np.flatnonzero((share[:, self._still] > coverage.MOVING).any(axis=1))
        if not len(hits):
            return
        self._coverage_warned.add(self.feed.name)
        _, first, last = batch[int(hits[0])][:3]
        where = coverage.cell_names(self._still, (self.wm.cell_grid or (0, 1))[1])
        problem = (f"frames {first}-{last} move in grid cell(s) the models' history never shows moving ({where}): "
                   "scores and events there may be ordinary activity the history did not cover")
        log.warning("%s: %s", self.feed.name, problem)
        self.recorder.record({"type": "warning", "source": self.source.name, "video": self.feed.name,
                              "warning": problem, "at": _iso(time.time())})

    def _check_busier(self, level, batch) -> None:
        """A video whose latest `coverage.WINDOW` clips move, at their median, in `coverage.BUSIER`
        times the share of the picture the history's busiest clip moved in (night, rain, another
        camera): a `warning` record and a log line (once per video), as `videoad detect --fit-on`
        warns of the whole video. `level`: the batch's clips' `coverage.activity` (None: the features
        do not say)."""
        if level is None:
            return
        for row, value in enumerate(level):
            self._levels.append(float(value))
            if len(self._levels) < coverage.WINDOW:
                continue
            ratio = coverage.busier_ratio(float(np.median(self._levels)), self._peak)
            if ratio >= coverage.BUSIER:
                self._busier_warned.add(self.feed.name)
                _, first, last = batch[row][:3]
                problem = coverage.busier_line({self.feed.name: round(ratio, 2)},
                                               f"up to frames {first}-{last}, the last {coverage.WINDOW} clips: ")
                log.warning("%s: %s", self.feed.name, problem)
                self.recorder.record({"type": "warning", "source": self.source.name, "video": self.feed.name,
                                      "warning": problem, "at": _iso(time.time())})
                return

    def _decide(self, item: tuple, score: float, decided_at: float | None = None) -> None:
        """One clip's final (smoothed) score into the records and the event rules; `decided_at`:
        arrival of the last frame of the clip that made it final (the smoothing's wait and the
        rules' wait both count in an event's `rules_s`)."""
        clip, first, last, frame, t_first, t_last, cs, lag = item
        self.stats.media_s = (last + 1) / self.fps if self.fps else 0.0
        self.recorder.clip(self.source.name, self.feed.name, clip, first, last, score,
                           lag if self.feed.live else None)
        if cs is not None:
            self.cell_sample.append(np.asarray(cs, dtype=np.float32))
        done = self.tracker.feed(clip, first, last, score, cs)
        self._decided_at = decided_at if decided_at is not None else t_last
        for kind, ev in done:
            if kind == "close":
                self._report(kind, ev, PAUSED if self.tracker.closed_at_pause else "quiet")
        run = self.tracker.run
        if run is not None:
            if run.first == clip:
                self.stash = {"first": clip, "start_at": t_first}
            if run.last == clip:
                self.stash["end_at"] = t_last
            if run.peak == clip:
                self.stash.update(peak_at=(t_first + t_last) / 2, frame=frame, cells=cs)
        for kind, ev in done:
            if kind == "open":
                self._report(kind, ev, "")
        self.stats.open = run is not None and run.opened

    def _cell_base(self) -> float:
        """The typical cell score: the median over the recent clips (a stream has no whole-video median)."""
        return float(np.median(np.stack(self.cell_sample))) if self.cell_sample else 0.0

    # -- records ----------------------------------------------------------------------------------
    def _report(self, kind: str, ev: Event, why: str) -> None:
        now = time.time()
        stash = self.stash
        run = self.tracker.run if kind == "open" else self.tracker.last_closed
        grid = self.wm.cell_grid
        if ev.start_frame in self._before:  # this file's event an earlier watch recorded (and sent): not again
            if kind == "close":
                self.stats.recorded_before += 1
            return
        event_id = f"{self.slug}-{self.run_stamp}-{event_name(ev.event, EVENT_DIGITS)}"
        if self._still and ev.cells is not None:  # cells of the event its history never moved in
            ev.unseen_cells = sorted(set(self._still).intersection(ev.cells))
        rec = {"type": kind, "id": event_id, "source": self.source.name, "video": ev.video, "group": self.wm.group,
               "event": ev.event}
        rec.update({k: (json_number(k, v) if isinstance(v, float) else v) for k, v in asdict(ev).items()
                    if k not in ("event", "video", "category", "group")})  # the group: the model's, above
        if ev.start_frame is not None and ev.start_frame < self._rescored_below:
            rec["rescored"] = True  # begins in the part of a grown file scored before: raised then too, most likely
        if self._clock is not None and ev.start_s is not None:  # a file's recording start: clock times
            rec.update(clock_times(self._clock, ev))
        rec.update(duration_s=_r(ev.duration_s), n_clips=ev.n_clips, cell_names=cell_names(ev.cells, grid) or None,
                   where=where_words(ev.peak_cells, grid) or None, score_unit=self.wm.score_unit,
                   start_at=_iso(stash.get("start_at")), peak_at=_iso(stash.get("peak_at")))
        if kind == "close":
            end_at = stash.get("end_at")
            decided = self._decided_at if why in ("quiet", PAUSED) else None
            rec.update(end_at=_iso(end_at), closed_by=why, lag_s=_r(now - end_at, 3) if end_at else None,
                       rules_s=_r(decided - end_at, 3) if end_at and decided else None)
            self.stats.events += 1
        if self.options.images and stash.get("frame") is not None:
            path, relative = self.recorder.image_path(f"{event_id}{'-open' if kind == 'open' else ''}.jpg", now)
            try:
                self._image(path, stash, ev, run, self._picture_title(kind, ev))
                rec["image"] = relative
            except Exception as exc:  # noqa: BLE001 - the record matters more than its picture
                log.warning("%s: %s image not written: %s", self.source.name, event_id, exc)
        rec["recorded_at"] = _iso(time.time())
        self.recorder.record(rec, hook=True)
        if self.feed is not None and self.feed.key is not None:
            self.recorder.file_event(self.source.name, ev.start_frame, event_id)

    def _picture_title(self, kind: str, ev: Event) -> str:
        """The line over an event's picture: which camera, which event, its peak, and at opening
        that the peak is the one so far (the pictures said neither which source nor that)."""
        when = f"{ev.peak_s:.1f} s" if ev.peak_s is not None else f"frame {ev.peak_frame}"
        name = _ascii(self.source.name)
        return (f"{name} {event_name(ev.event, EVENT_DIGITS)} peak {fmt_score(ev.peak_score)} at {when}"
                + (" (so far: event open)" if kind == "open" else ""))

    def _image(self, path: Path, stash: dict, ev: Event, run, text: str) -> None:
        import cv2

        from videoad.heatmap import burn

        frame = stash["frame"]
        if frame.shape[1] < MIN_IMAGE_WIDTH:  # a small working frame: enlarge it so the picture reads
            k = -(-MIN_IMAGE_WIDTH // frame.shape[1])
            frame = cv2.resize(frame, (frame.shape[1] * k, frame.shape[0] * k), interpolation=cv2.INTER_LINEAR)
        grid = self.wm.cell_grid
        if grid is not None and stash.get("cells") is not None and run is not None and run.cells_max is not None:
            vmin = self._cell_base()
            vmax = max(float(run.cells_max.max()), vmin + 1e-9)
            frame = burn(frame, np.asarray(stash["cells"]), grid, self.region, vmin, vmax, hot=ev.peak_cells)
        bgr = cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2BGR)
        scale = bgr.shape[1] / 960
        (w, h), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
        if w + 10 > bgr.shape[1]:  # a long source name: the line shrunk to the picture's width
            scale *= (bgr.shape[1] - 10) / (w + 1)
            (w, h), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
        cv2.rectangle(bgr, (0, 0), (w + 10, h + base + 8), (0, 0, 0), -1)
        cv2.putText(bgr, text, (5, h + 4), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1, cv2.LINE_AA)
        ok, data = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, 90])
        if not ok:
            raise RuntimeError("JPEG encoding failed")
        write_atomic(path, data.tobytes())


def _ascii(text: str) -> str:
    """`text` for OpenCV's font, which draws ASCII alone (a camera named in Chinese came out "??"):
    accented Latin letters without their accents, other letters as \\u escapes."""
    import unicodedata

    def one(c: str) -> str:
        if ord(c) < 128:
            return c
        base = unicodedata.normalize("NFKD", c).encode("ascii", "ignore").decode("ascii")
        return base or c.encode("ascii", "backslashreplace").decode("ascii")

    return "".join(one(c) for c in text)


def _extracted_alike(a: WatchModel, b: WatchModel) -> bool:
    """Whether two models' features are made alike (backbone, its options, clip sampling), so that
    a stream's frames prepared for one serve the other."""
    keys = ("backbone", "options", "weights_sha256", "clip_len", "stride", "tail", "target_fps", "max_fps", "cell_grid")
    return all(a.extraction.get(k) == b.extraction.get(k) for k in keys)


def _small(frame: np.ndarray) -> np.ndarray:
    """A copy of the frame at most IMAGE_WIDTH wide (what the event image is drawn on)."""
    import cv2

    h, w = frame.shape[:2]
    if w <= IMAGE_WIDTH:
        return frame.copy()
    return cv2.resize(frame, (IMAGE_WIDTH, max(1, round(h * IMAGE_WIDTH / w))), interpolation=cv2.INTER_AREA)


