"""Timelines and the HTML report: files exist, the page parses, one timeline per video by peak."""
from __future__ import annotations

from html import escape as html_escape
from html.parser import HTMLParser
import itertools
import math
import os
import re
from pathlib import Path

import numpy as np
import pytest
from _browser import chromium, needs_chromium

from videoad.datasets.annotations import Annotations, VideoAnnotation
from videoad.metrics import evaluate_scores
from videoad.events import EventSettings, event_name, find_events, fmt_score, fmt_time
from videoad.plots import PARALLEL_FROM, file_stems, shared_ylim, timeline, top_clips
from videoad.report import TIMELINE_KEYS, build_report
from videoad.scores import ScoreSet, VideoScores
from videoad.synth import SceneConfig, render_video, write_video


class _Page(HTMLParser):
    """Collects timeline images, section headings and table rows; fails on unbalanced sections."""

    def __init__(self):
        super().__init__()
        self.timelines, self.headings, self.rows, self.depth, self._h3 = [], [], 0, 0, False
        self.events = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "img" and a.get("class") == "timeline":
            self.timelines.append(a["src"])
        if tag == "section":
            self.depth += 1
        if tag == "h3" and self.depth:
            self._h3 = True
            self.headings.append("")
        if tag == "tr":
            self.rows += 1
            if "data-event" in a:
                self.events.append(a)

    def handle_endtag(self, tag):
        if tag == "section":
            self.depth -= 1
            assert self.depth >= 0
        if tag == "h3":
            self._h3 = False

    def handle_data(self, data):
        if self._h3:
            self.headings[-1] += data


def _video(name, peak_at, n_clips=20, source="", fps=10.0, category="X"):
    scores = np.full(n_clips, 0.1)
    scores[peak_at] = 0.5 + 0.01 * n_clips
    starts = np.arange(n_clips) * 8  # overlapping clips: length 16, stride 8
    frames = np.stack([starts, starts + 15], 1)
    return VideoScores(name, scores, frames, int(frames[-1, 1]) + 4, fps, category, "all", source, 0.3)


@pytest.fixture()
def scoreset(tmp_path):
    frames, _ = render_video(None, seed=0, cfg=SceneConfig(n_frames=180))
    src = write_video(tmp_path / "cam" / "v2.avi", frames, 10.0)
    vids = [_video("cam/v1.avi", 3, n_clips=12), _video("cam/v2.avi", 7, n_clips=20, source=str(src)),
            _video("cam/v3.avi", 1, n_clips=15, fps=0.0)]
    meta = {"protocol": "transductive", "protocol_note": "fitted on the clips it scores",
            "config": {"detector": "duad", "mode": "pooled", "overlap": "mean", "threshold_quantile": 0.9},
            "groups": [{"group": "all", "status": "fitted", "n_clips": 47, "videos": [v.video for v in vids]},
                       {"group": "tiny", "status": "skipped", "reason": "3 clips < min_clips=65", "videos": ["t"]}]}
    return ScoreSet(vids, meta)


def test_the_report_names_the_files_it_read_without_the_analysts_folders(scoreset, tmp_path, monkeypatch):
    """The Run table named the feature store as run.json keeps it (as typed: absolute, or relative to
    where `detect` ran, which from the page leads nowhere) and the results named the ground truth by
    its absolute path, twice with videos it does not name: the analyst's folders, to whoever the
    report is sent, and wrong once it moves. A file in the run's folder is named relative to the
    report's (`../features`), one elsewhere by its name alone."""
    run = tmp_path / "site" / "run"
    (run / "features").mkdir(parents=True)
    (tmp_path / "gt").mkdir()
    gt = tmp_path / "gt" / "Temporal_GT.txt"
    gt.write_text("")
    ann = Annotations({"cam/v1": VideoAnnotation("cam/v1", "X", ((20, 40),), None, str(gt)),
                       "cam/v2": VideoAnnotation("cam/v2", "X", (), None, str(gt))}, str(gt))
    ev = evaluate_scores(scoreset, ann, unlabelled="leave")
    assert ev.settings["scored_without_truth"] == 1  # cam/v3: said with the file's name
    for features, said in ((run / "features", "../features"), ("run1/features", "features")):
        scoreset.meta["features"] = str(features)
        monkeypatch.chdir(tmp_path)  # where run1/features is not
        page = build_report(scoreset, run / "report", annotations=ann, evaluation=ev, clips=False,
                            event_settings=EventSettings(min_length_s=0)).read_text()
        assert str(tmp_path) not in page and "run1/" not in page
        assert f"<th scope=row>features</th><td>{said}</td>" in page
        assert "Ground truth: Temporal_GT.txt." in page and "no ground truth in Temporal_GT.txt and" in page
    (run / "GT.txt").write_text("")  # the truth in the run's folder: where it is from the page
    ann2 = Annotations(dict(ann), str(run / "GT.txt"))
    page = build_report(scoreset, run / "report", annotations=ann2, clips=False,
                        evaluation=evaluate_scores(scoreset, ann2, unlabelled="leave")).read_text()
    assert "Ground truth: ../GT.txt." in page and str(tmp_path) not in page


def test_a_store_named_by_a_windows_path_shows_its_name_alone_read_elsewhere(tmp_path):
    """Scores written on Windows name their store `C:\\Users\\ana\\run1\\features`: read on
    Linux, that is one file name, and the Run table showed the whole path (the analyst's folders)."""
    from videoad.report import shown_path

    assert shown_path("C:\\Users\\ana\\run1\\features", tmp_path / "report") == "features"
    assert shown_path("\\\\nvr\\share\\gt\\Temporal_GT.txt", tmp_path / "report") == "Temporal_GT.txt"
    assert shown_path("/nowhere/site/features", tmp_path / "report") == "features"


def test_report_leads_with_the_events_then_one_timeline_per_video(scoreset, tmp_path):
    ann = Annotations({
        "cam/v1": VideoAnnotation("cam/v1", "X", ((20, 40),), None, "gt"),
        "cam/v2": VideoAnnotation("cam/v2", "X", (), None, "gt"),
        "cam/v3": VideoAnnotation("cam/v3", "Y", ((1, 30),), None, "gt"),
    }, "gt.txt")
    ev = evaluate_scores(scoreset, ann)
    events = find_events(scoreset, EventSettings(min_length_s=0))
    page = build_report(scoreset, tmp_path / "report", annotations=ann, evaluation=ev, events=events)
    parser = _Page()
    parser.feed(page.read_text())
    parser.close()
    assert parser.depth == 0
    assert len(parser.timelines) == len(scoreset) == 3
    for src in parser.timelines:
        f = page.parent / src
        assert f.is_file() and f.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the event table comes first, strongest first: v2 (20 clips) > v3 (15) > v1 (12), one event each
    text = page.read_text()
    assert text.index("table class=events") < text.index("class=timeline")
    assert [r["data-section"] for r in parser.events] == ["v1", "v2", "v3"]
    assert [h.replace("/", "") for h in parser.headings] == ["camv2.avi", "camv3.avi", "camv1.avi"]
    assert [int(r["data-event"]) for r in parser.events] == [1, 2, 3]
    # v1's event (frames 24-39) overlaps its ground truth 20-40; v2 has no ground-truth interval
    assert text.count("<span class=hit>overlaps</span>") == 2
    # every event has its image; the clip exists where the source can be read (v2 only)
    for r in parser.events:
        assert (page.parent / r["data-image"]).is_file()
    assert [bool(r["data-clip"]) for r in parser.events] == [True, False, False]
    assert "3 clips &lt; min_clips=65" in text  # the skipped group and its reason
    assert "Per category" in text and parser.rows >= 3 + 2
    assert (page.parent / "report.js").is_file() and (page.parent / "events.csv").is_file()
    assert "category <bdi>X</bdi>" in text and "category <bdi>.</bdi>" not in text and "{}" not in text
    # ground truth counted from 0 as the page counts frames (the file's 20-40 is frames 19-39), and in
    # seconds where the rate is known (v1 at 10 fps: 1.9 s to the end of frame 39, 4.0 s)
    assert "ground truth: 1.9 s&ndash;4.0 s (frames 19-39)" in text and "frames 20-40" not in text


class _Tables(HTMLParser):
    """Each table's attributes, caption, header cells (attributes) and first cell of each body row (tag, attributes)."""

    def __init__(self):
        super().__init__()
        self.tables, self.ids, self._in, self._row, self._caption = [], set(), None, False, False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "table":
            self._in = {"attrs": a, "caption": "", "head": [], "first": []}
            self.tables.append(self._in)
        elif self._in is None:
            return
        elif tag == "caption":
            self._caption = True
        elif tag == "thead":
            self._in["in_head"] = True
        elif tag == "tbody":
            self._in["in_head"] = False
        elif tag == "tr":
            self._row = True
        elif tag in ("th", "td"):
            if self._in.get("in_head"):
                self._in["head"].append(a)
            elif self._row:
                self._in["first"].append((tag, a))
                self._row = False

    def handle_endtag(self, tag):
        if tag == "table":
            self._in = None
        if tag == "caption":
            self._caption = False

    def handle_data(self, data):
        if self._caption and self._in is not None:
            self._in["caption"] += data


def test_every_table_is_named_and_its_headers_scoped(scoreset, tmp_path):
    """No table had a caption or a name; the results tables put each row's name in a <td> and had no
    <thead>: a screen reader read "0.9930" without saying of which row or column."""
    ann = Annotations({"cam/v1": VideoAnnotation("cam/v1", "X", ((20, 40),), None, "gt"),
                       "cam/v2": VideoAnnotation("cam/v2", "X", (), None, "gt"),
                       "cam/v3": VideoAnnotation("cam/v3", "Y", ((1, 30),), None, "gt")}, "gt.txt")
    page = build_report(scoreset, tmp_path / "r", annotations=ann, evaluation=evaluate_scores(scoreset, ann),
                        events=find_events(scoreset, EventSettings(min_length_s=0)), clips=False)
    parser = _Tables()
    parser.feed(page.read_text())
    kinds = [t["attrs"].get("class") for t in parser.tables]
    assert kinds == ["events", "kv", "results", "results"]
    for t in parser.tables:
        label = t["attrs"].get("aria-labelledby")
        assert t["caption"].strip() or label in parser.ids, t
        if t["attrs"]["class"] != "kv":  # a table of columns: each header scoped to its column
            assert t["head"] and all(h.get("scope") == "col" for h in t["head"]), t
        if t["attrs"]["class"] != "events":  # each row named by a row header
            assert t["first"] and all(tag == "th" and a.get("scope") == "row" for tag, a in t["first"]), t
    assert parser.tables[2]["caption"] == "Frame AUROC and AP, the videos' frames pooled"


def test_a_video_with_scene_cuts_says_so(scoreset, tmp_path):
    scoreset.videos[0].scene_cuts = 3
    scoreset.videos[1].scene_cuts = 0
    text = build_report(scoreset, tmp_path / "r", clips=False).read_text()
    assert text.count("scene cut") == 1 and "3 scene cuts (no motion counted across them)" in text


def test_scene_cut_places_are_named_and_drawn(scoreset, tmp_path, monkeypatch):
    import matplotlib.axes

    edited = scoreset.videos[0]
    edited.scene_cuts, edited.scene_cut_frames = 8, [10, 20, 30, 40, 50, 60, 70, 80]
    drawn = []  # the cuts are one collection of vertical lines (a day's video may hold thousands)
    real = matplotlib.axes.Axes.vlines
    monkeypatch.setattr(matplotlib.axes.Axes, "vlines",
                        lambda ax, x, *a, **kw: drawn.append((list(np.atleast_1d(x)), kw.get("label")))
                        or real(ax, x, *a, **kw))
    text = build_report(scoreset, tmp_path / "r", clips=False).read_text()
    # at 10 fps; six named, the rest counted; every one drawn, one legend entry
    assert "8 scene cuts at 1.0 s, 2.0 s, 3.0 s, 4.0 s, 5.0 s, 6.0 s and 2 more" in text
    assert [(sorted(x), label) for x, label in drawn] == [([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0], "scene cut")]


def test_timelines_share_one_y_range_and_a_video_without_event_says_so(scoreset, tmp_path, monkeypatch):
    import videoad.plots as plots

    seen = []
    real = plots.draw_timeline

    def spy(v, path, **kw):
        seen.append(kw["ylim"])
        return real(v, path, **kw)

    monkeypatch.setattr(plots, "draw_timeline", spy)  # three videos: drawn in this process
    scoreset.videos[0].scores[:] = 0.1  # v1 now stays under its line
    page = build_report(scoreset, tmp_path / "r", clips=False, event_settings=EventSettings(min_length_s=0))
    assert len(seen) == 3 and len(set(seen)) == 1 and seen[0] == shared_ylim(scoreset.videos)
    assert seen[0][0] <= 0.0 and seen[0][1] > max(v.peak for v in scoreset)
    text = page.read_text()
    assert "No event in 1 video" in text and "<b>no event</b>" in text


def test_a_transductive_report_without_events_says_what_to_read(scoreset, tmp_path):
    """No clip over the line in a transductive run: the page says why that happens and points to
    the ranking and to --fit-on; an inductive run without events does not (its line is the history's)."""
    for v in scoreset.videos:
        v.scores[:] = 0.1
    page = build_report(scoreset, tmp_path / "r", clips=False, event_settings=EventSettings(min_length_s=0))
    text = page.read_text()
    assert "<b>No event</b>" in text and "No clip crossed the alarm line" in text and "--fit-on" in text
    scoreset.meta["protocol"] = "inductive"
    text = build_report(scoreset, tmp_path / "r2", clips=False, event_settings=EventSettings(min_length_s=0)).read_text()
    assert "<b>No event</b>" in text and "No clip crossed" not in text


def test_the_lead_counts_the_videos_not_scored_and_links_to_why(scoreset, tmp_path):
    """A video no one scored (its extraction failed, a group too small) was named only at the
    bottom of the Run section while the lead said "N events in 3 of 3 videos"."""
    scoreset.meta["left_out"] = [{"video": "cam/broken.mp4", "reason": "not extracted: the file is truncated"}]
    text = build_report(scoreset, tmp_path / "r", clips=False).read_text()
    lead = text.split("class=lead>", 1)[1].split("</p>", 1)[0]
    assert " of 3 videos; <a href='#videos-left-out'><b>2 videos not scored</b></a> (why: under Run)" in lead
    assert "<p id=videos-left-out><b>Videos left out</b></p><ul><li><bdi>cam/broken.mp4</bdi>: not extracted: the file is " \
           "truncated</li>" in text and "<p id=groups-not-scored>" in text
    # scored while the extraction had not finished (detect warned; the page said nothing)
    scoreset.meta["unfinished_stores"] = ["feats: its extraction did not finish (2 of 5 videos have features)"]
    text = build_report(scoreset, tmp_path / "r1", clips=False).read_text()
    lead = text.split("class=lead>", 1)[1].split("</p>", 1)[0]
    assert "<b>scored while its extraction was unfinished</b>: part of the footage only" in lead
    assert "<th scope=row>unfinished extraction</th><td>feats: its extraction did not finish (2 of 5" in text
    del scoreset.meta["unfinished_stores"]
    scoreset.meta["left_out"] = []
    scoreset.meta["groups"] = scoreset.meta["groups"][:1]  # every video scored: nothing said
    lead = build_report(scoreset, tmp_path / "r2", clips=False).read_text().split("class=lead>", 1)[1]
    assert "not scored" not in lead.split("</p>", 1)[0] and "unfinished" not in lead.split("</p>", 1)[0]


def test_timeline_formats_thumbnails_and_missing_source(scoreset, tmp_path, caplog):
    v1, v2, v3 = scoreset.videos
    ann = VideoAnnotation("cam/v2", "X", ((30, 60),), None, "gt")
    png = timeline(v2, tmp_path / "v2.png", annotation=ann, thumbnails=3)
    assert png.stat().st_size > 10_000
    svg = timeline(v3, tmp_path / "v3.svg", thumbnails=0)
    assert svg.read_text().lstrip().startswith("<?xml") and "<svg" in svg.read_text()
    # a source that cannot be read: the figure is still written, and the log says why
    missing = VideoScores(**{**v1.__dict__, "source": str(tmp_path / "gone.avi")})
    out = timeline(missing, tmp_path / "gone.png", thumbnails=2)
    assert out.is_file() and "thumbnails unavailable" in caplog.text
    with pytest.raises(ValueError, match="format must be one of"):
        timeline(v1, tmp_path / "v1.jpg")


def test_file_names_never_collide():
    stems = file_stems(["cam/a.avi", "cam_a.avi", "B.avi", "b.avi", "x.avi"])
    assert len(set(stems.values())) == 5 and len({s.lower() for s in stems.values()}) == 5
    assert stems["x.avi"] == "x.avi" and stems["cam/a.avi"].startswith("cam_a.avi-")


def test_plot_writes_as_many_files_as_it_says(tmp_path):
    from click.testing import CliRunner

    from videoad.cli import cli
    from videoad.scores import write_scores

    vids = [_video(k, 3) for k in ("cam/a.avi", "cam_a.avi", "b.avi")]
    write_scores(tmp_path / "s", ScoreSet(vids, {"config": {"detector": "duad"}}))
    res = CliRunner().invoke(cli, ["plot", str(tmp_path / "s"), "-o", str(tmp_path / "p"), "--thumbnails", "0"])
    assert res.exit_code == 0, res.output
    assert "3 timeline(s) written" in res.output and len(list((tmp_path / "p").glob("*.png"))) == 3


def test_plot_refuses_a_format_its_single_file_contradicts(tmp_path):
    """`plot -o one.png --format svg` wrote a PNG: the file's suffix won and --format was dropped in
    silence; `--thumbnails -1` was taken as none."""
    from click.testing import CliRunner

    from videoad.cli import cli
    from videoad.scores import write_scores

    write_scores(tmp_path / "s", ScoreSet([_video("b.avi", 3)], {"config": {"detector": "duad"}}))
    base = ["plot", str(tmp_path / "s"), "--video", "b.avi", "--thumbnails", "0"]
    res = CliRunner().invoke(cli, base + ["-o", str(tmp_path / "one.png"), "--format", "svg"])
    assert res.exit_code == 2 and f"--format svg and -o {tmp_path / 'one.png'} disagree" in res.output
    assert not (tmp_path / "one.png").exists()
    for name, fmt in (("one.svg", ["--format", "svg"]), ("two.svg", []), ("three.png", ["--format", "png"])):
        res = CliRunner().invoke(cli, base + ["-o", str(tmp_path / name), *fmt])
        assert res.exit_code == 0, res.output
        head = (tmp_path / name).read_bytes()[:200]
        assert (b"<svg" in head or b"<?xml" in head) if name.endswith(".svg") else head.startswith(b"\x89PNG")
    res = CliRunner().invoke(cli, base[:-2] + ["-o", str(tmp_path / "p"), "--thumbnails", "-1"])
    assert res.exit_code == 2 and "Invalid value for '--thumbnails'" in res.output


