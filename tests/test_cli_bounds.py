"""Every numeric option out of its range is a usage error (exit 2) naming the option and the range,
before anything is read or written: found by a fuzz of every command's numeric options with 0, -1,
1e30, 10**30, nan, inf, 2**64, 1.5 and `true` (videoad.cli.settings' `seconds` and `count`)."""
from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

from videoad.cli import cli
from videoad.cli import settings

BIG = str(10**30)


def _commands(tmp_path):
    """A small valid invocation of each command whose options are checked (the folders exist)."""
    store = tmp_path / "store"
    store.mkdir()
    npy = tmp_path / "npy"
    npy.mkdir()
    np.save(npy / "x.npy", np.ones((4, 3), np.float32))
    out = str(tmp_path / "out")
    return {
        "detect": ["detect", str(store), "-o", out],
        "run": ["run", str(tmp_path / "none.avi"), "-o", out],
        "watch": ["watch", str(tmp_path / "none.avi"), "-o", out],
        "extract": ["extract", str(store), "-o", out],
        "import npy": ["import", "npy", str(npy), "-o", out],
        "bench images": ["bench", "images", "--print-config"],
        "bench scale": ["bench", "scale", "--print-config"],
    }


@pytest.mark.parametrize("command, option, value, shown", [
    # tracebacks: numpy's int64 overflowed at the import (OverflowError: Python int too large)
    ("import npy", "--clip-len", BIG, "1<=x<=2147483647"),
    ("import npy", "--stride", str(2**64), "1<=x<=2147483647"),
    # exit 1 naming the setting (stride, hook_timeout_s, max_seconds, ...), not the option
    ("extract", "--stride", BIG, "1<=x<=2147483647"),
    ("run", "--stride", str(2**64), "1<=x<=2147483647"),
    ("watch", "--hook-timeout", "1e30", "0<x<=604800"),
    ("watch", "--max-lag", "1e30", "0<x<=604800"),
    ("watch", "--backoff", str(2**64), "0<x<=604800"),
    ("watch", "--timeout", "1e30", "0<x<=604800"),
    ("watch", "--poll", "1e30", "0<x<=604800"),
    ("watch", "--settle", "1e30", "0<=x<=604800"),
    ("bench scale", "--threads", "0", "1<=x<=1024"),
    ("bench scale", "--threads", BIG, "1<=x<=1024"),
    ("bench scale", "--max-seconds", "-1", "0<x<=604800"),
    ("bench scale", "--timeout", "1e30", "0<x<=604800"),
    ("bench scale", "--timeout", "nan", "not a finite number"),
    # accepted: a decode timeout past the platform's wait, a benchmark of 10^30 seeds, 10^30 threads
    # (torch.set_num_threads overflows), 10^30 processes for joblib
    ("extract", "--decode-timeout", "1e30", "0<x<=604800"),
    ("bench images", "--seeds", BIG, "1<=x<=1000000"),
    ("bench images", "--threads", str(2**64), "0<=x<=1024"),
    ("detect", "--n-jobs", BIG, "-1024<=x<=1024"),
    # accepted: one decode process of about 110 MB per video to extract, as many as asked (a folder of
    # 10,000 videos and --workers 10000 asked for 1 TB), where detect's --n-jobs stops at 1024
    ("extract", "--workers", BIG, "1<=x<=1024"),
    ("run", "--workers", "1025", "1<=x<=1024"),
    # accepted and every event dropped in silence (run then said the detector rarely fires)
    ("run", "--min-event", "1e30", "0<=x<=604800"),
    ("detect", "--merge-gap", str(2**64), "0<=x<=604800"),
    ("watch", "--min-event", BIG, "0<=x<=604800"),
    # after all the footage was extracted: every group skipped (exit 1, "40 clips < min_clips=10^30")
    ("run", "--min-clips", BIG, "1<=x<=2147483647"),
    ("detect", "--min-clips", str(2**64), "1<=x<=2147483647"),
    # accepted: the watch record stated a queue cap of 10^36 bytes; retries as a way to say "for ever"
    ("watch", "--frame-queue-mb", BIG, "1<=x<=100000"),
    ("watch", "--retries", BIG, "0<=x<=1000000. Leave --retries out to keep trying for ever (retries: null"),
])
def test_out_of_range_is_a_usage_error_naming_the_option(tmp_path, command, option, value, shown):
    res = CliRunner().invoke(cli, _commands(tmp_path)[command] + [option, value])
    assert res.exit_code == 2, res.output
    assert res.exception is None or isinstance(res.exception, SystemExit)
    assert f"Invalid value for '{option}'" in res.output and shown in res.output, res.output
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("command, option, value", [
    ("watch", "--hook-timeout", "604800"), ("watch", "--settle", "0"), ("bench scale", "--timeout", "1.5"),
    ("bench scale", "--threads", "1024"), ("bench images", "--threads", "0"), ("bench images", "--seeds", "1000000"),
    ("extract", "--workers", "1024"), ("watch", "--frame-queue-mb", "100000"), ("watch", "--retries", "1000000"),
])
def test_values_in_range_pass_the_parse(tmp_path, command, option, value):
    res = CliRunner().invoke(cli, _commands(tmp_path)[command] + ([] if command.startswith("bench") else ["--print-config"])
                             + [option, value])
    assert res.exit_code == 0, res.output


