"""Several cameras in one store: the scene picture each feature file keeps, and `--per-camera`."""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from video_helpers import FAST_DUAD, fake_video, write_labels

from extract.scene import SCENE_SHAPE, SceneSampler, scene_attr, scene_of
from videoad import cameras, video
from videoad.datasets.annotations import read_annotations
from videoad.metrics import evaluate_scores

CFG = video.DetectConfig(mode="per-camera", detector="duad", params=FAST_DUAD, min_clips=50, seed=3)


def picture(kind: str, seed: int = 0, gain: float = 1.0, offset: float = 0.0) -> np.ndarray:
    """A camera's background: a gradient or stripes, with a little noise; `gain`/`offset` an exposure."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:SCENE_SHAPE[0], 0:SCENE_SHAPE[1]]
    base = 60 + 4 * x if kind == "road" else 90 + 60 * ((y // 4) % 2)
    return np.clip(gain * (base + rng.normal(0, 3, SCENE_SHAPE)) + offset, 0, 255).astype(np.uint8)


def scene(kind: str, seed: int = 0, frame=(240, 320), **exposure) -> dict:
    return {"scene": scene_attr(picture(kind, seed, **exposure)), "frame_size": list(frame)}


def test_pictures_of_one_camera_match_across_exposure_and_cameras_stay_apart():
    same = cameras.similarity(picture("road", 1), picture("road", 2, gain=0.6, offset=30))
    other = cameras.similarity(picture("road", 1), picture("stripes", 1))
    assert same > 0.95 > cameras.SAME_CAMERA > other
    assert cameras.similarity(np.full(SCENE_SHAPE, 7), picture("road")) == 0.0  # a flat picture says nothing
    pics = [picture("road", 1), picture("stripes", 2), picture("road", 3, gain=1.3), picture("stripes", 4, offset=-20),
            picture("road", 5)]
    assert cameras.cluster(pics).tolist() == [0, 1, 0, 1, 0]
    # the same view at another aspect ratio is another camera
    sizes = [[240, 320], [240, 320], [240, 320], [240, 320], [720, 1280]]
    assert cameras.cluster(pics, sizes).tolist() == [0, 1, 0, 1, 2]
    assert cameras.cluster([picture("road")]).tolist() == [0]


def test_blank_pictures_are_one_camera_and_join_no_other():
    """A covered lens or a blank feed keeps a flat picture: flat pictures have no correlation to
    speak of with a real view, and are one camera among themselves (not one camera per video),
    by the exact clustering, the sampled one and the match against a saved camera."""
    blank = [np.full(SCENE_SHAPE, v) for v in (7, 7, 90, 200)]
    assert cameras.similarity(blank[0], blank[2]) == 1.0
    assert cameras.similarity(blank[0], picture("road")) == 0.0
    pics = [blank[0], picture("road", 1), blank[1], picture("road", 2), blank[2], blank[3]]
    assert cameras.cluster(pics).tolist() == [0, 1, 0, 1, 0, 0]
    sizes = [[240, 320]] * 5 + [[720, 1280]]  # another aspect stays apart, flat or not
    assert cameras.cluster(pics, sizes).tolist() == [0, 1, 0, 1, 0, 2]
    known = {"cam-1": {"scene": blank[0].ravel().tolist(), "frame_size": [240, 320]},
             "cam-2": {"scene": picture("road").ravel().tolist(), "frame_size": [240, 320]}}
    assert cameras.match(blank[3], [240, 320], known) == ("cam-1", 1.0)
    assert cameras.match(picture("road", 4), [240, 320], known)[0] == "cam-2"


def test_the_sampler_keeps_the_background_of_a_stream_of_any_length():
    rng = np.random.default_rng(0)
    bg = rng.integers(0, 255, (96, 128, 3), dtype=np.uint8)
    sampler = SceneSampler(samples=8)

    def frames(n):
        for x in rng.integers(0, 100, n):
            f = bg.copy()
            f[30:70, x:x + 28] = 255  # people passing, somewhere new in every kept frame
            yield f

    passed = sum(1 for _ in sampler.watch(frames(1000)))
    assert passed == 1000 and 8 <= len(sampler.kept) < 16 and sampler.step >= 64
    from extract.scene import thumbnail

    assert np.abs(sampler.picture().astype(int) - thumbnail(bg).astype(int)).mean() < 2.0
    assert SceneSampler().picture() is None
    # stored as the store keeps lists (JSON text) and read back; damaged values read as none
    assert np.array_equal(scene_of({"scene": json.dumps(scene_attr(sampler.picture()))}), sampler.picture())
    for bad in ({}, {"scene": "[1, 2]"}, {"scene": "not json"}, {"scene": 3}):
        assert scene_of(bad) is None


def two_cameras(root, history: bool = False):
    """Camera "road": normal clips along one direction, planted anomalies along another, which is
    what camera "stripes" shows every day; both in one folder."""
    videos = {}
    for i in range(2):
        videos[f"site/road{i}.mp4"] = fake_video(root, f"site/road{i}.mp4", 60, seed=i,
                                                 anomalous=() if history else [10, 11, 40], attrs=scene("road", i))
    for i in range(2):
        info = fake_video(root, f"site/stripes{i}.mp4", 60, seed=10 + i, anomalous=range(60),
                          attrs=scene("stripes", 10 + i, offset=10 * i))
        videos[f"site/stripes{i}.mp4"] = {**info, "intervals": []}  # all of it is that camera's normal
    return videos


def test_per_camera_fits_each_camera_on_its_own(tmp_path):
    videos = two_cameras(tmp_path / "store")
    ann = read_annotations(write_labels(tmp_path / "labels.csv", videos))
    per_camera = video.detect(tmp_path / "store", CFG)
    assert sorted(g["group"] for g in per_camera.groups) == ["camera-01", "camera-02"]
    assert {v.video: v.group for v in per_camera} == {"site/road0.mp4": "camera-01", "site/road1.mp4": "camera-01",
                                                     "site/stripes0.mp4": "camera-02", "site/stripes1.mp4": "camera-02"}
    one_model = video.detect(tmp_path / "store", video.DetectConfig(**{**CFG.__dict__, "mode": "per-category"}))
    assert evaluate_scores(per_camera, ann).pooled.auroc > 0.95 > evaluate_scores(one_model, ann).pooled.auroc


def test_one_model_on_a_history_names_scored_videos_of_a_camera_the_history_does_not_show(tmp_path):
    """Pooled on the road camera's history: today's road video (another exposure) is that camera,
    the stripes video is not; it is scored all the same, and named (run.json's `unknown_views`, the
    warning line), by the fit and by the saved models alike. Per camera, it is left out instead."""
    from videoad import coverage

    hist, scored = tmp_path / "history", tmp_path / "scored"
    for i in range(2):
        fake_video(hist, f"road{i}.mp4", 60, seed=i, attrs=scene("road", i))
    fake_video(scored, "road_today.mp4", 40, seed=30, attrs=scene("road", 30, gain=0.8))
    fake_video(scored, "stripes_today.mp4", 40, seed=31, attrs=scene("stripes", 31))
    pooled = video.DetectConfig(**{**CFG.__dict__, "mode": "pooled"})
    models = tmp_path / "models"
    for s in (video.fit_and_score(hist, scored, pooled, save_models=models), video.score(scored, models)):
        assert sorted(v.video for v in s) == ["road_today.mp4", "stripes_today.mp4"]  # both scored
        (group,) = s.groups
        (sim,) = group["unknown_views"].values()
        assert list(group["unknown_views"]) == ["stripes_today.mp4"] and sim < cameras.SAME_CAMERA
        (line,) = coverage.warnings(s.groups)
        assert line.startswith("group all: 1 video(s) show none of the history's camera views "
                               f"(stripes_today.mp4 ({sim:.2f}): the best correlation")
        assert coverage.video_notes("stripes_today.mp4", group) == [
            f"shows none of the history's cameras (scene correlation {sim:.2f})"]  # the report's facts
        assert coverage.video_notes("road_today.mp4", group) == []
    # the history's own camera only: nothing to say
    alike = video.fit_and_score(hist, hist, pooled)
    assert "unknown_views" not in alike.groups[0] and coverage.warnings(alike.groups) == []
    per_camera = video.fit_and_score(hist, scored, CFG)
    assert [e["video"] for e in per_camera.meta["left_out"]] == ["stripes_today.mp4"]
    assert all("unknown_views" not in g for g in per_camera.groups)


def test_per_camera_on_a_history_scores_each_video_with_its_cameras_model(tmp_path):
    two_cameras(tmp_path / "history", history=True)
    scored = tmp_path / "scored"
    fake_video(scored, "road_today.mp4", 40, seed=30, anomalous=[5, 6], attrs=scene("road", 30, gain=0.8))
    fake_video(scored, "stripes_today.mp4", 40, seed=31, anomalous=range(40), attrs=scene("stripes", 31))
    checks = (np.indices(SCENE_SHAPE).sum(axis=0) % 2) * 200  # a third camera, not in the history
    fake_video(scored, "elsewhere.mp4", 40, seed=32, attrs={"scene": scene_attr(checks), "frame_size": [240, 320]})
    models = tmp_path / "models"
    for s in (video.fit_and_score(tmp_path / "history", scored, CFG, save_models=models), video.score(scored, models)):
        by_video = {v.video: v for v in s}
        assert by_video["road_today.mp4"].group == "camera-01" and by_video["stripes_today.mp4"].group == "camera-02"
        assert set(np.argsort(-by_video["road_today.mp4"].scores)[:2]) == {5, 6}
        left = {e["video"]: e["reason"] for e in s.meta["left_out"]}
        whose = "models'" if s.meta.get("models") else "history's"  # detect --model: the saved models' cameras
        assert list(left) == ["elsewhere.mp4"] and f"matches none of the {whose} cameras" in left["elsewhere.mp4"]
    index = json.loads((models / "models.json").read_text())
    assert len(index["groups"]["camera-01"]["camera"]["scene"]) == SCENE_SHAPE[0] * SCENE_SHAPE[1]
    # saved while today's footage shows the road alone: the stripes camera is kept all the same,
    # and scores its own footage later
    road_only = tmp_path / "road-only"
    fake_video(road_only / "s", "road_today.mp4", 40, seed=30, attrs=scene("road", 30, gain=0.8))
    fitted = video.fit_and_score(tmp_path / "history", road_only / "s", CFG, save_models=road_only / "models")
    assert {g["group"]: g["status"] for g in fitted.groups} == {"camera-01": "scored", "camera-02": "fitted"}
    later = video.score(scored, road_only / "models")
    assert {v.video: v.group for v in later} == {"road_today.mp4": "camera-01", "stripes_today.mp4": "camera-02"}
    # a live stream needs one camera's model: the choice names each camera by its history's videos
    from videoad.live import WatchError, WatchModel

    with pytest.raises(WatchError, match=r"camera-01 \(site/road0.mp4, site/road1.mp4\); "
                                         r"camera-02 \(site/stripes0.mp4, site/stripes1.mp4\)\): name one with --group"):
        WatchModel.load(models)


def test_per_camera_without_pictures_names_the_files(tmp_path):
    fake_video(tmp_path / "old", "cam/a.mp4", 60, seed=1)
    with pytest.raises(ValueError, match=r"1 feature file\(s\) keep no scene picture .*a.mp4.h5.*rerun the same extract command"):
        video.detect(tmp_path / "old", CFG)


def test_a_scored_video_without_a_picture_is_left_out_alone(tmp_path):
    """Per-camera models on a history: one scored file of an older extraction (no picture) or with
    a damaged picture stopped the scoring of every camera (`--fit-on` and `--model`); it is left
    out with why, the others scored. `videoad run`'s choice of grouping says why it keeps one
    model over all (it said nothing)."""
    two_cameras(tmp_path / "history", history=True)
    scored = tmp_path / "scored"
    fake_video(scored, "road_today.mp4", 40, seed=30, attrs=scene("road", 30, gain=0.8))
    fake_video(scored, "old.mp4", 40, seed=31)  # no picture
    fake_video(scored, "torn.mp4", 40, seed=32, attrs={"scene": "[1, 2, 3]", "frame_size": [240, 320]})
    models = tmp_path / "models"
    for s in (video.fit_and_score(tmp_path / "history", scored, CFG, save_models=models), video.score(scored, models)):
        assert {v.video: v.group for v in s} == {"road_today.mp4": "camera-01"}
        left = {e["video"]: e["reason"] for e in s.meta["left_out"]}
        assert sorted(left) == ["old.mp4", "torn.mp4"] and left["old.mp4"] == cameras.NO_PICTURE
    fits, why = cameras.per_camera_fits(video.open_store(tmp_path / "history"), video.open_store(scored), 50)
    assert not fits and "of the scored videos 2 keep no scene picture or a damaged one (old.mp4, torn.mp4)" in why
    fake_video(tmp_path / "history", "site/old.mp4", 60, seed=33)  # and one of the history
    fits, why = cameras.per_camera_fits(video.open_store(tmp_path / "history"), None, 50)
    assert not fits and why.startswith("the videos with a scene picture show several cameras, but 1 keep no scene "
                                       "picture or a damaged one (site/old.mp4): one model over all")


def test_detect_per_camera_on_the_command_line(tmp_path):
    from click.testing import CliRunner

    from videoad.cli import cli

    two_cameras(tmp_path / "store")
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(f"min_clips: 50\ndetector:\n  name: duad\n  params: {json.dumps(FAST_DUAD)}\n")
    res = CliRunner().invoke(cli, ["detect", str(tmp_path / "store"), "-o", str(tmp_path / "out"), "--per-camera",
                                    "--config", str(cfg)])
    assert res.exit_code == 0, res.output
    run = json.loads((tmp_path / "out" / "run.json").read_text())
    assert run["config"]["mode"] == "per-camera" and len(run["groups"]) == 2
    assert "camera-01: 2 video(s) (site/road0.mp4, site/road1.mp4)" in res.output
    mixed = CliRunner().invoke(cli, ["detect", str(tmp_path / "store"), "-o", str(tmp_path / "mixed"),
                                     "--per-category", "--config", str(cfg)])
    assert mixed.exit_code == 0, mixed.output
    assert "note: group site fits one model over 2 cameras" in mixed.output and "camera-01" not in mixed.output


def test_extraction_keeps_each_videos_picture_and_a_rerun_adds_it_to_older_files(tmp_path):
    """New feature files carry the picture; a current file written before pictures were kept gets
    one from a decode of its source on the next run, its features untouched."""
    import h5py
    from _extract_media import make_frames, make_video

    from extract.backbones.motion import MotionBackbone
    from extract.run import ExtractOptions, extract_videos
    from extract.store import FeatureStore

    make_video(tmp_path / "in" / "cam" / "a.avi", 40)
    make_frames(tmp_path / "in" / "cam" / "b", 40)
    opts = ExtractOptions(workers=1, progress=False, recursive=True, image_fps=10)
    assert extract_videos(tmp_path / "in", tmp_path / "out", MotionBackbone(), opts).ok
    store = FeatureStore(tmp_path / "out")
    first = {k: (scene_of(store.attrs(k)), store.load(k, cells=True)) for k in store.keys()}
    assert sorted(first) == ["cam/a.avi", "cam/b"] and all(p.shape == SCENE_SHAPE for p, _ in first.values())
    for key in first:  # as a file of an earlier version: no picture
        with h5py.File(store.path(key), "r+") as f:
            del f.attrs["scene"]
    again = extract_videos(tmp_path / "in", tmp_path / "out", MotionBackbone(), opts)
    assert {r.status for r in again.results.values()} == {"skipped"}
    # each says it (after what its extraction said of it, which a resumed entry keeps: scene cuts found)
    assert all(r.note.endswith("scene picture added") for r in again.results.values())
    for key, (pic, feats) in first.items():
        assert np.array_equal(scene_of(store.attrs(key)), pic)
        now = store.load(key, cells=True)
        assert np.array_equal(now.features, feats.features) and np.array_equal(now.cells, feats.cells)
    assert not [p for p in (tmp_path / "out" / "cam").iterdir() if p.name.endswith(".tmp")]


def test_a_rerun_of_extraction_replaces_a_damaged_picture_and_leaves_an_empty_one(tmp_path):
    """A picture damaged in the file (not 32x24 values) reads as none, and --per-camera sends the
    user to rerun extraction; that rerun kept the damaged picture (it looked for the attribute
    alone), so the advice went round in a circle. An empty picture (no frame seen) stays."""
    import h5py
    from _extract_media import make_video

    from extract.backbones.motion import MotionBackbone
    from extract.run import ExtractOptions, extract_videos
    from extract.store import FeatureStore

    make_video(tmp_path / "in" / "a.avi", 40)
    make_video(tmp_path / "in" / "b.avi", 40)
    opts = ExtractOptions(workers=1, progress=False)
    assert extract_videos(tmp_path / "in", tmp_path / "out", MotionBackbone(), opts).ok
    store = FeatureStore(tmp_path / "out")
    good = scene_of(store.attrs("a.avi"))
    with h5py.File(store.path("a.avi"), "r+") as f:
        f.attrs["scene"] = "[1, 2, 3]"
    with h5py.File(store.path("b.avi"), "r+") as f:
        f.attrs["scene"] = "[]"
    with pytest.raises(ValueError, match=r"keep no scene picture or a damaged one .*a.avi.h5.*replaces a damaged"):
        cameras.pictures_of(store, ["a.avi"])
    again = extract_videos(tmp_path / "in", tmp_path / "out", MotionBackbone(), opts)
    assert again.results["a.avi"].note.endswith("scene picture added in place of a damaged one")
    assert "scene picture" not in (again.results["b.avi"].note or "")
    store = FeatureStore(tmp_path / "out")
    assert np.array_equal(scene_of(store.attrs("a.avi")), good) and scene_of(store.attrs("b.avi")) is None


def test_one_model_over_several_cameras_is_named_and_points_to_per_camera(tmp_path, caplog):
    two_cameras(tmp_path / "store")
    with caplog.at_level("WARNING", logger="videoad.cameras"):
        s = video.detect(tmp_path / "store", video.DetectConfig(**{**CFG.__dict__, "mode": "per-category"}))
    assert [g.get("cameras") for g in s.groups] == [2]
    assert "fit one model over videos of several cameras" in caplog.text and "--per-camera" in caplog.text
    # the command that lists them, with the store to give it (`run`'s is inside its -o, no path the user typed)
    assert f"`videoad cameras {tmp_path / 'store'}` lists them" in caplog.text
    assert [g.get("cameras_short") for g in s.groups] == [0] and "too few for a model" not in caplog.text
    caplog.clear()
    clips = [int(video.open_store(tmp_path / "store").attrs(k)["n_clips"]) for k in s.groups[0]["videos"]]
    # a min_clips past each camera's clips and within the group's: the group is fitted, no camera would be
    with caplog.at_level("WARNING", logger="videoad.cameras"):  # (the demo's footage: --per-camera scored nothing)
        s = video.detect(tmp_path / "store", video.DetectConfig(**{**CFG.__dict__, "mode": "per-category",
                                                                   "min_clips": sum(clips) - 1}))
    assert [g.get("cameras_short") for g in s.groups] == [2], s.groups
    assert "2 of these cameras hold fewer than min_clips=" in caplog.text and "would skip them" in caplog.text
    from videoad.events import find_events
    from videoad.report import _summary

    assert "group site fits one model over 2 cameras" in _summary(s, find_events(s), tmp_path / "report")
    caplog.clear()
    with caplog.at_level("WARNING", logger="videoad.cameras"):
        s = video.detect(tmp_path / "store", CFG)
    assert all("cameras" not in g for g in s.groups) and "several cameras" not in caplog.text


def test_stored_frame_sizes_keep_cameras_of_other_aspects_apart(tmp_path):
    """The store keeps frame sizes as JSON text; read back, the same picture at another aspect is
    another camera (the pictures alone would join them), and a saved camera keeps its size."""
    fake_video(tmp_path / "s", "a.mp4", 60, seed=1, attrs=scene("road", 1))
    fake_video(tmp_path / "s", "b.mp4", 60, seed=2, attrs=scene("road", 2))
    fake_video(tmp_path / "s", "wide.mp4", 60, seed=3, attrs=scene("road", 3, frame=(720, 1280)))
    store = video.open_store(tmp_path / "s")
    assert cameras.camera_groups(store) == {"camera-01": ["a.mp4", "b.mp4"], "camera-02": ["wide.mp4"]}
    saved = cameras.camera_pictures(store, cameras.camera_groups(store))
    assert saved["camera-02"]["frame_size"] == [720, 1280]
    assert cameras.match(picture("road", 4), [720, 1280], saved)[0] == "camera-02"
    assert cameras.match(picture("road", 4), [240, 320], saved)[0] == "camera-01"


def test_a_sheet_that_cannot_be_written_is_named_after_the_survey(tmp_path):
    """--sheet into a folder that cannot be made (a file is in its way): PIL's traceback, after the
    survey; then named after it (exit 1); now a usage error before it, as an -o under a file is. (A
    folder that does not exist yet is made.)"""
    from click.testing import CliRunner

    from videoad.cli import cli

    two_cameras(tmp_path / "store")
    (tmp_path / "no").write_text("a file, not a folder")
    res = CliRunner().invoke(cli, ["cameras", str(tmp_path / "store"), "--sheet", str(tmp_path / "no" / "s.png")])
    assert res.exit_code == 2 and isinstance(res.exception, SystemExit), res.output  # no traceback
    assert f"cannot make '{tmp_path / 'no' / 's.png'}': '{tmp_path / 'no'}' is a file, not a folder" in res.output


def test_the_cameras_command_lists_what_per_camera_would_fit(tmp_path):
    from click.testing import CliRunner

    from videoad.cli import cli

    two_cameras(tmp_path / "store")
    fake_video(tmp_path / "store", "site/old.mp4", 60, seed=9)  # extracted before pictures were kept
    (tmp_path / "store" / "site" / "torn.mp4.h5").write_bytes(b"not hdf5 at all")  # a damaged file
    res = CliRunner().invoke(cli, ["cameras", str(tmp_path / "store"), "--sheet", str(tmp_path / "sheet.png")])
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert lines[0] == "2 camera(s) among 4 video(s) with a scene picture (joined at a correlation of 0.85 or more)"
    assert lines[4].startswith("unreadable: ") and "torn.mp4.h5" in lines[4], res.output
    assert lines[1].startswith("camera-01: 2 video(s), frames 320x240: site/road0.mp4, site/road1.mp4; lowest "
                               "correlation within 0.9")
    assert "camera-02: 2 video(s)" in lines[2] and "nearest camera-01" in lines[2]
    assert "1 video(s) keep no scene picture (site/old.mp4)" in lines[3]
    assert (tmp_path / "sheet.png").stat().st_size > 2000
    found = json.loads(CliRunner().invoke(cli, ["cameras", str(tmp_path / "store"), "--json"]).output)
    assert [c["videos"] for c in found["cameras"]] == [["site/road0.mp4", "site/road1.mp4"],
                                                      ["site/stripes0.mp4", "site/stripes1.mp4"]]
    # a threshold of -1 joins everything of one aspect
    res = CliRunner().invoke(cli, ["cameras", str(tmp_path / "store"), "--threshold", "-1"])
    assert res.output.startswith("1 camera(s)"), res.output
    res = CliRunner().invoke(cli, ["cameras", str(tmp_path / "nothing")])
    assert res.exit_code != 0


def test_the_cameras_command_says_which_saved_camera_each_video_matches(tmp_path):
    from click.testing import CliRunner

    from videoad.cli import cli

    two_cameras(tmp_path / "history", history=True)
    scored = tmp_path / "scored"
    fake_video(scored, "road_today.mp4", 40, seed=30, attrs=scene("road", 30, gain=0.8))
    checks = (np.indices(SCENE_SHAPE).sum(axis=0) % 2) * 200  # a camera the history lacks
    fake_video(scored, "elsewhere.mp4", 40, seed=32, attrs={"scene": scene_attr(checks), "frame_size": [240, 320]})
    fake_video(scored, "wide.mp4", 40, seed=33, attrs=scene("road", 33, frame=(720, 1280)))  # another shape
    video.detect(tmp_path / "history", CFG, save_models=tmp_path / "models")
    res = CliRunner().invoke(cli, ["cameras", str(scored), "--model", str(tmp_path / "models")])
    assert res.exit_code == 0, res.output
    assert re.search(r"road_today.mp4: camera-01 \(correlation (0\.9\d|1\.00)\)", res.output), res.output
    assert re.search(r"elsewhere.mp4: none \(best correlation -?0\.\d\d, under 0.85\): left out", res.output)
    # frames of a shape none of the cameras has: said so (it read "best correlation -1.00")
    assert "wide.mp4: none (its frames' shape is that of none of the cameras): left out" in res.output, res.output
    left = {e["video"]: e["reason"] for e in video.score(scored, tmp_path / "models").meta["left_out"]}
    assert set(left) == {"elsewhere.mp4", "wide.mp4"}  # what detect --model does with them
    assert left["wide.mp4"].startswith("its frames' shape (width / height) is that of none of the models' cameras")
    # --threshold groups the survey; the matches stay detect's (at -1 it said elsewhere.mp4 was camera-01's)
    res = CliRunner().invoke(cli, ["cameras", str(scored), "--model", str(tmp_path / "models"), "--threshold", "-1"])
    assert res.exit_code == 0 and re.search(r"elsewhere.mp4: none \(best correlation -?0\.\d\d, under 0.85\)",
                                            res.output), res.output
    one = tmp_path / "one"
    video.detect(tmp_path / "history", video.DetectConfig(**{**CFG.__dict__, "mode": "pooled"}), save_models=one)
    res = CliRunner().invoke(cli, ["cameras", str(scored), "--model", str(one)])
    assert res.exit_code != 0 and "not fitted per camera" in res.output


def test_many_pictures_are_clustered_on_a_sample_without_an_n_by_n_matrix(monkeypatch):
    """Over CLUSTER_EXACT pictures the cameras come from an even sample and every picture is
    attached to the best camera mean; a camera the sample missed is found among the rest. The
    grouping equals the exact one."""
    rng = np.random.default_rng(5)
    kinds = [("road", (240, 320)), ("stripes", (240, 320)), ("road", (720, 1280))]
    truth, pics, sizes = [], [], []
    for i in range(600):
        cam = int(rng.integers(0, 3))
        kind, frame = kinds[cam]
        truth.append(cam)
        pics.append(picture(kind, 1000 + i, gain=float(rng.uniform(0.6, 1.3)), offset=float(rng.uniform(-20, 20))))
        sizes.append(list(frame))
    sample = set(np.linspace(0, 599, 64).round().astype(int).tolist())
    rare = [i for i in range(600) if i not in sample][100:103]  # a fourth camera, in none of the sampled places
    checks = (np.indices(SCENE_SHAPE).sum(axis=0) % 2) * 200
    for i in rare:
        truth[i], pics[i], sizes[i] = 3, np.clip(checks + rng.normal(0, 3, SCENE_SHAPE), 0, 255), [240, 320]
    exact = cameras.cluster(pics, sizes)
    monkeypatch.setattr(cameras, "CLUSTER_EXACT", 64)
    built = []
    real = cameras._cluster_rows

    def spy(flat, aspects, threshold):
        built.append(len(flat))
        return real(flat, aspects, threshold)

    monkeypatch.setattr(cameras, "_cluster_rows", spy)
    sampled = cameras.cluster(pics, sizes)

    def partition(labels):
        return sorted(sorted(np.flatnonzero(labels == c).tolist()) for c in set(labels.tolist()))

    assert partition(sampled) == partition(exact) == partition(np.array(truth))
    assert len(set(sampled.tolist())) == 4 and sampled[0] == 0
    assert built[0] == 600 and max(built[1:]) <= 64  # every exact clustering on at most CLUSTER_EXACT pictures


def test_the_report_of_a_per_camera_run_shows_each_cameras_background(tmp_path):
    from videoad.report import build_report

    two_cameras(tmp_path / "store")
    scores = video.detect(tmp_path / "store", CFG)
    page = build_report(scores, tmp_path / "report", clips=False).read_text()
    assert "<h3>Cameras</h3>" in page and "<bdi>camera-01</bdi>: 2 video(s)" in page and "<bdi>camera-02</bdi>: 2 video(s)" in page
    # each video's facts and each event row name the camera whose model scored it (only a filter's
    # hidden text did)
    assert "camera <bdi>camera-01</bdi>" in page and "camera <bdi>camera-02</bdi>" in page
    alarmed = video.detect(tmp_path / "store", video.DetectConfig(**{**CFG.__dict__, "alarm": "quantile",
                                                                      "alarm_level": 0.8}))
    rows = build_report(alarmed, tmp_path / "report-events", clips=False).read_text()
    assert "<span class=camera title='the camera whose model scored it'><bdi>camera-0" in rows
    import cv2

    road = cv2.imread(str(tmp_path / "report" / "cameras" / "camera-01.png"), cv2.IMREAD_GRAYSCALE)
    assert road.shape == (SCENE_SHAPE[0] * 5, SCENE_SHAPE[1] * 5)
    assert cameras.similarity(cv2.resize(road, SCENE_SHAPE[::-1], interpolation=cv2.INTER_AREA), picture("road")) > 0.95
    (tmp_path / "store").rename(tmp_path / "moved")  # the report built again where the store is gone
    page = build_report(scores, tmp_path / "report2", clips=False).read_text()
    assert "<h3>Cameras</h3><p class=note>Their pictures cannot be read: " in page and "no such feature store" in page
    pooled = video.detect(tmp_path / "moved", video.DetectConfig(**{**CFG.__dict__, "mode": "pooled"}))
    page = build_report(pooled, tmp_path / "report3", clips=False).read_text()
    assert "<h3>Cameras</h3>" not in page and "class=camera" not in page


def test_the_survey_of_a_large_camera_compares_a_sample_of_its_videos(tmp_path, monkeypatch):
    for i in range(6):
        fake_video(tmp_path / "s", f"cam/{i}.mp4", 30, seed=i, attrs=scene("road", i, gain=0.8 + 0.05 * i))
    fake_video(tmp_path / "s", "other/x.mp4", 30, seed=9, attrs=scene("stripes", 9))
    monkeypatch.setattr(cameras, "SURVEY_PAIRS", 3)
    found = cameras.survey(video.open_store(tmp_path / "s"))
    road, stripes = found["cameras"]
    assert len(road["videos"]) == 6 and road["within_sampled"] and road["lowest_within"] > 0.9
    assert not stripes["within_sampled"] and stripes["lowest_within"] is None
    assert road["nearest"]["camera"] == stripes["name"] and road["nearest"]["mean_correlation"] < 0.85
    assert "lowest correlation within 0.9" in cameras.survey_text(found) and "(of 3 of its videos)" in \
        cameras.survey_text(found)
    sheet = cameras.contact_sheet(video.open_store(tmp_path / "s"), found, tmp_path / "sheet.png", per_camera=4)
    assert sheet.stat().st_size > 2000


def test_a_camera_of_another_shape_has_no_nearest_and_a_store_without_pictures_still_gets_its_survey(tmp_path):
    """"nearest camera-02 (-1.00)": the mark for frames of another shape read as a correlation; and
    `--sheet` on a store without pictures failed before printing the survey."""
    from click.testing import CliRunner

    from videoad.cli import cli

    fake_video(tmp_path / "s", "a.mp4", 60, seed=1, attrs=scene("road", 1))
    fake_video(tmp_path / "s", "wide.mp4", 60, seed=3, attrs=scene("road", 3, frame=(720, 1280)))
    found = cameras.survey(video.open_store(tmp_path / "s"))
    assert [c["nearest"] for c in found["cameras"]] == [None, None]
    assert "nearest" not in cameras.survey_text(found)
    fake_video(tmp_path / "bare", "old.mp4", 60, seed=9)  # extracted before pictures were kept
    res = CliRunner().invoke(cli, ["cameras", str(tmp_path / "bare"), "--sheet", str(tmp_path / "sheet.png")])
    assert res.exit_code == 0, res.output
    assert "1 video(s) keep no scene picture (old.mp4)" in res.output
    assert "no pictures drawn: " in res.output and "pictures: " not in res.output.replace("no pictures drawn", "")


def test_matching_many_pictures_gives_each_ones_match():
    rng = np.random.default_rng(0)
    pics = [rng.uniform(0, 255, (24, 32)) for _ in range(9)]
    pics[3] = np.full((24, 32), 128.0)  # a blank feed
    sizes = [[240, 320]] * 8 + [[720, 1280]]
    known = {f"c{i}": {"scene": (pics[i] + rng.normal(0, 3, (24, 32))).ravel().tolist(), "frame_size": [240, 320]}
             for i in (0, 2, 3, 8)}
    known["blank"] = {"scene": [50.0] * 768, "frame_size": [240, 320]}
    many = cameras.match_many(pics, sizes, known)
    for pic, size, got in zip(pics, sizes, many):
        names = list(known)
        sims = cameras.similarities([pic, *[np.asarray(known[n]["scene"]).reshape(24, 32) for n in names]],
                                    [size, *[known[n]["frame_size"] for n in names]])[0, 1:]
        best = int(np.argmax(sims))
        assert got == ((names[best] if sims[best] >= cameras.SAME_CAMERA else None), pytest.approx(sims[best]))
    assert [m[0] for m in many][:4] == ["c0", None, "c2", "blank"] and many[8][0] is None  # blank joins blank; c8: its shape


def test_unknown_views_leave_a_video_without_a_picture_out_and_pair_the_rest_rightly(tmp_path):
    """A scored video without a picture shifted every later key onto the wrong picture (or failed)."""
    fake_video(tmp_path / "s", "1_road.mp4", 60, seed=1, attrs=scene("road", 1))
    fake_video(tmp_path / "s", "2_old.mp4", 60, seed=2)  # no picture
    fake_video(tmp_path / "s", "3_yard.mp4", 60, seed=3, attrs=scene("yard", 3))
    store = video.open_store(tmp_path / "s")
    views = {"camera-01": {"scene": picture("yard", 4).ravel().tolist(), "frame_size": [240, 320]}}
    unknown = cameras.unknown_views(store, store.keys(), views)
    assert list(unknown) == ["1_road.mp4"]


def test_a_cameras_scores_stay_when_another_cameras_footage_joins_the_store(tmp_path):
    """Per-camera groups are numbered over the whole store (camera-01, ...): footage of a camera
    whose key sorts first renamed the others, and the seed drawn from the name changed their scores."""
    two_cameras(tmp_path / "a")
    before = {v.video: (v.group, v.scores) for v in video.detect(tmp_path / "a", CFG)}
    two_cameras(tmp_path / "b")
    for i in range(2):  # a third camera, sorting before the others
        gate = np.ascontiguousarray(np.fliplr(picture("road", 20 + i)))  # the gradient the other way
        fake_video(tmp_path / "b", f"site/a_gate{i}.mp4", 60, seed=20 + i,
                   attrs={"scene": scene_attr(gate), "frame_size": [240, 320]})
    after = {v.video: (v.group, v.scores) for v in video.detect(tmp_path / "b", CFG)}
    assert after["site/road0.mp4"][0] != before["site/road0.mp4"][0]  # renumbered: camera-01 -> camera-02
    for key, (_, scores) in before.items():
        np.testing.assert_array_equal(after[key][1], scores, err_msg=key)


def test_a_camera_the_fit_left_without_a_model_is_named_when_its_footage_comes_later(tmp_path, monkeypatch):
    """A camera with too little history is skipped at the fit; its later footage read "matches none
    of the models' cameras" (as of a camera never seen), which sent the user looking for the wrong
    thing. models.json now keeps such a camera's picture and why it has no model, and `detect
    --model`, `videoad cameras --model` and `watch` say that it is that camera."""
    from click.testing import CliRunner

    from videoad.cli import cli
    from videoad.live import WatchModel
    from videoad.live.camera import CameraModels

    blocks = (((np.indices(SCENE_SHAPE) // 4).sum(axis=0) % 2) * 200).astype(np.uint8)
    two_cameras(tmp_path / "history", history=True)
    fake_video(tmp_path / "history", "site/zblocks.mp4", 20, seed=40,  # 20 clips < min_clips 50
               attrs={"scene": scene_attr(blocks), "frame_size": [240, 320]})
    scored = tmp_path / "scored"
    fake_video(scored, "road_today.mp4", 40, seed=30, attrs=scene("road", 30, gain=0.8))
    fake_video(scored, "blocks_today.mp4", 40, seed=41, attrs={"scene": scene_attr(blocks), "frame_size": [240, 320]})
    why = "it shows camera-03 (site/zblocks.mp4), which the fit left without a model (20 clips of its footage at " \
          "the fit, under min_clips=50: fit again with more of it)"
    models, models_t = tmp_path / "models", tmp_path / "models-t"
    fitted = video.fit_and_score(tmp_path / "history", scored, CFG, save_models=models)
    assert {g["group"]: g["status"] for g in fitted.groups}["camera-03"] == "skipped"
    video.detect(tmp_path / "history", CFG, save_models=models_t)  # transductive: the same record
    for folder in (models, models_t):
        index = json.loads((folder / "models.json").read_text())
        assert sorted(index["groups"]) == ["camera-01", "camera-02"]
        assert list(index["unfitted_cameras"]) == ["camera-03"]
        assert index["unfitted_cameras"]["camera-03"]["camera"]["videos"] == ["site/zblocks.mp4"]
        later = video.score(scored, folder)
        assert {v.video: v.group for v in later} == {"road_today.mp4": "camera-01"}
        assert {e["video"]: e["reason"] for e in later.meta["left_out"]} == {"blocks_today.mp4": why}
    res = CliRunner().invoke(cli, ["cameras", str(scored), "--model", str(models)])
    assert res.exit_code == 0 and f"blocks_today.mp4: none ({why}): left out" in res.output, res.output
    # watch: a source of that camera is told so, by the per-camera models and by one camera's model
    frames = [np.repeat(np.kron(blocks, np.ones((10, 10), np.uint8))[..., None], 3, axis=2)] * 8

    class Feed:
        name = "blocks.avi"

        def open(self):
            return type("Stream", (), {"frames": iter(frames), "close": lambda self: None})()

    from types import SimpleNamespace

    import videoad.live.model as live_model

    # the test's features come from no real backbone: one that cuts clips as they were stands in
    monkeypatch.setattr(live_model, "build_backbone", lambda *a, **k: SimpleNamespace(clip_len=16, cell_grid=None))
    assert CameraModels.of(models).for_feed(Feed())[:2] == (None, why)
    assert list(WatchModel.load(models, "camera-01").unfitted) == ["camera-03"]
    # a models.json without the record (an earlier version's) reads as before
    index = json.loads((models / "models.json").read_text())
    del index["unfitted_cameras"]
    (models / "models.json").write_text(json.dumps(index))
    (left,) = video.score(scored, models).meta["left_out"]
    assert left["reason"].startswith("its scene matches none of the models' cameras (camera-01, camera-02;")


def test_per_camera_names_each_video_that_a_scene_cut_splits_between_views(tmp_path):
    """A recorder that exported two cameras into one file: its one scene picture (the median over all
    of it) is the camera it shows longest, so --per-camera scores it whole with that camera's model,
    the part after the cut against that camera's normal. It is scored so all the same, and named:
    by detect, by a fit on a history and by saved models (run.json's `scene_cut_views`, a warning
    line, the report's facts under its timeline), and by `videoad cameras`."""
    from click.testing import CliRunner

    from videoad import coverage
    from videoad.cli import cli

    store = tmp_path / "store"
    two_cameras(store, history=True)
    # 60 clips: frames 0-964; the road camera to frame 699, then the stripes camera
    fake_video(store, "site/switched.mp4", 60, seed=7,
               attrs={**scene("road", 7), "scene_cuts": 1, "scene_cut_frames": "[700]"})
    fake_video(store, "site/older.mp4", 60, seed=8, attrs={**scene("road", 8), "scene_cuts": 2})  # count alone
    assert cameras.cut_videos(video.open_store(store), video.open_store(store).keys()) == {
        "site/older.mp4": {"cuts": 2},
        "site/switched.mp4": {"cuts": 1, "frames": [700], "parts": [[0, 699], [700, 964]]}}
    # where the picture came from: the longer of two parts; equal parts mix both; more cuts, more parts
    assert cameras.cut_parts_text({"cuts": 1, "frames": [50], "parts": [[0, 49], [50, 99]]}) == (
        "scene cut at frame 50: frames 0-49 and 50-99, as long as each other (its picture mixes both views)")
    assert cameras.cut_parts_text({"cuts": 2, "frames": [50, 80], "parts": [[0, 49], [50, 79], [80, 99]]}) == (
        "scene cuts at frames 50, 80: 3 parts, which may show more than one view")
    s = video.detect(store, CFG, save_models=tmp_path / "models")
    by_group = {g["group"]: g for g in s.groups}
    assert {v.video: v.group for v in s}["site/switched.mp4"] == "camera-01"  # scored whole, as the road camera
    cut = by_group["camera-01"]["scene_cut_views"]
    assert sorted(cut) == ["site/older.mp4", "site/switched.mp4"] and "scene_cut_views" not in by_group["camera-02"]
    (line,) = coverage.warnings(s.groups)
    assert line.startswith("group camera-01: 2 video(s) change view at a scene cut (site/older.mp4 (2 scene cut(s), "
                           "not placed"), line
    assert ("site/switched.mp4 (scene cut at frame 700: frames 700-964 (after the cut, the shorter part) show "
            "another view)): each is scored whole as camera-01") in line
    assert "against camera-01's normal" in line and "videoad watch" in line
    (note,) = coverage.video_notes("site/switched.mp4", by_group["camera-01"])
    assert note.startswith("scored whole as camera-01 though its view changes at a scene cut (scene cut at frame 700")
    assert coverage.video_notes("site/road0.mp4", by_group["camera-01"]) == []
    # run.json keeps it
    from videoad.scores import write_scores

    write_scores(tmp_path / "out", s)
    run = json.loads((tmp_path / "out" / "run.json").read_text())
    assert {g["group"]: sorted(g.get("scene_cut_views", {})) for g in run["groups"]}["camera-01"] == [
        "site/older.mp4", "site/switched.mp4"]
    # a fit on a history, and saved models, name it as well
    scored = tmp_path / "scored"
    fake_video(scored, "switched_today.mp4", 40, seed=9,
               attrs={**scene("stripes", 9), "scene_cuts": 1, "scene_cut_frames": "[100]"})
    fake_video(scored, "stripes_today.mp4", 40, seed=10, attrs=scene("stripes", 10))
    for again in (video.fit_and_score(store, scored, CFG), video.score(scored, tmp_path / "models")):
        (group,) = [g for g in again.groups if g.get("scene_cut_views")]
        assert group["group"] == "camera-02" and list(group["scene_cut_views"]) == ["switched_today.mp4"]
        assert "frames 0-99 (before the cut, the shorter part) show another view" in coverage.warnings(
            again.groups)[0]
    # the survey, before any fit
    res = CliRunner().invoke(cli, ["cameras", str(store)])
    assert res.exit_code == 0, res.output
    assert ("camera-01: 2 of its video(s) change view at a scene cut: site/older.mp4 (2 scene cut(s), not placed "
            "(extracted before cuts were placed)); site/switched.mp4 (scene cut at frame 700: frames 700-964 (after "
            "the cut, the shorter part) show another view): each is listed here, and --per-camera scores it whole, "
            "as camera-01") in res.output, res.output
    found = json.loads(CliRunner().invoke(cli, ["cameras", str(store), "--json"]).output)
    assert [sorted(c.get("cut_videos", {})) for c in found["cameras"]] == [["site/older.mp4", "site/switched.mp4"], []]


def test_names_holding_a_line_feed_stay_on_their_line_in_cameras_and_detect(tmp_path):
    """Linux allows a line feed in a folder's name: `videoad cameras` (the survey's lines, the activity
    levels' line) and `detect` (a per-camera group's videos, `note: group ...`, `fitted on`) printed it as
    it is, the rest of the name on a line of its own that read as the command's."""
    from click.testing import CliRunner

    from videoad.cli import cli

    site = "si\nFAKE 9 camera(s)\rte"
    for i in range(2):
        fake_video(tmp_path / "store", f"{site}/road{i}.mp4", 60, seed=i, anomalous=[10, 11, 40],
                   attrs=scene("road", i))
        fake_video(tmp_path / "store", f"{site}/stripes{i}.mp4", 60, seed=10 + i, anomalous=range(60),
                   attrs=scene("stripes", 10 + i, offset=10 * i))
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(f"min_clips: 50\ndetector:\n  name: duad\n  params: {json.dumps(FAST_DUAD)}\n")
    shown = "si\\nFAKE 9 camera(s)\\rte"
    outputs = []
    for args in (["cameras", tmp_path / "store"],
                 ["detect", tmp_path / "store", "-o", tmp_path / "cams", "--per-camera", "--config", cfg],
                 ["detect", tmp_path / "store", "-o", tmp_path / "cat", "--per-category", "--config", cfg,
                  "--fit-on", tmp_path / "store"]):
        res = CliRunner().invoke(cli, [str(a) for a in args])
        assert res.exit_code == 0, res.output
        outputs.append(res.output)
    survey, per_camera, per_category = outputs
    assert f"camera-01: 2 video(s), frames 320x240: {shown}/road0.mp4, {shown}/road1.mp4" in survey, survey
    assert f"camera-01: 2 video(s) ({shown}/road0.mp4, {shown}/road1.mp4)" in per_camera, per_camera
    assert f"note: group {shown} fits one model over 2 cameras" in per_category, per_category
    for out in outputs:
        assert not any(line.startswith(("FAKE", "te")) for line in out.splitlines()) and "\r" not in out, out


def test_a_per_camera_report_made_from_another_folder_finds_the_store_the_run_named(tmp_path, monkeypatch):
    """run.json kept the store as `detect` was given it, `store` relative to where it ran: a report made
    later from another folder lost the cameras' pictures ("no such feature store: store"). It is
    absolute now, shown relative to the page, and a `videoad run` folder moved whole still finds its
    store beside its scores."""
    from videoad.report import build_report
    from videoad.scores import read_scores, write_scores

    two_cameras(tmp_path / "store")
    monkeypatch.chdir(tmp_path)
    write_scores(tmp_path / "scores", video.detect(Path("store"), CFG))
    monkeypatch.chdir(tmp_path / "scores")
    scores = read_scores(tmp_path / "scores")
    assert Path(scores.meta["features"]) == tmp_path / "store"
    page = build_report(scores, tmp_path / "report", clips=False).read_text()
    assert "<bdi>camera-01</bdi>: 2 video(s)" in page and "cannot be read" not in page
    assert str(tmp_path) not in page  # the store shown as ../store

    run = tmp_path / "run"  # a run folder's layout, then moved whole
    run.mkdir()
    (tmp_path / "store").rename(run / "features")
    (tmp_path / "scores").rename(run / "scores")
    run.rename(tmp_path / "moved")
    moved = read_scores(tmp_path / "moved" / "scores")
    from videoad.report import run_store

    assert run_store(moved) == tmp_path / "moved" / "features"
    page = build_report(moved, tmp_path / "moved" / "report", clips=False).read_text()
    assert "<bdi>camera-02</bdi>: 2 video(s)" in page and "cannot be read" not in page


def test_a_per_camera_report_whose_store_no_longer_holds_a_scored_video_says_so(tmp_path):
    """run.json names the store by its absolute path, and a moved run folder's `features` beside its
    scores is taken: a store extracted again since, without a video the run scored, made
    `build_report` fail with a KeyError out of the store. It is the Cameras note now, the store named
    as the page names it; scores naming no store say so (the empty name opened the folder the
    report was made from as a store)."""
    import shutil

    from videoad.report import build_report
    from videoad.scores import read_scores, write_scores

    two_cameras(tmp_path / "store")
    write_scores(tmp_path / "scores", video.detect(tmp_path / "store", CFG))
    shutil.rmtree(tmp_path / "store")
    fake_video(tmp_path / "store", "site/other.mp4", 60, seed=0, anomalous=(), attrs=scene("road", 0))
    page = build_report(read_scores(tmp_path / "scores"), tmp_path / "report", clips=False).read_text()
    assert "Their pictures cannot be read: &#x27;site/road0.mp4&#x27; is not in the feature store ../store" in page
    assert str(tmp_path) not in page

    scores = read_scores(tmp_path / "scores")
    scores.meta.pop("features")
    page = build_report(scores, tmp_path / "report2", clips=False).read_text()
    assert "Their pictures cannot be read: the scores name no feature store" in page
