"""History coverage: grid cells a normal history never shows moving, and scored clips that move there."""
from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest
from click.testing import CliRunner
from video_helpers import FAST_DUAD

from extract.store import write_video
from videoad import coverage
from videoad.cli import cli

GRID = (2, 2)
#: a day's motion: three cells move, the bottom-right one never
DAY_CELLS = {0: 0.3, 1: 0.2, 2: 0.25}
BINS = 8  # the motion backbone's orientation bins, then 5 magnitude bins (moving shares), then 2 energies


def motion_video(root, key: str, n_clips: int, moving: dict[int, float], seed: int = 0,
                 burst: tuple[slice, int, float] | None = None, attrs: dict | None = None) -> None:
    """A store video laid out like the motion backbone's cells: `moving` gives, per cell, the share
    of its pixels that moved (spread over the magnitude bins); other cells hold sensor noise only.
    `burst`: (clips, cell, share), that cell moving so in those clips (an event). `attrs`: more
    attributes (a scene picture)."""
    rng = np.random.default_rng(seed)
    cells = np.zeros((n_clips, GRID[0] * GRID[1], BINS + 7), np.float32)
    cells[:, :, -2:] = rng.uniform(0.001, 0.003, (n_clips, 4, 2))  # frame-difference energy of a still scene
    for cell, share in moving.items():
        cells[:, cell, BINS:BINS + 5] = share / 5 * rng.uniform(0.8, 1.2, (n_clips, 5))
        cells[:, cell, :BINS] = rng.uniform(0.2, 0.6, (n_clips, BINS)) * share
    if burst is not None:
        clips, cell, share = burst
        cells[clips, cell, BINS:BINS + 5] = share / 5
        cells[clips, cell, :BINS] = 0.4 * share
    starts = np.arange(n_clips) * 16
    frames = np.stack([starts, starts + 15], axis=1)
    attrs = {"n_frames": int(frames[-1, 1]) + 1, "fps": 10.0, "clip_len": 16, "stride": 16, "backbone": "motion",
             "backbone_options": json.dumps({"bins": BINS}), "cell_region": [0.0, 0.0, 1.0, 1.0], **(attrs or {})}
    write_video(root, key, cells.reshape(n_clips, -1), frames, attrs, cells=cells, cell_grid=GRID)


def pooled_config(tmp_path):
    """A config file: one pooled group, a quick DUAD, groups of 20 clips allowed."""
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(json.dumps({"mode": "pooled", "min_clips": 20, "detector": {"name": "duad", "params": FAST_DUAD}}))
    return cfg


def test_moving_share_reads_the_motion_layout_and_nothing_else():
    cells = np.zeros((3, 4, BINS + 7))
    cells[:, 2, BINS:BINS + 5] = 0.06  # 30% of the cell's pixels moved
    share = coverage.moving_share(cells, {"backbone": "motion", "backbone_options": json.dumps({"bins": BINS})})
    np.testing.assert_allclose(share[:, 2], 0.3)
    assert np.all(share[:, [0, 1, 3]] == 0)
    assert coverage.moving_share(cells, {"backbone": "c3d"}) is None