def test_names_in_other_scripts_draw_without_glyph_warnings(tmp_path, monkeypatch):
    import warnings

    import videoad.plots as plots

    v = _video("监控/摄像头1.avi", 3)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        timeline(v, tmp_path / "cjk.png", thumbnails=0)
    assert not [w for w in caught if "missing from font" in str(w.message)]
    # without a font that has them, the characters are escaped; with one, they are kept
    monkeypatch.setattr(plots, "_fonts", lambda: (("DejaVu Sans",), frozenset(range(0x250))))
    assert plots.safe_text("监控/a.avi") == "\\u76d1\\u63a7/a.avi"
    monkeypatch.setattr(plots, "_fonts", lambda: (("DejaVu Sans", "Noto Sans CJK JP"),
                                                  frozenset(range(0x250)) | {0x76d1, 0x63a7}))
    assert plots.safe_text("监控/a.avi") == "监控/a.avi"


def test_a_name_with_dollars_and_scores_that_are_not_finite_still_make_a_report(scoreset, tmp_path):
    """matplotlib reads text between two `$` as a formula (the report failed on `refund_$20_$50.mp4`),
    and one clip's inf or NaN made every timeline's axis limits unusable."""
    odd = scoreset.videos[0]
    odd.video = "till/refund_$20_$50.mp4"
    odd.scores[4], odd.scores[5] = np.inf, np.nan
    assert shared_ylim(scoreset.videos) == pytest.approx((0.0, 0.7 * 1.15))
    page = build_report(scoreset, tmp_path / "r", clips=False)
    assert "till/refund_$20_$50.mp4" in page.read_text()
    timeline(odd, tmp_path / "odd.png", thumbnails=0)
    assert (tmp_path / "odd.png").stat().st_size > 0


def test_times_round_before_the_minutes_are_split_off():
    """Frame 3599 at 30 fps read 1:60.0 (and 59.96 s read 60.0 s)."""
    from videoad.report import fmt_time

    assert [fmt_time(t) for t in (8.04, 59.96, 62.5, 119.9667, 3599.9667, 3723)] == [
        "8.0 s", "1:00.0", "1:02.5", "2:00.0", "1:00:00.0", "1:02:03.0"]
    assert fmt_time(None, 12) == "frame 12"


def test_times_of_an_hour_or_more_keep_their_tenths():
    """From an hour on the seconds were cut to whole ones after rounding: 7325.9 s read 2:02:05, and
    3605.96 s read 1:00:06 where 3605.94 s read 1:00:05 (under an hour both keep their tenths)."""
    from videoad.report import fmt_time

    assert [fmt_time(t) for t in (7325.9, 3605.96, 3605.94, 3659.96, 36000.04)] == [
        "2:02:05.9", "1:00:06.0", "1:00:05.9", "1:01:00.0", "10:00:00.0"]
    assert [fmt_time(t) for t in (65.96, 65.94)] == ["1:06.0", "1:05.9"]  # as under an hour


def _drawn_figure(monkeypatch):
    """The figures `draw_timeline` saves, as a list filled as they are written (a PNG is not drawn
    through `Figure.savefig`: `plots.save_figure` is the one way out)."""
    from videoad import plots

    figures = []
    real = plots.save_figure
    monkeypatch.setattr(plots, "save_figure", lambda fig, *a, **kw: figures.append(fig) or real(fig, *a, **kw))
    return figures


def test_a_timeline_drawn_without_its_events_numbers_them_as_a_run_does(tmp_path, monkeypatch):
    """`timeline(v, path)` (no events given) labelled every event "E0": `video_events` numbers them
    0 and leaves the ranking to the run. They are E1.. from the highest peak, as `find_events` numbers
    the video alone."""
    s = np.full(200, 0.2)
    s[20:80] += 0.4
    s[120:180] += 0.5  # the later event peaks higher: E1
    starts = np.arange(200) * 4
    v = VideoScores("a.mp4", s, np.stack([starts, starts + 15], 1), 816, 25.0, "c", "all", "", 0.4)
    figures = _drawn_figure(monkeypatch)
    timeline(v, tmp_path / "a.png", thumbnails=0)
    labels = {t.get_text(): t.xy[0] for t in figures[0].axes[0].texts if t.get_text().startswith("E")}
    assert sorted(labels) == ["E001", "E002"] and labels["E001"] > labels["E002"]
    ranked = find_events(ScoreSet([v], {})).events
    assert {event_name(e.event): e.peak_s for e in ranked} == pytest.approx(labels)


def test_a_timeline_tells_a_video_the_annotations_do_not_name_from_one_labelled_normal(scoreset, tmp_path,
                                                                                       monkeypatch):
    """`plot --annotations` with a file that leaves a video out drew it exactly as one labelled normal:
    no band, no legend entry. The legend now says which it is; without a file, neither is said."""
    from videoad.plots import NO_TRUTH, TRUTH_NORMAL, plot_run

    ann = Annotations({"cam/v1": VideoAnnotation("cam/v1", "X", ((20, 40),), None, "gt"),
                       "cam/v2": VideoAnnotation("cam/v2", "X", (), None, "gt")}, "gt.txt")  # v3 not in it
    figures = _drawn_figure(monkeypatch)
    plot_run(scoreset, tmp_path / "p", annotations=ann, thumbnails=0)
    legends = [[t.get_text() for t in fig.legends[0].get_texts()] for fig in figures]
    v1, v2, v3 = legends
    assert "ground truth" in v1 and TRUTH_NORMAL not in v1 and NO_TRUTH not in v1
    assert TRUTH_NORMAL in v2 and NO_TRUTH not in v2 and "ground truth" not in v2
    assert NO_TRUTH in v3 and TRUTH_NORMAL not in v3 and "ground truth" not in v3
    figures.clear()
    plot_run(scoreset, tmp_path / "q", thumbnails=0)  # no annotation file: nothing to say of any video
    assert not [t for fig in figures for t in fig.legends[0].get_texts() if "truth" in t.get_text()]


def _leap(n_first=120):
    """A clock set an hour forward mid-file (or a motion-triggered camera's hour between two bursts):
    frames at 10 fps, 0-12 s and 3612-3624 s, clips over both sides of the pause scored high."""
    times = np.arange(240) / 10.0 + np.where(np.arange(240) >= n_first, 3600.0, 0.0)
    starts = np.arange(0, 225, 4)
    s = np.where((starts >= 60) & (starts <= 160), 1.0, 0.2)
    return VideoScores("leap.mp4", s, np.stack([starts, starts + 15], 1), 240, 10.0, "c", "all", "", 0.5,
                       frame_times=times)


def test_a_timeline_draws_no_score_across_a_pause_in_the_recording(tmp_path, monkeypatch):
    """A clock set an hour forward mid-file: the curve ran straight from 12 s to 3612 s, an hour
    drawn as if scored. It is broken at the pause, which is shaded as such; its two events are apart
    (places on the axis, whose hour is shortened: `test_a_timeline_shortens_an_hours_pause_...`)."""
    from videoad.plots import timeline_axis

    v = _leap()
    axis = timeline_axis(v)
    figures = _drawn_figure(monkeypatch)
    timeline(v, tmp_path / "leap.png", thumbnails=0)
    ax = figures[0].axes[0]
    curve = next(line for line in ax.lines if line.get_label() == "clip score (at its middle)")
    x, y = np.asarray(curve.get_xdata(), float), np.asarray(curve.get_ydata(), float)
    assert np.isnan(y).sum() == 1 and len(y) == len(v.scores) + 1  # one break, every clip drawn
    gap = int(np.flatnonzero(np.isnan(y))[0])
    assert x[gap - 1] < axis(12.0) < axis(3612.0) < x[gap + 1]  # the break is the pause's
    legend = [t.get_text() for t in figures[0].legends[0].get_texts()]
    assert "pause in the recording" in legend
    (shade,) = [c for c in ax.collections if c.get_label() == "pause in the recording"]
    (box,) = shade.get_paths()
    assert (box.vertices[:, 0].min(), box.vertices[:, 0].max()) == pytest.approx(tuple(axis([12.0, 3612.0])))
    (bands,) = [c for c in ax.collections if c.get_label() == "event (its clips' frames)"]
    spans = sorted((b.vertices[:, 0].min(), b.vertices[:, 0].max()) for b in bands.get_paths())
    assert spans == [pytest.approx(tuple(axis([6.0, 12.0]))), pytest.approx(tuple(axis([3612.0, 3617.6])))]
    labels = [t.get_text() for t in ax.texts if t.get_text().startswith("E")]
    assert sorted(labels) == ["E001", "E002"]


def test_a_timeline_shortens_an_hours_pause_between_two_bursts(tmp_path, monkeypatch):
    """Two 12 s bursts an hour apart were two slivers at the axis' two ends (0.3% of its width each,
    their events unread). The hour is a narrow gap marked as a break and labelled with its length;
    the footage takes the axis at its own scale, every mark placed by one axis, the ticks reading
    the real time of day as before."""
    from videoad.plots import GAP_SHARE, draw_timeline, timeline_axis

    v = _leap()
    events = find_events(ScoreSet([v], {})).events
    ann = VideoAnnotation("leap.mp4", "X", ((50, 100), (130, 150)), None, "gt")
    figures = _drawn_figure(monkeypatch)
    geo = draw_timeline(v, tmp_path / "leap.png", events=events, annotation=ann, thumbnails=0)
    ax = figures[0].axes[0]
    axis = timeline_axis(v)
    assert axis.shortened == (pytest.approx((12.0, 3612.0)),)
    lo, hi = ax.get_xlim()
    assert lo == 0 and hi == geo.x_max == pytest.approx(axis(3624.0)) and hi < 26  # was 3624 s wide
    assert axis(3612.0) - axis(12.0) == pytest.approx(GAP_SHARE * hi)  # the gap: 3% of the axis
    for burst in ([0.0, 12.0], [3612.0, 3624.0]):  # each burst near half the axis
        a, b = axis(burst)
        assert (b - a) / hi > 0.45
    # every mark through the one axis: the curve at each clip's middle, the events, their peaks, the truth
    curve = next(line for line in ax.lines if line.get_label() == "clip score (at its middle)")
    drawn = np.asarray(curve.get_xdata(), float)
    mids = (v.frames[:, 0] + v.frames[:, 1]) // 2
    np.testing.assert_allclose(drawn[~np.isnan(drawn)], axis(v.seconds(mids)))
    (bands,) = [c for c in ax.collections if c.get_label() == "event (its clips' frames)"]
    spans = sorted((b.vertices[:, 0].min(), b.vertices[:, 0].max()) for b in bands.get_paths())
    assert spans == [pytest.approx(tuple(axis([e.start_s, v.end_seconds(e.end_frame)])))
                     for e in sorted(events, key=lambda e: e.start_frame)]
    peaks = next(line for line in ax.lines if line.get_label() == "event peak")
    np.testing.assert_allclose(sorted(peaks.get_xdata()), sorted(axis([e.peak_s for e in events])))
    truth = sorted((p.get_bbox().x0, p.get_bbox().x1) for p in ax.patches)  # axvspan: the annotation's frames
    assert truth == [pytest.approx(tuple(axis(v.seconds([a - 1, b])))) for a, b in ann.intervals]
    # the break, marked and labelled
    assert "paused 1 h 0 min" in [t.get_text() for t in ax.texts]
    assert "shortened" in ax.get_xlabel() and "h:mm:ss" in ax.get_xlabel()
    ax.figure.canvas.draw()
    ticks = [(t.get_position()[0], t.get_text()) for t in ax.get_xticklabels() if t.get_text()]
    assert [label for _, label in ticks] == ["0:00:00", "0:00:05", "0:00:10", "1:00:15", "1:00:20"]
    np.testing.assert_allclose([x for x, _ in ticks], axis([0.0, 5.0, 10.0, 3615.0, 3620.0]))


def test_a_timeline_without_a_long_pause_is_drawn_on_a_plain_axis(tmp_path, monkeypatch):
    """Pauses that are short (a burst camera's 8 s), or long but a small share of the file (2 min of
    a 20 min recording), and one-rate videos keep the axis as it was: seconds are places."""
    from videoad.plots import TimeAxis, timeline_axis

    short = _leap()
    short.frame_times = np.arange(240) / 10.0 + np.where(np.arange(240) >= 120, 8.0, 0.0)
    k = np.arange(12000)
    minor = VideoScores("m.mp4", np.zeros(10), np.stack([np.arange(10) * 8, np.arange(10) * 8 + 15], 1), 12000,
                        10.0, frame_times=k / 10.0 + np.where(k >= 6000, 120.0, 0.0))
    plain = _video("p.mp4", 5)
    assert minor.pause_frames().tolist() == [6000] and short.pause_frames().tolist() == [120]
    for v in (short, minor, plain):
        seconds = v.seconds(np.arange(10))
        assert timeline_axis(v) == TimeAxis() and timeline_axis(v)(seconds) is seconds  # the places themselves
    figures = _drawn_figure(monkeypatch)
    timeline(short, tmp_path / "s.png", thumbnails=0)
    ax = figures[0].axes[0]
    assert ax.get_xlim()[1] == pytest.approx(float(short.seconds(240)))
    assert "shortened" not in ax.get_xlabel() and not [t for t in ax.texts if t.get_text().startswith("paused")]


def _many_bursts(n_bursts, seed=0):
    """A motion-triggered camera's day: `n_bursts` bursts of 12 s at 10 fps, 10 to 40 min apart."""
    rng = np.random.default_rng(seed)
    starts = np.concatenate([[0.0], np.cumsum(rng.uniform(600, 2400, n_bursts - 1))])
    times = np.concatenate([t + np.arange(120) / 10 for t in starts])
    clips = np.arange(0, len(times) - 16, 8)
    return VideoScores("day.mp4", rng.random(len(clips)), np.stack([clips, clips + 15], 1), len(times), 10.0,
                       frame_times=times)


def _tick_labels(ax):
    """The x tick labels drawn: (place on the axis, left and right edge in pixels, text), left to right."""
    renderer = ax.figure.canvas.get_renderer()
    ax.figure.canvas.draw()
    return sorted((t.get_position()[0], *(lambda b: (b.x0, b.x1))(t.get_window_extent(renderer)), t.get_text())
                  for t in ax.get_xticklabels() if t.get_text())


@pytest.mark.parametrize("n_bursts", [8, 20])
def test_a_timeline_of_many_bursts_labels_each_wide_one_and_no_labels_overlap(tmp_path, monkeypatch, n_bursts):
    """Ticks fell on the round steps of real time only: 8 bursts of 12 s, each ~100 px wide, had 4
    unlabelled (no multiple of 15 s within them). Each burst that holds a label's width gets one,
    and no two labels overlap at the figure's size; with 20 (each narrower than a label) too."""
    from videoad.plots import timeline_axis

    v = _many_bursts(n_bursts)
    axis = timeline_axis(v)
    assert len(axis.shortened) == n_bursts - 1
    figures = _drawn_figure(monkeypatch)
    timeline(v, tmp_path / "day.png", thumbnails=0)
    ax = figures[0].axes[0]
    labels = _tick_labels(ax)
    assert len(labels) >= 3
    assert all(a[2] < b[1] for a, b in zip(labels, labels[1:])), labels  # apart, left to right
    width = max(right - left for _, left, right, _ in labels)
    to_px = lambda x: float(ax.transData.transform((x, 0))[0])  # noqa: E731
    edges = [0.0, *(t for pause in axis.shortened for t in pause), float(v.seconds(v.n_frames))]
    wide = 0
    for lo, hi in zip(edges[::2], edges[1::2]):
        a, b = axis([lo, hi])
        if to_px(b) - to_px(a) >= width:
            wide += 1
            assert any(a <= x <= b for x, *_ in labels), (lo, hi, labels)
    assert wide == (n_bursts if n_bursts < 16 else 0)


@pytest.mark.parametrize("n_bursts", [8, 20])
def test_the_frame_axis_of_a_timeline_of_many_bursts_at_other_rates_has_no_labels_overlapping(
        tmp_path, monkeypatch, n_bursts):
    """The top (frame) axis kept matplotlib's even frame steps while the bottom one's labels were set
    apart: with shortened pauses and a first burst of 30 frames a second beside bursts of one, the
    first minute held 1,800 of the 2,200-odd frames and 6 pairs of its 10 labels overlapped. Its labels
    are apart now, multiples of one round step, and more than the first burst's."""
    rng = np.random.default_rng(1)
    starts = np.concatenate([[0.0], np.cumsum(rng.uniform(600, 2400, n_bursts - 1))])
    times = np.concatenate([t + np.arange(int(60 * fps)) / fps for t, fps in zip(starts, [30.0] + [1.0] * n_bursts)])
    clips = np.arange(0, len(times) - 16, 8)
    v = VideoScores("day.mp4", rng.random(len(clips)), np.stack([clips, clips + 15], 1), len(times), 30.0,
                    frame_times=times)
    figures = _drawn_figure(monkeypatch)
    timeline(v, tmp_path / "day.png", thumbnails=0)
    ax = figures[0].axes[0]
    top, = ax.child_axes
    assert top.get_xlabel() == "frame"
    ax.figure.canvas.draw()
    renderer = ax.figure.canvas.get_renderer()
    labels = sorted((*(lambda b: (b.x0, b.x1))(t.get_window_extent(renderer)), int(t.get_text()))
                    for t in top.get_xticklabels() if t.get_text() and t.get_visible())
    assert len(labels) >= 4 and any(f > 1800 for *_, f in labels), labels
    assert all(a[1] < b[0] for a, b in zip(labels, labels[1:])), labels  # apart, left to right
    frames = [f for *_, f in labels]
    assert np.all(np.diff(frames) > 0) and math.gcd(*frames) in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000)
    assert len(_tick_labels(ax)) >= 3  # the bottom axis as it was


def test_a_timeline_of_many_shortened_pauses_says_no_break_mark_it_does_not_draw(tmp_path, monkeypatch):
    """Over 16 pauses the gaps are too narrow to mark (//) or label; the axis' label said "(//)" all
    the same."""
    figures = _drawn_figure(monkeypatch)
    timeline(_many_bursts(20), tmp_path / "day.png", thumbnails=0)
    ax = figures[0].axes[0]
    assert not [t for t in ax.texts if t.get_text().startswith("paused")]
    assert ax.get_xlabel().endswith("pauses over 30 s shortened")
    timeline(_many_bursts(3), tmp_path / "three.png", thumbnails=0)
    ax = figures[1].axes[0]
    assert len([t for t in ax.texts if t.get_text().startswith("paused")]) == 2
    assert ax.get_xlabel().endswith("pauses over 30 s shortened (//)")


def test_top_clips_do_not_overlap():
    v = _video("x", 5, n_clips=10)
    v.scores[4] = v.scores[5] - 0.01  # overlaps clip 5 (stride 8 < length 16)
    v.scores[8] = 0.4
    assert top_clips(v, 2) == [5, 8]


