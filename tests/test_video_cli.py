"""The CLI end to end: detect -> evaluate -> plot -> report, errors, and a real extraction run."""
from __future__ import annotations

import json

import numpy as np
import pytest
import yaml
from click.testing import CliRunner
from video_helpers import FAST_DUAD, small_store, write_labels

from videoad.cli import cli


@pytest.fixture()
def setup(tmp_path):
    store = tmp_path / "features"
    videos = small_store(store)
    gt = write_labels(tmp_path / "gt.csv", videos)
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(yaml.safe_dump({"mode": "per-category", "min_clips": 50, "seed": 1,
                                   "detector": {"name": "duad", "params": FAST_DUAD}}))
    return tmp_path, store, gt, cfg, videos


def run(*args):
    res = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    return res


def test_labels_written_as_times_evaluate_as_their_frames(setup):
    """The same ground truth written as a player shows times (m:ss.s) gives the frame labels, and
    so the results, of the frame numbers (the fake videos run at 10 fps: frame 161 starts at 16.0 s)."""
    tmp, store, gt, cfg, videos = setup
    res = run("detect", store, "--config", cfg, "--pooled", "-o", tmp / "pooled")
    assert res.exit_code == 0, res.output
    lines = ["video,start,end"]
    for key, info in videos.items():
        lines += [f"{key},{(s - 1) // 600}:{(s - 1) / 10 % 60:04.1f},{e // 600}:{e / 10 % 60:04.1f}"
                  for s, e in info["intervals"]] or [f"{key},,"]
    timed = tmp / "timed.csv"
    timed.write_text("\n".join(lines) + "\n")
    assert "1:04.0,1:05.6" in timed.read_text()  # clip 40 of A/a1: frames 641-656
    results = []
    for labels in (gt, timed):
        res = run("evaluate", tmp / "pooled", "--annotations", labels, "--json", tmp / f"{labels.stem}.json")
        assert res.exit_code == 0, res.output
        results.append(json.loads((tmp / f"{labels.stem}.json").read_text())["pooled"])
    assert results[0] == results[1]
    res = run("report", tmp / "pooled", "--annotations", timed, "-o", tmp / "report", "--no-clips")
    assert res.exit_code == 0, res.output


def test_detect_evaluate_plot_report(setup):
    tmp, store, gt, cfg, videos = setup
    res = run("detect", store, "--config", cfg, "-o", tmp / "scores")
    assert res.exit_code == 0, res.output
    assert "skipped B: 20 clips < min_clips=50" in res.output
    assert (tmp / "scores" / "segments.csv").is_file() and (tmp / "scores" / "run.json").is_file()
    # --pooled on the command line beats the config's per-category
    res = run("detect", store, "--config", cfg, "--pooled", "-o", tmp / "pooled", "--min-event", "0")
    assert res.exit_code == 0 and "1/1 groups scored" in res.output
    # the events beside the scores: every video listed, with or without an event
    events = json.loads((tmp / "pooled" / "events.json").read_text())
    assert events["settings"]["min_length_s"] == 0 and "event(s) in" in res.output
    assert {v["video"] for v in events["videos"]} == set(videos)
    assert (tmp / "pooled" / "events.csv").read_text().startswith("event,video,")

    res = run("evaluate", tmp / "pooled", "--annotations", gt)
    assert res.exit_code == 0, res.output
    saved = json.loads((tmp / "pooled" / "evaluation.json").read_text())
    assert f"pooled frame AUROC {saved['pooled']['auroc']:.4f}" in res.output
    assert saved["pooled"]["auroc"] > 0.9 and saved["pooled"]["n_videos"] == 3
    assert {c["name"] for c in saved["per_category"]} == {"A", "B"}

    res = run("plot", tmp / "pooled", "-o", tmp / "plots", "--annotations", gt, "--format", "svg", "--thumbnails", "0")
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in (tmp / "plots").iterdir() if not p.name.startswith(".")) == \
        ["A_a1.mp4.svg", "A_a2.mp4.svg", "B_b1.mp4.svg"]
    assert (tmp / "plots" / ".videoad-output").is_file()  # a folder of pictures, never read as footage
    res = run("plot", tmp / "pooled", "--video", "A/a1.mp4", "-o", tmp / "one.png", "--thumbnails", "0")
    assert res.exit_code == 0 and (tmp / "one.png").is_file()

    res = run("report", tmp / "pooled", "--annotations", gt, "-o", tmp / "report", "--no-clips")
    assert res.exit_code == 0, res.output
    html = (tmp / "report" / "index.html").read_text()
    assert html.count("class=timeline") == 3 and "Frame-level results" in html


