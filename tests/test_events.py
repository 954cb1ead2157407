"""Events from clip scores: runs over the alarm line, merging, minimum length, one peak convention,
the cells involved, and the files written beside the scores."""
from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from videoad.events import (EventSettings, cell_names, find_events, fmt_score, read_settings, video_events,
                            where_words, write_events)
from videoad.heatmap import cell_rects, hot_boxes
from videoad.scores import ScoreSet, VideoScores

ALL = EventSettings(min_length_s=0)  # every run over the line, however short


def _video(scores, *, stride=8, fps=10.0, threshold=0.5, cells=None, name="cam/a.avi"):
    scores = np.asarray(scores, float)
    starts = np.arange(len(scores)) * stride
    frames = np.stack([starts, starts + 15], axis=1)
    return VideoScores(name, scores, frames, int(frames[-1, 1]) + 1, fps, "C", "all", "", threshold, cells)


def test_runs_over_the_line_become_events_with_frames_seconds_and_peak():
    #           0    1    2    3    4    5    6    7    8    9   10   11
    s = [0.1, 0.6, 0.9, 0.7, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.8, 0.1]
    v = _video(s, stride=16)  # no overlap: clip i covers frames 16i..16i+15
    evs = video_events(v, EventSettings(merge_gap_s=0.0, min_length_s=0)).events
    assert [(e.first_clip, e.last_clip) for e in evs] == [(1, 3), (10, 10)]
    e = evs[0]
    assert (e.start_frame, e.end_frame) == (16, 63)
    assert e.start_s == pytest.approx(1.6) and e.end_s == pytest.approx(6.4)  # end of the last frame
    # peak: the highest clip score, at that clip's middle frame
    assert e.peak_clip == 2 and e.peak_score == pytest.approx(0.9)
    assert e.peak_frame == (32 + 47) // 2 and e.peak_s == pytest.approx(e.peak_frame / 10.0)
    assert e.mean_score == pytest.approx(np.mean([0.6, 0.9, 0.7]))
    assert e.n_clips == 3 and e.duration_s == pytest.approx(4.8)


def test_merge_gap_and_min_length():
    s = [0.1, 0.9, 0.1, 0.1, 0.8, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.7, 0.1]
    v = _video(s, stride=16)  # runs at clips 1, 4, 11: gaps of 32 frames (3.2 s) then 96 (9.6 s)
    assert len(video_events(v, EventSettings(merge_gap_s=3.0, min_length_s=0)).events) == 3
    merged = video_events(v, EventSettings(merge_gap_s=3.2, min_length_s=0)).events
    assert [(e.first_clip, e.last_clip) for e in merged] == [(1, 4), (11, 11)]
    assert merged[0].mean_score == pytest.approx(np.mean(s[1:5]))  # the gap's clips count in the mean
    # each single clip lasts 1.6 s: a 2 s minimum drops them, the merged 6.4 s event stays
    kept = video_events(v, EventSettings(merge_gap_s=3.2, min_length_s=2.0)).events
    assert [(e.first_clip, e.last_clip) for e in kept] == [(1, 4)]


def test_overlapping_clips_with_a_dip_between_are_one_event():
    s = [0.1, 0.9, 0.2, 0.9, 0.1, 0.1, 0.1, 0.1]
    v = _video(s, stride=8)  # clips 1 and 3 share frames 24..31
    assert len(video_events(v, EventSettings(merge_gap_s=0.0, min_length_s=0)).events) == 1


def test_videos_without_events_say_why():
    calm = video_events(_video([0.1, 0.2, 0.3]), ALL)
    assert calm.events == [] and calm.note == "no clip over the alarm line"
    short = video_events(_video([0.1, 0.9, 0.1], stride=16), EventSettings(min_length_s=5))
    assert short.events == [] and "shorter than 5 s" in short.note
    none = video_events(_video([0.1, 0.9], threshold=None), ALL)
    assert none.events == [] and "no alarm line" in none.note


def test_unknown_fps_gives_frames_only_and_says_what_was_assumed():
    v = _video([0.1, 0.9, 0.1], fps=0.0)
    ve = video_events(v, ALL)
    e = ve.events[0]
    assert e.start_s is None and e.peak_s is None and e.duration_s is None
    assert (e.start_frame, e.end_frame) == (8, 23)
    assert "fps unknown" in ve.note


