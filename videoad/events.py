"""Events: what an analyst reviews, made from clip scores.

An event is a run of consecutive clips whose score is over the video's alarm line
(`VideoScores.threshold`), runs closer than `merge_gap_s` merged into one, events shorter than
`min_length_s` (the footage they hold: a pause in the recording inside does not count) dropped.
An event ends at a pause in the recording (`extract.timing.pauses_before`: a motion-triggered
camera's hour between bursts, a clock set forward), as `videoad watch` ends one where a stream
drops: a clip across the pause belongs to the side its middle frame is on, and its frames on the
other side are not the event's.
Each event says where it is in time (frames and seconds), how strong it
is, and, when the run scored grid cells, where in the frame.

One peak convention everywhere (this table, the report, the timelines, the thumbnails): the
event's **peak** is its highest *clip* score; the peak frame is the middle frame of that clip and
the peak time is that frame's time. Frames are 0-based and inclusive, as in `segments.csv`;
`end_s` is the end of the last frame.

Cells involved: the grid cells whose highest score over the event's clips is in the upper half
between the video's typical cell score (the median over all its clips and cells) and the event's
hottest cell. The rule is scale-free, so it holds whatever unit the cell scores come in. The
hottest cells at the peak clip (same rule on that clip alone) are what the heat map boxes.

Unseen cells: when the model was fitted on a normal history whose motion features say where it
never moved (`videoad.coverage`, run.json's `history_still_cells`), the cells involved in an event
that are among those. Such an event may be ordinary activity the history did not cover rather than
an incident, and the table says so beside it.

Scene cuts: where the video's store placed its cuts (`extract.cuts`), the cuts inside each event
(`scene_cuts`, by the frame after each): the shot changes during it, which an analyst reads
differently (with a learned backbone that kept clips across cuts, the score may be the cut's).

Written beside the scores: `events.csv` (one row per event, worst first) and `events.json`
(the same plus every video, including those without an event, and the settings).
"""
from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from extract.store import write_atomic
from videoad.names import cell_text, shown
from videoad.scores import EVENTS_CSV, EVENTS_JSON, ScoreSet, VideoScores, finite_json

FORMAT = "videoad-events/1"
#: frame rate assumed to turn the second-based settings into frames when a video's is unknown
#: (image-sequence folders without --image-fps); events.json says when it was used
ASSUMED_FPS = 25.0
CSV_COLUMNS = ("event", "video", "category", "start_frame", "end_frame", "start_s", "end_s", "duration_s",
               "peak_score", "peak_frame", "peak_s", "mean_score", "threshold", "n_clips", "cells", "unseen_cells",
               "scene_cuts", "start_clock", "end_clock", "peak_clock", "peak_cells", "where", "group")


#: the longest merge gap or shortest event (seconds): a week, as the --merge-gap and --min-event
#: options take (videoad.cli.settings.MAX_SECONDS; tests/test_cli_bounds.py keeps them equal). A settings
#: file's min_length_s of 1e30 dropped every event, in silence
MAX_EVENT_S = 7 * 24 * 3600.0


@dataclass(frozen=True)
class EventSettings:
    """How clip scores become events (the same rules for `detect`, `run` and the report)."""

    merge_gap_s: float = 2.0  # runs at most this far apart (end of one to start of next) are one event
    min_length_s: float = 2.0  # events shorter than this (first to last frame) are dropped: blips of a clip or two

    def check(self) -> "EventSettings":
        for name in ("merge_gap_s", "min_length_s"):
            value = getattr(self, name)
            if isinstance(value, bool):  # JSON's true is an int to Python: run.json's `merge_gap_s: true` merged at 1 s
                raise ValueError(f"event setting {name}: {json.dumps(value)} is not a number of seconds")
            if not isinstance(value, (int, float)) or not math.isfinite(value) or not 0 <= value <= MAX_EVENT_S:
                raise ValueError(f"event setting {name} must be a number of seconds >= 0, at most {MAX_EVENT_S:g} "
                                 f"(a week, as --merge-gap and --min-event take), got {value!r}")
        return self


