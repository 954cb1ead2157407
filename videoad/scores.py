"""The scores folder that `videoad detect` writes and `evaluate`, `plot` and `report` read.

Two plain files, so that an analyst can open them in a spreadsheet and any tool can read them:

``segments.csv``: one row per scored clip (segment), in video order then time order:

    video,category,group,clip,start_frame,end_frame,start_s,end_s,score

``video`` is the feature-store key (path relative to the extraction root; a name that starts like a
spreadsheet formula, ``=`` ``+`` ``-`` ``@``, is written with a leading ``'``), ``start_frame`` and
``end_frame`` are 0-based and inclusive (the store's convention), ``start_s``/``end_s`` the same
range in seconds (``end_s`` is the end of the last frame; empty when the frame rate is unknown),
``score`` is the detector's anomaly score (higher = more anomalous; for DUAD by default the
distance to its normal selection, with ``score: angle`` the reconstruction angle in radians).

``run.json``: everything else. ``videos`` holds per video the decoded frame count ``n_frames``
(needed to pad the tail), ``fps``, ``source``, ``category``, ``group``, ``threshold``;
``groups`` lists each group with its status (``fitted`` / ``skipped``) and, when skipped, the
reason; ``left_out`` the videos that could not be scored and why (no clip: shorter than one clip;
an unreadable feature file); plus the detector, its parameters, the seed, the protocol and
package versions.

``cells.h5`` (only when the detector scored grid cells): where in the frame each clip's score
comes from. One dataset per video, (n_clips, n_cells) float32, cell k = row k // cols, column
k % cols of the grid (row-major, top-left first); the dataset's ``video`` attribute is the store
key, the file's ``grid`` attribute is [rows, cols]. ``run.json`` repeats the grid as
``cell_grid``. A clip's score is an aggregate of its cells' scores (``cell_aggregate`` in
``run.json``), so the hottest cells say where the anomaly is.

``times.h5`` (only for videos whose frames keep no one rate: extract.timing): each frame's time in
seconds from the first, one dataset per video (``video`` attribute), so that every second and
clock time is read from the frames' own times, not from their average rate; such a video's entry
in ``run.json`` says ``"frame_times": "times.h5"`` (a folder that lost the file is refused).
"""
from __future__ import annotations

import csv
import io
import json
import logging
import math
from array import array
from dataclasses import dataclass, field
from numbers import Real
from operator import itemgetter
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from extract.store import blocking_file, remove_stale_temporaries, set_attr, temp_path, write_atomic  # the one atomic write: temporary, fsync, rename
from extract.clock import stored_start_warned
from extract.timing import local_steps, pauses_before  # a pause in the recording (`FrameClock.end_seconds`)
from videoad.names import cell_text, name_of_cell, name_of_shown, shown

log = logging.getLogger(__name__)

FORMAT = "videoad-scores/1"
CELLS_FILE = "cells.h5"
TIMES_FILE = "times.h5"
#: run.json's `csv_names` for a segments.csv whose formula-like names carry `cell_text`'s mark
MARKED_NAMES = "formula-like names marked as text"
#: the events `videoad.events.write_events` writes beside the scores (named here: a scores rewrite
#: removes them with run.json, so that a stopped one never leaves the previous run's)
EVENTS_CSV, EVENTS_JSON = "events.csv", "events.json"
#: where `videoad evaluate` writes its figures by default: of one run's scores, so a rewrite removes it
EVALUATION_JSON = "evaluation.json"
COLUMNS = ("video", "category", "group", "clip", "start_frame", "end_frame", "start_s", "end_s", "score")


class ScoresError(ValueError):
    """A scores folder that cannot be read; the message names the file and the problem."""


