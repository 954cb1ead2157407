"""Live: a camera's stream scored as it arrives, its events raised as they happen (`videoad watch`).

Per source, two threads and one bounded queue between them:

    reader: open (reopen with backoff when a stream drops) -> decode -> stamp each frame's
            arrival time -> frame queue (bounded in frames and in bytes, `scorer.FrameQueue`: a slow
            scorer holds the reader back, never memory)
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
with a warning. What a kill leaves queued is sent by the next start into OUT (OUT/delivered.jsonl).

The package: `model` (the model and how its features were made), `sources`, `outputs` (settings and
what comes out), `scorer` (the two threads of a source); `watch` and `Progress` here.
"""
from __future__ import annotations

import logging
import math
import os
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Callable

from extract.sources import one_line
from videoad.live.model import WatchError, WatchModel, build_backbone, frame_rate_mismatch, frame_shape_mismatch
from videoad.live.outputs import (CELL_SAMPLE, CLIPS_FILE, EVENTS_CSV, EVENTS_FILE, IMAGES, WATCHED_FILE, Hooks,
                                  OutputError, Recorder, SourceStats, WatchOptions, WatchSummary, _iso)
from videoad.live.scorer import MB, FrameQueue, _reader, _Scorer
from videoad.live.sources import (Feed, FileSource, FolderSource, FramesSource, Source, StreamSource, make_source,
                                  name_apart)
from videoad.names import file_stems

log = logging.getLogger(__name__)

__all__ = ["CELL_SAMPLE", "CLIPS_FILE", "EVENTS_CSV", "EVENTS_FILE", "IMAGES", "WATCHED_FILE", "Feed", "FileSource",
           "FolderSource", "FramesSource", "Hooks", "OutputError", "Progress", "Recorder", "Source", "SourceStats", "StreamSource", "WatchError", "WatchModel",
           "WatchOptions", "WatchSummary", "build_backbone", "frame_rate_mismatch", "frame_shape_mismatch",
           "make_source", "watch"]

#: Ctrl-C: seconds the sources' scorers get, all of them together, to close their open events
#: (one wait per source in turn kept 16 stuck ones 8 minutes)
STOP_WAIT_S = 30.0


def footage_rate(extraction: Mapping) -> tuple[float, str] | None:
    """(rate, where from) to read a raw H.264/HEVC file that states no rate at: the native rate of the
    footage the models were fitted on (models.json's `fps`, the median of its videos'), the camera's
    likelier than FFmpeg's 25; None where it was not recorded (a frame folder without --image-fps)."""
    rate = extraction.get("fps")  # a bool is an int to Python: `fps: True` read raw streams at 1 frame a second
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not math.isfinite(rate) or rate <= 0:
        return None
    return float(rate), "the frame rate of the models' footage, models.json"


