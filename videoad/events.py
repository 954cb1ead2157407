"""Events: what an analyst reviews, made from clip scores.

An event is a run of consecutive clips whose score is over the video's alarm line
(`VideoScores.threshold`), runs closer than `merge_gap_s` merged into one, events shorter than
`min_length_s` dropped. Each event says where it is in time (frames and seconds), how strong it
is, and, when the run scored grid cells, where in the frame.

One peak convention everywhere (this table, the report, the timelines, the thumbnails): the
event's **peak** is its highest *clip* score; the peak frame is the middle frame of that clip and
the peak time is that frame's time. Frames are 0-based and inclusive, as in `segments.csv`;
`end_s` is the end of the last frame.

Cells involved: the grid cells whose highest score over the event's clips is in the upper half
between the video's typical cell score (the median over all its clips and cells) and the event's
hottest cell. The rule is scale-free, so it holds whatever unit the cell scores come in. The
hottest cells at the peak clip (same rule on that clip alone) are what the heat map boxes.

Written beside the scores: `events.csv` (one row per event, worst first) and `events.json`
(the same plus every video, including those without an event, and the settings).
"""
from __future__ import annotations

import csv
import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from videoad.scores import ScoreSet, VideoScores

FORMAT = "videoad-events/1"
EVENTS_CSV = "events.csv"
EVENTS_JSON = "events.json"
#: frame rate assumed to turn the second-based settings into frames when a video's is unknown
#: (image-sequence folders without --image-fps); events.json says when it was used
ASSUMED_FPS = 25.0
CSV_COLUMNS = ("event", "video", "category", "start_frame", "end_frame", "start_s", "end_s", "duration_s",
               "peak_score", "peak_frame", "peak_s", "mean_score", "threshold", "n_clips", "cells")