@dataclass
class VideoScores:
    """One video's clip scores with their frame ranges (0-based, inclusive)."""

    video: str
    scores: np.ndarray
    frames: np.ndarray
    n_frames: int
    fps: float
    category: str = ""
    group: str = ""
    source: str = ""
    threshold: float | None = None
    cells: np.ndarray | None = None  # (n_clips, n_cells) cell scores, row-major over `cell_grid`
    scene_cuts: int | None = None  # scene cuts the backbone found (None: not recorded)
    scene_cut_frames: list[int] | None = None  # where: the first sampled frame after each (None: not recorded)
    scene_cut_handling: str | None = None  # what the backbone did at them: "left out" | "held" | "kept"
    repeated_frames: int | None = None  # sampled frames repeating the one before exactly (None: not recorded)
    repeat_handling: str | None = None  # what the backbone did with them: "kept as pairs" | "spread over the gap"
    decode_warnings: str | None = None  # what extraction warned of in the source (damaged frames, ...)
    damaged_spans: list[list[int]] | None = None  # [first, last] frames filled in for damaged data
    start_time: str | None = None  # when the recording began, ISO 8601 (extract.clock), else None
    start_time_from: str | None = None  # where that was read: "file name" | "creation_time"
    #: the source as extraction read it: {"size": bytes, "files": count} (a report tells a source changed since)
    source_fingerprint: dict | None = None
    #: [x0, y0, x1, y1]: the part of the frame this video's cells cover (None: the run's `cell_region`)
    cell_region: list[float] | None = None
    #: each frame's time (s from the first) where its frames keep no one rate (a camera that records
    #: in bursts, a phone's variable rate: extract.timing); None: frame / fps
    frame_times: np.ndarray | None = None

    @property
    def peak(self) -> float:
        return float(np.max(self.scores))

    def _clock(self) -> "FrameClock | None":
        """The frames' clock, built once per frame_times (the event tracker asks for seconds clip by
        clip: a clock rebuilt per call made a 20,000-frame video's events take seconds)."""
        cached = self.__dict__.get("_clock_cache")
        if cached is not None and cached[0] is self.frame_times and cached[1] == (self.n_frames, self.fps):
            return cached[2]
        usable = self.frame_times is not None and len(self.frame_times) == self.n_frames and self.n_frames >= 2
        clock = FrameClock(self.frame_times, self.fps) if usable else None
        self.__dict__["_clock_cache"] = (self.frame_times, (self.n_frames, self.fps), clock)
        return clock

    @property
    def variable_rate(self) -> bool:
        """Whether the frames' own times place them (they keep no one rate), not frame / fps."""
        return self._clock() is not None

    def seconds(self, frames) -> np.ndarray:
        """Seconds from the video's first frame at (possibly fractional) frame positions, frame
        n_frames being the end of the last: from the frames' own times where they keep no one rate
        (an average rate put a burst 4 minutes early), else frame / fps (1 when unknown)."""
        clock = self._clock()
        if clock is None:
            return np.asarray(frames, dtype=np.float64) / (self.fps if self.fps and self.fps > 0 else 1.0)
        return clock.seconds(frames)

    def end_seconds(self, last_frames) -> np.ndarray:
        """Where frames end, in seconds (`FrameClock.end_seconds`; frame + 1 at one rate)."""
        clock = self._clock()
        return self.seconds(np.asarray(last_frames) + 1) if clock is None else clock.end_seconds(last_frames)

    def frame_at(self, seconds) -> np.ndarray:
        """`seconds`' inverse: the (fractional) frame position at each time."""
        clock = self._clock()
        if clock is None:
            return np.asarray(seconds, dtype=np.float64) * (self.fps if self.fps and self.fps > 0 else 1.0)
        return clock.frame_at(seconds)

    def recorded_seconds(self, first: int, last: int) -> float:
        """Seconds of recording in frames `first`..`last` (`FrameClock.recorded`: a pause in the
        recording left out); at one rate, from the start of `first` to the end of `last`."""
        clock = self._clock()
        if clock is None:
            return float(self.end_seconds(last) - self.seconds(first))
        return clock.recorded(first, last)

    def pause_frames(self) -> np.ndarray:
        """The frames a pause in the recording lies just before (`FrameClock.pauses`; none at one rate)."""
        clock = self._clock()
        return np.zeros(0, dtype=np.int64) if clock is None else clock.pauses

    def times(self) -> np.ndarray:
        """(n_clips, 2) start and end of each clip in seconds."""
        return np.stack([self.seconds(self.frames[:, 0]), self.end_seconds(self.frames[:, 1])], axis=1)


class FrameClock:
    """Seconds at frame positions from each frame's own time, for frames that keep no one rate (a
    camera recording in bursts, a phone's variable rate: extract.timing); what `VideoScores` and
    `videoad watch` read a variable-rate video's seconds from."""

    def __init__(self, times, fps: float | None = None) -> None:
        self.times = np.asarray(times, dtype=np.float64)
        gaps = np.diff(self.times)
        paused = pauses_before(self.times)[1:]
        # the step the frames keep, pauses left out: three frames, the last an hour on, made it 1800 s
        kept = gaps[~paused]
        self.step = float(np.median(kept)) if kept.size else 0.0
        if not self.step > 0:
            self.step = 1.0 / fps if fps and fps > 0 else 1.0
        self._ends = np.append(self.times, self.times[-1] + self.step)  # frame n: the end of the last
        # frame positions 0..n, made once: the event tracker asks for seconds clip by clip, and a
        # range made per call cost the frame count each time (a 4-hour video's events: 30 s)
        self._positions = np.arange(len(self._ends), dtype=np.float64)
        # before a pause a frame lasts the step the recording kept there, not until the next burst
        #: the frames a pause in the recording lies just before: an event ends at one (`EventTracker`)
        self.pauses = np.flatnonzero(paused) + 1
        lasts = np.where(paused, local_steps(self.times), gaps) if paused.any() else gaps
        self._lasts = np.append(lasts, self.step)
        self._recorded = np.concatenate([[0.0], np.cumsum(self._lasts)])  # recorded time before each frame

    def seconds(self, frames) -> np.ndarray:
        """Seconds at (fractional) frame positions, between the frames' times."""
        return np.interp(np.asarray(frames, dtype=np.float64), self._positions, self._ends)

    def end_seconds(self, last_frames) -> np.ndarray:
        """Where frames end: a frame lasts until the next one, except before a pause in the
        recording (extract.timing.pauses_before: the last frame of a camera's burst does not last
        until the next burst), where it lasts the step the recording kept around it."""
        k = np.clip(np.asarray(last_frames, dtype=np.int64), 0, len(self.times) - 1)
        return self.times[k] + self._lasts[k]

    def frame_at(self, seconds) -> np.ndarray:
        """`seconds`' inverse: the (fractional) frame position at each time."""
        return np.interp(np.asarray(seconds, dtype=np.float64), self._ends, self._positions)

    def recorded(self, first: int, last: int) -> float:
        """Seconds of recording in frames `first`..`last`, each frame's length summed: a pause in
        the recording inside them does not count (a clip across a camera's minute between bursts
        holds 1.6 s of footage, not 61.6)."""
        k = np.clip(np.asarray([first, last + 1], dtype=np.int64), 0, len(self.times))
        return float(self._recorded[k[1]] - self._recorded[k[0]])