def test_run_numbering_is_worst_first_and_every_video_is_listed(tmp_path):
    a = _video([0.1, 0.7, 0.1, 0.1, 0.1, 0.95, 0.1], stride=16, name="cam/a.avi")
    b = _video([0.1, 0.8, 0.1], stride=16, name="cam/b.avi")
    c = _video([0.1, 0.2, 0.1], stride=16, name="cam/c.avi")
    s = ScoreSet([a, b, c], {"config": {"detector": "duad"}})
    ev = find_events(s, EventSettings(merge_gap_s=0.5, min_length_s=0))
    assert [(e.event, e.video, e.peak_score) for e in ev.events] == [
        (1, "cam/a.avi", 0.95), (2, "cam/b.avi", 0.8), (3, "cam/a.avi", 0.7)]
    assert [v.video for v in ev.quiet_videos] == ["cam/c.avi"]
    assert ev.score_unit == "reconstruction angle (rad)"
    assert find_events(ScoreSet([a], {"config": {"detector": "pca"}})).score_unit == "score"

    csv_path, json_path = write_events(tmp_path, ev)
    rows = list(csv.DictReader(open(csv_path)))
    assert [r["event"] for r in rows] == ["1", "2", "3"] and rows[0]["video"] == "cam/a.avi"
    assert float(rows[0]["peak_score"]) == 0.95 and float(rows[0]["start_s"]) == pytest.approx(8.0)
    data = json.loads(json_path.read_text())
    assert data["n_events"] == 3 and data["settings"] == {"merge_gap_s": 0.5, "min_length_s": 0}
    quiet = [v for v in data["videos"] if v["video"] == "cam/c.avi"][0]
    assert quiet["n_events"] == 0 and quiet["note"] == "no clip over the alarm line"
    assert read_settings(tmp_path) == EventSettings(merge_gap_s=0.5, min_length_s=0)


def test_cells_involved_and_the_hottest_at_the_peak(tmp_path):
    n, grid = 6, (3, 4)
    cells = np.full((n, 12), 0.1)
    cells[2, 5] = 0.9  # peak clip: row 1, col 1 hottest, its right neighbour warm
    cells[2, 6] = 0.7
    cells[3, 11] = 0.8  # a later clip of the same event: bottom right
    v = _video([0.1, 0.1, 0.9, 0.7, 0.1, 0.1], stride=16, cells=cells)
    ev = find_events(ScoreSet([v], {"cell_grid": list(grid)}), EventSettings(merge_gap_s=0, min_length_s=0))
    e = ev.events[0]
    assert e.peak_cells == [5, 6]  # 0.7 is in the upper half between 0.1 and 0.9
    assert e.cells == [5, 6, 11]
    assert cell_names(e.cells, grid) == "1:1 1:2 2:3"
    assert where_words(e.peak_cells, grid) == "middle"
    assert where_words([0], grid) == "top left" and where_words([11], grid) == "bottom right"
    assert where_words(list(range(12)), grid) == "most of the frame"
    # two corners apart: each in its words (their box's centre read "top centre", where nothing was)
    cols = grid[1]
    assert where_words([0, cols - 1], grid) == "top left and top right"
    assert " and " not in where_words([0, cols + 1], grid)  # touching at a corner: one place
    # events.csv names both: the whole event's cells and the peak clip's, boxed in its picture
    (row,) = csv.DictReader(open(write_events(tmp_path, ev)[0]))
    assert (row["cells"], row["peak_cells"], row["where"]) == ("1:1 1:2 2:3", "1:1 1:2", "middle")
    # events.json says the same ("the same plus every video"; it had no `where`)
    (saved,) = json.loads((tmp_path / "events.json").read_text())["events"]
    assert (saved["cell_names"], saved["peak_cells"], saved["where"]) == ("1:1 1:2 2:3", [5, 6], "middle")
    # cells that do not stand out from the video's typical level: none involved
    flat = _video([0.1, 0.9, 0.1], stride=16, cells=np.full((3, 12), 0.2))
    assert video_events(flat, ALL).events[0].cells == []


def test_cells_the_history_never_moved_in_are_named_per_event():
    """With a history's still cells on record for the video's group, each event names those among
    its cells; another group, or a run without the record (transductive), names none."""
    cells = np.full((6, 12), 0.1)
    cells[2, 5], cells[2, 6], cells[3, 11] = 0.9, 0.7, 0.8  # involved: 5, 6, 11
    scores = [0.1, 0.1, 0.9, 0.7, 0.1, 0.1]
    a = _video(scores, stride=16, cells=cells)
    b = _video(scores, stride=16, cells=cells.copy(), name="cam/b.avi")
    b.group = "other"
    settings = EventSettings(merge_gap_s=0, min_length_s=0)
    groups = [{"group": "all", "history_still_cells": [0, 6, 11]}, {"group": "other", "history_still_cells": [1]}]
    ev = find_events(ScoreSet([a, b], {"cell_grid": [3, 4], "groups": groups}), settings)
    assert {e.video: e.unseen_cells for e in ev.events} == {"cam/a.avi": [6, 11], "cam/b.avi": []}
    plain = find_events(ScoreSet([_video(scores, stride=16, cells=cells)], {"cell_grid": [3, 4]}), settings)
    assert plain.events[0].unseen_cells is None