def test_a_days_timeline_reads_in_hours_labels_its_strongest_events_and_draws_every_peak(tmp_path, monkeypatch):
    """A 24 h video (216,000 clips): the axis ran to 115,200 s, hundreds of E# labels overlapped into
    a smear, and each event, cut and marker was an artist of its own."""
    from videoad.events import find_events
    from videoad.plots import CURVE_POINTS, LABELLED_EVENTS, draw_timeline
    from videoad.scores import ScoreSet, VideoScores

    rng = np.random.default_rng(0)
    n = 216000
    starts = np.arange(n) * 16
    scores = rng.normal(0.2, 0.02, n)
    for c in rng.integers(0, n - 40, 300):
        scores[c : c + 40] += 0.3
    peak = int(np.argmax(scores))
    scores[peak] = 2.0  # the strongest, far from any other
    v = VideoScores("day.mp4", scores, np.stack([starts, starts + 15], 1), n * 16, 40.0, "", "all", "", 0.3)
    events = find_events(ScoreSet([v], {})).events
    assert len(events) > 2 * LABELLED_EVENTS
    figures = _drawn_figure(monkeypatch)
    draw_timeline(v, tmp_path / "day.png", events=events, thumbnails=0)
    ax = figures[0].axes[0]
    ax.figure.canvas.draw()
    ticks = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert ticks[:3] == ["0:00:00", "3:00:00", "6:00:00"] and "h:mm:ss" in ax.get_xlabel(), (ticks, ax.get_xlabel())
    labels = [t.get_text() for t in ax.texts]
    assert len(labels) == LABELLED_EVENTS and event_name(max(events, key=lambda e: e.peak_score).event) in labels
    curve = next(line for line in ax.lines if line.get_label() == "clip score (at its middle)")
    assert len(curve.get_xdata()) <= CURVE_POINTS and max(curve.get_ydata()) == 2.0  # thinned, every peak kept
    markers = [line for line in ax.lines if line.get_marker() == "v"]
    assert len(markers) == 1 and len(markers[0].get_xdata()) == len(events)  # one artist, every event's peak


def _spiky(n_clips: int, fps: float, peaks, source: str = "") -> VideoScores:
    """A video of `n_clips` clips (length 16, stride 8) with a clear event at each clip of `peaks`."""
    scores = np.full(n_clips, 0.1)
    for c in peaks:
        scores[c : c + 8] = 0.6 + 0.001 * c
    starts = np.arange(n_clips) * 8
    return VideoScores("cam/v.mp4", scores, np.stack([starts, starts + 15], 1), n_clips * 8 + 8, fps, "", "all",
                       source, 0.3)


def test_a_long_source_path_that_cannot_be_read_keeps_the_timeline_readable(tmp_path, monkeypatch):
    """The footage is not on the analyst's machine (the usual case), its path an NVR's long one: the
    note "thumbnails unavailable: <path>: ..." was one line three boxes wide. matplotlib's layout
    gave up ("axes sizes collapsed to zero"): the time axis' label sat under the boxes' titles and
    the notes ran over each other. Each note now fits its box."""
    import warnings

    from videoad.plots import draw_timeline

    src = "/mnt/nvr/recordings/2026/12/07/camera-entrance-north-building-B/20261207T000000_0.mp4"
    v = _spiky(2000, 5.0, (100, 500, 900, 1300, 1700), source=src)
    events = find_events(ScoreSet([v], {})).events
    figures = _drawn_figure(monkeypatch)
    for thumbnails in (3, 5):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            draw_timeline(v, tmp_path / f"v{thumbnails}.png", events=events, thumbnails=thumbnails, source_root=None)
        assert not [w for w in caught if "constrained_layout" in str(w.message)], [str(w.message) for w in caught]
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        fig = figures[-1]
        canvas = FigureCanvasAgg(fig)
        canvas.draw()  # laid out as saved
        renderer = canvas.get_renderer()
        boxes = [ax for ax in fig.axes[1:] if ax.texts]
        assert len(boxes) == thumbnails
        for ax in boxes:
            note, frame = ax.texts[0].get_window_extent(renderer), ax.get_window_extent(renderer)
            assert "20261207T000000_0.mp4" in ax.texts[0].get_text().replace("\n", "")
            assert frame.x0 <= note.x0 and note.x1 <= frame.x1 and frame.y0 <= note.y0 and note.y1 <= frame.y1
        timeline_box, titles = fig.axes[0].get_window_extent(renderer), [ax.title for ax in boxes]
        label = fig.axes[0].xaxis.label.get_window_extent(renderer)
        assert timeline_box.height > 100 and all(label.y0 > t.get_window_extent(renderer).y1 for t in titles)


def test_peak_frames_of_a_long_video_say_when_as_its_axis_and_the_report_do(tmp_path, monkeypatch):
    """Below an axis in h:mm:ss, the boxes said "peak 0.6 at 10124.8 s" (the report's table: 2:48:44.8)."""
    from videoad.plots import draw_timeline

    v = _spiky(10000, 1.0, (1200, 6000))  # 80,000 frames at 1 fps: 22 h
    events = find_events(ScoreSet([v], {})).events
    figures = _drawn_figure(monkeypatch)
    draw_timeline(v, tmp_path / "v.png", events=events, thumbnails=2)
    titles = [ax.get_title() for ax in figures[0].axes[1:] if ax.get_title()]
    assert titles == [f"{event_name(e.event)}: peak {fmt_score(e.peak_score)} at {fmt_time(e.peak_s)}"
                      for e in sorted(events, key=lambda e: -e.peak_score)]
    assert all(t.count(":") == 3 for t in titles), titles  # E1: ... at h:mm:ss.s
    calm = _spiky(10000, 1.0, ())  # no event: its highest clip
    calm.scores[7000] = 0.2
    figures.clear()
    draw_timeline(calm, tmp_path / "calm.png", events=[], thumbnails=1)
    assert figures[0].axes[1].get_title() == "highest clip: 0.200 at 15:33:27.0 (no event)"  # clip 7000's middle frame, 56,007


def test_plot_with_an_interval_past_one_videos_end_draws_every_timeline_and_names_it(tmp_path, caplog):
    """An annotation that starts past one video's last frame (the wrong video, or the wrong file)
    stopped `plot` at that video: the ones after it were not drawn, and a rerun (the others' pictures
    kept) stopped again. Every timeline is drawn; that one without a band, its legend and a warning
    saying why."""
    from click.testing import CliRunner

    from videoad.cli import cli
    from videoad.scores import write_scores

    vids = [_video(k, 3) for k in ("a.avi", "b.avi", "c.avi")]  # 100 frames each
    write_scores(tmp_path / "s", ScoreSet(vids, {"config": {"detector": "duad"}}))
    gt = tmp_path / "gt.txt"
    gt.write_text("a.avi X 10 20 -1 -1\nb.avi X 400 470 -1 -1\nc.avi X 30 40 -1 -1\n")
    for run in ("first", "rerun"):
        caplog.clear()
        res = CliRunner().invoke(cli, ["plot", str(tmp_path / "s"), "-o", str(tmp_path / "p"), "--thumbnails", "0",
                                       "--annotations", str(gt)])
        assert res.exit_code == 0, (run, res.output)
        assert "3 timeline(s) written" in res.output
        assert sorted(p.name for p in (tmp_path / "p").glob("*.png")) == ["a.avi.png", "b.avi.png", "c.avi.png"]
        warned = [r.getMessage() for r in caplog.records if "without ground truth" in r.getMessage()]
        assert len(warned) == 1 and "gt.txt" in warned[0] and "'b'" in warned[0] and "400-470" in warned[0], warned


def test_a_timeline_whose_truth_does_not_fit_says_so_in_its_legend(tmp_path, monkeypatch):
    from videoad.plots import TRUTH_NORMAL, TRUTH_UNPLACED, draw_timeline

    v = _video("b.avi", 3)
    figures = _drawn_figure(monkeypatch)
    draw_timeline(v, tmp_path / "b.png", events=[], thumbnails=0,
                  annotation=VideoAnnotation("b", "X", ((400, 470),), None, "gt.txt"), truth_given=True)
    legend = [t.get_text() for t in figures[0].legends[0].get_texts()]
    assert TRUTH_UNPLACED in legend and TRUTH_NORMAL not in legend and "ground truth" not in legend


def test_plot_of_a_scores_folder_with_one_damaged_video_draws_the_others_and_names_it(tmp_path):
    """One video's rows damaged (a hand edit's NaN, rows lost in a copy) refused the whole folder:
    not one timeline was drawn. `plot` draws the others, names the damaged one and exits 1; asked
    for that video alone it fails naming the damage; `read_scores` alone still refuses the folder."""
    import re

    from click.testing import CliRunner

    from videoad.cli import cli
    from videoad.scores import ScoresError, read_scores, write_scores

    write_scores(tmp_path / "s", ScoreSet([_video(k, 3) for k in ("a.avi", "b.avi", "c.avi")], {}))
    seg = tmp_path / "s" / "segments.csv"
    seg.write_bytes(re.sub(rb"(b\.avi,X,all,5,[^\r]*,)[^,\r]+\r", rb"\1nan\r", seg.read_bytes()))
    with pytest.raises(ScoresError, match="'b.avi', clip 5: score nan"):
        read_scores(tmp_path / "s")
    res = CliRunner().invoke(cli, ["plot", str(tmp_path / "s"), "-o", str(tmp_path / "p"), "--thumbnails", "0"])
    assert res.exit_code == 1, res.output
    assert "2 timeline(s) written" in res.output and "not plotted" in res.output and "'b.avi', clip 5" in res.output
    assert sorted(p.name for p in (tmp_path / "p").glob("*.png")) == ["a.avi.png", "c.avi.png"]
    res = CliRunner().invoke(cli, ["plot", str(tmp_path / "s"), "-o", str(tmp_path / "b.png"), "--video", "b.avi"])
    assert res.exit_code == 1 and "'b.avi', clip 5: score nan" in res.output and not (tmp_path / "b.png").exists()
    res = CliRunner().invoke(cli, ["plot", str(tmp_path / "s"), "-o", str(tmp_path / "a.png"), "--video", "a.avi"])
    assert res.exit_code == 0 and (tmp_path / "a.png").is_file(), res.output  # the damage is not asked for