@dataclass
class ScoreSet:
    """All videos of one detect run plus its metadata (`run.json` minus the per-video part)."""

    videos: list[VideoScores] = field(default_factory=list)
    meta: dict = field(default_factory=dict)
    path: Path | None = None
    #: videos whose scores could not be read, left out by `read_scores(damaged="leave")`: [{"video", "reason"}]
    damaged: list[dict] = field(default_factory=list)

    def __iter__(self):
        return iter(self.videos)

    def __len__(self) -> int:
        return len(self.videos)

    @property
    def cell_grid(self) -> tuple[int, int] | None:
        """(rows, cols) of the cell scores, or None when the run scored whole clips only."""
        grid = self.meta.get("cell_grid")
        return (int(grid[0]), int(grid[1])) if grid else None

    @property
    def groups(self) -> list[dict]:
        return self.meta.get("groups", [])

    def skipped(self) -> list[dict]:
        """Groups without scores: skipped before their fit (too few clips, no history) or failed in
        it (features that do not vary, ...): each with its status and reason. Single videos that
        could not be scored are `left_out()`."""
        return [g for g in self.groups if g.get("status") in ("skipped", "failed")]

    def left_out(self) -> list[dict]:
        """Videos of the store that have no scores and why (a feature file that cannot be read,
        shorter than one clip, no annotation to group by): [{"video", "reason"}]."""
        return list(self.meta.get("left_out", []))


def _num(x) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


#: the empty file `writable_folder` writes and removes, named as an atomic write's temporary of it
WRITE_CHECK = ".videoad-write-check"


def writable_folder(path, option: str = "-o") -> Path:
    """`path` made (parents too) and written to once, before the work that fills it: a folder that
    cannot take the outputs (under a file, read-only, full) fails at once, named, not after a fit.
    The probe is a temporary of `WRITE_CHECK` (`temp_path`): one a kill left between its write and
    its removal is cleared by the next run, where `.videoad-write-check-<pid>` stayed for good."""
    out = Path(path)
    try:
        out.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries([out / WRITE_CHECK])
        probe = temp_path(out / WRITE_CHECK)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        blocker = blocking_file(out)
        why = f"{blocker} is a file, not a folder" if blocker is not None else (exc.strerror or str(exc))
        raise ScoresError(f"cannot write to {out}: {why}; choose another folder with {option}") from exc
    return out


def write_scores(path, scoreset: ScoreSet) -> Path:
    """Write `segments.csv` and `run.json` into the folder `path` (created if missing)."""
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise ScoresError(f"{out}: exists and is not a folder (scores are a folder: segments.csv + run.json)")
    for v in scoreset.videos:  # what every reader refuses is not written (read_scores)
        bad = np.flatnonzero(~np.isfinite(np.asarray(v.scores, dtype=np.float64)))
        if bad.size:
            raise ScoresError(f"video {v.video!r}, clip {int(bad[0])}: score {float(v.scores[bad[0]])} is not a finite "
                              "number; the detector gave it (its fit diverged?)")
    out.mkdir(parents=True, exist_ok=True)
    # run.json goes first and comes last: a rewrite that stops partway leaves a folder that readers
    # refuse ("run.json is missing"), not this run's segments beside the previous run's thresholds,
    # cells and events
    files = [out / name for name in ("segments.csv", CELLS_FILE, TIMES_FILE, "run.json", EVENTS_CSV, EVENTS_JSON)]
    remove_stale_temporaries(files)  # a kill mid-write of an earlier run left them
    for name in ("run.json", EVENTS_CSV, EVENTS_JSON, EVALUATION_JSON):  # the last: the previous scores' figures
        (out / name).unlink(missing_ok=True)
    write_atomic(out / "segments.csv", (text.encode() for text in segments_chunks(scoreset.videos)))
    meta = dict(scoreset.meta)
    meta["format"] = FORMAT
    meta["csv_names"] = MARKED_NAMES  # names written by `names.cell_text` (older folders: as they are)
    meta["videos"] = [
        {"video": v.video, "category": v.category, "group": v.group, "n_frames": int(v.n_frames),
         "fps": float(v.fps), "source": v.source, "threshold": _num(v.threshold), "n_clips": int(len(v.scores)),
         **({} if v.scene_cuts is None else {"scene_cuts": int(v.scene_cuts)}),
         **({} if not v.scene_cut_frames else {"scene_cut_frames": [int(f) for f in v.scene_cut_frames]}),
         **({} if v.scene_cut_handling is None else {"scene_cut_handling": v.scene_cut_handling}),
         **({} if v.repeated_frames is None else {"repeated_frames": int(v.repeated_frames)}),
         **({} if v.repeat_handling is None else {"repeat_handling": v.repeat_handling}),
         **({} if not v.decode_warnings else {"decode_warnings": v.decode_warnings}),
         **({} if not v.damaged_spans else {"damaged_spans": [[int(a), int(b)] for a, b in v.damaged_spans]}),
         **({} if not v.start_time else {"start_time": v.start_time, "start_time_from": v.start_time_from}),
         **({} if not v.source_fingerprint else {"source_fingerprint": dict(v.source_fingerprint)}),
         **({} if v.cell_region is None else {"cell_region": [float(x) for x in v.cell_region]}),
         # its frames' own times are in times.h5: a folder that lost it is refused, not read at one rate
         **({} if v.frame_times is None else {"frame_times": TIMES_FILE})}
        for v in scoreset.videos
    ]
    timed = [(v.video, np.asarray(v.frame_times, dtype=np.float64)) for v in scoreset.videos if v.frame_times is not None]
    if timed:
        _write_arrays(out / TIMES_FILE, timed, {"unit": "s"})
    else:
        (out / TIMES_FILE).unlink(missing_ok=True)  # a rewrite without them must not keep stale ones
    with_cells = [v for v in scoreset.videos if v.cells is not None]
    if with_cells:
        grid = scoreset.cell_grid
        if grid is None:
            raise ScoresError(f"{out}: videos carry cell scores but the run has no cell_grid")
        _write_cells(out / CELLS_FILE, with_cells, grid)
    else:
        (out / CELLS_FILE).unlink(missing_ok=True)  # a rewrite without cells must not keep stale ones
    write_atomic(out / "run.json", (json.dumps(finite_json(meta), indent=2, default=_json_default, allow_nan=False)
                                     + "\n").encode())
    return out