def test_events_name_the_scene_cuts_inside_them(tmp_path):
    """Cuts placed by the store: each event lists those between its first and last frame, in
    events.csv / events.json and in the report's table; a video whose cuts were only counted (an
    older store) or never looked for says nothing."""
    from videoad.report import build_report

    scores = [0.1, 0.9, 0.8, 0.1, 0.1, 0.1, 0.9, 0.1]  # events over clips 1-2 (frames 16-47), 6 (96-111)
    placed = _video(scores, stride=16, name="cam/edited.avi")
    # 96: between frames 95 and 96, before the second event's first frame, so not inside it
    placed.scene_cuts, placed.scene_cut_frames, placed.scene_cut_handling = 4, [20, 70, 96, 100], "kept"
    counted = _video(scores, stride=16, name="cam/old.avi")
    counted.scene_cuts = 2  # frames not recorded
    clean = _video(scores, stride=16, name="cam/clean.avi")
    clean.scene_cuts = 0
    events = find_events(ScoreSet([placed, counted, clean, _video(scores, stride=16, name="cam/x.avi")]),
                         EventSettings(merge_gap_s=0, min_length_s=0))
    by = {(e.video, e.start_frame): e.scene_cuts for e in events.events}
    assert by[("cam/edited.avi", 16)] == [20] and by[("cam/edited.avi", 96)] == [100]
    assert by[("cam/old.avi", 16)] is None and by[("cam/clean.avi", 16)] == [] and by[("cam/x.avi", 16)] is None
    write_events(tmp_path, events)
    rows = {(r["video"], r["start_frame"]): r["scene_cuts"] for r in csv.DictReader(open(tmp_path / "events.csv"))}
    assert rows[("cam/edited.avi", "96")] == "100" and rows[("cam/clean.avi", "16")] == ""
    saved = json.loads((tmp_path / "events.json").read_text())["events"]
    assert sorted(e["scene_cuts"] for e in saved if e["video"] == "cam/edited.avi") == [[20], [100]]
    # the report's default rules keep the first event only (the second is shorter than 2 s)
    page = build_report(ScoreSet([placed]), tmp_path / "report", clips=False).read_text()
    assert page.count(">across a scene cut<") == 1 and "frame(s) 20 inside this event: a clip across one holds" in page


def test_clock_times_round_to_the_second_so_that_an_event_is_covered():
    """`clock_after` to the second: down for a start, up for an end, to the nearest for a peak, after
    the zone's offset and a summer-time jump are applied (isoformat alone cut every fraction off)."""
    import os
    import time
    from datetime import datetime, timezone

    from extract.clock import clock_after

    at = datetime(2026, 12, 5, 8, 0, 0)
    assert [clock_after(at, 6.4, how) for how in ("down", "up", "nearest")] == \
        ["2026-12-05T08:00:06", "2026-12-05T08:00:07", "2026-12-05T08:00:06"]
    assert clock_after(at, 3.5, "nearest") == "2026-12-05T08:00:04"
    assert clock_after(at, 7.0, "up") == "2026-12-05T08:00:07"  # a whole second stays
    assert clock_after(at, 59.2, "up") == "2026-12-05T08:01:00"
    assert clock_after(datetime(2026, 12, 31, 23, 59, 59, tzinfo=timezone.utc), 0.3, "up") == "2027-01-01T00:00:00+00:00"
    assert clock_after(datetime(9999, 12, 31, 23, 59, 59), 0.5, "up") == "9999-12-31T23:59:59"  # past the range: down
    with pytest.raises(ValueError, match="rounding"):
        clock_after(at, 1.0, "ceil")
    # "exact": a recording's start moved by the frames its decoder lost keeps its fraction
    assert clock_after(at, 1.5, "exact") == "2026-12-05T08:00:01.500000"
    assert clock_after(datetime(2026, 12, 5, 8, tzinfo=timezone.utc), 2.0, "exact") == "2026-12-05T08:00:02+00:00"
    old = os.environ.get("TZ")
    os.environ["TZ"] = "America/New_York"
    time.tzset()
    try:  # 1:59:30 + 37.4 s on the night the clocks jump to 3:00: 3:00:07.4, up 3:00:08
        assert clock_after(datetime(2026, 3, 8, 1, 59, 30), 37.4, "up") == "2026-03-08T03:00:08"
        # rounded up across the jump itself: 01:59:59.6 is 03:00:00, not 02:00:00, a time that never was
        assert clock_after(datetime(2026, 3, 8, 1, 59, 30), 29.6, "up") == "2026-03-08T03:00:00"
        assert clock_after(datetime(2026, 3, 8, 1, 59, 30), 29.6, "down") == "2026-03-08T01:59:59"
    finally:
        os.environ.pop("TZ") if old is None else os.environ.__setitem__("TZ", old)
        time.tzset()


