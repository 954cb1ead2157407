"""The README's main command end to end: `videoad demo`'s events, their evidence, and the report
in a real browser (Debian's Chromium, headless, through Selenium and chromedriver)."""
from __future__ import annotations

import csv
import re
import sys
import time
from html.parser import HTMLParser

import av
import pytest
from _browser import BROWSER_GROUP, chromium, needs_chromium

# one worker builds the module's demo (its fixture) and drives the browser
pytestmark = [pytest.mark.slow, BROWSER_GROUP]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from videoad.cli.demo_cmd import video_demo

    work = tmp_path_factory.mktemp("demo")
    return work, video_demo(work, baselines=(), echo=lambda *a: None)


class _Rows(HTMLParser):
    def __init__(self):
        super().__init__()
        self.rows = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "tr" and "data-event" in a:
            self.rows.append(a)


def test_every_anomalous_video_has_an_event_with_an_image_and_a_playable_clip(demo):
    from videoad.datasets.annotations import read_annotations
    from videoad.scores import read_scores

    work, res = demo
    rows = list(csv.DictReader(open(work / "scores" / "events.csv")))
    ann = read_annotations(work / "data" / "Temporal_Anomaly_Annotation.txt")
    anomalous = [v.video for v in read_scores(work / "scores") if ann.find(v.video).intervals]
    assert len(anomalous) == 4
    for key in anomalous:
        truth = ann.find(key).intervals  # 1-based, inclusive
        hits = [r for r in rows if r["video"] == key and any(
            int(r["start_frame"]) <= e - 1 and s - 1 <= int(r["end_frame"]) for s, e in truth)]
        assert hits, f"no event overlaps the ground truth {truth} of {key}"
    events = sorted((work / "report" / "events").glob("E*.png"))
    clips = sorted((work / "report" / "events").glob("E*.mp4")) + sorted((work / "report" / "events").glob("E*.webm"))
    assert len(events) == len(clips) == len(rows) > 0
    for clip in clips:
        with av.open(str(clip)) as c:
            assert sum(1 for _ in c.decode(video=0)) > 0
    page = (work / "report" / "index.html").read_text()
    parser = _Rows()
    parser.feed(page)
    assert [int(r["data-event"]) for r in parser.rows] == list(range(1, len(rows) + 1))
    # reads right without noise: no empty categories, no raw dicts, the unit is named
    unit = read_scores(work / "scores").meta["score_unit"]
    assert unit == "distance to the normal selection"  # DUAD's default score
    assert "category <bdi>.</bdi>" not in page and "{}" not in page and unit in page and "score=knn" in page
    assert not re.search(r"(src|href)=['\"]?https?:", page), "the page must work offline"


@needs_chromium
def test_chromium_plays_the_first_event_from_its_start(demo):
    from selenium.webdriver.common.by import By

    work, _ = demo
    with chromium() as driver:
        driver.get((work / "report" / "index.html").as_uri())
        rows = driver.find_elements(By.CSS_SELECTOR, "table.events tbody tr")
        assert len(rows) == len(list(csv.DictReader(open(work / "scores" / "events.csv"))))
        first = rows[0]
        assert first.find_element(By.CSS_SELECTOR, "td").text == "E001"
        play_from = float(first.get_attribute("data-play-from"))
        first.click()
        deadline, state = time.time() + 20, None
        while time.time() < deadline:
            state = driver.execute_script(
                "const v = document.getElementById('player');"
                "return {t: v.currentTime, paused: v.paused, src: v.currentSrc, err: v.error && v.error.code,"
                " ready: v.readyState, w: v.videoWidth};")
            if state["t"] > play_from + 0.3:
                break
            time.sleep(0.2)
        assert state["err"] is None and state["w"] > 0, state
        assert state["src"].endswith(first.get_attribute("data-clip")), state
        assert not state["paused"] and play_from + 0.3 < state["t"] < play_from + 10, state  # plays, from the start
        assert "sel" in first.get_attribute("class")
        mark = driver.find_element(By.CSS_SELECTOR, f"#{first.get_attribute('data-section')} .tl .mark")
        assert mark.is_displayed() and mark.size["width"] > 0  # marked on its timeline
        # sorting by peak, ascending: the last event comes first
        driver.find_element(By.XPATH, "//table[@id='events']//th[normalize-space()='peak']").click()
        assert driver.find_elements(By.CSS_SELECTOR, "table.events tbody tr")[0].get_attribute("data-event") == \
            str(len(rows))


