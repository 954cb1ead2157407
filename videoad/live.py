"""Live: a camera's stream scored as it arrives, its events raised as they happen (`videoad watch`).

Per source, two threads and one bounded queue between them:

    reader: open (reopen with backoff when a stream drops) -> decode -> stamp each frame's
            arrival time -> frame queue (bounded: a slow scorer holds the reader back, never memory)
    scorer: `extract.clips.iter_clips` with the extraction's ClipSpec -> `backbone.preprocess_prepared`
            -> `forward_cells` -> `GroupModel.score_arrays` -> `events.EventTracker`
            -> OUT/events.jsonl, the peak frame with its heat map as a JPEG, hooks

The clips, features, scores and event rules are those of `videoad extract` + `detect --model`:
the model folder records how its features were made (`models.json` `extraction`: backbone name
and options, clip length, stride, tail, frame rate), so a file watched gives the batch events.

Live sources (a camera, a URL, a file with `realtime`) cannot wait for the scorer: a clip whose
last frame arrived more than `max_lag_s` ago is dropped unscored and counted (a `dropped` record
and a warning), so the lag stays bounded instead of growing without limit. A file read as fast
as it decodes drops nothing. Memory: the frame queue, one clip window, the open event's clip
scores and a bounded sample of recent cell scores; nothing grows with the stream's length.

Hooks (`--on-event CMD`, `--post URL`) run in one worker thread behind a bounded queue, each
with a timeout: a slow or dead receiver never holds up decoding; a full queue drops the call
with a warning.
"""
from __future__ import annotations

import copy
import json
import logging
import math
import os
import queue
import re
import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np

from extract.backbones import recorded_options
from extract.store import write_atomic
from videoad.events import Event, EventSettings, EventTracker, cell_names, where_words
from videoad.smoothing import ScoreSmoother, step_seconds

log = logging.getLogger(__name__)

EVENTS_FILE = "events.jsonl"
CLIPS_FILE = "clips.csv"
IMAGES = "events"
#: the peak-frame JPEG is at most this wide (the frame is kept at this size while its clip waits)
IMAGE_WIDTH = 640
#: ... and at least this wide (a 160x120 frame is enlarged, so that the picture and its caption read)
MIN_IMAGE_WIDTH = 480
#: recent clips whose cell scores give the typical cell score ("cells involved", heat-map floor)
CELL_SAMPLE = 2048
#: description keys that may differ between the fit and the watch without changing the features
_DESCRIPTION_FREE = ("precision",)


class WatchError(ValueError):
    """Bad input to `watch` (a model folder, a source): the message names it and what to do."""


# ---------------------------------------------------------------------------------------------
# the model and how its features were made


@dataclass
class WatchModel:
    """A saved group model with the backbone and clip sampling its features came from."""

    group: str
    model: object  # videoad.group_model.GroupModel
    backbone: object  # extract.backbones.base.Backbone
    spec: object  # extract.clips.ClipSpec
    extraction: dict
    model_dir: Path

    @property
    def threshold(self) -> float:
        return float(self.model.threshold)

    def alarm_line(self, smooth: bool) -> float:
        """The line the scores are compared with: the smoothed scores' (the batch's), or with
        `smooth=False` the raw scores' (models saved before smoothing have only the one)."""
        raw = getattr(self.model, "threshold_raw", None)
        return self.threshold if smooth or raw is None else float(raw)

    @property
    def cell_grid(self) -> tuple[int, int] | None:
        grid = self.model.layout.get("cell_grid")
        return tuple(grid) if self.model.layout["level"] == "cell" and grid else None

    @property
    def score_unit(self) -> str:
        return str(self.model.info.get("score_unit", "score"))

    @classmethod
    def load(cls, model_dir, group: str | None = None, device: str | None = None) -> "WatchModel":
        """Read `models.json`, pick the group (the only one, else "all", else `group`), rebuild
        the backbone from its recorded options and check it describes itself as at the fit."""
        from extract.backbones import get_backbone
        from extract.clips import ClipSpec
        from videoad.group_model import GroupModel
        from videoad.video import MODELS_INDEX

        model_dir = Path(model_dir)
        index_path = model_dir / MODELS_INDEX
        redo = "fit models with `videoad detect HISTORY --pooled -o SCORES --save-model DIR`"
        if not index_path.is_file():
            raise WatchError(f"{model_dir}: no {MODELS_INDEX}; {redo}")
        try:
            index = json.loads(index_path.read_text())
            groups = index["groups"]
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise WatchError(f"{index_path}: not a readable model index ({exc}); {redo}") from None
        if group is None:
            if len(groups) == 1:
                group = next(iter(groups))
            elif "all" in groups:
                group = "all"
            else:
                raise WatchError(f"{model_dir} holds models of several groups ({', '.join(sorted(groups))}): "
                                 "name one with --group")
        if group not in groups:
            raise WatchError(f"{model_dir}: no model for group {group!r} (has {', '.join(sorted(groups))})")
        entry = groups[group]
        extraction = entry.get("extraction") or index.get("extraction")
        if not extraction:
            raise WatchError(f"{index_path} does not record how its features were extracted (written by an "
                             f"older videoad): refit the models with this version ({redo})")
        try:
            model = GroupModel.load(entry, model_dir)
        except (ValueError, KeyError) as exc:
            raise WatchError(str(exc)) from None
        backbone = build_backbone(extraction, device, get_backbone)
        spec = ClipSpec(clip_len=int(extraction["clip_len"]), stride=int(extraction["stride"]),
                        tail=str(extraction.get("tail", "drop")), **_resampling(extraction))
        if spec.clip_len != backbone.clip_len:
            raise WatchError(f"{index_path}: clips of {spec.clip_len} frames, but the backbone takes "
                             f"{backbone.clip_len}")
        grid = model.layout.get("cell_grid")
        if model.layout["level"] == "cell" and list(backbone.cell_grid or ()) != list(grid):
            raise WatchError(f"{index_path}: the model scores a {grid} grid of cells, the backbone gives "
                             f"{backbone.cell_grid or 'none'}; re-extract the history and refit")
        return cls(group, model, backbone, spec, extraction, model_dir)


