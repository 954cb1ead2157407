"""`videoad extract` and `videoad watch` settings: --print-config / --config round trips, errors
naming the file and the key before any work, options beating the file, and no change without a
file (the defaults are the code's: ExtractOptions, WatchOptions)."""
from __future__ import annotations

import numpy as np
import pytest
import yaml
from _extract_media import make_video
from click.testing import CliRunner

from videoad import config, extract_config, watch_config
from videoad.cli import cli


def _run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def _printed(*args) -> str:
    res = _run(*args, "--print-config")
    assert res.exit_code == 0, res.output
    return res.output


# ---------------------------------------------------------------- one source of defaults
def test_the_packaged_files_are_generated_from_the_code_defaults():
    assert config.defaults_text("extract") == extract_config.text(extract_config.defaults())
    assert config.defaults_text("watch") == watch_config.text(watch_config.defaults())
    assert _printed("extract") == config.defaults_text("extract")
    assert _printed("watch") == config.defaults_text("watch")


def test_without_a_file_the_settings_are_the_code_defaults():
    from extract.run import ExtractOptions
    from videoad.live import WatchOptions

    cfg = extract_config.load()
    assert extract_config.extract_options(cfg) == ExtractOptions()
    assert extract_config.backbone_args(cfg) == ("motion", {})
    assert watch_config.watch_options(watch_config.load()) == WatchOptions()


# ---------------------------------------------------------------- round trips
EXTRACT_OPTS = ["--backbone", "r3d_18", "--random-init", "--layer", "layer3", "--backbone-opt", "size=112",
                "--workers", "3", "--batch-size", "4", "--stride", "8", "--tail", "pad", "--fps", "10",
                "--decoders", "opencv,pyav", "--decode-timeout", "30", "--float16", "--recursive"]
WATCH_OPTS = ["--group", "lobby", "--device", "cpu", "--realtime", "--merge-gap", "1.5", "--min-event", "0",
              "--post", "http://localhost:9/x", "--hook-timeout", "2", "--max-lag", "5", "--retries", "3",
              "--backoff", "0.5", "--timeout", "4", "--poll", "1", "--settle", "3", "--image-fps", "12.5",
              "--clip-scores"]


@pytest.mark.parametrize("command, options", [("extract", EXTRACT_OPTS), ("watch", WATCH_OPTS)])
def test_printed_settings_read_back_as_the_same_settings(tmp_path, command, options):
    module = extract_config if command == "extract" else watch_config
    text = _printed(command, *options)
    assert text != config.defaults_text(command)  # the options are in it
    path = tmp_path / "printed.yaml"
    path.write_text(text)
    assert module.load(path) == yaml.safe_load(text)
    assert _printed(command, "--config", path) == text


def test_extract_options_land_where_they_should():
    cfg = yaml.safe_load(_printed("extract", *EXTRACT_OPTS))
    assert cfg["backbone"] == {"name": "r3d_18", "options": {"random_init": True, "layer": "layer3", "size": "112"}}
    opts = extract_config.extract_options(cfg)
    assert (opts.workers, opts.batch_size, opts.stride, opts.tail, opts.target_fps, opts.decoders, opts.dtype,
            opts.recursive, opts.decode_timeout) == (3, 4, 8, "pad", 10.0, ("opencv", "pyav"), "float16", True, 30.0)


def test_watch_options_land_where_they_should():
    cfg = yaml.safe_load(_printed("watch", *WATCH_OPTS))
    assert cfg["model"] == {"group": "lobby", "device": "cpu"}
    assert cfg["sources"] == {"realtime": True, "timeout": 4.0, "poll_s": 1.0, "settle_s": 3.0, "image_fps": 12.5}
    opts = watch_config.watch_options(cfg)
    assert (opts.events.merge_gap_s, opts.events.min_length_s, opts.max_lag_s, opts.retries, opts.backoff_s,
            opts.hook_timeout_s, opts.post, opts.clip_scores) == (1.5, 0.0, 5.0, 3, 0.5, 2.0, "http://localhost:9/x",
                                                                   True)