def test_a_history_of_one_video_is_warned_of_once_as_the_other_footage_checks(tmp_path):
    """A --fit-on history of one video has its alarm line from its own fitted scores: said once,
    in the command line's words (`warning: group ...`), not as a log record of videoad.group_model."""
    hist, new = tmp_path / "history", tmp_path / "new"
    motion_video(hist, "cam/h0.avi", 60, {0: 0.3, 1: 0.2, 2: 0.25}, seed=0)
    motion_video(new, "cam/usual.avi", 40, {0: 0.3, 1: 0.2, 2: 0.25}, seed=10)
    res = CliRunner().invoke(cli, ["detect", str(new), "--config", str(pooled_config(tmp_path)), "--fit-on", str(hist),
                                   "-o", str(tmp_path / "scores")], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert res.output.count("the history is one video") == 1, res.output
    assert f"warning: group all: {coverage.ONE_VIDEO_HISTORY}" in res.output


def test_an_alarm_line_from_every_clip_for_want_of_a_selection_is_warned_of_once_as_the_footage_checks(tmp_path):
    """`line_from: selection` with a detector that keeps no selection reads the line from every
    fitted clip: that was a log record of videoad.group_model (a `WARNING videoad.group_model:`
    line, and nothing in the report) while the one-video history's note was a footage check.
    Now both are said once, as `warning: group ...`, and among the report's footage checks."""
    from videoad.report import build_report
    from videoad.scores import read_scores

    feats = tmp_path / "feats"
    for i in range(2):
        motion_video(feats, f"cam/v{i}.avi", 40, {0: 0.3, 1: 0.2, 2: 0.25}, seed=i)
    cfg = tmp_path / "knn.yaml"
    cfg.write_text(json.dumps({"mode": "pooled", "min_clips": 20, "detector": {"name": "knn", "params": {}},
                               "line_from": "selection"}))
    res = CliRunner().invoke(cli, ["detect", str(feats), "--config", str(cfg), "-o", str(tmp_path / "scores")],
                             catch_exceptions=False)
    assert res.exit_code == 0, res.output
    line = ("group all: line_from: selection: the knn detector keeps no normal selection; the alarm line is read "
            "from every fitted clip")
    assert res.output.count("keeps no normal selection") == 1, res.output
    assert f"warning: {line}" in res.output
    scores = read_scores(tmp_path / "scores")
    assert coverage.warnings(scores.groups) == [line]
    page = build_report(scores, tmp_path / "report", clips=False).read_text(encoding="utf-8")
    assert page.count("keeps no normal selection") == 1


def test_a_history_that_never_moves_in_a_cell_is_named_where_new_footage_does(tmp_path):
    """Fitted on a history in which the bottom-right cell never moves, scored footage that moves
    there gets a warning naming the cell and the clips (command line, run.json, report); footage
    that moves only where the history did gets none."""
    hist, new = tmp_path / "history", tmp_path / "new"
    for i in range(3):
        motion_video(hist, f"cam/h{i}.avi", 40, {0: 0.3, 1: 0.2, 2: 0.25}, seed=i)
    motion_video(new, "cam/usual.avi", 40, {0: 0.3, 1: 0.2, 2: 0.25}, seed=10)
    motion_video(new, "cam/lawn.avi", 40, {0: 0.3, 1: 0.2, 2: 0.25, 3: 0.4}, seed=11)
    cfg = pooled_config(tmp_path)
    res = CliRunner().invoke(cli, ["detect", str(new), "--config", str(cfg), "--fit-on", str(hist),
                                   "--save-model", str(tmp_path / "models"), "-o", str(tmp_path / "scores")],
                             catch_exceptions=False)
    assert res.exit_code == 0, res.output
    # cells named as events.csv and --ignore-cells name them (0-based row:col): they were 1-based here alone
    warning = ("warning: group all: the history never shows motion in grid cell(s) 1:1 (row:col from 0 at the "
               "top left); "
               "40 scored clip(s) of 1 video(s) do")
    assert warning in res.output
    assert "of them where the history never moved (unseen_cells)" in res.output  # the events' summary line
    # saved models carry what their history never showed
    res = CliRunner().invoke(cli, ["detect", str(new), "--model", str(tmp_path / "models"),
                                   "-o", str(tmp_path / "scores-saved")], catch_exceptions=False)
    assert res.exit_code == 0 and warning in res.output, res.output
    (group,) = json.loads((tmp_path / "scores" / "run.json").read_text())["groups"]
    assert group["history_still_cells"] == [3] and group["moving_where_history_still"] == {"cam/lawn.avi": 40}
    # each event in the unseen cell says so (events.csv's unseen_cells, row:col from 0)
    events = list(csv.DictReader(io.StringIO((tmp_path / "scores" / "events.csv").read_text())))
    assert events and all(e["video"] == "cam/lawn.avi" and e["unseen_cells"] == "1:1" for e in events)
    saved = (tmp_path / "scores-saved" / "events.csv").read_text()  # scored by the saved models: the same
    assert list(csv.DictReader(io.StringIO(saved))) == events
    res = CliRunner().invoke(cli, ["report", str(tmp_path / "scores"), "-o", str(tmp_path / "report"), "--no-clips"],
                             catch_exceptions=False)
    assert res.exit_code == 0, res.output
    page = (tmp_path / "report" / "index.html").read_text()
    assert "footage checks" in page
    assert page.count("history never moved here</span>") == len(events)
    assert page.count("40 clip(s) move where the history never did") == 1  # the lawn video's facts

    (tmp_path / "usual").mkdir()
    motion_video(tmp_path / "usual", "cam/usual.avi", 40, {0: 0.3, 1: 0.2, 2: 0.25}, seed=10)
    res = CliRunner().invoke(cli, ["detect", str(tmp_path / "usual"), "--config", str(cfg), "--fit-on", str(hist),
                                   "-o", str(tmp_path / "scores2")], catch_exceptions=False)
    assert res.exit_code == 0 and "warning" not in res.output, res.output
    # transductive runs have no history to vouch for anything: no check
    res = CliRunner().invoke(cli, ["detect", str(new), "--config", str(cfg), "-o", str(tmp_path / "scores3")],
                             catch_exceptions=False)
    assert res.exit_code == 0 and "history never shows" not in res.output
    # a cell the user left out (--ignore-cells) is scored nowhere: no warning about it
    res = CliRunner().invoke(cli, ["detect", str(new), "--config", str(cfg), "--fit-on", str(hist),
                                   "--ignore-cells", "1:1", "-o", str(tmp_path / "scores4")], catch_exceptions=False)
    assert res.exit_code == 0 and "history never shows" not in res.output, res.output
    (group,) = json.loads((tmp_path / "scores4" / "run.json").read_text())["groups"]
    assert group["history_still_cells"] == [] and group["ignored_cells"] == [3]


def test_activity_counts_the_pixels_that_moved_at_the_fast_edge_or_faster():
    """The whole picture's share of pixels moving at 0.5 px/frame or faster: the slowest magnitude
    bin (0.25-0.5, where a still picture's sensor noise lands) is left out; the cells' mean."""
    attrs = {"backbone": "motion", "backbone_options": json.dumps({"bins": BINS})}
    cells = np.zeros((2, 4, BINS + 7))
    cells[0, :, BINS] = 0.9          # clip 0: slow shimmer everywhere
    cells[1, 0, BINS + 1:BINS + 5] = 0.2  # clip 1: 80% of one cell moving at 0.5 px/frame or more
    np.testing.assert_allclose(coverage.activity(cells, attrs), [0.0, 0.2])
    np.testing.assert_allclose(coverage.moving_share(cells, attrs, 1.0)[1], [0.6, 0, 0, 0])
    # against a history in which next to nothing moved, the ratio stays finite
    assert coverage.busier_ratio(0.05, 0.0) == pytest.approx(0.05 / coverage.PEAK_FLOOR)
    assert coverage.busier_ratio(0.05, 0.02) == pytest.approx(2.5)
    assert coverage.activity(cells, {"backbone": "c3d"}) is None


def test_footage_far_busier_than_its_history_is_named(tmp_path):
    """Fitted on a day's history, footage moving nearly everywhere (night noise, heavy rain) gets a
    warning naming each such video and how much busier its median clip is; a video that only adds a
    walker where the history moved (1.3x) gets none; the saved models repeat it; the report lists it."""
    hist, new = tmp_path / "history", tmp_path / "new"
    day = {0: 0.3, 1: 0.2, 2: 0.25}
    for i in range(3):
        motion_video(hist, f"cam/h{i}.avi", 40, day, seed=i)
    motion_video(new, "cam/day.avi", 40, {**day, 3: 0.4}, seed=10)
    motion_video(new, "cam/night.avi", 40, {c: 0.9 for c in range(4)}, seed=11)
    cfg = pooled_config(tmp_path)
    res = CliRunner().invoke(cli, ["detect", str(new), "--config", str(cfg), "--fit-on", str(hist),
                                   "--save-model", str(tmp_path / "models"), "-o", str(tmp_path / "scores")],
                             catch_exceptions=False)
    assert res.exit_code == 0, res.output
    (group,) = json.loads((tmp_path / "scores" / "run.json").read_text())["groups"]
    peak = group["history_activity_peak"]
    assert 0.15 < peak < 0.19, peak  # 0.8 of 0.75 / 4 cells, the noise's 1.2 at most
    (ratio,) = group["busier_than_history"].values()
    assert list(group["busier_than_history"]) == ["cam/night.avi"] and 3.5 < ratio < 4.5, group
    line = f"warning: group all: 1 video(s) move in far more of the picture than any clip of the history did (cam/night.avi ({ratio:.1f}x)"
    assert line in res.output, res.output
    res = CliRunner().invoke(cli, ["detect", str(new), "--model", str(tmp_path / "models"),
                                   "-o", str(tmp_path / "scores-saved")], catch_exceptions=False)
    assert res.exit_code == 0 and line in res.output, res.output
    res = CliRunner().invoke(cli, ["report", str(tmp_path / "scores"), "-o", str(tmp_path / "report"), "--no-clips"],
                             catch_exceptions=False)
    page = (tmp_path / "report" / "index.html").read_text()
    assert res.exit_code == 0 and "move in far more of the picture" in page  # the summary
    # and the night video's own facts, under its timeline, alone
    assert page.count(f"moves in {ratio:.1f}x the share of the picture of the history&#x27;s busiest clip") == 1
    # the same night footage as its own history: nothing to warn of
    res = CliRunner().invoke(cli, ["detect", str(new), "--config", str(cfg), "--fit-on", str(new),
                                   "-o", str(tmp_path / "scores-own")], catch_exceptions=False)
    assert res.exit_code == 0 and "far more of the picture" not in res.output, res.output


def test_one_fit_over_two_levels_of_activity_is_named(tmp_path):
    """`activity_levels: together` (apart, the default, fits each level on its own: test_levels.py),
    fitted without a history on a folder holding two day videos and two night ones (motion
    nearly everywhere): the group's fitted footage splits into two levels, the night videos named
    with the ratio (command line, run.json's `activity_split`, the report's video facts). One night
    video among day ones is a quiet-or-busy hour, not a condition: nothing; nor four day videos."""
    day = {0: 0.3, 1: 0.2, 2: 0.25}
    night = {c: 0.9 for c in range(4)}
    both, one, none = tmp_path / "both", tmp_path / "one", tmp_path / "none"
    for i in range(2):
        motion_video(both, f"cam/day{i}.avi", 40, day, seed=i)
        motion_video(both, f"cam/night{i}.avi", 40, night, seed=10 + i)
    for i in range(3):
        motion_video(one, f"cam/day{i}.avi", 40, day, seed=i)
    motion_video(one, "cam/night0.avi", 40, night, seed=10)
    for i in range(4):
        motion_video(none, f"cam/day{i}.avi", 40, day, seed=i)
    cfg = pooled_config(tmp_path)
    cfg.write_text(json.dumps({**json.loads(cfg.read_text()), "activity_levels": "together"}))  # one model over both
    res = CliRunner().invoke(cli, ["detect", str(both), "--config", str(cfg), "-o", str(tmp_path / "s-both")],
                             catch_exceptions=False)
    assert res.exit_code == 0, res.output
    (group,) = json.loads((tmp_path / "s-both" / "run.json").read_text())["groups"]
    split = group["activity_split"]
    assert split["busier"] == ["cam/night0.avi", "cam/night1.avi"] and split["quieter"] == 2, split
    assert 3.5 < split["ratio"] < 5.0, split  # 0.72 of the picture against 0.15
    assert (f"warning: group all: the footage its model was fitted on mixes two levels of activity: 2 video(s) "
            f"(cam/night0.avi, cam/night1.avi) move in {split['ratio']:.1f}x the share of the picture of the other 2") \
        in res.output, res.output
    res = CliRunner().invoke(cli, ["report", str(tmp_path / "s-both"), "-o", str(tmp_path / "report"), "--no-clips"],
                             catch_exceptions=False)
    page = (tmp_path / "report" / "index.html").read_text()
    assert res.exit_code == 0 and page.count("among the busier of two levels of activity") == 2
    assert "footage checks" in page and "mixes two levels of activity" in page  # the summary's row
    # a history that mixes them: said when fitted, and again by the saved models (their line is its)
    res = CliRunner().invoke(cli, ["detect", str(none), "--config", str(cfg), "--fit-on", str(both),
                                   "--save-model", str(tmp_path / "models"), "-o", str(tmp_path / "s-hist")],
                             catch_exceptions=False)
    assert res.exit_code == 0 and "two levels of activity: 2 video(s) (cam/night0.avi, cam/night1.avi)" in res.output
    res = CliRunner().invoke(cli, ["detect", str(none), "--model", str(tmp_path / "models"),
                                   "-o", str(tmp_path / "s-saved")], catch_exceptions=False)
    assert res.exit_code == 0 and "two levels of activity: 2 video(s) (cam/night0.avi, cam/night1.avi)" in res.output
    for folder in (one, none):
        res = CliRunner().invoke(cli, ["detect", str(folder), "--config", str(cfg), "-o", str(tmp_path / f"s-{folder.name}")],
                                 catch_exceptions=False)
        assert res.exit_code == 0 and "two levels of activity" not in res.output, res.output
        (group,) = json.loads((tmp_path / f"s-{folder.name}" / "run.json").read_text())["groups"]
        assert "activity_split" not in group
    # a few near-still videos among a category of many: under a tenth of it on the quiet side, nothing said
    class V:
        def __init__(self, key, share):
            self.key, self.attrs = key, {"backbone": "motion", "backbone_options": json.dumps({"bins": BINS})}
            self.cells = np.zeros((3, 4, BINS + 7))
            self.cells[:, :, BINS + 1] = share

    many = [V(f"still{i}", 0.0001) for i in range(2)] + [V(f"cam{i}", 0.05 + 0.001 * i) for i in range(28)]
    assert coverage.activity_split(many) is None
    tenth = [V(f"still{i}", 0.0001) for i in range(4)] + many[2:]  # four of thirty-two: over a tenth
    assert coverage.activity_split(tenth)["quieter"] == 4


@pytest.mark.parametrize("key", ["history_still_cells", "ignored_cells"])
def test_a_saved_cell_outside_the_models_grid_is_named_before_scoring(tmp_path, key):
    """A models.json whose still (or ignored) cells name a cell past its grid (hand-edited, or
    another grid's) failed as an IndexError traceback when the footage checks ran."""
    for i in range(3):
        motion_video(tmp_path / "hist", f"cam/day{i}.avi", 40, {0: 0.3}, seed=i)
    motion_video(tmp_path / "new", "cam/x.avi", 40, {0: 0.3, 3: 0.5}, seed=9)
    res = CliRunner().invoke(cli, ["detect", str(tmp_path / "new"), "--fit-on", str(tmp_path / "hist"), "--config",
                                   str(pooled_config(tmp_path)), "-o", str(tmp_path / "fit"),
                                   "--save-model", str(tmp_path / "m")], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    path = tmp_path / "m" / "models.json"
    index = json.loads(path.read_text())
    index["groups"]["all"][key] = [1, 4]  # a 2x2 grid: cells 0-3
    path.write_text(json.dumps(index))
    res = CliRunner().invoke(cli, ["detect", str(tmp_path / "new"), "--model", str(tmp_path / "m"),
                                   "-o", str(tmp_path / "later")], catch_exceptions=False)
    assert res.exit_code == 1 and "Traceback" not in res.output, res.output
    assert (f"{path}: group 'all': '{key}' must be a list of cell numbers 0-3 of its 2x2 grid, got '[1, 4]'; "
            "fit the models again") in " ".join(res.output.split()), res.output


def test_a_damaged_backbone_options_attribute_leaves_its_video_out_named(tmp_path):
    """A feature file whose backbone_options is not a JSON object (edited by hand, another tool,
    damaged) stopped the run with a JSON traceback's words naming no file; now that video is left
    out, its file and attribute named, and the others are scored. The coverage checks, met with it
    outside a run, do not say."""
    hist, new = tmp_path / "history", tmp_path / "new"
    for i in range(3):
        motion_video(hist, f"cam/h{i}.avi", 40, DAY_CELLS, seed=i,
                     attrs={"backbone_options": "{bins: 8"} if i == 1 else None)
        motion_video(new, f"cam/v{i}.avi", 40, DAY_CELLS, seed=10 + i)
    res = CliRunner().invoke(cli, ["detect", str(new), "--config", str(pooled_config(tmp_path)), "--fit-on", str(hist),
                                   "-o", str(tmp_path / "scores")], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert f"{hist / 'cam' / 'h1.avi.h5'}: not a readable feature file (its backbone_options attribute is not JSON" \
        in res.output
    cells = np.zeros((3, 4, BINS + 7))
    for options in ("{bins: 8", "[8]", json.dumps({"bins": "eight"})):
        assert coverage.moving_share(cells, {"backbone": "motion", "backbone_options": options}) is None


@pytest.mark.parametrize("repeated", ["lots", float("nan")])
def test_a_repeated_frames_attribute_that_is_not_a_count_leaves_that_check_alone(tmp_path, caplog, repeated):
    """A history video whose `repeated_frames` is not a count stopped the run ("could not convert
    string to float") or told of "nan%" repeated frames; now it is named (file and video) and the
    repeated-frames check leaves it out: the run scores as before."""
    hist, new = tmp_path / "history", tmp_path / "new"
    for i in range(3):
        motion_video(hist, f"cam/h{i}.avi", 40, DAY_CELLS, seed=i, attrs={"repeated_frames": repeated if i == 1 else 0})
        motion_video(new, f"cam/v{i}.avi", 40, DAY_CELLS, seed=10 + i, attrs={"repeated_frames": 0})
    res = CliRunner().invoke(cli, ["detect", str(new), "--config", str(pooled_config(tmp_path)), "--fit-on", str(hist),
                                   "-o", str(tmp_path / "scores")], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert f"{hist / 'cam' / 'h1.avi.h5'} (cam/h1.avi): its repeated_frames attribute is" in caplog.text
    assert "the repeated-frames check leaves it out" in caplog.text
    assert "nan%" not in res.output + caplog.text
    run = json.loads((tmp_path / "scores" / "run.json").read_text())
    assert not run.get("left_out") and all("repeats" not in g for g in run["groups"])


@pytest.mark.parametrize("region", ["[0.5, 0.5, 0.2, 0.2]", "[0.5, 0.5,"])
def test_an_invalid_cell_region_in_the_store_is_named_and_the_groups_is_used(tmp_path, caplog, region):
    """A video's `cell_region` attribute that is not a region was replaced by the group's in silence,
    and on the group's first video became the group's region (JSON that does not parse stopped the
    run); now it is named (file and video), and the group's region is a valid one."""
    import h5py

    feats = tmp_path / "feats"
    for i in range(3):
        motion_video(feats, f"cam/v{i}.avi", 40, DAY_CELLS, seed=i)
    with h5py.File(feats / "cam" / "v0.avi.h5", "r+") as f:  # write_video refuses it: edited by hand
        f.attrs["cell_region"] = region
    res = CliRunner().invoke(cli, ["detect", str(feats), "--config", str(pooled_config(tmp_path)),
                                   "-o", str(tmp_path / "scores")], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert f"{feats / 'cam' / 'v0.avi.h5'} (cam/v0.avi): cell_region" in caplog.text
    assert "its heat maps are placed on the group's cell region" in caplog.text
    run = json.loads((tmp_path / "scores" / "run.json").read_text())
    assert run["cell_region"] == [0.0, 0.0, 1.0, 1.0]
    assert "cell_region" not in next(v for v in run["videos"] if v["video"] == "cam/v0.avi")


def test_an_invalid_cell_region_in_a_scores_folder_is_named(tmp_path, caplog):
    """A video's cell_region in run.json that is not a region was replaced by the run's in silence."""
    from videoad.scores import read_scores

    feats = tmp_path / "feats"
    for i in range(2):
        motion_video(feats, f"cam/v{i}.avi", 40, DAY_CELLS, seed=i)
    res = CliRunner().invoke(cli, ["detect", str(feats), "--config", str(pooled_config(tmp_path)),
                                   "-o", str(tmp_path / "scores")], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    run_json = tmp_path / "scores" / "run.json"
    run = json.loads(run_json.read_text())
    next(v for v in run["videos"] if v["video"] == "cam/v1.avi")["cell_region"] = [0.5, 0.0, 0.2, 1.0]
    run_json.write_text(json.dumps(run))
    scores = read_scores(tmp_path / "scores")
    assert next(v for v in scores.videos if v.video == "cam/v1.avi").cell_region is None
    assert f"{run_json}: video 'cam/v1.avi': cell_region [0.5, 0.0, 0.2, 1.0] is not" in caplog.text


def test_damaged_timeline_and_source_attributes_are_named_not_a_failed_group(tmp_path, caplog):
    """A scene_cut_frames or damaged_spans attribute that is not a list of frames failed the whole
    group with a JSON error naming no file; a source_size that is not a count did too, once the
    scores were assembled. Now the timeline's marks are left off that video, named, and a file
    whose source fingerprint is damaged is left out, named: the others are scored."""
    feats = tmp_path / "feats"
    odd = {0: {"scene_cuts": 1, "scene_cut_frames": "[12, "}, 1: {"damaged_spans": "[[3, 9], [12]]"},
           2: {"source_size": "big", "source_files": 1}}
    for i in range(4):
        motion_video(feats, f"cam/v{i}.avi", 40, DAY_CELLS, seed=i, attrs=odd.get(i))
    res = CliRunner().invoke(cli, ["detect", str(feats), "--config", str(pooled_config(tmp_path)),
                                   "-o", str(tmp_path / "scores")], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert f"{feats / 'cam' / 'v0.avi.h5'} (cam/v0.avi): its scene_cut_frames attribute is '[12, ', not a list " \
           "of frame numbers: its timeline marks no scene cut" in caplog.text
    assert f"{feats / 'cam' / 'v1.avi.h5'} (cam/v1.avi): its damaged_spans attribute is" in caplog.text
    assert f"left out cam/v2.avi: {feats / 'cam' / 'v2.avi.h5'}: not a readable feature file (its source_size " \
           "attribute is 'big', not a count)" in res.output + caplog.text
    run = json.loads((tmp_path / "scores" / "run.json").read_text())
    assert sorted(v["video"] for v in run["videos"]) == ["cam/v0.avi", "cam/v1.avi", "cam/v3.avi"]
    v0 = next(v for v in run["videos"] if v["video"] == "cam/v0.avi")
    assert v0["scene_cuts"] == 1 and not v0.get("scene_cut_frames")
