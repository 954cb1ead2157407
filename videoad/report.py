"""A static HTML report of a detect run: open `index.html` from its folder, no server, no network.

It leads with what an analyst works from: the events, strongest first, in a sortable table
beside a viewer; clicking an event plays its clip from the event's start and marks the event on
the video's timeline. Then one section per video (strongest first): its timeline, on the y-range
all timelines share, and each event's peak frame with the heat map of where in the frame the
score came from. Then the run (detector, grouping, alarm line, event rules) and, when ground
truth is given, the frame-level results.

Files beside the page: `report.css` and `report.js` (small, shipped in `videoad/report_assets`),
`timelines/` (with the keys a rerun keeps its unchanged pictures by: `videoad.output_keys`),
`events/` (per event `E001.png` and the clip, kept by their keys likewise: `videoad.evidence`), and
`events.csv`/`events.json`.
"""
from __future__ import annotations

import html
import math
import os
import re
import shutil
from pathlib import Path

import numpy as np

from extract.clock import readable_start
from extract.sources import mark_output, one_line
from extract.store import remove_stale_temporaries, write_atomic  # the one atomic write
from videoad import coverage
from videoad.events import (EVENTS_CSV, EVENTS_JSON, Event, EventSet, EventSettings, cell_names, event_name, find_events,
                            fmt_score, fmt_time, where_words, write_events)
from videoad.evidence import MAX_CLIPS, EventMedia, footage_not_found, write_evidence
from videoad.metrics import Evaluation, Score, unlabelled_note
from videoad.output_keys import TIMELINE_KEYS
from videoad.names import shown as _shown
from videoad.plots import TimeAxis, draw_timelines, file_stems, shared_ylim, timeline_axis
from videoad.plots import _file_name as file_name
from videoad.scores import ScoreSet, VideoScores

#: videos without an event listed as links under the event table; more are folded into a <details>
QUIET_LISTED = 40
#: the events table and the videos get a filter box from this many rows on (a dataset's run: 2,000
#: sections and as many events, 290 screens of page, nothing to narrow them by)
FILTER_FROM = 20

ASSETS = Path(__file__).with_name("report_assets")
#: categories that say nothing: keys at the store root, videos an annotation file does not name
_NO_CATEGORY = {"", ".", "unannotated", "all"}
MAX_CUTS_LISTED = 6  # scene cut times named in a video's facts; the timeline draws every one


def _e(x) -> str:
    return html.escape(_shown(str(x)), quote=True)


def _n(x) -> str:
    """A name (a video's, a category's, a group's) in running text, isolated (`<bdi>`): a name
    holding a right-to-left override (U+202E, which shows `evil\u202egnp.avi` as `evilavi.png`)
    turned the text after it around too, to the end of its paragraph (the next names of a list,
    read backwards and out of order; a caption's times)."""
    return f"<bdi>{_e(x)}</bdi>"


def shown_path(path, report_dir) -> str:
    """A file the run read (its feature store, the ground truth) as the report names it: relative
    to the report's folder where it lies in the folder holding that one (a run's: `../features`),
    else by its name alone. The page named each as given, an absolute path (the analyst's folders,
    to whoever the report went to, and wrong once it moved) or one relative to where a command ran
    (`run1/features`: from the page, nowhere). run.json and the command line keep them as given."""
    if path is None or str(path) == "":
        return ""
    given = Path(path)
    try:
        full, page = given.resolve(), Path(report_dir).resolve()
        if full.exists() and full.is_relative_to(page.parent):
            return Path(os.path.relpath(full, page)).as_posix()
    except (OSError, ValueError):
        pass
    return file_name(str(path)) or str(path)  # C:\\runs\\features read here: its name, not the whole path


#: a folder's path in a note is one where it starts a path (not within one: /data/tmp/x holds /tmp/x)
#: and ends, or goes on into it (a `/`): not where a name goes on (run1 in run10, run1.bak)
_PATH_STARTS = r"(?<![^\s'\"`:,;=()\[\]<>])"
_PATH_GOES_ON = r"(?![^\s'\"`:,;()\[\]<>/.]|\.[^\s'\"`:,;()\[\]<>/])"


def shown_note(text, report_dir) -> str:
    """A note run.json or the scores hold (a video's or group's reason, an extraction's warnings, a
    footage check, an unfinished store's word) as the page shows it: each absolute path in the folder
    holding the report's as `shown_path` names it, relative to the report's folder
    (`/home/ana/cases/site/run1/history (group 'all'): ...` from run1/report: `../history (...)`).
    `detect` and `extract` write absolute paths into these texts, the analyst's folders to whoever
    the report went to. Paths elsewhere stay as written (a path in free text has no end to find
    but this folder's); footage-not-found lines are not passed here (`_video_section`)."""
    text = "" if text is None else str(text)
    try:
        page = Path(report_dir).absolute()
        bases = {str(page.parent), str(page.parent.resolve())}  # as written, and through links (/tmp -> /private/tmp)
        up = Path(os.path.relpath(page.parent, page)).as_posix()  # "..": the report's folder is in it
    except (OSError, ValueError):
        return text
    for base in sorted(bases, key=len, reverse=True):  # the longer first: one holding the other
        if base == str(Path(base).parent) or base not in text:  # "/": every path would start there
            continue
        text = re.sub(_PATH_STARTS + re.escape(base) + _PATH_GOES_ON, lambda _m: up, text)
    return text


def run_store(scores: ScoreSet) -> Path:
    """The feature store a run read, as its run.json names it. Runs before 2026-12-07 wrote the path
    as given, relative to wherever `detect` ran; where that is not found from here and the scores sit
    in a `videoad run` folder, its `features` beside them (the folder moved as a whole)."""
    given = Path(scores.meta.get("features") or "")
    if str(given) in ("", ".") or given.exists() or scores.path is None:
        return given
    beside = Path(scores.path).parent / "features"
    return beside if beside.is_dir() else given


