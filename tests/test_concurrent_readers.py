"""A reader beside a writer of the same folder: `report`/`plot`/`evaluate` reading a scores folder
that a `detect` rewrites, `detect --model`/`watch` loading a model folder that a `--save-model`
rewrites. The reader takes one whole version or is refused naming the writer; the interleaving is
made by the reader's own hook (the writer runs inside its read), never by timing."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from video_helpers import FAST_DUAD, holding_folder, small_store

from videoad.events import EventSettings, read_settings, write_scores_and_events
from videoad.scores import ScoreSet, ScoresError, VideoScores, read_scores, write_scores


def _run(seed: int, marker: str) -> ScoreSet:
    """One run's scores of two videos with cells (2x2); `marker` tells the runs apart in run.json."""
    rng = np.random.default_rng(seed)
    videos = []
    for name in ("a.mp4", "b.mp4"):
        starts = np.arange(12) * 4
        videos.append(VideoScores(name, rng.uniform(0, 1, 12), np.stack([starts, starts + 15], 1), 64, 10.0,
                                  threshold=float(rng.uniform(0.5, 0.9)), cells=rng.uniform(0, 1, (12, 4))))
    return ScoreSet(videos, {"cell_grid": [2, 2], "marker": marker})


def test_a_scores_folder_rewritten_while_it_is_read_is_read_as_one_run(tmp_path, monkeypatch):
    """A detect rewriting the folder between the reader's segments.csv and its cells.h5: the
    reader took run A's run.json and segments beside run B's cells, in silence (a report's heat
    maps from another detector than its scores). Now it reads the folder again: run B whole."""
    import videoad.scores as scores_mod

    folder = tmp_path / "scores"
    write_scores(folder, _run(0, "A"))
    new = _run(1, "B")
    read_segments = scores_mod._read_segments
    calls = []

    def rewritten_after_reading(*args, **kwargs):
        rows = read_segments(*args, **kwargs)
        calls.append(1)
        if len(calls) == 1:  # the other process's detect, between this read and the next
            write_scores(folder, new)
        return rows

    monkeypatch.setattr(scores_mod, "_read_segments", rewritten_after_reading)
    got = read_scores(folder)
    assert got.meta["marker"] == "B"
    for v, w in zip(got.videos, new.videos):
        np.testing.assert_array_equal(v.scores, w.scores)
        np.testing.assert_allclose(v.cells, w.cells, rtol=1e-6)
        assert v.threshold == w.threshold


def test_a_scores_folder_that_keeps_changing_is_refused_naming_its_writer(tmp_path, monkeypatch):
    """Rewritten during every attempt: refused, naming the folder and the detect writing it."""
    import videoad.scores as scores_mod

    folder = tmp_path / "scores"
    write_scores(folder, _run(0, "A"))
    read_segments = scores_mod._read_segments
    runs = iter(range(1, 10))

    def always_rewritten(*args, **kwargs):
        rows = read_segments(*args, **kwargs)
        write_scores(folder, _run(next(runs), "next"))
        return rows

    monkeypatch.setattr(scores_mod, "_read_segments", always_rewritten)
    holder = holding_folder(folder)
    try:
        with pytest.raises(ScoresError) as err:
            read_scores(folder)
    finally:
        holder.kill()
        holder.wait()
    assert f"{folder}: rewritten while it was read" in str(err.value)
    assert f"pid {holder.pid}, videoad detect" in str(err.value)


def _refused_while_held(folder: Path, args: list[str]) -> None:
    """`videoad ARGS` run while another process holds `folder` as a detect does: refused with exit
    status 1, naming the folder and that process, without a traceback."""
    from videoad.cli import cli

    holder = holding_folder(folder)
    try:
        res = CliRunner().invoke(cli, args)
    finally:
        holder.kill()
        holder.wait()
    assert res.exit_code == 1, res.output
    assert f"{folder}: another videoad is writing this folder now (pid {holder.pid}, videoad detect" in res.output
    assert "Traceback" not in res.output