def event_name(number: int, width: int = 3) -> str:
    """An event as its report files name it (`E001.png`, `E001.mp4`); the console, the report's
    pages, the timelines and the pictures say the same, so that the name read anywhere finds the
    files. `width`: `watch` numbers on through a stream for days, its ids keeping 4 digits (E0001)."""
    return f"E{number:0{width}d}"


@dataclass
class Event:
    """One event; `event` is its 1-based rank in the run, worst (highest peak) first."""

    event: int
    video: str
    category: str
    first_clip: int
    last_clip: int
    start_frame: int
    end_frame: int
    start_s: float | None
    end_s: float | None
    peak_clip: int
    peak_score: float
    peak_frame: int
    peak_s: float | None
    mean_score: float
    threshold: float
    cells: list[int] | None = None  # grid cells involved (row-major indices), None without cell scores
    peak_cells: list[int] | None = None  # the hottest cells at the peak clip
    unseen_cells: list[int] | None = None  # cells involved where the fitted history never moved (None: not checked)
    scene_cuts: list[int] | None = None  # scene cuts inside it, by the frame after each (None: not recorded)
    #: the clock times of its start, end and peak, ISO 8601, where the recording's start is known
    #: (`VideoScores.start_time`, extract.clock) and the video's frame rate
    start_clock: str | None = None
    end_clock: str | None = None
    peak_clock: str | None = None
    #: the group whose model scored it (a camera under --per-camera, a category, "all" pooled)
    group: str = ""

    @property
    def n_clips(self) -> int:
        return self.last_clip - self.first_clip + 1

    @property
    def duration_s(self) -> float | None:
        return None if self.start_s is None else self.end_s - self.start_s


@dataclass
class VideoEvents:
    """A video's events (possibly none) with what the table needs to say why none."""

    video: str
    threshold: float | None
    peak_score: float
    fps: float
    events: list[Event] = field(default_factory=list)
    note: str = ""


@dataclass
class EventSet:
    """All events of a run, worst first, and every video (with or without events)."""

    events: list[Event]
    videos: list[VideoEvents]
    settings: EventSettings
    score_unit: str = "score"
    cell_grid: tuple[int, int] | None = None
    cell_region: tuple[float, float, float, float] = (0.0, 0.0, 1.0, 1.0)
    #: `of`'s events by video, and the (list, length) it was built from
    _index: dict | None = field(default=None, init=False, repr=False, compare=False)
    _index_key: tuple | None = field(default=None, init=False, repr=False, compare=False)

    def of(self, video: str) -> list[Event]:
        """The video's events, in the run's order (worst first); an index built once per event list
        (the report asks per video: a scan of every event each time cost videos x events)."""
        key = (id(self.events), len(self.events))
        if self._index_key != key:
            index: dict[str, list[Event]] = {}
            for e in self.events:
                index.setdefault(e.video, []).append(e)
            self._index, self._index_key = index, key
        return list(self._index.get(video, ()))

    @property
    def quiet_videos(self) -> list[VideoEvents]:
        return [v for v in self.videos if not v.events]


def score_unit(meta: dict) -> str:
    """What the score is, in words for axes and tables, as the detector said at fit time
    (DUAD: the distance to its normal selection by default, or the angle in radians)."""
    if meta.get("score_unit"):
        return str(meta["score_unit"])
    detector = (meta.get("config") or {}).get("detector", "")
    params = (meta.get("config") or {}).get("params") or {}
    if detector == "duad" and params.get("score", "angle") == "angle":
        return "reconstruction angle (rad)"  # runs written before the unit was recorded
    return "score"


def fmt_score(x: float | None) -> str:
    """How every page, table and figure writes a score, so one event shows one number."""
    if x is None or not math.isfinite(float(x)):
        return "n/a"
    x = float(x)
    return f"{x:.3f}" if x == 0 or 0.01 <= abs(x) < 1000 else f"{x:.3g}"


