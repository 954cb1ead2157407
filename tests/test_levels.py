"""One model per level of activity (`activity_levels: apart`, videoad.video.levels): a folder of one
camera by day and at night fitted as two groups, scored videos routed to their level."""
from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from test_coverage import motion_video, pooled_config

from videoad import video
from videoad.cli import cli
from videoad.scores import read_scores

DAY = {0: 0.3, 1: 0.2, 2: 0.25}
NIGHT = {c: 0.9 for c in range(4)}


def day_and_night(root) -> None:
    for i in range(2):
        motion_video(root, f"cam/day{i}.avi", 40, DAY, seed=i)
        motion_video(root, f"cam/night{i}.avi", 40, NIGHT, seed=10 + i)
    # clips 20-25 move in the still corner as much as a night clip does everywhere: the day's event
    motion_video(root, "cam/day2.avi", 40, DAY, seed=2, burst=(slice(20, 26), 3, 0.9))


def detect(tmp_path, args, name):
    res = CliRunner().invoke(cli, ["detect", *map(str, args), "--config", str(pooled_config(tmp_path)),
                                   "-o", str(tmp_path / name)], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return res.output, json.loads((tmp_path / name / "run.json").read_text())


def event_videos(tmp_path, name) -> set[str]:
    return {e["video"] for e in json.loads((tmp_path / name / "events.json").read_text())["events"]}


def test_a_day_and_night_folder_is_fitted_as_two_levels_and_the_day_event_is_found(tmp_path):
    """apart: two groups, the day videos under the quieter level's model and alarm line and the
    night videos under the busier one's, said once on the command line and in run.json; the day
    video's burst gets an event. together: one model, the two-levels warning instead, and its one
    alarm line, lifted by the night's noise, misses the day's event."""
    day_and_night(tmp_path / "both")
    out, run = detect(tmp_path, [tmp_path / "both", "--activity-levels", "apart"], "apart")
    groups = {g["group"]: g for g in run["groups"]}
    assert sorted(groups) == ["all (busier)", "all (quieter)"], sorted(groups)
    assert groups["all (quieter)"]["videos"] == ["cam/day0.avi", "cam/day1.avi", "cam/day2.avi"]
    assert groups["all (busier)"]["videos"] == ["cam/night0.avi", "cam/night1.avi"]
    level = groups["all (busier)"]["activity_level"]
    assert level["of"] == "all" and level["side"] == "busier" and level["videos"] == {"quieter": 3, "busier": 2}
    assert level["boundary"] > 0 and level["ratio"] >= 2
    assert "activity_split" not in groups["all (quieter)"] and "activity_split" not in groups["all (busier)"]
    assert out.count("warning: group all: its fitted footage falls into two levels of activity (2 video(s)") == 1, out
    assert groups["all (quieter)"]["threshold"] != groups["all (busier)"]["threshold"]
    scores = read_scores(tmp_path / "apart")
    assert {v.video: v.group for v in scores}["cam/day2.avi"] == "all (quieter)"
    assert "cam/day2.avi" in event_videos(tmp_path, "apart")
    burst = [v for v in scores if v.video == "cam/day2.avi"][0].scores
    assert burst[20:26].mean() > np.percentile(burst[:18], 90)

    out, run = detect(tmp_path, [tmp_path / "both", "--activity-levels", "together"], "together")
    (group,) = run["groups"]
    assert group["group"] == "all" and group["activity_split"]["busier"] == ["cam/night0.avi", "cam/night1.avi"]
    assert "mixes two levels of activity" in out and "--activity-levels apart" in out
    assert "cam/day2.avi" not in event_videos(tmp_path, "together")  # the night's noise lifted its one line
    res = CliRunner().invoke(cli, ["report", str(tmp_path / "apart"), "-o", str(tmp_path / "report"), "--no-clips"],
                             catch_exceptions=False)
    page = (tmp_path / "report" / "index.html").read_text()
    assert res.exit_code == 0 and page.count("scored by the model of the quieter of two levels of activity") == 3


def test_one_level_of_activity_is_fitted_as_before(tmp_path):
    """apart changes nothing where the footage is of one level: the same group, the same scores."""
    for i in range(4):
        motion_video(tmp_path / "day", f"cam/day{i}.avi", 40, DAY, seed=i)
    _, apart = detect(tmp_path, [tmp_path / "day", "--activity-levels", "apart"], "apart")
    _, together = detect(tmp_path, [tmp_path / "day", "--activity-levels", "together"], "together")
    assert [g["group"] for g in apart["groups"]] == ["all"] == [g["group"] for g in together["groups"]]
    a, b = read_scores(tmp_path / "apart"), read_scores(tmp_path / "together")
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.scores, y.scores)