def test_timelines_drawn_in_worker_processes_equal_those_drawn_here(tmp_path):
    """One figure per video in one process is slow over a dataset (benchmarks/bench_report.py); more
    videos than PARALLEL_FROM are drawn in worker processes: the same files, in the same order."""
    from videoad.events import find_events
    from videoad.plots import PARALLEL_FROM, plot_run
    from videoad.scores import ScoreSet, VideoScores

    rng = np.random.default_rng(1)
    videos = []
    for i in range(PARALLEL_FROM + 4):
        n = int(rng.integers(40, 120))
        starts = np.arange(n) * 16
        s = rng.normal(0.2, 0.02, n)
        s[n // 2 : n // 2 + 10] += 0.3 * (i % 2)
        videos.append(VideoScores(f"cam/v{i:02d}.mp4", s, np.stack([starts, starts + 15], 1), n * 16, 30.0, "cam",
                                  "all", "", 0.3))
    scores = ScoreSet(videos, {})
    events = find_events(scores)
    here = plot_run(scores, tmp_path / "here", thumbnails=0, events=events, workers=1)
    there = plot_run(scores, tmp_path / "there", thumbnails=0, events=events, workers=2)
    assert [p.name for p in here] == [p.name for p in there] == [f"cam_v{i:02d}.mp4.png" for i in range(len(videos))]
    assert all(a.read_bytes() == b.read_bytes() for a, b in zip(here, there))


def test_a_warning_in_a_worker_process_is_written_as_the_consoles(tmp_path, capfd):
    """A spawned worker starts with bare streams and no log handler: a warning drawing a timeline
    there (an annotation naming its file) went raw to the terminal, which ran the ESC sequences of
    the file's name, and without the console's `WARNING videoad.plots:` in front."""
    from videoad.datasets.annotations import VideoAnnotation
    from videoad.plots import PARALLEL_FROM, draw_timelines
    from videoad.scores import VideoScores

    starts = np.arange(40) * 16
    jobs = [(VideoScores(f"cam/v{i:02d}.mp4", np.full(40, 0.2), np.stack([starts, starts + 15], 1), 640, 30.0, "cam",
                         "all", "", 0.3), tmp_path / f"v{i:02d}.png", {"thumbnails": 0}) for i in range(PARALLEL_FROM + 2)]
    jobs[3][2]["annotation"] = VideoAnnotation("cam/v03.mp4", intervals=((900, 950),), source="lab\x1b]0;owned\x07.txt")
    draw_timelines(jobs, workers=2)
    err = capfd.readouterr().err
    assert ("WARNING videoad.plots: timeline drawn without ground truth: lab\\x1b]0;owned\\x07.txt: video "
            "'cam/v03.mp4': interval 900-950 starts after") in err, err
    assert "\x1b" not in err and "\x07" not in err, err


def test_a_datasets_quiet_videos_are_folded_under_the_event_table(tmp_path):
    """Over UCF-Crime the "No event in 972 videos:" paragraph was 76 KB of links under the table."""
    from videoad.report import QUIET_LISTED
    from videoad.scores import ScoreSet, VideoScores

    def quiet(k, name):
        starts = np.arange(30) * 16
        return VideoScores(name, np.full(30, 0.1) + 0.001 * np.arange(30), np.stack([starts, starts + 15], 1),
                           480, 30.0, "cam", "all", "", 0.3)

    few = build_report(ScoreSet([quiet(k, f"a{k}.mp4") for k in range(3)], {}), tmp_path / "few", clips=False)
    assert "<p class=quiet>No event in 3 videos: <a href=" in few.read_text()
    many = ScoreSet([quiet(k, f"b{k:02d}.mp4") for k in range(QUIET_LISTED + 1)], {})
    text = build_report(many, tmp_path / "many", clips=False).read_text()
    assert f"<details class=quiet><summary>No event in {QUIET_LISTED + 1} videos</summary>" in text
    assert text.count("<a href='#v") >= QUIET_LISTED + 1  # every one still linked


def test_a_script_without_a_main_guard_still_draws_many_timelines(tmp_path):
    """Worker processes import the caller's __main__: a plain script drawing more than PARALLEL_FROM
    timelines died with multiprocessing's bootstrapping error. Library calls draw in their own process
    unless they ask for workers; a pool that breaks falls back to drawing here."""
    import subprocess
    import sys

    script = tmp_path / "plain.py"
    script.write_text(f"""
import numpy as np
from videoad.plots import PARALLEL_FROM, plot_run
from videoad.scores import ScoreSet, VideoScores
starts = np.arange(40) * 16
videos = [VideoScores(f"v{{i}}.mp4", np.linspace(0, 1, 40), np.stack([starts, starts + 15], 1), 640, 30.0)
          for i in range(PARALLEL_FROM + 2)]
print("wrote", len(plot_run(ScoreSet(videos, {{}}), {str(tmp_path / 'a')!r}, thumbnails=0)))
print("wrote", len(plot_run(ScoreSet(videos, {{}}), {str(tmp_path / 'b')!r}, thumbnails=0, workers=2)))
""")
    res = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    assert len(list((tmp_path / "a").glob("*.png"))) == len(list((tmp_path / "b").glob("*.png"))) == PARALLEL_FROM + 2
    # asked for workers, such a script's pool breaks (each worker reruns the script): drawn here instead
    assert "drawn in this process: the worker processes failed" in res.stderr


def test_long_names_give_file_names_a_file_system_takes(scoreset, tmp_path):
    """Each folder of a key may be 255 bytes, the key's slug many times that: the report and plot
    failed with "File name too long"."""
    from videoad.names import MAX_STEM

    a, b = "A" * 120 + "/" + "B" * 120 + "/" + "C" * 40 + ".avi", "A" * 120 + "/" + "B" * 120 + "/" + "D" * 40 + ".avi"
    stems = file_stems([a, b, "x.avi"])
    assert all(len(s) <= MAX_STEM for s in stems.values()) and len(set(stems.values())) == 3
    assert stems[a].startswith("A" * 100) and stems["x.avi"] == "x.avi"
    scoreset.videos[0].video, scoreset.videos[1].video = a, b
    page = build_report(scoreset, tmp_path / "r", clips=False)
    assert page.is_file() and len(list((tmp_path / "r" / "timelines").glob("*.png"))) == 3
    assert file_stems([".."])[".."] == "video" and file_stems(["../x.avi"])["../x.avi"] == "x.avi"  # never hidden


def test_notes_with_dollars_are_drawn_as_text(tmp_path):
    """A moved source whose path holds two `$`: its "source not readable" note was read as a formula."""
    from videoad.heatmap import heat_figure

    note = "source not readable: /cam/refund_$20_$50.mp4"
    assert heat_figure(None, tmp_path / "h.png", note=note).stat().st_size > 0  # in the frame's place
    frame = np.zeros((24, 32, 3), np.uint8)
    assert heat_figure(frame, tmp_path / "h2.png", note=note).stat().st_size > 0  # under a frame without cells
    v = _video("refund_$20_$50.mp4", 3, source="/archive/refund_$20_$50.mp4")
    assert timeline(v, tmp_path / "t.png", thumbnails=2).is_file()


def test_a_report_rewritten_keeps_no_page_of_the_previous_run(scoreset, tmp_path, monkeypatch):
    """A rewrite that failed partway left the old index.html beside the new events, its images
    removed; a rewrite that succeeds leaves no timeline of a video it no longer has."""
    import videoad.report as report

    build_report(scoreset, tmp_path / "r", clips=False)
    assert len(list((tmp_path / "r" / "timelines").glob("*.png"))) == 3
    (tmp_path / "r" / "timelines" / "notes.txt").write_text("mine")

    def broken(*args, **kwargs):
        raise OSError("disk gone")

    monkeypatch.setattr(report, "draw_timelines", broken)
    with pytest.raises(OSError):
        build_report(scoreset, tmp_path / "r", clips=False)
    assert not (tmp_path / "r" / "index.html").exists()
    monkeypatch.undo()
    scoreset.videos = scoreset.videos[:2]
    build_report(scoreset, tmp_path / "r", clips=False)
    left = sorted(p.name for p in (tmp_path / "r" / "timelines").iterdir())
    assert left == [TIMELINE_KEYS, "cam_v1.avi.png", "cam_v2.avi.png", "notes.txt"]  # the keys: videoad.output_keys


def test_a_single_clip_is_drawn_as_a_point(tmp_path, monkeypatch):
    """A one-clip video's score was a line of one point: nothing showed."""
    import matplotlib.axes

    drawn = []
    plot = matplotlib.axes.Axes.plot

    def spy(self, *args, **kwargs):
        drawn.append(kwargs)
        return plot(self, *args, **kwargs)

    monkeypatch.setattr(matplotlib.axes.Axes, "plot", spy)
    timeline(_video("one.avi", 0, n_clips=1), tmp_path / "one.png", thumbnails=0)
    curve = [k for k in drawn if k.get("label") == "clip score (at its middle)"]
    assert curve and curve[0].get("marker") == "o"


def test_moved_videos_are_found_under_the_source_root(tmp_path):
    """Extraction records absolute sources; `--source-root` applied to relative ones alone, so the
    README's "the videos moved since" found nothing."""
    from videoad.plots import resolve_source

    (tmp_path / "archive" / "cam1").mkdir(parents=True)
    (tmp_path / "archive" / "cam1" / "a.avi").write_bytes(b"x")
    (tmp_path / "flat").mkdir()
    (tmp_path / "flat" / "a.avi").write_bytes(b"x")
    v = _video("cam1/a.avi", 3, source="/old/disk/videos/cam1/a.avi")
    assert resolve_source(v, tmp_path / "archive") == tmp_path / "archive" / "cam1" / "a.avi"  # by its key
    assert resolve_source(v, tmp_path / "flat") == tmp_path / "flat" / "a.avi"  # by its file name
    assert resolve_source(v, tmp_path / "nowhere") == Path("/old/disk/videos/cam1/a.avi")  # named as it was
    assert resolve_source(v, None) == Path("/old/disk/videos/cam1/a.avi")
    rel = _video("cam1/a.avi", 3, source="cam1/a.avi")
    assert resolve_source(rel, tmp_path / "archive") == tmp_path / "archive" / "cam1" / "a.avi"


def test_sources_recorded_on_windows_are_found_under_the_source_root(tmp_path):
    from videoad.plots import resolve_source

    (tmp_path / "archive" / "cam1").mkdir(parents=True)
    (tmp_path / "archive" / "cam1" / "a.mp4").write_bytes(b"x")
    for recorded in ("C:\\footage\\cam1\\a.mp4", "C:/footage/cam1/a.mp4", "\\\\nvr\\share\\cam1\\a.mp4"):
        v = _video("cam1/a.mp4", 3, source=recorded)
        assert resolve_source(v, tmp_path / "archive") == tmp_path / "archive" / "cam1" / "a.mp4", recorded
        v.video = "other/b.mp4"
        assert resolve_source(v, tmp_path / "archive" / "cam1") == tmp_path / "archive" / "cam1" / "a.mp4"


def test_a_source_still_where_it_was_wins_over_a_namesake_under_the_root(tmp_path):
    from videoad.plots import resolve_source

    (tmp_path / "data" / "camA").mkdir(parents=True)
    (tmp_path / "data" / "camA" / "clip.mp4").write_bytes(b"x")
    (tmp_path / "archive").mkdir()
    (tmp_path / "archive" / "clip.mp4").write_bytes(b"y")
    v = _video("camA/clip.mp4", 3, source=str(tmp_path / "data" / "camA" / "clip.mp4"))
    assert resolve_source(v, tmp_path / "archive") == tmp_path / "data" / "camA" / "clip.mp4"


def _burst_report(tmp_path, second_ms=11000, rows=False):
    """A camera recording in bursts (3 s at 30 fps, 8 s apart: the second at `second_ms`) with events
    either side of its pause (an event ends at one), reported with their clips: (the video's scores,
    the data attributes of the row of the event whose clip holds the pause; `rows`: of every row)."""
    from _extract_media import make_vfr_h264

    times_ms = np.concatenate([np.arange(90) * 33, second_ms + np.arange(90) * 33])
    src = make_vfr_h264(tmp_path / "cam" / "bursts.mp4", times_ms.tolist(), rate=30)
    starts = np.arange(0, 165, 8)
    scores = np.full(len(starts), 0.1)
    scores[(starts > 70) & (starts < 100)] = 0.9  # the clips around the pause
    v = VideoScores("cam/bursts.mp4", scores, np.stack([starts, starts + 15], 1), 180, 30.0, "X", "all",
                    str(src), 0.3, frame_times=times_ms / 1000.0)
    meta = {"protocol": "transductive", "config": {"detector": "duad", "mode": "pooled"},
            "groups": [{"group": "all", "status": "fitted", "n_clips": len(starts), "videos": [v.video]}]}
    build_report(ScoreSet([v], meta), tmp_path / "report", event_settings=EventSettings(min_length_s=0.0))
    page = _Page()
    page.feed((tmp_path / "report" / "index.html").read_text())
    assert len(page.events) == 2
    if rows:
        return v, page.events
    for row in page.events:
        first = int(round(float(v.frame_at(float(row["data-clip-x"])))))
        if first < 90 < first + int(row["data-clip-frames"]):
            return v, row
    raise AssertionError(f"no event's clip holds the pause: {page.events}")


def test_the_playhead_follows_a_burst_cameras_own_times(tmp_path):
    """The clip plays the frames at one rate; the timeline places them by their own times. The
    viewer's playhead went by clip-x + t * rate and stood 8 s behind the timeline after the pause:
    the row now carries the timeline's places of the clip's frames."""
    v, row = _burst_report(tmp_path)
    page = (tmp_path / "report" / "index.html").read_text()
    assert "its frames keep no one rate (12.9 a second on average" in page  # 180 frames over 14 s
    knots = np.array([float(x) for x in row["data-knots"].split(",")])
    at = [int(x) for x in row["data-knot-frames"].split(",")]
    n, fps = int(row["data-clip-frames"]), float(row["data-clip-fps"])
    first = int(round(float(v.frame_at(float(row["data-clip-x"])))))
    assert first < 90 < first + n  # the clip holds the pause
    k = 90 - first  # its frame after the pause: twice, the frame before it ending there, then its own place
    assert at == [*range(k), k, *range(k, n + 1)]
    np.testing.assert_allclose(knots, [*v.seconds(first + np.arange(k)), v.end_seconds(89),
                                       *v.seconds(first + np.arange(k, n + 1))], atol=1e-3)
    after = first + n - 1  # the clip's last frame, in the second burst
    straight = float(row["data-clip-x"]) + (after - first) / fps * float(row["data-rate"])
    assert v.seconds(after) - straight > 7  # what the straight line showed there


def test_a_timeline_in_frames_needs_no_playhead_places(tmp_path):
    """With the rate unknown the timeline counts frames, and clip-x is in frames: the places,
    in seconds, disagreed with it."""
    from videoad.evidence import EventMedia
    from videoad.report import _playhead_knots

    times = np.r_[np.arange(90) * 0.033, 11 + np.arange(90) * 0.033]
    starts = np.arange(0, 165, 8)
    v = VideoScores("v.mp4", np.zeros(len(starts)), np.stack([starts, starts + 15], 1), 180, 30.0,
                    frame_times=times)
    media = EventMedia(1, clip="events/E001.mp4", clip_first_frame=40, clip_last_frame=120, clip_fps=30.0)
    assert "knots" in _playhead_knots(v, media)
    v.fps = 0.0
    assert _playhead_knots(v, media) == {}


def test_the_playhead_of_a_clip_ending_before_a_pause_stops_there():
    """A clip whose last frame is the last before an hour's pause: its last knot (where the clip
    ends) was the next burst's first frame, so as the clip played its last frame, and once it had
    ended, the playhead stood across the (shortened) pause. It ends where the frame does."""
    from videoad.evidence import EventMedia
    from videoad.plots import timeline_axis
    from videoad.report import _playhead_knots

    v = _leap()  # frames 0..119 at 0-12 s, 120.. an hour on
    axis = timeline_axis(v)
    for first, step in ((40, 1), (0, 1)):
        media = EventMedia(1, clip="events/E001.mp4", clip_first_frame=first, clip_last_frame=119, clip_fps=10.0)
        got = _playhead_knots(v, media, axis)
        knots = [float(x) for x in got["knots"].split(",")]
        assert got["knot-frames"] == ",".join(map(str, range(0, 120 - first + 1, step))) and len(knots) == 120 - first + 1
        assert knots[-1] == pytest.approx(float(axis(v.end_seconds(119))), abs=1e-3)  # 12 s, not 3612 s
        assert knots[-1] < float(axis(3612.0)) - 0.5
        np.testing.assert_allclose(knots[:-1], axis(v.seconds(np.arange(first, 120))), atol=1e-3)
    # a clip across the pause still reads the next burst's frames, after the jump across it
    media = EventMedia(1, clip="events/E001.mp4", clip_first_frame=100, clip_last_frame=139, clip_fps=10.0)
    knots = [float(x) for x in _playhead_knots(v, media, axis)["knots"].split(",")]
    np.testing.assert_allclose(knots, axis([*v.seconds(np.arange(100, 120)), v.end_seconds(119),
                                            *v.seconds(np.arange(120, 141))]), atol=1e-3)


def test_the_playhead_of_a_long_clip_jumps_each_pause_inside_it():
    """A clip of more than `PLAYHEAD_KNOTS` frames has a knot every few frames only (here every
    3rd): across a pause between two of them the playhead glided from the last burst's end to the
    next one's start while those frames played, standing inside the pause, where no frame is. A knot
    stands at each side of every pause in the clip, both at the moment the clip shows the frame
    after it: between knots the playhead stands on footage only."""
    from videoad.evidence import EventMedia
    from videoad.plots import timeline_axis
    from videoad.report import PLAYHEAD_KNOTS, _playhead_knots

    k = np.arange(900)
    pauses = (305, 601)  # 60 s and 90 s before them, neither a multiple of the knots' step
    times = k / 10.0 + np.where(k >= 305, 60.0, 0.0) + np.where(k >= 601, 90.0, 0.0)
    starts = np.arange(0, 880, 8)
    v = VideoScores("bursts.mp4", np.zeros(len(starts)), np.stack([starts, starts + 15], 1), 900, 10.0,
                    frame_times=times)
    assert v.pause_frames().tolist() == list(pauses)
    axis = timeline_axis(v)
    first, last = 20, 880
    assert last - first + 1 > PLAYHEAD_KNOTS
    got = _playhead_knots(v, EventMedia(1, clip="events/E001.mp4", clip_first_frame=first, clip_last_frame=last,
                                        clip_fps=10.0), axis)
    xs = np.array([float(x) for x in got["knots"].split(",")])
    at = np.array([int(x) for x in got["knot-frames"].split(",")])
    assert at[0] == 0 and at[-1] == int(got["clip-frames"]) == last - first + 1 and np.all(np.diff(at) >= 0)
    assert len(xs) == len(at) <= PLAYHEAD_KNOTS + 2 * len(pauses) + 1
    for p in pauses:  # the frame before it ends, then the next burst's first frame, at one moment
        (i, j), = [np.flatnonzero(at == p - first)]
        np.testing.assert_allclose(xs[[i, j]], axis([v.end_seconds(p - 1), v.seconds(p)]), atol=1e-3)
    # the playhead between knots (report.js: straight between them): never inside a pause
    inside = [(float(axis(v.end_seconds(p - 1))) + 1e-3, float(axis(v.seconds(p))) - 1e-3) for p in pauses]
    for t in np.linspace(0, at[-1], 5000):
        i = min(np.searchsorted(at, t, side="right") - 1, len(at) - 2)
        x = xs[i] + (xs[i + 1] - xs[i]) * (min(1, (t - at[i]) / (at[i + 1] - at[i])) if at[i + 1] > at[i] else 0)
        assert not any(lo < x < hi for lo, hi in inside), (t, x, inside)


def test_a_reports_marks_stand_where_its_timeline_draws_a_burst_an_hour_after_another(tmp_path, monkeypatch):
    """report.js maps the timeline's x-range straight onto its image: the rows' places (the event's
    span, its clip's start and frames) are the shortened axis' (`plots.timeline_axis`), as the picture
    draws them, and an event's span ends where its band does: a last frame before a pause lasts its
    step (its end was the next burst's first frame, the mark drawn over the whole pause)."""
    from videoad.plots import timeline_axis

    figures = _drawn_figure(monkeypatch)
    v, rows = _burst_report(tmp_path, second_ms=3_600_000, rows=True)
    (ax,) = [f.axes[0] for f in figures if any(line.get_label() == "event peak" for line in f.axes[0].lines)]
    axis = timeline_axis(v)
    assert axis.shortened and v.seconds(180) > 3600
    page = (tmp_path / "report" / "index.html").read_text()
    xmax = float(re.search(r"data-xmax=([\d.]+)", page).group(1))
    assert xmax == pytest.approx(ax.get_xlim()[1], abs=1e-4) and xmax < 10  # the axis is 3603 s wide unshortened
    (bands,) = [c for c in ax.collections if c.get_label() == "event (its clips' frames)"]
    drawn = sorted((b.vertices[:, 0].min(), b.vertices[:, 0].max()) for b in bands.get_paths())
    marks = sorted((float(r["data-x0"]), float(r["data-x1"])) for r in rows)
    np.testing.assert_allclose(marks, drawn, atol=1e-3)
    for r in rows:  # the playhead's places of the clip's frames: the axis' too
        first = int(round(float(v.frame_at(axis.inverse(float(r["data-clip-x"]))))))
        at, n = [int(x) for x in r["data-knot-frames"].split(",")], int(r["data-clip-frames"])
        knots = [float(x) for x in r["data-knots"].split(",")]
        # a frame named twice (after a pause) is first where the frame before it ends
        places = [v.end_seconds(first + a - 1) if a == b or a == n else v.seconds(first + a)
                  for a, b in zip(at, at[1:] + [None])]
        np.testing.assert_allclose(knots, axis(places), atol=1e-3)
        assert 0 <= min(knots) and max(knots) <= xmax + 1e-3


@needs_chromium
def test_the_pages_playhead_reads_the_clips_frames_places_in_a_browser(tmp_path):
    from selenium.webdriver.common.by import By

    v, row = _burst_report(tmp_path)
    first = int(round(float(v.frame_at(float(row["data-clip-x"])))))
    fps, n = float(row["data-clip-fps"]), int(row["data-clip-frames"])
    times = [0.0, 0.5, 1.37, (90 - first) / fps + 0.01, (n - 1) / fps, n / fps + 5]
    with chromium() as driver:
        driver.get((tmp_path / "report" / "index.html").as_uri())
        element = driver.find_element(By.CSS_SELECTOR, "table.events tbody tr")
        got = driver.execute_script("return arguments[1].map(t => window.videoadClipToX(arguments[0].dataset, t));",
                                    element, times)
        plain = driver.execute_script(  # a row of one rate: the straight line, as before
            "return window.videoadClipToX({clipX: '2.5', rate: '0.5'}, 3);")
        # the frame before the pause, half shown: within it (it glided across the pause's 8 s there)
        before = driver.execute_script("return window.videoadClipToX(arguments[0].dataset, arguments[1]);",
                                       element, (89.5 - first) / fps)
    want = v.seconds(np.minimum(first + np.array(times) * fps, first + n))
    np.testing.assert_allclose(got, want, atol=0.01)
    assert before == pytest.approx((v.seconds(89) + v.end_seconds(89)) / 2, abs=0.01)
    assert plain == pytest.approx(4.0)


@needs_chromium
def test_the_pages_mark_and_playhead_stand_on_a_shortened_timelines_picture(tmp_path, monkeypatch):
    """On a timeline whose hour between two bursts is shortened, the viewer's mark over the chosen
    event and its playhead as the clip plays stand where the picture draws them (the share of its
    width the figure puts the event's band and the frame at)."""
    from selenium.webdriver.common.by import By

    from videoad.plots import timeline_axis

    figures = _drawn_figure(monkeypatch)
    v, row = _burst_report(tmp_path, second_ms=3_600_000)
    axis = timeline_axis(v)
    (ax,) = [f.axes[0] for f in figures if any(line.get_label() == "event peak" for line in f.axes[0].lines)]
    width = ax.figure.bbox.width
    share = lambda x: 100 * float(ax.transData.transform((x, 0))[0]) / width  # noqa: E731
    first = int(round(float(v.frame_at(axis.inverse(float(row["data-clip-x"]))))))
    fps, n = float(row["data-clip-fps"]), int(row["data-clip-frames"])
    with chromium() as driver:
        driver.get((tmp_path / "report" / "index.html").as_uri())
        driver.find_element(By.CSS_SELECTOR, f'table.events tr[data-event="{row["data-event"]}"] button.play').click()
        mark = driver.execute_script("var m = document.querySelector('#viewer-tl .mark');"
                                     "return [parseFloat(m.style.left), parseFloat(m.style.width)];")
        heads = []
        for t in (0.2, (n - 1) / fps):  # a frame of each burst
            heads.append(driver.execute_script(
                "var p = document.getElementById('player'); p.pause(); p.currentTime = arguments[0];"
                "p.dispatchEvent(new Event('timeupdate'));"
                "return parseFloat(document.querySelector('#viewer-tl .playhead').style.left);", t))
            want = share(float(axis(v.seconds(first + t * fps))))
            assert heads[-1] == pytest.approx(want, abs=0.3), (t, heads, want)
    x0, x1 = float(row["data-x0"]), float(row["data-x1"])
    assert mark == pytest.approx([share(x0), share(x1) - share(x0)], abs=0.3)
    assert share(0) < heads[0] < share(axis(12.0)) < share(axis(3600.0)) < heads[1] < share(ax.get_xlim()[1])


@needs_chromium
def test_the_viewer_opens_pictures_whole_and_a_page_without_events_has_no_broken_pictures(scoreset, tmp_path):
    """The viewer showed the peak picture at half its 440 px (title and colour bar unreadable) with
    no way to open it; a page with no event showed two broken pictures and "click an event"."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    _, row = _burst_report(tmp_path)
    for v in scoreset.videos:
        v.scores[:] = 0.1
    build_report(scoreset, tmp_path / "quiet", clips=False, event_settings=EventSettings(min_length_s=0))
    # a shown picture that finished loading with no pixels; one still loading (lazy, on a busy machine) is
    # waited for first (`settled`): read at once, the quiet page's timelines were sometimes called broken
    shown = "Array.from(document.images).filter(i => i.hasAttribute('src') && i.offsetParent !== null)"
    broken = f"return {shown}.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.getAttribute('src'))"
    settled = f"return {shown}.every(i => i.complete)"
    with chromium() as driver:
        driver.get((tmp_path / "report" / "index.html").as_uri())
        driver.find_element(By.CSS_SELECTOR, "table.events tbody tr").click()
        heat = driver.find_element(By.ID, "viewer-heat")
        assert driver.find_element(By.ID, "viewer-heat-link").get_attribute("href").endswith(row["data-image"])
        assert driver.find_element(By.ID, "viewer-tl-link").get_attribute("href").endswith(".png")
        WebDriverWait(driver, 20).until(lambda d: d.execute_script(settled))
        assert heat.size["width"] >= 260 and driver.execute_script(broken) == []  # 205 px before, its title unread
        # the clip, the picture and the timeline with its playhead fit the window together
        bottom = driver.execute_script("return document.getElementById('viewer-tl').getBoundingClientRect().bottom")
        assert bottom <= driver.execute_script("return window.innerHeight")
        driver.get((tmp_path / "quiet" / "index.html").as_uri())
        WebDriverWait(driver, 20).until(lambda d: d.execute_script(settled))
        assert driver.find_elements(By.ID, "viewer") == [] and driver.execute_script(broken) == []
        assert "Click a row" not in driver.find_element(By.TAG_NAME, "body").text
        logs = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
        assert logs == []


class _Controls(HTMLParser):
    """Each event row's first cell's button, the cards, the sortable headers (and their buttons), and
    the elements that carry an id."""

    def __init__(self):
        super().__init__()
        self.rows, self.cards, self.headers, self.by_id, self._where = [], [], [], {}, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.by_id[a["id"]] = (tag, a)
        if tag == "tr" and "data-event" in a:
            self.rows.append(None)
            self._where = "row"
        elif tag == "th" and "data-sort" in a:
            self.headers.append([a, None])
            self._where = "th"
        elif "card" in a.get("class", "").split() and "data-event" in a:
            self.cards.append(a)
        elif tag == "button" and self._where == "row" and self.rows[-1] is None:
            self.rows[-1] = a
        elif tag == "button" and self._where == "th":
            self.headers[-1][1] = a

    def handle_endtag(self, tag):
        if tag in ("tr", "th"):
            self._where = None


def test_events_and_column_titles_are_controls_a_keyboard_reaches(scoreset, tmp_path, monkeypatch):
    """Rows and cards answered a click alone and the headers sorted on a click alone (no tabindex, no
    role, no aria-sort), with no focus style: a keyboard reached E1 only, as it was chosen at load.
    The viewer's caption changed unannounced and its video had no name."""
    import videoad.report as report

    monkeypatch.setattr(report, "FILTER_FROM", 1)  # the filter boxes and their counts too
    events = find_events(scoreset, EventSettings(min_length_s=0))
    page = build_report(scoreset, tmp_path / "r", events=events, clips=False)
    text = page.read_text()
    c = _Controls()
    c.feed(text)
    assert len(c.rows) == len(events.events) == 3
    assert all(b is not None and b.get("type") == "button" and event_name(i) in b["aria-label"]
               for i, b in enumerate(c.rows, 1))
    # one tab stop for the rows and one for the cards (E1's, chosen at load): the arrow keys move along them
    assert [b.get("tabindex") for b in c.rows] == [None, "-1", "-1"]
    assert len(c.cards) == 3 and all(a.get("role") == "button" for a in c.cards)
    assert sorted((a["data-event"], a.get("tabindex")) for a in c.cards) == [("1", "0"), ("2", "-1"), ("3", "-1")]
    assert c.by_id["events"][1].get("aria-describedby") == "events-keys" and "events-keys" in c.by_id
    assert [a.get("aria-sort") for a, _ in c.headers] == [None] * 5 + ["descending"] + [None] * 2  # by peak
    assert all(button is not None and button.get("type") == "button" for _, button in c.headers)
    assert c.by_id["viewer-caption"][1].get("aria-live") == "polite"
    assert c.by_id["player"][0] == "video" and c.by_id["player"][1].get("aria-label")
    assert text.count("data-count=events aria-live=polite") == text.count("data-count=videos aria-live=polite") == 1
    css = (report.ASSETS / "report.css").read_text()
    assert ":focus-visible{outline:" in css  # where the keyboard is, seen


@needs_chromium
def test_a_keyboard_chooses_an_event_and_sorts_the_table_in_a_browser(scoreset, tmp_path):
    """Tab to the table's one stop (E1's number, chosen at load), Down to E2's and Enter plays it as a
    click does; Enter or Space on a card too; a column title sorts on Enter and says how (aria-sort);
    the viewer's timeline names its video."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    page = build_report(scoreset, tmp_path / "r", events=find_events(scoreset, EventSettings(min_length_s=0)),
                        clips=False)
    with chromium() as driver:
        driver.get(page.as_uri())
        chosen = ("return Array.from(document.querySelectorAll('table.events tbody tr.sel'))"
                  ".map(r => r.dataset.event)")
        assert driver.execute_script(chosen) == ["1"]  # at load
        for _ in range(30):  # Tab along the page, as a keyboard user does, to the table's stop
            ActionChains(driver).send_keys(Keys.TAB).perform()
            if driver.switch_to.active_element.text == "E001":
                break
        assert driver.switch_to.active_element.tag_name == "button", "the events cannot be reached by Tab"
        ActionChains(driver).send_keys(Keys.ARROW_DOWN).perform()  # to E2's number
        assert driver.switch_to.active_element.text == "E002"
        ActionChains(driver).send_keys(Keys.ENTER).perform()
        assert driver.execute_script(chosen) == ["2"]
        row = driver.find_element(By.CSS_SELECTOR, "table.events tr[data-event='2']")
        video = row.find_element(By.CSS_SELECTOR, "td.name").get_attribute("data-v")
        assert driver.find_element(By.ID, "viewer-caption").text.startswith(f"E002 · {video}")
        assert driver.find_element(By.CSS_SELECTOR, "#viewer-tl img").get_attribute("alt") == \
            f"timeline of {video}, E002 marked"
        # the viewer's two pictures, made by report.js (not in the page: v.Nu), named after the event
        pictures = "return Array.from(document.querySelectorAll('#viewer img')).map(i => i.alt)"
        assert driver.execute_script(pictures) == ["E002: peak frame with heat map", f"timeline of {video}, E002 marked"]
        assert driver.find_element(By.ID, "player").get_attribute("aria-label").startswith(f"E002: {video}")
        assert row.get_attribute("aria-current") == "true"
        card = driver.find_element(By.CSS_SELECTOR, "div.card[data-event='3']")
        driver.execute_script("arguments[0].focus()", card)
        ActionChains(driver).send_keys(Keys.SPACE).perform()
        assert driver.execute_script(chosen) == ["3"] and row.get_attribute("aria-current") is None
        heat_alt, tl_alt = driver.execute_script(pictures)  # the same two pictures, named after E3 now
        assert heat_alt == "E003: peak frame with heat map" and tl_alt.endswith(", E003 marked")
        # sorting: Enter on a column title's button, twice; then another column
        peak = driver.find_element(By.XPATH, "//th[@data-sort]/button[text()='peak']")
        th = peak.find_element(By.XPATH, "..")
        order = "return Array.from(document.querySelectorAll('table.events tbody tr')).map(r => r.dataset.event)"
        assert th.get_attribute("aria-sort") == "descending" and driver.execute_script(order) == ["1", "2", "3"]
        driver.execute_script("arguments[0].focus()", peak)
        ActionChains(driver).send_keys(Keys.ENTER).perform()
        assert th.get_attribute("aria-sort") == "ascending" and driver.execute_script(order) == ["3", "2", "1"]
        ActionChains(driver).send_keys(Keys.SPACE).perform()
        assert th.get_attribute("aria-sort") == "descending" and driver.execute_script(order) == ["1", "2", "3"]
        video_title = driver.find_element(By.XPATH, "//th[@data-sort]/button[text()='video']")
        driver.execute_script("arguments[0].focus()", video_title)
        ActionChains(driver).send_keys(Keys.ENTER).perform()
        sorts = driver.execute_script("return Array.from(document.querySelectorAll('th[data-sort]'))"
                                      ".map(h => h.getAttribute('aria-sort'))")
        assert sorts == [None, "ascending"] + [None] * 6
        # the focus is seen: an outline drawn where the keyboard stands
        style = driver.execute_script("const s = getComputedStyle(document.activeElement);"
                                      "return [s.outlineStyle, s.outlineWidth];")
        assert style[0] != "none" and float(style[1].rstrip("px")) >= 2, style
        assert [e for e in driver.get_log("browser") if e["level"] == "SEVERE"] == []


#: where the keyboard stands: "row N" (an event row's button), "card N", else the element's tag
_AT = ("const a = document.activeElement, r = a.closest('table.events tbody tr'), c = a.closest('div.card');"
       "return r ? 'row ' + r.dataset.event : c ? 'card ' + c.dataset.event"
       " : a.tagName.toLowerCase() + (a.dataset.filter ? ' ' + a.dataset.filter : '');")
#: the tab stops under the elements arguments[0] selects: focusable (natively or by tabindex=0), shown
_STOPS = ("return Array.from(document.querySelectorAll(arguments[0])).filter(e => e.tabIndex >= 0 && !e.disabled"
          " && e.getClientRects().length > 0).map(e => (e.closest('[data-event]') || e).dataset.event || e.tagName);")


@needs_chromium
def test_the_events_table_and_the_pictures_are_one_tab_stop_each_and_arrow_keys_move_along_them(
        scoreset, tmp_path, monkeypatch):
    """A dataset's page (4,550 events) had 9,100 tab stops: each row's number a button, each picture
    tabindex=0; a keyboard user tabbed past all of them to reach the videos' filter or the Run
    section. Now each list is one tab stop (WAI-ARIA's roving tabindex): the arrow keys (Home, End,
    Page Up and Down) move along it, Enter plays the event there as a click does, the stop stays on
    the item last moved to or chosen, follows a sort, and a filter that hides it hands it to a row
    (a picture) still shown."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    import videoad.report as report

    monkeypatch.setattr(report, "FILTER_FROM", 3)  # the videos' filter box too
    vids = []
    for i in range(12):  # two events each, 24 in all
        v = _video(f"{'Arson' if i % 2 else 'Fighting'}/v{i:02d}.avi", 3, n_clips=20)
        v.scores[3], v.scores[14] = 0.7 + 0.02 * i, 0.45 + 0.02 * i  # no two peaks alike: a sort's order is one
        vids.append(v)
    events = find_events(ScoreSet(vids, scoreset.meta), EventSettings(min_length_s=0))
    n = len(events.events)
    assert n == 24
    page = build_report(ScoreSet(vids, scoreset.meta), tmp_path / "r", events=events, clips=False)

    BACK = "shift+tab"
    with chromium() as driver:
        def press(*keys):
            for k in keys:
                if k == BACK:  # Shift held down over the Tab
                    ActionChains(driver).key_down(Keys.SHIFT).send_keys(Keys.TAB).key_up(Keys.SHIFT).perform()
                else:
                    ActionChains(driver).send_keys(k).perform()
            return driver.execute_script(_AT)

        def tab_until(want, key=Keys.TAB, most=12):
            for _ in range(most):
                if press(key) == want:
                    return True
            return False

        stops = lambda sel: driver.execute_script(_STOPS, sel)
        chosen = "return Array.from(document.querySelectorAll('table.events tbody tr.sel')).map(r => r.dataset.event)"
        order = "return Array.from(document.querySelectorAll('table.events tbody tr')).map(r => r.dataset.event)"
        driver.get(page.as_uri())
        rows = "table.events tbody, table.events tbody *"
        cards = ".cards, .cards *"
        assert stops(rows) == ["1"] and stops(cards) == ["1"]  # E1, chosen at load
        page_stops = driver.execute_script(_STOPS, "body *")
        assert len(page_stops) < n, page_stops  # the headers' buttons, the boxes, the links: not 48 more
        # Tab from the events' filter: the sort buttons, then E1's row, and out of the table at the next
        driver.execute_script("document.querySelector('input[data-filter=events]').focus()")
        assert tab_until("row 1")
        assert press(Keys.TAB) != "row 2"
        assert tab_until("input videos", most=4), "the videos' filter is past the table's one stop"
        assert tab_until("row 1", BACK, most=4)
        # the arrow keys move along the rows as they stand; the focus is seen
        assert press(Keys.ARROW_DOWN) == "row 2" and press(Keys.ARROW_DOWN) == "row 3"
        style = driver.execute_script("const s = getComputedStyle(document.activeElement);"
                                      "return [s.outlineStyle, s.outlineWidth];")
        assert style[0] != "none" and float(style[1].rstrip("px")) >= 2, style
        assert press(Keys.END) == f"row {n}" and press(Keys.ARROW_DOWN) == f"row {n}"
        assert press(Keys.HOME) == "row 1" and press(Keys.ARROW_UP) == "row 1"
        down = int(press(Keys.PAGE_DOWN).split()[1])
        assert 1 < down <= n and int(press(Keys.PAGE_UP).split()[1]) < down
        assert press(Keys.HOME, Keys.ARROW_DOWN, Keys.ARROW_DOWN) == "row 3"
        assert driver.execute_script(chosen) == ["1"]  # moving chooses nothing
        assert stops(rows) == ["3"]
        press(Keys.ENTER)  # as a click: the viewer shows E3
        assert driver.execute_script(chosen) == ["3"]
        row3 = driver.find_element(By.CSS_SELECTOR, "table.events tr[data-event='3']")
        video3 = row3.find_element(By.CSS_SELECTOR, "td.name").get_attribute("data-v")
        assert driver.find_element(By.ID, "viewer-caption").text.startswith(f"E003 · {video3}")
        assert row3.get_attribute("aria-current") == "true"
        assert stops(cards) == ["3"]  # the pictures' stop goes to the chosen event's too
        # out and back: the stop is where the keyboard left it
        assert tab_until("input videos", most=4) and tab_until("row 3", BACK, most=4)
        # a sort moves the rows, not the stop; the arrows then follow the new order
        driver.find_element(By.XPATH, "//th[@data-sort]/button[text()='peak']").click()
        assert driver.execute_script(order) == [str(i) for i in range(n, 0, -1)]
        assert stops(rows) == ["3"]
        driver.execute_script("document.querySelector('table.events tr[data-event=\"3\"] button').focus()")
        assert press(Keys.ARROW_DOWN) == "row 2" and press(Keys.HOME) == f"row {n}"
        assert stops(rows) == [str(n)]
        # a filter that hides the stop's row hands the stop to a row it shows
        box = driver.find_element(By.CSS_SELECTOR, "input[data-filter=events]")
        hidden = driver.find_element(By.CSS_SELECTOR, f"table.events tr[data-event='{n}'] td.name")\
            .get_attribute("data-v")
        other = next(v.video for v in vids if v.video != hidden)
        box.send_keys(other)
        WebDriverWait(driver, 10).until(lambda d: d.find_element(By.CSS_SELECTOR, "[data-count=events]").text
                                        == f"2 of {n} events")
        shown = driver.execute_script("return Array.from(document.querySelectorAll('table.events tbody tr'))"
                                      ".filter(r => r.offsetParent !== null).map(r => r.dataset.event)")
        assert len(shown) == 2 and str(n) not in shown
        assert len(stops(rows)) == 1 and stops(rows)[0] in shown
        assert tab_until(f"row {stops(rows)[0]}", most=12)  # from the box, past the sort buttons
        assert press(Keys.ARROW_DOWN) in (f"row {shown[0]}", f"row {shown[1]}")  # the hidden rows skipped
        box.clear()
        box.send_keys(" ")
        WebDriverWait(driver, 10).until(lambda d: d.find_element(By.CSS_SELECTOR, "[data-count=events]").text
                                        == f"{n} events")
        assert len(stops(rows)) == 1
        # the pictures: one stop (E3's, the event chosen), the arrows move along them in the page's order
        every = driver.execute_script("return Array.from(document.querySelectorAll('div.card'))"
                                      ".map(c => c.dataset.event)")
        after = every[every.index("3") + 1]
        driver.execute_script("document.querySelector('input[data-filter=videos]').focus()")
        assert tab_until("card 3")
        assert press(Keys.ARROW_RIGHT) == f"card {after}" and press(Keys.ARROW_LEFT) == "card 3"
        assert press(Keys.ARROW_DOWN) == f"card {after}"
        assert press(Keys.END) == f"card {every[-1]}" and press(Keys.HOME) == f"card {every[0]}"
        # Page Down: the next video's first picture (two each here); Page Up: this, else the previous video's first
        assert press(Keys.PAGE_DOWN) == f"card {every[2]}" and press(Keys.PAGE_DOWN) == f"card {every[4]}"
        assert press(Keys.PAGE_UP) == f"card {every[2]}" and press(Keys.ARROW_RIGHT) == f"card {every[3]}"
        assert press(Keys.PAGE_UP) == f"card {every[2]}" and press(Keys.PAGE_UP) == f"card {every[0]}"
        assert press(Keys.PAGE_UP) == f"card {every[0]}"
        press(Keys.ARROW_DOWN)
        press(Keys.ENTER)  # as a click: the viewer shows that event
        assert driver.execute_script(chosen) == [every[1]] and stops(cards) == [every[1]]
        assert driver.find_element(By.ID, "viewer-caption").text.startswith(f"{event_name(int(every[1]))} ·")
        assert stops(rows) == [every[1]]  # the table's stop goes to the chosen event's row
        # the videos' filter hides the stop's picture: a picture shown takes it
        section = driver.execute_script(f"return document.querySelector('div.card[data-event=\"{every[1]}\"]')"
                                        ".closest('section').querySelector('h3').textContent")
        videos = driver.find_element(By.CSS_SELECTOR, "input[data-filter=videos]")
        videos.send_keys(next(v.video for v in vids if v.video != section))
        WebDriverWait(driver, 10).until(lambda d: d.find_element(By.CSS_SELECTOR, "[data-count=videos]").text
                                        == "1 of 12 videos")
        left = driver.execute_script("return Array.from(document.querySelectorAll('div.card'))"
                                     ".filter(c => c.offsetParent !== null).map(c => c.dataset.event)")
        assert len(left) == 2 and stops(cards) == [left[0]]
        assert tab_until(f"card {left[0]}", most=3) and press(Keys.ARROW_RIGHT) == f"card {left[1]}"
        assert [e for e in driver.get_log("browser") if e["level"] == "SEVERE"] == []


def _contrast(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two #rgb/#rrggbb colours."""
    def lum(h):
        h = h.lstrip("#")
        h = "".join(c * 2 for c in h) if len(h) == 3 else h
        c = [int(h[i:i + 2], 16) / 255 for i in (0, 2, 4)]
        c = [x / 12.92 if x <= 0.04045 else ((x + 0.055) / 1.055) ** 2.4 for x in c]
        return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]

    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_the_reports_colours_read_at_wcag_aa_on_every_background(tmp_path):
    """"no" in the truth column was #888 (3.54:1 on white, 3.00:1 on the selected row), "overlaps" and
    "history never moved here" 4.1-4.3:1 on the selected row, the sort arrows 2.02:1 on the headers,
    and the chosen card or video was marked by an orange border alone (2.42:1). Read from report.css,
    so that a colour changed later is checked too: every text colour at least 4.5:1 against every
    background the page paints (but the player's black box and the playhead's line, which hold no
    text), the selection and focus marks at least 3:1."""
    import re

    from videoad.report import ASSETS

    css = re.sub(r"/\*.*?\*/", "", (ASSETS / "report.css").read_text(), flags=re.S)
    rules = [(sel.strip(), dict((k.strip(), v.strip()) for k, v in (d.split(":", 1) for d in body.split(";") if ":" in d)))
             for sel, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css)]
    hexes = re.compile(r"#[0-9a-fA-F]{6}\b|#[0-9a-fA-F]{3}\b")
    backgrounds = {"#fff"} | {c for sel, d in rules if not sel.endswith((" video", ".playhead"))
                              for k in ("background", "background-color") for c in hexes.findall(d.get(k, ""))}
    texts = {c for _, d in rules for c in hexes.findall(d.get("color", ""))}
    marks = {c for sel, d in rules if ".sel" in sel or ":focus" in sel or ":target" in sel
             for k, v in d.items() if k.startswith(("border", "box-shadow", "outline")) for c in hexes.findall(v)}
    assert {"#ffe9cc", "#eef1f3", "#f6f7f8"} <= backgrounds and len(texts) >= 8 and len(marks) >= 2
    low = sorted((round(_contrast(t, b), 2), t, b) for t in texts for b in backgrounds if _contrast(t, b) < 4.5)
    assert low == [], f"text under 4.5:1: {low}"
    low = sorted((round(_contrast(m, b), 2), m, b) for m in marks for b in backgrounds if _contrast(m, b) < 3)
    assert low == [], f"selection or focus marks under 3:1: {low}"
    assert _contrast("#888", "#ffe9cc") == pytest.approx(3.00, abs=0.01)  # the ratio as the review measured it