def segments_text(videos) -> str:
    """segments.csv's text: what `csv.writer` writes row by row (the same bytes: "\\r\\n" line
    ends, a name quoted where it holds a comma, a quote or a line break; a name that starts like a
    spreadsheet formula marked as text, `names.cell_text`)."""
    return "".join(segments_chunks(videos))


def segments_chunks(videos) -> Iterator[str]:
    """`segments_text` a video at a time (the header first), as `write_scores` writes it: a
    dataset's run has millions of rows, and its whole text, encoded, held three copies of the file."""
    text = io.StringIO(newline="")
    csv.writer(text).writerow(COLUMNS)
    yield text.getvalue()
    for v in videos:
        head = io.StringIO(newline="")
        # a name that is not UTF-8 (a Latin-1 `caf\xe9.avi`, read as surrogates) as `shown` writes
        # it: the file, UTF-8 text, failed on it; read back through run.json's exact names
        csv.writer(head).writerow([cell_text(shown(v.video)), cell_text(shown(v.category)), cell_text(shown(v.group))])
        prefix = head.getvalue()[:-2] + ","  # the three names as csv.writer quotes them, less "\r\n"
        n = len(v.scores)
        if not n:
            continue
        first, last = (np.asarray(v.frames, dtype=np.int64).reshape(n, 2).T.tolist())
        scores = np.asarray(v.scores, dtype=np.float64).tolist()
        if v.fps and v.fps > 0:  # seconds left empty where the frame rate is unknown, as events.csv does
            t = v.times()
            times = [f"{a:.3f},{b:.3f}" for a, b in t.tolist()]
        else:
            times = [","] * n
        yield "".join(f"{prefix}{i},{a},{b},{ab},{s!r}\r\n"
                      for i, (a, b, ab, s) in enumerate(zip(first, last, times, scores)))


