"""--workers beyond the work or the cores: the runner starts one decode worker per video to extract at
most, and says so in one line, as it does when more start than there are cores (the figures are in
docs/throughput.md, 'Large --workers, --batch-size, --prefetch')."""
from __future__ import annotations

import logging

from _extract_media import make_video
from extract.backbones.motion import MotionBackbone
from extract.run import ExtractOptions, _Runner, extract_videos
from videoad.extract_config import load


def test_workers_beyond_the_videos_are_not_started_and_the_run_says_so(tmp_path, caplog, monkeypatch):
    for name in ("a.mp4", "b.mp4"):
        make_video(tmp_path / "in" / name, 20)
    spawned = []
    real_spawn = _Runner._spawn
    monkeypatch.setattr(_Runner, "_spawn", lambda self: spawned.append(1) or real_spawn(self))
    with caplog.at_level(logging.WARNING, logger="extract.run"):
        summary = extract_videos(tmp_path / "in", tmp_path / "out", MotionBackbone(size="64x48", grid=2),
                                 ExtractOptions(workers=5, stride=16, max_fps=0, progress=False))
    assert summary.ok and len(spawned) == 2
    notes = [r.getMessage() for r in caplog.records if "decode workers" in r.getMessage()]
    assert len(notes) == 1 and "5 decode workers asked for, 2 started" in notes[0], notes
    assert "\n" not in notes[0]

    caplog.clear()  # a rerun with nothing left to do starts none and has nothing to say of them
    with caplog.at_level(logging.WARNING, logger="extract.run"):
        extract_videos(tmp_path / "in", tmp_path / "out", MotionBackbone(size="64x48", grid=2),
                       ExtractOptions(workers=5, stride=16, max_fps=0, progress=False))
    assert not [r for r in caplog.records if "decode workers" in r.getMessage()]


def test_the_note_names_workers_beyond_the_cores_and_is_silent_at_the_defaults():
    from extract.run import workers_note

    assert workers_note(2, 8, cores=2) is None
    assert workers_note(2, 1, cores=2) == ("note: 2 decode workers asked for, 1 started: one video is decoded "
                                           "by one worker, and 1 video(s) need extracting")
    assert "8 decode workers on 2 core(s)" in workers_note(64, 8, cores=2)
    assert "64 decode workers asked for, 8 started" in workers_note(64, 8, cores=2)
    assert workers_note(8, 8, cores=2).startswith("note: 8 decode workers on 2 core(s) take turns")
    assert workers_note(4, 0, cores=2) is None


def test_a_settings_file_with_too_many_workers_is_refused_naming_the_file(tmp_path):
    path = tmp_path / "extract.yaml"
    path.write_text("workers: 100000\n")
    try:
        load(path)
    except ValueError as exc:
        assert str(path) in str(exc) and "workers" in str(exc) and "1024" in str(exc), exc
    else:
        raise AssertionError("100000 workers accepted")