def test_a_level_too_short_to_fit_keeps_the_group_whole(tmp_path):
    """Two night videos of 10 clips each are under min_clips (20) as a level: one model, the warning."""
    for i in range(3):
        motion_video(tmp_path / "f", f"cam/day{i}.avi", 40, DAY, seed=i)
    for i in range(2):
        motion_video(tmp_path / "f", f"cam/night{i}.avi", 8, NIGHT, seed=10 + i)
    out, run = detect(tmp_path, [tmp_path / "f", "--activity-levels", "apart"], "s")
    (group,) = run["groups"]
    assert group["group"] == "all" and "activity_split" in group and "mixes two levels of activity" in out
    # the warning told to pass --activity-levels apart, given already: it says why the group stayed whole
    assert "fitted together all the same, since the busier 16 clips < min_clips=20" in out, out
    assert "fit them apart (--activity-levels apart" not in out


@pytest.mark.parametrize("record, said", [
    ({"too_few_clips": {"quieter": 25, "busier": 30}, "min_clips": 20},
     "fitted together all the same (a level with fewer than min_clips=20 clips is not fitted apart; here the "
     "quieter has 25 clips and the busier has 30 clips)"),
    ({"too_few_clips": {"quieter": 25, "busier": 12}},
     "fitted together all the same (a level with fewer than min_clips clips is not fitted apart; here the "
     "quieter has 25 clips and the busier has 12 clips)"),
    ({"too_few_clips": {"quieter": 9, "busier": 12}, "min_clips": 20},
     "fitted together all the same, since the quieter 9 clips, the busier 12 clips < min_clips=20")])
def test_the_warning_of_a_group_kept_whole_names_each_levels_clips(record, said):
    """A run.json record whose levels are none under min_clips (edited, or without min_clips) was said as
    "since one level < min_clips=...": which level, and how short, unsaid (and `min_clips=None`)."""
    from videoad.coverage import warnings

    split = {"busier": ["cam/night0.avi", "cam/night1.avi"], "quieter": 3, "ratio": 4.0, "boundary": 0.1, **record}
    (line,) = warnings([{"group": "all", "activity_split": split}])
    assert said in line and "one level" not in line and "None" not in line, line


