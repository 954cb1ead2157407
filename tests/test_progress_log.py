"""Progress where standard error is not a terminal (a log): a plain line now and then, no bar."""
from __future__ import annotations

from extract.progress import LogProgress


class Clock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t


def test_a_log_gets_a_line_at_most_once_a_minute_with_the_rate_and_time_left():
    """Redirected, the bars are off and `extract` said nothing for hours; a line at most every
    `every` seconds names the count, the share, the rate the bar shows beside it and the time left."""
    clock, lines = Clock(), []
    bar = LogProgress(total=0, unit="video", desc="extract", every=60, clock=clock, write=lines.append)
    bar.total += 1900
    clock.t += 30
    bar.update(60)
    assert lines == []  # not yet a minute
    clock.t += 30
    bar.set_postfix_str("41.0 clips/s", refresh=False)
    bar.update(60)
    assert lines == ["extract: 120/1900 videos, 6.3%, 41.0 clips/s, about 0:14:50 left"]
    for _ in range(50):  # many updates within the next minute: no line
        clock.t += 1
        bar.update(1)
    assert len(lines) == 1
    clock.t += 10
    bar.refresh()
    assert len(lines) == 2 and lines[1].startswith("extract: 170/1900 videos, 8.9%, 41.0 clips/s, about ")


def test_a_new_stage_is_said_at_once_and_counted_from_its_start():
    """`run`'s stages (extract, detect, report) each say their name when they begin; the steps of
    one stage (report: event 3 of 9) wait for the minute."""
    clock, lines = Clock(), []
    bar = LogProgress(total=100, unit="frame", desc="extract", every=60, clock=clock, write=lines.append)
    bar.update(100)
    bar.set_description_str("detect (duad, pooled)", refresh=True)
    assert lines == ["detect (duad, pooled)"]
    bar.set_description_str("report")
    bar.set_description_str("report: event 1 of 9")
    assert lines == ["detect (duad, pooled)", "report"]
    clock.t += 61
    bar.set_description_str("report: event 2 of 9")
    assert lines[-1] == "report: event 2 of 9"


def test_detect_in_a_log_says_the_groups_fitted(monkeypatch, capsys):
    """`videoad detect` redirected used the default executor, silent until its summary: it now
    writes the groups fitted as plain lines (here every call: EVERY_S 0)."""
    from extract import progress
    from videoad.cli.ray_opts import detect_executor

    monkeypatch.setattr(progress, "EVERY_S", 0.0)
    executor = detect_executor(None, None, None, 1)  # pytest's captured stderr: no terminal
    assert executor([(pow, (2, i)) for i in range(3)], 1) == [1, 2, 4]
    err = capsys.readouterr().err
    assert "fit and score: 3/3 groups, 100.0%" in err.splitlines() and "\r" not in err


def test_extract_in_a_log_says_its_progress_in_plain_lines(tmp_path, monkeypatch):
    """`videoad extract` redirected (CliRunner's stderr is no terminal) showed no bar and said
    nothing until its summary; it writes `extract: 1/2 videos, 50.0%, ...` lines (every call here:
    EVERY_S 0), never a bar's `\\r`; -q still says none."""
    from _extract_media import make_video
    from click.testing import CliRunner

    from extract import progress
    from videoad.cli.extract_cmd import extract as extract_cmd

    monkeypatch.setattr(progress, "EVERY_S", 0.0)
    for name in ("a.mp4", "b.mp4"):
        make_video(tmp_path / "in" / name, 20)
    args = ["--backbone-opt", "size=64x48", "--backbone-opt", "grid=2", "--stride", "16", "--max-fps", "0",
            "--workers", "1"]
    res = CliRunner().invoke(extract_cmd, [str(tmp_path / "in"), "-o", str(tmp_path / "out"), *args])
    assert res.exit_code == 0, res.output
    lines = res.stderr.splitlines()
    assert any(x.startswith("extract: 1/2 videos, 50.0%, ") and "clips/s" in x for x in lines), res.stderr
    assert "extract: 2/2 videos, 100.0%" in res.stderr and "\r" not in res.stderr
    res = CliRunner().invoke(extract_cmd, [str(tmp_path / "in"), "-o", str(tmp_path / "q"), *args, "-q"])
    assert res.exit_code == 0 and "extract: " not in res.stderr, res.stderr


def test_the_first_stage_is_said_though_the_bar_was_made_with_its_name():
    """`run` makes its display named "extract" and then sets that stage: a log said "extract
    (history)", "detect" and "report" but never the first stage, the longest."""
    clock, lines = Clock(), []
    bar = LogProgress(total=0, unit="frame", desc="extract", every=60, clock=clock, write=lines.append)
    bar.set_description_str("extract", refresh=True)
    bar.set_description_str("extract (history)", refresh=True)
    bar.set_description_str("extract (history)", refresh=True)
    assert lines == ["extract", "extract (history)"]