def test_events_are_told_by_the_clock_where_the_recording_start_is_known(tmp_path):
    """A recording whose start is known (its file name, extract.clock) gives each event the clock
    times of its start, end and peak, in events.csv, events.json and the report; one without
    gives none, and one without a frame rate neither (its seconds are unknown)."""
    from dataclasses import replace

    from videoad.report import build_report

    s = [0.1, 0.6, 0.9, 0.7, 0.1, 0.1, 0.1, 0.1]
    known = replace(_video(s, stride=16, name="cam1_20261205_080000.mp4"), start_time="2026-12-05T08:00:00",
                    start_time_from="file name")
    plain = _video(s, stride=16, name="plain.mp4")
    frames_only = replace(_video(s, stride=16, fps=0.0, name="frames"), start_time="2026-12-05T09:00:00",
                          start_time_from="file name")
    events = find_events(ScoreSet([known, plain, frames_only]), EventSettings(merge_gap_s=0.0, min_length_s=0))
    by_video = {e.video: e for e in events.events}
    e = by_video["cam1_20261205_080000.mp4"]
    # 1.6 s and 6.4 s in, to the second so that the span covers the event: the start down, the end up
    # (truncated, the end read 08:00:06, before the event ended)
    assert (e.start_clock, e.end_clock) == ("2026-12-05T08:00:01", "2026-12-05T08:00:07")
    assert e.peak_clock == "2026-12-05T08:00:04"  # frame 39 at 10 fps, 3.9 s: the nearest second (was :03)
    assert by_video["plain.mp4"].start_clock is None and by_video["frames"].start_clock is None
    write_events(tmp_path, events)
    rows = {r["video"]: r for r in csv.DictReader(open(tmp_path / "events.csv"))}
    assert rows["cam1_20261205_080000.mp4"]["start_clock"] == "2026-12-05T08:00:01"
    assert rows["plain.mp4"]["start_clock"] == ""
    assert (rows["cam1_20261205_080000.mp4"]["end_clock"], rows["cam1_20261205_080000.mp4"]["peak_clock"]) == \
        ("2026-12-05T08:00:07", "2026-12-05T08:00:04")
    saved = {x["video"]: x for x in json.loads((tmp_path / "events.json").read_text())["events"]}
    assert saved["cam1_20261205_080000.mp4"]["peak_clock"] == "2026-12-05T08:00:04"
    page = build_report(ScoreSet([known, plain]), tmp_path / "report", clips=False).read_text()
    assert "recorded from 2026-12-05 08:00:00 (its file name)" in page
    # a start with a fraction (a Matroska tag's) counts from it: 08:00:00.75 + 1.6 s is 08:00:02
    tagged = replace(known, start_time="2026-12-05T08:00:00.750000+00:00", start_time_from="creation_time")
    e = find_events(ScoreSet([tagged]), EventSettings(merge_gap_s=0.0, min_length_s=0)).events[0]
    assert (e.start_clock, e.end_clock, e.peak_clock) == \
        ("2026-12-05T08:00:02+00:00", "2026-12-05T08:00:08+00:00", "2026-12-05T08:00:05+00:00")
    assert ">2026-12-05 08:00:01</span>" in page


def test_a_scores_folder_from_before_the_clock_check_gives_its_unset_start_no_clock_times(tmp_path):
    """A run.json written before extraction checked for a camera clock never set still holds its
    2000-01-01 start: `videoad report` told every event by that clock until `detect` ran again. Read
    back, the start is left out as a store read again leaves it, and why is said once, with the
    video's warnings."""
    from dataclasses import replace

    from videoad.report import build_report
    from videoad.scores import read_scores, write_scores

    s = [0.1, 0.6, 0.9, 0.7, 0.1, 0.1, 0.1, 0.1]
    reset = replace(_video(s, stride=16, name="dvr_20000101_000312.mkv"), start_time="2000-01-01T00:03:12",
                    start_time_from="file name", decode_warnings="2 damaged frames filled in")
    known = replace(_video(s, stride=16, name="cam1_20261205_080000.mp4"), start_time="2026-12-05T08:00:00",
                    start_time_from="file name")
    write_scores(tmp_path / "scores", ScoreSet([reset, known], {"config": {}}))
    read = {v.video: v for v in read_scores(tmp_path / "scores")}
    v = read["dvr_20000101_000312.mkv"]
    assert (v.start_time, v.start_time_from) == (None, None)
    assert v.decode_warnings == ("2 damaged frames filled in; its file name says 2000-01-01 00:03:12, which looks "
                                 "like a camera clock never set (before 1990, on 2000-01-01 or in the future): its "
                                 "events are given no clock times")
    assert read["cam1_20261205_080000.mp4"].start_time == "2026-12-05T08:00:00"  # a set clock is kept
    scores = read_scores(tmp_path / "scores")
    events = find_events(scores, EventSettings(merge_gap_s=0.0, min_length_s=0))
    by_video = {e.video: e for e in events.events}
    assert by_video["dvr_20000101_000312.mkv"].start_clock is None
    assert by_video["cam1_20261205_080000.mp4"].start_clock == "2026-12-05T08:00:01"
    page = build_report(scores, tmp_path / "report", clips=False).read_text()
    assert "2000-01-01 00:03" not in page.replace("says 2000-01-01 00:03:12", "")  # no clock time, no start
    assert page.count("looks like a camera clock never set") == 1


def test_hot_boxes_are_connected_groups_and_cells_honour_the_region():
    assert hot_boxes([5, 6, 11], (3, 4)) == [(1, 1, 1, 2), (2, 3, 2, 3)]
    assert hot_boxes([], (3, 4)) == []
    rects = cell_rects((2, 2), (0.25, 0.0, 0.75, 1.0), 200, 100)  # a centre crop
    np.testing.assert_allclose(rects[0], [50, 0, 100, 50])
    np.testing.assert_allclose(rects[3], [100, 50, 150, 100])


def test_settings_are_checked_and_scores_formatted_one_way():
    with pytest.raises(ValueError, match="merge_gap_s"):
        EventSettings(merge_gap_s=-1).check()
    # past the week --merge-gap and --min-event take (run.json, a library caller): 1e30 dropped every event
    for key in ("merge_gap_s", "min_length_s"):
        with pytest.raises(ValueError, match=f"{key} must be a number of seconds >= 0, at most 604800"):
            EventSettings(**{key: 1e30}).check()
    assert EventSettings(merge_gap_s=604800, min_length_s=0).check()
    assert fmt_score(1.00321) == "1.003" and fmt_score(None) == "n/a" and fmt_score(12345.6) == "1.23e+04"


