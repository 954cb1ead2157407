"""What a folder holds, as the commands' output checks read it (`videoad.output_kinds`): the kinds
videoad writes are told apart, and a user's own folders, a rewrite a kill cut short and older run
folders are not taken for another kind (the regression review's false refusals)."""
from __future__ import annotations

import json

import h5py
import numpy as np
import pytest
import yaml
from click.testing import CliRunner
from video_helpers import FAST_DUAD, fake_video, small_store

from extract.manifest import FORMAT
from extract.sources import mark_output
from videoad import output_kinds as kinds
from videoad.cli import cli


def test_each_kind_is_told_and_a_users_folders_are_none(tmp_path):
    store = tmp_path / "store"
    small_store(store)
    assert kinds.folder_kind(store) == kinds.FEATURES and kinds.folder_kind(store, files=False) is None
    (store / "manifest.json").write_text(json.dumps({"format": FORMAT, "videos": {}}))
    assert kinds.folder_kind(store, files=False) == kinds.FEATURES
    cut = tmp_path / "cut"  # a scores rewrite a kill cut short: run.json goes first, comes last
    cut.mkdir()
    (cut / "segments.csv").write_text("video,start,end,score\n")
    with h5py.File(cut / "cells.h5", "w") as f:
        f["x"] = np.zeros(3)
    assert kinds.folder_kind(cut) == kinds.SCORES
    project = tmp_path / "project"  # a folder beside its features/ (a store of its own) is none
    (project / "features").mkdir(parents=True)
    (project / "features" / "manifest.json").write_text(json.dumps({"format": FORMAT, "videos": {}}))
    small_store(project / "features")
    assert kinds.folder_kind(project) is None
    user = tmp_path / "user"  # an HDF5 file of the user's, another tool's manifest.json
    (user / "sub").mkdir(parents=True)
    with h5py.File(user / "sub" / "weights.h5", "w") as f:
        f["w"] = np.zeros(3)
    (user / "manifest.json").write_text(json.dumps({"files": ["a.mp4"]}))
    assert kinds.folder_kind(user) is None
    old_run = tmp_path / "old-run"  # a run folder of a version that left no mark
    for sub in ("features", "scores"):
        (old_run / sub).mkdir(parents=True)
    assert kinds.folder_kind(old_run) == kinds.RUN
    imported = tmp_path / "imported-project"  # beside a flat imported store (no manifest: its mark)
    fake_video(imported / "features", "v.mp4", 20)
    assert kinds.folder_kind(imported) == kinds.FEATURES  # an unmarked imported store two levels down
    (imported / "features" / kinds.STORE_MARK).touch()
    assert kinds.folder_kind(imported) is None and kinds.folder_kind(imported / "features") == kinds.FEATURES
    watched = tmp_path / "watched"
    mark_output(watched)
    (watched / "events.jsonl").write_text("")
    assert kinds.folder_kind(watched) == kinds.WATCH
    assert kinds.folder_kind(tmp_path / "none") is None


@pytest.fixture()
def scored(tmp_path):
    store = tmp_path / "features"
    small_store(store)
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(yaml.safe_dump({"mode": "pooled", "min_clips": 50, "seed": 1,
                                   "detector": {"name": "duad", "params": FAST_DUAD}}))
    res = CliRunner().invoke(cli, ["detect", str(store), "--config", str(cfg), "-o", str(tmp_path / "scores")])
    assert res.exit_code == 0, res.output
    return tmp_path, store, cfg


def test_reruns_and_a_users_folders_are_written_and_other_kinds_refused(scored, monkeypatch):
    tmp, store, cfg = scored
    # a rewrite a kill cut short (run.json gone): the rerun that mends it is taken
    (tmp / "scores" / "run.json").unlink()
    res = CliRunner().invoke(cli, ["detect", str(store), "--config", str(cfg), "-o", str(tmp / "scores")])
    assert res.exit_code == 0 and (tmp / "scores" / "run.json").is_file(), res.output
    # a report into the project folder beside its features and scores
    project = tmp / "project"
    project.mkdir()
    (tmp / "features").rename(project / "features")
    (project / "features" / "manifest.json").write_text(json.dumps({"format": FORMAT, "videos": {}}))
    monkeypatch.chdir(project)
    for _ in range(2):  # and again: the report's own folder beside features/ is a report, not a run folder
        res = CliRunner().invoke(cli, ["report", str(tmp / "scores"), "-o", ".", "--no-clips"])
        assert res.exit_code == 0 and (project / "index.html").is_file(), res.output
    # watch's rows under the scores' events.csv header, and beside a model folder's files: refused
    (tmp / "m").mkdir()
    res = CliRunner().invoke(cli, ["watch", str(project), "--model", str(tmp / "m"), "-o", str(tmp / "scores")])
    assert res.exit_code == 2 and "holds a scores folder, not a `videoad watch` output folder" in res.output
    inbox = tmp / "inbox"
    inbox.mkdir()
    res = CliRunner().invoke(cli, ["watch", f"cam={inbox}", "--model", str(tmp / "m"), "-o", str(inbox), "--once"])
    assert res.exit_code == 2 and f"-o {inbox} is SOURCE cam itself ({inbox})" in res.output, res.output


