"""`videoad run`: one's own footage to a report in one command; several inputs (files, folders,
globs) into one store; progress counted in frames."""
from __future__ import annotations

import csv
import json

import pytest
import yaml
from click.testing import CliRunner
from video_helpers import FAST_DUAD

from extract.backbones import get_backbone
from extract.run import ExtractOptions, extract_videos, list_inputs
from videoad.cli import cli
from videoad.synth import SceneConfig, render_video, write_video


@pytest.fixture(scope="module")
def footage(tmp_path_factory):
    root = tmp_path_factory.mktemp("footage")
    for cam, event, seed in (("cam1", "runner", 0), ("cam2", None, 1)):
        frames, _ = render_video(event, seed=seed, cfg=SceneConfig(n_frames=140))
        write_video(root / cam / "a.avi", frames, 15.0)
    (root / "cam2" / "broken.avi").write_bytes(b"RIFF not really a video")
    cfg = root / "fast.yaml"
    cfg.write_text(yaml.safe_dump({"mode": "pooled", "min_clips": 10, "preprocess": "sqrt-rms",
                                   "alarm": "quantile", "alarm_level": 0.8, "detector": {"name": "duad", "params": FAST_DUAD}}))
    return root, cfg


def test_several_inputs_keep_distinct_keys(footage):
    root, _ = footage
    base, listing = list_inputs([root / "cam1" / "a.avi", root / "cam2"])
    assert base == root and sorted(s.key for s in listing.sources) == ["cam1/a.avi", "cam2/a.avi", "cam2/broken.avi"]
    base, listing = list_inputs(root / "cam1" / "a.avi")  # one file: as before, its own name
    assert base == root / "cam1" and [s.key for s in listing.sources] == ["a.avi"]
    base, listing = list_inputs([root / "cam1" / "a.avi", root / "cam1" / "a.avi"])  # named twice, listed once
    assert len(listing.sources) == 1


class _Bar:
    def __init__(self):
        self.total, self.n, self.steps = 0, 0, []

    def update(self, n=1):
        self.n += n
        self.steps.append(n)

    def set_postfix_str(self, *a, **k):
        pass

    def refresh(self):
        pass


def test_progress_counts_frames(footage, tmp_path):
    root, _ = footage
    bar = _Bar()
    summary = extract_videos([root / "cam1", root / "cam2" / "a.avi"], tmp_path / "f", get_backbone("motion"),
                             ExtractOptions(stride=8, workers=1, progress_unit="frame"), progress=bar)
    assert summary.ok and len(summary.done) == 2
    assert bar.n == bar.total == 2 * 140 and len(bar.steps) > 4  # advanced clip by clip, not per video
    again = _Bar()  # resumed: the finished videos count at once
    extract_videos([root / "cam1", root / "cam2" / "a.avi"], tmp_path / "f", get_backbone("motion"),
                   ExtractOptions(stride=8, workers=1, progress_unit="frame"), progress=again)
    assert again.n == again.total == 280


def test_run_makes_a_report_from_a_glob_with_a_default_output(footage, tmp_path, monkeypatch):
    root, cfg = footage
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(cli, ["run", str(root / "cam*"), "--config", str(cfg), "--min-event", "0"],
                             catch_exceptions=False)
    # one bad video does not stop the rest; it is named with the videos left out, in run.json and the
    # report too (they counted the videos scored alone: "3 events in 2 of 2 videos"), and the exit
    # status is 1, as extract's
    assert res.exit_code == 1, res.output
    out = tmp_path / "runs" / "cam1"  # named after the first input
    assert "left out cam2/broken.avi: not extracted: " in res.output
    assert "skipped cam2/broken.avi" not in res.output  # said once
    (left,) = json.loads((out / "scores" / "run.json").read_text())["left_out"]
    assert left["video"] == "cam2/broken.avi" and left["reason"].startswith("not extracted: ")
    assert "cam2/broken.avi" in (out / "report" / "index.html").read_text()
    assert "report: runs/cam1/report/index.html" in res.output
    # detect on that store names it as well, from the extraction's manifest
    det = CliRunner().invoke(cli, ["detect", str(out / "features"), "-o", str(tmp_path / "d"), "--config", str(cfg)])
    assert det.exit_code == 0 and "left out cam2/broken.avi: not extracted: " in det.output, det.output
    assert "2 video(s), 280 frames" in res.output
    data = json.loads((out / "scores" / "events.json").read_text())
    assert sorted(v["video"] for v in data["videos"]) == ["cam1/a.avi", "cam2/a.avi"]
    rows = list(csv.DictReader(open(out / "scores" / "events.csv")))
    assert len(rows) == data["n_events"] == len(list((out / "report" / "events").glob("E*.png")))
    assert (out / "report" / "index.html").read_text().count("class=timeline") == 2
    assert "\r" not in res.output  # no progress display when the output is not a terminal