def _resampling(extraction: dict) -> dict:
    """The `ClipSpec` frame-rate settings an extraction record holds (target_fps, max_fps)."""
    return {k: float(extraction[k]) if extraction.get(k) else None for k in ("target_fps", "max_fps")}


def frame_rate_mismatch(extraction: dict, fps: float | None) -> str | None:
    """Why a stream at `fps` is not comparable with the footage the models were fitted on (the
    rates clips are cut at more than `FPS_TOLERANCE` apart: the stream's after the models' own
    resampling, theirs as recorded), else None. A live stream is scored anyway and warned about
    (a file or history store is refused: `videoad.video.run`)."""
    from extract.clips import ClipSpec
    from videoad.video.run import FPS_TOLERANCE, apart

    if not fps:
        return None
    ref = extraction.get("sampled_fps")
    if ref is None:  # models.json from before the rates were recorded: native rates, none resampled
        ref = None if extraction.get("target_fps") else extraction.get("fps")
        rate = fps
    else:
        rate = ClipSpec(**_resampling(extraction)).rate_for(fps) or fps
    if not ref or not apart(rate, ref, FPS_TOLERANCE):
        return None
    cut = f" (cut at {rate:g})" if rate != fps else ""
    return (f"the stream runs at {fps:g} fps{cut}, the models' footage was cut into clips at {ref:g} fps: motion "
            f"per frame is not comparable; fit the models on footage extracted with --fps N to resample both")


def frame_shape_mismatch(extraction: dict, height: int, width: int, working_size=None) -> str | None:
    """Why a stream of `width` x `height` frames is not comparable with the footage the models were
    fitted on (`videoad.video.run.shape_off`: another frame shape, or with `working_size`, what
    the backbone resizes these frames to, a size that footage was not worked at); else None.
    Scored anyway and warned about, as `frame_rate_mismatch` (a file or history store is refused:
    `videoad.video.run.extraction_mismatch`)."""
    from videoad.video.run import shape_off

    aspect = width / height
    aspect_off, size_off = shape_off(extraction, aspect, working_size)
    if aspect_off:
        return (f"the stream's frames are {width}x{height} (width / height {aspect:.3g}), the models' footage "
                f"{', '.join(f'{a:g}' for a in extraction['aspects'])}: each frame is resized to the working "
                f"size, so motion is stretched differently; fit the models on footage of this camera")
    if size_off:
        return (f"the stream is worked at {working_size[0]}x{working_size[1]}, the models' footage at "
                f"{', '.join(f'{w}x{h}' for w, h in extraction['working_sizes'])} (size auto follows each "
                f"source's resolution): motion in pixels is not comparable; fit the models on footage of this camera")
    return None


def build_backbone(extraction: dict, device: str | None = None, get_backbone=None):
    """The backbone an extraction record names, built from its options and checked against the
    description stored at the fit (a different weights file or option would give other features)."""
    if get_backbone is None:
        from extract.backbones import get_backbone
    name = extraction.get("backbone") or ""
    options = extraction.get("options")
    recorded = extraction.get("description")
    kwargs = dict(recorded_options(name, options) or {})  # a models.json from before an option was added
    if device is not None:
        kwargs["device"] = device
    try:
        backbone = get_backbone(name, **kwargs)
    except Exception as exc:  # noqa: BLE001 - a missing weights file, an extra not installed ...
        raise WatchError(f"cannot rebuild the backbone {name!r} the models were fitted with ({exc})") from None
    described = backbone.describe()
    if recorded is not None:
        differ = sorted(k for k in set(described) | set(recorded)
                        if k not in _DESCRIPTION_FREE and described.get(k) != recorded.get(k))
        if differ:
            hint = ("the features were extracted before videoad recorded backbone options, with other than the "
                    "default options: re-extract the history and refit" if options is None else
                    "check that the same weights file and code are installed")
            raise WatchError(f"the backbone {name!r} built here differs from the one the models were fitted on "
                             f"in {', '.join(differ)}; {hint}")
    elif options is None:
        raise WatchError(f"the models do not record how backbone {name!r} was configured: re-extract the "
                         "history and refit with this version")
    return backbone


# ---------------------------------------------------------------------------------------------
# sources