def test_an_extract_config_file_makes_the_same_store_as_the_options(tmp_path):
    from extract.store import FeatureStore

    make_video(tmp_path / "in" / "v.mp4", 40)
    small = ["--backbone-opt", "size=64x48", "--backbone-opt", "grid=2", "--stride", "8", "--tail", "pad",
             "--workers", "1", "--float16"]
    by_options = _run("extract", tmp_path / "in", "-o", tmp_path / "a", "-q", *small)
    assert by_options.exit_code == 0, by_options.output
    path = tmp_path / "site.yaml"
    path.write_text(_printed("extract", *small))
    by_file = _run("extract", tmp_path / "in", "-o", tmp_path / "b", "-q", "--config", path)
    assert by_file.exit_code == 0, by_file.output
    a, b = FeatureStore(tmp_path / "a").load("v.mp4"), FeatureStore(tmp_path / "b").load("v.mp4")
    same = lambda attrs: {k: v for k, v in attrs.items() if k != "created"}
    assert same(a.attrs) == same(b.attrs) and a.attrs["dtype"] == "float16" and a.attrs["tail"] == "pad"
    np.testing.assert_array_equal(a.features, b.features)
    np.testing.assert_array_equal(a.frames, b.frames)


# ---------------------------------------------------------------- the command line wins
def test_an_extract_option_beats_the_file(tmp_path):
    path = tmp_path / "e.yaml"
    path.write_text("workers: 5\nbatch_size: 16\nbackbone: {name: r3d_18, options: {layer: layer3}}\n")
    cfg = yaml.safe_load(_printed("extract", "--config", path, "--workers", "3", "--backbone-opt", "size=112"))
    assert (cfg["workers"], cfg["batch_size"]) == (3, 16)
    assert cfg["backbone"] == {"name": "r3d_18", "options": {"layer": "layer3", "size": "112"}}
    # another backbone on the command line: the file's backbone options were for its own
    cfg = yaml.safe_load(_printed("extract", "--config", path, "--backbone", "motion"))
    assert cfg["backbone"] == {"name": "motion", "options": {}}
    path.write_text("recursive: true\ndtype: float16\n")
    cfg = yaml.safe_load(_printed("extract", "--config", path, "--no-recursive", "--float32"))
    assert (cfg["recursive"], cfg["dtype"]) == (False, "float32")


def test_max_fps_beats_the_files_target_fps_and_is_refused_beside_fps(tmp_path):
    """The file's target_fps won over --max-fps (target_fps wins over the cap): `--max-fps 3` over a
    file's `target_fps: 5` resampled every video to 5 fps. `--fps 5 --max-fps 3` on the command line
    resampled to 5 with --max-fps unused and unsaid: a usage error, for extract and run, before any folder."""
    path = tmp_path / "e.yaml"
    path.write_text("target_fps: 5\n")
    cfg = yaml.safe_load(_printed("extract", "--config", path, "--max-fps", "3"))
    assert (cfg["target_fps"], cfg["max_fps"]) == (None, 3.0)
    cfg = yaml.safe_load(_printed("extract", "--config", path, "--fps", "4"))  # --fps alone: as before
    assert (cfg["target_fps"], cfg["max_fps"]) == (4.0, None)
    videos = tmp_path / "videos"
    videos.mkdir()
    for command in ("extract", "run"):
        res = _run(command, videos, "-o", tmp_path / command, "--fps", "5", "--max-fps", "3")
        assert res.exit_code == 2 and "--fps and --max-fps cannot be combined" in res.output, res.output
        assert not (tmp_path / command).exists()
    # `--max-fps 0` asks for no cap: beside --fps it is what was asked, not refused
    cfg = yaml.safe_load(_printed("extract", "--fps", "10", "--max-fps", "0"))
    assert (cfg["target_fps"], cfg["max_fps"]) == (10.0, 0.0)


def test_a_watch_option_beats_the_file(tmp_path):
    path = tmp_path / "w.yaml"
    path.write_text("max_lag_s: 1\nevents: {merge_gap_s: 7}\nsources: {realtime: true}\n")
    cfg = yaml.safe_load(_printed("watch", "--config", path, "--max-lag", "5", "--no-realtime"))
    assert (cfg["max_lag_s"], cfg["events"], cfg["sources"]["realtime"]) == (5.0, {"merge_gap_s": 7,
                                                                                   "min_length_s": 2.0}, False)
    cfg = yaml.safe_load(_printed("watch", "--config", path, "--merge-gap", "0.5"))
    assert cfg["events"]["merge_gap_s"] == 0.5 and cfg["max_lag_s"] == 1