def _num(x, digits: int = 4) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    return f"{x:.{digits}f}"


def _score_table(rows: list[Score], first: str, label: str) -> str:
    """A results table; `label`: a caption, or `#id` of the heading that already names it (read out
    by a screen reader as the table's name; a caption beside it would say it twice)."""
    name = f" aria-labelledby={label[1:]}>" if label.startswith("#") else f"><caption>{_e(label)}</caption>"
    head = ("<thead><tr>" + "".join(f"<th scope=col{' class=txt' if txt else ''}>{x}</th>" for x, txt in (
        (_e(first), True), ("AUROC", False), ("AP", False), ("frames", False), ("anomalous", False),
        ("videos", False), ("note", True))) + "</tr></thead>")
    body = "".join(
        f"<tr><th scope=row class=txt>{_e(r.name)}</th><td>{_num(r.auroc)}</td><td>{_num(r.ap)}</td>"
        f"<td>{r.n_frames}</td><td>{r.n_anomalous}</td><td>{r.n_videos}</td><td class='txt note'>{_e(r.note)}</td></tr>"
        for r in rows
    )
    return f"<table class=results{name}{head}<tbody>{body}</tbody></table>"


def detector_text(cfg: dict, groups: list | None = None) -> str:
    """'DUAD (p0=25, p=20, ...), mean of 3 fits' rather than a dict dump. The parameters are
    those a group was fitted with (the defaults for its features plus the config's own)."""
    from videoad.detector import registry

    name = str(cfg.get("detector", "?"))
    spec = registry.find(name)
    label = spec.label if spec is not None else name
    fitted = [g for g in groups or [] if g.get("params") is not None]
    params = fitted[0]["params"] if fitted else (cfg.get("params") or {})
    if fitted and fitted[0].get("level") == "cell":
        label += ", one row per grid cell"
    text = f"{label} ({', '.join(f'{k}={v}' for k, v in params.items())})" if params else f"{label}, default parameters"
    if int(cfg.get("n_seeds", 1) or 1) > 1:
        text += f"; scores are the mean of {cfg['n_seeds']} fits with consecutive seeds"
    if cfg.get("preprocess", "none") not in ("none", None):
        text += f"; features transformed: {cfg['preprocess']}"
    return text


_GROUPING = {"pooled": "pooled: one detector for all videos", "per-category": "per category: one detector per "
             "category (annotation class, else the video's folder)", "per-video": "per video: one detector each",
             "per-camera": "per camera: one detector per camera, told apart by the scene each video shows"}


def _alarm_text(alarm, level, q, protocol) -> str:
    fitted = "the normal history's clip scores" if protocol == "inductive" else "its own clip scores"
    if alarm in ("mad", "mirror", "lower") and isinstance(level, (int, float)):
        centre = "the 30th percentile" if alarm == "lower" else "the median"
        spread = f" (the spread read from the clips below {centre})" if alarm != "mad" else ""
        return (f"per group, {level:g} robust standard deviations above {centre} of {fitted}{spread} "
                "(label-free: a typical clip is far below it)")
    if alarm == "quantile" and isinstance(level, (int, float)):
        q = level
    if isinstance(q, (int, float)):
        return f"per group, the {q:g} quantile of {fitted} (label-free: the top {(1 - q) * 100:.0f}% are over it)"
    return "per group (see run.json)"


def _summary(scores: ScoreSet, events: EventSet, out: Path) -> str:
    meta = scores.meta
    cfg = meta.get("config", {})
    groups = scores.groups
    fitted = [g for g in groups if g.get("status") in ("fitted", "scored")]
    st = events.settings
    alarm, level = cfg.get("alarm"), cfg.get("alarm_level")
    if meta.get("protocol") == "inductive" and "history_alarm" in cfg:  # a --fit-on line has its own rule
        alarm, level = cfg["history_alarm"], cfg.get("history_alarm_level")
    q = cfg.get("threshold_quantile")  # runs written before the alarm rule was a setting
    rows = [
        ("protocol", meta.get("protocol_note", meta.get("protocol", ""))),
        ("detector", detector_text(cfg, groups)),
        ("score", f"{events.score_unit}; higher = more anomalous"),
        ("grouping", _GROUPING.get(cfg.get("mode"), cfg.get("mode", "?"))),
        ("seed", cfg.get("seed", "?")),
        ("features", shown_path(meta.get("features"), out)),
        ("videos scored", len(scores)),
        ("clips scored", sum(len(v.scores) for v in scores)),
        ("groups", f"{len(fitted)} scored, {len(groups) - len(fitted)} skipped"),
        ("alarm line", _alarm_text(alarm, level, q, meta.get("protocol"))),
        ("events", f"runs of clips over the alarm line, merged across gaps up to {st.merge_gap_s:g} s, "
                   f"kept when at least {st.min_length_s:g} s long, ended at a pause in the recording; "
                   "peak = the event's highest clip score, "
                   "at that clip's middle frame"),
    ]
    if events.cell_grid:
        r, c = events.cell_grid
        rows.append(("where", f"{r}x{c} grid of cell scores; the box marks the cells in the upper half between "
                              "the video's typical cell score and the event's hottest cell"))
    rows += [("unfinished extraction", note) for note in meta.get("unfinished_stores", [])]  # part of the footage
    rows += [("footage checks", line) for line in coverage.warnings(groups)]  # videoad.coverage: history and fit
    rows += [("several cameras", f"group {g['group']} fits one model over {g['cameras']} cameras, told apart by their "
                                 "scene pictures; one model per camera (--per-camera) catches more where their normal "
                                 "differs") for g in fitted if g.get("cameras")]
    rows += [("repeated frames", f"group {g['group']}: {g['repeats']['note']}")
             for g in fitted if isinstance(g.get("repeats"), dict) and g["repeats"].get("note")]
    page = out  # the notes' absolute paths in the run's folder, as the page names its files (shown_note)
    out = ("<table class=kv aria-labelledby=run><tbody>"  # named by the "Run" heading above it
           + "".join(f"<tr><th scope=row>{_e(k)}</th><td>{_e(shown_note(v, page))}</td></tr>" for k, v in rows)
           + "</tbody></table>")
    skipped = [g for g in groups if g.get("status") in ("skipped", "failed")]
    if skipped:
        out += "<p id=groups-not-scored><b>Groups not scored</b></p><ul>" + "".join(
            f"<li>{_n(g['group'])} ({len(g.get('videos', []))} videos), {_e(g['status'])}: {_e(shown_note(g.get('reason', ''), page))}</li>"
            for g in skipped) + "</ul>"
    left_out = meta.get("left_out", [])
    if left_out:
        out += "<p id=videos-left-out><b>Videos left out</b></p><ul>" + "".join(
            f"<li>{_n(v.get('video', ''))}: {_e(shown_note(v.get('reason', ''), page))}</li>" for v in left_out) + "</ul>"
    history_out = meta.get("history_left_out", [])
    if history_out:  # `run --fit-on`: the models were fitted without them
        out += "<p><b>History videos left out</b> (the models were fitted without them)</p><ul>" + "".join(
            f"<li>{_n(v.get('video', ''))}: {_e(shown_note(v.get('reason', ''), page))}</li>" for v in history_out) + "</ul>"
    return out