def _read_segments(seg: Path, marked: bool = True) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """segments.csv's rows per video, each video's in clip order: (clip, frames (n, 2), scores).
    Read as columns, converted to arrays a block of rows at a time and each video named once (its
    rows hold its number): the text of every field held at once was 480 bytes a row, 2 GB for a
    2,000-video run. A bad number is looked for row by row only when a block does not convert, and
    named with its row."""
    names: dict[str, int] = {}
    which = array("q")  # each row's video, numbered by where it first appears
    blocks: list[list[np.ndarray]] = []
    text: tuple[list, list, list, list] = ([], [], [], [])  # clip, start, end, score of the block's rows
    done = 0

    def convert() -> None:
        nonlocal done
        if not text[0]:
            return
        try:
            blocks.append([np.fromiter(map(int, c), np.int64, len(c)) for c in text[:3]]
                          + [np.fromiter(map(float, text[3]), np.float64, len(text[3]))])
        except (TypeError, ValueError):  # find the first bad one, to name it
            video = {n: k for k, n in names.items()}
            for row, fields in enumerate(zip(*text)):
                try:
                    int(fields[0]), int(fields[1]), int(fields[2]), float(fields[3])
                except (TypeError, ValueError):
                    raise ScoresError(f"{seg}: bad number in data row {done + row + 1} (video "
                                      f"{video[which[done + row]]!r}, clip {fields[0]!r}, frames {fields[1]!r}-"
                                      f"{fields[2]!r}, score {fields[3]!r})") from None
            raise
        done += len(text[0])
        for column in text:
            column.clear()

    try:
        with open(seg, newline="", encoding="utf-8-sig") as fh:  # a spreadsheet's "CSV UTF-8" begins with a BOM
            reader = csv.reader(fh)
            header = next(reader, None) or []
            missing = [c for c in COLUMNS if c not in header]
            if missing:
                raise ScoresError(f"{seg}: missing column(s) {missing}")
            pick = itemgetter(*(header.index(c) for c in ("video", "clip", "start_frame", "end_frame", "score")))
            add = [c.append for c in text]
            for r in reader:  # column by column: a list per row would be millions of objects to collect
                if not r:
                    continue  # a blank line, as DictReader skips it
                try:
                    name, *fields = pick(r)
                except IndexError:
                    raise ScoresError(f"{seg}:{reader.line_num}: {len(r)} fields, the header has "
                                      f"{len(header)}") from None
                which.append(names.setdefault(name, len(names)))
                for put, value in zip(add, fields):
                    put(value)
                if len(text[0]) >= READ_BLOCK:
                    convert()
            convert()
    except UnicodeDecodeError as exc:  # a spreadsheet's "CSV" in its own code page (Excel: Windows-1252)
        raise ScoresError(f"{seg}: not UTF-8 text (byte 0x{exc.object[exc.start:exc.start + 1].hex()} is not UTF-8: "
                          "saved in another encoding?); save it as 'CSV UTF-8'") from None
    if which and not _ends_a_line(seg):  # a cut in the last score reads as a score: "12.75" as "1"
        raise ScoresError(f"{seg}: ends inside its last row (video {list(names)[which[-1]]!r}): the file was cut "
                          "short (an interrupted copy or sync?); copy it again, or rerun `videoad detect`; if "
                          "you edited it by hand, end it with a line break")
    if not names:
        return {}
    clip_a, first, last, values = (np.concatenate(c) for c in zip(*blocks))
    frames = np.stack([first, last], axis=1)
    rows_video = np.frombuffer(which, dtype=np.int64)
    order = np.lexsort((values, frames[:, 1], frames[:, 0], clip_a, rows_video))  # per video, as sorting its tuples
    bounds = np.flatnonzero(np.diff(rows_video[order])) + 1
    unmark = name_of_cell if marked else str
    video = list(names)
    return {unmark(video[rows_video[part[0]]]): (clip_a[part], frames[part], values[part])
            for part in np.split(order, bounds)}


def _ends_a_line(path: Path) -> bool:
    """Whether the file's last byte ends a line, as every row `write_scores` writes does."""
    with open(path, "rb") as fh:
        fh.seek(-1, io.SEEK_END)
        return fh.read(1) in (b"\n", b"\r")


#: segments.csv rows converted to arrays at a time (`_read_segments`)
READ_BLOCK = 65536


def _write_cells(path: Path, videos: list[VideoScores], grid: tuple[int, int]) -> None:
    arrays = []
    for v in videos:
        cells = np.asarray(v.cells, dtype=np.float32)
        _check_cells(None, v.video, cells, len(v.scores), grid)
        arrays.append((v.video, cells))
    _write_arrays(path, arrays, {"grid": np.asarray(grid, dtype=np.int64)})


def _check_cells(path: Path | None, video: str, cells: np.ndarray, n_clips: int, grid) -> None:
    """A video's cell scores are one finite row per segment, one column per cell of `grid`: any
    other shape stopped the report with numpy's words (no file, no video), a NaN drew an empty
    heat map under a colour bar of -0.1 to 0.1."""
    where = f"{path}: video {video!r}" if path is not None else f"video {video!r}"
    rows, cols = (int(g) for g in grid)
    if cells.ndim == 2 and cells.shape[0] != n_clips:
        raise ScoresError(f"{where} has {cells.shape[0]} rows of cell scores for {n_clips} segments")
    if cells.shape != (n_clips, rows * cols):
        raise ScoresError(f"{where}: cell scores of shape {cells.shape}, expected {(n_clips, rows * cols)} "
                          f"for a {rows}x{cols} grid")
    bad = np.argwhere(~np.isfinite(cells))
    if bad.size:
        clip, cell = (int(x) for x in bad[0])
        raise ScoresError(f"{where}, clip {clip}: the score of cell {cell // cols}:{cell % cols} is "
                          f"{cells[clip, cell]}, not a finite number (rescore it with `videoad detect`)")


def _read_cells(path: Path) -> tuple[tuple[int, int], dict[str, np.ndarray]]:
    found, arrays = _read_arrays(path, "grid", "cell-scores")
    return tuple(int(g) for g in found), arrays


def _write_arrays(path: Path, arrays: list[tuple[str, np.ndarray]], attrs: dict) -> None:
    """An HDF5 file of one dataset per video (its `video` attribute the name) and file `attrs`."""
    import h5py

    image = io.BytesIO()
    with h5py.File(image, "w") as f:
        for name, value in attrs.items():
            f.attrs[name] = value
        for i, (video, values) in enumerate(arrays):
            set_attr(f.create_dataset(f"v{i}", data=values).attrs, "video", video)  # a name not UTF-8: its bytes
    write_atomic(path, image.getbuffer())


