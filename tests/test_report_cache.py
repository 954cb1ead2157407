"""A rerun of the report (or of `plot` into its folder) draws only the timelines whose drawing
inputs changed (videoad.output_keys): over a dataset the timelines were most of a rerun's time."""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

import videoad.plots as plots
from videoad.datasets.annotations import Annotations, VideoAnnotation
from videoad.plots import plot_run, shared_ylim
from videoad.report import build_report
from videoad.scores import ScoreSet, VideoScores
from videoad.output_keys import TIMELINE_KEYS as KEYS


def _video(name: str, peak_at: int | None, n_clips: int = 24) -> VideoScores:
    scores = np.full(n_clips, 0.1) + 0.001 * np.arange(n_clips)
    if peak_at is not None:
        scores[peak_at:peak_at + 3] = 0.6
    starts = np.arange(n_clips) * 8
    return VideoScores(name, scores, np.stack([starts, starts + 15], 1), int(starts[-1]) + 16, 10.0, "X", "all", "",
                       0.3)


def _scores() -> ScoreSet:
    return ScoreSet([_video("cam/a.avi", 4), _video("cam/b.avi", 12), _video("cam/c.avi", None)], {})


@pytest.fixture()
def drawn(monkeypatch):
    """The videos whose timelines are drawn, in order, as they are drawn."""
    seen: list[str] = []
    real = plots.draw_timeline

    def spy(v, path, **kw):
        seen.append(v.video)
        return real(v, path, **kw)

    monkeypatch.setattr(plots, "draw_timeline", spy)
    return seen


def _report(scores, folder, drawn, **kw) -> list[str]:
    drawn.clear()
    build_report(scores, folder, clips=False, **kw)
    return sorted(drawn)


def _files(folder: Path) -> dict[str, bytes]:
    """The report's page and every file of its timelines/, by name."""
    return {"index.html": (folder / "index.html").read_bytes(),
            **{f"timelines/{p.name}": p.read_bytes() for p in (folder / "timelines").iterdir()}}


def _files_of_fresh(scores, folder, drawn) -> dict[str, bytes]:
    """`_files` of a report written afresh into `folder`."""
    _report(scores, folder, drawn)
    return _files(folder)


def test_an_unchanged_rerun_draws_no_timeline(tmp_path, drawn):
    first = _report(_scores(), tmp_path / "r", drawn)
    assert first == ["cam/a.avi", "cam/b.avi", "cam/c.avi"]
    before = _files(tmp_path / "r")
    assert _report(_scores(), tmp_path / "r", drawn) == []
    assert _files(tmp_path / "r") == before


def test_changing_one_videos_scores_redraws_that_one_only(tmp_path, drawn):
    _report(_scores(), tmp_path / "r", drawn)
    changed = _scores()
    changed.videos[2].scores[5] = 0.2  # under its alarm line, inside the shared y-range
    assert shared_ylim(changed.videos) == shared_ylim(_scores().videos)
    assert _report(changed, tmp_path / "r", drawn) == ["cam/c.avi"]


def test_a_new_shared_y_range_redraws_every_timeline(tmp_path, drawn):
    """Every timeline is drawn on the run's one y-range: a peak above it changes all the pictures."""
    _report(_scores(), tmp_path / "r", drawn)
    assert _report(_scores(), tmp_path / "r", drawn) == []
    higher = _scores()
    higher.videos[0].scores[4] = 0.9
    assert shared_ylim(higher.videos) != shared_ylim(_scores().videos)
    assert _report(higher, tmp_path / "r", drawn) == ["cam/a.avi", "cam/b.avi", "cam/c.avi"]
    assert _files(tmp_path / "r") == _files_of_fresh(higher, tmp_path / "fresh", drawn)


def test_a_cached_rerun_writes_what_a_fresh_report_writes(tmp_path, drawn):
    """Byte for byte: the kept pictures, the redrawn one, the key file and the page (whose marks
    are placed by the kept geometry)."""
    _report(_scores(), tmp_path / "r", drawn)
    changed = _scores()
    changed.videos[1].scores[2] = 0.25
    assert _report(changed, tmp_path / "r", drawn) == ["cam/b.avi"]
    fresh = _files_of_fresh(changed, tmp_path / "fresh", drawn)
    assert _files(tmp_path / "r") == fresh and f"timelines/{KEYS}" in fresh