@pytest.mark.parametrize("command", ["report", "plot", "evaluate"])
def test_a_reader_of_a_scores_folder_mid_rewrite_names_the_detect_writing_it(tmp_path, command):
    """run.json is removed first and written last: a report started in between said "not a scores
    folder, run.json is missing (write one with `videoad detect`)" while a detect was writing it."""
    folder = tmp_path / "scores"
    write_scores(folder, _run(0, "A"))
    (folder / "run.json").unlink()  # where a running detect's write_scores is
    (tmp_path / "truth.csv").write_text("video,start,end\na.mp4,1,10\n")
    args = {"report": ["-o", str(tmp_path / "r"), "--no-clips"], "plot": ["-o", str(tmp_path / "p")],
            "evaluate": ["--annotations", str(tmp_path / "truth.csv")]}[command]
    _refused_while_held(folder, [command, str(folder), *args])


def test_event_rules_are_those_of_the_run_read_not_of_a_rewrite_since(tmp_path):
    """`report`/`plot` read the event rules after the scores: a detect rewriting the folder in
    between gave run A's scores run B's merge gap and minimum length."""
    folder = tmp_path / "scores"
    write_scores_and_events(folder, _run(0, "A"), EventSettings(merge_gap_s=2.0, min_length_s=1.0))
    first = read_scores(folder)
    write_scores_and_events(folder, _run(1, "B"), EventSettings(merge_gap_s=9.0, min_length_s=4.0))
    settings = read_settings(first.path, first.meta)
    assert (settings.merge_gap_s, settings.min_length_s) == (2.0, 1.0)
    assert read_settings(folder).merge_gap_s == 9.0  # the folder alone: its own


def test_scoring_with_a_model_folder_refitted_meanwhile_uses_one_fit(tmp_path, monkeypatch):
    """`detect --model M` read models.json, then a `--save-model M` moved its new weights in
    before they were loaded: the new fit's weights scored under the old fit's alarm lines, in
    silence. Now the scoring is done again with the new fit whole (as scoring with it alone)."""
    from videoad import video
    from videoad.group_model import GroupModel

    store = tmp_path / "features"
    small_store(store)
    for seed, folder in ((0, "m"), (7, "m2")):
        video.detect(store, video.DetectConfig(mode="pooled", detector="duad", params=FAST_DUAD, min_clips=10,
                                               seed=seed), save_models=tmp_path / folder)
    expected = video.score(store, tmp_path / "m2")
    load = GroupModel.load.__func__
    loads = []

    def refitted_first(cls, entry, model_dir):
        loads.append(1)
        if len(loads) == 1:  # the refit publishes: the old index goes, the files move in, the index last
            (tmp_path / "m" / "models.json").unlink()
            for f in sorted((tmp_path / "m2").iterdir()):
                if f.name != "models.json" and f.is_file():
                    shutil.copy(f, tmp_path / "m" / f.name)
            shutil.copy(tmp_path / "m2" / "models.json", tmp_path / "m" / "models.json")
        return load(cls, entry, model_dir)

    monkeypatch.setattr(GroupModel, "load", classmethod(refitted_first))
    got = video.score(store, tmp_path / "m")
    assert [v.threshold for v in got.videos] == [v.threshold for v in expected.videos]
    for v, w in zip(got.videos, expected.videos):
        np.testing.assert_allclose(v.scores, w.scores, rtol=1e-6)


def test_watch_on_a_model_folder_mid_refit_names_the_detect_writing_it(tmp_path):
    """models.json is removed first and written last by a `--save-model`: a watch started in
    between was told to fit the models again, with the fit running beside it."""
    models = tmp_path / "m"
    models.mkdir()
    (models / "all.s0.pt").write_bytes(b"")  # the staged files moving in
    source = tmp_path / "cam.mp4"
    source.write_bytes(b"\0" * 64)
    _refused_while_held(models, ["watch", str(source), "--model", str(models), "-o", str(tmp_path / "w")])


def test_a_folder_this_process_writes_is_read_without_asking_its_lock(tmp_path):
    """`videoad run` holds its scores folder and reads it back for the report: its own lock is no
    other writer (a probe of it from this process would have found it taken)."""
    from videoad.output_lock import output_lock, writer_of

    folder = tmp_path / "scores"
    with output_lock(folder, command="videoad run"):
        assert writer_of(folder) is None
        write_scores(folder, _run(0, "A"))
        assert read_scores(folder).meta["marker"] == "A"