def _read_arrays(path: Path, attr: str, what: str) -> tuple[Any, dict[str, np.ndarray]]:
    """(the file attribute `attr`, video -> its array as float64) of `_write_arrays`' file."""
    import h5py

    try:
        with h5py.File(path, "r") as f:
            return f.attrs[attr], {str(ds.attrs["video"]): np.asarray(ds[()], dtype=np.float64) for ds in f.values()}
    except (OSError, KeyError) as exc:
        raise ScoresError(f"{path}: not a readable {what} file ({exc})") from None


def cell_region(value) -> list[float] | None:
    """A video's cell_region as [x0, y0, x1, y1] fractions of its frame, else None (the run's).
    Numbers only: float() took run.json's [false, false, true, true] for the whole frame."""
    try:
        if not all(isinstance(x, Real) and not isinstance(x, bool) for x in value):
            return None
        region = [float(x) for x in value]
    except (TypeError, ValueError):
        return None
    ok = len(region) == 4 and 0 <= region[0] < region[2] <= 1 and 0 <= region[1] < region[3] <= 1
    return region if ok else None


def _video_region(run: Path, name: str, value) -> list[float] | None:
    """A video's run.json `cell_region` (`cell_region`); one that is not a region is named, and the
    video's heat maps are placed on the run's (it was replaced in silence)."""
    region = cell_region(value)
    if region is None and value is not None:
        log.warning("%s: video %r: cell_region %s is not [x0, y0, x1, y1] in fractions of the frame (0 <= x0 < x1 "
                    "<= 1, the same for y): its heat maps are placed on the run's cell_region", run, name,
                    str(value)[:60])
    return region


def finite_json(value):
    """`value` with every float that is not finite as None: run.json and events.json stay JSON that
    any reader takes (Python's own would write Infinity and NaN, which JavaScript and jq refuse)."""
    if isinstance(value, dict):
        return {k: finite_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_json(v) for v in value]
    if isinstance(value, (float, np.floating)) and not math.isfinite(value):
        return None
    return value


def _json_default(value):
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} to run.json")


def _whole(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool) and x >= 0


#: run.json's run-wide keys that plot, report and evaluate read, each with the JSON type it must be
#: (a hand-edited one failed them as a traceback: "'str' object has no attribute 'get'")
_RUN_KEYS = {"config": dict, "groups": list, "left_out": list, "history_left_out": list, "unfinished_stores": list}


def _run_entries(run: Path, meta: dict) -> None:
    """run.json's run-wide keys checked for their shape; a slip is named with the key."""
    for key, kind in _RUN_KEYS.items():
        if meta.get(key) is not None and not isinstance(meta[key], kind):
            raise ScoresError(f"{run}: {key!r} must be a JSON {'object' if kind is dict else 'list'}, got "
                              f"{str(meta[key])[:60]!r}")
    grid = meta.get("cell_grid")
    if grid is not None and not (isinstance(grid, list) and len(grid) == 2 and all(_whole(g) and g > 0 for g in grid)):
        raise ScoresError(f"{run}: 'cell_grid' must be [rows, columns], two whole numbers >= 1, got "
                          f"{str(grid)[:60]!r}")
    if meta.get("cell_region") is not None and cell_region(meta["cell_region"]) is None:  # the heat maps' place
        raise ScoresError(f"{run}: 'cell_region' must be [x0, y0, x1, y1] in fractions of the frame (0 <= x0 < x1 "
                          f"<= 1, the same for y), got {str(meta['cell_region'])[:60]!r}")
    for key in ("groups", "left_out", "history_left_out"):
        bad = [x for x in meta.get(key) or [] if not isinstance(x, dict)]
        if bad:
            raise ScoresError(f"{run}: {key!r} must hold JSON objects, got {str(bad[0])[:60]!r}")
    for i, group in enumerate(meta.get("groups") or []):  # the report counts and lists each group's videos
        videos = group.get("videos")
        if videos is not None and (not isinstance(videos, list) or not all(isinstance(v, str) for v in videos)):
            raise ScoresError(f"{run}: groups[{i}] ({str(group.get('group'))[:60]!r}): 'videos' must be a JSON list "
                              f"of video names, got {str(videos)[:60]!r}")


def cells_problem(where, group, key: str, cells, grid) -> str | None:
    """What is wrong with a group's list of cell numbers `cells` (run.json's and models.json's
    `ignored_cells`, models.json's `history_still_cells`) on the grid [rows, columns] `grid` (None:
    a run of whole clips, whose numbers are only checked for their form), else None. One check and
    one wording for both files: a hand-edited cell past the grid stopped the report or the scoring
    in an IndexError."""
    n_cells = grid[0] * grid[1] if isinstance(grid, list) and len(grid) == 2 and all(_whole(g) for g in grid) else None
    if isinstance(cells, list) and all(_whole(c) and (n_cells is None or c < n_cells) for c in cells):
        return None
    within = f" 0-{n_cells - 1} of its {grid[0]}x{grid[1]} grid" if n_cells else ""
    return f"{where}: group {str(group)[:60]!r}: {key!r} must be a list of cell numbers{within}, got {str(cells)[:60]!r}"