def watch(sources: list[Source], wm: WatchModel | Mapping[str, object], out, options: WatchOptions | None = None,
          stop: threading.Event | None = None, on_progress: Callable[[list[SourceStats]], None] | None = None
          ) -> WatchSummary:
    """Watch `sources` with the model until they end, `stop` is set, or Ctrl-C (KeyboardInterrupt
    in the calling thread): open events are closed and recorded, hooks get `hook_timeout_s` to
    finish, and the summary says what happened. One reader and one scorer thread per source.

    `wm`: one model for every source, or per source name a model or a `camera.CameraModels` that
    tells each of the source's videos' camera as it begins (`CameraModels.choose`). With one model,
    sources that share a name are renamed by their paths' ends (`sources.name_apart`, as `videoad
    watch` does); with models by name, a shared name is refused."""
    import cv2  # noqa: F401 - imported here, once, not by two source threads at the same time

    options = options or WatchOptions()
    options.check()
    stop = stop or threading.Event()
    if isinstance(wm, WatchModel):  # as the command line does: sources of one name would mix their events and ids
        name_apart(sources)
    else:  # models are given by name: a name two sources share cannot say whose model is whose
        names = [s.name for s in sources]
        shared = sorted({n for n in names if names.count(n) > 1})
        if shared:
            raise WatchError(f"{names.count(shared[0])} sources are named {shared[0]}, and the "
                             "models are given by name: name each source apart (the `name` of a Source, or "
                             "NAME=SOURCE on the command line) and give its model under that name")
    per_source = {s.name: wm for s in sources} if isinstance(wm, WatchModel) else dict(wm)
    missing = [s.name for s in sources if s.name not in per_source]
    if missing:
        raise WatchError(f"no model given for {', '.join(missing)}")
    for src in sources:  # a raw stream stating no rate: its models' footage's rate, not FFmpeg's 25 (if known)
        if src.image_fps is None and src.guessed_fps is None and isinstance(per_source[src.name], WatchModel):
            src.guessed_fps = footage_rate(per_source[src.name].extraction)
    recorder = Recorder(Path(out), options)
    for src in sources:  # a folder's files an earlier watch into this OUT finished are not scored again
        if isinstance(src, FolderSource):
            src.seen = recorder.watched_before(src.folder_key)
    score_lock = threading.Lock()
    start = {"type": "watch", "at": _iso(time.time()), "sources": [s.name for s in sources],
             "smooth": options.smooth, "events": asdict(options.events), "frame_queues": _queues_record(options, sources),
             "pid": os.getpid(), **recorder.begun()}
    if isinstance(wm, WatchModel):
        start.update(_model_record(wm, options))
    else:  # several cameras' models: each source's, its files' told as they arrive ("video" records)
        start["models"] = {name: _model_record(m, options) if isinstance(m, WatchModel) else
                           {"model": str(m.model_dir), "group": None, "cameras": sorted(m.known)}
                           for name, m in per_source.items()}
    try:
        recorder.record(start)
        recorder.redeliver()  # first the hooked records a killed watch into OUT had not sent
        recorder.retire_abandoned()  # the events a killed watch into OUT left open
    except OutputError:  # OUT's disk full already: nothing watched
        recorder.close(options.hook_timeout_s)
        raise
    scorers, threads = [], []
    slugs = file_stems([s.name for s in sources], empty="source")  # distinct event ids per source
    for src in sources:  # each source stops on its own (its end, its failure) or with all of them
        q = FrameQueue(options.frame_queue, options.frame_queue_mb * MB)
        scorer = _Scorer(src, per_source[src.name], q, threading.Event(), recorder, options, score_lock,
                         slugs[src.name])
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
            _folders_down(scorers)
            if on_progress is not None:
                on_progress([s.stats for s in scorers])
    except KeyboardInterrupt:
        interrupted = True
        stop_all()
        _wait_all(scorers, STOP_WAIT_S)
    stop_all()
    _folders_down(scorers)
    for s in scorers:
        s.stats.watched_before = getattr(s.source, "watched_before", 0)
        s.stats.still_writing = list(getattr(s.source, "still_writing", ()))
    if on_progress is not None:
        on_progress([s.stats for s in scorers])
    try:
        recorder.record({"type": "stop", "at": _iso(time.time()), "interrupted": interrupted,
                         "sources": [asdict(s.stats) for s in scorers], **recorder.begun()})
    except OutputError as exc:  # the next start reads OUT as a killed watch's, and takes up what this one left
        log.error("the stop record not written: %s", exc)
    recorder.close(options.hook_timeout_s)
    return WatchSummary([s.stats for s in scorers], interrupted, recorder.hooks.failures, recorder.hooks.dropped,
                        recorder.hooks.resent)


def _wait_all(scorers, seconds: float) -> None:
    """Wait for the scorers to finish, `seconds` for all of them together."""
    deadline = time.monotonic() + seconds
    for s in scorers:
        s.done.wait(max(0.0, deadline - time.monotonic()))


def _queues_record(options: WatchOptions, sources: list[Source]) -> dict:
    """What the start record says of the frame queues: their bounds, and the memory they take at
    most together (a frame larger than half the per-source cap aside: two frames always pass)."""
    return {"frames": options.frame_queue, "mb_per_source": options.frame_queue_mb,
            "bytes_at_most": options.frame_queue_mb * MB * len(sources)}


def _folders_down(scorers) -> None:
    """A folder that cannot be listed now, into its statistics (a stream's scorer sets its own)."""
    for s in scorers:
        if isinstance(s.source, FolderSource):
            s.stats.down = s.source.down