def test_import_npy_takes_the_longest_stride(tmp_path):
    """The bound is no tighter than the store holds: 2^31 - 1 frames between clips imports."""
    _commands(tmp_path)
    res = CliRunner().invoke(cli, ["import", "npy", str(tmp_path / "npy"), "-o", str(tmp_path / "out"),
                                   "--stride", str(2**31 - 1), "--clip-len", str(2**31 - 1)])
    assert res.exit_code == 0, res.output


def test_bounds_are_their_sources():
    from videoad.detector.validation import MAX_REPEATS
    from videoad.extract_config import MAX_STRIDE
    from videoad.live.outputs import MAX_WAIT_S
    from videoad.video.config import MAX_MIN_CLIPS, MAX_THREADS

    from videoad.extract_config import MAX_WORKERS

    assert (settings.MAX_SECONDS, settings.MAX_FRAMES, settings.MAX_THREADS, settings.MAX_REPEATS) == (
        MAX_WAIT_S, MAX_STRIDE, MAX_THREADS, MAX_REPEATS)
    # the settings files' seconds take the options' week (a file's 1e30 passed where the option refused it)
    from videoad.events import MAX_EVENT_S
    from videoad.extract_config import MAX_DECODE_TIMEOUT_S
    assert MAX_EVENT_S == MAX_DECODE_TIMEOUT_S == settings.MAX_SECONDS
    assert MAX_WORKERS == MAX_THREADS
    assert settings.count().max == MAX_MIN_CLIPS  # --min-clips's bound is the settings file's


@pytest.mark.parametrize("command", ["run", "detect"])
def test_a_config_min_clips_past_the_bound_is_named_before_any_work(tmp_path, command):
    """`min_clips: 10**30` in a --config was taken as --min-clips 10**30 was."""
    cfg = tmp_path / "big.yaml"
    cfg.write_text(f"min_clips: {BIG}\n")
    res = CliRunner().invoke(cli, [command, "--print-config", "--config", str(cfg)])
    assert res.exit_code == 1 and "min_clips must be at most 2147483647" in res.output and "big.yaml" in res.output, \
        res.output
    res = CliRunner().invoke(cli, [command, "--print-config", "--min-clips", str(2**31 - 1)])
    assert res.exit_code == 0 and "min_clips: 2147483647" in res.output, res.output


def test_watch_bounds_are_the_settings_files():
    from videoad.cli import watch_cmd
    from videoad.live.outputs import MAX_FRAME_QUEUE_MB, MAX_RETRIES

    assert (watch_cmd.FRAME_QUEUE_MB_MAX, watch_cmd.RETRIES_MAX) == (MAX_FRAME_QUEUE_MB, MAX_RETRIES)