def test_a_history_of_two_levels_routes_each_scored_video_to_its_level(tmp_path):
    """--fit-on a day-and-night history: a day video is scored by the quieter level's model and a
    night one by the busier's; both levels are saved even when only day footage is scored, and
    --model routes a night video later to the busier level, with the scores the fit gave it."""
    day_and_night(tmp_path / "hist")
    motion_video(tmp_path / "new", "cam/day9.avi", 40, DAY, seed=20)
    motion_video(tmp_path / "new", "cam/night9.avi", 40, NIGHT, seed=21)
    motion_video(tmp_path / "day-only", "cam/day8.avi", 40, DAY, seed=22)
    _, run = detect(tmp_path, [tmp_path / "new", "--fit-on", tmp_path / "hist", "--activity-levels", "apart"], "ind")
    groups = {g["group"]: g["videos"] for g in run["groups"]}
    assert groups == {"all (quieter)": ["cam/day9.avi"], "all (busier)": ["cam/night9.avi"]}, groups
    fitted = {v.video: v.scores for v in read_scores(tmp_path / "ind")}

    _, run = detect(tmp_path, [tmp_path / "day-only", "--fit-on", tmp_path / "hist", "--activity-levels", "apart",
                               "--save-model", tmp_path / "models"], "day")
    assert {g["group"] for g in run["groups"] if g["videos"]} == {"all (quieter)"}
    saved = json.loads((tmp_path / "models" / "models.json").read_text())["groups"]
    assert sorted(saved) == ["all (busier)", "all (quieter)"]
    assert saved["all (busier)"]["activity_level"]["side"] == "busier"
    res = CliRunner().invoke(cli, ["detect", str(tmp_path / "new"), "--model", str(tmp_path / "models"),
                                   "-o", str(tmp_path / "later")], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    later = {v.video: (v.group, v.scores) for v in read_scores(tmp_path / "later")}
    assert later["cam/night9.avi"][0] == "all (busier)" and later["cam/day9.avi"][0] == "all (quieter)"
    for key in fitted:
        np.testing.assert_allclose(later[key][1], fitted[key], rtol=1e-5)
    # watch finds the pair in the folder (loading and switching between them: test_watch.py)
    from videoad.live.model import level_pair

    assert level_pair(saved) == {"quieter": "all (quieter)", "busier": "all (busier)"}
    # a damaged models.json is named with what is wrong
    index = json.loads((tmp_path / "models" / "models.json").read_text())
    del index["groups"]["all (busier)"]["activity_level"]["boundary"]
    (tmp_path / "models" / "models.json").write_text(json.dumps(index))
    res = CliRunner().invoke(cli, ["detect", str(tmp_path / "new"), "--model", str(tmp_path / "models"),
                                   "-o", str(tmp_path / "damaged")])
    assert res.exit_code != 0 and "models.json: group 'all (busier)' has an activity_level that is not" in res.output
    assert level_pair({"all (quieter)": saved["all (quieter)"]}) is None  # one level alone: not a pair
    other = {**saved, "cam2": {k: v for k, v in saved["all (quieter)"].items() if k != "activity_level"}}
    assert level_pair(other) is None and level_pair(other, of="all") == level_pair(saved)  # --group all
    # one level's model missing (its fit failed): its videos are skipped with the reason, the other's scored
    index = json.loads((tmp_path / "models" / "models.json").read_text())
    del index["groups"]["all (busier)"]
    (tmp_path / "models" / "models.json").write_text(json.dumps(index))
    res = CliRunner().invoke(cli, ["detect", str(tmp_path / "new"), "--model", str(tmp_path / "models"),
                                   "-o", str(tmp_path / "half")], catch_exceptions=False)
    assert res.exit_code == 0 and "skipped all (busier): no model for group 'all (busier)'" in res.output, res.output
    assert [v.video for v in read_scores(tmp_path / "half")] == ["cam/day9.avi"]


def test_a_still_quieter_level_puts_the_boundary_where_the_ratio_puts_it(tmp_path):
    """A day history in which nothing moves (median activity 0) against a busy night: the boundary
    floors the still side as the split's ratio does, so a day video with a little motion still goes
    to the quieter level, and the saved pair loads again (a boundary of 0 was refused as damaged)."""
    for i in range(3):
        motion_video(tmp_path / "hist", f"cam/still{i}.avi", 40, {}, seed=i)
        motion_video(tmp_path / "hist", f"cam/night{i}.avi", 40, NIGHT, seed=10 + i)
    motion_video(tmp_path / "new", "cam/day_one_walker.avi", 40, {0: 0.002}, seed=20)
    motion_video(tmp_path / "new", "cam/night9.avi", 40, NIGHT, seed=21)
    _, run = detect(tmp_path, [tmp_path / "new", "--fit-on", tmp_path / "hist", "--save-model",
                               tmp_path / "models"], "ind")
    groups = {g["group"]: (g["videos"], g["activity_level"]["boundary"]) for g in run["groups"]}
    assert groups["all (quieter)"][0] == ["cam/day_one_walker.avi"]
    assert groups["all (busier)"][0] == ["cam/night9.avi"]
    assert groups["all (quieter)"][1] >= 0.001  # at least the floor, between the two levels
    res = CliRunner().invoke(cli, ["detect", str(tmp_path / "new"), "--model", str(tmp_path / "models"),
                                   "-o", str(tmp_path / "later")], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert {v.video: v.group for v in read_scores(tmp_path / "later")} == {
        "cam/day_one_walker.avi": "all (quieter)", "cam/night9.avi": "all (busier)"}


def test_per_camera_models_split_by_level_name_each_videos_level(tmp_path):
    """--per-camera on a history where one camera shows day and night: that camera is fitted as its
    two levels; `--model` scores each new video with its level's model (the fit's scores), and
    `videoad cameras --model` names that level, not the first of the camera's two."""
    from test_cameras import scene

    for i in range(2):
        motion_video(tmp_path / "hist", f"road_day{i}.avi", 40, DAY, seed=i, attrs=scene("road", i))
        motion_video(tmp_path / "hist", f"road_night{i}.avi", 40, NIGHT, seed=10 + i, attrs=scene("road", 10 + i))
        motion_video(tmp_path / "hist", f"stripes{i}.avi", 40, {0: 0.3, 3: 0.3}, seed=20 + i,
                     attrs=scene("stripes", 20 + i))
    motion_video(tmp_path / "new", "road_day9.avi", 40, DAY, seed=30, attrs=scene("road", 30))
    motion_video(tmp_path / "new", "road_night9.avi", 40, NIGHT, seed=31, attrs=scene("road", 31))
    motion_video(tmp_path / "new", "stripes9.avi", 40, {0: 0.3, 3: 0.3}, seed=32, attrs=scene("stripes", 32))
    _, run = detect(tmp_path, [tmp_path / "new", "--fit-on", tmp_path / "hist", "--per-camera", "--save-model",
                               tmp_path / "models"], "fit")
    fitted = {v.video: (v.group, v.scores) for v in read_scores(tmp_path / "fit")}
    assert {k: g for k, (g, _) in fitted.items()} == {
        "road_day9.avi": "camera-01 (quieter)", "road_night9.avi": "camera-01 (busier)", "stripes9.avi": "camera-02"}
    res = CliRunner().invoke(cli, ["detect", str(tmp_path / "new"), "--model", str(tmp_path / "models"),
                                   "-o", str(tmp_path / "later")], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    for v in read_scores(tmp_path / "later"):
        assert v.group == fitted[v.video][0]
        np.testing.assert_allclose(v.scores, fitted[v.video][1], rtol=1e-5)
    res = CliRunner().invoke(cli, ["cameras", str(tmp_path / "new"), "--model", str(tmp_path / "models")],
                             catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert "road_day9.avi: camera-01 (quieter)" in res.output and "road_night9.avi: camera-01 (busier)" in res.output


def test_activity_levels_setting_is_checked():
    with pytest.raises(ValueError, match="activity_levels must be one of"):
        video.DetectConfig(activity_levels="split").check()


def test_a_video_with_values_that_are_not_numbers_does_not_hide_the_levels(tmp_path):
    """A damaged video (a NaN in its cells, left out at loading) has no activity to sort by: it
    used to sit among the others wherever the sort left it, and between a day and a night video it
    hid the split (one model over both, no warning of it either)."""
    import h5py

    from extract.store import key_path

    for name, moving, seed in [("c_day0", DAY, 0), ("d_night0", NIGHT, 10), ("e_bad", DAY, 5),
                               ("f_night1", NIGHT, 11), ("g_day1", DAY, 1), ("h_day2", DAY, 2)]:
        motion_video(tmp_path / "f", f"cam/{name}.avi", 40, moving, seed=seed)
    with h5py.File(key_path(tmp_path / "f", "cam/e_bad.avi"), "r+") as h:
        h["cells"][3, 0, 9] = np.nan
    res = CliRunner().invoke(cli, ["detect", str(tmp_path / "f"), "--config", str(pooled_config(tmp_path)),
                                   "--activity-levels", "apart", "-o", str(tmp_path / "s")], catch_exceptions=False)
    assert "left out cam/e_bad.avi" in res.output and "not finite numbers" in res.output, res.output
    run = json.loads((tmp_path / "s" / "run.json").read_text())
    groups = {g["group"]: g for g in run["groups"]}
    assert groups["all (busier)"]["videos"] == ["cam/d_night0.avi", "cam/f_night1.avi"], sorted(groups)
    assert groups["all (quieter)"]["videos"] == ["cam/c_day0.avi", "cam/g_day1.avi", "cam/h_day2.avi"]
    assert groups["all (busier)"]["activity_level"]["videos"] == {"quieter": 3, "busier": 2}


def test_a_level_that_itself_mixes_two_levels_says_why_it_is_fitted_whole(tmp_path):
    """Still, day and night videos: the widest ratio splits the still ones off, and the busier level
    (day and night) mixes two levels again. Only two levels are fitted apart, so it is fitted whole
    with the warning; the warning said a level had fewer than min_clips clips, where each has 80."""
    for i in range(2):
        motion_video(tmp_path / "f", f"cam/still{i}.avi", 40, {}, seed=30 + i)
        motion_video(tmp_path / "f", f"cam/day{i}.avi", 40, DAY, seed=i)
        motion_video(tmp_path / "f", f"cam/night{i}.avi", 40, NIGHT, seed=10 + i)
    out, run = detect(tmp_path, [tmp_path / "f", "--activity-levels", "apart"], "s")
    groups = {g["group"]: g for g in run["groups"]}
    assert groups["all (quieter)"]["videos"] == ["cam/still0.avi", "cam/still1.avi"]
    assert groups["all (busier)"]["activity_split"]["busier"] == ["cam/night0.avi", "cam/night1.avi"]
    assert "min_clips" not in out, out
    assert ("group all (busier): the footage its model was fitted on mixes two levels of activity" in out
            and "fitted together all the same: it is already one of the two levels group all was split into" in out)


def test_a_damaged_level_record_is_named_before_any_scoring(tmp_path):
    """An infinite boundary sent the night video to the quieter level's model in silence; a
    missing or non-number ratio, or video counts that are not an object, failed as a traceback once
    the scores were written (the warnings read them)."""
    import copy

    day_and_night(tmp_path / "hist")
    motion_video(tmp_path / "new", "cam/day9.avi", 40, DAY, seed=20)
    motion_video(tmp_path / "new", "cam/night9.avi", 40, NIGHT, seed=21)
    detect(tmp_path, [tmp_path / "new", "--fit-on", tmp_path / "hist", "--save-model", tmp_path / "m"], "fit")
    path = tmp_path / "m" / "models.json"
    good = json.loads(path.read_text())
    for key, value in (("boundary", float("inf")), ("ratio", None), ("ratio", "abc"), ("videos", "x")):
        index = copy.deepcopy(good)
        level = index["groups"]["all (busier)"]["activity_level"]
        if value is None:
            del level[key]
        else:
            level[key] = value
        path.write_text(json.dumps(index))
        res = CliRunner().invoke(cli, ["detect", str(tmp_path / "new"), "--model", str(tmp_path / "m"),
                                       "-o", str(tmp_path / f"s_{key}")], catch_exceptions=False)
        assert res.exit_code == 1, (key, value, res.output)
        assert f"{path}: group 'all (busier)' has an activity_level that is not" in res.output, (key, res.output)
        assert not (tmp_path / f"s_{key}" / "run.json").exists()


def test_levels_are_measured_on_the_videos_the_fit_keeps(tmp_path):
    """A video without cells among gridded ones is left out of the fit (laid out unlike most), but
    the split measured every stored video: its activity unknown, no split, and the fit then found
    the two levels and fitted them together ("fitted together all the same"). Now the split is
    measured on the videos the fit keeps, as the fit's own check is: two levels, the bare video
    left out, named."""
    from extract.store import write_video

    day_and_night(tmp_path / "both")
    starts = np.arange(40) * 16
    write_video(tmp_path / "both", "cam/bare.avi", np.random.default_rng(5).uniform(0, 0.1, (40, 60)).astype(np.float32),
                np.stack([starts, starts + 15], axis=1),
                {"n_frames": 640, "fps": 10.0, "clip_len": 16, "stride": 16, "backbone": "motion",
                 "backbone_options": json.dumps({"bins": 8})})
    out, run = detect(tmp_path, [tmp_path / "both", "--activity-levels", "apart"], "apart")
    groups = {g["group"]: g for g in run["groups"]}
    assert sorted(groups) == ["all (busier)", "all (quieter)"], (sorted(groups), out)
    assert groups["all (busier)"]["videos"] == ["cam/night0.avi", "cam/night1.avi"]
    assert "cam/day2.avi" in event_videos(tmp_path, "apart")
    assert "no cells in the store" in out and "cam/bare.avi" in out
