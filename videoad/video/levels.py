"""One model per level of activity: a group whose fitted videos fall into two levels
(`videoad.coverage.activity_split`: the same camera by day and at night, a quiet and a busy
camera) is fitted as two groups, "<group> (quieter)" and "<group> (busier)".

Why: one model over both sets one alarm line over both, and the busier footage's noise lifts it
above the quieter footage's events (check-daynight: 22 of 24 anomalous demo day videos caught
fitted alone, 1 of 24 fitted with the night; docs/defaults.md, "One camera by day and at night").
The split never fires on footage of one level (116 development and confirmation stores,
check-split), so everything else is fitted exactly as before.

A video scored by such a pair (`--fit-on`, `--model`) goes to the level whose side of the
boundary its median clip's activity lies on (`activity_split`'s: the geometric mean of the two
neighbouring videos the split fell between)."""
from __future__ import annotations

import math
from typing import Mapping

from extract.store import VideoFeatures
from videoad.coverage import median_activity, sorted_levels, split_of

#: the two groups a split group becomes, quieter first
SIDES = ("quieter", "busier")


def level_group(group: str, side: str) -> str:
    """The name of one level of `group` (run.json, models.json, the report)."""
    return f"{group} ({side})"


def store_split(store, keys: list[str], level: str = "auto") -> dict | None:
    """`coverage.activity_split` of the stored videos a fit of the group keeps (`fitted_levels`;
    None where they are not motion features, or fewer than four), read one at a time, not a whole
    pooled store's cells at once."""
    levels = fitted_levels(store, keys, level)
    return split_of(levels) if levels is not None else None


def fitted_levels(store, keys: list[str], level: str = "auto") -> list[tuple[float, str]] | None:
    """`coverage.activity_levels` of the videos of `keys` that the fit keeps: those `_load_group`
    leaves out (unreadable or not finite arrays, laid out unlike most of the group's; `level`: the
    level asked) are not measured. Every video was: one without cells among the group's gridded
    ones hid the split the fit then found ("fitted together all the same"), one on another grid
    moved it. Each video is kept as its layout alone once measured. None where they are not motion
    features, or fewer than four."""
    from videoad.video.groups import _finite, _unlike_most

    if len(keys) < 4 or str(store.attrs(keys[0]).get("backbone", "")) != "motion":  # activity is motion's alone
        return None

    measured, shells = [], []
    for k in keys:
        try:
            v = store.load(k, cells=True)
        except ValueError:  # an unreadable file: `_load_group` leaves it out, named
            continue
        fitted = VideoFeatures(k, v.features, v.frames, v.attrs, v.cells if level != "clip" else None)
        if not _finite(fitted):  # left out there too (cells only where the fit reads them)
            continue
        measured.append((median_activity(v), k))
        shells.append(VideoFeatures(k, v.features[:0], v.frames[:0], v.attrs,
                                    None if fitted.cells is None else v.cells[:0]))
    odd = _unlike_most(store, shells, level)
    return sorted_levels([(m, k) for m, k in measured if k not in odd])


def split_levels(store, groups: Mapping[str, list[str]], counts: Mapping[str, int], min_clips: int,
                 level: str = "auto") -> tuple[dict[str, list[str]], dict[str, dict]]:
    """`groups` with each group that mixes two levels of activity replaced by its two levels, and
    per new group its record (`of`: the group split, `side`, `ratio`, `boundary`, `videos` on each
    side). A group stays whole where its features do not say (not motion), where it is not split,
    or where a level would have fewer than `min_clips` clips to fit on. Measured on the videos the
    fit keeps (`fitted_levels`; `level`: the level asked), as the fit's own `activity_split` is; a
    video it leaves out goes with the quieter level, whose fit leaves it out, named."""
    out: dict[str, list[str]] = {}
    levels: dict[str, dict] = {}
    for g, keys in groups.items():
        measured = fitted_levels(store, keys, level)
        split = split_of(measured) if measured is not None else None
        if not split:
            out[g] = keys
            continue
        busier, kept = set(split["busier"]), {k for _, k in measured}
        sides = {"quieter": [k for k in keys if k not in busier], "busier": [k for k in keys if k in busier]}
        if min(sum(counts[k] for k in side if k in kept) for side in sides.values()) < int(min_clips):
            out[g] = keys
            continue
        for side in SIDES:
            name = level_group(g, side)
            out[name] = sides[side]
            levels[name] = {"of": g, "side": side, "ratio": split["ratio"], "boundary": split["boundary"],
                            "videos": {"quieter": split["quieter"], "busier": len(busier)}}  # those measured
    return out, levels