@dataclass
class Feed:
    """One video a source delivers: a file, a stream (reopened when it drops), a generator."""

    name: str
    open: Callable[[], "object"]  # -> extract.decode.FrameStream
    live: bool = False  # frames come in real time: lag is measured, stale clips dropped
    reconnect: bool = False  # reopen when it ends or fails
    realtime: bool = False  # pace the frames at the stream's rate (a file played as a camera)


class Source:
    """Something to watch; `feeds` yields its videos (one, or one per file arriving in a folder)."""

    name: str = ""

    def feeds(self, stop: threading.Event) -> Iterator[Feed]:
        raise NotImplementedError


class FileSource(Source):
    def __init__(self, path, realtime: bool = False, decoders: tuple[str, ...] | None = None):
        self.path, self.realtime = Path(path), bool(realtime)
        self.name = self.path.name
        self.decoders = decoders

    def feeds(self, stop):
        from extract.decode import DEFAULT_DECODERS, installed_decoders, open_video

        decoders = installed_decoders(self.decoders or DEFAULT_DECODERS)
        yield Feed(self.name, lambda: open_video(self.path, decoders), live=self.realtime, realtime=self.realtime)


class StreamSource(Source):
    """A camera (/dev/videoN) or a URL; reopened with backoff whenever it ends or fails."""

    def __init__(self, url: str, timeout: float = 10.0):
        self.url, self.timeout = url, float(timeout)
        self.name = _display_url(url)

    def feeds(self, stop):
        from extract.decode import open_stream

        yield Feed(self.name, lambda: open_stream(self.url, self.timeout), live=True, reconnect=True)


class FolderSource(Source):
    """A folder that new video files arrive in: each file is watched once, in arrival order,
    when its size and modification time have held still for one poll (a file still being
    written is left for the next poll). `once`: the files there now, then stop."""

    def __init__(self, folder, poll_s: float = 2.0, once: bool = False, realtime: bool = False):
        self.folder, self.poll_s, self.once, self.realtime = Path(folder), float(poll_s), bool(once), bool(realtime)
        self.name = self.folder.name or str(self.folder)

    def _listing(self) -> dict[Path, tuple[int, int]]:
        from extract.sources import VIDEO_EXTENSIONS

        found = {}
        try:
            entries = list(os.scandir(self.folder))
        except OSError as exc:
            log.warning("%s: cannot list the folder (%s)", self.folder, exc)
            return found
        for e in entries:
            if e.name.startswith(".") or os.path.splitext(e.name)[1].lower() not in VIDEO_EXTENSIONS:
                continue
            try:
                st = e.stat()
            except OSError:
                continue
            if e.is_file():
                found[Path(e.path)] = (st.st_size, st.st_mtime_ns)
        return found

    def feeds(self, stop):
        from extract.decode import DEFAULT_DECODERS, installed_decoders, open_video

        decoders = installed_decoders(DEFAULT_DECODERS)
        done: set[Path] = set()
        last: dict[Path, tuple[int, int]] = {}
        first = True
        while not stop.is_set():
            now = self._listing()
            ready = [p for p, st in now.items() if p not in done and (self.once and first or last.get(p) == st)]
            for path in sorted(ready, key=lambda p: (now[p][1], p.name)):
                done.add(path)
                yield Feed(path.name, (lambda p=path: open_video(p, decoders)), live=self.realtime,
                           realtime=self.realtime)
                if stop.is_set():
                    return
            if self.once:
                return
            last, first = now, False
            stop.wait(self.poll_s)


class FramesSource(Source):
    """Frames from Python (RGB uint8 arrays): a synthetic camera for tests and benchmarks."""

    def __init__(self, name: str, frames: Callable[[], Iterable[np.ndarray]] | Iterable[np.ndarray], fps: float,
                 live: bool = False, realtime: bool = False):
        self.name, self.fps, self.live, self.realtime = name, float(fps), bool(live or realtime), bool(realtime)
        self._frames = frames

    def feeds(self, stop):
        from extract.decode import FrameStream

        def opener():
            frames = self._frames() if callable(self._frames) else self._frames
            return FrameStream("python", self.fps, -1, iter(frames))

        yield Feed(self.name, opener, live=self.live, realtime=self.realtime)


def make_source(text: str, *, realtime: bool = False, timeout: float = 10.0, poll_s: float = 2.0,
                once: bool = False) -> Source:
    """A SOURCE argument of `videoad watch`: a URL or /dev/videoN, a folder, or a video file."""
    from extract.decode import is_stream

    if is_stream(text):
        return StreamSource(text, timeout)
    path = Path(text)
    if path.is_dir():
        return FolderSource(path, poll_s, once, realtime)
    if path.is_file():
        return FileSource(path, realtime)
    raise WatchError(f"{text}: no such file or folder, and not a stream address "
                     "(rtsp://, http(s)://, /dev/videoN, ...)")


def _display_url(url: str) -> str:
    """A stream's name for records and file names: its address without a password."""
    return re.sub(r"(://[^:/@]+):[^@/]*@", r"\1:***@", url)


# ---------------------------------------------------------------------------------------------
# settings and what comes out