def test_a_negative_demo_seed_is_refused_by_the_option():
    """`videoad demo --seed -1` ended in numpy's "expected non-negative integer" traceback."""
    from click.testing import CliRunner

    from videoad.cli import cli

    res = CliRunner().invoke(cli, ["demo", "--seed", "-1", "--data", "digits"])
    assert res.exit_code == 2 and "Invalid value for '--seed'" in res.output and "Traceback" not in res.output


@pytest.mark.parametrize("flag", ["-o", "--output", "--workdir"])
def test_the_demo_takes_its_folder_as_o_like_every_other_command(flag, tmp_path, monkeypatch):
    """Every command that writes a folder takes -o/--output; the demo alone took --workdir, and
    `videoad demo -o runs/x` was a usage error. --workdir stays as its older name."""
    from click.testing import CliRunner

    from videoad.cli import cli, demo_cmd

    seen = []

    def stop(workdir, **_):
        seen.append(workdir)
        raise SystemExit(0)

    monkeypatch.setattr(demo_cmd, "video_demo", stop)
    res = CliRunner().invoke(cli, ["demo", flag, str(tmp_path / "d")])
    assert res.exit_code == 0, res.output
    assert seen == [tmp_path / "d"]


def _demo_into(tmp_path, monkeypatch, out):
    """`videoad demo -o out` up to the demo's work (stood in for): (result, the folders it was given)."""
    from click.testing import CliRunner

    from videoad.cli import cli, demo_cmd

    seen = []
    monkeypatch.setattr(demo_cmd, "video_demo", lambda workdir, **_: seen.append(workdir) or sys.exit(0))
    return CliRunner().invoke(cli, ["demo", "-o", str(out)]), seen


def _a_run_folder(path):
    from extract.sources import mark_output

    (path / "features").mkdir(parents=True)
    (path / "scores").mkdir()
    (path / "scores" / "segments.csv").write_text("video,category,group,clip,start_frame,end_frame,score\n")
    mark_output(path)
    return path


@pytest.mark.parametrize("make, says, status", [
    (_a_run_folder, "is a `videoad run` output folder (.videoad-output, features, scores)", 2),
    (lambda p: p.mkdir() or (p / "notes.txt").write_text("mine") and p, "holds other files (notes.txt)", 2),
    (lambda p: p.parent.joinpath("a file").write_text("x") and p.parent / "a file" / "sub",
     "a file' is a file, not a folder", 2)])
def test_the_demo_refuses_a_folder_that_is_not_new_empty_or_a_demo(tmp_path, monkeypatch, make, says, status):
    """`videoad demo -o RUN` added its videos to a `videoad run` folder's store, wrote its scores over
    the run's and stopped in a traceback; -o under a file was a NotADirectoryError traceback (then exit 1
    where -o naming the file was 2: now 2 alike)."""
    out = make(tmp_path / "out")
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    res, seen = _demo_into(tmp_path, monkeypatch, out)
    assert res.exit_code == status and says in res.output and str(out) in res.output, res.output
    assert "Traceback" not in res.output and not seen
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


def test_the_demo_library_call_refuses_a_run_folder_before_writing(tmp_path, monkeypatch):
    from videoad import synth
    from videoad.cli.demo_cmd import video_demo

    monkeypatch.setattr(synth, "generate", lambda *a, **k: pytest.fail("the demo generated into a run folder"))
    with pytest.raises(ValueError, match="is a `videoad run` output folder"):
        video_demo(_a_run_folder(tmp_path / "run"))


@pytest.mark.parametrize("earlier", [
    lambda p: None,  # a new folder
    lambda p: p.mkdir(),  # an empty one
    lambda p: p.mkdir() or (p / ".DS_Store").write_bytes(b"\0") or (p / "Thumbs.db").write_bytes(b"\0"),  # as empty
    # a demo killed after its first videos: its mark, and a demo from before the mark: its annotations
    lambda p: (p / "data" / "videos" / "Normal").mkdir(parents=True) or (p / ".videoad-demo").write_text(""),
    lambda p: (p / "data").mkdir(parents=True) or (p / "data" / "Temporal_Anomaly_Annotation.txt").write_text("")])
def test_the_demo_takes_a_new_empty_or_earlier_demo_folder(tmp_path, monkeypatch, earlier):
    earlier(tmp_path / "d")
    res, seen = _demo_into(tmp_path, monkeypatch, tmp_path / "d")
    assert res.exit_code == 0 and seen == [tmp_path / "d"], res.output
    assert (tmp_path / "d" / ".videoad-demo").is_file()


@pytest.mark.parametrize("reason, words", [
    ("max_reselections", "the selection was still changing when its 10 reselection(s) ran out"),
    ("converged", "the selection settled after 10 reselection(s)")])