def test_detect_says_what_no_event_means(setup):
    """A transductive run whose line nothing crosses says why and what to read instead; a run with
    events does not."""
    tmp, store, gt, cfg, videos = setup
    high = tmp / "high.yaml"
    high.write_text(yaml.safe_dump({**yaml.safe_load(cfg.read_text()), "alarm_level": 1.0e6}))
    res = run("detect", store, "--config", high, "--pooled", "-o", tmp / "quiet", "--min-event", "0")
    assert res.exit_code == 0, res.output
    assert "no event in 3 video(s)" in res.output and "no clip crossed the alarm line" in res.output
    assert "--fit-on" in res.output
    res = run("detect", store, "--config", cfg, "--pooled", "-o", tmp / "loud", "--min-event", "0")
    assert "event(s) in" in res.output and "no clip crossed" not in res.output


def test_cli_errors_are_clear(setup):
    tmp, store, gt, cfg, videos = setup
    assert run("detect", store, "--config", cfg, "-o", tmp / "s").exit_code == 0
    bad = dict(videos)
    bad["A/a1.mp4"] = dict(videos["A/a1.mp4"], n_frames=videos["A/a1.mp4"]["n_frames"] - 3)
    res = run("evaluate", tmp / "s", "--annotations", write_labels(tmp / "bad.csv", bad))
    assert res.exit_code != 0 and "length mismatch for video 'A/a1'" in res.output
    res = run("evaluate", tmp, "--annotations", gt)
    assert res.exit_code != 0 and "not a scores folder" in res.output
    res = run("detect", store, "--model", tmp, "--fit-on", store, "-o", tmp / "x")
    assert res.exit_code != 0 and "cannot be combined" in res.output
    res = run("plot", tmp / "s", "--video", "nope", "-o", tmp / "p")
    assert res.exit_code != 0 and "no scores for video(s) ['nope']" in res.output


def test_detect_save_model_names_the_watch_command_next(setup):
    """`detect --save-model DIR` said nothing of the models it kept, while `run --fit-on` names the
    `videoad watch ... --model` command that uses them: detect now says the same line."""
    tmp, store, gt, cfg, _ = setup
    for extra in ([], ["--fit-on", store]):
        models = tmp / f"kept{len(extra)}"
        res = run("detect", store, "--config", cfg, "--pooled", "--save-model", models, "-o", tmp / f"s{len(extra)}",
                  *extra)
        assert res.exit_code == 0, res.output
        assert f"models: {models} (videoad watch SOURCE --model {models})" in res.output
    res = run("detect", store, "--config", cfg, "--pooled", "-o", tmp / "none")
    assert "videoad watch" not in res.output


def test_inductive_cli(setup):
    tmp, store, gt, cfg, _ = setup
    res = run("detect", store, "--config", cfg, "--fit-on", store, "--save-model", tmp / "models", "-o", tmp / "ind")
    assert res.exit_code == 0, res.output
    res = run("detect", store, "--model", tmp / "models", "-o", tmp / "ind2")
    assert res.exit_code == 0, res.output
    a = (tmp / "ind" / "segments.csv").read_text()
    b = (tmp / "ind2" / "segments.csv").read_text()
    assert a == b and json.loads((tmp / "ind2" / "run.json").read_text())["protocol"] == "inductive"
    # without FEATURES, --fit-on scores the history itself (the live path's first step)
    res = run("detect", "--config", cfg, "--fit-on", store, "--save-model", tmp / "models3", "-o", tmp / "ind3")
    assert res.exit_code == 0, res.output
    assert (tmp / "ind3" / "segments.csv").read_text() == a


def test_end_to_end_on_real_synthetic_video(tmp_path):
    """generate -> extract (motion backbone, real decoding) -> detect -> evaluate -> report."""
    from extract.backbones import get_backbone
    from extract.run import ExtractOptions, extract_videos
    from videoad.synth import SceneConfig, generate

    ds = generate(tmp_path / "data", n_normal=1, events=("runner",), seed=2, cfg=SceneConfig(n_frames=128))
    summary = extract_videos(ds.root, tmp_path / "features", get_backbone("motion"),
                             ExtractOptions(stride=8, workers=1, recursive=True, progress=False))
    assert summary.ok, summary.report()
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(yaml.safe_dump({"mode": "pooled", "min_clips": 10, "preprocess": "sqrt-rms",
                                   "detector": {"name": "duad", "params": FAST_DUAD}}))
    assert run("detect", tmp_path / "features", "--config", cfg, "-o", tmp_path / "scores").exit_code == 0
    res = run("evaluate", tmp_path / "scores", "--annotations", ds.annotation_file, "--frame-counts", ds.counts_file)
    assert res.exit_code == 0, res.output
    ev = json.loads((tmp_path / "scores" / "evaluation.json").read_text())
    assert ev["pooled"]["n_frames"] == 2 * 128  # every decoded frame scored, tail padded
    assert ev["per_video"][0]["note"] == "no anomalous frames: AUROC undefined"  # Normal001
    res = run("report", tmp_path / "scores", "--annotations", ds.annotation_file, "-o", tmp_path / "report")
    assert res.exit_code == 0, res.output
    html = (tmp_path / "report" / "index.html").read_text()
    assert html.count("class=timeline") == 2
    pngs = sorted((tmp_path / "report" / "timelines").glob("*.png"))
    assert len(pngs) == 2 and all(p.stat().st_size > 10_000 for p in pngs)
    shown = json.loads((tmp_path / "report" / "events.json").read_text())["events"]
    assert len(list((tmp_path / "report" / "events").glob("E*.png"))) == len(shown)
    assert len(list((tmp_path / "report" / "events").glob("E*.mp4"))) == len(shown)  # sources readable
    assert np.isfinite(ev["pooled"]["auroc"])