def _reference_events(v, settings):
    """The batch rules written out plainly (runs over the line, merged across the gap, short ones
    dropped), independent of EventTracker: what both the batch and the live path must give."""
    per_frame = v.fps
    over = v.scores > v.threshold
    runs = []
    k = 0
    while k < len(over):
        if over[k]:
            j = k
            while j + 1 < len(over) and over[j + 1]:
                j += 1
            if runs and v.frames[k, 0] - v.frames[runs[-1][1], 1] - 1 <= settings.merge_gap_s * per_frame:
                runs[-1][1] = j
            else:
                runs.append([k, j])
            k = j + 1
        else:
            k += 1
    base = float(np.median(v.cells)) if v.cells is not None else 0.0
    out = []
    for a, b in runs:
        start, end = int(v.frames[a, 0]), int(v.frames[a:b + 1, 1].max())
        if end - start + 1 < settings.min_length_s * per_frame:
            continue
        seg = v.scores[a:b + 1]
        peak = a + int(np.argmax(seg))
        hot = None
        if v.cells is not None:
            top = v.cells[a:b + 1].max(axis=0)
            hot = [int(c) for c in np.flatnonzero(top >= base + 0.5 * (top.max() - base))] if top.max() > base else []
        out.append((a, b, start, end, peak, float(v.scores[peak]), float(seg.mean()), hot))
    return out


@pytest.mark.parametrize("seed", range(40))
def test_batch_and_clip_by_clip_events_equal_the_plain_rules(seed):
    from videoad.events import EventTracker

    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 120))
    # bursts: runs over the line of random lengths with random gaps, plus noise
    scores = rng.random(n) * 0.6 + (rng.random(n) < 0.1) * 0.5
    scores = np.convolve(scores, np.ones(3) / 3, mode="same")
    stride = int(rng.choice([1, 4, 8, 16, 20]))
    cells = rng.random((n, 4)) * scores[:, None]
    v = _video(scores, stride=stride, fps=10.0, threshold=float(rng.uniform(0.2, 0.6)), cells=cells)
    settings = EventSettings(merge_gap_s=float(rng.choice([0.0, 0.5, 2.0, 5.0])),
                             min_length_s=float(rng.choice([0.0, 1.0, 2.0, 4.0])))
    want = _reference_events(v, settings)
    got = video_events(v, settings).events
    key = lambda e: (e.first_clip, e.last_clip, e.start_frame, e.end_frame, e.peak_clip, e.peak_score,  # noqa: E731
                     e.mean_score, e.cells)
    assert [key(e)[:5] + (e.cells,) for e in got] == [w[:5] + (w[7],) for w in want]
    assert [(e.peak_score, e.mean_score) for e in got] == [pytest.approx(w[5:7]) for w in want]
    # clip by clip: each kept event is opened once, then closed with the same number and content
    tracker = EventTracker(v.video, v.threshold, v.fps, settings, cell_base=float(np.median(cells)))
    records = []
    for k in range(n):
        records += tracker.feed(k, *v.frames[k], scores[k], cells[k])
    records += tracker.flush()
    closes = [e for kind, e in records if kind == "close"]
    assert [key(e) for e in closes] == [key(e) for e in got]
    opens = [(kind, e.event) for kind, e in records]
    assert opens == [(kind, i) for i in range(1, len(got) + 1) for kind in ("open", "close")]


def test_cells_left_out_are_hatched_grey_in_the_event_image(tmp_path):
    """A run with `ignore_cells` draws those cells hatched grey over the peak frame (nothing there is
    watched) and says so under the image; the other cells keep their heat."""
    import matplotlib.image as mpimg

    from videoad.heatmap import heat_figure

    frame = np.full((120, 160, 3), 255, np.uint8)  # white, so grey shows
    cells = np.zeros(4)
    kw = dict(cells=cells, grid=(2, 2), vmin=0.0, vmax=1.0)
    plain = mpimg.imread(heat_figure(frame, tmp_path / "plain.png", **kw))
    marked = mpimg.imread(heat_figure(frame, tmp_path / "marked.png", ignored=[0], **kw))
    assert plain.shape == marked.shape
    diff = np.abs(plain[..., :3] - marked[..., :3]).sum(axis=2) > 0.1
    ys, xs = np.nonzero(diff)
    h, w = diff.shape
    # the changed pixels: the top-left quarter of the picture's frame area (and the caption below it)
    assert len(ys) > 0 and np.median(xs) < w / 2 and np.median(ys) < h / 2


def test_an_upright_frames_picture_keeps_its_whole_title(tmp_path, monkeypatch):
    """Over a narrow upright frame (phone footage, a rotated file) the title began mid-figure over
    the axes and its peak time ran past the right edge; it is the figure's, from its left edge."""
    from videoad import plots
    from videoad.heatmap import heat_figure

    seen = {}
    real = plots.save_figure  # the one way a picture is written (a PNG not through Figure.savefig)

    def savefig(fig, *args, **kwargs):
        real(fig, *args, **kwargs)
        title = fig._suptitle
        seen["box"], seen["width"] = title.get_window_extent(fig._get_renderer()), fig.bbox.width

    monkeypatch.setattr(plots, "save_figure", savefig)
    title = "E002  bikes_rot90.mp4\npeak 1.767 distance to the normal selection at 3.5 s (frame 88)"
    heat_figure(np.full((640, 272, 3), 128, np.uint8), tmp_path / "e.png", cells=np.linspace(0, 1, 16), grid=(4, 4),
                vmin=0, vmax=1, hot=[12], title=title, unit="distance to the normal selection")
    assert 0 <= seen["box"].x0 and seen["box"].x1 <= seen["width"]



