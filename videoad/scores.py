"""The scores folder that `videoad detect` writes and `evaluate`, `plot` and `report` read.

Two plain files, so that an analyst can open them in a spreadsheet and any tool can read them:

``segments.csv``: one row per scored clip (segment), in video order then time order:

    video,category,group,clip,start_frame,end_frame,start_s,end_s,score

``video`` is the feature-store key (path relative to the extraction root), ``start_frame`` and
``end_frame`` are 0-based and inclusive (the store's convention), ``start_s``/``end_s`` the same
range in seconds (``end_s`` is the end of the last frame), ``score`` is the detector's anomaly
score (higher = more anomalous; for DUAD the reconstruction angle in radians).

``run.json``: everything else. ``videos`` holds per video the decoded frame count ``n_frames``
(needed to pad the tail), ``fps``, ``source``, ``category``, ``group``, ``threshold``;
``groups`` lists each group with its status (``fitted`` / ``skipped``) and, when skipped, the
reason; plus the detector, its parameters, the seed, the protocol and package versions.
"""
from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

FORMAT = "videoad-scores/1"
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

    @property
    def peak(self) -> float:
        return float(np.max(self.scores))

    def times(self) -> np.ndarray:
        """(n_clips, 2) start and end of each clip in seconds."""
        fps = self.fps if self.fps and self.fps > 0 else 1.0
        return np.stack([self.frames[:, 0] / fps, (self.frames[:, 1] + 1) / fps], axis=1)


@dataclass
class ScoreSet:
    """All videos of one detect run plus its metadata (`run.json` minus the per-video part)."""

    videos: list[VideoScores] = field(default_factory=list)
    meta: dict = field(default_factory=dict)
    path: Path | None = None

    def __iter__(self):
        return iter(self.videos)

    def __len__(self) -> int:
        return len(self.videos)

    @property
    def groups(self) -> list[dict]:
        return self.meta.get("groups", [])

    def skipped(self) -> list[dict]:
        return [g for g in self.groups if g.get("status") == "skipped"]


def _num(x) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


def write_scores(path, scoreset: ScoreSet) -> Path:
    """Write `segments.csv` and `run.json` into the folder `path` (created if missing)."""
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise ScoresError(f"{out}: exists and is not a folder (scores are a folder: segments.csv + run.json)")
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / "segments.csv.tmp"
    with open(tmp, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(COLUMNS)
        for v in scoreset.videos:
            t = v.times()
            for i, ((a, b), s) in enumerate(zip(v.frames, v.scores)):
                w.writerow([v.video, v.category, v.group, i, int(a), int(b), f"{t[i, 0]:.3f}", f"{t[i, 1]:.3f}", repr(float(s))])
    tmp.replace(out / "segments.csv")
    meta = dict(scoreset.meta)
    meta["format"] = FORMAT
    meta["videos"] = [
        {"video": v.video, "category": v.category, "group": v.group, "n_frames": int(v.n_frames),
         "fps": float(v.fps), "source": v.source, "threshold": _num(v.threshold), "n_clips": int(len(v.scores))}
        for v in scoreset.videos
    ]
    tmp = out / "run.json.tmp"
    tmp.write_text(json.dumps(meta, indent=2, default=_json_default) + "\n")
    tmp.replace(out / "run.json")
    return out


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


def read_scores(path) -> ScoreSet:
    """Read a scores folder (or its `segments.csv`); every inconsistency is an error naming the video."""
    p = Path(path)
    folder = p.parent if p.is_file() else p
    seg, run = folder / "segments.csv", folder / "run.json"
    for f in (seg, run):
        if not f.is_file():
            raise ScoresError(f"{folder}: not a scores folder, {f.name} is missing (write one with `videoad detect`)")
    try:
        meta = json.loads(run.read_text())
    except json.JSONDecodeError as exc:
        raise ScoresError(f"{run}: not valid JSON ({exc})") from None
    if meta.get("format") != FORMAT:
        raise ScoresError(f"{run}: unknown format {meta.get('format')!r} (expected {FORMAT})")
    info = {v["video"]: v for v in meta.pop("videos", [])}
    rows: dict[str, list] = {}
    with open(seg, newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ScoresError(f"{seg}: missing column(s) {missing}")
        for line, r in enumerate(reader, 2):
            try:
                rows.setdefault(r["video"], []).append(
                    (int(r["clip"]), int(r["start_frame"]), int(r["end_frame"]), float(r["score"]))
                )
            except (TypeError, ValueError):
                raise ScoresError(f"{seg}:{line}: bad number in {dict(r)}") from None
    videos = []
    for name in list(info) + [n for n in rows if n not in info]:
        if name not in info:
            raise ScoresError(f"{run}: video {name!r} is in segments.csv but not in run.json")
        if name not in rows:
            raise ScoresError(f"{seg}: video {name!r} is listed in run.json but has no segments")
        data = sorted(rows[name])
        arr = np.asarray([d[1:] for d in data], dtype=np.float64)
        v = info[name]
        videos.append(VideoScores(
            video=name, scores=arr[:, 2], frames=arr[:, :2].astype(np.int64), n_frames=int(v["n_frames"]),
            fps=float(v.get("fps") or 0.0), category=v.get("category", ""), group=v.get("group", ""),
            source=v.get("source", ""), threshold=v.get("threshold"),
        ))
        if v.get("n_clips") is not None and int(v["n_clips"]) != len(data):
            raise ScoresError(f"{seg}: video {name!r} has {len(data)} segments, run.json says {v['n_clips']}")
    return ScoreSet(videos, meta, folder)