def test_a_deleted_or_corrupted_picture_is_drawn_again(tmp_path, drawn):
    _report(_scores(), tmp_path / "r", drawn)
    tl = tmp_path / "r" / "timelines"
    (tl / "cam_a.avi.png").unlink()
    (tl / "cam_b.avi.png").write_bytes(b"\x89PNG cut short")
    assert _report(_scores(), tmp_path / "r", drawn) == ["cam/a.avi", "cam/b.avi"]
    assert _files(tmp_path / "r") == _files_of_fresh(_scores(), tmp_path / "fresh", drawn)


@pytest.mark.parametrize("damage", ["garbage", "other format", "wrong key", "not a dict", "deleted"])
def test_a_missing_or_corrupted_key_file_redraws_without_an_error(tmp_path, drawn, damage):
    _report(_scores(), tmp_path / "r", drawn)
    keys = tmp_path / "r" / "timelines" / KEYS
    data = json.loads(keys.read_text())
    if damage == "garbage":
        keys.write_bytes(b"\x00{not json")
    elif damage == "other format":
        keys.write_text(json.dumps({**data, "format": 99}))
    elif damage == "wrong key":
        data["pictures"]["cam_c.avi.png"]["key"] = "0" * 64
        keys.write_text(json.dumps(data))
    elif damage == "not a dict":
        data["pictures"]["cam_c.avi.png"]["geometry"] = [1, 2]
        keys.write_text(json.dumps(data))
    else:
        keys.unlink()
    again = ["cam/c.avi"] if damage in ("wrong key", "not a dict") else ["cam/a.avi", "cam/b.avi", "cam/c.avi"]
    assert _report(_scores(), tmp_path / "r", drawn) == again
    assert _report(_scores(), tmp_path / "r", drawn) == []  # the key file written anew
    assert _files(tmp_path / "r") == _files_of_fresh(_scores(), tmp_path / "fresh", drawn)


def test_new_annotations_redraw_only_the_videos_they_change(tmp_path, drawn):
    """A new annotation file: the videos whose bands (or whose legend's word) change."""
    def ann(b_interval):
        return Annotations({"cam/a": VideoAnnotation("cam/a", "X", ((20, 40),), None, "gt"),
                            "cam/b": VideoAnnotation("cam/b", "X", b_interval, None, "gt"),
                            "cam/c": VideoAnnotation("cam/c", "X", (), None, "gt")}, "gt.txt")

    assert len(_report(_scores(), tmp_path / "r", drawn, annotations=ann(()))) == 3
    assert _report(_scores(), tmp_path / "r", drawn, annotations=ann(((50, 90),))) == ["cam/b.avi"]
    assert len(_report(_scores(), tmp_path / "r", drawn)) == 3  # no file now: none says "ground truth"


def test_a_change_to_the_drawing_redraws_every_timeline(tmp_path, drawn, monkeypatch):
    _report(_scores(), tmp_path / "r", drawn)
    monkeypatch.setattr(plots, "DRAWING_VERSION", plots.DRAWING_VERSION + 1)
    assert len(_report(_scores(), tmp_path / "r", drawn)) == 3
    import matplotlib

    with matplotlib.rc_context({"lines.linewidth": 3.0}):  # matplotlib's settings are keyed too
        assert len(_report(_scores(), tmp_path / "r", drawn)) == 3


def test_a_change_anywhere_in_the_code_redraws_every_timeline(tmp_path, drawn, monkeypatch):
    """The key held plots.py's source alone: an upgrade that changed events.fmt_score (every number
    on a timeline) kept every picture with the old numbers beside a page with the new."""
    from videoad import output_keys

    code = tmp_path / "code"
    (code / "videoad").mkdir(parents=True)
    (code / "videoad" / "events.py").write_text("def fmt_score(x):\n    return f'{x:.3f}'\n")
    before = output_keys.code_digest((str(code),))
    (code / "videoad" / "events.py").write_text("def fmt_score(x):\n    return f'{x:.2f}'\n")
    assert output_keys.code_digest((str(code),)) == before  # read once per process
    output_keys.code_digest.cache_clear()
    assert output_keys.code_digest((str(code),)) != before
    (code / "videoad" / "new.py").write_text("")
    output_keys.code_digest.cache_clear()
    assert output_keys.code_digest((str(code),)) != before  # a module added counts too
    _report(_scores(), tmp_path / "r", drawn)
    from videoad.evidence import making_environment

    events_before = making_environment(clips=False)
    monkeypatch.setattr(output_keys, "code_digest", lambda roots=None: "another version's code")
    assert len(_report(_scores(), tmp_path / "r", drawn)) == 3
    assert making_environment(clips=False) != events_before  # the events' pictures and clips likewise