def test_events_name_the_group_whose_model_scored_them(tmp_path):
    """Under --per-camera the events said no camera (category empty, no group column), where the
    watch's events.csv has one: `group` is the last column of events.csv and a key of events.json."""
    v = _video([0.1] * 5 + [2.0] * 6 + [0.1] * 5, threshold=1.0)
    v.group = "camera-02"
    events = find_events(ScoreSet([v], {}), EventSettings(merge_gap_s=0, min_length_s=0))
    assert events.events
    write_events(tmp_path, events)
    rows = list(csv.DictReader((tmp_path / "events.csv").open()))
    assert list(rows[0])[-1] == "group" and [r["group"] for r in rows] == ["camera-02"]
    assert [e["group"] for e in json.loads((tmp_path / "events.json").read_text())["events"]] == ["camera-02"]


def test_a_run_killed_before_its_events_files_keeps_the_rules_it_used(tmp_path, monkeypatch):
    """`detect --merge-gap 0.5 --min-event 0` killed after run.json and before events.json: the
    report and the timelines found events by the default rules (2 s, 2 s) without a word, 2
    events where the run had 3. The run's rules are now in run.json too."""
    import videoad.events as events_mod
    from videoad.events import write_scores_and_events
    from videoad.scores import read_scores

    a = _video([0.1, 0.7, 0.1, 0.1, 0.1, 0.95, 0.1], stride=16, name="cam/a.avi")
    b = _video([0.1, 0.8, 0.1], stride=16, name="cam/b.avi")
    settings = EventSettings(merge_gap_s=0.5, min_length_s=0)
    _, whole = write_scores_and_events(tmp_path / "whole", ScoreSet([a, b], {"config": {"detector": "duad"}}), settings)
    assert len(whole.events) == 3 and read_settings(tmp_path / "whole") == settings

    def killed(*_args, **_kwargs):
        raise KeyboardInterrupt  # the kill, between run.json and the events files

    monkeypatch.setattr(events_mod, "write_events", killed)
    with pytest.raises(KeyboardInterrupt):
        write_scores_and_events(tmp_path / "cut", ScoreSet([a, b], {"config": {"detector": "duad"}}), settings)
    assert not (tmp_path / "cut" / "events.json").exists() and (tmp_path / "cut" / "run.json").exists()
    assert read_settings(tmp_path / "cut") == settings
    again = find_events(read_scores(tmp_path / "cut"), read_settings(tmp_path / "cut"))
    assert [(e.video, e.peak_score) for e in again.events] == [(e.video, e.peak_score) for e in whole.events]
    # a folder of an earlier version (no record in run.json, no events files): the defaults, as before
    run = json.loads((tmp_path / "cut" / "run.json").read_text())
    del run["event_settings"]
    (tmp_path / "cut" / "run.json").write_text(json.dumps(run))
    assert read_settings(tmp_path / "cut") is None


@pytest.mark.parametrize("key", ["merge_gap_s", "min_length_s"])
def test_a_boolean_event_setting_in_run_json_is_refused_naming_the_file_and_the_key(tmp_path, key):
    """JSON's true is an int to Python: a hand-edited run.json's `merge_gap_s: true` made `videoad
    report` merge at 1 s (false: 0 s) and write `true` into its events.json as the setting."""
    from click.testing import CliRunner

    from videoad.cli import cli
    from videoad.events import write_scores_and_events

    write_scores_and_events(tmp_path / "s", ScoreSet([_video([0.1, 0.9, 0.1], stride=16)], {}), EventSettings())
    for name in ("events.json", "events.csv"):  # a run killed before its events files: run.json's settings rule
        (tmp_path / "s" / name).unlink()
    run = tmp_path / "s" / "run.json"
    meta = json.loads(run.read_text())
    meta["event_settings"][key] = True
    run.write_text(json.dumps(meta))
    res = CliRunner().invoke(cli, ["report", str(tmp_path / "s"), "-o", str(tmp_path / "r")])
    assert res.exit_code == 1 and "Traceback" not in res.output, res.output
    assert f"{run}: its event_settings cannot be read (event setting {key}: true is not a number of seconds)" \
        in " ".join(res.output.split()), res.output
    assert not (tmp_path / "r" / "events.json").exists()
    with pytest.raises(ValueError, match=f"{key}: false is not a number of seconds"):
        EventSettings(**{key: False}).check()