def test_a_mistyped_command_module_fails_loudly():
    from videoad import cli

    with pytest.raises(ModuleNotFoundError):
        cli._register([("videoad.cli.no_such_cmd", "nothing")])
    with pytest.raises(RuntimeError, match="has no click command 'nothing'"):
        cli._register([("videoad.cli.video_cmd", "nothing")])


def test_print_config_shows_the_settings_without_running(tmp_path):
    from click.testing import CliRunner

    from videoad.cli import cli

    out = CliRunner().invoke(cli, ["detect", "--print-config", "--pooled", "--seed", "3"])
    assert out.exit_code == 0, out.output
    assert "mode: pooled" in out.output and "seed: 3" in out.output and "score: knn" in out.output
    missing = CliRunner().invoke(cli, ["detect"])
    assert missing.exit_code == 2 and "give FEATURES and -o/--output" in missing.output
    run = CliRunner().invoke(cli, ["run", "--print-config"])
    assert run.exit_code == 0 and "mode: pooled" in run.output


def test_print_config_names_the_options_its_file_does_not_carry(tmp_path):
    """`detect --merge-gap 5 --print-config > c.yaml` then `detect --config c.yaml` drew events with
    a 2 s gap, and `run --max-fps 0 --print-config` dropped the cap's option, without a word: the
    printed file said nothing of them. A closing comment names them (and the file still reads back)."""
    from click.testing import CliRunner

    from videoad.cli import cli

    out = CliRunner().invoke(cli, ["detect", "--merge-gap", "5", "--min-event", "1", "--seed", "3", "--print-config"])
    assert out.exit_code == 0, out.output
    assert out.output.rstrip().splitlines()[-1] == ("# --merge-gap, --min-event: options only, not settings of this "
                                                    "file: give them again beside --config FILE")
    (tmp_path / "c.yaml").write_text(out.output)
    back = CliRunner().invoke(cli, ["detect", "--config", str(tmp_path / "c.yaml"), "--print-config"])
    assert back.exit_code == 0 and "seed: 3" in back.output and "options only" not in back.output, back.output
    out = CliRunner().invoke(cli, ["run", "--max-fps", "0", "--no-clips", "--seed", "2", "--print-config"])
    assert out.exit_code == 0 and "seed: 2" in out.output, out.output
    assert "# --max-fps, --clips: options only" in out.output
    plain = CliRunner().invoke(cli, ["detect", "--seed", "3", "--print-config"])  # nothing to name: no comment
    assert plain.exit_code == 0 and "options only" not in plain.output


def test_device_option_reaches_the_torch_detectors_and_is_checked_first(setup):
    """`--device cpu` is the default's own fit, recorded; a device the machine lacks, or a GPU
    asked of a detector that cannot move, fails before any group is fitted, saying why; `--device
    cpu` with such a detector is where it runs anyway (a script passing it switched to pca and failed)."""
    tmp, store, gt, cfg, _ = setup
    assert run("detect", store, "--config", cfg, "--pooled", "-o", tmp / "plain").exit_code == 0
    res = run("detect", store, "--config", cfg, "--pooled", "--device", "cpu", "-o", tmp / "cpu")
    assert res.exit_code == 0, res.output
    assert (tmp / "cpu" / "segments.csv").read_text() == (tmp / "plain" / "segments.csv").read_text()
    assert json.loads((tmp / "cpu" / "run.json").read_text())["config"]["params"]["device"] == "cpu"
    res = run("detect", store, "--config", cfg, "--detector", "pca", "--device", "cpu", "-o", tmp / "pca")
    assert res.exit_code == 0, res.output
    res = run("detect", store, "--config", cfg, "--detector", "pca", "--device", "cpu:abc", "-o", tmp / "pca-abc")
    assert res.exit_code != 0 and "device 'cpu:abc' not understood" in res.output
    res = run("detect", store, "--config", cfg, "--detector", "pca", "--device", "cuda", "-o", tmp / "pca-gpu")
    assert res.exit_code != 0 and "detector 'pca' runs on the CPU only" in res.output and "duad" in res.output
    res = run("detect", store, "--config", cfg, "--device", "tpu", "-o", tmp / "tpu")
    assert res.exit_code != 0 and "device 'tpu' not understood" in res.output
    import torch

    if not torch.cuda.is_available():
        res = run("detect", store, "--config", cfg, "--device", "cuda", "-o", tmp / "gpu")
        assert res.exit_code != 0 and "CUDA is not available" in res.output
    assert not (tmp / "pca-gpu").exists() and not (tmp / "tpu").exists() and not (tmp / "pca-abc").exists()