def test_missing_footage_is_told_once_for_a_whole_run(scoreset, tmp_path, caplog):
    """plot and report printed a warning per video whose footage was not there (2,000 lines for a
    UCF-Crime-sized run on an analyst's machine without the videos): one line each now, the
    figures and event notes saying the rest."""
    from videoad.events import EventSettings, find_events
    from videoad.plots import plot_run

    gone = [VideoScores(**{**v.__dict__, "source": str(tmp_path / f"gone{i}.avi")}) for i, v in enumerate(scoreset)]
    moved = ScoreSet(gone, scoreset.meta)
    with caplog.at_level("WARNING"):
        plot_run(moved, tmp_path / "plots", thumbnails=2)
    lines = [r.getMessage() for r in caplog.records if "gone" in r.getMessage()]
    assert len(lines) == 1 and lines[0].startswith("peak frames not drawn on 3 of 3 timeline(s) (cam/v1.avi: ")
    assert "--source-root names where the videos are now" in lines[0]
    caplog.clear()
    events = find_events(moved, EventSettings(min_length_s=0))
    assert len({e.video for e in events.events}) >= 2
    with caplog.at_level("WARNING"):
        build_report(moved, tmp_path / "r", clips=False, events=events)
    lines = [r.getMessage() for r in caplog.records if "gone" in r.getMessage()]
    assert len(lines) == 1 and lines[0].startswith("3 video(s) with events cannot be read"), lines
    caplog.clear()
    (tmp_path / "archive").mkdir()
    with caplog.at_level("WARNING"):  # given a --source-root that does not hold them either: said so
        plot_run(moved, tmp_path / "plots2", thumbnails=2, source_root=tmp_path / "archive")
        build_report(moved, tmp_path / "r2", clips=False, events=events, source_root=tmp_path / "archive")
    lines = [r.getMessage() for r in caplog.records if "gone" in r.getMessage()]
    assert len(lines) == 2 and all(f"not under --source-root {tmp_path / 'archive'} either" in x for x in lines), lines