def _not_scored(scores: ScoreSet) -> str:
    """The lead's word on videos not scored (left out, or in a group skipped or failed), linked to
    their list under Run: the lead counted the scored videos alone ("3 events in 3 of 3 videos"
    with a fourth never read)."""
    left = len(scores.meta.get("left_out", []))
    in_groups = sum(len(g.get("videos", [])) for g in scores.skipped())
    if not left and not in_groups:
        return ""
    anchor = "videos-left-out" if left else "groups-not-scored"
    n = left + in_groups
    return f"; <a href='#{anchor}'><b>{n} video{'s' if n != 1 else ''} not scored</b></a> (why: under Run)"


def _unfinished_lead(scores: ScoreSet) -> str:
    """The lead's word where the features came from an extraction that had not finished (detect
    warned, run.json kept it, the page showed the events as if of the whole footage)."""
    if not scores.meta.get("unfinished_stores"):
        return ""
    return "; <b>scored while its extraction was unfinished</b>: part of the footage only (under Run)"


def _footage_lead(not_found: dict[str, str], source_root) -> str:
    """The lead's word where videos with events had no footage to read here (a report moved or opened
    on another machine, the videos moved since): only their pictures' own text said so."""
    if not not_found:
        return ""
    n = len(not_found)
    hint = "" if source_root is not None else "; <code>videoad report --source-root</code> names where they are now"
    return (f"; <b>footage of {n} video{'s' if n != 1 else ''} with events not found</b>: their events show no "
            f"frame and no clip (where it was looked for: under each video{hint})")


def _within(intervals, n_frames: int) -> list[tuple[int, int]]:
    """1-based intervals cut at the video's last frame, as the timeline and the evaluation read them
    (the annotation's warning about an end past the video is said there)."""
    return [(a, min(b, n_frames)) for a, b in intervals if a <= n_frames] if n_frames else list(intervals)


def _overlaps(e: Event, ann) -> bool:
    """Whether the event overlaps a ground-truth interval (1-based inclusive frames)."""
    return any(s - 1 <= e.end_frame and e.start_frame <= t - 1 for s, t in ann.intervals)


def _name(key: str) -> str:
    """A video key that may wrap after its slashes, each part isolated (`_n`: an override in a folder's
    name turns no other part around)."""
    return "/<wbr>".join(_n(part) for part in key.split("/"))


def _s(v: VideoScores, frame: float) -> float | None:
    """Seconds at a frame position, None when the video's rate is unknown (`fmt_time` then says frames)."""
    return float(v.seconds(frame)) if v.fps and v.fps > 0 else None


def _x(v: VideoScores, frame: float, axis: TimeAxis) -> float:
    """A frame's place on its timeline's axis: seconds (`axis`: `plots.timeline_axis`, long pauses
    shortened as the picture draws them: report.js maps the axis' range onto the image straight), or
    the frame where the rate is unknown."""
    s = _s(v, frame)
    return float(frame) if s is None else float(axis(s))


def _x_end(v: VideoScores, last: int, axis: TimeAxis) -> float:
    """Where frame `last` ends on its timeline's axis: before a pause in the recording it lasts its
    step, as the timeline's event band ends (frame last + 1's place was the next burst's, the mark
    drawn over the whole pause)."""
    return float(last + 1) if _s(v, last) is None else float(axis(v.end_seconds(last)))


#: timeline places given per event clip of a variable-rate video, at most (report.js interpolates)
PLAYHEAD_KNOTS = 240