@pytest.mark.parametrize("key, value, says", [
    ("frame_queue_mb", BIG, "frame_queue_mb must be a whole number of MB >= 1, at most 100,000"),
    ("retries", BIG, "retries must be a whole number >= 0, at most 1,000,000 (null keeps trying for ever)"),
    ("frame_queue", BIG, "frame_queue must be a whole number >= 1, at most 1,000,000"),
    ("batch_size", BIG, "batch_size must be a whole number >= 1, at most 1,000,000"),
    ("hook_queue", BIG, "hook_queue must be a whole number >= 1, at most 1,000,000"),
])
def test_a_watch_config_past_the_bound_is_named_with_its_file(tmp_path, key, value, says):
    """`frame_queue_mb: 10**30` and `retries: 10**30` in a --config passed as the options did."""
    cfg = tmp_path / "big.yaml"
    cfg.write_text(f"{key}: {value}\n")
    res = CliRunner().invoke(cli, ["watch", "--print-config", "--config", str(cfg)])
    assert res.exit_code == 1 and says in res.output and "big.yaml" in res.output, res.output
    cfg.write_text("retries: null\nframe_queue_mb: 100000\n")  # for ever, and the largest cap, are taken
    res = CliRunner().invoke(cli, ["watch", "--print-config", "--config", str(cfg)])
    assert res.exit_code == 0 and "\nretries: null\n" in res.output and "\nframe_queue_mb: 100000\n" in res.output


def test_watch_options_refuse_past_the_bounds():
    from videoad import live

    for field, value in (("frame_queue_mb", 10**30), ("retries", 10**30)):
        with pytest.raises(ValueError, match=f"watch option {field} must be .* at most"):
            live.WatchOptions(**{field: value}).check()
    assert live.WatchOptions(retries=None, frame_queue_mb=100_000).check().retries is None


def _writers(tmp_path):
    """Each command (and option) that makes a folder, with inputs that pass their own checks: the
    option's value is added last."""
    for name in ("in", "store", "scores", "models", "npy"):
        (tmp_path / name).mkdir()
    (tmp_path / "t.csv").write_text("a,b\n1,2\n3,4\n")
    (tmp_path / "gt.txt").write_text("")
    t = {n: str(tmp_path / n) for n in ("in", "store", "scores", "models", "npy", "t.csv", "gt.txt")}
    return {
        "run": ["run", t["in"], "-o"],
        "extract": ["extract", t["in"], "-o"],
        "detect": ["detect", t["store"], "-o"],
        "detect --save-model": ["detect", t["store"], "-o", str(tmp_path / "s"), "--save-model"],
        "report": ["report", t["scores"], "-o"],
        "plot": ["plot", t["scores"], "-o"],
        "table": ["table", t["t.csv"], "-o"],
        "table --save-model": ["table", t["t.csv"], "--save-model"],
        "demo": ["demo", "-o"],
        "watch": ["watch", t["in"], "--model", t["models"], "-o"],
        "bench images": ["bench", "images", "--quick", "-o"],
        "bench kddcup": ["bench", "kddcup", "--quick", "-o"],
        "bench scale": ["bench", "scale", "-o"],
        "import npy": ["import", "npy", t["npy"], "-o"],
        "import sultani": ["import", "sultani", t["in"], "--annotations", t["gt.txt"], "-o"],
    }


@pytest.mark.parametrize("under", [False, True], ids=["a file", "under a file"])
@pytest.mark.parametrize("command", [
    "run", "extract", "detect", "detect --save-model", "report", "plot", "table", "table --save-model", "demo",
    "watch", "bench images", "bench kddcup", "bench scale", "import npy", "import sultani"])
def test_an_output_folder_that_cannot_be_one_is_a_usage_error_naming_it(tmp_path, command, under):
    """`watch -o afile/x` was exit 1 while `watch -o afile` was 2; `detect -o afile` was exit 1, `plot -o
    afile` exit 1 with "[Errno 17] File exists": every command now refuses both as it parses, exit 2,
    naming the path and the file in its way."""
    (tmp_path / "afile").write_text("x")
    out = tmp_path / "afile" / "x" if under else tmp_path / "afile"
    args = _writers(tmp_path)[command] + [str(out)]
    res = CliRunner().invoke(cli, args)
    option = "--save-model" if command.endswith("--save-model") else "-o"
    assert res.exit_code == 2, (command, res.output)
    assert f"Invalid value for '{option}'" in res.output and f"{out}'" in res.output, res.output
    assert (f"'{tmp_path / 'afile'}' is a file, not a folder" if under else "is a file") in res.output, res.output
    assert not (tmp_path / "s").exists() and (tmp_path / "afile").read_text() == "x"
