"""Does a normal history cover the footage it scores? Grid cells it never shows moving, and
footage that moves far more than any of it.

Why: on the one real scene no setting was chosen on (vtest-fresh, docs/defaults.md), the highest
scores went to people crossing a lawn the 39-second history never showed anyone on; the detector
was right that it had not seen that, and the analyst needs to know it is that, not an incident.
Motion features say it directly: each cell records the share of its pixels that moved. A cell in
which the history never moved (`STILL`, at most 2% of its pixels in any history clip) and a scored
clip does (`MOVING`, over 10%) is motion the history cannot vouch for. Both levels were read off
vtest-fresh's history and the development sets' (none of which trips them); they only raise a
warning and change no score.

The second check is of the whole picture: night noise, rain, or another camera's footage moves in
far more pixels than any clip of a day's history, and the detector then ranks conditions, not
incidents (docs/defaults.md, the night and rain checks). A video whose typical clip (the median)
moves in `BUSIER` times the share of pixels that the history's busiest clip moved in, counting
pixels at `FAST_EDGE` px/frame or faster, is named. The level was read off the development sets
(docs/defaults.md, "Footage unlike its history"): 1.19 at most where the history matched, 2.8 and
more at night against a day's history. A busier hour than the history's (three times the walkers:
1.0-1.7) and rain (to 1.7) stay under it: that is a limitation, not a warning.
"""
from __future__ import annotations

import math
import os
from typing import Mapping

import numpy as np

#: a history cell is "still" when no history clip moved more than this share of its pixels
STILL = 0.02
#: a scored clip moves in a cell when more than this share of its pixels moved
MOVING = 0.10
#: a video is unlike its history when its median clip moves in this many times the share of pixels
#: that the history's busiest clip moved in
BUSIER = 2.0
#: ... counting the pixels that moved at least this fast (px/frame, one of the magnitude edges):
#: the slowest edge counts sensor noise in a still picture too
FAST_EDGE = 0.5
#: `videoad watch` reads the median over a video's latest this many clips (a file scored offline: all
#: of it)
WINDOW = 32
#: a group's fitted videos mix two levels of activity when, sorted by their median clip's activity,
#: two neighbours are this many times apart ...
SPLIT = 2.0
#: ... with at least this many videos on each side (one quiet video is a quiet hour, not a condition)
MIN_SIDE = 2
#: ... and at least this share of them: a few near-still videos among a category of many cameras
#: barely move its alarm line (a robust statistic), so they are not what the warning is for
MIN_SIDE_SHARE = 0.1
#: the history's busiest clip counts as at least this share (a history in which next to nothing
#: moved: footage is compared with a tenth of a percent of the picture, not with zero)
PEAK_FLOOR = 0.001


def moving_share(cells: np.ndarray, attrs: Mapping, edge: float | None = None) -> np.ndarray | None:
    """(n_clips, n_cells) share of each cell's pixels that moved (at least `edge` px/frame, one of
    the magnitude edges; None: the slowest), for motion features (their magnitude histogram follows
    the `bins` orientation values); None for any other backbone."""
    if str(attrs.get("backbone", "")) != "motion" or cells is None:
        return None
    from extract.backbones.motion import MAGNITUDE_EDGES
    from extract.store import json_object

    options = json_object(attrs.get("backbone_options"), absent={})
    bins = options.get("bins", 8) if options is not None else None
    if not isinstance(bins, int) or bins < 0:  # damaged options (named at screening): the checks do not say
        return None
    cells = np.asarray(cells)
    if cells.ndim != 3 or cells.shape[2] < bins + len(MAGNITUDE_EDGES):
        return None
    first = bins + (0 if edge is None else MAGNITUDE_EDGES.index(edge))
    return cells[:, :, first:bins + len(MAGNITUDE_EDGES)].sum(axis=2)