def test_a_video_gone_from_the_run_leaves_no_picture_and_no_key(tmp_path, drawn):
    """The report removes a previous run's timelines; its key file stays, without their keys."""
    _report(_scores(), tmp_path / "r", drawn)
    two = _scores()
    two.videos = two.videos[:2]
    assert _report(two, tmp_path / "r", drawn) == []
    tl = tmp_path / "r" / "timelines"
    assert sorted(p.name for p in tl.iterdir()) == sorted([KEYS, "cam_a.avi.png", "cam_b.avi.png"])
    assert sorted(json.loads((tl / KEYS).read_text())["pictures"]) == ["cam_a.avi.png", "cam_b.avi.png"]
    _report(_scores(), tmp_path / "r", drawn, fmt="svg")  # another format: every picture drawn, the PNGs gone
    assert sorted(p.suffix for p in tl.iterdir() if p.name != KEYS) == [".svg"] * 3
    assert sorted(json.loads((tl / KEYS).read_text())["pictures"]) == [
        "cam_a.avi.svg", "cam_b.avi.svg", "cam_c.avi.svg"]


def test_plot_into_a_folder_keeps_its_unchanged_timelines_too(tmp_path, drawn):
    """`videoad plot` draws through the same `draw_timelines`: the same keys, in its folder; a
    `--video` replot keeps the other videos' keys."""
    drawn.clear()
    plot_run(_scores(), tmp_path / "p", thumbnails=0)
    assert len(drawn) == 3
    drawn.clear()
    plot_run(_scores(), tmp_path / "p", thumbnails=0, videos=["cam/b.avi"])
    assert drawn == []
    changed = _scores()
    changed.videos[0].scores[9] = 0.2
    plot_run(changed, tmp_path / "p", thumbnails=0)
    assert drawn == ["cam/a.avi"]
    assert len(json.loads((tmp_path / "p" / KEYS).read_text())["pictures"]) == 3


def test_peak_frames_are_kept_by_their_footage_and_drawn_again_where_missing(tmp_path, drawn):
    """`plot` shows peak frames read from the footage: a picture is kept while the video file is
    the same (path, size, time); one whose frames could not be read is drawn each time."""
    pytest.importorskip("av")
    from videoad.synth import SceneConfig, render_video, write_video

    frames, _ = render_video(None, seed=0, cfg=SceneConfig(n_frames=200))
    src = write_video(tmp_path / "footage" / "a.avi", frames, 10.0)
    scores = _scores()
    scores.videos[0].source = str(src)  # b and c have none: "thumbnails unavailable"
    drawn.clear()
    plot_run(scores, tmp_path / "p", thumbnails=1)
    assert len(drawn) == 3
    drawn.clear()
    plot_run(scores, tmp_path / "p", thumbnails=1)
    assert drawn == ["cam/b.avi", "cam/c.avi"]
    st = os.stat(src)
    os.utime(src, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))  # the file replaced
    drawn.clear()
    plot_run(scores, tmp_path / "p", thumbnails=1)
    assert drawn == ["cam/a.avi", "cam/b.avi", "cam/c.avi"]


def test_a_kept_timeline_still_warns_of_an_interval_past_its_videos_end(tmp_path, drawn, caplog):
    """The warning that an annotated interval ends far past the video (labels of another frame rate
    or video) came from drawing the bands: a replot that kept the picture said nothing."""
    ann = Annotations({"cam/a": VideoAnnotation("cam/a", "X", ((150, 400),), None, "gt")}, "gt.txt")
    for run in range(2):
        caplog.clear()
        drawn.clear()
        with caplog.at_level("WARNING"):
            plot_run(_scores(), tmp_path / "p", annotations=ann, thumbnails=0)
        assert len(drawn) == (3 if run == 0 else 0)
        said = [r.getMessage() for r in caplog.records if "after the video's last frame" in r.getMessage()]
        assert len(said) == 1 and "'cam/a'" in said[0], said