# ---------------------------------------------------------------- bad files fail first, naming file and key
@pytest.mark.parametrize("text, message", [
    ("worker: 2\n", "unknown key 'worker'"),
    ("workers: two\n", "workers must be a whole number, got 'two'"),
    ("workers: 0\n", "workers must be >= 1"),
    ("decoders: pyav\n", "decoders must be a list of texts"),
    ("backbone: {name: motion, option: {}}\n", "unknown key 'backbone.option'"),
    # an option the backbone does not take, misspelt in the file: it named neither file nor key
    ("backbone: {name: motion, options: {sise: 160}}\n", "unknown key(s) ['backbone.options.sise']: backbone "
                                                          "'motion' has no option 'sise'; its options: "),
    ("tail: cut\n", "tail must be drop or pad"),
    # past the week --decode-timeout takes: the file's 1e30 passed and overflowed the decoder's wait
    ("decode_timeout: 1.0e30\n", "decode_timeout must be a number of seconds > 0, at most 604800 (a week)"),
    ("backbone: {name: motion, options: {weights: w.pt}}\n", "backbone.options.weights needs a learned backbone"),
    ("backbone: {name: r3d_18, options: {weights: missing/w.pt}}\n", "backbone.options.weights"),
])
def test_a_bad_extract_file_fails_before_any_work_naming_file_and_key(tmp_path, text, message):
    make_video(tmp_path / "v.mp4", 4)
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    res = _run("extract", tmp_path / "v.mp4", "-o", tmp_path / "o", "--config", path)
    assert res.exit_code == 1 and f"{path}: " in res.output and message in res.output, res.output
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("text, message", [
    ("events: {merge_gap: 1}\n", "unknown key 'events.merge_gap'"),
    ("max_lag_s: soon\n", "max_lag_s must be a (finite) number, got 'soon'"),
    ("retries: -1\n", "retries must be a whole number >= 0"),
    ("sources: {realtime: 1}\n", "sources.realtime must be true or false"),
    ("post: ftp://x\n", "post must be an http(s) URL"),
    ("model: {device: [0]}\n", "model.device must be a text or null"),
    # passed --print-config, then "device 'abc' not understood" named neither file nor key
    ("model: {device: abc}\n", "model.device must be 'auto', 'cpu' (or 'cpu:N'), 'cuda' or 'cuda:N', got 'abc'"),
    # past Python's longest thread wait: scoring ran, then a traceback at exit (or the source lost)
    ("hook_timeout_s: 1.0e10\n", "hook_timeout_s must be a number of seconds > 0, at most 604800 (a week)"),
    ("sources: {poll_s: 1.0e10}\n", "sources.poll_s must be a number of seconds > 0, at most 604800"),
    ("backoff_s: 1.0e10\n", "backoff_s must be a number of seconds > 0, at most 604800"),
    # past the week --merge-gap and --min-event take: 1e30 passed the file, and a min_length_s of
    # 1e30 dropped every event in silence
    ("events: {merge_gap_s: 1.0e30}\n", "events.merge_gap_s must be a number of seconds >= 0, at most 604800"),
    ("events: {min_length_s: 604801}\n", "events.min_length_s must be a number of seconds >= 0, at most 604800"),
])
def test_a_bad_watch_file_fails_before_any_work_naming_file_and_key(tmp_path, text, message):
    make_video(tmp_path / "v.mp4", 4)
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    res = _run("watch", tmp_path / "v.mp4", "--model", tmp_path, "-o", tmp_path / "o", "--config", path)
    assert res.exit_code == 1 and f"{path}: " in res.output and message in res.output, res.output
    assert not (tmp_path / "o").exists()


def test_print_config_needs_no_input_but_a_run_does(tmp_path):
    assert _run("extract", "-o", tmp_path / "o").exit_code == 2
    assert "give INPUT and -o/--output" in _run("extract", tmp_path).output
    assert "give SOURCE..., --model and -o/--output" in _run("watch", tmp_path).output