@needs_chromium
def test_a_large_runs_events_and_videos_can_be_filtered_in_a_browser(scoreset, tmp_path, monkeypatch):
    """A dataset's run (2,000 videos: 290 screens of page) had no way to narrow the events or the
    videos to one camera or category: a filter box keeps those whose text holds what is typed."""
    from selenium.webdriver.common.by import By

    import videoad.report as report

    monkeypatch.setattr(report, "FILTER_FROM", 3)
    vids = [_video(f"{'Arson' if i % 3 else 'Fighting'}/v{i:02d}.avi", 4, category="X") for i in range(6)]
    for i, v in enumerate(vids):  # 2x2 cell scores: the event's cell is 0:1 in v00-v02, 1:0 in v03-v05
        v.cells = np.full((len(v.scores), 4), 0.1)
        v.cells[4, 1 if i < 3 else 2] = v.scores[4]
    run = ScoreSet(vids, {**scoreset.meta, "cell_grid": [2, 2]})
    page = build_report(run, tmp_path / "r", clips=False, event_settings=EventSettings(min_length_s=0))
    assert page.read_text().count("data-filter=") == 2
    small = build_report(ScoreSet(vids[:2], scoreset.meta), tmp_path / "s", clips=False,
                         event_settings=EventSettings(min_length_s=0))
    assert "data-filter=" not in small.read_text()  # a short page: no box
    with chromium() as driver:
        driver.get(page.as_uri())
        shown = ("return Array.from(document.querySelectorAll(arguments[0])).filter(e => e.offsetParent !== null)"
                 ".map(e => e.querySelector(arguments[1]).textContent)")
        box = driver.find_element(By.CSS_SELECTOR, "input[data-filter=events]")
        box.send_keys("fighting")
        rows = driver.execute_script(shown, "table.events tbody tr", "td:nth-child(2)")
        assert len(rows) == 2 and all("Fighting" in r for r in rows)
        assert driver.find_element(By.CSS_SELECTOR, "[data-count=events]").text == "2 of 6 events"
        videos = driver.find_element(By.CSS_SELECTOR, "input[data-filter=videos]")
        videos.send_keys("v04")
        assert driver.execute_script(shown, "section.video", "h3") == ["Arson/v04.avi"]
        videos.clear()
        videos.send_keys(" ")
        assert len(driver.execute_script(shown, "section.video", "h3")) == 6
        # the cells are words in the row ("top right") and names in its tooltip: the box finds them by name
        box.clear()
        box.send_keys("1:0")
        rows = driver.execute_script(shown, "table.events tbody tr", "td:nth-child(2)")
        assert sorted(rows) == ["Arson/v04.avi", "Arson/v05.avi", "Fighting/v03.avi"], rows
        assert [e for e in driver.get_log("browser") if e["level"] == "SEVERE"] == []


def test_event_pictures_and_clips_made_in_worker_processes_equal_those_made_here(tmp_path, caplog):
    """Made one at a time in the main process, 2,000 videos' events took minutes on one core (the
    speed review); from more than PARALLEL_FROM videos with events the commands make them in worker
    processes, a video each: the same pictures (bytes), clips, notes and progress calls."""
    from videoad.evidence import write_evidence

    frames, _ = render_video(None, seed=0, cfg=SceneConfig(n_frames=180))
    src = write_video(tmp_path / "cam" / "v.avi", frames, 10.0)
    vids = [_video(f"cam/v{i:02d}.avi", 3 + i % 5, n_clips=20, source=str(src)) for i in range(PARALLEL_FROM + 2)]
    vids.append(_video("cam/gone.avi", 4, n_clips=20, source=str(tmp_path / "nowhere.avi")))  # told once, either way
    scores = ScoreSet(vids, {})
    events = find_events(scores, EventSettings(min_length_s=0))
    assert len({e.video for e in events.events}) == len(vids)
    made = {}
    for workers in (1, 2):
        seen = []
        made[workers] = write_evidence(scores, events, tmp_path / f"w{workers}" / "events", pad_s=0.5,
                                       on_event=seen.append, workers=workers)
        assert sorted(e.event for e in seen) == sorted(e.event for e in events.events)
    here, there = made[1], made[2]
    assert not [r for r in caplog.records if "worker processes failed" in r.getMessage()]  # the pool did the work
    assert here.keys() == there.keys()
    for k in here:
        a, b = here[k], there[k]
        assert (a.image.replace("w1", "w2") if a.image else None, a.clip, a.note, a.clip_first_frame,
                a.clip_last_frame) == (b.image, b.clip, b.note, b.clip_first_frame, b.clip_last_frame)
        assert (tmp_path / "w1" / a.image).read_bytes() == (tmp_path / "w2" / b.image).read_bytes()
        assert (a.clip is None) == (b.clip is None) and (a.clip is None or (tmp_path / "w2" / b.clip).stat().st_size)
    assert sum(m.clip is not None for m in there.values()) == len(events.events) - 1  # all but the missing source's


def test_a_file_name_other_videos_share_is_not_taken_for_theirs_under_the_source_root(tmp_path, caplog):
    """`cam1/clip.avi` and `cam2/clip.avi` moved to a flat archive holding one `clip.avi`: both
    videos' events were cut from that one file (silently where the recorder's segments are of one
    size). A name the run's videos share is used by key only; a unique one still by name."""
    from videoad.evidence import write_evidence
    from videoad.plots import AmbiguousSource, resolve_source, shared_file_names

    frames, _ = render_video(None, seed=0, cfg=SceneConfig(n_frames=180))
    write_video(tmp_path / "flat" / "clip.avi", frames, 10.0)
    vids = [_video("cam1/clip.avi", 7, source="/old/cam1/clip.avi"),
            _video("cam2/clip.avi", 9, source="/old/cam2/clip.avi"),
            _video("cam3/own.avi", 5, source="/old/cam3/own.avi")]
    (tmp_path / "flat" / "own.avi").write_bytes((tmp_path / "flat" / "clip.avi").read_bytes())
    shared = shared_file_names(vids)
    assert shared == {"clip.avi"}
    for v in vids[:2]:
        with pytest.raises(AmbiguousSource, match=r"clip\.avi: found under --source-root by its file name alone"):
            resolve_source(v, tmp_path / "flat", shared)
    assert resolve_source(vids[2], tmp_path / "flat", shared) == tmp_path / "flat" / "own.avi"
    (tmp_path / "flat" / "cam2").mkdir()
    (tmp_path / "flat" / "cam2" / "clip.avi").write_bytes(b"x")  # by its key: never in doubt
    assert resolve_source(vids[1], tmp_path / "flat", shared) == tmp_path / "flat" / "cam2" / "clip.avi"
    (tmp_path / "flat" / "cam2" / "clip.avi").unlink()

    scores = ScoreSet(vids, {"config": {"detector": "duad"}})
    events = find_events(scores, EventSettings(min_length_s=0))
    assert {e.video for e in events.events} == {v.video for v in vids}
    with caplog.at_level("WARNING"):
        media = write_evidence(scores, events, tmp_path / "rep" / "events", pad_s=0.5, source_root=tmp_path / "flat")
    by_video = {e.video: media[e.event] for e in events.events}
    for key in ("cam1/clip.avi", "cam2/clip.avi"):
        assert by_video[key].clip is None and "source not used" in by_video[key].note, by_video[key]
    assert by_video["cam3/own.avi"].clip is not None
    assert "2 video(s) with events found under --source-root by a file name other videos" in caplog.text


def test_a_found_file_of_another_size_is_said_to_be_another_file(tmp_path):
    from videoad.evidence import source_changed

    (tmp_path / "flat").mkdir()
    (tmp_path / "flat" / "a.avi").write_bytes(b"x" * 10)
    v = _video("cam/a.avi", 3, source="/old/cam/a.avi")
    v.source_fingerprint = {"size": 99, "files": 1}
    assert source_changed(v, tmp_path / "flat" / "a.avi").startswith(
        f"{tmp_path / 'flat' / 'a.avi'} is not the file extracted (99 bytes then, 10 now)")


def test_report_with_annotations_of_some_videos_is_written_and_says_what_it_leaves_out(scoreset, tmp_path):
    """Annotations listing the anomalous videos alone: `report` failed ("no ground truth for scored
    video") and wrote nothing, while `plot` took the same file. `evaluate` still asks for all."""
    from click.testing import CliRunner

    from videoad.cli import cli
    from videoad.scores import write_scores

    write_scores(tmp_path / "scores", scoreset)
    gt = tmp_path / "gt.csv"
    gt.write_text("video,start,end\ncam/v1.avi,20,40\n")
    res = CliRunner().invoke(cli, ["report", str(tmp_path / "scores"), "-o", str(tmp_path / "r"),
                                                   "--annotations", str(gt), "--no-clips"])
    assert res.exit_code == 0, res.output
    assert "warning: 2 scored video(s) have no ground truth in" in res.stderr and "cam/v2.avi" in res.stderr
    page = (tmp_path / "r" / "index.html").read_text()
    assert "Frame-level results" in page and "2 scored video(s) have no ground truth" in page
    res = CliRunner().invoke(cli, ["evaluate", str(tmp_path / "scores"), "--annotations", str(gt)])
    assert res.exit_code != 0 and "no ground truth for scored video 'cam/v2.avi'" in res.stderr
    assert "a normal one with no interval" in res.stderr
    other = tmp_path / "other.csv"
    other.write_text("video,start,end\nelsewhere/x.avi,1,5\n")
    res = CliRunner().invoke(cli, ["report", str(tmp_path / "scores"), "-o", str(tmp_path / "r2"),
                                                   "--annotations", str(other), "--no-clips"])
    assert res.exit_code != 0 and "no ground truth for any scored video" in res.stderr


def test_events_of_a_video_the_annotations_do_not_name_are_not_called_false_alarms(scoreset, tmp_path):
    """An event in a video absent from the annotation file read "no" in the truth column, as a false
    alarm does, and its section left the ground truth out without a word."""
    ann = Annotations({"cam/v1": VideoAnnotation("cam/v1", "X", ((20, 40),), None, "gt"),
                       "cam/v2": VideoAnnotation("cam/v2", "X", (), None, "gt")}, "gt.txt")  # v3 not in it
    events = find_events(scoreset, EventSettings(min_length_s=0))
    page = build_report(scoreset, tmp_path / "r", annotations=ann, events=events, clips=False).read_text()
    rows = {r.split("class=name data-v='")[1].split("'")[0]: r for r in page.split("<tr ")[1:] if "data-event=" in r}
    truth = {video: r.rsplit("<td class=txt>", 1)[1].split("</td>")[0] for video, r in rows.items()}
    assert truth == {"cam/v1.avi": "<span class=hit>overlaps</span>", "cam/v2.avi": "<span class=miss>no</span>",
                     "cam/v3.avi": "<span class=unlabelled title='the annotation file does not name this video'>"
                                   "not labelled</span>"}
    sections = {s.split("'")[0]: s for s in page.split("<section class=video id='")[1:]}
    sections = {s.split("<h3>")[1].split("</h3>")[0].replace("/<wbr>", "/").replace("<bdi>", "").replace("</bdi>", ""): s
                for s in sections.values()}
    assert "ground truth: not in the annotations" in sections["cam/v3.avi"]
    assert "ground truth: none (normal)" in sections["cam/v2.avi"]
    assert "not in the annotations" not in sections["cam/v1.avi"] + sections["cam/v2.avi"]
    plain = build_report(scoreset, tmp_path / "p", events=events, clips=False).read_text()  # no file, no column
    assert "not labelled" not in plain and "ground truth" not in plain


def test_the_reports_ground_truth_line_stops_at_the_videos_end(scoreset, tmp_path):
    """An interval past the end read "frames 57-399" on a 300-frame video, where the timeline and
    the evaluation cut it at the last frame."""
    v = scoreset.videos[0]
    ann = Annotations({"cam/v1": VideoAnnotation("cam/v1", "X", ((20, v.n_frames + 30),), None, "gt"),
                       "cam/v2": VideoAnnotation("cam/v2", "X", (), None, "gt"),
                       "cam/v3": VideoAnnotation("cam/v3", "X", (), None, "gt")}, "gt.txt")
    page = build_report(scoreset, tmp_path / "r", annotations=ann, clips=False).read_text()
    assert f"(frames 19-{v.n_frames - 1})" in page and f"frames 19-{v.n_frames + 29}" not in page


def test_a_plot_into_a_folder_with_another_runs_timelines_says_so_and_deletes_nothing(scoreset, tmp_path, caplog):
    """A second run plotted into the same folder left the first's timelines beside its own, on
    another y-range, without a word. Said now; nothing deleted (deleting them took a run's PNGs when
    it was plotted again as SVG, and a folder a user fills with several runs on purpose)."""
    from videoad.plots import plot_run
    from videoad.scores import write_scores

    out = tmp_path / "plots"
    out.mkdir()
    (out / "mine.png").write_bytes(b"\x89PNG")
    write_scores(tmp_path / "a", scoreset)
    smaller = ScoreSet(scoreset.videos[:1], scoreset.meta)
    write_scores(tmp_path / "b", smaller)
    from videoad.scores import read_scores

    first, second = read_scores(tmp_path / "a"), read_scores(tmp_path / "b")
    with caplog.at_level("WARNING"):
        assert len(plot_run(first, out, thumbnails=0)) == 3
        plot_run(first, out, thumbnails=0, fmt="svg")  # the same run in another format: nothing to say
        plot_run(first, out, thumbnails=0, videos=["cam/v2.avi"])  # one of its videos again: nothing either
    assert "another run" not in caplog.text
    import os

    here = os.getcwd()
    try:  # the same scores by a relative path: the same run (told apart by the path as written before)
        os.chdir(tmp_path)
        with caplog.at_level("WARNING"):
            plot_run(read_scores("a"), out, thumbnails=0, videos=["cam/v1.avi"])
    finally:
        os.chdir(here)
    assert "another run" not in caplog.text
    memory = tmp_path / "memory"  # a library caller's scores, in memory (no folder): one run all the same
    with caplog.at_level("WARNING"):
        plot_run(scoreset, memory, thumbnails=0)
        plot_run(scoreset, memory, thumbnails=0, videos=["cam/v2.avi"])
    assert "another run" not in caplog.text
    with caplog.at_level("WARNING"):
        plot_run(second, out, thumbnails=0)
    assert f"{out} also holds 2 timeline(s) of another run ({os.path.realpath(tmp_path / 'a')}" in caplog.text
    assert len(list(out.glob("*.png"))) == 4 and len(list(out.glob("*.svg"))) == 3  # nothing deleted


def test_names_in_other_scripts_keep_their_letters_in_file_names():
    """`日本 カメラ ü.avi` gave `avi.png`: a folder of timelines is read by its names."""
    stems = file_stems(["日本 カメラ ü.avi", "x/ü.avi", "e\u0301.avi", "\u00e9.avi", "a\u200bb.avi"])
    assert stems["日本 カメラ ü.avi"] == "日本_カメラ_ü.avi" and stems["x/ü.avi"] == "x_ü.avi"
    assert stems["a\u200bb.avi"] == "a_b.avi"  # an invisible character is not kept
    # one name as macOS and Linux spell it: one file name, so told apart by a hash
    assert stems["e\u0301.avi"] != stems["\u00e9.avi"] and stems["\u00e9.avi"].startswith("\u00e9.avi-")
    long = file_stems(["é" * 200])["é" * 200]
    from videoad.names import MAX_STEM

    assert len(long.encode("utf-8")) <= MAX_STEM and long.startswith("é" * 50)