@dataclass(frozen=True)
class EventSettings:
    """How clip scores become events (the same rules for `detect`, `run` and the report)."""

    merge_gap_s: float = 2.0  # runs at most this far apart (end of one to start of next) are one event
    min_length_s: float = 2.0  # events shorter than this (first to last frame) are dropped: blips of a clip or two

    def check(self) -> "EventSettings":
        for name in ("merge_gap_s", "min_length_s"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                raise ValueError(f"event setting {name} must be a number >= 0, got {value!r}")
        return self


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

    def of(self, video: str) -> list[Event]:
        return [e for e in self.events if e.video == video]

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


def _fps(v: VideoScores) -> float | None:
    return float(v.fps) if v.fps and math.isfinite(v.fps) and v.fps > 0 else None


def _runs(over: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) clip index of each run of True values."""
    idx = np.flatnonzero(np.diff(np.concatenate([[0], over.astype(np.int8), [0]])))
    return [(int(a), int(b) - 1) for a, b in zip(idx[::2], idx[1::2])]


def _hot(values: np.ndarray, base: float) -> np.ndarray:
    """Indices of the values in the upper half between `base` and their maximum (none when no
    value rises above `base`: then no cell stands out)."""
    top = float(values.max())
    if not top > base:
        return np.zeros(0, dtype=int)
    return np.flatnonzero(values >= base + 0.5 * (top - base))


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
    per_frame = fps or ASSUMED_FPS
    gap = settings.merge_gap_s * per_frame
    min_len = settings.min_length_s * per_frame
    runs: list[list[int]] = []
    for a, b in _runs(v.scores > v.threshold):
        if runs and v.frames[a, 0] - v.frames[runs[-1][1], 1] - 1 <= gap:
            runs[-1][1] = b
        else:
            runs.append([a, b])
    base = float(np.median(v.cells)) if v.cells is not None and v.cells.size else 0.0
    for a, b in runs:
        start, end = int(v.frames[a, 0]), int(v.frames[a:b + 1, 1].max())
        if end - start + 1 < min_len:
            continue
        seg = v.scores[a:b + 1]
        peak = a + int(seg.argmax())
        peak_frame = int((v.frames[peak, 0] + v.frames[peak, 1]) // 2)
        ev = Event(
            event=0, video=v.video, category="" if v.category == "." else v.category, first_clip=a, last_clip=b,
            start_frame=start, end_frame=end,
            start_s=start / fps if fps else None, end_s=(end + 1) / fps if fps else None,
            peak_clip=peak, peak_score=float(v.scores[peak]), peak_frame=peak_frame,
            peak_s=peak_frame / fps if fps else None, mean_score=float(seg.mean()), threshold=float(v.threshold),
        )
        if v.cells is not None:
            ev.cells = sorted(int(c) for c in _hot(v.cells[a:b + 1].max(axis=0), base))
            ev.peak_cells = sorted(int(c) for c in _hot(v.cells[peak], base))
        out.events.append(ev)
    if not out.events:
        out.note = ("no clip over the alarm line" if not runs else
                    f"{len(runs)} run(s) over the alarm line, all shorter than {settings.min_length_s:g} s")
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
    region = tuple(float(x) for x in scores.meta.get("cell_region", (0.0, 0.0, 1.0, 1.0)))
    return EventSet(events, videos, settings, score_unit(scores.meta), scores.cell_grid, region)


def cell_names(cells: list[int] | None, grid: tuple[int, int] | None) -> str:
    """'row:col' of each cell (0-based from the top-left), space-separated; '' without cells."""
    if not cells or not grid:
        return ""
    return " ".join(f"{c // grid[1]}:{c % grid[1]}" for c in cells)


def where_words(cells: list[int] | None, grid: tuple[int, int] | None) -> str:
    """Where the cells sit in the grid, in words: 'top left', 'middle', 'bottom centre', or
    'most of the frame'; '' without cells. (Over the grid's region of the frame.)"""
    if not cells or not grid:
        return ""
    rows, cols = grid
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


def write_events(folder, events: EventSet) -> tuple[Path, Path]:
    """Write `events.csv` and `events.json` into the scores folder; returns both paths."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / (EVENTS_CSV + ".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(CSV_COLUMNS)
        for e in events.events:
            w.writerow([e.event, e.video, e.category, e.start_frame, e.end_frame, _fmt(e.start_s), _fmt(e.end_s),
                        _fmt(e.duration_s), f"{e.peak_score:.6g}", e.peak_frame, _fmt(e.peak_s),
                        f"{e.mean_score:.6g}", f"{e.threshold:.6g}", e.n_clips,
                        cell_names(e.cells, events.cell_grid)])
    tmp.replace(out / EVENTS_CSV)
    data = {
        "format": FORMAT,
        "settings": asdict(events.settings),
        "rule": "runs of clips with score > the video's threshold, merged across gaps <= merge_gap_s, "
                "kept when at least min_length_s long; peak = the highest clip score, at that clip's middle frame",
        "score_unit": events.score_unit,
        "cell_grid": list(events.cell_grid) if events.cell_grid else None,
        "cell_region": list(events.cell_region),
        "n_events": len(events.events),
        "videos": [{"video": v.video, "n_events": len(v.events), "events": [e.event for e in v.events],
                    "threshold": _r(v.threshold, 6), "peak_score": _r(v.peak_score, 6), "fps": v.fps,
                    **({"note": v.note} if v.note else {})} for v in events.videos],
        "events": [{**{k: (_r(x, 6) if isinstance(x, float) else x) for k, x in asdict(e).items()},
                    "duration_s": _r(e.duration_s, 6), "n_clips": e.n_clips,
                    "cell_names": cell_names(e.cells, events.cell_grid) or None}
                   for e in events.events],
    }
    tmp = out / (EVENTS_JSON + ".tmp")
    tmp.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(out / EVENTS_JSON)
    return out / EVENTS_CSV, out / EVENTS_JSON


def _fmt(x: float | None) -> str:
    return "" if x is None else f"{x:.3f}"


def read_settings(folder) -> EventSettings | None:
    """The settings an earlier `write_events` used in this scores folder, or None."""
    path = Path(folder) / EVENTS_JSON
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return EventSettings(**data["settings"]).check()
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{path}: not a readable events file ({exc})") from None