def test_an_output_that_is_an_input_is_a_usage_error_naming_both_paths_in_every_command(scored):
    """`-o` naming the input folder itself (here through a link to it) was exit 1 from `detect`,
    `plot`, `report`, `watch` and `import` and a usage error (exit 2) from `extract`: one check
    for all of them, exit 2, naming the option, the output as given and the input's path."""
    tmp, store, cfg = scored
    footage, inbox, npy, models = (tmp / n for n in ("footage", "inbox", "npy", "m"))
    for folder in (footage, inbox, npy, models):
        folder.mkdir()
    np.save(npy / "x.npy", np.ones((4, 8), np.float32))
    scores = tmp / "scores"
    for args, given, named in (
            (["detect", store, "--config", cfg], store, "FEATURES"),
            (["plot", scores], scores, "SCORES"),
            (["report", scores, "--no-clips"], scores, "SCORES"),
            (["extract", footage], footage, "INPUT"),
            (["import", "npy", npy, "--fps", "25"], npy, "SRC"),
            (["watch", f"cam={inbox}", "--model", models, "--once"], inbox, "SOURCE cam")):
        link = tmp / "link"
        link.unlink(missing_ok=True)
        link.symlink_to(given)  # the same folder spelled another way
        before = sorted(given.rglob("*"))
        res = CliRunner().invoke(cli, [str(a) for a in args] + ["-o", str(link)])
        assert res.exit_code == 2 and f"-o {link} is {named} itself ({given})" in res.output, (args, res.output)
        assert "Traceback" not in res.output and sorted(given.rglob("*")) == before, args  # nothing written


def _old_report_and_watch_output(root):
    """A report and a `watch` output as videoad wrote them before `.videoad-output` marked them: the
    report's page, assets, event clip and timelines; watch's events.jsonl and event pictures."""
    report = root / "analysis" / "report"
    (report / "events").mkdir(parents=True)
    (report / "timelines").mkdir()
    for name in ("index.html", "report.css", "report.js", "events.csv"):
        (report / name).write_text("x")
    (report / "events.json").write_text(json.dumps({"format": "videoad-events/1", "events": []}))
    (report / "events" / "E001.mp4").write_bytes(b"\0" * 64)
    for i in range(20):
        (report / "timelines" / f"cam_{i:02d}.avi.png").write_bytes(b"\0" * 64)
    first = root / "first_report"  # the first reports: a page and its timelines
    (first / "timelines").mkdir(parents=True)
    (first / "index.html").write_text("x")
    (first / "timelines" / "a.avi.png").write_bytes(b"\0" * 64)
    out = root / "OUT"
    (out / "events").mkdir(parents=True)
    (out / "events.jsonl").write_text(json.dumps({"type": "watch", "at": "2026-12-01T10:00:00+0000",
                                                  "sources": ["cam.avi"]}) + "\n")
    for i in range(20):
        (out / "events" / f"cam.avi-20261201-1000{i:02d}-E0001.jpg").write_bytes(b"\0" * 64)
    return report, first, out


def test_a_report_or_watch_output_written_before_the_mark_is_no_footage_and_no_other_kind(tmp_path):
    """An upgrade: the folders an older videoad wrote carry no `.videoad-output`. Its report's event
    clip was extracted as a video, its timelines/ and watch's events/ pictures as frame folders (a
    pooled fit over them moves the real videos' scores), and `detect -o` wrote scores into the old
    report, all in silence."""
    from extract.sources import find_sources

    (tmp_path / "cam.avi").write_bytes(b"\0" * 64)
    report, first, out = _old_report_and_watch_output(tmp_path)
    listing = find_sources(tmp_path, recursive=True)
    assert [s.key for s in listing.sources] == ["cam.avi"], [s.key for s in listing.sources]
    assert kinds.folder_kind(report) == kinds.REPORT and kinds.folder_kind(first) == kinds.REPORT
    assert kinds.folder_kind(out) == kinds.WATCH
    with pytest.raises(ValueError, match="holds a report"):
        kinds.check_output(report, kinds.SCORES, {})
    kinds.check_output(report, kinds.REPORT, {})  # a report rewritten where the old one was
    kinds.check_output(out, kinds.WATCH, {})  # and watch resuming into its old output
    # a folder of the user's own pictures or pages is still footage / no kind
    own = tmp_path / "frames"
    own.mkdir()
    (own / "index.html").write_text("x")
    for i in range(20):
        (own / f"{i:04d}.png").write_bytes(b"\0" * 64)
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "events.jsonl").write_text('{"type": "open"}\n')
    assert "frames" in [s.key for s in find_sources(tmp_path, recursive=True).sources]
    assert kinds.folder_kind(tmp_path / "notes") is None
