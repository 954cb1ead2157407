"""A static HTML report of a detect run: open `index.html` from the folder, no server needed.

Layout: the run summary (protocol, detector, grouping, groups skipped and why), the
frame-level results when ground truth was given (pooled, per category), then one timeline per
video, highest peak score first, which is the order an analyst reviews footage in.
Plain string templates and `html.escape`; the images sit beside the page in `timelines/`.
"""
from __future__ import annotations

import html
import json
import math
import re
from pathlib import Path

from videoad.metrics import Evaluation, Score
from videoad.plots import timeline
from videoad.scores import ScoreSet

_CSS = """
body{font-family:system-ui,sans-serif;margin:1.5em auto;max-width:1100px;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.2em}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
th{background:#f0f0f0}td:first-child,th:first-child{text-align:left}.note{color:#666;font-size:90%}
section.video{border-top:1px solid #ddd;padding-top:.6em;margin-top:1em}img.timeline{max-width:100%}
"""


def _e(x) -> str:
    return html.escape(str(x))


def _num(x, digits: int = 4) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    return f"{x:.{digits}f}"


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") or "video"


def _score_table(rows: list[Score], first: str) -> str:
    head = f"<tr><th>{_e(first)}</th><th>AUROC</th><th>AP</th><th>frames</th><th>anomalous</th><th>videos</th><th>note</th></tr>"
    body = "".join(
        f"<tr><td>{_e(r.name)}</td><td>{_num(r.auroc)}</td><td>{_num(r.ap)}</td><td>{r.n_frames}</td>"
        f"<td>{r.n_anomalous}</td><td>{r.n_videos}</td><td class=note>{_e(r.note)}</td></tr>"
        for r in rows
    )
    return f"<table>{head}{body}</table>"


def _summary(scores: ScoreSet) -> str:
    meta = scores.meta
    cfg = meta.get("config", {})
    n_clips = sum(len(v.scores) for v in scores)
    groups = scores.groups
    fitted = [g for g in groups if g.get("status") in ("fitted", "scored")]
    rows = [
        ("protocol", meta.get("protocol_note", meta.get("protocol", ""))),
        ("detector", f"{cfg.get('detector', '?')} {json.dumps(cfg.get('params', {}))}"),
        ("grouping", cfg.get("mode", "?")),
        ("seed", cfg.get("seed", "?")),
        ("features", meta.get("features", "")),
        ("videos scored", len(scores)),
        ("clips scored", n_clips),
        ("groups", f"{len(fitted)} scored, {len(groups) - len(fitted)} skipped"),
        ("threshold", f"per group, the {cfg.get('threshold_quantile', '?')} quantile of its clip scores (label-free)"),
    ]
    out = "<table>" + "".join(f"<tr><th>{_e(k)}</th><td style='text-align:left'>{_e(v)}</td></tr>" for k, v in rows)
    out += "</table>"
    skipped = [g for g in groups if g.get("status") == "skipped"]
    if skipped:
        out += "<p><b>Skipped groups</b></p><ul>" + "".join(
            f"<li>{_e(g['group'])} ({len(g.get('videos', []))} videos): {_e(g.get('reason', ''))}</li>" for g in skipped
        ) + "</ul>"
    left_out = meta.get("left_out", [])
    if left_out:
        out += "<p><b>Videos left out</b></p><ul>" + "".join(
            f"<li>{_e(v.get('video', ''))}: {_e(v.get('reason', ''))}</li>" for v in left_out) + "</ul>"
    return out


def build_report(
    scores: ScoreSet,
    out_dir,
    *,
    annotations=None,
    evaluation: Evaluation | None = None,
    fmt: str = "png",
    thumbnails: int = 3,
    title: str = "videoad report",
) -> Path:
    """Write `out_dir/index.html` and one timeline per video; returns the page's path."""
    out = Path(out_dir)
    (out / "timelines").mkdir(parents=True, exist_ok=True)
    fmt = fmt.lower().lstrip(".")
    overlap = scores.meta.get("config", {}).get("overlap", "mean")
    per_video = {s.name: s for s in evaluation.per_video} if evaluation else {}
    sections = []
    for rank, v in enumerate(sorted(scores, key=lambda v: -v.peak), 1):
        ann = annotations.find(v.video) if annotations is not None else None
        rel = f"timelines/{rank:04d}_{_slug(v.video)}.{fmt}"
        timeline(v, out / rel, annotation=ann, overlap=overlap, thumbnails=thumbnails)
        peak_clip = int(v.scores.argmax())
        t = v.times()[peak_clip, 0] if v.fps else None
        facts = [f"category {_e(v.category or '-')}", f"group {_e(v.group or '-')}", f"peak score {v.peak:.4g}",
                 f"at frame {int(v.frames[peak_clip, 0])}" + (f" ({t:.1f} s)" if t is not None else "")]
        if v.video in per_video:
            s = per_video[v.video]
            facts.append(f"frame AUROC {_num(s.auroc)}" + (f" ({_e(s.note)})" if s.note else ""))
        if ann is not None:
            facts.append("ground truth: " + (", ".join(f"{a}-{b}" for a, b in ann.intervals) or "none (normal)"))
        sections.append(
            f"<section class=video id='v{rank}'><h3>{rank}. {_e(v.video)}</h3><p>{' &middot; '.join(facts)}</p>"
            f"<img class=timeline src='{_e(rel)}' alt='timeline of {_e(v.video)}'></section>"
        )
    parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{_e(title)}</title><style>{_CSS}</style></head><body>",
             f"<h1>{_e(title)}</h1>", "<h2>Run</h2>", _summary(scores)]
    if evaluation is not None:
        st = evaluation.settings
        parts += [
            "<h2>Frame-level results</h2>",
            f"<p class=note>Clip scores mapped to frames ({_e(st.get('overlap', overlap))} over overlapping clips), "
            "tail after the last clip padded with its score; the tail-dropped row leaves those frames out. "
            f"Ground truth: {_e(st.get('annotations', ''))}.</p>",
            _score_table([evaluation.pooled, evaluation.pooled_tail_dropped, evaluation.anomalous_only], "pooled"),
            "<h2>Per category</h2>", _score_table(evaluation.per_category, "category"),
        ]
    parts += [f"<h2>Videos ({len(sections)}), highest peak first</h2>", *sections, "</body></html>"]
    page = out / "index.html"
    page.write_text("\n".join(parts), encoding="utf-8")
    return page