def test_a_gap_of_exactly_merge_gap_s_merges_and_a_run_of_exactly_min_length_s_stays():
    """The rules hold at equality ("at most merge_gap_s apart", "at least min_length_s long"),
    whatever float arithmetic makes of the equal lengths: at one rate (4.6 s at 25 frames/s is
    114.99999999999999 frames, 2.2 s is 55.00000000000001) and from frames' own times (a burst
    camera's frames 0.1 s apart: 1.6 s long came out 1.5999999999999996)."""
    from dataclasses import replace

    # one rate: clip 0 over, 115 frames under, clip 2 over: 4.6 s apart at 25 frames/s
    frames = np.array([[0, 54], [55, 169], [170, 224]])
    v = VideoScores("cam/a.avi", np.array([0.9, 0.1, 0.9]), frames, 225, 25.0, "C", "all", "", 0.5)
    merged = video_events(v, EventSettings(merge_gap_s=4.6, min_length_s=0)).events
    assert [(e.first_clip, e.last_clip) for e in merged] == [(0, 2)]
    assert len(video_events(v, EventSettings(merge_gap_s=4.55, min_length_s=0)).events) == 2
    # each over clip is 55 frames: exactly 2.2 s
    kept = video_events(v, EventSettings(merge_gap_s=0.0, min_length_s=2.2)).events
    assert [(e.first_clip, e.last_clip) for e in kept] == [(0, 0), (2, 2)]
    assert video_events(v, EventSettings(merge_gap_s=0.0, min_length_s=2.25)).events == []
    # the frames' own times (10 frames/s): clips of 16 frames are 1.6 s, runs at clips 1 and 4 3.2 s apart
    s = [0.1, 0.9, 0.1, 0.1, 0.8, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.7, 0.1]
    plain = _video(s, stride=16)  # clip i: frames 16i..16i+15
    timed = replace(plain, frame_times=np.arange(plain.n_frames) * 0.1)
    assert timed.variable_rate
    by_length = video_events(timed, EventSettings(merge_gap_s=0.0, min_length_s=1.6)).events
    assert [(e.first_clip, e.last_clip) for e in by_length] == [(1, 1), (4, 4), (11, 11)]
    by_gap = video_events(timed, EventSettings(merge_gap_s=3.2, min_length_s=0)).events
    assert [(e.first_clip, e.last_clip) for e in by_gap] == [(1, 4), (11, 11)]


def test_a_long_variable_rate_videos_events_take_time_in_clips_not_clips_times_frames(monkeypatch):
    """A burst camera's frames are placed by their own times (`FrameClock`), asked clip by clip by
    the event tracker: each ask made a range of the video's frame count, so a 5.5-hour video of
    10,000 clips took 9 s in one run (and a day's recording many minutes). The asks now reuse one
    range: counted here, not timed (a shared machine's seconds prove nothing)."""
    n = 600_000  # 5.5 hours at 30 frames/s, a pause of 5 s every thousand frames or so
    starts = np.arange(0, n - 30, 60)
    frames = np.stack([starts, starts + 29], axis=1)
    rng = np.random.default_rng(0)
    times = np.cumsum(np.where(rng.random(n) < 0.001, 5.0, 1 / 30))
    v = VideoScores("burst.mp4", rng.random(len(starts)), frames, n, 30.0, "C", "all", "", 0.5,
                    frame_times=times - times[0])
    assert v.variable_rate
    v.seconds(0)  # the clock is built once, with its range of the frame count
    real, long_ranges = np.arange, []

    def counting(*args, **kwargs):
        out = real(*args, **kwargs)
        if out.size > n // 2:
            long_ranges.append(out.size)
        return out

    monkeypatch.setattr(np, "arange", counting)
    events = video_events(v, EventSettings()).events
    monkeypatch.setattr(np, "arange", real)
    assert long_ranges == []  # before: one range of 600,001 positions per clip asked about
    assert len(events) > 100 and all(e.start_s == pytest.approx(v.seconds(e.start_frame)) for e in events)


def test_a_clip_across_a_pause_in_the_recording_is_as_long_as_the_footage_it_holds():
    """A burst camera's pause inside one clip (the clip holds the last frame before it and the first
    after: extract.clips) made a one-clip blip of 1.6 s of footage a 61.6 s event, over any minimum
    length. Its length is now the recording it holds on its middle frame's side of the pause (an
    event ends at a pause: `test_an_event_ends_at_a_pause_in_the_recording`), and runs either side
    of a pause stay apart by the pause."""
    from dataclasses import replace

    times = np.arange(120) / 10.0
    times[50:] += 60.0  # a minute's pause before frame 50
    starts = np.arange(0, 105, 8)
    frames = np.stack([starts, starts + 15], axis=1)  # clip 5: frames 40-55, across the pause
    s = np.zeros(len(starts))
    s[5] = 1.0
    v = VideoScores("burst.mp4", s, frames, 120, 10.0, "C", "all", "", 0.5, frame_times=times)
    assert v.recorded_seconds(40, 55) == pytest.approx(1.6) and v.recorded_seconds(0, 9) == pytest.approx(1.0)
    ve = video_events(v, EventSettings(merge_gap_s=2.0, min_length_s=2.0))
    assert ve.events == [] and "shorter than 2 s" in ve.note  # before: kept, 61.6 s long
    from videoad.events import EventTracker
    from videoad.scores import FrameClock

    clock = FrameClock(times, 10.0)  # `videoad watch`'s tracker, fed clip by clip, as the batch
    tracker = EventTracker("burst.mp4", 0.5, 10.0, EventSettings(merge_gap_s=2.0, min_length_s=2.0),
                           seconds=clock.seconds, ends=clock.end_seconds, recorded=clock.recorded)
    assert [x for k in range(len(s)) for x in tracker.feed(k, *frames[k], s[k])] + tracker.flush() == []
    # its middle frame (47) is before the pause: the event is its frames before it (40-49, 1 s)
    assert not video_events(v, EventSettings(merge_gap_s=2.0, min_length_s=1.1)).events
    (e,) = video_events(v, EventSettings(merge_gap_s=2.0, min_length_s=1.0)).events  # exactly long enough
    assert (e.start_frame, e.end_frame, e.start_s, e.end_s) == (40, 49, pytest.approx(4.0), pytest.approx(5.0))
    # runs either side of the pause (clips 4 and 7: frames 32-47, 56-71) are a minute apart, not merged
    both = replace(v, scores=np.where(np.isin(np.arange(len(s)), [4, 7]), 1.0, 0.0))
    assert [(x.first_clip, x.last_clip) for x in video_events(both, ALL).events] == [(4, 4), (7, 7)]



