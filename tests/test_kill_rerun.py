"""A kill at an exact point of a command's writes, or a disk that fills, then its rerun: the rerun
completes and leaves what a clean run leaves (benchmarks/kill_sweep.py kills at random moments and
before each write, and fills the disk at each; these are the points it found wrong, made
deterministic). The kill is a SIGKILL the child sends itself at the call named, so nothing of
Python's cleanup runs, as with a real one; the rerun runs here, as another process (another pid)
than the one killed. The full disk is a file-size limit in the child (RLIMIT_FSIZE): it fails the
writes C libraries make themselves (torch's, FFmpeg's) as a full disk does."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import _spawned
import numpy as np

from videoad.plots import LISTING, plot_run
from videoad.scores import ScoreSet, VideoScores, read_scores, writable_folder, write_scores

REPO = Path(__file__).resolve().parents[1]


def _in_child(hook: str, call: str) -> subprocess.CompletedProcess:
    """Run `call` in a child Python after `hook`, which may call `kill()` (a SIGKILL to itself)."""
    code = "import os, signal\ndef kill():\n    os.kill(os.getpid(), signal.SIGKILL)\n" + textwrap.dedent(hook) + \
        "\n" + textwrap.dedent(call)
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)


def _temporaries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp") or "write-check" in p.name)


def _scores(folder: Path) -> Path:
    videos = []
    for i, name in enumerate(("cam/a.avi", "cam/b.avi")):
        s = np.full(24, 0.1) + 0.001 * np.arange(24)
        s[4 + 8 * i:7 + 8 * i] = 0.6
        starts = np.arange(24) * 8
        videos.append(VideoScores(name, s, np.stack([starts, starts + 15], 1), 200, 10.0, "X", "all", "", 0.3))
    write_scores(folder, ScoreSet(videos, {"protocol": "transductive"}))
    return folder


def test_a_kill_while_plot_writes_its_listing_leaves_no_temporary_after_the_rerun(tmp_path):
    """The listing of which scores each timeline came from (plots.LISTING) was written through a
    temporary that no rerun cleared: a kill between its write and its rename left
    `..videoad-timelines.json.<pid>-<id>.tmp` in the folder for good."""
    scores, out = _scores(tmp_path / "scores"), tmp_path / "plots"
    done = _in_child(f"""
        real = os.replace
        def replace(src, dst, *a, **kw):
            if str(dst).endswith({LISTING!r}):
                kill()
            return real(src, dst, *a, **kw)
        os.replace = replace
        """, f"""
        from videoad.plots import plot_run
        from videoad.scores import read_scores
        plot_run(read_scores({str(scores)!r}), {str(out)!r}, thumbnails=0)
        """)
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert _temporaries(out), "the kill did not land between the listing's write and its rename"
    plot_run(read_scores(scores), out, thumbnails=0)  # the rerun
    fresh = tmp_path / "fresh"
    plot_run(read_scores(scores), fresh, thumbnails=0)
    assert _temporaries(out) == []
    assert {p.name: p.read_bytes() for p in out.iterdir()} == {p.name: p.read_bytes() for p in fresh.iterdir()}


def test_a_kill_between_the_write_check_and_its_removal_leaves_nothing_after_the_rerun(tmp_path):
    """`detect` (and `bench`) write an empty file into -o / --save-model before the fit, to fail at
    once where the folder cannot take the outputs; it was `.videoad-write-check-<pid>`, so a kill
    before its removal left it for good (a rerun has another pid)."""
    out = tmp_path / "scores"
    done = _in_child("""
        from pathlib import Path
        real = Path.unlink
        def unlink(self, *a, **kw):
            if "write-check" in self.name:
                kill()
            return real(self, *a, **kw)
        Path.unlink = unlink
        """, f"""
        from videoad.scores import writable_folder
        writable_folder({str(out)!r})
        """)
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert _temporaries(out), "the kill did not land between the check's write and its removal"
    writable_folder(out)  # the rerun's check
    assert list(out.iterdir()) == []


def _limited(limit: int):
    """For a child: files larger than `limit` bytes cannot be written (RLIMIT_FSIZE, its signal
    ignored so the write fails instead): a disk that fills, for Python's writes and for those C
    libraries make themselves (torch's model files) alike."""
    def apply():
        import resource

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
    return apply


def _contents(folder: Path) -> dict[str, bytes]:
    """The folder's files by name, but its lock (which names the latest holder)."""
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file() and p.name != ".videoad-lock"}