def test_run_in_a_log_names_each_stage_and_its_progress(footage, tmp_path, monkeypatch):
    """Redirected (a nightly job, nohup: CliRunner's stderr is no terminal), `run` said nothing
    until its summary; it says each stage as it begins and the progress in plain lines (every call
    here: EVERY_S 0; a minute apart by default), never a bar's `\r`."""
    from extract import progress

    root, cfg = footage
    monkeypatch.setattr(progress, "EVERY_S", 0.0)
    res = CliRunner().invoke(cli, ["run", str(root / "cam1"), "-o", str(tmp_path / "r"), "--config", str(cfg),
                                   "--min-event", "0"])
    assert res.exit_code == 0, res.output
    lines = res.stderr.splitlines()
    assert "extract: 140/140 frames, 100.0%" in " ".join(lines) and "\r" not in res.stderr, res.stderr
    assert "extract" in lines and "detect (duad, pooled)" in lines and "report" in lines, res.stderr
    assert lines.index("extract") < lines.index("detect (duad, pooled)") < lines.index("report")


def test_run_fits_on_history_and_scores_the_input(footage, tmp_path):
    root, cfg = footage
    out = tmp_path / "out"
    res = CliRunner().invoke(cli, ["run", str(root / "cam1" / "a.avi"), "--fit-on", str(root / "cam2" / "a.avi"),
                                   "-o", str(out), "--config", str(cfg), "--no-clips"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert "inductive" in res.output and (out / "models" / "models.json").is_file()
    run = json.loads((out / "scores" / "run.json").read_text())
    assert [v["video"] for v in run["videos"]] == ["a.avi"] and run["protocol"] == "inductive"
    # settings that say per-video: a history's model must score other videos, so it is fitted pooled,
    # and said (it was switched in silence)
    per_video = tmp_path / "per_video.yaml"
    per_video.write_text(cfg.read_text().replace("mode: pooled", "mode: per-video"))
    res = CliRunner().invoke(cli, ["run", str(root / "cam1" / "a.avi"), "--fit-on", str(root / "cam2" / "a.avi"),
                                   "-o", str(tmp_path / "pv"), "--config", str(per_video), "--no-clips"])
    assert res.exit_code == 0 and "the settings say per-video" in res.output, res.output
    assert json.loads((tmp_path / "pv" / "scores" / "run.json").read_text())["config"]["mode"] == "pooled"


def test_a_second_run_into_the_same_output_scores_its_own_videos(footage, tmp_path):
    """An output folder keeps every run's features (a rerun resumes): a later run with other footage
    and another history scores and fits on its own videos alone, and says what it left out."""
    import shutil

    root, cfg = footage
    for name, cam in (("monday", "cam1"), ("week1", "cam2"), ("tuesday", "cam2"), ("week2", "cam1")):
        (tmp_path / name).mkdir()
        shutil.copyfile(root / cam / "a.avi", tmp_path / name / f"{name}.avi")
    out = tmp_path / "out"
    for day, week in (("monday", "week1"), ("tuesday", "week2")):
        res = CliRunner().invoke(cli, ["run", str(tmp_path / day / f"{day}.avi"), "--fit-on",
                                       str(tmp_path / week / f"{week}.avi"), "-o", str(out), "--config", str(cfg),
                                       "--no-clips"], catch_exceptions=False)
        assert res.exit_code == 0, res.output
    run = json.loads((out / "scores" / "run.json").read_text())
    assert [v["video"] for v in run["videos"]] == ["tuesday.avi"] and run["groups"][0]["history_videos"] == 1
    assert f"{out / 'features'} also holds 1 video(s) of earlier runs (monday.avi)" in res.output
    assert f"{out / 'history'} also holds 1 video(s) of earlier runs (week1.avi)" in res.output


def test_run_passes_backbone_options_and_cells_to_leave_out(footage, tmp_path):
    """`--backbone-opt` reaches the motion backbone of both stores (a mask: an exclusion zone) and
    `--ignore-cells` the fit; a backbone option that does not exist is named, not a traceback."""
    root, cfg = footage
    out = tmp_path / "out"
    res = CliRunner().invoke(cli, ["run", str(root / "cam1" / "a.avi"), "--fit-on", str(root / "cam2" / "a.avi"),
                                   "-o", str(out), "--config", str(cfg), "--no-clips",
                                   "--backbone-opt", "mask=0,0,0.25,1", "--ignore-cells", "0:3"],
                             catch_exceptions=False)
    assert res.exit_code == 0, res.output
    from extract.store import FeatureStore

    for store in ("features", "history"):
        attrs = FeatureStore(out / store).load("a.avi").attrs
        assert json.loads(attrs["backbone_options"])["mask"] == "0,0,0.25,1", store
    (group,) = json.loads((out / "scores" / "run.json").read_text())["groups"]
    assert group["ignored_cells"] == [3]
    # where the history's models went, for watch; and their folder is the run's: a second writer
    # holding it (a refit with `detect --save-model OUT/models` still going) is refused, not mixed with
    assert f"models: {out / 'models'} (videoad watch SOURCE --model {out / 'models'})" in res.output
    from video_helpers import holding_folder

    holder = holding_folder(out / "models")
    try:
        again = CliRunner().invoke(cli, ["run", str(root / "cam1" / "a.avi"), "--fit-on", str(root / "cam2" / "a.avi"),
                                         "-o", str(out), "--config", str(cfg), "--no-clips"])
        assert again.exit_code != 0 and "models: another videoad is writing this folder now" in again.output, again.output
    finally:
        holder.kill()
        holder.wait()
    res = CliRunner().invoke(cli, ["run", str(root / "cam1" / "a.avi"), "-o", str(tmp_path / "bad"),
                                   "--backbone-opt", "bogus=1"])
    assert res.exit_code != 0 and "--backbone-opt: " in res.output and "bogus" in res.output


def test_run_refuses_a_history_at_another_frame_rate_unless_both_are_resampled(footage, tmp_path):
    """Motion is measured per frame: by default the frame-rate cap cuts a history filmed at 30 fps
    and footage filmed at 15 both at 10, and the run goes through; with every frame kept
    (`--max-fps 0`) the history is refused with both rates named; `--fps` resamples both to one rate."""
    root, cfg = footage
    frames, _ = render_video(None, seed=1, cfg=SceneConfig(n_frames=280))
    write_video(tmp_path / "cam30" / "a.avi", frames, 30.0)
    args = ["run", str(root / "cam1" / "a.avi"), "--fit-on", str(tmp_path / "cam30" / "a.avi"),
            "--config", str(cfg), "--no-clips"]
    res = CliRunner().invoke(cli, args + ["-o", str(tmp_path / "capped")], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    models = json.loads((tmp_path / "capped" / "models" / "models.json").read_text())
    assert (models["extraction"]["max_fps"], models["extraction"]["sampled_fps"]) == (10.0, 10.0)
    res = CliRunner().invoke(cli, args + ["-o", str(tmp_path / "out"), "--max-fps", "0"])
    assert res.exit_code != 0
    assert "the fitted footage was cut into clips at 30 fps, a.avi at 15 fps" in res.output and "--fps" in res.output
    res = CliRunner().invoke(cli, args + ["-o", str(tmp_path / "resampled"), "--fps", "15"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    models = json.loads((tmp_path / "resampled" / "models" / "models.json").read_text())
    assert models["extraction"]["target_fps"] == 15.0 and models["extraction"]["fps"] == 30.0
    # one video of two at another rate: left out and said, the other scored, exit status 1 as detect's
    # (run printed nothing of it and exited 0)
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    (mixed / "a15.avi").write_bytes((root / "cam1" / "a.avi").read_bytes())
    (mixed / "b30.avi").write_bytes((tmp_path / "cam30" / "a.avi").read_bytes())
    res = CliRunner().invoke(cli, ["run", str(mixed), "--fit-on", str(root / "cam2" / "a.avi"), "--config", str(cfg),
                                   "--no-clips", "--max-fps", "0", "-o", str(tmp_path / "mixed-out")])
    assert res.exit_code == 1, res.output
    assert "left out b30.avi: not extracted as the history" in res.output and "1 video(s)" in res.output
    assert (tmp_path / "mixed-out" / "report" / "index.html").exists()


def test_run_names_a_missing_input():
    res = CliRunner().invoke(cli, ["run", "/nonexistent/footage/*.mp4"])
    assert res.exit_code != 0 and "/nonexistent/footage/*.mp4: no such file or folder" in res.output


def test_run_per_camera_fits_each_camera_of_a_mixed_history(tmp_path):
    """Two cameras' history in one folder and today's footage of both: one model per camera found,
    each of today's videos scored by its own camera's."""
    from dataclasses import replace as with_

    hist, today = tmp_path / "history", tmp_path / "today"
    for cam, background in (("road", 11), ("square", 12)):
        cfg = with_(SceneConfig(n_frames=140), background_seed=background)
        for i in range(2):
            write_video(hist / f"{cam}{i}.avi", render_video(None, seed=10 * background + i, cfg=cfg)[0], 15.0)
        write_video(today / f"{cam}_today.avi", render_video("runner", seed=background, cfg=cfg)[0], 15.0)
    cfg = tmp_path / "fast.yaml"
    cfg.write_text(yaml.safe_dump({"min_clips": 10, "detector": {"name": "duad", "params": FAST_DUAD}}))
    res = CliRunner().invoke(cli, ["run", str(today), "--fit-on", str(hist), "--per-camera", "--config", str(cfg),
                                   "-o", str(tmp_path / "out"), "--no-clips"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    run = json.loads((tmp_path / "out" / "scores" / "run.json").read_text())
    assert run["config"]["mode"] == "per-camera"
    assert {g["group"]: g["videos"] for g in run["groups"]} == {"camera-01": ["road_today.avi"],
                                                               "camera-02": ["square_today.avi"]}
    printed = CliRunner().invoke(cli, ["run", "--print-config", "--per-camera"])
    assert "mode: per-camera" in printed.output and "# mode: per-camera instead" not in printed.output
    printed = CliRunner().invoke(cli, ["run", "--print-config"]).output
    assert "mode: pooled" in printed and "# mode: per-camera instead where the footage" in printed
    assert yaml.safe_load(printed)["mode"] == "pooled"  # still a config file --config reads
    # --pooled is no config setting (a config's pooled lets the cameras decide): the printout says to give it again
    printed = CliRunner().invoke(cli, ["run", "--print-config", "--pooled"]).output
    assert "# --pooled: give it again beside --config FILE" in printed and "# mode: per-camera instead" not in printed
    assert yaml.safe_load(printed)["mode"] == "pooled"
    # with no grouping named, the pictures decide: two cameras of two videos each -> per camera
    res = CliRunner().invoke(cli, ["run", str(today), "--fit-on", str(hist), "--config", str(cfg),
                                   "-o", str(tmp_path / "auto"), "--no-clips"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert "2 cameras by their scene pictures (camera-01: 2 videos (road0.avi, road1.avi); camera-02: 2 videos " \
           "(square0.avi, square1.avi)): one model per camera (--pooled for one over all)" in res.output
    auto = json.loads((tmp_path / "auto" / "scores" / "run.json").read_text())
    assert auto["config"]["mode"] == "per-camera"
    assert [(g["group"], g["videos"], g["threshold"]) for g in auto["groups"]] == \
        [(g["group"], g["videos"], g["threshold"]) for g in run["groups"]]  # the same fits as --per-camera
    res = CliRunner().invoke(cli, ["run", str(today), "--fit-on", str(hist), "--config", str(cfg), "--pooled",
                                   "-o", str(tmp_path / "pooled"), "--no-clips"], catch_exceptions=False)
    assert res.exit_code == 0 and "one model per camera" not in res.output, res.output
    assert json.loads((tmp_path / "pooled" / "scores" / "run.json").read_text())["config"]["mode"] == "pooled"
    # a scored camera the history lacks: one model over all, and why
    write_video(today / "elsewhere.avi", render_video(None, seed=5, cfg=with_(SceneConfig(n_frames=140),
                                                                            background_seed=99))[0], 15.0)
    res = CliRunner().invoke(cli, ["run", str(today), "--fit-on", str(hist), "--config", str(cfg),
                                   "-o", str(tmp_path / "auto2"), "--no-clips"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert "but 1 scored video(s) show none of them (elsewhere.avi): one model over all" in res.output
    # one model over all is run's pooled (a --config without a mode gave detect's per-category before)
    assert json.loads((tmp_path / "auto2" / "scores" / "run.json").read_text())["config"]["mode"] == "pooled"
    # the footage alone, no history: its own cameras decide
    res = CliRunner().invoke(cli, ["run", str(hist), "--config", str(cfg), "-o", str(tmp_path / "alone"),
                                   "--no-clips"], catch_exceptions=False)
    assert res.exit_code == 0 and "one model per camera" in res.output, res.output
    # cameras too short for a model each: one over all, every video scored (a camera of two short
    # videos was skipped whole, its videos named nowhere)
    big = tmp_path / "big.yaml"
    big.write_text(yaml.safe_dump({"min_clips": 60, "detector": {"name": "duad", "params": FAST_DUAD}}))
    res = CliRunner().invoke(cli, ["run", str(hist), "--config", str(big), "-o", str(tmp_path / "short"),
                                   "--no-clips"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert "< min_clips=60: one model over all (--per-camera to fit one per camera anyway)" in res.output
    short = json.loads((tmp_path / "short" / "scores" / "run.json").read_text())
    assert short["config"]["mode"] != "per-camera" and len(short["videos"]) == 4


def test_an_output_folder_inside_the_input_is_never_read_as_footage(footage, tmp_path, monkeypatch):
    """`cd footage; videoad run .` twice: the default output runs/<name> lies inside the input, and the
    second run scored the report's event clips as videos and its timelines as a frame folder (a
    pooled fit over them changed the real video's scores)."""
    import shutil

    root, cfg = footage
    shutil.copytree(root / "cam1", tmp_path / "cam1")
    shutil.copyfile(root / "cam2" / "a.avi", tmp_path / "b.avi")
    monkeypatch.chdir(tmp_path)
    for _ in range(2):
        res = CliRunner().invoke(cli, ["run", ".", "--config", str(cfg), "--min-event", "0"], catch_exceptions=False)
        assert res.exit_code == 0, res.output
    (out,) = (tmp_path / "runs").iterdir()
    assert list((out / "report" / "events").glob("E*.mp4")), "the first run wrote event clips"
    run = json.loads((out / "scores" / "run.json").read_text())
    assert sorted(v["video"] for v in run["videos"]) == ["b.avi", "cam1/a.avi"]
    assert "runs/" not in res.output.split("scores in")[0]  # no video of runs/ listed, skipped or warned of
    # the same with -o the input folder itself, and for a report or timelines written inside it
    res = CliRunner().invoke(cli, ["run", ".", "-o", ".", "--config", str(cfg), "--min-event", "0"],
                             catch_exceptions=False)
    assert res.exit_code == 0, res.output
    res = CliRunner().invoke(cli, ["run", ".", "-o", ".", "--config", str(cfg), "--min-event", "0"],
                             catch_exceptions=False)
    run = json.loads((tmp_path / "scores" / "run.json").read_text())
    assert sorted(v["video"] for v in run["videos"]) == ["b.avi", "cam1/a.avi"]


def test_run_says_it_reused_features_and_when_the_history_is_the_footage(footage, tmp_path):
    """A rerun reused the features in silence; footage given as its own --fit-on history was
    labelled inductive with an alarm line from its own clips ("nothing happened"), no warning."""
    root, cfg = footage
    args = ["run", str(root / "cam1"), "-o", str(tmp_path / "out"), "--config", str(cfg), "--no-clips"]
    first = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert first.exit_code == 0 and "already extracted" not in first.output, first.output
    again = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert "features: 1 video(s) already extracted with these settings, reused; 0 extracted now" in again.output
    res = CliRunner().invoke(cli, ["run", str(root / "cam1"), "--fit-on", str(root / "cam1"), "-o",
                                   str(tmp_path / "self"), "--config", str(cfg), "--no-clips"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert "warning: 1 scored video(s) are also in the history --fit-on names (a.avi)" in res.output
    res = CliRunner().invoke(cli, ["run", str(root / "cam1"), "--fit-on", str(root / "cam2" / "a.avi"), "-o",
                                   str(tmp_path / "other"), "--config", str(cfg), "--no-clips"], catch_exceptions=False)
    assert "also in the history" not in res.output


def test_run_takes_min_clips_as_its_error_says(footage, tmp_path):
    """A short video failed with "lower it (`videoad detect --min-clips N` ...)", an option run lacked."""
    root, cfg = footage
    short = tmp_path / "short.yaml"
    short.write_text(yaml.safe_dump({"mode": "pooled", "detector": {"name": "duad", "params": FAST_DUAD}}))
    res = CliRunner().invoke(cli, ["run", str(root / "cam1"), "-o", str(tmp_path / "a"), "--config", str(short),
                                   "--no-clips"])
    assert res.exit_code == 1 and "--min-clips N on `videoad detect` and `videoad run`" in res.output, res.output
    # 27 s held at 10 fps only (tree.avi: 30 s, 14 clips); the learned backbones' clips are 16 frames apart
    assert "a slower camera 65 x 4 of its frames" in res.output and "65 x 16 frames" in res.output
    res = CliRunner().invoke(cli, ["run", str(root / "cam1"), "-o", str(tmp_path / "b"), "--config", str(short),
                                   "--no-clips", "--min-clips", "10"], catch_exceptions=False)
    assert res.exit_code == 0 and json.loads((tmp_path / "b" / "scores" / "run.json").read_text())["config"][
        "min_clips"] == 10


def test_a_run_output_folder_given_as_a_feature_store_is_named(footage, tmp_path):
    """`videoad cameras OUT` read features/ and history/ as one store (each video twice) and the
    scores' cells.h5 as a video; `detect OUT` the same."""
    root, cfg = footage
    out = tmp_path / "out"
    res = CliRunner().invoke(cli, ["run", str(root / "cam1"), "--fit-on", str(root / "cam2" / "a.avi"), "-o",
                                   str(out), "--config", str(cfg), "--no-clips"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    for args in (["cameras", str(out)], ["detect", str(out), "-o", str(tmp_path / "s")]):
        res = CliRunner().invoke(cli, args)
        assert res.exit_code == 1 and f"{out}: a `videoad run` output folder, not a feature store: give its " \
            f"store ({out / 'features'} or {out / 'history'})" in res.output, res.output
    assert CliRunner().invoke(cli, ["cameras", str(out / "features")]).exit_code == 0


def test_run_takes_a_seed_that_changes_the_seed_alone(footage, tmp_path):
    """run had no --seed; its one route, a --config holding `seed: N`, also replaced run's settings
    with detect's (mode per-category), so even `seed: 0` changed every score."""
    root, cfg = footage
    printed = {s: yaml.safe_load(CliRunner().invoke(cli, ["run", "--print-config", *s]).output)
               for s in ((), ("--seed", "3"))}
    assert printed[("--seed", "3")] == {**printed[()], "seed": 3}
    runs = {}
    for seed in ("0", "5"):
        res = CliRunner().invoke(cli, ["run", str(root / "cam1"), "-o", str(tmp_path / seed), "--config", str(cfg),
                                       "--no-clips", "--seed", seed], catch_exceptions=False)
        assert res.exit_code == 0, res.output
        runs[seed] = json.loads((tmp_path / seed / "scores" / "run.json").read_text())
    assert runs["5"]["config"] == {**runs["0"]["config"], "seed": 5}
    assert runs["5"]["groups"][0]["seed"] != runs["0"]["groups"][0]["seed"]


def test_run_refuses_videoads_own_folders_before_decoding_and_names_every_unreadable_input(footage, tmp_path):
    """`run VIDEO --fit-on FEATURES` (a feature store, as `detect --fit-on` takes) extracted all of
    INPUT first and then said "no videos found under FEATURES"; when no input could be read the
    error named no file and no reason."""
    root, cfg = footage
    res = CliRunner().invoke(cli, ["extract", str(root / "cam1"), "-o", str(tmp_path / "feats"), "--workers", "1"])
    assert res.exit_code == 0, res.output
    res = CliRunner().invoke(cli, ["run", str(root / "cam1" / "a.avi"), "--fit-on", str(tmp_path / "feats"),
                                   "-o", str(tmp_path / "r"), "--config", str(cfg)])
    assert res.exit_code == 2 and f"--fit-on {tmp_path / 'feats'} is a feature store, not footage" in res.output
    assert "--fit-on STORE" in res.output and not (tmp_path / "r" / "features").exists(), res.output
    res = CliRunner().invoke(cli, ["run", str(tmp_path / "feats"), "-o", str(tmp_path / "r2"), "--config", str(cfg)])
    assert res.exit_code == 2 and "INPUT" in res.output and "is a feature store, not footage" in res.output
    res = CliRunner().invoke(cli, ["run", str(root / "cam2" / "broken.avi"), "-o", str(tmp_path / "r3"),
                                   "--config", str(cfg)])
    assert res.exit_code == 1 and "could be read (broken.avi: " in res.output, res.output


def test_run_into_its_input_reruns_and_a_history_video_unread_is_said_and_exits_1(footage, tmp_path):
    """`run foot -o foot` worked once and was refused at every rerun (its output read as a run
    folder given as footage); a history video that could not be read was said on stderr alone,
    exit 0 (regression review)."""
    import shutil

    root, cfg = footage
    foot = tmp_path / "foot"
    shutil.copytree(root / "cam1", foot)
    for _ in range(2):
        res = CliRunner().invoke(cli, ["run", str(foot), "-o", str(foot), "--config", str(cfg), "--no-clips"])
        assert res.exit_code == 0, res.output
    res = CliRunner().invoke(cli, ["run", str(foot), "-o", str(tmp_path / "else"), "--config", str(cfg), "--no-clips"])
    assert res.exit_code == 0, res.output  # footage with a run's outputs inside: its footage read, not them
    res = CliRunner().invoke(cli, ["run", str(tmp_path / "else"), "-o", str(tmp_path / "x"), "--config", str(cfg)])
    assert res.exit_code == 2 and "is a `videoad run` output folder, not footage" in res.output  # no footage in it
    out = tmp_path / "h"
    res = CliRunner().invoke(cli, ["run", str(root / "cam1" / "a.avi"), "--fit-on", str(root / "cam2"), "-o", str(out),
                                   "--config", str(cfg), "--no-clips"])
    assert res.exit_code == 1 and "skipped broken.avi (history)" in res.output, res.output
    (left,) = json.loads((out / "scores" / "run.json").read_text())["history_left_out"]
    assert left["video"] == "broken.avi" and left["reason"].startswith("not extracted: ")
    assert "History videos left out" in (out / "report" / "index.html").read_text()


def test_a_video_deleted_since_its_extraction_failed_is_no_longer_named(footage, tmp_path):
    """The store's manifest kept `broken.avi: failed` after the file was deleted, and detect named
    it "not extracted" for ever: only the latest extraction's videos are."""
    import shutil

    from videoad.video.groups import not_extracted

    root, cfg = footage
    foot = tmp_path / "foot"
    shutil.copytree(root / "cam2", foot)
    res = CliRunner().invoke(cli, ["extract", str(foot), "-o", str(tmp_path / "f"), "--workers", "1"])
    assert res.exit_code == 1 and list(not_extracted(tmp_path / "f")) == ["broken.avi"], res.output
    # a second input into the same store: the first's broken video is still there, still named
    other = tmp_path / "other"
    shutil.copytree(root / "cam1", other)
    res = CliRunner().invoke(cli, ["extract", str(other), "-o", str(tmp_path / "f"), "--workers", "1"])
    assert res.exit_code == 0 and list(not_extracted(tmp_path / "f")) == ["broken.avi"], res.output
    (foot / "broken.avi").unlink()  # deleted since: no longer named
    res = CliRunner().invoke(cli, ["extract", str(foot), "-o", str(tmp_path / "f"), "--workers", "1"])
    assert res.exit_code == 0 and not_extracted(tmp_path / "f") == {}, res.output
    # a feature file removed since its extraction (its video still there) went unnamed: detect scored
    # the others and said nothing of it
    done = sorted(p for p in (tmp_path / "f").rglob("*.h5"))
    done[0].unlink()
    key = done[0].relative_to(tmp_path / "f").as_posix()[:-len(".h5")]
    assert list(not_extracted(tmp_path / "f")) == [key]
    assert "its feature file is missing" in not_extracted(tmp_path / "f")[key]
    res = CliRunner().invoke(cli, ["extract", str(foot), "-o", str(tmp_path / "f"), "--workers", "1"])
    res = CliRunner().invoke(cli, ["extract", str(other), "-o", str(tmp_path / "f"), "--workers", "1"])
    assert res.exit_code == 0 and not_extracted(tmp_path / "f") == {}, res.output  # made again


def test_a_broken_link_named_as_an_input_fails_alone(footage, tmp_path):
    """`videoad run footage/*.mp4` where the shell's list holds a link to a video since deleted (or
    a link that loops): "Error: input not found: .../gone.avi", exit 1, no other video extracted.
    Now the link is left out with why, as in a folder's walk, and the others are scored."""
    root, cfg = footage
    foot = tmp_path / "foot"
    foot.mkdir()
    (foot / "a.avi").symlink_to(root / "cam1" / "a.avi")
    (foot / "gone.avi").symlink_to(tmp_path / "nowhere.avi")
    (foot / "loop.avi").symlink_to("loop.avi")
    base, listing = list_inputs([foot / "a.avi", foot / "gone.avi", foot / "loop.avi"])
    assert base == foot and [s.key for s in listing.sources] == ["a.avi"]
    assert sorted(listing.errors) == ["gone.avi", "loop.avi"]
    res = CliRunner().invoke(cli, ["run", str(foot / "a.avi"), str(foot / "gone.avi"), str(foot / "loop.avi"),
                                   "-o", str(tmp_path / "r"), "--config", str(cfg), "--no-clips"])
    assert res.exit_code == 1, res.output
    assert "left out gone.avi: not extracted: broken symbolic link: its target " in res.output, res.output
    assert "left out loop.avi: not extracted: broken symbolic link: it loops" in res.output, res.output
    assert "1 video(s)" in res.output
    res = CliRunner().invoke(cli, ["run", str(foot / "gone.avi"), "-o", str(tmp_path / "r2"), "--config", str(cfg)])
    assert res.exit_code == 1 and "could be read (gone.avi: broken symbolic link" in res.output, res.output


def test_inputs_given_through_dot_dot_keep_keys_a_feature_file_can_take(footage, tmp_path, monkeypatch):
    """`cd today; videoad run . ../yesterday`: the inputs were made absolute with their `..` kept,
    so yesterday's videos were keyed `../yesterday/a.avi` and every one failed ("invalid store key");
    a frame folder given as `..` was keyed `..`. A `..` after a link still means the folder above
    where the link leads, as the file system reads it."""
    from extract.sources import absolute_path, find_sources

    root, _ = footage
    (tmp_path / "today").mkdir()
    (tmp_path / "today" / "a.avi").symlink_to(root / "cam1" / "a.avi")
    (tmp_path / "yesterday").mkdir()
    (tmp_path / "yesterday" / "a.avi").symlink_to(root / "cam2" / "a.avi")
    monkeypatch.chdir(tmp_path / "today")
    base, listing = list_inputs([".", "../yesterday"])
    assert base == tmp_path and [s.key for s in listing.sources] == ["today/a.avi", "yesterday/a.avi"]
    assert not listing.errors
    frames = tmp_path / "frames"
    for i in range(3):
        (frames / "sub").mkdir(parents=True, exist_ok=True)
        (frames / f"{i:03d}.jpg").write_bytes(b"")
    monkeypatch.chdir(frames / "sub")
    assert [s.key for s in find_sources("..").sources] == ["frames"]
    (tmp_path / "elsewhere" / "deep").mkdir(parents=True)
    (tmp_path / "link").symlink_to(tmp_path / "elsewhere" / "deep")
    base, listing = list_inputs([tmp_path / "link" / ".." / "deep", tmp_path / "today"])
    assert base == tmp_path and [s.key for s in listing.sources] == ["today/a.avi"]  # deep holds none
    assert absolute_path(tmp_path / "link" / "..") == tmp_path / "elsewhere"


def test_a_warning_logged_under_a_live_progress_bar_gets_its_own_line():
    """The console's log handler writes above the bar: a warning went onto the bar's own line
    (`... clips/s]WARNING videoad.cameras: ...` on a terminal) and the bar then wrote over it."""
    import subprocess
    import sys

    code = ("import logging, sys\n"
            "from tqdm import tqdm\n"
            "from videoad.cli import cli\n"
            "@cli.command('bar-and-warning')\n"
            "def bar_and_warning():\n"
            "    bar = tqdm(total=10, desc='extract', file=sys.stderr, mininterval=0)\n"
            "    bar.update(3)\n"
            "    logging.getLogger('videoad.cameras').warning('several cameras')\n"
            "    bar.update(3)\n"
            "    bar.close()\n"
            "cli(['bar-and-warning'])\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    err = done.stderr
    at = err.index("WARNING videoad.cameras: several cameras")
    assert at > 0 and err[at - 1] in "\r\n", repr(err)  # the bar's line was cleared first
    assert err[at:].split("\n", 1)[1].count("extract:") >= 1  # and the bar drawn again below it


def test_run_writes_its_notes_above_the_live_progress_bar(capsys):
    """`run`'s own notes during extraction (videos reused, a damaged file's warning) go above the
    bar, not onto its line."""
    from videoad.cli.run_cmd import _Stage

    stage = _Stage(True)
    stage.bar.total = 10
    stage.bar.update(3)
    stage.echo("features: 2 video(s) already extracted with these settings, reused", err=True)
    stage.close()
    err = capsys.readouterr().err
    at = err.index("features: 2 video(s)")
    assert at > 0 and err[at - 1] in "\r\n", repr(err)


def test_a_run_folder_given_for_its_scores_or_models_names_the_part_to_give(tmp_path):
    """`videoad run` prints its folder (runs/x); `videoad evaluate runs/x` said "not a scores folder,
    segments.csv is missing (write one with `videoad detect`)" and `watch --model runs/x` "no
    models.json; fit the models again", with runs/x/scores and runs/x/models right there."""
    run_dir = tmp_path / "runs" / "x"
    for part in ("features", "scores", "report"):
        (run_dir / part).mkdir(parents=True)
    res = CliRunner().invoke(cli, ["evaluate", str(run_dir), "--annotations", str(write_gt(tmp_path))])
    assert res.exit_code == 1 and f"give its scores folder, {run_dir / 'scores'}" in res.output, res.output
    res = CliRunner().invoke(cli, ["detect", str(run_dir / "features"), "--model", str(run_dir), "-o",
                                   str(tmp_path / "s")])
    assert res.exit_code == 1 and "with no models folder (`videoad run` saves them with --fit-on)" in res.output, \
        res.output
    (run_dir / "models").mkdir()
    (tmp_path / "cam.mp4").write_bytes(b"")  # the models are read first
    res = CliRunner().invoke(cli, ["watch", str(tmp_path / "cam.mp4"), "--model", str(run_dir), "-o",
                                   str(tmp_path / "live")])
    assert res.exit_code == 1 and f"give its models folder, {run_dir / 'models'}" in res.output, res.output
    res = CliRunner().invoke(cli, ["evaluate", str(run_dir / "features"), "--annotations", str(write_gt(tmp_path))])
    assert res.exit_code == 1 and "not a scores folder" in res.output  # any other folder: as before


def write_gt(folder):
    gt = folder / "gt.csv"
    gt.write_text("video,start,end\ncam,1,10\n")
    return gt


def _report_files(report) -> dict[str, tuple[int, int]]:
    """Each timeline, event picture and clip of a report folder by path: its inode and modification
    time (they are written through a temporary and a rename: a file made again is a new file, whose
    inode may be the one just freed, its time not)."""
    return {f"{p.parent.name}/{p.name}": (p.stat().st_ino, p.stat().st_mtime_ns) for sub in ("timelines", "events")
            for p in (report / sub).glob("*") if p.suffix in (".png", ".mp4", ".webm")}


def test_report_after_run_into_its_folder_remakes_nothing(footage, tmp_path):
    """`run` drew its report from the detector's float64 cell scores and `report` reads the float32
    ones stored in cells.h5: the first `videoad report OUT/scores -o OUT/report` after a run remade
    every event picture and clip (their keys hold the cell scores), on the same unchanged scores."""
    from videoad.scores import read_scores

    root, cfg = footage
    out = tmp_path / "out"
    res = CliRunner().invoke(cli, ["run", str(root / "cam1" / "a.avi"), str(root / "cam2" / "a.avi"), "-o", str(out),
                                   "--config", str(cfg), "--min-event", "0"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert read_scores(out / "scores").cell_grid is not None  # the pictures are keyed by cell scores
    made = _report_files(out / "report")
    assert any(n.startswith("events/") and n.endswith(".png") for n in made), made
    assert any(n.endswith((".mp4", ".webm")) for n in made), made
    res = CliRunner().invoke(cli, ["report", str(out / "scores"), "-o", str(out / "report")], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    again = _report_files(out / "report")
    assert sorted(again) == sorted(made)
    assert [n for n in made if again[n] != made[n]] == []


def test_a_runs_report_names_no_folder_of_the_analyst_but_where_footage_is_not_found(footage, tmp_path):
    """`run` into a deep folder, one video at another frame rate than its history and one broken:
    the page said "not extracted as the history /home/ana/.../run1/history" (run.json's reason, as
    `detect` wrote it). Now it names the run's history from the report (`../history`); with the
    footage moved away, `report` names its whole path only where it says the footage is not found."""
    root, cfg = footage
    frames, _ = render_video(None, seed=1, cfg=SceneConfig(n_frames=140))
    mixed = tmp_path / "cases" / "site" / "footage"
    write_video(mixed / "b30.avi", frames, 30.0)
    (mixed / "a15.avi").write_bytes((root / "cam1" / "a.avi").read_bytes())
    (mixed / "broken.avi").write_bytes(b"RIFF not really a video")
    out = tmp_path / "cases" / "site" / "deep" / "run1"
    res = CliRunner().invoke(cli, ["run", str(mixed), "--fit-on", str(root / "cam2" / "a.avi"), "--config", str(cfg),
                                   "--no-clips", "--max-fps", "0", "-o", str(out)])
    assert res.exit_code == 1 and f"not extracted as the history {out / 'history'}" in res.output, res.output
    page = (out / "report" / "index.html").read_text()
    assert "b30.avi</bdi>: not extracted as the history ../history (group" in page
    assert str(tmp_path) not in page and str(tmp_path.resolve()) not in page
    mixed.rename(mixed.with_name("moved"))
    res = CliRunner().invoke(cli, ["report", str(out / "scores"), "-o", str(out / "report"), "--no-clips"])
    assert res.exit_code == 0, res.output
    lines = [line for line in (out / "report" / "index.html").read_text().replace("<", "\n<").splitlines()
             if str(tmp_path) in line]
    assert lines and all(str(mixed / "a15.avi") in line and ("footage not found at" in line
                                                             or "source not readable" in line) for line in lines), lines