@pytest.mark.parametrize("setting, value, said", [
    ("batch_size", 0, "batch_size must be a whole number >= 1, at most 1,000,000, got 0"),
    ("max_lag_s", "3", "max_lag_s must be a number, got '3'"),
    ("max_lag_s", 1e10, "max_lag_s must be a number of seconds > 0, at most 604800"),
    ("retries", -1, "retries must be a whole number >= 0, at most 1,000,000 (null keeps trying for ever), got -1"),
    ("frame_queue", 2.5, "frame_queue must be a whole number, got 2.5"),
    ("images", "no", "images must be True or False, got 'no'"),
    ("keep_days", float("nan"), "keep_days must be a number of days > 0"),
    ("post", "ftp://host/x", "post must be an http(s) URL"),
    ("cell_sample", 10**30, "cell_sample must be a number of clips >= 1, at most 1,000,000"),
])
def test_a_library_callers_watch_options_are_checked_naming_the_setting(tmp_path, setting, value, said):
    """`live.watch` checked only the event settings: a library caller's `WatchOptions(batch_size=0)`
    or `max_lag_s="3"` went unchecked into the source threads. The command line's ranges (the
    --config rules) now hold for the library too, and the kind of each value."""
    from videoad import live

    assert live.WatchOptions().check() == live.WatchOptions()
    assert live.WatchOptions(retries=None, keep_days=2, max_lag_s=3).check().max_lag_s == 3
    with pytest.raises(ValueError, match=f"watch option {said}".replace("(", r"\(").replace(")", r"\)")):
        live.WatchOptions(**{setting: value}).check()
    # live.watch refuses them before it opens a source or writes into OUT
    with pytest.raises(ValueError, match=f"watch option {setting}"):
        live.watch([], {}, tmp_path / "out", live.WatchOptions(**{setting: value}))
    assert not (tmp_path / "out").exists()
    # the command line's --config check reads the same rules
    from videoad.live.outputs import OPTION_RULES

    if setting in OPTION_RULES:
        assert watch_config.RULES[setting] is OPTION_RULES[setting]


def test_a_huge_cell_sample_in_a_file_is_refused_naming_it(tmp_path):
    """`cell_sample: 1e30` as a whole number passed the --config check and stopped watch at its
    first source in an OverflowError traceback (a deque's length is a C integer)."""
    path = tmp_path / "w.yaml"
    path.write_text(f"cell_sample: {10**30}\n")
    res = _run("watch", "--config", path, "--print-config")
    assert res.exit_code != 0 and not isinstance(res.exception, OverflowError)
    assert f"{path}: cell_sample must be a number of clips >= 1, at most 1,000,000" in res.output
    path.write_text("cell_sample: 1000000\n")
    assert "cell_sample: 1000000" in _run("watch", "--config", path, "--print-config").output


def test_a_huge_stride_is_refused_naming_it(tmp_path):
    """`stride: 1e30` as a whole number (or --stride) passed, and every video failed at the feature
    write: 'Object dtype has no native HDF5 equivalent', no setting named."""
    path = tmp_path / "x.yaml"
    path.write_text(f"stride: {10**30}\n")
    res = _run("extract", "--config", path, "--print-config")
    assert res.exit_code != 0 and f"{path}: stride must be a number of frames >= 1, at most 2147483647" in res.output
    res = _run("extract", "--stride", 10**30, "--print-config")  # the option's own range (tests/test_cli_bounds.py)
    assert res.exit_code == 2 and "Invalid value for '--stride'" in res.output and "<=2147483647" in res.output
    path.write_text("stride: 2147483647\n")
    assert "stride: 2147483647" in _run("extract", "--config", path, "--print-config").output


def test_runs_extraction_options_are_checked_as_extracts(tmp_path):
    """`videoad run --stride 1e30` decoded every video, then failed each at the feature write ('Object
    dtype has no native HDF5 equivalent'): run's extraction options did not go through extract's rules."""
    make_video(tmp_path / "v.mp4", 4)
    res = _run("run", tmp_path / "v.mp4", "-o", tmp_path / "o", "--stride", 10**30)
    assert res.exit_code == 2 and "Invalid value for '--stride'" in res.output and "<=2147483647" in res.output
    assert not (tmp_path / "o").exists()
    assert "Invalid value for '--stride'" in _run("run", "--stride", 10**30, "--print-config").output
    assert _run("run", "--stride", 2147483647, "--print-config").exit_code == 0


def test_a_watch_device_is_checked_with_the_file_and_the_options(tmp_path):
    """`model.device: abc` passed --print-config; a good one still reads back."""
    path = tmp_path / "w.yaml"
    path.write_text("model: {device: abc}\n")
    res = _run("watch", "--config", path, "--print-config")
    assert res.exit_code == 1 and f"{path}: model.device must be 'auto'" in res.output, res.output
    res = _run("watch", "--device", "abc", "--print-config")
    assert res.exit_code == 1 and "the command line options: model.device must be" in res.output, res.output
    path.write_text("model: {device: 'cuda:1'}\n")
    assert "device: 'cuda:1'}" in _printed("watch", "--config", path)