def test_an_event_ends_at_a_pause_in_the_recording():
    """A recorder's clock set an hour forward mid-file (or a motion-triggered camera's hour between
    bursts), clips over the line on both sides: one event from 6 s to 3614 s, 3607 s long, while
    `videoad watch` ends an event where a stream drops. Now two, the pause between them; a clip
    across the pause counts for the side of its middle frame, and its frames beyond are not the
    event's. `watch`'s tracker, fed clip by clip with the file's clock, finds the same."""
    from videoad.events import EventTracker
    from videoad.scores import FrameClock

    times = np.arange(240) / 10.0 + np.where(np.arange(240) >= 120, 3600.0, 0.0)
    starts = np.arange(0, 225, 4)
    frames = np.stack([starts, starts + 15], axis=1)
    s = np.where((starts >= 60) & (starts <= 160), 1.0, 0.0)
    s[starts == 116] = 2.0  # the peak: frames 116-131, its middle (123) after the pause
    v = VideoScores("leap.mp4", s, frames, 240, 10.0, "C", "all", "", 0.5, frame_times=times)
    before, after = sorted(video_events(v, EventSettings()).events, key=lambda e: e.start_frame)
    assert (before.start_frame, before.end_frame, after.start_frame, after.end_frame) == (60, 119, 120, 175)
    assert (before.start_s, before.end_s) == (pytest.approx(6.0), pytest.approx(12.0))
    assert (after.start_s, after.end_s) == (pytest.approx(3612.0), pytest.approx(3617.6))
    assert (before.first_clip, before.last_clip, after.first_clip, after.last_clip) == (15, 28, 29, 40)
    assert after.peak_frame == 123 and after.peak_score == 2.0 and before.peak_score == 1.0
    clock = FrameClock(times, 10.0)
    tracker = EventTracker("leap.mp4", 0.5, 10.0, EventSettings(), seconds=clock.seconds, ends=clock.end_seconds,
                           recorded=clock.recorded, pauses=clock.pauses)
    fed, at_pause = [], []
    for k in range(len(s)):
        fed += [e for kind, e in tracker.feed(k, *frames[k], s[k]) if kind == "close"]
        at_pause += [k] if tracker.closed_at_pause else []  # watch's `closed_by`
    fed += [e for kind, e in tracker.flush() if kind == "close"]
    assert [(e.start_frame, e.end_frame) for e in fed] == [(60, 119), (120, 175)] and at_pause == [29]
    # no pause: the same clips over the line are one event, as before
    (one,) = video_events(VideoScores("even.mp4", s, frames, 240, 10.0, "C", "all", "", 0.5), EventSettings()).events
    assert (one.start_frame, one.end_frame) == (60, 175)


def test_events_json_writes_scores_of_a_small_unit_as_events_csv_does(tmp_path):
    """Scores in a unit of 1e-7 (a baseline's squared errors of small features): events.json rounded
    every float to 6 decimals, so its peak, mean and line all read 0.0 while events.csv read 9e-08.
    Scores now take 6 significant digits in both; seconds stay at 6 decimals."""
    from videoad import events as ev

    v = _video(np.array([0.1, 0.6, 0.9, 0.7, 0.1]) * 1e-7, stride=16, threshold=0.5e-7)
    write_events(tmp_path, find_events(ScoreSet([v]), EventSettings(merge_gap_s=0, min_length_s=0)))
    (row,) = csv.DictReader(open(tmp_path / "events.csv"))
    data = json.loads((tmp_path / "events.json").read_text())
    (saved,) = data["events"]
    for key in ("peak_score", "mean_score", "threshold"):
        assert saved[key] == float(row[key]) and saved[key] > 0, key
    assert (saved["peak_score"], saved["threshold"]) == (9e-08, 5e-08)
    assert (data["videos"][0]["threshold"], data["videos"][0]["peak_score"]) == (5e-08, 9e-08)
    assert saved["start_s"] == 1.6 and ev.json_number("end_s", 1 / 3) == 0.333333  # times: 6 decimals
    assert ev.json_number("peak_score", 1234.56789) == 1234.57 and ev.json_number("threshold", None) is None