def fmt_time(s: float | None, frame: int | None = None) -> str:
    """How every page, table and figure writes a moment: 8.0 s, 1:02.5, 1:02:03.5; the frame when
    the time is unknown."""
    if s is None:
        return f"frame {frame}" if frame is not None else "n/a"
    # rounded once, to tenths, before minutes and hours are split off: 119.97 s is 2:00.0, not
    # 1:60.0, and an hour's times keep their tenths as shorter ones do (7325.9 s read 2:02:05);
    # the outer round only makes the tenths an int
    tenths = round(round(float(s), 1) * 10)
    if tenths < 600:
        return f"{tenths / 10:.1f} s"
    m, t = divmod(tenths, 600)
    sec = f"{t // 10:02d}.{t % 10}"
    if m < 60:
        return f"{m}:{sec}"
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{sec}"


def _fps(v: VideoScores) -> float | None:
    return float(v.fps) if v.fps and math.isfinite(v.fps) and v.fps > 0 else None


def _hot(values: np.ndarray, base: float) -> np.ndarray:
    """Indices of the values in the upper half between `base` and their maximum (none when no
    value rises above `base`: then no cell stands out)."""
    top = float(values.max())
    if not top > base:
        return np.zeros(0, dtype=int)
    return np.flatnonzero(values >= base + 0.5 * (top - base))


@dataclass
class _Run:
    """The run being built: clips first..last over the line (gap clips merged in), its peak."""

    first: int
    last: int
    start: int  # first frame of the first clip
    end: int  # last frame of the last clip
    scores: list  # every clip from first to last, gap clips included (the mean counts them)
    peak: int
    peak_score: float
    peak_frames: tuple[int, int]
    cells_max: np.ndarray | None
    peak_cells: np.ndarray | None
    opened: bool = False
    part: int = 0  # the stretch of recording between pauses it lies in (`EventTracker._part`)