def test_the_cli_imports_neither_scikit_learn_nor_torch():
    """`videoad` and every decode worker that `videoad extract` spawns (a spawned process imports
    the `videoad` script again) import `videoad.cli`: it stays free of scikit-learn (over a second)
    and torch (more), which the commands import when they run; `videoad bench` still lists its
    subcommands, imported on demand."""
    import subprocess
    import sys

    code = ("import sys, videoad.cli; from extract.lazy import is_loaded; "
            "print(sorted(m for m in ('sklearn', 'scipy', 'matplotlib') if m in sys.modules), is_loaded('torch'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[] False"
    # `report` and `plot` draw without scikit-learn and torch: metrics.py imported scikit-learn's metrics
    # for its types alone, a second of every report (found in the speed review)
    code = ("import sys, videoad.report, videoad.plots, videoad.evidence; from extract.lazy import is_loaded; "
            "print(sorted(m for m in ('sklearn', 'scipy') if m in sys.modules), is_loaded('torch'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[] False"
    # `watch --print-config` (and its usage errors) imported torch first: 1.8 s (first-hour review)
    code = ("import sys; from videoad.cli import cli; from extract.lazy import is_loaded\n"
            "try:\n cli(['watch', '--print-config'])\nexcept SystemExit:\n pass\n"
            "print(is_loaded('torch'), file=sys.stderr)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stderr.strip().splitlines()[-1] == "False" and "model:" in out.stdout, out
    listed = CliRunner().invoke(cli, ["bench", "--help"])
    assert listed.exit_code == 0 and all(name in listed.output for name in ("kddcup", "images", "scale"))
    assert CliRunner().invoke(cli, ["bench", "nope"]).exit_code != 0


@pytest.mark.parametrize("args", [["detect", "--print-config", "--pooled", "--per-video"],
                                  ["detect", "--print-config", "--per-category", "--per-camera"],
                                  ["run", "--print-config", "--pooled", "--per-camera"]])
def test_two_groupings_given_at_once_are_refused(args):
    """`--pooled --per-video` fitted per video: the last flag won without a word."""
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 2 and "contradict each other: give one of them" in res.output
    assert all(flag in res.output for flag in args[2:])
    assert CliRunner().invoke(cli, args[:3] + [args[2]]).exit_code == 0  # the same one twice is one


def test_the_command_lines_limits_are_the_librarys():
    """Written twice so that the command line stays free of the modules behind them."""
    from extract.clips import MAX_PLAUSIBLE_FPS
    from videoad.cli.extract_cmd import extract
    from videoad.cli.run_cmd import run
    from videoad.cli.video_cmd import MAX_CLIPS
    from videoad.cli.watch_cmd import KEEP_DAYS_MAX
    from videoad.evidence import MAX_CLIPS as EVIDENCE_MAX_CLIPS
    from videoad.watch_config import KEEP_DAYS_MAX as CONFIG_KEEP_DAYS_MAX

    assert MAX_CLIPS == EVIDENCE_MAX_CLIPS and KEEP_DAYS_MAX == CONFIG_KEEP_DAYS_MAX
    for command in (extract, run):
        fps = next(p for p in command.params if p.name == "target_fps")
        assert fps.type.max == MAX_PLAUSIBLE_FPS
    from videoad.cli.import_cmd import import_features

    for command in import_features.commands.values():
        assert next(p for p in command.params if p.name == "fps").type.max == MAX_PLAUSIBLE_FPS
    from videoad.extract_config import RULES

    check, _ = RULES["target_fps"]
    assert check(MAX_PLAUSIBLE_FPS) and not check(MAX_PLAUSIBLE_FPS * 1.001)


def test_detect_names_an_output_folder_it_cannot_write_before_the_fit(setup, monkeypatch):
    """`-o` under a file failed with the OS's bare "Not a directory" after the whole fit."""
    from videoad import video

    tmp, store, gt, cfg, videos = setup
    (tmp / "afile").write_text("x")

    def no_fit(*args, **kwargs):
        raise AssertionError("fitted before the output folder was checked")

    monkeypatch.setattr(video, "detect", no_fit)
    res = run("detect", store, "--config", cfg, "-o", tmp / "afile" / "out")
    assert res.exit_code == 2  # a usage error, as -o afile is
    assert f"cannot make '{tmp / 'afile' / 'out'}': '{tmp / 'afile'}' is a file, not a folder" in res.output
    res = run("detect", store, "--config", cfg, "-o", tmp / "s", "--save-model", tmp / "afile" / "models")
    assert res.exit_code == 2 and "Invalid value for '--save-model'" in res.output
    assert not (tmp / "s" / "run.json").exists()


def test_detects_counts_and_seed_are_checked_where_they_are_typed(setup, monkeypatch):
    """`detect --seed -1` ran (run refused it), and `--min-clips 0` / `--n-jobs 0` were refused by
    the config's one line naming neither option nor value; `--detector pca --save-model` failed
    only after the fit, with its folders made."""
    from videoad import video

    tmp, store, gt, cfg, videos = setup

    def no_fit(*args, **kwargs):
        raise AssertionError("fitted before the options were checked")

    monkeypatch.setattr(video, "detect", no_fit)
    for option, value, said in (("--seed", -1, "-1 is not in the range 0<=x<=4294967295"),
                                ("--seed", 2**32, "is not in the range"),
                                ("--min-clips", 0, "0 is not in the range 1<=x<=2147483647"),
                                ("--n-jobs", 0, "0 fits nothing")):
        res = run("detect", store, "--config", cfg, "-o", tmp / "s", option, value)
        assert res.exit_code == 2 and f"Invalid value for '{option}'" in res.output and said in res.output, res.output
    for args, said in ((("--pooled", "--detector", "pca"),
                        "--save-model with --detector pca: pca cannot be saved (the detectors that can: duad"),
                       (("--per-video",), "--save-model with --per-video: saved models serve the inductive mode")):
        res = run("detect", store, "--config", cfg, "-o", tmp / "s", "--save-model", tmp / "models", *args)
        assert res.exit_code == 2 and said in res.output, res.output  # a usage error naming the options
    assert not (tmp / "s").exists() and not (tmp / "models").exists()
    from videoad.video import DetectConfig

    with pytest.raises(ValueError, match="my.yaml: seed must be a whole number from 0 to 4294967295, got -1"):
        DetectConfig(seed=-1).check("my.yaml")
    with pytest.raises(ValueError, match="my.yaml: min_clips must be >= 1, got 0"):
        DetectConfig(min_clips=0).check("my.yaml")


def test_history_settings_without_a_history_are_said_to_be_unused(setup, monkeypatch):
    """`detect --history-drop 5` without --fit-on fitted with DUAD's own p0/p and said nothing."""
    from videoad import video

    tmp, store, gt, cfg, videos = setup

    def stop(*args, **kwargs):
        raise ValueError("stopped before the fit")

    for name in ("detect", "score", "fit_and_score"):
        monkeypatch.setattr(video, name, stop)
    res = run("detect", store, "--config", cfg, "-o", tmp / "s", "--history-drop", 5)
    assert "warning: --history-drop applies to a fit on a normal history (--fit-on), not used here" in res.output
    res = run("detect", store, "--config", cfg, "-o", tmp / "s", "--history-drop", 5, "--history-neighbors", 2,
              "--model", tmp, "--pooled", "--seed", 3)
    assert (f"warning: the grouping, --seed, --history-drop, --history-neighbors, {cfg}'s params, min_clips, seed "
            "set how models are fitted, not used with --model: the saved models score with the settings they were "
            "fitted with") in res.output
    res = run("detect", store, "-o", tmp / "s", "--model", tmp)
    assert "warning" not in res.output
    # a file's settings were taken in silence (quantile alarms, smoothing off, ignored cells: the same scores)
    other = tmp / "other.yaml"
    other.write_text("smooth: 0\nignore_cells: ['0:0']\nn_jobs: 2\n")
    res = run("detect", store, "--config", other, "-o", tmp / "s", "--model", tmp)
    assert f"warning: {other}'s ignore_cells, smooth set how models are fitted, not used with --model" in res.output
    res = run("detect", store, "--config", other, "-o", tmp / "s", "--fit-on", store)
    assert "warning" not in res.output
    res = run("detect", store, "--config", cfg, "-o", tmp / "s", "--history-drop", 5, "--fit-on", store)
    assert "warning" not in res.output and "stopped before the fit" in res.output


def test_a_scores_folder_given_as_features_is_named(setup):
    """`videoad cameras SCORES` reported "0 camera(s)" and `detect SCORES` failed on cells.h5 as a
    damaged video's features: a scores folder is named as one, with the store its run.json names."""
    tmp, store, gt, cfg, videos = setup
    res = run("detect", store, "--config", cfg, "--pooled", "-o", tmp / "scores")
    assert res.exit_code == 0, res.output
    said = f"{tmp / 'scores'}: a scores folder (written by `videoad detect`), not a feature store"
    for args in (("cameras", tmp / "scores"), ("detect", tmp / "scores", "-o", tmp / "again"),
                 ("detect", store, "--fit-on", tmp / "scores", "-o", tmp / "again")):
        res = run(*args)
        assert res.exit_code == 1 and said in res.output and f"({store}, as its run.json says)" in res.output, res.output


def test_evaluates_last_line_says_why_there_is_no_auroc(setup):
    """Ground truth of normal videos alone: the tables said "n/a" and why, the closing line
    "pooled frame AUROC nan"."""
    tmp, store, gt, cfg, videos = setup
    assert run("detect", store, "--config", cfg, "--pooled", "-o", tmp / "s").exit_code == 0
    normal = tmp / "normal.csv"
    normal.write_text("video,start,end\n" + "".join(f"{key},,\n" for key in videos))
    res = run("evaluate", tmp / "s", "--annotations", normal)
    assert res.exit_code == 0, res.output
    assert "pooled frame AUROC n/a: no anomalous frames: AUROC undefined (" in res.output and "nan" not in res.output


def test_evaluate_prints_the_per_video_table_for_small_runs_only(setup, monkeypatch):
    """At 2,000 videos the default printed 2,025 lines of per-video rows above the pooled figures; a
    large run's table is in evaluation.json, and --per-video still prints it."""
    from videoad.cli import video_cmd

    tmp, store, gt, cfg, videos = setup
    assert run("detect", store, "--config", cfg, "--pooled", "-o", tmp / "s").exit_code == 0
    res = run("evaluate", tmp / "s", "--annotations", gt)
    assert "\nvideo " in res.output and "A/a1.mp4" in res.output  # three videos: listed
    monkeypatch.setattr(video_cmd, "PER_VIDEO_MAX", 2)
    res = run("evaluate", tmp / "s", "--annotations", gt)
    assert "A/a1.mp4" not in res.output
    assert f"(the per-video table of 3 videos: in {tmp / 's' / 'evaluation.json'}; --per-video prints it)" in res.output
    assert len(json.loads((tmp / "s" / "evaluation.json").read_text())["per_video"]) == 3
    assert "A/a1.mp4" in run("evaluate", tmp / "s", "--annotations", gt, "--per-video").output
    assert "per-video table" not in run("evaluate", tmp / "s", "--annotations", gt, "--no-per-video").output


def test_a_bad_option_is_named_as_the_command_lines_not_a_files(setup):
    """`--ignore-cells "0:0,3;1"` was blamed on the packaged run.yaml (or the user's --config),
    which holds no such value."""
    tmp, store, gt, cfg, videos = setup
    res = run("detect", store, "--config", cfg, "-o", tmp / "s", "--ignore-cells", "0:0,3;1")
    assert res.exit_code == 1 and "the command line options: ignore_cells holds cell names" in res.output
    assert str(cfg) not in res.output


def test_a_folder_of_videos_given_as_features_says_to_extract_it(tmp_path):
    """`videoad detect VIDEOS` and `videoad cameras VIDEOS` said "the feature store holds no videos"
    of a folder holding videos."""
    import shutil

    from _paths import shared

    shutil.copyfile(shared("videos", "tree.avi"), tmp_path / "tree.avi")
    for args in (["detect", tmp_path, "-o", tmp_path / "s"], ["cameras", tmp_path]):
        res = run(*args)
        assert res.exit_code == 1 and "holds 1 video(s) or frame folder(s) and no feature file: extract them first" \
            in res.output, res.output


def test_a_footage_folder_with_a_run_inside_is_not_read_as_a_feature_store(tmp_path):
    """`cd footage; videoad run .` then `videoad detect footage`: the run's features were a category
    named "runs" and its scores' cells.h5 a damaged video's features "to delete". Folders of
    videoad's outputs are no part of a store; the error names the run's features."""
    from extract.sources import mark_output
    from video_helpers import small_store
    from videoad.synth import SceneConfig, render_video, write_video

    foot = tmp_path / "foot"
    frames, _ = render_video(None, seed=0, cfg=SceneConfig(n_frames=20))
    write_video(foot / "cam.avi", frames, 10.0)
    out = foot / "runs" / "foot"
    small_store(out / "features")
    (out / "scores").mkdir()
    (out / "scores" / "cells.h5").write_bytes(b"not a video's features")
    mark_output(out)
    res = run("detect", foot, "-o", tmp_path / "x")
    assert res.exit_code == 1 and "holds 1 video(s) or frame folder(s) and no feature file" in res.output, res.output
    assert f"the features `videoad run` made there are in {out / 'features'}" in res.output
    assert "cells.h5" not in res.output
    assert run("detect", out / "features", "--pooled", "-o", tmp_path / "y").exit_code == 0  # the store itself


def test_detect_says_where_it_scores_videos_of_its_own_history(tmp_path):
    """`detect STORE --fit-on STORE/Normal` scored the history's videos with a model fitted on them,
    labelled inductive, with no word (`run` warns of it)."""
    from video_helpers import fake_video

    store, other = tmp_path / "features", tmp_path / "later"
    for i in range(3):
        fake_video(store, f"Normal/n{i}.avi", 60, seed=i, source=f"/cams/day1/n{i}.avi")
    fake_video(store, "Runner/r0.avi", 60, anomalous=[10, 11], seed=7, source="/cams/day1/r0.avi")
    for i in range(2):
        fake_video(other, f"x/m{i}.avi", 60, seed=10 + i, source=f"/cams/day2/m{i}.avi")
    cfg = tmp_path / "fast.yaml"
    cfg.write_text(yaml.safe_dump({"min_clips": 50, "detector": {"name": "duad", "params": FAST_DUAD}}))
    res = run("detect", store, "--pooled", "--config", cfg, "--fit-on", store / "Normal", "-o", tmp_path / "s")
    assert res.exit_code == 0 and "warning: 3 scored video(s) are also in the history --fit-on names " \
        "(Normal/n0.avi, Normal/n1.avi, Normal/n2.avi)" in res.output, res.output
    res = run("detect", other, "--pooled", "--config", cfg, "--fit-on", store / "Normal", "-o", tmp_path / "s2")
    assert res.exit_code == 0 and "also in the history" not in res.output, res.output
    res = run("detect", "--pooled", "--config", cfg, "--fit-on", store / "Normal", "-o", tmp_path / "s3")
    assert "also in the history" not in res.output  # the history scored by its own model, as asked


def test_an_output_over_an_input_or_another_kind_of_output_is_refused(setup):
    """`detect FEATURES -o FEATURES` wrote the scores into the store (which then read as a scores
    folder pointing at itself), `detect -o REPORT` replaced a report's events under its page,
    `extract -o SCORES` put features into a scores folder: each exited 0."""
    tmp, store, gt, cfg, videos = setup
    before = sorted(p.name for p in store.rglob("*"))
    res = run("detect", store, "--config", cfg, "--pooled", "-o", store)
    assert res.exit_code == 2 and f"-o {store} is FEATURES itself ({store})" in res.output, res.output
    assert sorted(p.name for p in store.rglob("*")) == before  # nothing written into it
    assert run("detect", store, "--config", cfg, "--pooled", "-o", tmp / "scores").exit_code == 0
    assert run("detect", store, "--config", cfg, "--pooled", "-o", tmp / "scores").exit_code == 0  # a rerun: fine
    assert run("report", tmp / "scores", "-o", tmp / "report", "--no-clips").exit_code == 0
    for args, said in (
            (("detect", store, "--config", cfg, "--pooled", "-o", tmp / "report"), "holds a report, not a scores folder"),
            (("detect", store, "--config", cfg, "--pooled", "--fit-on", store, "-o", tmp / "x", "--save-model", store),
             "--save-model"),
            (("report", tmp / "scores", "-o", tmp / "scores", "--no-clips"), "is SCORES itself"),
            (("report", tmp / "scores", "-o", store, "--no-clips"), "holds a feature store, not a report"),
            (("plot", tmp / "scores", "-o", tmp / "report"), "holds a report"),
            (("extract", gt, "-o", tmp / "scores"), "holds a scores folder, not a feature store")):
        res = run(*args)
        assert res.exit_code == 2 and said in res.output, (args, res.output)  # usage errors, every command
    assert not (tmp / "scores" / "manifest.json").exists()


def test_evaluate_writes_its_json_before_printing_and_gives_it_alone_on_stdout(setup, monkeypatch):
    """`evaluate ... | head` closed the pipe at the table and the JSON file asked for was never
    written; `--json -` made a file named '-'."""
    tmp, store, gt, cfg, videos = setup
    assert run("detect", store, "--config", cfg, "--pooled", "-o", tmp / "scores").exit_code == 0
    import videoad.cli.video_cmd as video_cmd

    def closed_pipe(*args, **kwargs):
        raise BrokenPipeError
    monkeypatch.setattr(video_cmd.click, "echo", closed_pipe)  # the reader gone at the first line
    res = CliRunner().invoke(cli, ["evaluate", str(tmp / "scores"), "--annotations", str(gt), "--json",
                                   str(tmp / "e.json")])
    assert res.exit_code != 0 and json.loads((tmp / "e.json").read_text())["pooled"]["auroc"] > 0.5
    monkeypatch.undo()
    monkeypatch.chdir(tmp)
    res = CliRunner().invoke(cli, ["evaluate", str(tmp / "scores"), "--annotations", str(gt),
                                   "--json", "-"])
    assert res.exit_code == 0 and not (tmp / "-").exists()
    assert json.loads(res.stdout)["pooled"]["auroc"] == json.loads((tmp / "e.json").read_text())["pooled"]["auroc"]
    assert "pooled frame AUROC" in res.stderr


def test_a_device_is_checked_alike_by_every_command(setup, tmp_path):
    """`detect --device banana` was refused, `extract --device banana` (the motion backbone) only
    warned and `watch --device banana` took it in silence."""
    from extract.device import check_device_text

    for good in (None, "auto", "cpu", "cpu:0", "cuda", "cuda:1", " cpu "):
        check_device_text(good)
    for bad in ("banana", "gpu", "cuda:x", "cpu:0x", ""):
        with pytest.raises(ValueError, match="not understood"):
            check_device_text(bad)
    from extract.backbones.motion import MotionBackbone

    with caplog_records() as seen:  # the CPU by another name: no "ignoring device" for the motion backbone
        MotionBackbone(device="cpu:0")
        MotionBackbone(device="cuda")
    assert [r.getMessage() for r in seen] == ["the motion backbone runs on the CPU (OpenCV); ignoring device=cuda"]
    tmp, store, gt, cfg, videos = setup
    video = tmp_path / "v.avi"
    from videoad.synth import SceneConfig, render_video, write_video

    frames, _ = render_video(None, seed=0, cfg=SceneConfig(n_frames=40))
    write_video(video, frames, 10.0)
    res = run("extract", video, "-o", tmp_path / "f", "--device", "banana")
    assert res.exit_code == 2 and "device 'banana' not understood" in res.output, res.output
    res = run("watch", video, "--model", tmp_path, "-o", tmp_path / "w", "--device", "banana")
    assert res.exit_code == 1 and "model.device must be 'auto', 'cpu'" in res.output and "got 'banana'" in res.output, \
        res.output
    res = run("detect", store, "-o", tmp_path / "s", "--device", "banana")
    assert res.exit_code != 0 and "device 'banana' not understood" in res.output, res.output


import contextlib  # noqa: E402
import logging  # noqa: E402


@contextlib.contextmanager
def caplog_records():
    """The records the motion backbone's logger emits in the block."""
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger = logging.getLogger("extract.backbones.motion")
    logger.addHandler(handler)
    try:
        yield records
    finally:
        logger.removeHandler(handler)


def test_detect_combinations_that_cannot_work_are_usage_errors_before_any_folder(setup):
    """`--model` with `--fit-on`, `--save-model` or `--ignore-cells`, and `--fit-on` with a
    per-video grouping, were refused only after -o (and --save-model) had been made and locked,
    with exit status 1: now a usage error (2) naming the options, no folder made."""
    tmp, store, gt, cfg, videos = setup
    assert run("detect", store, "--config", cfg, "--pooled", "--save-model", tmp / "m", "-o", tmp / "s").exit_code == 0
    per_video = tmp / "per_video.yaml"
    per_video.write_text(yaml.safe_dump({**yaml.safe_load(cfg.read_text()), "mode": "per-video"}))
    for extra, said in ((("--model", tmp / "m", "--fit-on", store), "cannot be combined with --fit-on"),
                        (("--model", tmp / "m", "--save-model", tmp / "new_models"),
                         "cannot be combined with --save-model"),
                        (("--model", tmp / "m", "--ignore-cells", "0:0"), "--ignore-cells is fixed"),
                        (("--fit-on", store, "--per-video"), "--per-video cannot be combined with --fit-on"),
                        (("--config", per_video, "--fit-on", store), "mode: per-video cannot be combined")):
        res = run("detect", store, *extra, "-o", tmp / "out")
        assert res.exit_code == 2 and said in res.output, (extra, res.output)
        assert not (tmp / "out").exists() and not (tmp / "new_models").exists(), extra


def test_detect_save_model_into_the_scores_folder_is_refused_when_neither_exists_yet(setup):
    """`-o X --save-model X` with X not made yet wrote the scores and the models into one folder
    (exit 0); only a rerun, X then existing, was refused."""
    tmp, store, gt, cfg, videos = setup
    res = run("detect", store, "--config", cfg, "--pooled", "-o", tmp / "both", "--save-model", tmp / "." / "both")
    assert res.exit_code == 2 and "is --save-model itself" in res.output, res.output
    assert not (tmp / "both").exists()


def test_a_leading_tilde_in_a_path_option_is_the_home_folder(setup, monkeypatch):
    """`--output=~/x` (a form the shell leaves as it is) made a folder named `~` in the current one;
    `run` expanded it in INPUT and --fit-on only."""
    tmp, store, gt, cfg, videos = setup
    home, here = tmp / "home", tmp / "here"
    home.mkdir(), here.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(here)
    res = run("detect", store, "--config", cfg, "--pooled", "--output=~/scores")
    assert res.exit_code == 0, res.output
    assert (home / "scores" / "segments.csv").is_file() and not (here / "~").exists()
    res = run("report", "~/scores", "--output=~/report", "--no-clips")
    assert res.exit_code == 0 and (home / "report" / "index.html").is_file(), res.output
    assert list(here.iterdir()) == []


def test_clip_options_beside_no_clips_are_usage_errors(setup, tmp_path):
    """report and run took --burn-heatmap, --max-clips and --pad beside --no-clips in silence."""
    tmp, store, gt, cfg, videos = setup
    assert run("detect", store, "--config", cfg, "--pooled", "-o", tmp / "s").exit_code == 0
    for extra in (("--burn-heatmap",), ("--max-clips", "3"), ("--pad", "9")):
        res = run("report", tmp / "s", "-o", tmp / "r", "--no-clips", *extra)
        assert res.exit_code == 2 and f"{extra[0]}: shape the event clips" in res.output, res.output
        assert not (tmp / "r").exists()
    res = run("run", tmp, "-o", tmp / "run", "--no-clips", "--burn-heatmap")
    assert res.exit_code == 2 and "--burn-heatmap: shape the event clips" in res.output and not (tmp / "run").exists()
    assert run("report", tmp / "s", "-o", tmp / "r", "--no-clips").exit_code == 0