@dataclass
class WatchOptions:
    """How `watch` runs; see `videoad watch --help`."""

    events: EventSettings = field(default_factory=EventSettings)
    max_lag_s: float = 3.0  # a live clip whose last frame is older than this is dropped unscored
    retries: int | None = None  # reopen attempts in a row before a stream is given up (None: for ever)
    backoff_s: float = 1.0  # first wait before reopening; doubles per failed attempt up to backoff_max_s
    backoff_max_s: float = 30.0
    batch_size: int = 8  # clips scored together when the scorer is behind (one at a time when caught up)
    frame_queue: int = 64  # decoded frames waiting for the scorer, per source
    on_event: str | None = None
    post: str | None = None
    hook_timeout_s: float = 10.0
    hook_queue: int = 100
    clip_scores: bool = False  # also write OUT/clips.csv, every scored clip
    images: bool = True
    progress: bool = False
    warn_every_s: float = 10.0  # at most one "clips dropped" warning per source this often
    cell_sample: int = CELL_SAMPLE  # recent clips whose cell scores set the typical cell score
    smooth: bool = True  # the model's smoothing in time (the batch's scores; a clip is final ~4 sigma later)


@dataclass
class SourceStats:
    """What one source did; the summary and the progress line read it."""

    name: str
    frames: int = 0
    clips: int = 0  # clips formed
    scored: int = 0
    dropped: int = 0
    events: int = 0
    gaps: int = 0
    scene_cuts: int = 0  # frames where the view changed at once (`scene_cut` records)
    failed: int = 0  # files that could not be read
    live: bool = False  # the current video arrives in real time
    open: bool = False  # an event is open now
    lag_s: float = 0.0  # of the latest scored clip: now minus its last frame's arrival
    max_lag_s: float = 0.0
    media_s: float = 0.0  # seconds of video scored (frames / fps)
    started: float = field(default_factory=time.time)
    ended: str = ""  # why it ended ("" while running)
    lost: str = ""  # set when the source was given up or could not be read


@dataclass
class WatchSummary:
    sources: list[SourceStats]
    interrupted: bool = False
    hook_failures: int = 0
    hook_dropped: int = 0

    @property
    def lost(self) -> list[SourceStats]:
        return [s for s in self.sources if s.lost]

    def report(self) -> str:
        lines = []
        for s in self.sources:
            lines.append(f"{s.name}: {s.frames} frames, {s.scored} clips scored, {s.events} event(s)"
                         + (f", {s.dropped} clip(s) dropped" if s.dropped else "")
                         + (f", {s.gaps} gap(s)" if s.gaps else "")
                         + (f", {s.scene_cuts} scene cut(s)" if s.scene_cuts else "")
                         + (f", {s.failed} file(s) unreadable" if s.failed else "")
                         + (f"; max lag {s.max_lag_s:.2f} s" if s.max_lag_s else "")
                         + ("; lost" if s.lost else f"; {s.ended}" if s.ended else ""))
        if self.hook_failures or self.hook_dropped:
            lines.append(f"hooks: {self.hook_failures} failed, {self.hook_dropped} dropped (queue full)")
        return "\n".join(lines)


def _iso(t: float | None) -> str | None:
    if t is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(t)) + f".{int(t % 1 * 1000):03d}" + time.strftime(
        "%z", time.localtime(t))


def _r(x, digits: int = 6):
    return None if x is None else round(float(x), digits)