def saved_levels(models: Mapping[str, Mapping], where: str) -> dict[str, dict]:
    """The `activity_level` records of a models.json's groups, checked: each names the group it
    was split from, its side, a positive boundary and the ratio between the levels (the warnings
    say it), and counts its videos per side, if at all, in an object; else an error naming `where`
    (a hand-edited or damaged models.json: an infinite boundary sent every video to the quieter
    level in silence, a missing ratio failed as a traceback once the scores were written). One level
    alone (the other's fit failed) is kept: videos of the missing level are skipped with the reason
    (`route_groups`)."""
    levels = {g: e["activity_level"] for g, e in models.items()
              if isinstance(e, Mapping) and e.get("activity_level") is not None}
    for g, rec in levels.items():
        try:
            ok = (isinstance(rec, Mapping) and rec.get("side") in SIDES and isinstance(rec.get("of"), str)
                  and 0 < float(rec["boundary"]) < math.inf and math.isfinite(float(rec["ratio"]))
                  and isinstance(rec.get("videos", {}), Mapping))
        except (KeyError, TypeError, ValueError):
            ok = False
        if not ok:
            raise ValueError(f"{where}: group {g!r} has an activity_level that is not {{of: GROUP, side: "
                             "quieter|busier, boundary: a finite number > 0, ratio: a number, videos: counts per "
                             "side}; fit the models again")
    return {g: dict(rec) for g, rec in levels.items()}


def route(store, keys: list[str], cut: float) -> dict[str, list[str]]:
    """Scored `keys` to the side of `cut` their median activity lies on (a video whose features do
    not say goes with the quieter level)."""
    out: dict[str, list[str]] = {s: [] for s in SIDES}
    for k in keys:
        level = median_activity(store.load(k, cells=True))
        out["busier" if level is not None and level >= cut else "quieter"].append(k)
    return out


def route_groups(store, groups: Mapping[str, list[str]], levels: Mapping[str, Mapping]) -> dict[str, list[str]]:
    """Scored groups onto the fitted ones when a fitted group was split into levels (`levels`:
    `split_levels`' records, or a models.json's `activity_level` entries): a scored group that is
    one of a pair's origins, or one of its levels (a per-camera match picks either of a camera's
    two levels by its picture), is divided between the pair by activity (a pair with one level
    alone too: its boundary still divides them). Empty levels are dropped."""
    pairs: dict[str, dict[str, str]] = {}  # group split -> side -> its level's name
    for name, rec in levels.items():
        pairs.setdefault(str(rec["of"]), {})[str(rec["side"])] = name
    out: dict[str, list[str]] = {}
    for g, keys in groups.items():
        origin = str(levels[g]["of"]) if g in levels else g
        pair = pairs.get(origin)
        if not pair:
            out.setdefault(g, []).extend(keys)
            continue
        cut = float(levels[next(iter(pair.values()))]["boundary"])
        for side, routed in route(store, keys, cut).items():
            if routed:  # a level whose model is missing (its fit failed) keeps its name: skipped, with the reason
                out.setdefault(pair.get(side, level_group(origin, side)), []).extend(routed)
    return {g: sorted(k) for g, k in out.items()}