def _ignored_cells(run: Path, meta: dict) -> None:
    """Each group's `ignored_cells` (what `--ignore-cells` left out, hatched on its heat maps), by
    `cells_problem`."""
    for group in meta.get("groups") or []:
        if group.get("ignored_cells") is not None:
            problem = cells_problem(run, group.get("group"), "ignored_cells", group["ignored_cells"],
                                    meta.get("cell_grid"))
            if problem:
                raise ScoresError(problem)


def _video_entries(run: Path, entries) -> list[dict]:
    """run.json's `videos`, each checked for what reading needs: a name, a frame count, numbers
    where numbers go (a hand-edited file's slip named with its video, not a traceback)."""
    if not isinstance(entries, list):
        raise ScoresError(f"{run}: 'videos' must be a list, got {type(entries).__name__}")
    for i, v in enumerate(entries):
        if not isinstance(v, dict) or not isinstance(v.get("video"), str):
            raise ScoresError(f"{run}: videos[{i}] has no 'video' name")
        n = v.get("n_frames")
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ScoresError(f"{run}: video {v['video']!r}: n_frames must be a whole number of frames >= 1, "
                              f"got {n!r}")
        for key in ("fps", "threshold"):  # JSON's Infinity: an fps that put every clip at 0 s
            x = v.get(key)
            if x is not None and (isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x)
                                  or (key == "fps" and x < 0)):
                raise ScoresError(f"{run}: video {v['video']!r}: {key} must be a finite number"
                                  f"{' >= 0' if key == 'fps' else ''} or null, got {x!r}")
        for key in ("category", "group", "source", "decode_warnings", "start_time", "start_time_from",
                    "scene_cut_handling", "repeat_handling"):
            if v.get(key) is not None and not isinstance(v[key], str):
                raise ScoresError(f"{run}: video {v['video']!r}: {key} must be text, got {v[key]!r}")
        for key in ("scene_cuts", "repeated_frames"):
            if v.get(key) is not None and not _whole(v[key]):
                raise ScoresError(f"{run}: video {v['video']!r}: {key} must be a whole number or null, got {v[key]!r}")
        cuts, spans = v.get("scene_cut_frames"), v.get("damaged_spans")
        if cuts is not None and not (isinstance(cuts, list) and all(_whole(f) for f in cuts)):
            raise ScoresError(f"{run}: video {v['video']!r}: scene_cut_frames must be a list of frames, got {cuts!r}")
        if spans is not None and not (isinstance(spans, list) and all(
                isinstance(p, list) and len(p) == 2 and all(_whole(f) for f in p) for p in spans)):
            raise ScoresError(f"{run}: video {v['video']!r}: damaged_spans must be a list of [first, last] frames, "
                              f"got {spans!r}")
        if v.get("n_clips") is not None and (isinstance(v["n_clips"], bool) or not isinstance(v["n_clips"], int)):
            raise ScoresError(f"{run}: video {v['video']!r}: n_clips must be a whole number, got {v['n_clips']!r}")
    return entries


def read_scores(path, damaged: str = "error") -> ScoreSet:
    """Read a scores folder (or its `segments.csv`); every inconsistency is an error naming the video.
    `damaged="leave"`: a video whose own scores are inconsistent (a hand edit's NaN, rows lost) is
    left out into `ScoreSet.damaged` with the error instead, so that a reader of each video alone
    (`plot`) still shows the others. One version of the folder: a `detect` rewriting it meanwhile
    (run.json removed first, written last) has the read done again, or refused naming it
    (`output_lock.read_whole`); its run.json from one run beside the next run's segments or cells
    was read in silence."""
    from videoad.output_lock import read_whole

    if damaged not in ("error", "leave"):
        raise ValueError(f"damaged must be 'error' or 'leave', got {damaged!r}")
    p = Path(path)
    folder = p.parent if p.is_file() else p
    return read_whole(folder, folder / "run.json", lambda: _read_folder(folder, damaged == "leave"), ScoresError)