def activity(cells: np.ndarray, attrs: Mapping) -> np.ndarray | None:
    """(n_clips,) share of the picture's pixels that moved at `FAST_EDGE` or faster in each clip
    (the cells' mean: they tile the picture); None where the features do not say."""
    share = moving_share(cells, attrs, FAST_EDGE)
    return None if share is None else share.mean(axis=1)


def history_peak(vids) -> float | None:
    """The highest `activity` of any clip of the history `vids`; None when the features do not say."""
    levels = [activity(v.cells, v.attrs) for v in vids]
    if not levels or any(a is None for a in levels):
        return None
    return float(np.concatenate(levels).max())


def busier_ratio(median: float, peak: float) -> float:
    """A median clip's activity over the history's busiest, or over another level (floored at
    `PEAK_FLOOR`)."""
    return median / max(peak, PEAK_FLOOR)


def busier_than_history(vids, peak: float | None) -> dict[str, float]:
    """Per scored video whose median clip moves in at least `BUSIER` times the history's `peak`,
    that ratio (two decimals; videos under it left out)."""
    out = {}
    for v in vids:
        median = median_activity(v) if peak is not None else None
        if median is None:
            continue
        ratio = busier_ratio(median, peak)
        if ratio >= BUSIER:
            out[v.key] = round(ratio, 2)
    return out


def median_activity(video) -> float | None:
    """A video's median clip `activity` (None where its features do not say)."""
    level = activity(video.cells, video.attrs)
    return float(np.median(level)) if level is not None and len(level) else None


def activity_levels(vids) -> list[tuple[float, str]] | None:
    """(median clip `activity`, key) of each video, lowest first; None where the features do not say.
    A video whose median is not a finite number (NaN or inf in its cells: left out of every fit) is
    left out here too: it sorts nowhere, and the sort around it broke the levels apart.
    `vids` may be a generator: each video is dropped once measured."""
    return sorted_levels([(median_activity(v), v.key) for v in vids])


def sorted_levels(levels: list[tuple[float | None, str]]) -> list[tuple[float, str]] | None:
    """`activity_levels` from each video's (median activity or None, key), measured by the caller."""
    if any(m is None for m, _ in levels):
        return None
    return sorted((m, k) for m, k in levels if math.isfinite(m))


def activity_split(vids) -> dict | None:
    """Whether the videos one model is fitted on fall into two levels of activity (the same camera
    by day and at night, a quiet and a busy camera): sorted by their median clip's `activity`, the
    widest ratio between neighbours, when it is at least `SPLIT` with `MIN_SIDE` videos or more, and
    `MIN_SIDE_SHARE` of them, on each side: the busier videos, that ratio, and the boundary between
    the levels (the geometric mean of those two neighbours' medians, where a scored video changes
    level: `videoad.video.levels`). One model and one alarm line over both lose the
    quieter part's events (docs/defaults.md, "One camera by day and at night"). None otherwise, or
    where the features do not say."""
    return split_of(activity_levels(vids))


def split_of(levels: list[tuple[float, str]] | None) -> dict | None:
    """`activity_split` from the videos' sorted (median activity, key) pairs (`activity_levels`),
    for a caller that reads them one video at a time."""
    if levels is None:
        return None
    best = None
    side = max(MIN_SIDE, math.ceil(MIN_SIDE_SHARE * len(levels)))
    for i in range(side, len(levels) - side + 1):
        ratio = busier_ratio(levels[i][0], levels[i - 1][0])
        if ratio >= SPLIT and (best is None or ratio > best[0]):
            best = (ratio, i)
    if best is None:
        return None
    lo, hi = (max(levels[i][0], PEAK_FLOOR) for i in (best[1] - 1, best[1]))  # floored as the ratio is
    return {"busier": sorted(k for _, k in levels[best[1]:]), "quieter": best[1], "ratio": round(best[0], 2),
            "boundary": round(math.sqrt(lo * hi), 6)}