@pytest.mark.parametrize("command", ["videoad extract", "videoad extract --shard 1/2"])
def test_a_store_an_extraction_is_filling_now_is_named_so_not_as_one_to_rerun(tmp_path, command):
    """`detect` on a store while its `extract` ran said 'its extraction did not finish ... rerun
    the same `videoad extract` command' (a rerun is refused while the first runs): now it names
    the extraction running and says to score again when it finishes."""
    import json

    from extract.manifest import FORMAT, MANIFEST
    from video_helpers import fake_video
    from videoad.video.groups import unfinished

    store = tmp_path / "features"
    fake_video(store, "a.mp4", 20)
    (store / MANIFEST).write_text(json.dumps({"format": FORMAT, "complete": False, "keys": ["a.mp4", "b.mp4"], "videos": {}}))
    assert "rerun the same `videoad extract`" in unfinished(store)  # none running: as before
    holder = holding_folder(store, command, shared="--shard" in command)
    try:
        note = unfinished(store)
    finally:
        holder.kill()
        holder.wait()
    assert f"an extraction is writing it now (pid {holder.pid}, {command}, since" in note
    assert "1 of 2 videos have features so far" in note and "rerun" not in note


def test_a_writer_starting_at_a_readers_probe_waits_it_out(tmp_path):
    """`writer_of` takes the folder's lock for an instant to see whether a writer holds it; a writer
    starting at that instant was refused as if another videoad wrote the folder. A lock held for
    longer than that instant is still refused, naming its holder."""
    import fcntl
    import os
    import threading

    from videoad.output_lock import LOCK_FILE, FolderBusyError, output_lock

    folder = tmp_path / "scores"
    folder.mkdir()
    probe = os.open(folder / LOCK_FILE, os.O_RDWR | os.O_CREAT)
    fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as writer_of's probe holds it
    threading.Timer(0.1, os.close, [probe]).start()
    with output_lock(folder, command="videoad detect"):
        pass
    held = os.open(folder / LOCK_FILE, os.O_RDWR)
    os.write(held, b"pid 1, videoad detect -o scores\n")
    fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
    try:
        with pytest.raises(FolderBusyError, match="pid 1, videoad detect -o scores"):
            with output_lock(folder, command="videoad detect"):
                pass
    finally:
        os.close(held)


def test_a_readers_probe_is_not_taken_for_a_writer_by_another_reader(tmp_path):
    """Two readers of one folder found mid-rewrite probe its lock (`writer_of`) at the same instant:
    the second took the first's probe for a writer and named the lock file's note, that of a writer
    finished long ago, as writing now (`read_whole` refused the folder instead of reading it). A
    writer holding the lock is still named."""
    import fcntl
    import os
    import threading

    from videoad.output_lock import LOCK_FILE, output_lock, read_whole, writer_of

    folder = tmp_path / "scores"
    folder.mkdir()
    (folder / LOCK_FILE).write_text("pid 4242, videoad detect -o scores, since 2026-12-06 03:00:00\n")  # gone

    def probed(call):
        probe = os.open(folder / LOCK_FILE, os.O_RDONLY)
        fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as the other reader's writer_of holds it
        threading.Timer(0.1, os.close, [probe]).start()
        return call()

    assert probed(lambda: writer_of(folder)) is None

    def read():
        raise FileNotFoundError(f"{folder / 'run.json'}: no such file")

    with pytest.raises(FileNotFoundError, match="run.json: no such file"):  # read()'s own error, no writer named
        probed(lambda: read_whole(folder, folder / "run.json", read))
    holder = holding_folder(folder, "videoad detect -o scores")
    try:
        assert f"pid {holder.pid}, videoad detect -o scores" in writer_of(folder)
    finally:
        holder.kill()
        holder.wait()
    with output_lock(folder, command="videoad detect"):
        assert writer_of(folder) is None  # this process's own