class EventTracker:
    """Clip scores, one clip at a time, into events: the one place the event rules live.

    `video_events` feeds a finished video's clips through it; `videoad watch` feeds a stream's
    clips as they are scored, so a stream and a file give the same events. The rules: runs of
    consecutive clips whose score is over `threshold`; a run that starts at most `merge_gap_s`
    after the previous one ended (end of its last clip to start of the next) joins it; a run
    shorter than `min_length_s` is dropped (its length: the recording it holds, `recorded`, where the
    frames keep their own times: a clip across a burst camera's pause is no longer for the pause).
    A pause in the recording (`pauses`: the frames
    one lies just before, `FrameClock.pauses`) ends the open run, as a stream's gap ends it in
    `videoad watch`: an hour's pause inside was an event of 3607 s. Memory: the open run's clip scores
    and the few clips of a possible gap, nothing per frame.

    `feed` returns what happened: ("open", event) once a run is long enough to be kept (it
    will be reported closed later, with the same number), ("close", event) once no later clip
    can join it (the next clip starts more than the merge gap after its end) or at `flush`.
    `cell_base`: the typical cell score that "cells involved" are measured from (a number, or a
    function asked when an event is reported: a stream has no whole-video median).
    `numbered_after`: the number of the event before this tracker's first (0: they start at 1).
    """

    def __init__(self, video: str, threshold: float, fps: float | None, settings: EventSettings = EventSettings(),
                 *, category: str = "", cell_base=0.0, numbered_after: int = 0, seconds=None, ends=None,
                 recorded=None, pauses=None, group: str = "") -> None:
        self.video, self.threshold, self.category, self.group = video, float(threshold), category, group
        self.fps = fps if fps and math.isfinite(fps) and fps > 0 else None
        per_frame = self.fps or ASSUMED_FPS
        # in frames, rounded as the lengths they are compared with (`_exact`): 4.6 s at 25 frames/s
        # is 114.99999999999999 unrounded, and a gap of exactly 115 frames was not merged
        self.gap = _exact(settings.merge_gap_s * per_frame)
        self.min_len = _exact(settings.min_length_s * per_frame)
        # frame position -> seconds from the video's start (`VideoScores.seconds`: frames that keep
        # no one rate); None: frame / fps. With it the gap and the length are measured in seconds
        self._seconds, self._ends = seconds, ends  # `ends`: last frame -> where it ends (`VideoScores.end_seconds`)
        self._recorded = recorded  # (first, last frame) -> seconds of recording in them (`FrameClock.recorded`)
        self._pauses = np.asarray([] if pauses is None else pauses, dtype=np.int64)  # sorted
        self._settings = settings
        self._base = cell_base if callable(cell_base) else (lambda: cell_base)
        self.run: _Run | None = None
        self.last_closed: _Run | None = None  # the run `_close` ended last (its cells, for a heat map)
        self._pending: list[tuple[int, float, np.ndarray | None]] = []  # clips after the run's last over one
        self._previous_over = False
        self.n_runs = 0  # runs ended, kept or not (merged runs count once)
        self.closed_at_pause = False  # the last `feed` closed the run at a pause in the recording
        self.n_events = int(numbered_after)  # events are numbered on from here (a source's earlier videos)

    def feed(self, clip: int, first_frame: int, last_frame: int, score: float, cells: np.ndarray | None = None
             ) -> list[tuple[str, Event]]:
        """One scored clip, in clip order. Consecutive calls are consecutive clips (as rows of a
        video's scores are): a clip a stream dropped is simply not seen."""
        out: list[tuple[str, Event]] = []
        score = float(score)
        over = score > self.threshold
        clip_frames = (int(first_frame), int(last_frame))
        part, first_frame, last_frame = self._part(*clip_frames)
        self.closed_at_pause = self.run is not None and part != self.run.part
        if self.closed_at_pause:
            out += self._close()  # a pause in the recording since: nothing joins across it
        run = self.run
        if over:
            if run is not None and not self._previous_over and self._apart(run.end, first_frame):
                out += self._close()
                run = None
            if run is None:
                self.run = _Run(clip, clip, int(first_frame), int(last_frame), [score], clip, score, clip_frames,
                                None if cells is None else np.array(cells, dtype=float),
                                None if cells is None else np.array(cells, dtype=float), part=part)
            else:
                for _, s, c in self._pending:  # the gap's clips join the event
                    run.scores.append(s)
                    if c is not None:
                        np.maximum(run.cells_max, c, out=run.cells_max)
                run.scores.append(score)
                if cells is not None:
                    np.maximum(run.cells_max, cells, out=run.cells_max)
                if score > run.peak_score:
                    run.peak, run.peak_score, run.peak_frames = clip, score, clip_frames
                    run.peak_cells = None if cells is None else np.array(cells, dtype=float)
                run.last, run.end = clip, max(run.end, int(last_frame))
            self._pending = []
            if not self.run.opened and self._long_enough(self.run):
                self.run.opened = True
                self.n_events += 1
                out.append(("open", self._event(self.run)))
        elif run is not None:
            if self._apart(run.end, first_frame):  # no later clip can join: it starts later still
                out += self._close()
            else:
                self._pending.append((clip, score, None if cells is None else np.asarray(cells, dtype=float)))
        self._previous_over = over
        return out

    def _part(self, first: int, last: int) -> tuple[int, int, int]:
        """(the stretch between pauses the clip's middle frame lies in, the clip's first and last
        frame within it): a clip across a pause counts for the side of its middle frame, as its peak
        frame does, and its frames beyond the pause are not the event's (an end one clip past an
        hour's pause read 3614 s)."""
        if not self._pauses.size:
            return 0, first, last
        part = int(np.searchsorted(self._pauses, (first + last) // 2, side="right"))
        if part > 0:
            first = max(first, int(self._pauses[part - 1]))
        if part < self._pauses.size:
            last = min(last, int(self._pauses[part]) - 1)
        return part, first, last

    def _apart(self, end: int, first_frame: int) -> bool:
        """Whether a clip starting at `first_frame` lies beyond the merge gap after frame `end`."""
        if self._seconds is None:
            return first_frame - end - 1 > self.gap
        return _exact(self._seconds(first_frame) - self._end_of(end)) > self._settings.merge_gap_s

    def _long_enough(self, run: _Run) -> bool:
        if self._seconds is None:
            return run.end - run.start + 1 >= self.min_len
        length = (self._recorded(run.start, run.end) if self._recorded is not None
                  else self._end_of(run.end) - self._seconds(run.start))
        return _exact(length) >= self._settings.min_length_s

    def _end_of(self, frame: int) -> float | None:
        """Seconds where frame `frame` ends, None when the rate is unknown."""
        return float(self._ends(frame)) if self._ends is not None else self._at(frame + 1)

    def _at(self, frame: float) -> float | None:
        """Seconds at a frame position, None when the rate is unknown."""
        if self._seconds is not None:
            return float(self._seconds(frame))
        return frame / self.fps if self.fps else None

    def flush(self) -> list[tuple[str, Event]]:
        """The end of the clips: the open run ends here."""
        self._previous_over = False
        return self._close() if self.run is not None else []

    def _close(self) -> list[tuple[str, Event]]:
        run, self.run, self._pending = self.run, None, []
        self.last_closed = run
        self.n_runs += 1
        return [("close", self._event(run))] if run.opened else []

    def _event(self, run: _Run) -> Event:
        peak_frame = (run.peak_frames[0] + run.peak_frames[1]) // 2
        ev = Event(
            event=self.n_events, video=self.video, category="" if self.category == "." else self.category,
            group=self.group,
            first_clip=run.first, last_clip=run.last, start_frame=run.start, end_frame=run.end,
            start_s=self._at(run.start), end_s=self._end_of(run.end),
            peak_clip=run.peak, peak_score=run.peak_score, peak_frame=peak_frame,
            peak_s=self._at(peak_frame), mean_score=float(np.mean(run.scores)),
            threshold=self.threshold,
        )
        if run.cells_max is not None:
            base = float(self._base())
            ev.cells = sorted(int(c) for c in _hot(run.cells_max, base))
            ev.peak_cells = sorted(int(c) for c in _hot(run.peak_cells, base))
        return ev


def _exact(x) -> float:
    """A length in frames or seconds compared with a setting, rounded to a millionth: "at most
    merge_gap_s apart" and "at least min_length_s long" hold at equality, and float arithmetic put
    an equal length just off it (frames 10 fps apart: 7.9 + 0.1 - 6.4 = 1.5999999999999996 s, so a
    clip of exactly 1.6 s fell short of a 1.6 s minimum). Far below any frame's length."""
    return round(float(x), 6)


def video_events(v: VideoScores, settings: EventSettings = EventSettings()) -> VideoEvents:
    """The events of one video (numbered 0 here; `find_events` ranks them over the run)."""
    fps = _fps(v)
    out = VideoEvents(v.video, v.threshold, float(v.scores.max()) if len(v.scores) else float("nan"),
                      float(v.fps or 0.0))
    if v.threshold is None or not math.isfinite(float(v.threshold)):
        out.note = "no alarm line (the video's group has no threshold)"
        return out
    if not len(v.scores):
        out.note = "no clip scored"
        return out
    base = float(np.median(v.cells)) if v.cells is not None and v.cells.size else 0.0
    tracker = EventTracker(v.video, float(v.threshold), fps, settings, category=v.category, group=v.group or "",
                           cell_base=base,
                           seconds=v.seconds if v.frame_times is not None and fps else None,
                           ends=v.end_seconds if v.frame_times is not None and fps else None,
                           recorded=v.recorded_seconds if v.frame_times is not None and fps else None,
                           pauses=v.pause_frames() if v.frame_times is not None and fps else None)
    frames = np.asarray(v.frames)
    for k, score in enumerate(np.asarray(v.scores, dtype=np.float64)):
        done = tracker.feed(k, int(frames[k, 0]), int(frames[k, 1]), score, None if v.cells is None else v.cells[k])
        out.events += [e for kind, e in done if kind == "close"]
    out.events += [e for kind, e in tracker.flush() if kind == "close"]
    for e in out.events:
        e.event = 0
    if not out.events:
        out.note = ("no clip over the alarm line" if not tracker.n_runs else
                    f"{tracker.n_runs} run(s) over the alarm line, all shorter than {settings.min_length_s:g} s")
    if not fps:
        out.note = (out.note + "; " if out.note else "") + f"fps unknown: settings taken at {ASSUMED_FPS:g} frames/s"
    return out


def find_events(scores: ScoreSet, settings: EventSettings | None = None) -> EventSet:
    """Events of every video in a run, numbered 1.. from the highest peak score down."""
    settings = (settings or EventSettings()).check()
    videos = [video_events(v, settings) for v in scores]
    events = sorted((e for v in videos for e in v.events), key=lambda e: (-e.peak_score, e.video, e.start_frame))
    for rank, e in enumerate(events, 1):
        e.event = rank
    _mark_unseen(scores, videos)
    _mark_cuts(scores, videos)
    _mark_clock(scores, videos)
    region = tuple(float(x) for x in scores.meta.get("cell_region", (0.0, 0.0, 1.0, 1.0)))
    return EventSet(events, videos, settings, score_unit(scores.meta), scores.cell_grid, region)


#: how each of an event's clock times is rounded to the second (extract.clock.clock_after): the
#: start down and the end up, so that the span covers the event; the peak, a moment, to the nearest
CLOCK_ROUNDING = (("start", "down"), ("end", "up"), ("peak", "nearest"))


def clock_times(start, e: Event) -> dict[str, str]:
    """The event's `start_clock`, `end_clock` and `peak_clock` (those whose seconds are known), for a
    recording that began at `start` (a datetime); what events.csv/json and `videoad watch` write."""
    from extract.clock import clock_after

    seconds = {"start": e.start_s, "end": e.end_s, "peak": e.peak_s}
    return {f"{k}_clock": clock_after(start, seconds[k], how) for k, how in CLOCK_ROUNDING if seconds[k] is not None}


def _mark_clock(scores: ScoreSet, videos: list[VideoEvents]) -> None:
    """Each event's clock times, where its video's recording start is known (extract.clock)."""
    from datetime import datetime

    starts = {v.video: v.start_time for v in scores if v.start_time}
    for v in videos:
        start = starts.get(v.video)
        try:
            at = datetime.fromisoformat(start) if start else None
        except ValueError:
            at = None
        for e in v.events if at is not None else ():
            if e.start_s is None:
                continue  # no frame rate: seconds unknown
            for key, text in clock_times(at, e).items():
                setattr(e, key, text)


def _mark_unseen(scores: ScoreSet, videos: list[VideoEvents]) -> None:
    """Each event's `unseen_cells`, where its group's history records cells it never moved in."""
    still = {g.get("group"): set(g["history_still_cells"]) for g in scores.meta.get("groups") or ()
             if isinstance(g, dict) and g.get("history_still_cells") is not None}
    if not still:
        return
    group = {v.video: v.group for v in scores}
    for v in videos:
        cells = still.get(group.get(v.video))
        for e in v.events if cells is not None else ():
            if e.cells is not None:
                e.unseen_cells = sorted(cells.intersection(e.cells))


def _mark_cuts(scores: ScoreSet, videos: list[VideoEvents]) -> None:
    """Each event's `scene_cuts`, where its video's store placed them: an analyst reads an event
    across a change of shot differently (with a learned backbone that kept such clips, its score
    may be the cut's)."""
    placed = {v.video: v.scene_cut_frames or [] for v in scores
              if v.scene_cuts is not None and (v.scene_cut_frames or not v.scene_cuts)}
    for v in videos:
        for e in v.events if v.video in placed else ():
            # the cut lies between frames f - 1 and f: inside when both are
            e.scene_cuts = [f for f in placed[v.video] if e.start_frame < f <= e.end_frame]


def cell_names(cells: list[int] | None, grid: tuple[int, int] | None) -> str:
    """'row:col' of each cell (0-based from the top-left), space-separated; '' without cells."""
    if not cells or not grid:
        return ""
    return " ".join(f"{c // grid[1]}:{c % grid[1]}" for c in cells)


def where_words(cells: list[int] | None, grid: tuple[int, int] | None) -> str:
    """Where the cells sit in the grid, in words: 'top left', 'middle', 'bottom centre', or
    'most of the frame'; cells apart from each other each in their own words ('top left and top
    right': two corners read as one 'top centre', where nothing was); '' without cells. (Over the
    grid's region of the frame.)"""
    if not cells or not grid:
        return ""
    rows, cols = grid
    words: list[str] = []
    for part in _touching(sorted(set(cells)), cols):
        w = _where_one(part, rows, cols)
        if w not in words:
            words.append(w)
    return " and ".join(words)


def _touching(cells: list[int], cols: int) -> list[list[int]]:
    """The cells in groups that touch (sides or corners), in order of each group's first cell."""
    left, groups = set(cells), []
    for start in cells:
        if start not in left:
            continue
        group, todo = [], [start]
        left.discard(start)
        while todo:
            c = todo.pop()
            group.append(c)
            r, k = divmod(c, cols)
            for n in list(left):
                nr, nk = divmod(n, cols)
                if abs(nr - r) <= 1 and abs(nk - k) <= 1:
                    left.discard(n)
                    todo.append(n)
        groups.append(sorted(group))
    return groups


def _where_one(cells: list[int], rows: int, cols: int) -> str:
    r = [c // cols for c in cells]
    k = [c % cols for c in cells]
    if (max(r) - min(r) + 1) > 2 * rows / 3 and (max(k) - min(k) + 1) > 2 * cols / 3:
        return "most of the frame"
    cy = (min(r) + max(r) + 1) / 2 / rows
    cx = (min(k) + max(k) + 1) / 2 / cols
    v = "top" if cy < 1 / 3 else "bottom" if cy > 2 / 3 else "middle"
    h = "left" if cx < 1 / 3 else "right" if cx > 2 / 3 else "centre"
    return "middle" if (v, h) == ("middle", "centre") else f"{v} {h}"


def _r(x: float | None, digits: int = 3):
    return None if x is None else round(float(x), digits)


#: an event's fields that are scores: written to 6 significant digits as events.csv writes them, not
#: 6 decimals (scores in a unit of 1e-7 read 0.0 in events.json, peak and line alike)
SCORE_FIELDS = ("peak_score", "mean_score", "threshold")


def json_number(key: str, x: float | None) -> float | None:
    """A float field of an event as events.json and `videoad watch`'s records write it: a score to 6
    significant digits, a time or anything else to 6 decimals."""
    if x is None or not math.isfinite(float(x)):
        return None if x is None else float(x)
    return float(f"{float(x):.6g}") if key in SCORE_FIELDS else round(float(x), 6)


def write_events(folder, events: EventSet) -> tuple[Path, Path]:
    """Write `events.csv` and `events.json` into the scores folder; returns both paths."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    text = io.StringIO(newline="")
    w = csv.writer(text)
    w.writerow(CSV_COLUMNS)
    for e in events.events:
        # a name that is not UTF-8 (Latin-1 `caf\xe9.avi`, read as surrogates) as `names.shown` writes it
        w.writerow([e.event, cell_text(shown(e.video)), cell_text(shown(e.category)), e.start_frame, e.end_frame, _fmt(e.start_s), _fmt(e.end_s),
                    _fmt(e.duration_s), f"{e.peak_score:.6g}", e.peak_frame, _fmt(e.peak_s),
                    f"{e.mean_score:.6g}", f"{e.threshold:.6g}", e.n_clips,
                    cell_names(e.cells, events.cell_grid), cell_names(e.unseen_cells, events.cell_grid),
                    " ".join(map(str, e.scene_cuts or ())), e.start_clock or "", e.end_clock or "", e.peak_clock or "",
                    # the peak clip's hottest cells, boxed in the event's picture (`cells`: every cell of the event)
                    cell_names(e.peak_cells, events.cell_grid), where_words(e.peak_cells, events.cell_grid),
                    cell_text(shown(e.group))])
    write_atomic(out / EVENTS_CSV, text.getvalue().encode("utf-8"))
    data = {
        "format": FORMAT,
        "settings": asdict(events.settings),
        "rule": "runs of clips with score > the video's threshold, merged across gaps <= merge_gap_s, "
                "kept when they hold at least min_length_s of footage, ended at a pause in the recording; peak = the highest clip score, at that clip's middle frame",
        "score_unit": events.score_unit,
        "cell_grid": list(events.cell_grid) if events.cell_grid else None,
        "cell_region": list(events.cell_region),
        "n_events": len(events.events),
        "videos": [{"video": v.video, "n_events": len(v.events), "events": [e.event for e in v.events],
                    "threshold": json_number("threshold", v.threshold),
                    "peak_score": json_number("peak_score", v.peak_score), "fps": v.fps,
                    **({"note": v.note} if v.note else {})} for v in events.videos],
        "events": [{**{k: (json_number(k, x) if isinstance(x, float) else x) for k, x in asdict(e).items()},
                    "duration_s": _r(e.duration_s, 6), "n_clips": e.n_clips,
                    "cell_names": cell_names(e.cells, events.cell_grid) or None,
                    # events.csv's `where` (and `videoad watch`'s records'): the peak cells in words
                    "where": where_words(e.peak_cells, events.cell_grid) or None}
                   for e in events.events],
    }
    # a name that is not UTF-8 (surrogates) as JSON's \udcXX escape, read back as the same name
    write_atomic(out / EVENTS_JSON, (json.dumps(finite_json(data), indent=1, ensure_ascii=False, allow_nan=False)
                                     + "\n").encode("utf-8", "backslashreplace"))
    return out / EVENTS_CSV, out / EVENTS_JSON


def _fmt(x: float | None) -> str:
    return "" if x is None else f"{x:.3f}"


def read_settings(folder, meta: dict | None = None) -> EventSettings | None:
    """The settings an earlier `write_events` used in this scores folder, else those its run.json
    records (`write_scores_and_events`: a run killed after run.json and before the events files
    left a folder whose report and timelines found events by the default rules, without a word),
    else None (folders written before either). `meta`: the run.json read with the scores
    (`ScoreSet.meta`), whose settings, where it records them, are taken (the events files hold the
    same, written with it): read again, a `detect` rewriting the folder since gave the next run's."""
    recorded = (meta or {}).get("event_settings")
    if isinstance(recorded, dict):
        try:
            return EventSettings(**recorded).check()
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{Path(folder) / 'run.json'}: its event_settings cannot be read ({exc})") from None
    path = Path(folder) / EVENTS_JSON
    if not path.is_file():
        run = Path(folder) / "run.json"
        try:
            recorded = json.loads(run.read_text(encoding="utf-8")).get("event_settings") if run.is_file() else None
            return EventSettings(**recorded).check() if isinstance(recorded, dict) else None
        except (ValueError, TypeError, AttributeError) as exc:
            raise ValueError(f"{run}: its event_settings cannot be read ({exc})") from None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return EventSettings(**data["settings"]).check()
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{path}: not a readable events file ({exc})") from None


def write_scores_and_events(folder, scores: ScoreSet,
                            settings: EventSettings | None = None) -> tuple[ScoreSet, EventSet]:
    """Write a run's scores, then the events found in them by `settings`, into the scores folder
    `folder`; the settings also go into run.json, which is written before the events files, so
    that a folder whose events files a kill kept from being written is read by the rules the run
    used (`read_settings`). Returns the scores as stored (read back) and their events: what
    `videoad report` reads of the folder later. The cell scores are stored as float32, and a report
    drawn from the detector's float64 ones kept no event picture or clip on the next `report` (their
    keys differ), nor were its events' cells always those `report` finds."""
    from videoad.scores import read_scores, write_scores

    settings = (settings or EventSettings()).check()
    scores.meta["event_settings"] = asdict(settings)
    write_scores(folder, scores)
    stored = read_scores(folder)
    events = find_events(stored, settings)
    write_events(folder, events)
    return stored, events