def still_cells(vids) -> list[int] | None:
    """Cells (row-major indices) in which no clip of the history `vids` moved; None when the
    features do not say (not motion, no cells)."""
    shares = [moving_share(v.cells, v.attrs) for v in vids]
    if not shares or any(s is None for s in shares):
        return None
    peak = np.concatenate(shares).max(axis=0)
    return [int(i) for i in np.flatnonzero(peak <= STILL)]


def moving_where_still(vids, still: list[int]) -> dict[str, int]:
    """Per scored video, its clips that move in a cell the history never moved in (videos with
    none left out)."""
    out = {}
    for v in vids:
        share = moving_share(v.cells, v.attrs)
        if share is None or not still:
            continue
        n = int((share[:, still] > MOVING).any(axis=1).sum())
        if n:
            out[v.key] = n
    return out


def cell_names(cells: list[int], cols: int) -> str:
    """Row-major cell indices as events.csv and `--ignore-cells` name them ("row:col", 0-based from
    the top left), space-separated, the convention said once after them."""
    cols = max(1, int(cols))
    return " ".join(f"{i // cols}:{i % cols}" for i in cells) + " (row:col from 0 at the top left)"


def listed(items: list[str], shown: int = 5) -> str:
    """The first `shown` of `items`, comma-separated, and how many more."""
    return ", ".join(items[:shown]) + (f" and {len(items) - shown} more" if len(items) > shown else "")


def busier_line(ratios: Mapping[str, float], where: str = "") -> str:
    """The warning for videos `busier_than_history` named (`where`: what they are, for the reader)."""
    names = listed([f"{k} ({r:.1f}x)" for k, r in sorted(ratios.items())])
    return (f"{where}{len(ratios)} video(s) move in far more of the picture than any clip of the history did "
            f"({names}, the median clip against the history's busiest): night, rain or another camera? "
            "their scores then rank the conditions, not incidents (fit on a history filmed in them)")


def unknown_view_line(sims: Mapping[str, float], where: str = "") -> str:
    """The warning for videos `videoad.cameras.unknown_views` named."""
    from videoad.cameras import SAME_CAMERA

    names = listed([f"{k} ({s:.2f})" for k, s in sorted(sims.items())])
    return (f"{where}{len(sims)} video(s) show none of the history's camera views ({names}: the best "
            f"correlation of their scene picture, under {SAME_CAMERA:g}): they are scored against another camera's "
            "normal (fit on their own camera's history; several cameras in one folder: --per-camera)")


def cut_view_line(videos: Mapping[str, Mapping], camera: str, where: str = "") -> str:
    """The warning for a camera group's scored videos that scene cuts split between views
    (`videoad.cameras.cut_videos`: run.json's `scene_cut_views`)."""
    from videoad.cameras import cut_parts_text

    names = listed([f"{k} ({cut_parts_text(e)})" for k, e in sorted(videos.items())], 3)
    return (f"{where}{len(videos)} video(s) change view at a scene cut ({names}): each is scored whole as {camera}, "
            "the camera its scene picture (the median over the whole video: the view it shows most) matches, so "
            f"its part(s) showing another view are scored against {camera}'s normal (false alarms or missed events "
            "there). To score each part with its own camera's model, split the file at the cut and extract the "
            "parts apart, or `videoad watch` it with models saved --per-camera (it switches model at a cut)")


def split_line(split: Mapping, where: str = "") -> str:
    """The warning for a group whose fitted footage `activity_split` divides."""
    busier = split["busier"]
    mixes = (f"{where}the footage its model was fitted on mixes two levels of activity: {len(busier)} video(s) "
             f"({listed(busier)}) move in {split['ratio']:.1f}x the share of the picture of the other {split['quieter']} "
             "(night and day? a busy and a quiet camera?); one model and one alarm line over both lose the quieter "
             "footage's events: ")
    if split.get("within_level"):  # --activity-levels apart split its group already: it is one of those two
        return (mixes + f"fitted together all the same: it is already one of the two levels group "
                f"{split['within_level']} was split into, and no more are fitted apart (a folder or category "
                "each fits them apart)")
    few = split.get("too_few_clips")
    if few:  # --activity-levels apart was asked: a level had too few clips for a model of its own
        floor = split.get("min_clips")
        short = [side for side, n in few.items() if floor is not None and n < int(floor)]
        if short:
            return (mixes + "fitted together all the same, since " + ", ".join(f"the {side} {few[side]} clips"
                                                                               for side in short)
                    + f" < min_clips={floor}: more footage of that level (or --min-clips N) fits them apart")
        # no level under it in the record (one the fit did not write as it is): each level named, not "one level"
        return (mixes + "fitted together all the same (a level with fewer than min_clips"
                + (f"={floor}" if floor is not None else "") + " clips is not fitted apart; here "
                + " and ".join(f"the {side} has {n} clips" for side, n in few.items()) + ")")
    return mixes + "fit them apart (--activity-levels apart, or a folder or category each)"