class Hooks:
    """`--on-event CMD` and `--post URL`, called from one worker thread behind a bounded queue."""

    def __init__(self, on_event: str | None, post: str | None, timeout_s: float, size: int):
        self.on_event, self.post, self.timeout_s = on_event, post, float(timeout_s)
        self.failures = self.dropped = 0
        self._queue: queue.Queue = queue.Queue(maxsize=max(1, size))
        self._thread = None
        if on_event or post:
            self._thread = threading.Thread(target=self._run, name="videoad-hooks", daemon=True)
            self._thread.start()

    def submit(self, record: dict) -> None:
        if self._thread is None:
            return
        try:
            self._queue.put_nowait(record)
        except queue.Full:
            self.dropped += 1
            log.warning("event hooks are behind (%d waiting): %s %s not sent", self._queue.qsize(),
                        record.get("type"), record.get("id", record.get("source")))

    def close(self, wait_s: float) -> None:
        """Let the queued calls finish for up to `wait_s` seconds, then give up on them."""
        if self._thread is None:
            return
        try:
            self._queue.put(None, timeout=max(0.1, wait_s))
        except queue.Full:
            return
        self._thread.join(timeout=max(0.1, wait_s))

    def _run(self) -> None:
        while (record := self._queue.get()) is not None:
            data = json.dumps(record, ensure_ascii=False).encode("utf-8")
            if self.on_event:
                self._call(self._command, data, f"--on-event {self.on_event!r}")
            if self.post:
                self._call(self._send, data, f"--post {self.post}")

    def _call(self, fn, data: bytes, what: str) -> None:
        try:
            fn(data)
        except Exception as exc:  # noqa: BLE001 - a receiver's failure is reported, never raised
            self.failures += 1
            log.warning("%s failed: %s", what, exc)

    def _command(self, data: bytes) -> None:
        try:
            done = subprocess.run(self.on_event, shell=True, input=data, timeout=self.timeout_s,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"still running after {self.timeout_s:g} s, killed") from None
        if done.returncode != 0:
            tail = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or [""]
            raise RuntimeError(f"exit status {done.returncode} {tail[0]}".strip())

    def _send(self, data: bytes) -> None:
        import urllib.request

        req = urllib.request.Request(self.post, data=data, method="POST",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:  # noqa: S310 - the user's own URL
            resp.read(1024)


class Recorder:
    """OUT/events.jsonl (one JSON record a line, appended and flushed as it happens), the event
    images, optionally OUT/clips.csv; shared by every source's scorer."""

    def __init__(self, out: Path, options: WatchOptions):
        self.out = Path(out)
        self.out.mkdir(parents=True, exist_ok=True)
        (self.out / IMAGES).mkdir(exist_ok=True)
        self._lock = threading.Lock()
        self._events = open(self.out / EVENTS_FILE, "a", encoding="utf-8")
        self._clips = None
        if options.clip_scores:
            new = not (self.out / CLIPS_FILE).exists()
            self._clips = open(self.out / CLIPS_FILE, "a", encoding="utf-8")
            if new:
                self._clips.write("source,video,clip,start_frame,end_frame,score,lag_s\n")
        self.hooks = Hooks(options.on_event, options.post, options.hook_timeout_s, options.hook_queue)

    def record(self, rec: dict, hook: bool = False) -> None:
        line = json.dumps(rec, ensure_ascii=False)
        with self._lock:
            self._events.write(line + "\n")
            self._events.flush()
        if hook:
            self.hooks.submit(rec)

    def clip(self, source: str, video: str, clip: int, first: int, last: int, score: float, lag: float | None) -> None:
        if self._clips is None:
            return
        with self._lock:
            self._clips.write(f"{_csv(source)},{_csv(video)},{clip},{first},{last},{score:.6g},"
                              f"{'' if lag is None else f'{lag:.3f}'}\n")

    def close(self, wait_s: float) -> None:
        self.hooks.close(wait_s)
        with self._lock:
            self._events.close()
            if self._clips is not None:
                self._clips.close()


def _csv(text: str) -> str:
    return '"' + text.replace('"', '""') + '"' if any(c in text for c in ',"\n') else text


# ---------------------------------------------------------------------------------------------
# the two threads of a source


_STOP = ("stop",)


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


def _reader(source: Source, q: queue.Queue, stop: threading.Event, options: WatchOptions) -> None:
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

    def backoff() -> float:
        return min(options.backoff_s * 2 ** max(0, failures - 1), options.backoff_max_s)

    while not stop.is_set():
        try:
            stream = feed.open()
        except Exception as exc:  # noqa: BLE001 - each library raises its own types
            why = _error_text(exc)
            if not feed.reconnect:
                put(("failed", feed.name, f"cannot be read: {why}"))
                return
            failures += 1
            if options.retries is not None and failures > options.retries:
                put(("lost", f"gave up after {failures} failed attempt(s) in a row to open it: {why}"))
                return
            dropped_at = dropped_at or time.time()
            log.warning("%s: cannot open it (%s); trying again in %.1f s", feed.name, why, backoff())
            stop.wait(backoff())
            continue
        if dropped_at is not None:
            put(("gap", dropped_at, time.time(), why, failures))
            dropped_at = None
        timing = getattr(stream, "timing", None)
        put(("session", stream.fps, stream.backend, None if timing is None else timing.times))
        fps = stream.fps if stream.fps and math.isfinite(stream.fps) and stream.fps > 0 else None
        n, why, t0 = 0, "end of stream", None
        try:
            for frame in stream.frames:
                now = time.time()
                if feed.realtime and fps:
                    t0 = now if t0 is None else t0
                    wait = t0 + n / fps - now
                    if wait > 0:
                        if stop.wait(wait):
                            break
                        now = time.time()
                n += 1
                if not put(("frame", frame, now)):
                    break
        except Exception as exc:  # noqa: BLE001
            why = _error_text(exc)
        finally:
            try:
                stream.close()
            except Exception:  # noqa: BLE001
                pass
        put(("session_end", why, n))
        if stop.is_set() or not feed.reconnect:
            return
        if options.retries == 0:
            if why != "end of stream":
                put(("lost", f"{why} (not reopened: --retries 0)"))
            return
        dropped_at = time.time()
        failures = 0 if n else failures + 1
        if options.retries is not None and failures > options.retries:
            put(("lost", f"{why}; it opened {failures} time(s) in a row without a frame"))
            return
        stop.wait(backoff() if failures else options.backoff_s)


def _error_text(exc: BaseException) -> str:
    text = (str(exc).strip().splitlines() or [""])[-1]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class _Scorer:
    """A source's scoring thread: frames -> clips -> features -> scores -> events -> records."""

    def __init__(self, source: Source, wm: WatchModel, q: queue.Queue, stop: threading.Event, recorder: Recorder,
                 options: WatchOptions, score_lock: threading.Lock):
        self.source, self.wm, self.q, self.stop = source, wm, q, stop
        self.recorder, self.options, self.score_lock = recorder, options, score_lock
        self.backbone = copy.copy(wm.backbone)  # its own caches (motion's frame pairs), shared weights
        self.stats = SourceStats(source.name)
        self.slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", source.name).strip("_") or "source"
        self.run_stamp = time.strftime("%Y%m%d-%H%M%S")  # ids stay unique when events.jsonl is appended to
        self.numbered = 0  # events of the source's earlier videos
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
        # cells the models' history never showed moving (videoad.coverage), warned of once per video
        self._still = list(wm.model.info.get("history_still_cells") or [])
        self._coverage_attrs = {"backbone": wm.extraction.get("backbone"), "backbone_options": wm.extraction.get("options")}
        self._coverage_warned: set[str] = set()
        self._ending = None
        self._decided_at: float | None = None  # arrival of the last frame of the clip being fed
        self.done = threading.Event()

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
                elif kind == "session":
                    msg = self._session(*msg[1:])
                    continue
                elif kind == "session_end":
                    self._session_end(*msg[1:])
                elif kind == "gap":
                    self._gap(*msg[1:])
                elif kind == "failed":
                    self.stats.failed += 1
                    self.recorder.record({"type": "failed", "source": self.source.name, "video": msg[1],
                                          "reason": msg[2], "at": _iso(time.time())}, hook=True)
                    if isinstance(self.source, FileSource):
                        self.stats.lost = msg[2]
                elif kind == "lost":
                    self._finish("source lost")
                    self.stats.lost = msg[1]
                    self.recorder.record({"type": "lost", "source": self.source.name, "reason": msg[1],
                                          "at": _iso(time.time())}, hook=True)
                msg = self._get()
            self._finish("stopped" if msg[0] == "stop" else "end of stream")
            self.stats.ended = "stopped" if msg[0] == "stop" else "lost" if self.stats.lost else "ended"
        except Exception as exc:  # noqa: BLE001 - the run says why this source stopped
            log.exception("scoring %s failed", self.source.name)
            self.stats.lost = f"scoring failed: {type(exc).__name__}: {exc}"
            self.recorder.record({"type": "lost", "source": self.source.name, "reason": self.stats.lost,
                                  "at": _iso(time.time())}, hook=True)
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
        self.stats.live = feed.live
        if self.tracker is not None:
            self.numbered = self.tracker.n_events
        self.feed = feed
        self.fps = None
        self.frame_offset = self.clip_offset = 0
        self.backbone.start_video()  # its caches and the cuts it found belong to one video
        self.tracker = None
        self.smoother = None

    def _session(self, fps: float, backend: str, times=None):
        """Frames until the session ends -> clips -> scores; returns the message that ended it.
        `times`: the frames' own times when a file's frames do not keep one rate (extract.timing),
        sampled by them as extraction does."""
        from extract.clips import iter_clips

        fps = fps if fps and math.isfinite(fps) and fps > 0 else None
        if self.tracker is None:
            self.fps = fps
            self.tracker = EventTracker(self.feed.name, self.wm.alarm_line(self.options.smooth), fps, self.options.events,
                                        category=self.wm.group, cell_base=self._cell_base,
                                        numbered_after=self.numbered)  # a folder's files number on
            spec = self.wm.spec
            step = step_seconds(spec.stride, fps, spec.rate_for(fps))
            sigma = self.wm.model.sigma(step) if self.options.smooth else 0.0
            self.smoother = ScoreSmoother(sigma)
            record = {"type": "video", "source": self.source.name, "video": self.feed.name,
                      "fps": fps, "decoder": backend, "live": self.feed.live, "at": _iso(time.time())}
            problem = frame_rate_mismatch(self.wm.extraction, fps)
            if problem:
                log.warning("%s: %s", self.feed.name, problem)
                record["warning"] = problem
            self.recorder.record(record)
        self._ending = None
        offset = self.frame_offset
        spec = self.wm.spec
        n_clips = 0
        frames_in = 0

        def frames() -> Iterator[np.ndarray]:
            nonlocal frames_in
            while True:
                if self.pending and self.q.empty():
                    self._score_pending()  # caught up with the source: score now, for the lowest lag
                msg = self._get()
                if msg[0] != "frame":
                    self._ending = msg
                    return
                self.arrivals.add(offset + frames_in, msg[2])
                frames_in += 1
                self.stats.frames += 1
                yield msg[1]

        for clip in iter_clips(frames(), spec, fps if fps else math.nan, prepare=self.backbone.prepare_frame,
                               times=times if offset == 0 else None):
            n_clips = clip.index + 1
            self._clip(clip, offset)
        self._score_pending()
        self.frame_offset += frames_in
        self.clip_offset += n_clips
        return self._ending or _STOP

    def _session_end(self, why: str, n: int) -> None:
        if self.feed is not None and self.feed.reconnect and not self.stop.is_set():
            # a gap cannot be merged across: what was open ends here
            self._close_open("end of stream" if why == "end of stream" else "stream lost")

    def _gap(self, since: float, until: float, why: str, attempts: int) -> None:
        self.stats.gaps += 1
        self.recorder.record({"type": "gap", "source": self.source.name, "from": _iso(since), "to": _iso(until),
                              "seconds": round(until - since, 3), "reason": why, "attempts": attempts,
                              "resumes_at_frame": self.frame_offset}, hook=True)

    def _finish(self, why: str) -> None:
        self._score_pending()
        self._close_open(why)
        self._warn_dropped(time.time())  # what was dropped since the last warning is counted too

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
    def _check_shape(self, height: int, width: int) -> None:
        """At a video's (or session's) first clip: warn when its frames differ in shape or working
        size from the models' footage (log and a `warning` record); scored anyway."""
        sized = getattr(self.backbone, "working_size", None)
        problem = frame_shape_mismatch(self.wm.extraction, height, width,
                                       sized(width, height) if callable(sized) else None)
        if problem:
            log.warning("%s: %s", self.feed.name, problem)
            self.recorder.record({"type": "warning", "source": self.source.name, "video": self.feed.name,
                                  "warning": problem, "at": _iso(time.time())})

    def _clip(self, clip, offset: int) -> None:
        first, last = offset + clip.first, offset + clip.last
        if clip.index == 0:  # each session's first clip: a reconnected camera may send another size
            self._check_shape(*clip.source_shape)
        t_last = self.arrivals.at(last) or time.time()
        self.stats.clips += 1
        if self.feed.live and time.time() - t_last > self.options.max_lag_s:
            self._drop()
            return
        features = np.ascontiguousarray(self.backbone.preprocess_prepared(clip.prepared, [offset + i for i in clip.sources]))
        for frame in self.backbone.take_scene_cuts():
            self._scene_cut(frame)
        if self.stats.scored == 0 and not self.pending and self.wm.cell_grid is not None:
            region = self.backbone.cell_region(*clip.source_shape)
            self.region = tuple(float(r) for r in region) if region is not None else self.region
        k = (clip.last - clip.first) // 2 if self.wm.spec.rate_for(self.fps) is None else len(clip.frames) // 2
        self.pending.append((self.clip_offset + clip.index, first, last, features, _small(clip.frames[k]),
                             self.arrivals.at(first) or t_last, t_last))
        if len(self.pending) >= self.options.batch_size or (
                self.feed.live and time.time() - self.pending[0][6] > self.options.max_lag_s / 2):
            self._score_pending()  # a live clip does not wait for a batch to fill

    def _scene_cut(self, frame: int) -> None:
        """A cut in the stream: in a fixed camera's footage, the view itself changed (the camera
        was moved, covered or switched): a `scene_cut` record, to the hooks too, and a log line."""
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
        if self._still and self.feed.name not in self._coverage_warned:
            self._check_coverage(cells, batch)
        with self.score_lock:
            cell_scores, clip_scores = self.wm.model.score_arrays(np.asarray(features), cells)
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
        if self._dropped_since and time.time() - self._warned_at >= self.options.warn_every_s:
            self._warn_dropped(time.time())

    def _check_coverage(self, cells, batch) -> None:
        """The first clip of a video that moves where the models' history never did: a `warning`
        record and a log line (once per video), as `videoad detect --fit-on` warns."""
        from videoad import coverage

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
                self._report(kind, ev, "quiet")
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
        event_id = f"{self.slug}-{self.run_stamp}-E{ev.event:04d}"
        if self._still and ev.cells is not None:  # cells of the event its history never moved in
            ev.unseen_cells = sorted(set(self._still).intersection(ev.cells))
        rec = {"type": kind, "id": event_id, "source": self.source.name, "video": ev.video, "group": self.wm.group,
               "event": ev.event}
        rec.update({k: (_r(v) if isinstance(v, float) else v) for k, v in asdict(ev).items()
                    if k not in ("event", "video", "category")})
        rec.update(duration_s=_r(ev.duration_s), n_clips=ev.n_clips, cell_names=cell_names(ev.cells, grid) or None,
                   where=where_words(ev.peak_cells, grid) or None, score_unit=self.wm.score_unit,
                   start_at=_iso(stash.get("start_at")), peak_at=_iso(stash.get("peak_at")))
        if kind == "close":
            end_at = stash.get("end_at")
            decided = self._decided_at if why == "quiet" else None
            rec.update(end_at=_iso(end_at), closed_by=why, lag_s=_r(now - end_at, 3) if end_at else None,
                       rules_s=_r(decided - end_at, 3) if end_at and decided else None)
            self.stats.events += 1
        if self.options.images and stash.get("frame") is not None:
            name = f"{event_id}{'-open' if kind == 'open' else ''}.jpg"
            try:
                self._image(self.recorder.out / IMAGES / name, stash, ev, run)
                rec["image"] = f"{IMAGES}/{name}"
            except Exception as exc:  # noqa: BLE001 - the record matters more than its picture
                log.warning("%s: %s image not written: %s", self.source.name, event_id, exc)
        rec["recorded_at"] = _iso(time.time())
        self.recorder.record(rec, hook=True)

    def _image(self, path: Path, stash: dict, ev: Event, run) -> None:
        import cv2

        from videoad.events import fmt_score
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
        when = f"{ev.peak_s:.1f} s" if ev.peak_s is not None else f"frame {ev.peak_frame}"
        text = f"E{ev.event} peak {fmt_score(ev.peak_score)} at {when}"
        scale = bgr.shape[1] / 960
        (w, h), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
        cv2.rectangle(bgr, (0, 0), (w + 10, h + base + 8), (0, 0, 0), -1)
        cv2.putText(bgr, text, (5, h + 4), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1, cv2.LINE_AA)
        ok, data = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, 90])
        if not ok:
            raise RuntimeError("JPEG encoding failed")
        write_atomic(path, data.tobytes())