def test_a_timeline_killed_mid_write_leaves_no_picture_under_its_name(scoreset, tmp_path, monkeypatch):
    """`plot` wrote each PNG straight to its name: a kill mid-write left a 0-byte or cut picture
    that looked drawn. Pictures go through a temporary now, and a rerun clears a dead run's."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from extract.store import temp_prefix
    from videoad.plots import plot_run

    out = tmp_path / "plots"
    real = FigureCanvasAgg.print_png  # what writes a PNG, drawn once or through savefig

    def cut(self, fname, *args, **kwargs):
        if hasattr(fname, "write"):
            fname.write(b"\x89PNG half")  # what a kill leaves mid-write
        else:
            Path(fname).write_bytes(b"\x89PNG half")
        raise KeyboardInterrupt

    monkeypatch.setattr(FigureCanvasAgg, "print_png", cut)
    with pytest.raises(KeyboardInterrupt):
        plot_run(scoreset, out, thumbnails=0)
    assert not list(out.glob("*.png"))
    monkeypatch.setattr(FigureCanvasAgg, "print_png", real)
    dead = out / f"{temp_prefix(out / 'cam_v1.avi.png')}999999999-0badf00d.tmp"
    dead.write_bytes(b"\x89PNG half")
    drawn = plot_run(scoreset, out, thumbnails=0)
    assert len(drawn) == 3 and all(p.read_bytes().startswith(b"\x89PNG\r\n") for p in drawn)
    assert not dead.exists() and not list(out.glob(".*.tmp"))


def test_a_png_timeline_is_drawn_once_with_the_pixels_savefig_draws(scoreset, tmp_path, monkeypatch):
    """`Figure.savefig` draws a figure with a layout engine twice (a pass that renders nothing, for
    the layout, then the picture): a fifth of a timeline's time over a dataset. A PNG is drawn
    once now, its pixels those savefig writes; where savefig's settings ask for more (a tight box)
    savefig still writes it."""
    import io

    import matplotlib
    from matplotlib.figure import Figure
    from PIL import Image

    from videoad.plots import draw_timeline

    def pixels(data):
        return np.asarray(Image.open(io.BytesIO(data) if isinstance(data, bytes) else data))

    figures, draws, real = _drawn_figure(monkeypatch), [], Figure.draw
    monkeypatch.setattr(Figure, "draw", lambda fig, renderer: draws.append(fig) or real(fig, renderer))
    v = scoreset.videos[0]
    for tight in (False, True):
        with matplotlib.rc_context({"savefig.bbox": "tight" if tight else None}):
            draws.clear()
            out = draw_timeline(v, tmp_path / f"t{tight}.png", thumbnails=3).path
            assert len(draws) == (2 if tight else 1)
            buf = io.BytesIO()
            figures[-1].savefig(buf, format="png", dpi=90)
        assert np.array_equal(pixels(out), pixels(buf.getvalue()))
    assert pixels(tmp_path / "tTrue.png").shape != pixels(tmp_path / "tFalse.png").shape  # the tight box was kept


def test_a_single_timeline_named_by_a_link_is_written_through_it(scoreset, tmp_path):
    """`plot -o link.png` replaced the link with a file (the write goes through a temporary and a
    rename) and left its target as it was."""
    from videoad.plots import plot_run

    target = tmp_path / "target" / "t.png"
    target.parent.mkdir()
    target.write_bytes(b"old")
    link = tmp_path / "link.png"
    link.symlink_to(target)
    plot_run(scoreset, link, videos=["cam/v1.avi"], thumbnails=0)
    assert link.is_symlink() and target.read_bytes().startswith(b"\x89PNG\r\n")


def test_a_left_out_video_whose_name_is_not_utf8_still_makes_a_report(scoreset, tmp_path):
    """`run` over a folder holding an old recorder's Latin-1 `café.avi` (read as surrogates, left out
    by extract: 'not valid UTF-8') failed at its last step, the page, with "'utf-8' codec can't
    encode character '\\udce9'": no report for the videos that were scored. The name is shown with
    its odd byte written out, as the bytes on disk are."""
    scoreset.meta["left_out"] = [{"video": "cam/caf\udce9 <b>.avi", "reason": "not extracted: its name is not "
                                  "valid UTF-8 (a name from another system's encoding): rename the file"}]
    scoreset.meta["groups"][1]["reason"] = "only caf\udce9.avi"
    text = build_report(scoreset, tmp_path / "r", clips=False).read_text(encoding="utf-8")
    assert "<li><bdi>cam/caf\\xe9 &lt;b&gt;.avi</bdi>: not extracted: its name is not valid UTF-8" in text
    assert "only caf\\xe9.avi" in text


def test_a_scores_folder_under_a_name_that_is_not_utf8_plots(tmp_path, caplog):
    """`videoad plot` of scores kept under a folder whose name is not UTF-8 (an old share's Latin-1
    `caméra/`, read as surrogates) drew every timeline, then failed writing the folder's listing of
    which scores they came from ("'utf-8' codec can't encode character '\\udce9'"), exit 1; a second
    plot into the folder reads the listing back and finds no other run's timelines there."""
    import json

    from videoad.plots import LISTING, plot_run
    from videoad.scores import read_scores, write_scores

    folder = tmp_path / "cam\udce9ra"
    write_scores(folder / "s", ScoreSet([_video(k, 3) for k in ("a.avi", "b.avi")], {"config": {"detector": "duad"}}))
    scores = read_scores(folder / "s")
    for _ in range(2):
        assert sorted(p.name for p in plot_run(scores, folder / "p", thumbnails=0)) == ["a.avi.png", "b.avi.png"]
    assert "another run" not in caplog.text
    listing = json.loads((folder / "p" / LISTING).read_text(encoding="utf-8"))
    assert listing == dict.fromkeys(["a.avi.png", "b.avi.png"], os.path.realpath(folder / "s"))


def test_hostile_video_names_are_text_on_the_page_and_their_files_resolve(tmp_path):
    """Names a folder can hold (`</script><script>`, quotes, `&`, `#`, `?`, `%`, two that differ in
    case only) stay text in every heading, cell, attribute and caption (report.js puts the caption
    in with innerHTML), and each timeline's `src` names a file of its own that is there. A guard
    from the hostile-names review (it passes on the code it reviewed)."""
    from urllib.parse import unquote

    names = ["x</script><script>alert(1)</y.avi", "a&b \"q\" 'x' <b>.avi", "#1 ?q=1 %20 100%.avi", "CAM.avi",
             "cam.avi"]
    text = build_report(ScoreSet([_video(n, 2 + i) for i, n in enumerate(names)], {}), tmp_path / "r",
                        clips=False, event_settings=EventSettings(min_length_s=0.0)).read_text(encoding="utf-8")
    page = _Page()
    page.feed(text)
    assert sorted(page.headings) == sorted(names)
    assert text.count("<script") == 1 and "<script>alert" not in text
    srcs = [unquote(s) for s in page.timelines]
    assert len(set(s.lower() for s in srcs)) == 5 and all((tmp_path / "r" / s).is_file() for s in srcs)
    assert not any(c in s for s in srcs for c in "#?%")
    assert len(page.events) == 5
    for row in page.events:  # the caption as report.js reads it (innerHTML): its own tags, the name as text
        tags = []
        caption = HTMLParser()
        caption.handle_starttag = lambda tag, attrs: tags.append(tag)
        caption.feed(row["data-caption"])
        assert set(tags) <= {"b", "br", "span", "bdi"}
        assert row["data-caption"].split(" &middot; ", 1)[1].split("<br>")[0] in {f"<bdi>{html_escape(n)}</bdi>"
                                                                               for n in names}


class _Isolated(HTMLParser):
    """Each text of the page (and of the captions report.js puts in with innerHTML) holding a bidi
    control, with whether a `<bdi>` around it keeps that control's effect inside it."""

    VOID = {"br", "img", "input", "meta", "link", "wbr"}

    def __init__(self):
        super().__init__()
        self.stack, self.texts = [], []

    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID:
            self.stack.append(tag)
        caption = dict(attrs).get("data-caption")
        if caption:
            inner = _Isolated()
            inner.feed(caption)
            self.texts += inner.texts

    def handle_endtag(self, tag):
        if tag in self.stack:
            del self.stack[len(self.stack) - 1 - self.stack[::-1].index(tag):]

    def handle_data(self, data):
        if any(c in data for c in "\u202a\u202b\u202d\u202e\u2066\u2067\u2068"):
            self.texts.append((data, "bdi" in self.stack))


#: a file name whose right-to-left override shows `evil\u202egnp.avi` as `evilavi.png`
RTL = "evil\u202egnp.avi"


def _rtl_scores():
    quiet = [VideoScores(n, np.full(20, 0.1), np.stack([np.arange(20) * 8, np.arange(20) * 8 + 15], 1), 175, 10.0,
                         "X", "all", "", 0.3) for n in ("a.avi", RTL, "b.avi", "c.avi")]
    loud = [_video("cam\u202e/x.avi", 3, category="cat\u202egory"), _video("d.avi", 5)]
    meta = {"left_out": [{"video": "gone\u202e.avi", "reason": "cannot be read"}],
            "groups": [{"group": "grp\u202eup", "status": "skipped", "reason": "3 clips", "videos": ["t"]}]}
    return ScoreSet(loud + quiet, meta)


def test_a_right_to_left_override_in_a_name_turns_no_other_text_around(tmp_path):
    """A name holding U+202E (right-to-left override, a file name's spoofed extension) turned the text
    after it around too, up to the end of its paragraph: the next names in the list of videos
    without an event read backwards and in the wrong order, a caption's times. Every name is now
    isolated (`<bdi>`): its override ends with it."""
    page = build_report(_rtl_scores(), tmp_path / "r", clips=False, event_settings=EventSettings(min_length_s=0.0))
    parser = _Isolated()
    parser.feed(page.read_text(encoding="utf-8"))
    assert len(parser.texts) >= 8  # headings, cells, captions, facts, the quiet list, the lists under Run
    assert [text for text, isolated in parser.texts if not isolated] == []


@needs_chromium
def test_the_names_after_a_right_to_left_override_keep_their_order_on_the_page(tmp_path):
    """The real page: the links to the videos without an event stand left to right in their order,
    the one after `evil\u202egnp.avi` not turned around to stand before it."""
    page = build_report(_rtl_scores(), tmp_path / "r", clips=False, event_settings=EventSettings(min_length_s=0.0))
    with chromium() as driver:
        driver.get(page.as_uri())
        links = driver.execute_script(
            "return Array.from(document.querySelectorAll('p.quiet a')).map("
            "a => [a.textContent, a.getBoundingClientRect().left, a.getBoundingClientRect().top])")
    assert [name for name, _, _ in links] == ["a.avi", RTL, "b.avi", "c.avi"]
    assert len({top for _, _, top in links}) == 1  # on one line
    lefts = [left for _, left, _ in links]
    assert lefts == sorted(lefts)


class _Links(HTMLParser):
    """Every address the page names: in an attribute that loads or links something (src, href,
    poster, srcset, action, and report.js's data-image and data-clip), and each url() of a style."""

    URL_ATTRS = ("src", "href", "poster", "srcset", "action", "formaction", "data", "data-image", "data-clip")

    def __init__(self):
        super().__init__()
        self.urls, self.ids, self.styles = [], set(), []

    def handle_starttag(self, tag, attrs):
        for k, v in attrs:
            if k == "id":
                self.ids.add(v)
            elif k == "style" and v:
                self.styles.append(v)
            elif k in self.URL_ATTRS and v:
                self.urls += [u.split()[0] for u in v.split(",")] if k == "srcset" else [v]
        if tag == "style":
            self._in_style = True

    def handle_data(self, data):
        if getattr(self, "_in_style", False):
            self.styles.append(data)

    def handle_endtag(self, tag):
        if tag == "style":
            self._in_style = False


def _outside(url: str, folder: Path, ids: set) -> str | None:
    """Why `url`, named by the page in `folder`, is not a file (or an anchor) of that folder; None if it is."""
    from urllib.parse import unquote, urlsplit

    parts = urlsplit(url)
    if parts.scheme or parts.netloc or url.startswith(("/", "\\")) or (len(url) > 1 and url[1] == ":"):
        return "not relative"
    if not parts.path:
        return None if parts.fragment in ids else "an anchor the page does not hold"
    target = (folder / unquote(parts.path)).resolve()
    if not target.is_relative_to(folder.resolve()):
        return "outside the report's folder"
    return None if target.is_file() else "no such file in the report's folder"


def test_the_report_names_nothing_outside_its_folder_and_works_moved(scoreset, tmp_path):
    """Reports are opened on air-gapped machines, copied or zipped away from where they were made:
    every address the page, report.css and report.js name is a relative one to a file of the
    report's own folder (no CDN script, font or style, no remote or file:// picture, no absolute
    path of the machine that made it), which still resolves once the folder is moved; report.js
    loads nothing (no fetch, no XMLHttpRequest, no import). A guard from the report review: it
    passes on the code it reviewed."""
    import re
    import shutil

    ann = Annotations({"cam/v1": VideoAnnotation("cam/v1", "X", ((20, 40),), None, "gt"),
                       "cam/v2": VideoAnnotation("cam/v2", "X", (), None, "gt"),
                       "cam/v3": VideoAnnotation("cam/v3", "Y", ((1, 30),), None, "gt")}, "gt.txt")
    made = tmp_path / "made" / "r"
    build_report(scoreset, made, annotations=ann, evaluation=evaluate_scores(scoreset, ann),
                 event_settings=EventSettings(min_length_s=0))
    moved = tmp_path / "elsewhere" / "copy"
    shutil.copytree(made, moved)
    shutil.rmtree(made)
    text = (moved / "index.html").read_text(encoding="utf-8")
    links = _Links()
    links.feed(text)
    css = (moved / "report.css").read_text(encoding="utf-8")
    js = (moved / "report.js").read_text(encoding="utf-8")
    urls = links.urls + [u.strip("'\" ") for s in links.styles + [css] for u in re.findall(r"url\(([^)]*)\)", s)]
    assert any(u.startswith("events/") and u.endswith((".mp4", ".webm")) for u in urls)  # a clip among them
    assert sum(u.startswith("timelines/") for u in urls) == len(scoreset) and "report.js" in urls
    wrong = {u: why for u in urls if (why := _outside(u, moved, links.ids))}
    assert wrong == {}, wrong
    assert not re.search(r"@import|@font-face", css)
    code = re.sub(r"//[^\n]*|/\*.*?\*/", "", js, flags=re.S)  # comments name no address the page loads
    assert not re.search(r"https?:|file:|fetch\(|XMLHttpRequest|import\(|importScripts|WebSocket|sendBeacon",
                         code), "report.js loads nothing"
    assert not re.search(r"https?://|file:/", text)  # not even as text
    assert str(tmp_path) not in " ".join(urls)


@needs_chromium
def test_a_clip_that_cannot_be_played_is_said_so_and_tried_again_when_chosen_again(scoreset, tmp_path):
    """A copied report without one clip's file (or a clip this browser cannot play) left the viewer's
    black box and no word of it; and with the file back, choosing the event again kept the failed
    load (the same src: no new load), so it never played. The caption says so now (read out:
    aria-live), and choosing the event again loads the clip again."""
    import shutil

    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    page = build_report(scoreset, tmp_path / "r", event_settings=EventSettings(min_length_s=0))
    parser = _Page()
    parser.feed(page.read_text())
    with_clip = [r for r in parser.events if r["data-clip"]]
    assert with_clip and len(with_clip) < len(parser.events)  # one event with a clip, others without
    row = with_clip[0]
    clip = page.parent / row["data-clip"]
    shutil.move(clip, tmp_path / "away")
    state = ("const v = document.getElementById('player');"
             "return {t: v.currentTime, err: v.error && v.error.code, src: v.getAttribute('src')};")
    with chromium() as driver:
        driver.get(page.as_uri())
        caption = driver.find_element(By.ID, "viewer-caption")
        other = next(r for r in parser.events if not r["data-clip"])
        driver.find_element(By.CSS_SELECTOR, f"table.events tr[data-event='{other['data-event']}']").click()
        assert "cannot be played" not in caption.text  # an event without a clip says "no clip" as before
        chosen = driver.find_element(By.CSS_SELECTOR, f"table.events tr[data-event='{row['data-event']}']")
        chosen.click()
        WebDriverWait(driver, 20).until(lambda d: "cannot be played" in caption.text)
        assert f"The clip {row['data-clip']} cannot be played here" in caption.text
        assert driver.execute_script(state)["err"] is not None
        shutil.move(tmp_path / "away", clip)  # the file is back: chosen again, it plays from the event's start
        chosen.click()
        WebDriverWait(driver, 20).until(lambda d: d.execute_script(state)["t"] > 0)
        got = driver.execute_script(state)
        assert got["err"] is None and got["t"] >= float(row["data-play-from"]) - 0.05, got
        assert "cannot be played" not in caption.text


def test_every_picture_of_a_large_page_loads_lazily(scoreset, tmp_path):
    """A dataset's page holds a timeline per video and a picture per event (1,900 videos and 4,550
    events: 6,450 pictures, 6 MB of page): each is fetched as it nears the window (loading=lazy),
    so that the page opens at once (Chromium fetched 33 of the 6,450 at load in the report review).
    The viewer's pictures are not in the page: report.js makes them as an event is chosen (written
    without src, v.Nu called them invalid). A guard from the report review."""
    page = build_report(scoreset, tmp_path / "r", clips=False, event_settings=EventSettings(min_length_s=0))
    imgs = []
    parser = HTMLParser()
    parser.handle_starttag = lambda tag, attrs: imgs.append(dict(attrs)) if tag == "img" else None
    parser.feed(page.read_text(encoding="utf-8"))
    with_src = [a for a in imgs if a.get("src")]
    assert len(with_src) == len(scoreset) + 3  # the timelines and the three events' pictures
    assert [a["src"] for a in with_src if a.get("loading") != "lazy"] == []
    assert len(imgs) == len(with_src)  # none without src: the viewer's are made by report.js


def test_the_console_names_the_strongest_event_as_its_files_do(scoreset, tmp_path):
    """The console said `strongest: E1 ...` while the report's files of that event are E001.png and
    E001.mp4: the line names it E001, the name that finds its files."""
    from videoad.report import event_summary

    events = find_events(scoreset, EventSettings(min_length_s=0))
    assert events.events[0].video == "cam/v2.avi"  # the one with its footage: its files are made
    assert "strongest: E001 cam/v2.avi " in event_summary(events)
    build_report(scoreset, tmp_path / "r", events=events, clips=False)
    assert (tmp_path / "r" / "events" / "E001.png").is_file()


def test_the_page_and_the_pictures_name_an_event_as_its_files_do(scoreset, tmp_path):
    """The table, the pictures' captions and alt texts, the viewer's caption and the event pictures'
    titles said E1 where the files (and the console) say E001: an analyst searching the folder for
    the name read on the page found nothing."""
    from videoad.evidence import _title

    events = find_events(scoreset, EventSettings(min_length_s=0))
    page = build_report(scoreset, tmp_path / "r", events=events, clips=False).read_text(encoding="utf-8")
    files = {p.stem for p in (tmp_path / "r" / "events").glob("E*.png")}
    assert files and files <= {event_name(e.event) for e in events.events}
    said = set(re.findall(r"\bE\d+\b", page))
    assert said == {event_name(e.event) for e in events.events}, said  # no "E1" beside "E001"
    assert f"data-label='{event_name(1)}'" in page  # what report.js names the chosen event by
    assert _title(events.events[0], "score").startswith("E001  cam/v2.avi\n")


class _Refs(HTMLParser):
    """Every reference a page makes to a file: href, src, and the viewer's data-image/data-clip."""

    def __init__(self):
        super().__init__()
        self.refs = []

    def handle_starttag(self, tag, attrs):
        self.refs += [v for k, v in attrs if v and k in ("href", "src", "data-image", "data-clip")]