def apart_line(level: Mapping, where: str = "") -> str:
    """What a group fitted per level of activity (`videoad.video.levels`) did, said once per pair."""
    n = level.get("videos") or {}
    of = level["of"]
    return (f"{where}its fitted footage falls into two levels of activity ({n.get('busier', '?')} video(s) move in "
            f"{float(level['ratio']):.1f}x the share of the picture of the other {n.get('quieter', '?')}: night and day? "
            f"a busy and a quiet camera?): one model and one alarm line per level, '{of} (quieter)' and "
            f"'{of} (busier)', each video scored by its own level's")


#: why a history of one video has its alarm line from its own fitted scores (`GroupModel.fit`;
#: run.json's `line_note`, worded for the command line and the report by `warnings`)
ONE_VIDEO_HISTORY = ("the history is one video: its clips cannot be scored without their own video "
                     "(history_line: held-out), so the alarm line is read from their fitted scores, which "
                     "sit lower than new normal footage scores (near-duplicate neighbours from the same "
                     "video), and normal footage may raise events; give --fit-on two videos or more")


def line_note_line(note: str) -> str:
    """Why a group's alarm line is read from every fitted clip (run.json's `line_note`): a history of
    one video (`ONE_VIDEO_HISTORY`), or `line_from: selection` with no selection to read
    (`group_model.line_clips_of`: the detector keeps none, or too few clips are selected)."""
    if note == ONE_VIDEO_HISTORY:
        return note
    return f"line_from: selection: {note}; the alarm line is read from every fitted clip"


def short_history_line(short: Mapping) -> str:
    """Why a history's alarm line is read from fitted scores although it holds two videos or more
    (`GroupModel.fit`'s `short_history`: the other videos of `scored_fitted` of them hold under 10 clips)."""
    return (f"history video(s) {listed(short['videos'])} hold(s) only {short['clips']} clip(s): too few to score the other "
            f"{short['scored_fitted']} video(s)' clips against (history_line: held-out), so the alarm line is read "
            "from their fitted scores, which sit lower than new normal footage scores, and normal footage may "
            "raise events; give --fit-on other videos of 10 clips or more together")