def _playhead_knots(v: VideoScores, m: EventMedia | None, axis: TimeAxis | None = None) -> dict[str, str]:
    """Where the viewer's playhead stands on the timeline as an event's clip plays, for a video whose
    frames keep no one rate: the clip plays its frames at one rate, while the timeline places them
    by their own times (a burst camera's pause, a phone's slowing down), so `clip-x + t * rate`
    drifted at every pause. The timeline's x (`knots`) at frames of the clip (`knot-frames`, counted
    from its first): every `PLAYHEAD_KNOTS`th of it, and either side of each pause in the recording
    inside it (where the frame before the pause ends, then, at the same moment of the clip, the next
    burst's first frame: the playhead jumps the pause, where knots only every few frames had it glide
    across it for as long as they were apart), then where its last frame ends (before a pause not at
    the next burst's first frame, or the playhead crossed the pause as the clip ended and stood past
    it); none where one rate holds and that sum is exact."""
    if m is None or not m.clip or not v.variable_rate or not (v.fps and v.fps > 0):
        return {}  # one rate, or a timeline in frames (the rate unknown): the straight line is exact
    first = m.clip_first_frame
    n = max(1, m.clip_last_frame - first + 1)
    step = max(1, math.ceil(n / PLAYHEAD_KNOTS))
    pauses = [int(p) - first for p in v.pause_frames() if 0 < int(p) - first < n]  # p: the first frame after one
    at = sorted(set(range(0, n, step)) | set(pauses))
    frames, seconds = [], []
    for k in at:
        if k in pauses:  # the frame before it ends, at the moment the clip shows the next burst's first
            frames.append(k)
            seconds.append(float(v.end_seconds(first + k - 1)))
        frames.append(k)
        seconds.append(float(v.seconds(first + k)))
    frames.append(n)
    seconds.append(float(v.end_seconds(first + n - 1)))
    xs = (axis or timeline_axis(v))(np.asarray(seconds))
    return {"knots": ",".join(f"{x:.3f}" for x in xs), "knot-frames": ",".join(map(str, frames)),
            "clip-frames": str(n), "clip-fps": f"{m.clip_fps:.6f}"}


def _caption(e: Event, unit: str, media: EventMedia | None) -> str:
    u = "" if unit == "score" else " " + unit.split("(")[-1].rstrip(")")
    text = (f"<b>{event_name(e.event)}</b> &middot; {_n(e.video)}<br>{fmt_time(e.start_s, e.start_frame)} &ndash; "
            f"{fmt_time(e.end_s, e.end_frame)} &middot; peak <b>{fmt_score(e.peak_score)}</b>{_e(u)} at "
            f"{fmt_time(e.peak_s, e.peak_frame)}")
    if media is not None and media.note:  # why its footage was not read: the whole path, where to look (not shown_note's)
        text += f"<br><span class=note>{_e(media.note)}</span>"
    return text


def _sort_header(label: str, kind: str, title: str = "", *, by_it: bool = False) -> str:
    """A column header of the events table that sorts it (report.js): its title a button, so the
    keyboard sorts too, and `aria-sort` on the column sorted by (`by_it`: by peak, highest first,
    as the table is written)."""
    cls = " ".join(c for c in ("txt" if kind == "text" else "", "desc" if by_it else "") if c)
    return (f"<th scope=col data-sort={kind}" + (f" class='{cls}'" if cls else "")
            + (" aria-sort=descending" if by_it else "") + (f" title='{_e(title)}'" if title else "")
            + f"><button type=button>{_e(label)}</button></th>")


def _event_rows(scores: ScoreSet, events: EventSet, media: dict[int, EventMedia], sections: dict[str, str],
                truth: dict | None) -> str:
    """The events table; `truth`: each video's annotation (None where the file does not name it),
    or None without an annotation file (no truth column)."""
    by_video = {v.video: v for v in scores}
    per_camera = scores.meta.get("config", {}).get("mode") == "per-camera"  # each row names its camera
    has_gt = truth is not None
    columns = [("#", "num", ""), ("video", "text", ""), ("from", "num", ""), ("to", "num", ""),
               ("length", "num", ""), ("peak", "num", ""), ("peak at", "num", ""), ("mean", "num", "")]
    if events.cell_grid:
        columns.append(("where", "text", ""))
    if has_gt:
        columns.append(("truth", "text", "whether the event overlaps a ground-truth interval (not labelled: the "
                                         "annotation file does not name its video)"))
    head = ("<thead><tr>" + "".join(_sort_header(label, kind, title, by_it=label == "peak")
                                    for label, kind, title in columns) + "</tr></thead>")
    body = []
    axes = {v.video: timeline_axis(v) for v in scores}
    for e in events.events:
        v, m, axis = by_video[e.video], media.get(e.event), axes[e.video]
        attrs = {
            "event": e.event, "label": event_name(e.event), "section": sections[e.video],
            "x0": f"{_x(v, e.start_frame, axis):.4f}", "x1": f"{_x_end(v, e.end_frame, axis):.4f}",
            "image": m.image if m and m.image else "",
            "clip": m.clip if m and m.clip else "", "play-from": f"{m.play_from_s:.3f}" if m else "0",
            "clip-x": f"{_x(v, m.clip_first_frame, axis):.4f}" if m else "0",
            "rate": (f"{m.clip_fps / v.fps:.6f}" if v.fps and v.fps > 0 else f"{m.clip_fps:.6f}") if m else "1",
            **_playhead_knots(v, m, axis),
            "start-s": "" if e.start_s is None else f"{e.start_s:.3f}",
            "caption": _caption(e, events.score_unit, m),
            # what the filter box matches beside the row's text: the cells (shown as words, named in a
            # tooltip), the category and the group (a camera under --per-camera)
            "find": " ".join([v.category, v.group, cell_names(e.cells, events.cell_grid)]),
        }
        cells = ""
        if events.cell_grid:
            words = where_words(e.peak_cells, events.cell_grid) or "&mdash;"
            names = cell_names(e.cells, events.cell_grid)
            unseen = ""
            if e.unseen_cells:  # the history never moved there: perhaps ordinary, just not covered
                unseen = (" <span class=unseen title='the normal history never shows motion in cell(s) "
                          f"{_e(cell_names(e.unseen_cells, events.cell_grid))} (row:col): this may be ordinary "
                          "activity the history did not cover'>history never moved here</span>")
            cells = f"<td class=txt title='cells (row:col) {_e(names)}'>{words}{unseen}</td>"
        gt = ""
        if has_gt:
            ann = truth[e.video]
            if ann is None:  # neither a hit nor a false alarm: nothing says what happened there
                gt = ("<td class=txt><span class=unlabelled title='the annotation file does not name this video'>"
                      "not labelled</span></td>")
            elif _overlaps(e, ann):
                gt = "<td class=txt><span class=hit>overlaps</span></td>"
            else:
                gt = "<td class=txt><span class=miss>no</span></td>"
        data = " ".join(f"data-{k}='{_e(val)}'" for k, val in attrs.items())
        cut = ""
        if e.scene_cuts:  # the shot changes inside the event (docs/extract.md)
            done = _CUT_HANDLING.get(v.scene_cut_handling or "left out", "")
            cut = (f" <span class=cut title='the shot changes at frame(s) {' '.join(map(str, e.scene_cuts))} "
                   f"inside this event: {_e(done)}'>across a scene cut</span>")
        start = e.start_s if e.start_s is not None else e.start_frame
        end = e.end_s if e.end_s is not None else e.end_frame
        clock = (f"<br><span class=clock title='clock time, from the recording&#39;s start ({_e(v.start_time_from or '')})'>"
                 f"{_e(e.start_clock.replace('T', ' '))}</span>") if e.start_clock else ""
        length = e.duration_s if e.duration_s is not None else e.end_frame - e.start_frame + 1
        camera = (f"<br><span class=camera title='the camera whose model scored it'>{_n(v.group)}</span>"
                  if per_camera and v.group else "")
        # one tab stop for the table (report.js moves it with the arrow keys): E001's row, chosen at load
        stop = "" if e is events.events[0] else " tabindex=-1"
        body.append(
            f"<tr {data}><td data-v={e.event}><button type=button class=play{stop} aria-label='show {event_name(e.event)} in the "
            f"viewer'>{event_name(e.event)}</button></td><td class=name data-v='{_e(e.video)}'>{_name(e.video)}{cut}"
            f"{camera}</td>"
            f"<td data-v={start}>{fmt_time(e.start_s, e.start_frame)}{clock}</td>"
            f"<td data-v={end}>{fmt_time(e.end_s, e.end_frame)}</td>"
            f"<td data-v={length}>{fmt_time(e.duration_s) if e.duration_s is not None else f'{length} fr'}</td>"
            f"<td data-v={e.peak_score}><b>{fmt_score(e.peak_score)}</b></td>"
            f"<td data-v={e.peak_s if e.peak_s is not None else e.peak_frame}>{fmt_time(e.peak_s, e.peak_frame)}</td>"
            f"<td data-v={e.mean_score}>{fmt_score(e.mean_score)}</td>{cells}{gt}</tr>"
        )
    return (f"<table class=events id=events aria-labelledby=events-title aria-describedby=events-keys>{head}"
            f"<tbody>{''.join(body)}</tbody></table>")