def test_the_digits_demo_says_why_the_fit_stopped_in_words(reason, words, monkeypatch):
    """`demo --data digits` printed DUAD's internal stop reason, `(max_reselections after 10
    reselections)`, a parameter's name; it says what happened."""
    from click.testing import CliRunner

    from videoad.cli import cli, demo_cmd

    monkeypatch.setattr(demo_cmd, "digits_demo", lambda seed: {
        "rows": 190, "anomalies": 10, "duad_auroc": 0.9, "pca_auroc": 0.8, "stop_reason": reason, "reselections": 10})
    res = CliRunner().invoke(cli, ["demo", "--data", "digits"])
    assert res.exit_code == 0, res.output
    assert f"DUAD AUROC 0.9000 ({words}); PCA-8 AUROC 0.8000" in res.output and reason not in res.output


def _demo_stopping_at_extraction(tmp_path, monkeypatch, extraction, out="out"):
    """`videoad demo -o OUT` with the extraction stood in for by `extraction` (no footage generated)."""
    from click.testing import CliRunner

    import extract.run
    from videoad import synth
    from videoad.cli import cli

    fake = type("Dataset", (), {"videos": [], "root": tmp_path / out / "data"})()
    monkeypatch.setattr(synth, "generate", lambda *a, **k: fake)
    monkeypatch.setattr(extract.run, "extract_videos", extraction)
    return CliRunner().invoke(cli, ["demo", "-o", str(tmp_path / out)])


def test_a_demo_whose_extraction_fails_says_what_failed_in_one_line(tmp_path, monkeypatch):
    """A full or unwritable output (OutputError), or videos that fail to extract (RuntimeError),
    ended `videoad demo` in a traceback; now each is an error naming what failed, exit status 1."""
    import errno

    from extract.store import OutputError

    def full(*a, **k):
        raise OutputError(errno.ENOSPC, f"cannot write {tmp_path / 'out' / 'features'}: no space left on the device")

    res = _demo_stopping_at_extraction(tmp_path, monkeypatch, full)
    assert res.exit_code == 1 and "Traceback" not in res.output and not isinstance(res.exception, OutputError)
    assert f"Error: cannot write {tmp_path / 'out' / 'features'}: no space left" in res.output, res.output

    failed = type("Summary", (), {"ok": False, "report": lambda self: "a.avi: failed: cannot decode"})()
    res = _demo_stopping_at_extraction(tmp_path, monkeypatch, lambda *a, **k: failed)
    assert res.exit_code == 1 and not isinstance(res.exception, RuntimeError), res.output
    assert f"Error: feature extraction into {tmp_path / 'out' / 'features'} failed:\na.avi: failed: cannot decode" \
        in res.output


def test_a_failed_demos_summary_keeps_its_lines_and_the_folders_line_feed_is_escaped(tmp_path, monkeypatch):
    """The demo's error is several lines on purpose (the headline, then extract's summary); every other
    error is written on one line, and the headline's folder, holding a line feed, printed a forged line
    (`FAKE/features failed:`) of its own."""
    report = "0 done, 0 skipped (already complete), 1 failed\nfailed:\n  a\\nb.avi: cannot decode"
    failed = type("Summary", (), {"ok": False, "report": lambda self: report})()
    res = _demo_stopping_at_extraction(tmp_path, monkeypatch, lambda *a, **k: failed, out="o\nFAKE")
    assert res.exit_code == 1, res.output
    lines = res.output.splitlines()
    start = lines.index(f"Error: feature extraction into {tmp_path}/o\\nFAKE/features failed:")
    assert lines[start + 1:] == ["0 done, 0 skipped (already complete), 1 failed", "failed:", "  a\\nb.avi: cannot decode"]


def test_a_second_demo_into_the_same_folder_is_refused_while_the_first_runs(tmp_path, monkeypatch):
    """Two `videoad demo -o X` at once wrote over each other's videos, features and scores: the
    demo now holds its folder as run and detect hold theirs (videoad.output_lock)."""
    from video_helpers import holding_folder

    (tmp_path / "out").mkdir()
    (tmp_path / "out" / ".videoad-demo").write_bytes(b"")  # the first demo's folder
    holder = holding_folder(tmp_path / "out", command="videoad demo")
    try:
        res = _demo_stopping_at_extraction(tmp_path, monkeypatch, lambda *a, **k: pytest.fail("extracted"))
    finally:
        holder.kill()
        holder.wait()
    assert res.exit_code == 1, res.output
    assert f"{tmp_path / 'out'}: another videoad is writing this folder now (pid {holder.pid}, videoad demo" \
        in res.output