def _small(frame: np.ndarray) -> np.ndarray:
    """A copy of the frame at most IMAGE_WIDTH wide (what the event image is drawn on)."""
    import cv2

    h, w = frame.shape[:2]
    if w <= IMAGE_WIDTH:
        return frame.copy()
    return cv2.resize(frame, (IMAGE_WIDTH, max(1, round(h * IMAGE_WIDTH / w))), interpolation=cv2.INTER_AREA)


# ---------------------------------------------------------------------------------------------
# the public call


def watch(sources: list[Source], wm: WatchModel, out, options: WatchOptions | None = None,
          stop: threading.Event | None = None, on_progress: Callable[[list[SourceStats]], None] | None = None
          ) -> WatchSummary:
    """Watch `sources` with the model until they end, `stop` is set, or Ctrl-C (KeyboardInterrupt
    in the calling thread): open events are closed and recorded, hooks get `hook_timeout_s` to
    finish, and the summary says what happened. One reader and one scorer thread per source."""
    import cv2  # noqa: F401 - imported here, once, not by two source threads at the same time

    options = options or WatchOptions()
    options.events.check()
    stop = stop or threading.Event()
    recorder = Recorder(Path(out), options)
    score_lock = threading.Lock()
    recorder.record({"type": "watch", "at": _iso(time.time()), "sources": [s.name for s in sources],
                     "model": str(wm.model_dir), "group": wm.group, "threshold": wm.alarm_line(options.smooth),
                     "smooth": options.smooth,
                     "score_unit": wm.score_unit, "events": asdict(options.events), "extraction": wm.extraction,
                     "cell_grid": list(wm.cell_grid) if wm.cell_grid else None, "pid": os.getpid()})
    scorers, threads = [], []
    for src in sources:  # each source stops on its own (its end, its failure) or with all of them
        q: queue.Queue = queue.Queue(maxsize=max(2, options.frame_queue))
        scorer = _Scorer(src, wm, q, threading.Event(), recorder, options, score_lock)
        scorers.append(scorer)
        threads.append(threading.Thread(target=_reader, args=(src, q, scorer.stop, options),
                                        name=f"read {src.name}", daemon=True))
        threads.append(threading.Thread(target=scorer.run, name=f"score {src.name}", daemon=True))
    for t in threads:
        t.start()

    def stop_all() -> None:
        for s in scorers:
            s.stop.set()

    interrupted = False
    # waiting on events, not Thread.join: a join that Ctrl-C interrupts can leave the thread
    # looking finished on Python 3.11 (CPython gh-90882), and the open events would be lost
    try:
        while not all(s.done.wait(0.5) for s in scorers):
            if stop.is_set():
                stop_all()
            if on_progress is not None:
                on_progress([s.stats for s in scorers])
    except KeyboardInterrupt:
        interrupted = True
        stop_all()
        for s in scorers:
            s.done.wait(30)
    stop_all()
    if on_progress is not None:
        on_progress([s.stats for s in scorers])
    recorder.record({"type": "stop", "at": _iso(time.time()), "interrupted": interrupted,
                     "sources": [asdict(s.stats) for s in scorers]})
    recorder.close(options.hook_timeout_s)
    return WatchSummary([s.stats for s in scorers], interrupted, recorder.hooks.failures, recorder.hooks.dropped)