#: what the backbone did at a scene cut, as the report says it
_CUT_HANDLING = {"left out": "no motion counted across them",
                 "held": "a clip across one shows its longest shot only",
                 "kept": "a clip across one holds both shots, and its score may be the cut's: "
                         "--backbone-opt cuts=hold shows each clip's longest shot only"}


def _cuts_fact(v: VideoScores) -> str:
    at = v.scene_cut_frames or []
    where = (" at " + ", ".join(fmt_time(_s(v, f), f) for f in at[:MAX_CUTS_LISTED])
             + (f" and {len(at) - MAX_CUTS_LISTED} more" if len(at) > MAX_CUTS_LISTED else "")) if at else ""
    done = _CUT_HANDLING.get(v.scene_cut_handling or "left out", _e(v.scene_cut_handling or ""))
    return (f"{v.scene_cuts} scene cut{'s' if v.scene_cuts != 1 else ''}{where} ({done}"
            + ("; dotted on the timeline)" if at else ")"))


def _video_section(v: VideoScores, sid: str, rel: str, geo, events: list[Event], media: dict[int, EventMedia],
                   unit: str, ann, per_video_score, why: str = "", unlike: list[str] = (), camera: str = "",
                   truth_given: bool = False, stop_event: int | None = None, footage: str = "",
                   report_dir=None) -> str:
    """One video's section; `truth_given`: an annotation file was given (`ann` None: it does not name the video);
    `stop_event`: the event whose picture is the pictures' one tab stop (the event chosen at load); `footage`:
    why its footage was not read (`evidence.footage_not_found`), shown as text, never as a link;
    `report_dir`: the report's folder, for the notes' paths (`shown_note`)."""

    def note(text) -> str:  # a note of run.json or the scores, its paths in the run's folder as the page's
        return _e(shown_note(text, report_dir) if report_dir is not None else text)

    facts = []
    if events:
        facts.append(f"<b>{len(events)} event{'s' if len(events) != 1 else ''}</b>")
    else:
        facts.append(f"<b>no event</b>: {note(why or 'no clip over the alarm line')}")
    u = "" if unit == "score" else " " + unit.split("(")[-1].rstrip(")")
    if len(v.scores):
        top = int(v.scores.argmax())
        mid = int((v.frames[top, 0] + v.frames[top, 1]) // 2)
        facts.append(f"highest clip {fmt_score(v.peak)}{_e(u)} at {fmt_time(_s(v, mid), mid)}")
    if v.threshold is not None:
        facts.append(f"alarm line {fmt_score(v.threshold)}")
    dur = _s(v, v.n_frames)
    facts.append(f"{fmt_time(dur)} ({v.n_frames} frames)" if dur else f"{v.n_frames} frames")
    if v.variable_rate and dur:  # a file whose frames keep no one rate: frame numbers are not seconds x a rate
        facts.append(f"its frames keep no one rate ({v.n_frames / dur:.3g} a second on average; times are each "
                     "frame's own, frame numbers count the frames decoded)")
    if v.category not in _NO_CATEGORY:
        facts.append(f"category {_n(v.category)}")
    if camera:  # under --per-camera: the camera whose model scored it
        facts.append(f"camera {_n(camera)}")
    if v.scene_cuts:  # an edited video (docs/extract.md)
        facts.append(_cuts_fact(v))
    if v.repeated_frames:  # lost frames filled in, or a slow camera (docs/extract.md, "Repeated frames")
        done = ("their motion spread over the gap" if v.repeat_handling == "spread over the gap" else
                "each makes a pair without motion, the next one the gap's: --backbone-opt repeats=spread divides it")
        facts.append(f"{v.repeated_frames} sampled frame{'s' if v.repeated_frames != 1 else ''} repeat the one "
                     f"before ({done})")
    if v.start_time:  # extract.clock: the recording's start, so events are told by the clock too
        facts.append(f"recorded from {_e(readable_start(v.start_time))} (its {_e(v.start_time_from or '')})")
    facts += [f"<span class=unseen>{note(said)}</span>" for said in unlike]  # unlike its history (coverage)
    # the report opened where the footage is not: where it was, as text (no link to break), its whole
    # path as evidence.footage_not_found wrote it (not shown_note's): the one way to find the files
    if footage:
        facts.append(f"<span class=unseen>footage {_e(footage)}: its events show no frame and no clip</span>")
    if v.decode_warnings:  # damaged frames filled in, a picture that changed size, ... (docs/extract.md)
        facts.append(f"extraction warned: {note(v.decode_warnings)}")
    if per_video_score is not None and _num(per_video_score.auroc) != "n/a":
        s = per_video_score
        facts.append(f"frame AUROC {_num(s.auroc)}" + (f" ({note(s.note)})" if s.note else ""))
    if ann is not None:  # counted from 0 as everything on the page (the annotation files count from 1)
        shown = ", ".join(f"{fmt_time(_s(v, a - 1), a - 1)}&ndash;{fmt_time(_s(v, b), b - 1)} (frames {a - 1}-{b - 1})"
                          for a, b in _within(ann.intervals, v.n_frames))
        times = ", ".join(f"{a:g}&ndash;{b:g} s" for a, b in ann.times)
        facts.append("<span title='frames counted from 0, as on this page; the annotation file counts from 1'>"
                     f"ground truth: {', '.join(x for x in (shown, times) if x) or 'none (normal)'}</span>")
    elif truth_given:  # said, not left out: a video without the line read as one labelled normal
        facts.append("ground truth: not in the annotations")
    tl = (f"<div class=tl data-left={geo.left:.5f} data-right={geo.right:.5f} data-top={geo.top:.5f} "
          f"data-bottom={geo.bottom:.5f} data-xmax={geo.x_max:.5f}><img class=timeline src='{_e(rel)}' "
          f"alt='timeline of {_e(v.video)}' loading=lazy><div class=mark></div></div>")
    cards = []
    for e in sorted(events, key=lambda e: e.start_frame):
        m = media.get(e.event)
        img = (f"<img src='{_e(m.image)}' alt='{event_name(e.event)}: peak frame' loading=lazy>" if m and m.image else "")
        clip = "" if m and m.clip else " &middot; no clip" + (": footage not found" if footage else "")
        # a button to the keyboard and a screen reader too (report.js: Enter or Space plays it), so a
        # <div>: a <figure> with its caption may take no role; the pictures are one tab stop, E001's
        # (chosen at load), the arrow keys moving along them
        cards.append(f"<div class=card data-event={e.event} tabindex={0 if e.event == stop_event else -1} "
                     f"role=button>{img}<div class=cap>"
                     f"<b>{event_name(e.event)}</b> "
                     f"{fmt_time(e.start_s, e.start_frame)} &ndash; {fmt_time(e.end_s, e.end_frame)} &middot; peak "
                     f"{fmt_score(e.peak_score)} at {fmt_time(e.peak_s, e.peak_frame)}{clip}</div></div>")
    return (f"<section class=video id='{sid}' data-find='{_e(v.category)} {_e(v.group)}'><h3>{_name(v.video)}</h3>"
            f"<p class=facts>{' &middot; '.join(facts)}</p>"
            f"{tl}<div class=cards>{''.join(cards)}</div></section>")


def build_report(
    scores: ScoreSet,
    out_dir,
    *,
    annotations=None,
    evaluation: Evaluation | None = None,
    fmt: str = "png",
    title: str = "videoad report",
    events: EventSet | None = None,
    event_settings: EventSettings | None = None,
    clips: bool = True,
    burn_heatmap: bool = False,
    pad_s: float = 3.0,
    source_root=None,
    on_event=None,
    workers: int | None = 1,
    max_clips: int | None = MAX_CLIPS,
) -> Path:
    """Write `out_dir/index.html` with its timelines, event images and clips; returns the page.

    `events`: the run's events (default: found with `event_settings`, else the settings of the
    scores folder's events.json, else the defaults). `workers`: processes drawing the timelines
    and the events' pictures and clips (`plots.draw_timelines`, `evidence.write_evidence`; None:
    the cores, as the commands ask). `max_clips`: clips for that
    many events, the highest peaks first (`evidence.write_evidence`; None or 0: every event)."""
    from videoad.events import read_settings

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    mark_output(out)  # its clips and pictures are never read as footage (a report inside the input)
    # the page goes first and comes last: a rewrite that fails partway leaves no page pointing at
    # the previous run's event images (removed below) beside this run's events.csv
    (out / "index.html").unlink(missing_ok=True)
    remove_stale_temporaries([out / "index.html", out / EVENTS_CSV, out / EVENTS_JSON])  # a killed write's
    fmt = fmt.lower().lstrip(".")
    if events is None:
        settings = event_settings or (read_settings(scores.path, scores.meta) if scores.path else None)
        events = find_events(scores, settings)
    write_events(out, events)
    for asset in ("report.css", "report.js"):
        shutil.copyfile(ASSETS / asset, out / asset)
    not_found = footage_not_found(scores, events, source_root)
    media = write_evidence(scores, events, out / "events", pad_s=pad_s, clips=clips, burn_heatmap=burn_heatmap,
                           source_root=source_root, on_event=on_event, max_clips=max_clips, workers=workers)
    per_video = {s.name: s for s in evaluation.per_video} if evaluation else {}
    ordered = sorted(scores, key=lambda v: (-max([e.peak_score for e in events.of(v.video)], default=-math.inf),
                                            -v.peak))
    stems = file_stems(v.video for v in scores)
    sids = {v.video: f"v{i}" for i, v in enumerate(ordered, 1)}
    ylim = shared_ylim(scores.videos)
    (out / "timelines").mkdir(exist_ok=True)
    sections = []
    per_camera = scores.meta.get("config", {}).get("mode") == "per-camera"
    notes = {ve.video: ve.note for ve in events.videos}
    groups_of = {g.get("group"): g for g in scores.groups}
    rels = {v.video: f"timelines/{stems[v.video]}.{fmt}" for v in ordered}
    anns = annotations.match(v.video for v in ordered) if annotations is not None else dict.fromkeys(rels)
    drawn = {Path(r).name for r in rels.values()}
    for old in (out / "timelines").glob("*"):  # a previous run's videos (the folder is the report's own)
        if old.suffix.lower() in (".png", ".svg") and old.name not in drawn and old.is_file():
            old.unlink()  # before the drawing, so that its key file (videoad.output_keys) keeps no key of theirs
    # a rerun draws only the timelines whose inputs changed (the shared y-range among them)
    geos = draw_timelines([(v, out / rels[v.video], dict(events=events.of(v.video), annotation=anns[v.video],
                                                          thumbnails=0, ylim=ylim, unit=events.score_unit,
                                                          source_root=source_root, title=False,
                                                          truth_given=annotations is not None))
                           for v in ordered], workers, keys=out / "timelines" / TIMELINE_KEYS)
    for v, geo in zip(ordered, geos):
        sections.append(_video_section(v, sids[v.video], rels[v.video], geo, events.of(v.video), media,
                                       events.score_unit, anns[v.video], per_video.get(v.video),
                                       notes.get(v.video, ""), coverage.video_notes(v.video, groups_of.get(v.group, {})),
                                       camera=v.group if per_camera else "", truth_given=annotations is not None,
                                       stop_event=events.events[0].event if events.events else None,
                                       footage=not_found.get(v.video, ""), report_dir=out))
    n_ev, quiet = len(events.events), events.quiet_videos
    with_events = len(scores) - len(quiet)
    lead = (f"<b>{n_ev} event{'s' if n_ev != 1 else ''}</b> in {with_events} of {len(scores)} videos"
            + _not_scored(scores) + _unfinished_lead(scores) + _footage_lead(not_found, source_root) + f" &middot; score: {_e(events.score_unit)}, higher = more anomalous &middot; "
            "every timeline on the same y-range")
    quiet_text = ""
    if quiet:
        links = ", ".join(f"<a href='#{sids[q.video]}'>{_n(q.video)}</a>" for q in quiet) + "."
        what = f"No event in {len(quiet)} video{'s' if len(quiet) != 1 else ''}"
        quiet_text = (f"<p class=quiet>{what}: {links}</p>" if len(quiet) <= QUIET_LISTED else  # a dataset's run:
                      f"<details class=quiet><summary>{what}</summary><p>{links}</p></details>")  # folded away
    hint = no_event_hint(events, scores.meta.get("protocol"))
    table = (_event_rows(scores, events, media, sids, anns if annotations is not None else None) if events.events
             else "<p><b>No event</b>: " + (f"{_e(hint[0].upper() + hint[1:])}." if hint else
                                             "no clip of any video stayed over its alarm line.") + "</p>")
    # the peak picture at the viewer's width, opened whole by a click (at half the width its title and
    # colour bar could not be read); no viewer to click where there is no event
    # the caption is read out as an event is chosen (aria-live); report.js names the clip, the
    # picture and the timeline after the event. The viewer's two pictures are made by report.js as an
    # event is first chosen: an <img> without src is invalid HTML (v.Nu), and with one it loads early
    viewer = ("<aside class='panel viewer' id=viewer><video id=player aria-label='the chosen event&#39;s clip' "
              "controls muted playsinline preload=metadata></video><div class=caption id=viewer-caption "
              "aria-live=polite>Click an event to play its footage.</div>"
              "<a id=viewer-heat-link title='the picture at full size'></a>"
              "<p class=note>The peak frame: coloured cells scored high, the box marks the hottest. The clip "
              f"starts {pad_s:g} s before the event (a long event's: the minute around its peak). Below: the "
              "event on its timeline, with the playhead. Click a picture for full size.</p><a id=viewer-tl-link title='the timeline at full "
              "size'><div class=tl id=viewer-tl><div class=mark></div>"
              "<div class=playhead></div></div></a></aside>") if events.events else ""
    parts = [
        f"<!DOCTYPE html><html lang=en><head><meta charset='utf-8'><meta name=viewport "
        f"content='width=device-width,initial-scale=1'><title>{_e(title)}</title>"
        "<link rel=stylesheet href='report.css'></head><body><main>",
        f"<h1>{_e(title)}</h1><p class=lead>{lead}</p>",
        f"<div class='review{'' if events.events else ' solo'}'><div class=content><div class=panel>"
        "<h2 id=events-title style='margin-top:0'>Events, strongest first</h2>"
        + (_filter("events", n_ev) if n_ev >= FILTER_FROM else "")
        + f"<div class=events-scroll>{table}</div>{quiet_text}"
        "<p class=note>" + ("Click a row or a picture to play the event; click a column title to sort. "
                            "<span id=events-keys>By keyboard: Tab to the table (or to the pictures), move along "
                            "it with the arrow keys, Home, End, Page Up and Page Down, and press Enter to play the "
                            "event.</span> The same list: " if events.events
                            else "The same (empty) list: ")
        + "<a href='events.csv'>events.csv</a>, <a href='events.json'>events.json</a>.</p></div>",
        f"<h2>Videos ({len(sections)}), strongest event first</h2>",
        _filter("videos", len(sections)) if len(sections) >= FILTER_FROM else "", *sections,
        "<h2 id=run>Run</h2>", _summary(scores, events, out), _cameras(scores, out),
    ]
    if evaluation is not None:
        st = evaluation.settings
        truth_file = shown_path(st.get("annotations"), out)
        parts += [
            "<h2>Frame-level results</h2>",
            f"<p class=note>Clip scores mapped to frames ({_e(st.get('overlap', 'mean'))} over overlapping clips), "
            "tail after the last clip padded with its score; the tail-dropped row leaves those frames out. "
            f"Ground truth: {_e(truth_file)}.</p>",
            *([f"<p class=note>{_e(unlabelled_note(evaluation, truth_file))}.</p>"]
              if st.get("scored_without_truth") else []),
            _score_table([evaluation.pooled, evaluation.pooled_tail_dropped, evaluation.anomalous_only], "pooled",
                         "Frame AUROC and AP, the videos' frames pooled"),
            "<h3 id=per-category>Per category</h3>",
            _score_table(evaluation.per_category, "category", "#per-category"),
        ]
    parts += [f"</div>{viewer}</div><script src='report.js'></script></main></body></html>"]
    page = out / "index.html"
    write_atomic(page, "\n".join(parts).encode("utf-8"))
    return page


def _filter(what: str, n: int) -> str:
    """A box that keeps the rows (sections) whose text holds what is typed (report.js)."""
    cell = ", a cell (2:1)" if what == "events" else ""
    return (f"<p class=filter><input type=search data-filter={what} placeholder='filter the {what}: a name, a "
            f"category or group{cell}...' aria-label='filter the {what}'> <span class=filter-count "
            f"data-count={what} aria-live=polite>{n} {what}</span></p>")


def no_event_hint(events: EventSet, protocol: str | None) -> str | None:
    """What a transductive run with no event should tell its user, else None."""
    if events.events or protocol != "transductive":
        return None
    return ("no clip crossed the alarm line: a line drawn from the videos' own clips rises when many of them "
            "are anomalous (on real footage it rarely fires); read the ranking (videoad plot / "
            "videoad report) or fit on normal footage with --fit-on")


def _cameras(scores: ScoreSet, out: Path) -> str:
    """Per camera group of a per-camera run, the mean scene picture of its scored videos (from the
    feature store the run names; enlarged to `cameras/<group>.png`), so the analyst sees which camera
    each group is. Empty for other groupings; a note where the store's pictures cannot be read."""
    if scores.meta.get("config", {}).get("mode") != "per-camera":
        return ""
    import cv2
    import numpy as np

    from extract.scene import SCENE_SHAPE
    from videoad.cameras import camera_pictures
    from videoad.video import open_store

    by_group: dict[str, list[str]] = {}
    for v in scores:
        by_group.setdefault(v.group, []).append(v.video)
    store = run_store(scores)
    if str(store) in ("", "."):  # scores naming no store: "" was read as the folder the report was made from
        return "<h3>Cameras</h3><p class=note>Their pictures cannot be read: the scores name no feature store</p>"
    try:
        means = camera_pictures(open_store(store), dict(sorted(by_group.items())))
    except (ValueError, OSError, KeyError) as exc:  # KeyError: a scored video the store no longer holds
        why = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
        why = str(why).replace(str(store), shown_path(store, out))
        return f"<h3>Cameras</h3><p class=note>Their pictures cannot be read: {_e(why)}</p>"
    (out / "cameras").mkdir(exist_ok=True)
    cells = []
    for g, cam in means.items():
        mean = np.asarray(cam["scene"], np.float64).reshape(SCENE_SHAPE)
        big = cv2.resize(mean.round().astype(np.uint8), None, fx=5, fy=5, interpolation=cv2.INTER_NEAREST)
        name = f"cameras/{file_stems([g])[g]}.png"
        ok, png = cv2.imencode(".png", big)
        if ok:  # through a temporary: a kill left a cut picture under its name
            write_atomic(out / name, png.tobytes(), sync=False)
        cells.append(f"<figure style='display:inline-block;margin:0 1em 1em 0'><img src='{_e(name)}' alt='{_e(g)}' "
                     f"width={big.shape[1]} height={big.shape[0]}><figcaption>{_n(g)}: {len(by_group[g])} video(s)"
                     "</figcaption></figure>")
    return ("<h3>Cameras</h3><p class=note>Each group's background: the mean of its videos' scene pictures "
            "(what the grouping told the cameras apart by).</p>" + "".join(cells))


def event_summary(events: EventSet) -> str:
    """One line for the terminal: how many events, and the strongest."""
    if not events.events:
        return f"no event in {len(events.videos)} video(s)"
    e = events.events[0]
    unseen = sum(bool(x.unseen_cells) for x in events.events)
    return (f"{len(events.events)} event(s) in {len(events.videos) - len(events.quiet_videos)} of "
            f"{len(events.videos)} video(s); strongest: {event_name(e.event)} {one_line(e.video)} {fmt_time(e.start_s, e.start_frame)}-"
            f"{fmt_time(e.end_s, e.end_frame)}, peak {fmt_score(e.peak_score)}"
            + (f"; {unseen} of them where the history never moved (unseen_cells)" if unseen else ""))