def warnings(groups) -> list[str]:
    """One line per group fitted as two levels of activity, one per group whose fitted footage mixes
    two levels of activity under one model, one per group scored as whole clips although some of its
    videos have grid cells (most have none: `cells_unused`), one per group with
    videos of a camera its history does not show, one per camera group with videos that scene cuts
    split between views, one per group with videos far busier than its
    history, and one per group whose scored clips move where its history never did (from
    run.json's groups: `activity_split`, `cells_unused`, `unknown_views`, `scene_cut_views`,
    `busier_than_history`, `history_still_cells`, `moving_where_history_still`), and one per group
    whose alarm line is read from every fitted clip (`line_note`: a history of one video, or
    `line_from: selection` with no selection to read) or whose other videos are too short to score a
    video against (`short_history`)."""
    lines, paired = [], set()
    for g in groups:
        level = g.get("activity_level")
        if level and level.get("of") not in paired:
            paired.add(level.get("of"))
            lines.append(apart_line(level, f"group {level['of']}: "))
        if g.get("activity_split"):
            lines.append(split_line(g["activity_split"], f"group {g['group']}: "))
        unused = g.get("cells_unused")
        if unused:
            lines.append(f"group {g['group']}: only {unused['with_cells']} of the {unused['videos']} videos it was "
                         "fitted on have grid cells: it is scored as whole clips, no video has a heat map (extract "
                         "the others again as those were, to score cells)")
        if g.get("unknown_views"):
            lines.append(unknown_view_line(g["unknown_views"], f"group {g['group']}: "))
        if g.get("scene_cut_views"):
            lines.append(cut_view_line(g["scene_cut_views"], g["group"], f"group {g['group']}: "))
        if g.get("busier_than_history"):
            lines.append(busier_line(g["busier_than_history"], f"group {g['group']}: "))
        if g.get("short_history"):  # its `line_note` says the same
            lines.append(f"group {g['group']}: {short_history_line(g['short_history'])}")
        elif g.get("line_note"):
            lines.append(f"group {g['group']}: {line_note_line(g['line_note'])}")
        videos = g.get("moving_where_history_still") or {}
        if not videos:
            continue
        where = cell_names(g.get("history_still_cells", []), (g.get("cell_grid") or [0, 1])[1])
        lines.append(f"group {g['group']}: the history never shows motion in grid cell(s) {where}; "
                     f"{sum(videos.values())} scored clip(s) of {len(videos)} video(s) do: their scores and events "
                     "there may be ordinary activity the history did not cover (fit on footage that shows it)")
    return lines


def video_notes(video: str, group: Mapping) -> list[str]:
    """What the group's checks say of one scored video, for the report's facts under its timeline."""
    notes = []
    level = group.get("activity_level") or {}
    if level:
        notes.append(f"scored by the model of the {level['side']} of two levels of activity ({float(level['ratio']):.1f}x apart)")
    split = group.get("activity_split") or {}
    if video in split.get("busier", ()):
        notes.append(f"among the busier of two levels of activity its model was fitted on ({split['ratio']:.1f}x)")
    if video in (group.get("unknown_views") or {}):
        notes.append(f"shows none of the history's cameras (scene correlation {group['unknown_views'][video]:.2f})")
    cut = (group.get("scene_cut_views") or {}).get(video)
    if cut:
        from videoad.cameras import cut_parts_text

        notes.append(f"scored whole as {group['group']} though its view changes at a scene cut ({cut_parts_text(cut)}): "
                     f"its part(s) showing another view are scored against {group['group']}'s normal")
    if video in (group.get("busier_than_history") or {}):
        notes.append(f"moves in {group['busier_than_history'][video]:.1f}x the share of the picture of the history's "
                     "busiest clip (night, rain, another camera?)")
    if video in (group.get("moving_where_history_still") or {}):
        notes.append(f"{group['moving_where_history_still'][video]} clip(s) move where the history never did")
    return notes


def scored_in_history(features, keys: list[str], history, history_keys: list[str]) -> list[str]:
    """The scored keys whose source file is one the history was extracted from (the same path): a
    model fitted on them scores them, and its alarm line comes from their own clips."""
    from extract.store import key_path, read_attrs

    def sources(root, ks: list[str]) -> dict[str, str]:
        out = {}
        for k in ks:
            try:
                out[k] = os.path.realpath(str(read_attrs(key_path(root, k)).get("source_path", "")))
            except (OSError, ValueError):
                continue
        return out

    past = set(sources(history, history_keys).values()) - {os.path.realpath("")}
    return sorted(k for k, src in sources(features, keys).items() if src in past)


def scored_in_history_words(same: list[str]) -> str:
    """The warning for `scored_in_history`'s keys."""
    return (f"{len(same)} scored video(s) are also in the history --fit-on names ({', '.join(same[:3])}"
            f"{', ...' if len(same) > 3 else ''}): a model fitted on them scores them, and its alarm line comes "
            "from their own clips; give --fit-on footage of normal days other than the one scored")