class Progress:
    """One line on standard error, rewritten about once a second: per source frames/s, the lag
    behind real time (live sources) or the speed (files read as fast as they decode), events and
    dropped clips. Silent when standard error is not a terminal."""

    def __init__(self, stream=None, every_s: float = 1.0):
        self.stream = stream or sys.stderr
        self.enabled = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.every_s, self._last, self._frames, self._width = every_s, 0.0, {}, 0

    def __call__(self, stats: list[SourceStats]) -> None:
        now = time.time()
        if not self.enabled or now - self._last < self.every_s:
            return
        parts = []
        for s in stats:
            prev_t, prev_n = self._frames.get(s.name, (s.started, 0))
            rate = (s.frames - prev_n) / max(1e-6, now - prev_t)
            self._frames[s.name] = (now, s.frames)
            pace = ("starting" if not s.scored else f"lag {s.lag_s:.2f} s" if s.live else
                    f"{s.media_s / max(1e-6, now - s.started):.1f}x real time")
            parts.append(f"{s.name}: {rate:.0f} frames/s, {pace}, {s.events} event(s)"
                         + (" + 1 open" if s.open else "") + (f", {s.dropped} dropped" if s.dropped else ""))
        line = " | ".join(parts)
        self.stream.write("\r" + line + " " * max(0, self._width - len(line)))
        self.stream.flush()
        self._width, self._last = len(line), now

    def done(self) -> None:
        if self.enabled and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
