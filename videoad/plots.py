"""Timeline plots: one figure per video, the analyst's view of a detect run.

The top panel draws the per-frame score (clip scores mapped to frames exactly as `evaluate`
maps them) against time in seconds, with frame numbers on the upper axis, the ground-truth
intervals shaded when there are any, and the group's label-free threshold as a dashed line.
Below it, thumbnails of the top-scoring clips (the middle frame of each, peaks at least one
clip apart) numbered as on the curve, so that a reviewer sees *what* scored high without
opening the video. When the source video cannot be read the figure says so instead of the
thumbnails. PNG or SVG, by the file extension.
"""
from __future__ import annotations

import logging
import math
import os
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from videoad.metrics import clip_to_frames
from videoad.scores import VideoScores

log = logging.getLogger(__name__)

FORMATS = (".png", ".svg")


def top_clips(v: VideoScores, k: int) -> list[int]:
    """Indices of the k highest-scoring clips, no two of them overlapping in frames."""
    chosen: list[int] = []
    for i in np.argsort(-v.scores, kind="stable"):
        a, b = v.frames[i]
        if all(b < v.frames[j, 0] or a > v.frames[j, 1] for j in chosen):
            chosen.append(int(i))
        if len(chosen) == k:
            break
    return chosen


def read_frames(source: str | os.PathLike, indices: list[int]) -> dict[int, np.ndarray]:
    """RGB frames at the given 0-based indices of a video file or image folder (one pass)."""
    from extract.decode import open_image_folder, open_video

    path = Path(source)
    if not path.exists():
        raise FileNotFoundError(f"{path}: source video not found")
    stream = open_image_folder(path) if path.is_dir() else open_video(path)
    wanted, out = set(indices), {}
    try:
        for i, frame in enumerate(stream.frames):
            if i in wanted:
                out[i] = frame
                if len(out) == len(wanted):
                    break
    finally:
        stream.close()
    return out


def _x_axis(v: VideoScores):
    """(x values per frame, x label, frame->x, x->frame); seconds when the fps is known."""
    fps = v.fps if v.fps and math.isfinite(v.fps) and v.fps > 0 else None
    if fps is None:
        ident = (lambda f: f, lambda x: x)
        return np.arange(v.n_frames), "frame", *ident
    return np.arange(v.n_frames) / fps, "time (s)", (lambda f: f / fps), (lambda x: x * fps)


def timeline(
    v: VideoScores,
    out_path,
    *,
    annotation=None,
    overlap: str = "mean",
    thumbnails: int = 3,
    source_root=None,
) -> Path:
    """Write the timeline of one video to `out_path` (.png or .svg) and return the path."""
    out = Path(out_path)
    if out.suffix.lower() not in FORMATS:
        raise ValueError(f"{out}: timeline format must be one of {FORMATS}")
    per_frame = clip_to_frames(v.scores, v.frames, v.n_frames, overlap=overlap, tail="pad", video=v.video)
    x, xlabel, f2x, x2f = _x_axis(v)
    peaks = top_clips(v, thumbnails) if thumbnails > 0 else []
    images, note = {}, ""
    if peaks:
        src = Path(v.source) if v.source else None
        if src is not None and not src.is_absolute() and source_root is not None:
            src = Path(source_root) / src
        mids = [int((v.frames[i, 0] + v.frames[i, 1]) // 2) for i in peaks]
        try:
            if src is None:
                raise FileNotFoundError("the scores do not name a source video")
            images = read_frames(src, mids)
        except Exception as exc:  # noqa: BLE001 - decoders raise their own types; the figure says why
            note = f"thumbnails unavailable: {exc}"
            log.warning("%s: %s", v.video, note)

    fig = Figure(figsize=(11, 4.6 if peaks else 3.0), layout="constrained")
    if peaks:
        gs = fig.add_gridspec(2, len(peaks), height_ratios=[1.6, 1.0])
        ax = fig.add_subplot(gs[0, :])
    else:
        ax = fig.add_subplot(1, 1, 1)
    ax.plot(x, per_frame, color="#1f4e79", lw=1.3, label="anomaly score")
    if annotation is not None:
        for k, (s, e) in enumerate(annotation.clipped_intervals(v.n_frames)):
            ax.axvspan(f2x(s - 1), f2x(e), color="#d62728", alpha=0.18, lw=0, label="ground truth" if k == 0 else None)
    if v.threshold is not None:
        ax.axhline(v.threshold, color="#444444", ls="--", lw=1, label="threshold")
    for n, i in enumerate(peaks, 1):  # numbered markers on the curve at each thumbnail's frame
        mid = int((v.frames[i, 0] + v.frames[i, 1]) // 2)
        ax.annotate(str(n), (f2x(mid), per_frame[mid]), xytext=(0, 7), textcoords="offset points",
                    ha="center", fontsize=8, color="#7f0000")
        ax.plot([f2x(mid)], [per_frame[mid]], "v", color="#7f0000", ms=5)
    ax.set_xlim(0, f2x(v.n_frames))
    ax.set_xlabel(xlabel)
    ax.set_ylabel("score")
    if xlabel != "frame":
        top = ax.secondary_xaxis("top", functions=(x2f, f2x))
        top.set_xlabel("frame")
    title = f"{v.video}  [{v.category or '-'} / group {v.group or '-'}]  peak {v.peak:.3g}"
    ax.set_title(title, fontsize=10, loc="left")
    ax.legend(loc="upper right", fontsize=8, framealpha=0.8)
    ax.grid(alpha=0.3)
    for n, i in enumerate(peaks, 1):
        tax = fig.add_subplot(gs[1, n - 1])
        tax.set_xticks([]), tax.set_yticks([])
        mid = int((v.frames[i, 0] + v.frames[i, 1]) // 2)
        if mid in images:
            tax.imshow(images[mid])
        else:
            tax.text(0.5, 0.5, note or "frame not decoded", ha="center", va="center", fontsize=7, wrap=True,
                     transform=tax.transAxes)
        when = f"{f2x(mid):.1f}s " if xlabel != "frame" else ""
        tax.set_title(f"{n}: {when}f{mid}  score {v.scores[i]:.3g}", fontsize=8)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=90)
    return out