def _read_folder(folder: Path, leave_damaged: bool = False) -> ScoreSet:
    seg, run = folder / "segments.csv", folder / "run.json"
    for f in (seg, run):
        if not f.is_file():
            from videoad.output_kinds import run_part

            raise ScoresError(run_part(folder, "scores") or
                              f"{folder}: not a scores folder, {f.name} is missing (write one with `videoad detect`)")
    try:
        meta = json.loads(run.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ScoresError(f"{run}: not valid JSON ({exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        found = meta.get("format") if isinstance(meta, dict) else type(meta).__name__
        raise ScoresError(f"{run}: unknown format {found!r} (expected {FORMAT})")
    _run_entries(run, meta)
    info = {v["video"]: v for v in _video_entries(run, meta.pop("videos", []))}
    marked = meta.get("csv_names") == MARKED_NAMES
    rows = _read_segments(seg, marked)
    if not marked:  # written between the mark and its marker (2026-12-06): unmark where run.json says so
        rows = {(name_of_cell(n) if n not in info and name_of_cell(n) in info else n): r for n, r in rows.items()}
    # a name that is not UTF-8 is written `\xe9` (`names.shown`), run.json holds it exactly
    rows = {(name_of_shown(n) if n not in info and name_of_shown(n) in info else n): r for n, r in rows.items()}
    cells: dict[str, np.ndarray] = {}
    if (folder / CELLS_FILE).is_file():
        grid, cells = _read_cells(folder / CELLS_FILE)
        if meta.setdefault("cell_grid", list(grid)) != list(grid):
            raise ScoresError(f"{run}: cell_grid {meta['cell_grid']!r} is not the grid of {folder / CELLS_FILE} "
                              f"({list(grid)})")
    _ignored_cells(run, meta)
    times: dict[str, np.ndarray] = {}
    if (folder / TIMES_FILE).is_file():
        _, times = _read_arrays(folder / TIMES_FILE, "unit", "frame-times")
    for name, v in info.items():
        if v.get("frame_times") and (name not in times or len(times[name]) != v["n_frames"]):
            raise ScoresError(f"{folder / TIMES_FILE}: video {name!r}: its frames' own times are "
                              + ("missing" if name not in times else f"{len(times[name])}, for {v['n_frames']} frames")
                              + " (run.json: its frames keep no one rate, and its seconds read at an average rate "
                              "are wrong); copy times.h5 with the folder, or rerun `videoad detect`")
    videos, damaged = [], []
    for name in list(info) + [n for n in rows if n not in info]:
        try:
            video = _video_read(folder, name, info, rows, cells, times, meta)
        except ScoresError as exc:
            if not leave_damaged:
                raise
            damaged.append({"video": name, "reason": str(exc)})
            continue
        if video is not None:
            videos.append(video)
    return ScoreSet(videos, meta, folder, damaged)


def _video_read(folder: Path, name: str, info: dict, rows: dict, cells: dict, times: dict,
                meta: dict) -> VideoScores | None:
    """One video of `_read_folder`, checked; None for a video written with no clips (noted in
    `meta`'s left_out)."""
    seg, run = folder / "segments.csv", folder / "run.json"
    if name not in info:
        raise ScoresError(f"{run}: video {name!r} is in segments.csv but not in run.json")
    if name not in rows and info[name].get("n_clips") == 0:  # written before `left_out`
        meta.setdefault("left_out", []).append({"video": name, "reason": "no clips"})
        return None
    if name not in rows:
        raise ScoresError(f"{seg}: video {name!r} is listed in run.json but has no segments")
    clip, frames, values = rows[name]
    n = len(clip)
    v = info[name]
    outside = np.flatnonzero((frames[:, 0] < 0) | (frames[:, 0] > frames[:, 1]) | (frames[:, 1] >= v["n_frames"]))
    if outside.size:  # drawn and made events of in silence (a clip past the end stretched the timeline)
        k = int(outside[0])
        raise ScoresError(f"{seg}: video {name!r}, clip {int(clip[k])}: frames {int(frames[k, 0])}-"
                          f"{int(frames[k, 1])} are not a range of its {v['n_frames']} frames (run.json's "
                          f"n_frames; 0-based, first <= last <= {v['n_frames'] - 1})")
    if not np.isfinite(values).all():
        bad = int(np.flatnonzero(~np.isfinite(values))[0])
        raise ScoresError(f"{seg}: video {name!r}, clip {int(clip[bad])}: score {values[bad]} is not a finite "
                          "number (rescore it with `videoad detect`)")
    # a start off a camera clock never set, in a run.json written before extraction checked for one
    # (2026-12-07): left out and said with the video's warnings, as a store read again gives it
    start, origin, warned = stored_start_warned(v.get("start_time"), v.get("start_time_from"), v.get("decode_warnings"))
    video = VideoScores(
        video=name, scores=values, frames=frames, n_frames=int(v["n_frames"]),
        fps=float(v.get("fps") or 0.0), category=v.get("category", ""), group=v.get("group", ""),
        source=v.get("source", ""), threshold=v.get("threshold"), cells=cells.get(name),
        scene_cuts=v.get("scene_cuts"), scene_cut_frames=v.get("scene_cut_frames"),
        scene_cut_handling=v.get("scene_cut_handling", "left out" if v.get("scene_cuts") is not None else None),
        repeated_frames=v.get("repeated_frames"), repeat_handling=v.get("repeat_handling"),
        decode_warnings=warned, damaged_spans=v.get("damaged_spans"), start_time=start, start_time_from=origin,
        cell_region=_video_region(run, name, v.get("cell_region")),
        frame_times=times.get(name) if name in times and len(times[name]) == int(v["n_frames"]) else None,
        source_fingerprint=v.get("source_fingerprint") if isinstance(v.get("source_fingerprint"), dict) else None,
    )
    if name in cells:
        _check_cells(folder / CELLS_FILE, name, cells[name], n, meta["cell_grid"])
    if v.get("n_clips") is not None and int(v["n_clips"]) != n:
        raise ScoresError(f"{seg}: video {name!r} has {n} segments, run.json says {v['n_clips']}")
    return video
