"""Frame-level evaluation of clip scores against per-video ground truth.

Frame mapping (`clip_to_frames`): every frame takes the score of the clip(s) covering it.
Overlapping clips (stride < clip length) are combined per frame by ``mean`` (default) or
``max``. Frames no clip covers are filled from the nearest clip before them (the frames before
the first clip from the first clip). The tail after the last clip is either padded with the last
clip's score (``tail="pad"``: every frame of the video is scored, as in the UCF-Crime authors'
evaluation, whose MATLAB script leaves the last clip and the tail at 0, a quirk not copied:
docs/video.md; our headline) or dropped (``tail="drop"``: the RTFM-lineage convention, frames after
the last clip are left out of both the scores and the ground truth).

AUROC and AP come from scikit-learn (imported when a figure is computed: `report` and `plot` read
this module's types and draw without it, a second less at every start). Pooled numbers
concatenate the frames of all videos (the literature's single UCF-Crime number); per-category and per-video numbers pool the frames of
that subset; a subset whose frames are all of one class has no AUROC and says so (NaN + reason).
A video whose scores cover a different number of frames than its ground truth is an error naming
the video, never a silent truncation.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from functools import cached_property
from typing import Iterable, Mapping, Sequence

import numpy as np

from extract.sources import one_line

OVERLAP_MODES = ("mean", "max")
TAIL_MODES = ("pad", "drop")


class LengthMismatchError(ValueError):
    """Scores and ground truth disagree about a video's length."""


def clip_to_frames(
    scores: np.ndarray,
    frames: np.ndarray,
    n_frames: int,
    *,
    overlap: str = "mean",
    tail: str = "pad",
    video: str = "?",
) -> np.ndarray:
    """Per-frame scores from clip scores and their (first, last) 0-based inclusive frame ranges.

    Returns an array of length `n_frames` (tail="pad") or last-covered-frame + 1 (tail="drop").
    """
    if overlap not in OVERLAP_MODES:
        raise ValueError(f"overlap must be one of {OVERLAP_MODES}, got {overlap!r}")
    if tail not in TAIL_MODES:
        raise ValueError(f"tail must be one of {TAIL_MODES}, got {tail!r}")
    scores = np.asarray(scores, dtype=np.float64).ravel()
    frames = np.asarray(frames, dtype=np.int64)
    if frames.ndim != 2 or frames.shape[1] != 2 or frames.shape[0] != scores.shape[0]:
        raise ValueError(
            f"video {video!r}: frames must be (n_clips, 2) matching {scores.shape[0]} scores, got {frames.shape}"
        )
    if scores.size == 0:
        raise ValueError(f"video {video!r}: no clip scores")
    if not np.isfinite(scores).all():
        raise ValueError(f"video {video!r}: scores contain NaN or inf")
    n_frames = int(n_frames)
    if (frames[:, 0] > frames[:, 1]).any() or frames.min() < 0:
        raise ValueError(f"video {video!r}: clip frame ranges must be 0-based with first <= last")
    if frames.max() >= n_frames:
        raise LengthMismatchError(
            f"length mismatch for video {video!r}: a clip ends at frame {int(frames.max())} (0-based) "
            f"but the video has {n_frames} frames"
        )
    # every (clip, frame) pair, clip by clip: a frame's clips are met in clip order, so sums add in
    # the order a loop over clips adds them (each clip's score over its own frames, not a running
    # sum of differences, whose rounding would give a frame of one clip 0.09999999999999998 for its
    # 0.1 and break the ties between equal clips that AUROC and AP count)
    lengths = frames[:, 1] - frames[:, 0] + 1
    owner = np.repeat(np.arange(len(scores)), lengths)
    frame_of = np.arange(owner.size) - np.repeat(np.cumsum(lengths) - lengths, lengths) + frames[owner, 0]
    if overlap == "mean":
        total = np.bincount(frame_of, weights=scores[owner], minlength=n_frames)
        count = np.bincount(frame_of, minlength=n_frames)
        covered = count > 0
        out = np.where(covered, total / np.maximum(count, 1), np.nan)
    else:
        out = np.full(n_frames, -np.inf)
        np.maximum.at(out, frame_of, scores[owner])
        covered = np.isfinite(out)
        out[~covered] = np.nan
    # fill uncovered frames forward from the last covered one, the leading ones backward
    idx = np.where(covered, np.arange(n_frames), -1)
    np.maximum.accumulate(idx, out=idx)
    first = int(np.argmax(covered))
    idx[idx < 0] = first
    out = out[idx]
    if tail == "drop":
        out = out[: int(frames[:, 1].max()) + 1]
    return out