def _detect(tmp_path: Path, *args, limit: int | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "tests")]), "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "videoad", "detect", str(tmp_path / "features"), "--config",
                           str(tmp_path / "detect.yaml"), *map(str, args)], env=env, capture_output=True, text=True,
                          timeout=300, preexec_fn=_limited(limit) if limit else None)


def test_a_model_file_that_the_disk_cannot_take_fails_with_a_message_and_a_rerun_completes(tmp_path):
    """`detect --save-model` whose model file met a full disk ended in a traceback (torch's own writer
    raised RuntimeError "unexpected pos") and left the half file in the staging folder; the folder's
    earlier models must stay whole, and the rerun with space write the clean run's models."""
    from video_helpers import FAST_DUAD, small_store

    from videoad import video

    small_store(tmp_path / "features")
    cfg = video.DetectConfig(mode="pooled", detector="duad", params=FAST_DUAD, min_clips=10)
    (tmp_path / "detect.yaml").write_text(video.config_text(cfg))
    models = tmp_path / "models"
    older = _detect(tmp_path, "-o", tmp_path / "old", "--save-model", models, "--seed", "1")
    assert older.returncode == 0, older.stderr
    before = _contents(models)

    full = _detect(tmp_path, "-o", tmp_path / "scores", "--save-model", models, limit=1024)
    assert full.returncode == 1 and "Traceback" not in full.stderr, full.stderr
    assert "File too large" in full.stderr
    assert _contents(models) == before  # the older fit, whole
    assert not [p for p in models.rglob("*") if p.name.endswith(".tmp")]

    again = _detect(tmp_path, "-o", tmp_path / "scores", "--save-model", models)
    clean = _detect(tmp_path, "-o", tmp_path / "clean", "--save-model", tmp_path / "clean-models")
    assert again.returncode == 0 and clean.returncode == 0, again.stderr + clean.stderr
    got = video.score(tmp_path / "features", models, n_jobs=1)
    want = video.score(tmp_path / "features", tmp_path / "clean-models", n_jobs=1)
    assert [(v.video, v.threshold, v.scores.tolist()) for v in got] == \
        [(v.video, v.threshold, v.scores.tolist()) for v in want]


def test_a_clip_that_the_disk_cannot_take_leaves_no_half_clip(tmp_path):
    """`write_clip` on a full disk: the encoder's write failed, then closing the file (its trailer)
    failed as well, and that second error skipped the removal of the temporary: each event clip of
    a report on a full disk left its half file until the next report (checked on a 180 KiB tmpfs;
    a file-size limit fails the same writes here)."""
    out = tmp_path / "events"
    done = _in_child("", f"""
        import resource, sys
        import numpy as np
        from videoad.footage import clip_format, write_clip
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (20000, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
        frames = np.random.default_rng(0).integers(0, 255, (60, 120, 160, 3)).astype(np.uint8)
        try:
            write_clip(iter(frames), {str(out)!r} + "/E001" + clip_format()[0], 10)
        except OSError as exc:
            sys.exit(f"not written: {{exc}}")
        """)
    assert done.returncode == 1 and "not written" in done.stderr, done.stderr
    assert [p.name for p in out.iterdir()] == []


def test_a_spawned_process_starts_deaf_to_ctrl_c_and_the_main_process_keeps_its_handler():
    """A Ctrl-C (sent to the terminal's whole process group) that reached a decode worker while it
    was still starting, before it ignores SIGINT itself, printed the worker's traceback beside the
    main process's one-line 'interrupted' message: a process of `spawn_context` starts with SIGINT
    ignored."""
    from extract.spawning import spawn_context

    before = signal.getsignal(signal.SIGINT)
    with spawn_context().Pool(1) as pool:
        assert pool.apply(_spawned.sigint_ignored) is True  # the worker's SIGINT, from its first instruction on
    assert signal.getsignal(signal.SIGINT) is before  # the main process answers Ctrl-C as before