def broken_links(page: Path) -> list[str]:
    """The page's local references a browser opening it from its `file://` address does not find:
    each is resolved against the page's own (percent-encoded) address, as a browser does, so a
    folder named with a space, `#`, `%` or a letter outside ASCII is read as the browser reads it;
    an absolute path or `file:` address counts as broken (it names where the report was written)."""
    from urllib.parse import urljoin, urlsplit
    from urllib.request import url2pathname

    parser = _Refs()
    parser.feed(page.read_text(encoding="utf-8"))
    bad = []
    for ref in parser.refs:
        parts = urlsplit(ref)
        if ref.startswith("#") or parts.scheme in ("http", "https", "mailto", "data"):
            continue  # a place on the page, or a deliberate address elsewhere
        if parts.scheme or ref.startswith(("/", "\\")):
            bad.append(ref)
            continue
        target = Path(url2pathname(urlsplit(urljoin(page.resolve().as_uri(), ref)).path))
        if not target.is_file() or page.parent.resolve() not in target.resolve().parents:
            bad.append(ref)
    return bad


def test_a_report_moved_or_copied_alone_keeps_every_link_and_a_rerun_there_keeps_its_pictures(scoreset, tmp_path):
    """Analysts zip a report, move it to a share, open it on another machine: every picture, clip,
    list and the viewer's files are linked relative to the page, found from a folder whose name
    holds a space, `#`, `%` and a letter outside ASCII; no path of the footage or of the folder
    it was written in is linked; `report` rerun into the moved folder keeps its pictures."""
    import shutil

    events = find_events(scoreset, EventSettings(min_length_s=0))
    page = build_report(scoreset, tmp_path / "report", events=events)
    assert not broken_links(page)
    parser = _Refs()
    parser.feed(page.read_text())
    assert {"report.css", "report.js", "events.csv", "events.json"} <= set(parser.refs)
    assert any(r.endswith(".mp4") for r in parser.refs)  # v2's clip, cut from its footage
    moved = tmp_path / "share" / "a b #1 %41 é" / "R2"
    moved.parent.mkdir(parents=True)
    shutil.move(str(page.parent), moved)
    text = (moved / "index.html").read_text()
    assert not [r for r in parser.refs if str(tmp_path) in r or "cam/" in r]  # neither footage nor folder named
    assert not broken_links(moved / "index.html")
    pictures = {p.name: p.stat().st_mtime_ns for p in (moved / "events").glob("E*")}
    again = build_report(scoreset, moved, events=events)  # the rerun into the moved folder
    assert again.read_text() == text
    assert {p.name: p.stat().st_mtime_ns for p in (moved / "events").glob("E*")} == pictures  # kept, none made
    alone = tmp_path / "elsewhere" / "copy"  # copied alone, the footage deleted: it still opens whole
    shutil.copytree(moved, alone)
    Path(scoreset.videos[1].source).unlink()
    assert not broken_links(alone / "index.html")


def test_a_report_written_where_the_footage_is_not_says_so_in_its_text(scoreset, tmp_path):
    """A report written (or rerun) where the footage is not: its lead and the video's section say
    the footage was not found and where it was looked for, as text; before, the page showed
    "no clip" under each event, the reason written into the event's picture alone."""
    src = Path(scoreset.videos[1].source)
    gone = ScoreSet([VideoScores(**{**v.__dict__, "source": str(tmp_path / "moved away" / "v2.avi")})
                     if v.source else v for v in scoreset], scoreset.meta)
    src.unlink()
    events = find_events(gone, EventSettings(min_length_s=0))
    page = build_report(gone, tmp_path / "r", events=events)
    text = page.read_text()
    lead = text[text.index("<p class=lead>"):text.index("</p>", text.index("<p class=lead>"))]
    assert "footage of 1 video with events not found" in lead and "--source-root" in lead
    where = html_escape(str(tmp_path / "moved away" / "v2.avi"), quote=True)
    assert f"footage not found at {where}: its events show no frame and no clip" in text
    assert "no clip: footage not found" in text
    assert not broken_links(page)  # the path is text, never a link
    (tmp_path / "archive").mkdir()
    text = build_report(gone, tmp_path / "r", events=events, source_root=tmp_path / "archive").read_text()
    assert f"footage not found at {where}, nor under {html_escape(str(tmp_path / 'archive'))}" in text
    assert "footage of" in text and "--source-root</code> names" not in text  # given: no hint to give it


class _Conformance(HTMLParser):
    """What the W3C validator (v.Nu) found against HTML's rules on the report's controls: a role an
    element may not take (`figure` with a `figcaption`: none), `target` on a link without `href`, and
    an `img` without `src`."""

    def __init__(self):
        super().__init__()
        self.errors, self.open = [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "figure" and "role" in a:
            self.errors.append(f"<figure role={a['role']}>")
        if tag == "figcaption" and any(t == "figure" and "role" in b for t, b in self.open):
            self.errors.append("<figcaption> in a figure with a role")
        if tag == "a" and "target" in a and "href" not in a:
            self.errors.append(f"<a id={a.get('id')}> with target, without href")
        if tag == "img" and not a.get("src"):
            self.errors.append(f"<img id={a.get('id')} alt={a.get('alt')!r}> without src")
        if tag not in ("img", "br", "wbr", "input", "meta", "link"):
            self.open.append((tag, a))

    def handle_endtag(self, tag):
        while self.open and self.open.pop()[0] != tag:
            pass


def test_the_events_pictures_and_the_viewers_links_are_valid_html(scoreset, tmp_path):
    """v.Nu on a run's report: 'Bad value "button" for attribute "role" on element "figure"' per
    event picture (a figure with its caption is a figure to a screen reader, no button) and
    'Element "a" is missing required attribute "href"' for the viewer's two links, written with
    `target` before an event gave them a place (report.js sets both); 'Element "img" is missing
    required attribute "src"' for the viewer's two pictures, hidden until an event was chosen
    (report.js makes them then). The pictures are buttons still, named by their picture's alt text
    and caption."""
    page = build_report(scoreset, tmp_path / "r", clips=False, event_settings=EventSettings(min_length_s=0))
    text = page.read_text(encoding="utf-8")
    check = _Conformance()
    check.feed(text)
    assert check.errors == []
    c = _Controls()
    c.feed(text)
    assert len(c.cards) == 3 and all(a.get("role") == "button" for a in c.cards)
    js = (tmp_path / "r" / "report.js").read_text()
    assert js.count('.target = "_blank"') == 2 and "figure.card" not in js


#: colour-vision deficiencies as Machado, Oliveira & Fernandes (2009) simulate them at full severity, on
#: linear RGB
_DEFICIENCIES = {
    "protanopia": ((0.152286, 1.052583, -0.204868), (0.114503, 0.786281, 0.099216), (-0.003882, -0.048116, 1.051998)),
    "deuteranopia": ((0.367322, 0.860646, -0.227968), (0.280085, 0.672501, 0.047413), (-0.011820, 0.042940, 0.968881)),
    "tritanopia": ((1.255528, -0.076749, -0.178779), (-0.078411, 0.930809, 0.147602), (0.004733, 0.691367, 0.303900)),
}


def _lab(colour: str, deficiency: str | None = None) -> np.ndarray:
    """CIELAB (D65) of a #rrggbb colour, as seen with `deficiency` (`_DEFICIENCIES`) or without."""
    from matplotlib.colors import to_rgb

    c = np.array(to_rgb(colour))
    c = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    if deficiency is not None:
        c = np.clip(np.array(_DEFICIENCIES[deficiency]) @ c, 0, 1)
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ c
    t = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(t > (6 / 29) ** 3, np.cbrt(t), t / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def _over(rgba, background) -> str:
    """The colour `rgba` paints over the opaque `background`, as #rrggbb."""
    from matplotlib.colors import to_hex, to_rgba

    c, b = np.array(to_rgba(rgba)), np.array(to_rgba(background)[:3])
    return to_hex(c[3] * c[:3] + (1 - c[3]) * b)


def test_every_span_and_band_on_a_timeline_stands_out_at_3_to_1_and_apart_for_colour_blind_readers(
        tmp_path, monkeypatch):
    """The events' shading was orange at alpha 0.22 with no edge: 1.21:1 on white, where WCAG asks 3:1
    of a mark, so an event's extent was barely seen; so were the ground-truth band (#2ca02c at alpha 0.8:
    2.63:1), the damaged frames (grey at alpha 0.35, hatched: 1.28:1) and the pauses (light grey at 0.5:
    1.18:1). Each mark has a colour at 3:1 now, on the axes' background and on its own fill (an event's
    edge, a pause's edge, the damaged frames' hatching and edge, the band itself, which also lies on an
    event's fill), no two of them closer than 20 in CIELAB as read with or without protanopia,
    deuteranopia or tritanopia (the band's green was 17 from the events' orange with deuteranopia). The
    spans lie under the band (a pause's fill faded it) and the band under the score line; the legend's
    swatches show the same colours."""
    from matplotlib.colors import to_hex, to_rgba

    from videoad import plots

    s = np.full(60, 0.2)
    s[20:30] += 0.5
    starts = np.arange(60) * 4
    times = np.arange(256) / 25.0 + np.where(np.arange(256) >= 200, 5.0, 0.0)  # 5 s paused before frame 200
    v = VideoScores("a.mp4", s, np.stack([starts, starts + 15], 1), 256, 25.0, "c", "all", "", 0.4,
                    damaged_spans=[[30, 50]], frame_times=times)
    figures = _drawn_figure(monkeypatch)
    timeline(v, tmp_path / "a.png", thumbnails=0, annotation=VideoAnnotation("a", "X", ((80, 120),), None, "gt.txt"))
    ax, legend = figures[0].axes[0], figures[0].legends[0]
    background = to_hex(ax.get_facecolor())
    label = "event (its clips' frames)"
    span, = [c for c in ax.collections if c.get_label() == label]
    assert len(span.get_paths()) == len(find_events(ScoreSet([v], {})).events) == 1
    assert min(span.get_linewidths()) >= 0.5 and span.get_alpha() is None  # an artist's alpha would fade the edge
    edge, face = to_rgba(plots.EVENT_EDGE_RGB), to_rgba(plots.EVENT_RGB, plots.EVENT_ALPHA)
    assert [to_rgba(c) for c in span.get_edgecolors()] == [edge] and [to_rgba(c) for c in span.get_facecolors()] == [face]
    event_fill = _over(face, background)
    assert _contrast(event_fill, background) == pytest.approx(1.21, abs=0.01)  # the fill alone, as reviewed
    truth, = [p for p in ax.patches if p.get_label() == "ground truth"]
    curve, = [ln for ln in ax.lines if ln.get_label().startswith("clip score")]
    spans = [c for c in ax.collections if c.get_label() in (label, "damaged frames", "pause in the recording")]
    assert len(spans) == 3 and max(c.get_zorder() for c in spans) < truth.get_zorder() < curve.get_zorder()

    swatches = dict(zip([t.get_text() for t in legend.get_texts()], legend.legend_handles))
    marks = {}  # label: (the colour that marks it, what it lies on)
    for name in (label, "damaged frames", "pause in the recording"):
        art, = [c for c in ax.collections if c.get_label() == name]
        (edge,), (face,) = ({to_rgba(c) for c in colours} or {to_rgba("none")}  # "none": no colour listed
                            for colours in (art.get_edgecolors(), art.get_facecolors()))
        assert edge[3] == 1 and art.get_alpha() is None and min(art.get_linewidths()) >= 0.5, name
        assert to_rgba(swatches[name].get_edgecolor()) == edge and swatches[name].get_linewidth() >= 0.5, name
        assert to_rgba(swatches[name].get_facecolor()) == face, name
        marks[name] = to_hex(edge), [background, _over(face, background)]
    damaged, = [c for c in ax.collections if c.get_label() == "damaged frames"]
    assert damaged.get_hatch() == swatches["damaged frames"].get_hatch() == "///"
    if hasattr(damaged, "get_hatchcolor"):  # matplotlib 3.10 on: its hatching is drawn in its edge's colour
        assert {to_hex(c) for c in np.atleast_2d(damaged.get_hatchcolor())} == {marks["damaged frames"][0]}
    assert truth.get_alpha() in (None, 1) and to_rgba(truth.get_facecolor())[3] == 1
    assert to_rgba(swatches["ground truth"].get_facecolor()) == to_rgba(truth.get_facecolor())
    marks["ground truth"] = to_hex(truth.get_facecolor()), [background, event_fill]  # a hit lies on an event

    for name, (colour, under) in marks.items():
        assert min(_contrast(colour, u) for u in under) >= 3, (name, colour)
    for (a, (ca, _)), (b, (cb, _)) in itertools.combinations(marks.items(), 2):
        for deficiency in (None, *_DEFICIENCIES):
            assert np.linalg.norm(_lab(ca, deficiency) - _lab(cb, deficiency)) >= 20, (a, b, deficiency)


def test_the_score_line_reads_over_the_ground_truth_band_and_scene_cuts_apart_from_damaged_frames(
        tmp_path, monkeypatch):
    """The curve (#1f4e79) crosses the green ground-truth band, drawn under it, at 2.35:1: it has a
    halo in the axes' colour now, a point wider each side, and reads against that. The scene cuts
    were grey (#7a7a7a) beside the damaged frames' grey hatching (#909090): 8.6 apart in CIELAB to any
    reader, told apart by their dots alone. Their colour is 20+ from every span's,
    the band's and the curve's, with or without a colour-vision deficiency, at 3:1 on the plot and on
    an event's fill, and they stay dotted (the hatching is solid)."""
    from matplotlib.colors import to_hex, to_rgba

    from videoad import plots

    s = np.full(60, 0.2)
    s[20:30] += 0.5
    starts = np.arange(60) * 4
    v = VideoScores("a.mp4", s, np.stack([starts, starts + 15], 1), 256, 25.0, "c", "all", "", 0.4,
                    damaged_spans=[[30, 50]], scene_cut_frames=[60, 150])
    figures = _drawn_figure(monkeypatch)
    timeline(v, tmp_path / "a.png", thumbnails=0, annotation=VideoAnnotation("a", "X", ((80, 120),), None, "gt.txt"))
    ax = figures[0].axes[0]
    background = to_hex(ax.get_facecolor())
    truth, = [p for p in ax.patches if p.get_label() == "ground truth"]
    curve, = [ln for ln in ax.lines if ln.get_label().startswith("clip score")]
    colour = to_hex(curve.get_color())
    assert _contrast(colour, to_hex(truth.get_facecolor())) == pytest.approx(2.35, abs=0.01)  # as reviewed
    halo = [e for e in curve.get_path_effects() if getattr(e, "_gc", {}).get("foreground") is not None]
    assert len(halo) == 1 and type(curve.get_path_effects()[-1]).__name__ == "Normal"  # the line over its halo
    halo_colour, halo_width = to_hex(halo[0]._gc["foreground"]), halo[0]._gc["linewidth"]
    assert halo_colour == background and halo_width >= curve.get_linewidth() + 2 * 1.0
    assert _contrast(colour, halo_colour) >= 3

    cuts, = [c for c in ax.collections if c.get_label() == "scene cut"]
    damaged, = [c for c in ax.collections if c.get_label() == "damaged frames"]
    (cut,), (damage,) = ({to_hex(c) for c in art.get_edgecolors()} for art in (cuts, damaged))
    event_fill = _over(to_rgba(plots.EVENT_RGB, plots.EVENT_ALPHA), background)
    assert min(_contrast(cut, u) for u in (background, event_fill)) >= 3
    assert cuts.get_linestyle()[0][1] is not None and damaged.get_linestyle()[0][1] is None  # dotted, solid
    others = {"damaged frames": damage, "ground truth": to_hex(truth.get_facecolor()), "score": colour,
              "event": plots.EVENT_EDGE_RGB, "pause": plots.PAUSE_EDGE_RGB}
    for name, other in others.items():
        for deficiency in (None, *_DEFICIENCIES):
            assert np.linalg.norm(_lab(cut, deficiency) - _lab(other, deficiency)) >= 20, (name, deficiency)


def test_every_mark_of_a_timeline_is_named_in_its_legend(tmp_path, monkeypatch):
    """The events' peaks, dark red triangles, were the one mark the legend did not name (the event
    shading, the score, the alarm line and the ground truth each had their entry): told apart from
    the curve by colour and shape alone, with nothing to say what they are."""
    s = np.full(60, 0.2)
    s[20:30] += 0.5
    starts = np.arange(60) * 4
    v = VideoScores("a.mp4", s, np.stack([starts, starts + 15], 1), 256, 25.0, "c", "all", "", 0.4)
    figures = _drawn_figure(monkeypatch)
    timeline(v, tmp_path / "a.png", thumbnails=0)
    ax, legend = figures[0].axes[0], figures[0].legends[0]
    named = {t.get_text() for t in legend.get_texts()}
    drawn = [ln for ln in ax.lines if len(ln.get_xdata())] + list(ax.collections)  # the marks with data
    assert all(m.get_label() in named for m in drawn), [m.get_label() for m in drawn]
    assert any(ln.get_marker() == "v" and ln.get_label() == "event peak" for ln in ax.lines)


def test_notes_name_the_runs_own_files_relative_to_the_report_and_missing_footage_in_full(scoreset, tmp_path):
    """Notes copied from run.json and the scores onto the page (videos and groups left out and why,
    extraction warnings, an unfinished store's word, a footage check, a video's events note) held
    the absolute paths `detect` and `extract` write: the analyst's folders, to whoever the report
    went to. A path in the run's folder is now named from the report's (`../history`), as the
    store is; where footage is not found its whole path stays (the one way to find the files)."""
    run = tmp_path / "cases" / "site" / "deep" / "run1"
    run.mkdir(parents=True)
    meta = scoreset.meta
    meta["unfinished_stores"] = [f"{run}/features: its extraction had not finished (3 of 5 videos)"]
    meta["left_out"] = [{"video": "x.avi", "reason": f"not extracted as the history {run}/history (group 'all')"}]
    meta["history_left_out"] = [{"video": "h.avi", "reason": f"'{run}/history/manifest.json': damaged"}]
    meta["groups"] = [dict(meta["groups"][0], line_note=f"read from {run}/models/all.pt"),
                      dict(meta["groups"][1], reason=f"{run}/features/t.h5 has 3 clips < min_clips=65")]
    v1, v2, v3 = scoreset.videos
    v1.decode_warnings = f"{run}/features/cam/v1.h5: 2 damaged frames filled in"
    v3.source = str(run / "gone" / "v3.avi")  # footage under the run's folder, not there: named in full
    page = build_report(scoreset, run / "report", clips=False,
                        event_settings=EventSettings(min_length_s=0)).read_text()
    for said in ("../features: its extraction had not finished", "not extracted as the history ../history (group",
                 "&#x27;../history/manifest.json&#x27;: damaged", "../features/t.h5 has 3 clips",
                 "extraction warned: ../features/cam/v1.h5: 2 damaged"):
        assert said in page, said
    elsewhere = [line for line in page.replace("<", "\n<").splitlines() if str(tmp_path) in line]
    assert elsewhere and all(f"{run}/gone/v3.avi" in line and ("footage not found at" in line
                                                               or "source not readable" in line)
                             for line in elsewhere), elsewhere