def _model_record(wm: WatchModel, options: WatchOptions) -> dict:
    """What the start record says of a model."""
    return {"model": str(wm.model_dir), "group": wm.group, "threshold": wm.alarm_line(options.smooth),
            "score_unit": wm.score_unit, "extraction": wm.extraction,
            "cell_grid": list(wm.cell_grid) if wm.cell_grid else None}


class Progress:
    """One line on standard error, rewritten about once a second: per source frames/s, the lag
    behind real time (live sources) or the speed (files read as fast as they decode), events and
    dropped clips. A line wider than the terminal (8 or 16 cameras) gives the totals instead, with
    the worst lag and the sources down, lost or dropping clips by name: a line that wraps cannot be
    rewritten in place, and scrolled a new one every second. Silent when standard error is not a
    terminal."""

    #: the line up on the terminal now: the console's log handler clears it before a log line (a
    #: hook's failure was written onto it, then overwritten by the next rewrite)
    shown: "Progress | None" = None

    def __init__(self, stream=None, every_s: float = 1.0):
        self.stream = stream or sys.stderr
        self.enabled = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.every_s, self._last, self._frames, self._width = every_s, 0.0, {}, 0

    def _columns(self) -> int:
        """The terminal's width now (it may be resized), 80 where it cannot be told."""
        try:
            return os.get_terminal_size(self.stream.fileno()).columns or 80
        except (AttributeError, OSError, ValueError):
            return 80

    def __call__(self, stats: list[SourceStats]) -> None:
        now = time.time()
        if not self.enabled or now - self._last < self.every_s:
            return
        parts, rates = [], {}
        for s in stats:
            prev_t, prev_n = self._frames.get(s.name, (s.started, 0))
            rate = rates[s.name] = (s.frames - prev_n) / max(1e-6, now - prev_t)
            self._frames[s.name] = (now, s.frames)
            pace = ("lost" if s.lost else "down" if s.down else "starting" if not s.scored else
                    f"lag {s.lag_s:.2f} s" if s.live else f"{s.media_s / max(1e-6, now - s.started):.1f}x real time")
            parts.append(f"{s.name}: {rate:.0f} frames/s, {pace}, {s.events} event(s)"
                         + (" + 1 open" if s.open else "") + (f", {s.dropped} dropped" if s.dropped else ""))
        width = max(20, self._columns() - 1)  # the last column left free: a full line wraps on some terminals
        line = one_line(" | ".join(parts))  # a name's line feed or carriage return broke the line rewritten
        if len(line) > width:
            line = one_line(self._totals(stats, rates))
        if len(line) > width:
            line = line[:width - 3] + "..."
        self.stream.write("\r" + line + " " * max(0, self._width - len(line)))
        self.stream.flush()
        self._width, self._last = len(line), now
        Progress.shown = self

    @staticmethod
    def _totals(stats: list[SourceStats], rates: dict[str, float]) -> str:
        """The sources together, then the ones to look at by name: lost, down, dropping clips (most
        first), the one furthest behind (what a narrow terminal cuts comes last)."""
        live = [s for s in stats if s.live and s.scored and not s.lost and not s.down]
        worst = max(live, key=lambda s: s.lag_s, default=None)
        opened = sum(s.open for s in stats)
        dropped = sum(s.dropped for s in stats)
        line = (f"{len(stats)} sources: {sum(rates.values()):.0f} frames/s, {sum(s.events for s in stats)} event(s)"
                + (f" + {opened} open" if opened else "") + (f", {dropped} dropped" if dropped else "")
                + (f", lag up to {worst.lag_s:.2f} s" if worst is not None else ""))
        for label, which in (("lost", [s.name for s in stats if s.lost]),
                             ("down", [s.name for s in stats if s.down and not s.lost]),
                             ("dropping", [f"{s.name} {s.dropped}" for s in sorted(stats, key=lambda s: -s.dropped)
                                           if s.dropped]),
                             ("furthest behind", [worst.name] if worst is not None and worst.lag_s > 0 else [])):
            if which:
                line += f" | {label}: " + ", ".join(which)
        return line

    def clear(self) -> None:
        """Wipe the line, for a line of text to be written in its place; the next update draws it again."""
        if self.enabled and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
            self._width = 0

    def done(self) -> None:
        self.clear()
        if Progress.shown is self:
            Progress.shown = None