def test_every_process_the_project_spawns_comes_from_the_deaf_context():
    """The report's and plot's drawing pools, the event pictures' pool, DUAD's restart attempts and
    extract's decode workers each took multiprocessing's own "spawn" context: a Ctrl-C reaching one
    of their processes while it imported (a second or more) printed its traceback beside the one-line
    message. A new pool is to start from `extract.spawning` as well."""
    root = Path(__file__).resolve().parent.parent
    found = [f"{path.relative_to(root)}: {needle}" for pkg in ("videoad", "extract")
             for path in sorted((root / pkg).rglob("*.py")) if path.name != "spawning.py"
             for needle in ("get_context(", "ProcessPoolExecutor(", "mp.Process(", "multiprocessing.Process(")
             if needle in path.read_text(encoding="utf-8")]
    assert found == []


def test_the_timeline_and_event_picture_pools_are_deaf_to_ctrl_c(monkeypatch):
    """`videoad report` / `plot` draw in worker processes; a Ctrl-C while they started printed one
    traceback per worker (found by probing: `videoad plot` of 18 videos, Ctrl-C 2 s in)."""
    from videoad import evidence, plots

    monkeypatch.setattr(plots, "PARALLEL_FROM", 0)
    monkeypatch.setattr(plots, "_draw_job", _spawned.sigint_ignored)  # what the workers run, by name
    monkeypatch.setattr(evidence, "_video_job", _spawned.sigint_ignored)
    assert plots._draw([(None, None, {})] * 2, workers=2) == [True, True]
    assert list(evidence._each_video([()] * 2, workers=2)) == [True, True]


def test_a_restart_attempts_process_is_deaf_to_ctrl_c(monkeypatch):
    """DUAD's restart attempts run in spawned processes beside the first; the main process stops them
    (`Attempts.stop`) when a Ctrl-C ends the fit."""
    from videoad.detector import attempts

    monkeypatch.setattr(attempts, "_child", _spawned.send_sigint_ignored)
    others = attempts.Attempts(_spawned.Detector(), np.zeros((4, 2)), {1: 0}, processes=2)
    try:
        assert others.result(1) is True
    finally:
        others.stop()


def test_a_pool_deaf_to_ctrl_c_is_ended_by_the_main_process_on_ctrl_c():
    """Deaf to Ctrl-C, a pool's workers went on with every task handed to them, and leaving the pool
    waited for them (a chunk of event clips: minutes); on KeyboardInterrupt they are ended."""
    import pytest

    from extract.spawning import process_pool

    with pytest.raises(KeyboardInterrupt):
        with process_pool(1) as pool:
            future = pool.submit(_spawned.sleep, 60)
            processes = list(pool._processes.values())
            while not future.running():
                _spawned.sleep(0.05)
            raise KeyboardInterrupt
    assert [p.exitcode for p in processes] == [-signal.SIGTERM]  # ended, not left to finish the task


def test_ctrl_c_while_the_command_line_loads_is_one_line_and_exit_130(monkeypatch, capsys):
    """Loading the command line takes a second or so (every command's module); a Ctrl-C then
    was Python's traceback of whichever import it landed in, exit status -2."""
    import types

    import pytest

    from videoad.__main__ import LOADING_INTERRUPTED, run

    class Loading(types.ModuleType):
        def __getattr__(self, name):
            raise KeyboardInterrupt  # as a Ctrl-C landing in an import of videoad.cli

    monkeypatch.setitem(sys.modules, "videoad.cli", Loading("videoad.cli"))
    with pytest.raises(SystemExit) as stopped:
        run()
    assert stopped.value.code == 130
    assert capsys.readouterr().err == LOADING_INTERRUPTED + "\n"


def test_ctrl_c_while_click_parses_the_arguments_is_the_same_line_and_exit_130(monkeypatch, capsys):
    """Click answered a Ctrl-C while it parsed the group's arguments (or wrote `--help`'s page) with
    a blank line, "Aborted!" and exit status 1; a moment before or after it was one line, 130."""
    import click
    import pytest

    from videoad import LOADING_INTERRUPTED
    from videoad.cli import cli

    def parsing(*_, **__):
        raise KeyboardInterrupt

    monkeypatch.setattr(click.Group, "parse_args", parsing)
    with pytest.raises(SystemExit) as stopped:
        cli.main(["report", "x"], prog_name="videoad")
    assert stopped.value.code == 130
    assert capsys.readouterr().err == LOADING_INTERRUPTED + "\n"