def roc_auc(labels: np.ndarray, scores: np.ndarray, weights: np.ndarray | None = None) -> float:
    """AUROC, NaN when only one class is present (it is undefined there, not 0.5). `weights`: how
    many frames each (label, score) row stands for (`_runs`)."""
    labels = np.asarray(labels)
    if labels.size == 0 or labels.min() == labels.max():
        return float("nan")
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(labels, scores, sample_weight=weights))


def average_precision(labels: np.ndarray, scores: np.ndarray, weights: np.ndarray | None = None) -> float:
    labels = np.asarray(labels)
    if labels.size == 0 or labels.max() == 0 or labels.min() == 1:
        return float("nan")
    from sklearn.metrics import average_precision_score

    return float(average_precision_score(labels, scores, sample_weight=weights))


def curve_auc(fpr: np.ndarray, tpr: np.ndarray) -> float:
    """Area under a stored ROC curve by the trapezoid rule (how the UCF-Crime authors integrate)."""
    fpr = np.asarray(fpr, dtype=np.float64).ravel()
    tpr = np.asarray(tpr, dtype=np.float64).ravel()
    if fpr.shape != tpr.shape or fpr.size < 2:
        raise ValueError(f"an ROC curve needs matching FPR/TPR vectors of >= 2 points, got {fpr.shape}, {tpr.shape}")
    from sklearn.metrics import auc

    return float(auc(fpr, tpr))


def load_roc_mat(path) -> tuple[np.ndarray, np.ndarray, float]:
    """(FPR, TPR, stored AUC) from a MATLAB ROC file with keys X, Y, AUC (Sultani's Paper_Results)."""
    from scipy.io import loadmat

    m = loadmat(path)
    missing = [k for k in ("X", "Y", "AUC") if k not in m]
    if missing:
        raise ValueError(f"{path}: not an ROC .mat file, missing key(s) {missing}")
    return np.asarray(m["X"], float).ravel(), np.asarray(m["Y"], float).ravel(), float(np.asarray(m["AUC"]).ravel()[0])


# ---------------------------------------------------------------------------------------------
# evaluation over a set of videos


@dataclass
class Score:
    """AUROC/AP over a set of frames; `note` says why a number is missing."""

    name: str
    auroc: float
    ap: float
    n_frames: int
    n_anomalous: int
    n_videos: int
    note: str = ""

    def as_dict(self) -> dict:
        d = asdict(self)
        for k in ("auroc", "ap"):
            d[k] = None if math.isnan(d[k]) else d[k]
        return d


@dataclass
class VideoFrames:
    """One video's frame-level scores and labels, ready to pool."""

    video: str
    category: str
    scores: np.ndarray
    labels: np.ndarray
    scores_drop: np.ndarray
    labels_drop: np.ndarray

    @cached_property
    def runs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """`_runs` of the frames, found once: each video is pooled in several rows (all videos,
        anomalous ones, its category, itself)."""
        return _runs(self.scores, self.labels)

    @cached_property
    def runs_drop(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """`_runs` of the frames up to the last clip's end."""
        return _runs(self.scores_drop, self.labels_drop)


@dataclass
class Evaluation:
    """Everything `videoad evaluate` reports; `pooled` is the headline (tail padded)."""

    pooled: Score
    pooled_tail_dropped: Score
    anomalous_only: Score
    per_category: list[Score] = field(default_factory=list)
    per_video: list[Score] = field(default_factory=list)
    settings: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "settings": self.settings,
            "pooled": self.pooled.as_dict(),
            "pooled_tail_dropped": self.pooled_tail_dropped.as_dict(),
            "anomalous_only": self.anomalous_only.as_dict(),
            "per_category": [s.as_dict() for s in self.per_category],
            "per_video": [s.as_dict() for s in self.per_video],
        }


def _runs(scores: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(score, label, frames) of each run of consecutive frames sharing score and label: every frame
    of a clip (of a stride of overlapping clips) has one score, so a video's frames are a few runs.
    Pooled as weighted rows, they give the ROC and precision-recall curves of the frames themselves
    (the same counts at every threshold): a 2,000-video run held 73 bytes a frame pooling them
    one by one, 4.9 GB."""
    scores, labels = np.asarray(scores), np.asarray(labels)
    if scores.size == 0:
        return scores, labels, np.zeros(0, np.int64)
    change = np.empty(scores.size, bool)
    change[0] = True
    np.not_equal(scores[1:], scores[:-1], out=change[1:])
    change[1:] |= labels[1:] != labels[:-1]
    starts = np.flatnonzero(change)
    return scores[starts], labels[starts], np.diff(np.append(starts, scores.size))


def _score(name: str, items: Sequence[VideoFrames], *, drop: bool = False) -> Score:
    if not items:
        return Score(name, float("nan"), float("nan"), 0, 0, 0, "no videos")
    runs = [v.runs_drop if drop else v.runs for v in items]
    s, y, w = (np.concatenate(part) for part in zip(*runs))
    n_frames, n_pos = int(w.sum()), int(w[y > 0].sum())
    note = ""
    if n_pos == 0:
        note = "no anomalous frames: AUROC undefined"
    elif n_pos == n_frames:
        note = "every frame anomalous: AUROC undefined"
    return Score(name, roc_auc(y, s, w), average_precision(y, s, w), n_frames, n_pos, len(items), note)


def video_frames(
    video: str,
    category: str,
    clip_scores: np.ndarray,
    frames: np.ndarray,
    n_frames: int,
    labels: np.ndarray,
    *,
    overlap: str = "mean",
) -> VideoFrames:
    """Map one video's clip scores to frames and pair them with its labels (length-checked)."""
    labels = np.asarray(labels, dtype=np.int8)
    if labels.shape[0] != int(n_frames):
        raise LengthMismatchError(
            f"length mismatch for video {video!r}: scores cover {int(n_frames)} frames, ground truth has {labels.shape[0]}"
        )
    pad = clip_to_frames(clip_scores, frames, n_frames, overlap=overlap, tail="pad", video=video)
    drop = pad[: int(np.asarray(frames)[:, 1].max()) + 1]  # tail="drop" is the same frames cut at the last clip
    return VideoFrames(video, category, pad, labels, drop, labels[: drop.shape[0]])


def evaluate_frames(items: Iterable[VideoFrames], settings: Mapping | None = None) -> Evaluation:
    """Pooled, tail-dropped, anomalous-only, per-category and per-video AUROC/AP."""
    items = list(items)
    if not items:
        raise ValueError("nothing to evaluate: no videos")
    by_cat: dict[str, list[VideoFrames]] = {}
    for v in items:
        # "." is the store's group of the videos at the top of the folder extraction was given
        by_cat.setdefault("(top folder)" if v.category == "." else v.category or "(none)", []).append(v)
    return Evaluation(
        pooled=_score("all videos", items),
        pooled_tail_dropped=_score("all videos, tail dropped", items, drop=True),
        anomalous_only=_score("anomalous videos only", [v for v in items if v.labels.any()]),
        per_category=[_score(c, vs) for c, vs in sorted(by_cat.items())],
        per_video=[_score(v.video, [v]) for v in items],
        settings=dict(settings or {}),
    )


def format_evaluation(ev: Evaluation, *, per_video: bool = True) -> str:
    """Plain-text tables for the terminal."""

    def fmt(x: float) -> str:
        return "  n/a" if math.isnan(x) else f"{x:.4f}"

    def table(title: str, rows: list[Score]) -> list[str]:
        names = [one_line(r.name) for r in rows]  # a video's line feed forged a row
        width = max([len(title)] + [len(n) for n in names])
        out = [f"{title:<{width}}  AUROC   AP      frames   anomalous  videos  note"]
        for r, name in zip(rows, names):
            out.append(one_line(
                f"{name:<{width}}  {fmt(r.auroc):>6}  {fmt(r.ap):>6}  {r.n_frames:>7}  {r.n_anomalous:>9}  {r.n_videos:>6}  {r.note}"
            ))
        return out

    lines = []
    if ev.settings:
        lines.append(one_line("settings: " + ", ".join(f"{k}={v}" for k, v in ev.settings.items() if not isinstance(v, list))))
    lines += table("pooled", [ev.pooled, ev.pooled_tail_dropped, ev.anomalous_only])
    missing = ev.settings.get("annotated_but_not_scored") or 0
    if missing:  # "all videos" is the scored ones: a failed group's videos drop out of it
        shown = ev.settings.get("unscored_examples") or []
        lines.append(one_line(f"note: \"all videos\" pools the {ev.settings.get('videos_scored')} scored videos; {missing} "
                     f"annotated video(s) have no scores in this run ({', '.join(shown)}"
                     + (", ..." if missing > len(shown) else "") + "): not given to it, or in a group that failed or "
                     "was skipped, or left out (run.json says which and why)"))
    if ev.settings.get("scored_without_truth"):
        lines.append(one_line(f"note: {unlabelled_note(ev)}"))
    lines.append("")
    lines += table("category", ev.per_category)
    if per_video:
        lines.append("")
        lines += table("video", ev.per_video)
    return "\n".join(lines)


def score_frames(scores, annotations, *, overlap: str = "mean", unlabelled: str = "error") -> list[VideoFrames]:
    """Each scored video's frame scores beside its labels (what `evaluate_scores` pools; a caller
    can pool a subset with `evaluate_frames`). `unlabelled`: what a scored video the annotations do
    not list does: "error", or "leave" (left out of the list)."""
    if unlabelled not in ("error", "leave"):
        raise ValueError(f"unlabelled must be 'error' or 'leave', not {unlabelled!r}")
    items = []
    found = annotations.match(v.video for v in scores)
    for v in scores:
        ann = found[v.video]
        if ann is None:
            if unlabelled == "leave":
                continue
            raise ValueError(f"{annotations.source}: no ground truth for scored video {v.video!r} (every scored "
                             "video needs an entry, a normal one with no interval)")
        labels = ann.frame_labels(v.n_frames)
        items.append(video_frames(v.video, ann.category or v.category, v.scores, v.frames, v.n_frames, labels,
                                  overlap=overlap))
    return items


def unlabelled_note(ev: Evaluation, annotations: str | None = None) -> str:
    """What the figures leave out when some scored videos have no ground truth ("" when none);
    `annotations`: the file's name as said (default: as given)."""
    n = ev.settings.get("scored_without_truth") or 0
    if not n:
        return ""
    shown = ev.settings.get("unlabelled_examples") or []
    where = ev.settings.get("annotations") if annotations is None else annotations
    return (f"{n} scored video(s) have no ground truth in {where} and are left out of "
            f"these figures ({', '.join(shown)}" + (", ..." if n > len(shown) else "") + ")")


def evaluate_scores(scores, annotations, *, overlap: str | None = None, unlabelled: str = "error") -> Evaluation:
    """Evaluate a `ScoreSet` against `Annotations`: every scored video needs ground truth, unless
    `unlabelled="leave"` (the report, which shades what it has): the videos without are left out
    of the figures and counted in `settings`.

    The category of a video is the annotation's class when it has one, else the scores'.
    Annotated videos without scores (e.g. in a skipped group) are counted in `settings`.
    """
    overlap = overlap or scores.meta.get("config", {}).get("overlap", "mean")
    items = score_frames(scores, annotations, overlap=overlap, unlabelled=unlabelled)
    if not items:
        first = next(iter(scores), None)
        if first is None:
            raise ValueError("nothing to evaluate: no videos")
        raise ValueError(f"{annotations.source}: no ground truth for any scored video (first: {first.video!r}): "
                         "the annotations of another set?")
    scored = {a.video for a in annotations.match(v.video for v in scores).values() if a is not None}
    unscored = sorted(set(annotations) - scored)
    kept = {v.video for v in items}
    unlabelled_videos = [v.video for v in scores if v.video not in kept]
    settings = {"overlap": overlap, "tail": "pad (headline), drop (second row)",
                "annotations": annotations.source, "protocol": scores.meta.get("protocol", "?"),
                "videos_scored": len(items), "annotated_but_not_scored": len(unscored)}
    if unlabelled_videos:
        settings["scored_without_truth"] = len(unlabelled_videos)
    ev = evaluate_frames(items, settings)
    ev.settings["unscored_examples"] = unscored[:10]
    if unlabelled_videos:
        ev.settings["unlabelled_examples"] = unlabelled_videos[:10]
    return ev
