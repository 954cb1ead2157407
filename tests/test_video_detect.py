"""Detect orchestration: grouping, skipping small groups, scores format, seeds, inductive mode."""
from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from video_helpers import DIM, FAST_DUAD, fake_video, small_store, write_labels

from videoad import video
from videoad.detector.duad import DUAD
from videoad.video.groups import _load_group as load_group
from videoad.datasets.annotations import read_annotations
from videoad.metrics import evaluate_scores
from videoad.scores import ScoresError, read_scores, write_scores

REPO = Path(__file__).resolve().parents[1]
CFG = video.DetectConfig(mode="per-category", detector="duad", params=FAST_DUAD, min_clips=50, seed=3)
#: one small DUAD pooled over a store, at the default seed
POOLED = replace(CFG, mode="pooled", min_clips=10, seed=0)


def _saved_small_store(tmp_path) -> tuple[Path, Path]:
    """`small_store` in tmp_path/features with POOLED's models saved in tmp_path/m: (store, models.json)."""
    store = tmp_path / "features"
    small_store(store)
    video.detect(store, POOLED, save_models=tmp_path / "m")
    return store, tmp_path / "m" / "models.json"


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    root = tmp_path_factory.mktemp("store")
    return root, small_store(root)


def test_per_category_fits_a_and_skips_the_small_group_with_its_reason(store, tmp_path):
    root, videos = store
    s = video.detect(root, CFG)
    groups = {g["group"]: g for g in s.groups}
    assert groups["A"]["status"] == "fitted" and groups["A"]["n_clips"] == 120
    assert groups["B"]["status"] == "skipped"
    assert groups["B"]["reason"] == "20 clips < min_clips=50"
    assert [v.video for v in s] == ["A/a1.mp4", "A/a2.mp4"]
    a1 = s.videos[0]
    assert a1.n_frames == videos["A/a1.mp4"]["n_frames"] and a1.category == "A" and a1.group == "A"
    np.testing.assert_array_equal(a1.frames[:2], [[0, 15], [16, 31]])
    # the planted anomalies score highest within the fitted group
    assert set(np.argsort(-a1.scores)[:3]) == {10, 11, 40}
    # written, read back unchanged
    write_scores(tmp_path / "scores", s)
    back = read_scores(tmp_path / "scores")
    assert [v.video for v in back] == [v.video for v in s]
    for x, y in zip(back, s):
        np.testing.assert_allclose(x.scores, y.scores, rtol=1e-12)
        np.testing.assert_array_equal(x.frames, y.frames)
        assert (x.n_frames, x.fps, x.threshold) == (y.n_frames, y.fps, pytest.approx(y.threshold))
    assert back.skipped()[0]["reason"] == "20 clips < min_clips=50"
    assert back.meta["protocol"] == "transductive"


def test_scores_of_a_non_ascii_name_read_back_under_an_ascii_locale(tmp_path):
    """segments.csv is written as UTF-8 and read as UTF-8, whatever the locale (an ASCII or cp1252
    one failed on, or garbled, a name such as `监控/门口.mp4`)."""
    import os
    import subprocess
    import sys

    from videoad.scores import ScoreSet, VideoScores

    starts = np.arange(3) * 16
    v = VideoScores("监控/门口.mp4", np.array([0.1, 0.5, 0.2]), np.stack([starts, starts + 15], 1), 48, 10.0,
                    "监控", "all", "", 0.3)
    write_scores(tmp_path / "s", ScoreSet([v], {"protocol": "transductive"}))
    env = {**os.environ, "LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0",
           "PYTHONIOENCODING": "utf-8"}
    code = ("import sys; from videoad.scores import read_scores; "
            "print([(v.video, v.scores.tolist()) for v in read_scores(sys.argv[1])])")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "s")], env=env, capture_output=True, text=True,
                         encoding="utf-8")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[('监控/门口.mp4', [0.1, 0.5, 0.2])]", out.stdout


def test_seconds_are_left_empty_where_the_frame_rate_is_unknown(tmp_path):
    """A frame folder extracted without --image-fps: segments.csv's seconds are empty (they were the
    frame numbers, as if filmed at 1 fps), and the scores read back."""
    import csv

    from videoad.scores import ScoreSet, VideoScores

    starts = np.arange(3) * 16
    v = VideoScores("01", np.array([0.1, 0.5, 0.2]), np.stack([starts, starts + 15], 1), 48, 0.0, ".", "all", "", 0.3)
    write_scores(tmp_path / "s", ScoreSet([v], {"protocol": "transductive"}))
    rows = list(csv.DictReader(open(tmp_path / "s" / "segments.csv", encoding="utf-8")))
    assert [(r["start_s"], r["end_s"]) for r in rows] == [("", "")] * 3 and rows[1]["start_frame"] == "16"
    assert read_scores(tmp_path / "s").videos[0].scores.tolist() == [0.1, 0.5, 0.2]


def test_per_video_and_pooled_grouping(store):
    root, _ = store
    per_video = video.detect(root, replace(CFG, mode="per-video"))
    assert {g["group"]: g["status"] for g in per_video.groups} == {
        "A/a1.mp4": "fitted", "A/a2.mp4": "fitted", "B/b1.mp4": "skipped"}
    pooled = video.detect(root, replace(CFG, mode="pooled"))
    assert [(g["group"], g["status"], g["n_clips"]) for g in pooled.groups] == [("all", "fitted", 140)]
    assert {v.group for v in pooled} == {"all"} and len(pooled) == 3
    assert {v.video: v.category for v in pooled} == {"A/a1.mp4": "A", "A/a2.mp4": "A", "B/b1.mp4": "B"}


def test_categories_from_an_annotation_file(tmp_path):
    root = tmp_path / "store"
    for k in ("x/v1.mp4", "x/v2.mp4", "y/v3.mp4"):
        fake_video(root, k, 30, seed=len(k))
    ann = tmp_path / "t.txt"
    ann.write_text("v1.mp4 Theft 1 5 -1 -1\nv2.mp4 Fight -1 -1 -1 -1\nv3.mp4 Theft -1 -1 -1 -1\n")
    groups = video.make_groups(video.open_store(root), "per-category", ann)
    assert groups == {"Fight": ["x/v2.mp4"], "Theft": ["x/v1.mp4", "y/v3.mp4"]}


def test_seeded_runs_repeat_and_parallel_equals_serial(store):
    root, _ = store
    cfg = replace(CFG, mode="per-video", min_clips=10)
    a = video.detect(root, cfg)
    b = video.detect(root, replace(cfg, n_jobs=2))
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.scores, y.scores)
    c = video.detect(root, replace(cfg, seed=4))
    assert any(not np.array_equal(x.scores, y.scores) for x, y in zip(a, c))
    # a group's seed depends on the run seed and its name only
    assert {g["group"]: g["seed"] for g in a.groups} == {
        g: video.group_seed(3, g) for g in ("A/a1.mp4", "A/a2.mp4", "B/b1.mp4")}


def test_every_group_too_small_is_an_error_listing_the_reasons(store):
    root, _ = store
    with pytest.raises(ValueError, match=r"no group could be scored.*A: 120 clips < min_clips=500") as err:
        video.detect(root, replace(CFG, min_clips=500))
    # what to do about it: more footage, fewer groups, or a lower min_clips, named
    assert "--pooled" in str(err.value) and "--min-clips N" in str(err.value)


def test_evaluation_of_detected_scores(store, tmp_path):
    root, videos = store
    s = video.detect(root, replace(CFG, mode="pooled"))
    gt = read_annotations(write_labels(tmp_path / "gt.csv", videos))
    ev = evaluate_scores(s, gt)
    assert ev.pooled.auroc > 0.9
    assert ev.pooled.n_frames == sum(v["n_frames"] for v in videos.values())
    # the 5-frame tails are dropped in the second row
    assert ev.pooled_tail_dropped.n_frames == ev.pooled.n_frames - 3 * 5
    assert [c.name for c in ev.per_category] == ["A", "B"]


def test_length_mismatch_between_scores_and_ground_truth_names_the_video(store, tmp_path):
    root, videos = store
    s = video.detect(root, replace(CFG, mode="pooled"))
    wrong = dict(videos)
    wrong["A/a2.mp4"] = dict(videos["A/a2.mp4"], n_frames=videos["A/a2.mp4"]["n_frames"] + 16)
    gt = read_annotations(write_labels(tmp_path / "gt.csv", wrong))
    with pytest.raises(ValueError, match=r"length mismatch for video 'A/a2'"):
        evaluate_scores(s, gt)


def test_groups_whose_names_make_the_same_file_name_keep_their_own_models(tmp_path):
    """Two categories named in another script (every character dropped from a file name) and two
    differing only in such characters save distinct model files, and each saved model reproduces
    its own group's scores (they shared one file, the later fit overwriting the earlier)."""
    train, test = tmp_path / "train", tmp_path / "test"
    names = ["北门", "南门", "Gate A", "Gate_A"]
    for j, name in enumerate(names):
        for i in range(2):
            fake_video(train, f"{name}/t{i}.mp4", 60, seed=10 * j + i)
        fake_video(test, f"{name}/new.mp4", 40, anomalous=[7], seed=100 + j)
    fitted = video.fit_and_score(train, test, CFG, save_models=tmp_path / "models")

    index = json.loads((tmp_path / "models" / "models.json").read_text())["groups"]
    files = [index[g]["models"][0] for g in names]
    assert len(set(files)) == 4, files
    again = {v.video: v.scores for v in video.score(test, tmp_path / "models")}
    for v in fitted:
        np.testing.assert_allclose(again[v.video], v.scores, rtol=1e-5)


def test_a_save_stopped_halfway_leaves_the_earlier_models_whole(tmp_path):
    """A second --save-model run into the same folder, stopped after its first group's fit: the
    folder's earlier models and their models.json still score as they did (the new weights wait in
    the staging folder); a run that finishes replaces them and leaves no staging folder."""
    for j, cat in enumerate("AB"):
        for i in range(2):
            fake_video(tmp_path / "h1", f"{cat}/t{i}.mp4", 60, seed=10 * j + i)
            fake_video(tmp_path / "h2", f"{cat}/t{i}.mp4", 60, seed=50 + 10 * j + i)
        fake_video(tmp_path / "new", f"{cat}/n.mp4", 40, anomalous=[7], seed=100 + j)
    models = tmp_path / "models"
    first = {v.video: v.scores for v in video.fit_and_score(tmp_path / "h1", tmp_path / "new", CFG,
                                                              save_models=models)}

    def stopped(plan, n_jobs):  # Ctrl-C once the first group is fitted
        fn, args = plan[0]
        fn(*args)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        video.fit_and_score(tmp_path / "h2", tmp_path / "new", CFG, save_models=models, executor=stopped)
    for v in video.score(tmp_path / "new", models):
        np.testing.assert_allclose(v.scores, first[v.video], rtol=1e-5)
    second = {v.video: v.scores for v in video.fit_and_score(tmp_path / "h2", tmp_path / "new", CFG,
                                                               save_models=models)}
    assert not (models / ".partial").exists()
    (models / ".models.json.123-abcd1234.tmp").write_text("{")  # a kill mid-write of the index left it
    video.fit_and_score(tmp_path / "h2", tmp_path / "new", CFG, save_models=models)
    assert sorted(p.name for p in models.iterdir()) == sorted(
        ["models.json"] + [f"{c}.{part}" for c in "AB" for part in ("s0.pt", "preprocess.npz")])
    for v in video.score(tmp_path / "new", models):
        np.testing.assert_allclose(v.scores, second[v.video], rtol=1e-5)
        assert not np.allclose(v.scores, first[v.video])


@pytest.mark.parametrize("n_seeds, preprocess, score", [(1, "none", "angle"), (2, "sqrt-rms", "angle"),
                                                      (1, "none", "knn")])
def test_inductive_models_score_the_same_after_reload(tmp_path, n_seeds, preprocess, score):
    train, test = tmp_path / "train", tmp_path / "test"
    for i in range(2):
        fake_video(train, f"A/t{i}.mp4", 60, seed=10 + i)
    fake_video(test, "A/new.mp4", 40, anomalous=[7, 8], seed=20)
    fake_video(test, "Z/other.mp4", 40, seed=21)
    cfg = replace(CFG, n_seeds=n_seeds, preprocess=preprocess, params={**CFG.params, "score": score})
    fitted = video.detect(train, cfg, save_models=tmp_path / "models")
    files = sorted(p.name for p in (tmp_path / "models").iterdir())
    assert files == sorted(["models.json", "A.preprocess.npz"] + [f"A.s{k}.pt" for k in range(n_seeds)])
    # the saved models reproduce the fitted scores on the training videos
    # (knn: a fitted row of the normal selection skipped itself among its neighbours; scored
    # again it is one of them, so it can only come out closer)
    again = video.score(train, tmp_path / "models")
    for x, y in zip(fitted, again):
        if score == "knn":
            assert np.all(y.scores <= x.scores + 1e-6) and np.mean(np.isclose(x.scores, y.scores)) < 1
        else:
            np.testing.assert_allclose(x.scores, y.scores, rtol=1e-5, atol=1e-6)
        assert x.threshold == pytest.approx(y.threshold)
    # and score unseen videos: the planted anomalies come first; no model for Z -> skipped, said why
    s = video.score(test, tmp_path / "models")
    assert s.meta["protocol"] == "inductive"
    new = next(v for v in s if v.video == "A/new.mp4")
    assert set(np.argsort(-new.scores)[:2]) == {7, 8}
    skipped = s.skipped()
    assert [g["group"] for g in skipped] == ["Z"] and "no model for group 'Z'" in skipped[0]["reason"]


def test_records_from_before_the_cut_option_stand_for_the_features_they_hold(tmp_path):
    """A motion store or model written before `cuts` existed holds features made with every frame
    pair counted: it compares as `cuts=keep` (footage extracted with the default is refused, with
    the option named; footage extracted with `cuts=keep` scores), and `videoad watch` rebuilds
    its backbone that way."""
    import json

    from extract.backbones import get_backbone
    from videoad.live import build_backbone

    def attrs(**o):
        return {"backbone_name": "motion", "backbone_options": json.dumps({"size": "160x120", "grid": 2, **o})}

    old = tmp_path / "old"
    for i in range(2):
        fake_video(old, f"A/t{i}.mp4", 60, seed=10 + i, attrs=attrs())
    new = {mode: tmp_path / mode for mode in ("skip", "keep")}
    for mode, root in new.items():
        fake_video(root, "A/new.mp4", 40, anomalous=[7, 8], seed=20, attrs=attrs(cuts=mode))
    with pytest.raises(ValueError, match=r"backbone option cuts: 'keep' \(fitted\) vs 'skip'"):
        video.fit_and_score(old, new["skip"], CFG)
    assert set(np.argsort(-next(iter(video.fit_and_score(old, new["keep"], CFG))).scores)[:2]) == {7, 8}
    # watch: an old models.json (no `cuts` nor `stabilize`, the description of then) rebuilds the
    # backbone of then
    then = get_backbone("motion", size="160x120", cuts="keep", stabilize=False)
    rebuilt = build_backbone({"backbone": "motion", "options": {"size": "160x120"}, "description": then.describe()})
    assert rebuilt.cuts == "keep" and not rebuilt.stabilize and rebuilt.describe() == then.describe()


def test_a_model_scores_only_features_extracted_as_its_own_were(tmp_path):
    """A history (or saved models) and the footage must be extracted alike: another working size,
    backbone, clip length, frame shape or native frame rate changes what a value means, so scoring
    is refused with the store, the setting and both values named; the stride may differ, as may
    the resolution at one shape (resized to the same working size), and a frame rate within 10%
    (29.97 against 30), a rate unknown, or both resampled with --fps passes."""
    import json

    def opts(frame=(240, 320), work=(160, 120), **o):
        return {"backbone_options": json.dumps({"size": "160x120", "grid": 2, **o}),
                "frame_size": list(frame), "working_size": list(work)}

    train, models = tmp_path / "train", tmp_path / "models"
    for i in range(2):
        fake_video(train, f"A/t{i}.mp4", 60, seed=10 + i, attrs=opts())
    video.detect(train, CFG, save_models=models)

    def store(name, **kw):
        root = tmp_path / name
        fake_video(root, "A/new.mp4", 40, anomalous=[7, 8], seed=20, **kw)
        return root

    refused = {"size": (store("size", attrs=opts(size="auto")),
                        r"backbone option size: '160x120' \(fitted\) vs 'auto'"),
               "fps": (store("fps", fps=25.0, attrs=opts()),
                       r"the fitted footage was cut into clips at 10 fps, A/new.mp4 at 25 fps"),
               "clip": (store("clip", clip_len=8, attrs=opts()), r"clip_len: 16 \(fitted\) vs 8"),
               "backbone": (store("c3d", attrs={**opts(), "backbone_name": "c3d"}),
                            r"backbone: 'fake' \(fitted\) vs 'c3d'"),
               "working size": (store("work", attrs=opts(work=(320, 240))),
                                r"working size: the fitted footage at \[160, 120\], A/new.mp4 at \[320, 240\]"),
               "aspect": (store("wide", attrs=opts(frame=(720, 1280))),
                          r"frame shape \(width / height\): the fitted footage at 1.333, A/new.mp4 at 1.778")}
    for name, (root, message) in refused.items():
        with pytest.raises(ValueError, match=rf"{root} was not extracted as the history {train} was.*{message}"):
            video.fit_and_score(train, root, CFG)
        with pytest.raises(ValueError, match=rf"{root} was not extracted as the models in {models} .*{message}"):
            video.score(root, models)
    # another camera's frame shape: no setting bridges it, so no "extract both with the same settings"
    with pytest.raises(ValueError) as shape:
        video.fit_and_score(train, tmp_path / "wide", CFG)
    assert "fit on that camera's own history" in str(shape.value) and "same settings" not in str(shape.value)
    # a frame folder extracted without --image-fps has no known rate (NaN): nothing to compare;
    # options given as strings on the command line ("2") match the same given from Python (2)
    for root in (store("stride", stride=4, attrs=opts()), store("ntsc", fps=10.5, attrs=opts()),
                 store("cli", attrs={**opts(), "backbone_options": json.dumps({"size": "160x120", "grid": "2"})}),
                 store("frames", fps=float("nan"), attrs=opts()), store("hd", attrs=opts(frame=(960, 1280))),
                 store("old", attrs={k: v for k, v in opts().items() if k != "working_size"})):
        for s in (video.fit_and_score(train, root, CFG), video.score(root, models)):
            assert set(np.argsort(-next(iter(s)).scores)[:2]) == {7, 8}
    # a history of two cameras, 4:3 and 16:9, scores footage of either shape
    mixed = tmp_path / "mixed"
    fake_video(mixed, "A/t0.mp4", 60, seed=10, attrs=opts())
    fake_video(mixed, "A/t1.mp4", 60, seed=11, attrs=opts(frame=(720, 1280)))
    assert len(video.fit_and_score(mixed, tmp_path / "wide", CFG).videos) == 1
    # resampled to one rate with --fps, the native rates may differ
    resampled = tmp_path / "resampled"
    for i in range(2):
        fake_video(resampled, f"A/t{i}.mp4", 60, seed=10 + i, fps=30.0, attrs={**opts(), "target_fps": 10.0})
    root = store("resampled-new", fps=25.0, attrs={**opts(), "target_fps": 10.0})
    assert len(video.fit_and_score(resampled, root, CFG).videos) == 1
    # what counts is the rate clips were cut at: a 30 fps history capped to 15 (--max-fps) scores
    # footage filmed at 15, and refuses 30 fps footage cut at its own rate
    capped = tmp_path / "capped"
    for i in range(2):
        fake_video(capped, f"A/t{i}.mp4", 60, seed=10 + i, fps=30.0,
                   attrs={**opts(), "max_fps": 15.0, "sampled_fps": 15.0})
    filmed = store("filmed-at-15", fps=15.0, attrs={**opts(), "max_fps": 15.0, "sampled_fps": 15.0})
    assert len(video.fit_and_score(capped, filmed, CFG).videos) == 1
    uncapped = store("uncapped", fps=30.0, attrs={**opts(), "sampled_fps": 30.0})
    with pytest.raises(ValueError, match=r"the fitted footage was cut into clips at 15 fps, A/new.mp4 at 30 fps"):
        video.fit_and_score(capped, uncapped, CFG)


def test_a_history_declared_normal_is_fitted_with_a_small_drop(tmp_path):
    """--fit-on: DUAD's selections drop history_drop percent (p0 = p), not the table's 25/20, and
    its knn score looks at the history_neighbors nearest rows; params that set p0/p/n_neighbors
    win; a transductive fit keeps the table's."""
    train, test = tmp_path / "train", tmp_path / "test"
    for i in range(2):
        fake_video(train, f"A/t{i}.mp4", 60, seed=10 + i)
    fake_video(test, "A/new.mp4", 40, anomalous=[7, 8], seed=20)
    cfg = replace(CFG, params={k: v for k, v in FAST_DUAD.items() if k not in ("p0", "p", "n_neighbors")})
    table = video.DUAD_BY_FEATURES["learned"]
    own_k = DUAD().n_neighbors
    history_k = cfg.history_neighbors or own_k

    def fitted(s):
        (g,) = s.groups
        return g["params"]["p0"], g["params"]["p"], g["selected_fraction"], g["params"].get("n_neighbors", own_k)

    s = video.fit_and_score(train, test, cfg)
    p0, p, kept, k = fitted(s)
    assert (p0, p, k) == (1.0, 1.0, history_k) and kept > 0.95
    new = next(iter(s))
    assert set(np.argsort(-new.scores)[:2]) == {7, 8}
    assert fitted(video.fit_and_score(train, test, replace(cfg, history_drop=5.0)))[:2] == (5.0, 5.0)
    p0, p, kept, _ = fitted(video.fit_and_score(train, test, replace(cfg, history_drop=0.0)))
    assert (p0, p) == (table["p0"], table["p"]) and kept < 0.9
    for k, expected in ((1, 1), (3, 3), (0, own_k)):
        assert fitted(video.fit_and_score(train, test, replace(cfg, history_neighbors=k)))[3] == expected
    first = fitted(video.fit_and_score(train, test, CFG))
    assert first[:2] == (FAST_DUAD["p0"], FAST_DUAD["p"]) and first[3] == FAST_DUAD.get("n_neighbors", history_k)
    transductive = video.detect(train, replace(cfg, history_neighbors=1)).groups[0]["params"]
    assert (transductive["p0"], transductive["p"]) == (table["p0"], table["p"])
    assert transductive.get("n_neighbors", own_k) == own_k
    # only DUAD has a selection; a baseline's arguments are its own
    assert video.detector_params(replace(cfg, detector="knn", params={}), "motion", history=True) == {}
    for bad in (-1.0, 100.0):
        with pytest.raises(ValueError, match="history_drop must be a percentage"):
            replace(cfg, history_drop=bad).check()
    with pytest.raises(ValueError, match="history_neighbors must be a whole number"):
        replace(cfg, history_neighbors=-1).check()


def test_a_history_draws_its_alarm_line_from_held_out_scores(tmp_path):
    """--fit-on: each history video is scored without its own clips among the reference (as new
    footage is), which raises the line; the scores of the footage are the same either way."""
    train, test = tmp_path / "train", tmp_path / "test"
    for i in range(3):
        fake_video(train, f"A/t{i}.mp4", 60, seed=10 + i, drift=0.5)
    fake_video(test, "A/new.mp4", 40, anomalous=[7, 8], seed=20, drift=0.5)
    cfg = replace(CFG, params={k: v for k, v in FAST_DUAD.items() if k not in ("p0", "p")})
    assert cfg.history_line == "held-out"
    held, fitted = (video.fit_and_score(train, test, replace(cfg, history_line=line))
                    for line in ("held-out", "fitted"))
    (h,), (f,) = held.groups, fitted.groups
    assert (h["line_from"], f["line_from"]) == ("held-out", "fitted")
    assert h["threshold"] > f["threshold"], (h["threshold"], f["threshold"])
    np.testing.assert_array_equal(next(iter(held)).scores, next(iter(fitted)).scores)
    assert video.detect(train, cfg).groups[0]["line_from"] == "fitted"  # transductive: the fit's own scores
    with pytest.raises(ValueError, match="history_line must be one of"):
        replace(cfg, history_line="own").check()


def test_a_history_of_one_video_says_its_line_is_its_own_fitted_scores(tmp_path, caplog):
    """--fit-on one video: there is no other video to score its clips against, so DUAD gave their
    fitted scores and run.json said `line_from: held-out`, a line it was not (lower than new normal
    footage scores, normal footage raising events). It says `fitted`, why, and warns."""
    import logging

    from videoad import coverage

    train, test = tmp_path / "train", tmp_path / "test"
    fake_video(train, "A/t0.mp4", 90, seed=10, drift=0.5)
    fake_video(test, "A/new.mp4", 40, seed=20, drift=0.5)
    cfg = replace(CFG, params={k: v for k, v in FAST_DUAD.items() if k not in ("p0", "p")})
    with caplog.at_level(logging.WARNING, logger="videoad.group_model"):
        (g,) = video.fit_and_score(train, test, cfg).groups
    assert g["line_from"] == "fitted" and "the history is one video" in g["line_note"]
    assert not caplog.records  # said by coverage.warnings, on the command line and in the report
    assert coverage.warnings([g]) == [f"group A: {coverage.ONE_VIDEO_HISTORY}"]
    (fitted,) = video.fit_and_score(train, test, replace(cfg, history_line="fitted")).groups
    assert g["threshold"] == fitted["threshold"] and "line_note" not in fitted  # the same line, now said


def test_a_history_video_beside_a_tiny_one_is_not_scored_against_it_alone(tmp_path):
    """--fit-on one long video and a second of one clip: the long video's clips were scored against
    that clip alone, and the line rose far over what new normal footage scores, unwarned (on Ped2
    it missed an event: benchmarks/results/lopsided_history.md). Its clips now keep their fitted
    scores (the tiny video's are still held out), and the warning names the tiny video; a third
    video that gives the long one 10 clips or more to be scored against leaves the held-out line as
    it was (a second tiny one would not: their clips count together)."""
    from videoad import coverage

    train, test = tmp_path / "train", tmp_path / "test"
    fake_video(train, "A/long.mp4", 90, seed=10, drift=0.5)
    fake_video(train, "A/tiny.mp4", 1, seed=11, drift=0.5)
    fake_video(test, "A/new.mp4", 40, seed=20, drift=0.5)
    cfg = replace(CFG, params={k: v for k, v in FAST_DUAD.items() if k not in ("p0", "p")})
    (g,) = video.fit_and_score(train, test, cfg).groups
    (fitted,) = video.fit_and_score(train, test, replace(cfg, history_line="fitted")).groups
    assert g["short_history"] == {"videos": ["A/tiny.mp4"], "clips": 1, "scored_fitted": 1}, g.get("short_history")
    assert g["line_from"] == "held-out" and "A/tiny.mp4" in g["line_note"]
    assert coverage.warnings([g]) == [f"group A: {coverage.short_history_line(g['short_history'])}"]
    assert "long.mp4" not in coverage.warnings([g])[0]
    # the line is the long video's fitted scores' (one clip in 91 held out), not one far above it
    assert g["threshold"] == pytest.approx(fitted["threshold"], rel=0.05), (g["threshold"], fitted["threshold"])
    fake_video(train, "A/other.mp4", 60, seed=12, drift=0.5)  # a third video: held out as before
    (three,) = video.fit_and_score(train, test, cfg).groups
    assert three["line_from"] == "held-out" and "short_history" not in three and "line_note" not in three


@pytest.mark.parametrize("clips, short", [
    ([90, 1], [True, False]), ([90, 1, 1], [True, False, False]),  # the tiny ones' clips count together
    ([90, 1, 60], [False, False, False]), ([90, 5, 5], [False, False, False]), ([4, 5], [True, True])])
def test_which_history_videos_keep_their_fitted_scores(clips, short):
    """A video keeps its fitted scores where its other history videos hold under 10 clips together."""
    from videoad.group_model import short_references

    assert short_references(clips).tolist() == short


def test_the_mirror_and_lower_lines_read_their_spread_below_their_centre():
    """alarm "mirror": on symmetric scores the same line as "mad"; when four in ten of the fitted clips
    are anomalous (they only ever score high), "mad" widens its spread and lifts the line above
    them, "mirror" reads the spread of the normal clips below the median and flags most of them."""
    from videoad.group_model import alarm_line

    rng = np.random.default_rng(0)
    normal = rng.normal(0.2, 0.05, 1401)
    symmetric = np.r_[normal, 0.4 - normal]  # exactly symmetric about 0.2
    assert alarm_line(symmetric, "mirror", 4) == pytest.approx(alarm_line(symmetric, "mad", 4), rel=1e-9)
    anomalies = rng.normal(0.7, 0.05, 500)
    scores = np.r_[normal[:700], anomalies]
    mad, mirror = alarm_line(scores, "mad", 4), alarm_line(scores, "mirror", 4)
    assert np.mean(anomalies > mad) < 0.05 and np.mean(anomalies > mirror) > 0.8, (mad, mirror)
    assert not np.any(normal[:700] > mirror)
    # "lower" centres on the 30th percentile: with half the clips anomalous the median sits between
    # the two kinds and both other lines rise above everything; a centre below it reads the normal
    # clips alone
    anomalous = rng.normal(0.7, 0.05, 500)
    heavy = np.r_[normal[:500], anomalous]
    lower = alarm_line(heavy, "lower", 6)
    assert min(alarm_line(heavy, "mad", 4), alarm_line(heavy, "mirror", 4)) > anomalous.max()
    assert np.all(anomalous > lower) and not np.any(normal[:500] > lower), lower
    centre = np.quantile(heavy, 0.3)
    assert lower == pytest.approx(centre + 6 * 1.4826 * np.median(centre - heavy[heavy <= centre]))
    cfg = video.DetectConfig(alarm="mirror", alarm_level=4.0).check()
    assert cfg.alarm == "mirror"
    with pytest.raises(ValueError, match="alarm_level must be a finite number > 0 for alarm mirror"):
        replace(cfg, alarm_level=0.0).check()
    with pytest.raises(ValueError, match=r"alarm_level must be a \(finite\) number"):  # an infinite line never alarms
        replace(cfg, alarm_level=float("inf")).check()


def test_scores_that_are_not_finite_stay_out_of_the_alarm_line_and_run_json_stays_json(tmp_path):
    """One inf clip score made the spread inf (a line no clip crosses) or, with most clips alike,
    NaN; and run.json carried `Infinity`/`NaN`, which JSON readers other than Python's refuse."""
    import json

    from videoad.group_model import alarm_line
    from videoad.scores import ScoreSet, VideoScores

    scores = np.array([0.1, 0.2, 0.3, 0.25, 0.15])
    for rule in ("mad", "mirror", "lower"):
        line = alarm_line(np.r_[scores, np.inf, np.nan], rule, 3)
        assert line == pytest.approx(alarm_line(scores, rule, 3)) and np.isfinite(line)
    assert np.isfinite(alarm_line(np.array([0.1, 0.1, 0.1, 0.2, np.inf]), "mad", 3))
    with pytest.raises(ValueError, match="no finite clip score"):
        alarm_line(np.array([np.nan, np.inf]), "mad", 3)
    starts = np.arange(3) * 16
    v = VideoScores("a.mp4", np.array([0.1, 0.5, 0.2]), np.stack([starts, starts + 15], 1), 48, 10.0,
                    "", "all", "", float("inf"))
    write_scores(tmp_path / "s", ScoreSet([v], {"protocol": "transductive", "note": {"x": float("nan")}}))
    text = (tmp_path / "s" / "run.json").read_text()
    meta = json.loads(text, parse_constant=lambda c: pytest.fail(f"run.json holds {c}"))
    assert meta["videos"][0]["threshold"] is None and meta["note"] == {"x": None}
    assert read_scores(tmp_path / "s").videos[0].threshold is None


def test_selected_clips_are_those_whose_scoring_cells_the_selection_holds():
    """A clip counts as normal for the line when the cells that set its score (its two hottest
    under top2, its hottest under max) are all in the detector's selection; over a seed ensemble
    a row is selected when most detectors selected it; no selection, no answer."""
    from types import SimpleNamespace

    from videoad.group_model import selected_clips

    cells = np.array([[0.9, 0.1, 0.8, 0.2],   # hot cells 0 and 2
                      [0.1, 0.2, 0.3, 0.9],   # hot cells 3 and 2
                      [0.5, 0.4, 0.1, 0.1]])  # hot cells 0 and 1
    sel = np.array([[1, 0, 1, 0],
                    [1, 1, 0, 1],
                    [1, 0, 1, 1]], dtype=bool).ravel()
    det = SimpleNamespace(selection_=sel)
    np.testing.assert_array_equal(selected_clips([det], cells, "top2"), [True, False, False])
    np.testing.assert_array_equal(selected_clips([det], cells, "max"), [True, True, True])
    other = SimpleNamespace(selection_=np.ones_like(sel))
    third = SimpleNamespace(selection_=np.zeros_like(sel))
    np.testing.assert_array_equal(selected_clips([det, other, other], cells, "top2"), [True, True, True])
    np.testing.assert_array_equal(selected_clips([det, third, third], cells, "top2"), [False, False, False])
    np.testing.assert_array_equal(selected_clips([det], None, "top2"), sel)  # whole clips: the row itself
    assert selected_clips([SimpleNamespace()], cells, "top2") is None


def test_each_video_keeps_the_frame_region_its_cells_cover(tmp_path, monkeypatch):
    """A learned backbone's grid covers a part of the frame that depends on the frame's shape: two
    videos of one group may differ. Each video's scores carry its own region (run.json, read back),
    and the report's heat maps are drawn over it, not over the group's first video's."""
    from video_helpers import fake_cell_video

    from videoad import evidence
    from videoad.events import find_events

    wide = (0.125, 0.0, 0.875, 1.0)
    fake_cell_video(tmp_path / "s", "cam/a.mp4", 40, anomalous=[(10, 1), (11, 1)], seed=1)
    fake_cell_video(tmp_path / "s", "cam/b.mp4", 40, anomalous=[(20, 2), (21, 2)], seed=2, region=wide)
    scores = video.detect(tmp_path / "s", replace(CFG, mode="pooled", min_clips=10))
    regions = {v.video: v.cell_region for v in scores}
    assert regions == {"cam/a.mp4": [0.0, 0.0, 1.0, 1.0], "cam/b.mp4": list(wide)}
    write_scores(tmp_path / "scores", scores)
    back = read_scores(tmp_path / "scores")
    assert {v.video: v.cell_region for v in back} == regions
    events = find_events(back)
    assert {e.video for e in events.events} == {"cam/a.mp4", "cam/b.mp4"}, events.events
    drawn = {}

    def one(v, e, footage, why, out, suffix, grid, region, *rest):
        drawn[v.video] = tuple(region)
        return evidence.EventMedia(e.event)

    monkeypatch.setattr(evidence, "_one", one)
    evidence.write_evidence(back, events, tmp_path / "ev", clips=False)
    assert drawn == {"cam/a.mp4": (0.0, 0.0, 1.0, 1.0), "cam/b.mp4": wide}


def test_a_transductive_line_can_be_read_from_the_selection(tmp_path, monkeypatch):
    """`line_from: selection`: the line is the rule over the clips DUAD's own selection holds, so
    anomalies that fill much of the footage cannot lift it; the scores are the same either way, a
    detector that keeps no selection reads every clip, and run.json says which it was."""
    from video_helpers import fake_cell_video

    from videoad.group_model import GroupModel, alarm_line, selected_clips

    planted = [(i, i % 4) for i in range(0, 60, 3)]  # a third of the clips hold a hot cell
    fake_cell_video(tmp_path / "s", "cam/a.mp4", 60, anomalous=planted, seed=1)
    cfg = replace(CFG, mode="pooled", min_clips=10)
    assert cfg.line_from == "fitted"
    fitted = video.detect(tmp_path / "s", cfg)
    chosen = video.detect(tmp_path / "s", replace(cfg, line_from="selection"))
    (f,), (c,) = fitted.groups, chosen.groups
    assert (f["line_from"], c["line_from"]) == ("fitted", "selection")
    np.testing.assert_array_equal(fitted.videos[0].scores, chosen.videos[0].scores)
    assert f["line_clips"] == 60 and 10 <= c["line_clips"] < 60
    # the product's line is the rule over exactly the clips `selected_clips` names
    vids = load_group(str(tmp_path / "s"), ["cam/a.mp4"])
    kw = dict(level="auto", detector="duad", params=c["params"], preprocess="none", n_seeds=1, seed=c["seed"],
              position=False, cell_aggregate="top2", alarm="mad", alarm_level=4.0, smooth=cfg.smooth,
              cell_calibration=cfg.cell_calibration)
    model, cells, clips = GroupModel.fit(vids, line_from="selection", **kw)
    mask = selected_clips(model.detectors, cells, "top2")
    assert model.threshold == pytest.approx(alarm_line(clips[mask], "mad", 4.0))
    assert model.threshold == pytest.approx(c["threshold"]) and model.info["line_clips"] == int(mask.sum())
    knn = video.detect(tmp_path / "s", replace(cfg, detector="knn", params={}, line_from="selection"))
    assert knn.groups[0]["line_from"] == "fitted"  # no selection to read: every clip, and run.json says why
    assert knn.groups[0]["line_note"] == "the knn detector keeps no normal selection"
    assert "line_note" not in c and "line_note" not in f
    from videoad import group_model

    monkeypatch.setattr(group_model, "MIN_LINE_CLIPS", c["line_clips"] + 1)  # too few selected clips: every clip
    few = video.detect(tmp_path / "s", replace(cfg, line_from="selection")).groups[0]
    assert few["line_from"] == "fitted" and few["threshold"] == pytest.approx(f["threshold"])
    assert few["line_note"] == f"{c['line_clips']} selected clips, fewer than {c['line_clips'] + 1}"
    with pytest.raises(ValueError, match="line_from must be one of"):
        replace(cfg, line_from="normal").check()
    with pytest.raises(ValueError, match="line_from must be one of"):
        GroupModel.fit(vids, line_from="normal", **kw)


def test_a_history_has_its_own_alarm_rule(tmp_path):
    """--fit-on draws its line with `history_alarm` (mirror 6 by default, chosen on the development
    sets apart from the transductive `alarm`, mad 4); a transductive fit keeps `alarm`."""
    train, test = tmp_path / "train", tmp_path / "test"
    for i in range(3):
        fake_video(train, f"A/t{i}.mp4", 60, seed=10 + i, drift=0.5)
    fake_video(test, "A/new.mp4", 40, anomalous=[7, 8], seed=20, drift=0.5)
    cfg = replace(CFG, params={k: v for k, v in FAST_DUAD.items() if k not in ("p0", "p")})
    defaults = video.DetectConfig()
    assert (defaults.history_alarm, defaults.history_alarm_level, defaults.alarm, defaults.alarm_level) == \
        ("mirror", 6.0, "mad", 4.0)
    own = video.fit_and_score(train, test, cfg)
    as_before = video.fit_and_score(train, test, replace(cfg, history_alarm="mad", history_alarm_level=4.0))
    (g,), (b,) = own.groups, as_before.groups
    assert (g["alarm"], b["alarm"]) == (["mirror", 6.0], ["mad", 4.0])
    assert g["threshold"] != b["threshold"]
    np.testing.assert_array_equal(next(iter(own)).scores, next(iter(as_before)).scores)
    assert video.detect(train, cfg).groups[0]["alarm"] == ["mad", 4.0]
    with pytest.raises(ValueError, match="history_alarm must be one of"):
        replace(cfg, history_alarm="max").check()
    with pytest.raises(ValueError, match="history_alarm_level must be a finite number > 0 for history_alarm mirror"):
        replace(cfg, history_alarm_level=-1.0).check()


def test_a_restarted_fit_records_its_attempts(tmp_path):
    """DUAD restarts inside a group: run.json lists every attempt; unsettled ones are all kept and
    the group's scores are the mean of theirs."""
    fake_video(tmp_path, "A/a.mp4", 60, anomalous=[7, 8], seed=3)
    base = {**FAST_DUAD, "tol": 0.0, "max_reselections": 1}
    one = video.detect(tmp_path, replace(CFG, mode="pooled", params=base))
    two = video.detect(tmp_path, replace(CFG, mode="pooled", params={**base, "restarts": 1}))
    (g,) = two.groups
    assert "attempts" not in one.groups[0]
    assert [a["stop_reason"] for a in g["attempts"]] == ["max_reselections"] * 2
    assert all(a["kept"] for a in g["attempts"]) and g["attempts"][1]["seed"] == g["attempts"][0]["seed"] + 1000
    assert not np.allclose(next(iter(one)).scores, next(iter(two)).scores)


def test_per_video_models_are_refused_for_inductive_mode(store, tmp_path):
    root, _ = store
    with pytest.raises(ValueError, match="per category or pooled"):
        video.detect(root, replace(CFG, mode="per-video"), save_models=tmp_path / "m")


def test_the_shipped_config_is_the_defaults(tmp_path):
    from importlib.resources import files

    from videoad.cli.demo_cmd import DEMO_CONFIG

    packaged = files("videoad").joinpath("defaults", "detect.yaml").read_text()
    assert (REPO / "configs" / "video.yaml").read_text() == packaged
    assert video.load_config(REPO / "configs" / "video.yaml") == video.DetectConfig() == video.load_config(None)
    assert DEMO_CONFIG == replace(video.DetectConfig(), mode="pooled")  # the demo only picks the grouping
    # DUAD's arguments follow the features; the config's own params win over them
    assert video.detector_params(video.DetectConfig(), "motion")["score"] == "knn"
    # one restart on motion features (chosen on the video dev sets), none where unmeasured
    assert video.detector_params(video.DetectConfig(), "motion")["restarts"] == 1
    assert video.detector_params(video.DetectConfig(), "learned").get("restarts", 0) == 0
    assert video.detector_params(video.DetectConfig(params={"score": "angle"}), "learned")["score"] == "angle"
    assert video.detector_params(video.DetectConfig(detector="pca"), "motion") == {}


def test_feature_kind_comes_from_what_the_store_records():
    assert video.feature_kind({"backbone": "motion"}) == "motion"
    assert video.feature_kind({"backbone": "c3d", "row_kind": "segment"}) == "segments"
    assert video.feature_kind({"backbone": "c3d"}) == video.feature_kind({"backbone": "r3d_18"}) == "learned"


def test_config_files(tmp_path):
    assert video.load_config(REPO / "configs" / "video.yaml", mode="per-video").mode == "per-video"
    # another detector on the command line does not inherit DUAD's parameters
    assert video.load_config(REPO / "configs" / "video.yaml", detector="pca").params == {}
    bad = tmp_path / "bad.yaml"
    bad.write_text("mode: pooled\nmin_clip: 3\n")
    with pytest.raises(ValueError, match=r"bad.yaml: unknown setting\(s\) \['min_clip'\]"):
        video.load_config(bad)
    bad.write_text("mode: sideways\n")
    with pytest.raises(ValueError, match="mode must be one of"):
        video.load_config(bad)
    with pytest.raises(ValueError, match=r"detector 'duad' has no parameter\(s\) \['p00'\]"):
        video.make_detector("duad", {"p00": 3})


def test_scores_folder_errors(tmp_path):
    with pytest.raises(ScoresError, match="segments.csv is missing"):
        read_scores(tmp_path)
    (tmp_path / "segments.csv").write_text("video,category\n")
    (tmp_path / "run.json").write_text('{"format": "videoad-scores/1", "videos": []}')
    with pytest.raises(ScoresError, match="missing column"):
        read_scores(tmp_path)


def test_preprocess_transforms():
    X = np.array([[4.0, 0.0], [0.0, 9.0], [-4.0, 0.0]], dtype=np.float32)
    st = video.fit_preprocess(X, "sqrt-rms")
    Y = video.apply_preprocess(X, st)
    np.testing.assert_allclose(np.sqrt(np.mean(Y**2, axis=0)), [1.0, 1.0], rtol=1e-6)
    np.testing.assert_allclose(Y[:, 0] * st["scale"][0], [2.0, 0.0, -2.0], rtol=1e-6)  # signed sqrt
    np.testing.assert_array_equal(video.apply_preprocess(X, video.fit_preprocess(X, "none")), X)


def test_cells_are_scored_with_one_shared_detector_and_aggregated_per_clip(tmp_path):
    from video_helpers import fake_cell_video

    fake_cell_video(tmp_path / "s", "cam/a.mp4", 40, anomalous=[(5, 3), (30, 0)], seed=1)
    fake_cell_video(tmp_path / "s", "cam/b.mp4", 40, anomalous=[(12, 2)], seed=2)
    cfg = replace(CFG, mode="pooled", smooth=0.0)  # the aggregation alone (smoothing: test_smoothing.py)
    s = video.detect(tmp_path / "s", cfg)
    assert s.cell_grid == (2, 2) and s.meta["cell_region"] == [0.0, 0.0, 1.0, 1.0]
    assert s.groups[0]["level"] == "cell" and s.groups[0]["n_rows"] == 80 * 4
    a, b = s.videos
    assert a.cells.shape == (40, 4)
    # the planted cells are the hottest of their clips, and their clips rank first
    assert a.cells[5].argmax() == 3 and a.cells[30].argmax() == 0 and b.cells[12].argmax() == 2
    assert set(np.argsort(-a.scores)[:2]) == {5, 30} and np.argmax(b.scores) == 12
    np.testing.assert_allclose(a.scores, np.sort(a.cells, axis=1)[:, -2:].mean(axis=1))  # top2, the default
    mx = video.detect(tmp_path / "s", replace(cfg, cell_aggregate="max"))
    np.testing.assert_allclose(mx.videos[0].scores, mx.videos[0].cells.max(axis=1))
    # whole clips on request; position columns widen the rows by one-hot of the cell
    clip = video.detect(tmp_path / "s", replace(cfg, level="clip"))
    assert clip.cell_grid is None and clip.videos[0].cells is None and clip.groups[0]["n_rows"] == 80
    rows = video.group_rows(load_group(str(tmp_path / "s"), ["cam/a.mp4"]), "cell", position=True)
    assert rows.shape == (160, DIM + 4) and rows[5, DIM + 1] == 1 and rows[5, DIM:].sum() == 1
    # scores folder round trip keeps the cells; inductive models remember the level and grid
    write_scores(tmp_path / "out", s)
    np.testing.assert_allclose(read_scores(tmp_path / "out").videos[0].cells, a.cells, rtol=1e-6)
    video.detect(tmp_path / "s", cfg, save_models=tmp_path / "m")
    again = video.score(tmp_path / "s", tmp_path / "m")
    assert again.cell_grid == (2, 2) and again.videos[0].cells.shape == (40, 4)
    assert set(np.argsort(-again.videos[0].scores)[:2]) == {5, 30}


def test_level_cell_without_cells_in_the_store_says_which_videos(store):
    root, _ = store
    with pytest.raises(ValueError, match=r"level 'cell': video\(s\) \['A/a1.mp4'"):
        video.detect(root, replace(CFG, level="cell"))


def test_print_config_reads_back_and_the_per_feature_table_is_not_a_setting(tmp_path):
    cfg = replace(video.DetectConfig(), mode="pooled", params={"score": "angle"}, seed=7)
    text = video.config_text(cfg)
    (tmp_path / "c.yaml").write_text(text)
    assert video.load_config(tmp_path / "c.yaml") == cfg
    (tmp_path / "bad.yaml").write_text(text.replace("score: knn", "score: error", 1))
    with pytest.raises(ValueError, match="bad.yaml: duad_by_features differs"):
        video.load_config(tmp_path / "bad.yaml")


def test_option_values_from_the_command_line_and_from_python_compare_alike():
    from videoad.video.run import same_option

    assert same_option("true", True) and same_option("16", 16) and same_option("0.5", 0.5)
    assert same_option("2", 2.0) and same_option("True", True) and same_option(None, None)
    assert not same_option("true", False) and not same_option("16", 8) and not same_option("3x3", "4x4")
    assert not same_option("/w/C3D.pickle", "/w/c3d.pickle")  # text other than a boolean is compared as it is
    assert not same_option(None, "none") and not same_option([1], "1")


def test_a_cell_that_always_moves_is_judged_against_its_own_range(tmp_path):
    """`cell_calibration: z` reads each cell's ordinary range from the history's (held-out) cell scores
    and judges every cell against it: a cell that moves in every clip (leaves in the wind) no longer
    sets every clip's score, so moderate anomalies in a quiet cell come first, where the cells as
    scored bury them; the range is saved with the models, reloads, and an entry without one (written
    before the option) scores cells as they are."""
    import json

    from video_helpers import busy_cell_video

    for i in range(3):
        busy_cell_video(tmp_path / "train", f"A/t{i}.mp4", 60, seed=10 + i)
    planted = [5, 17, 30, 44]
    busy_cell_video(tmp_path / "test", "A/new.mp4", 60, anomalous=planted, seed=20)
    cfg = replace(CFG, smooth=0.0)

    def top(how, **kw):
        s = video.fit_and_score(tmp_path / "train", tmp_path / "test", replace(cfg, cell_calibration=how), **kw)
        return set(np.argsort(-next(iter(s)).scores)[:len(planted)].tolist()), s

    judged, s = top("z", save_models=tmp_path / "m")
    assert judged == set(planted)
    assert len(top("none")[0] & set(planted)) <= 2
    group = s.groups[0]
    assert group["cell_calibration"] == "z" and group["score_unit"].endswith("robust z per cell")
    # saved and reloaded: the same range, the same scores
    entry = json.loads((tmp_path / "m" / "models.json").read_text())["groups"]["A"]
    assert entry["cell_calibration"]["how"] == "z" and len(entry["cell_calibration"]["centre"]) == 4
    again, first = next(iter(video.score(tmp_path / "test", tmp_path / "m"))), next(iter(s))
    np.testing.assert_allclose(again.scores, first.scores, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(again.cells, first.cells, rtol=1e-5, atol=1e-6)  # the cells too, as judged
    with pytest.raises(ValueError, match="cell_calibration must be one of"):
        replace(cfg, cell_calibration="zz").check()


def test_a_saved_cell_calibration_is_checked_and_old_entries_have_none(tmp_path):
    from videoad.group_model import GroupModel, calibrate_cells, cell_calibration_of

    cells = np.array([[0.0, 1.0], [1.0, 3.0], [2.0, 5.0]])
    cal = cell_calibration_of(cells, "z")
    assert cal["centre"] == [1.0, 3.0]  # each cell's median; spread: its MAD plus the grid's
    assert cal["spread"] == pytest.approx([1.0 + 1.0, 2.0 + 1.0])
    np.testing.assert_allclose(calibrate_cells(cells, cal)[:, 0], [-0.5, 0.0, 0.5])
    assert cell_calibration_of(cells, "none") is None and calibrate_cells(cells, None) is cells
    assert cell_calibration_of(np.ones((5, 2)), "z")["spread"] == [1.0, 1.0]  # all alike: no division by 0
    with pytest.raises(ValueError, match="the cell calibration holds 2 cells, these scores have 3"):
        calibrate_cells(np.zeros((4, 3)), cal)
    train = tmp_path / "train"
    for i in range(2):
        fake_video(train, f"A/t{i}.mp4", 60, seed=10 + i)
    video.detect(train, replace(CFG, cell_calibration="z"), save_models=tmp_path / "m")
    entry = __import__("json").loads((tmp_path / "m" / "models.json").read_text())["groups"]["A"]
    assert "cell_calibration" not in entry  # whole clips: nothing to calibrate
    assert GroupModel.load(entry, tmp_path / "m").calibration is None
    for bad in ({"how": "z", "centre": [0.0], "spread": [0.0]}, {"how": "q", "centre": [0.0], "spread": [1.0]},
                {"centre": [0.0]}):
        with pytest.raises(ValueError, match=r"models.json: a damaged cell_calibration entry"):
            GroupModel.load({**entry, "cell_calibration": bad}, tmp_path / "m")


def test_a_saved_cell_calibration_of_another_size_or_an_infinite_spread_is_named_before_scoring(tmp_path):
    """A cell calibration of 2 cells on a 4-cell model (or of every cell beside ignored_cells) was
    read as it stood: `watch` opened its output and failed at the first clip with a traceback,
    `detect --model` with "the cell calibration holds 2 cells" naming neither models.json nor the
    group; an infinite spread scored every cell 0, no event, in silence. A damaged fitted_layout
    or calibration is named with its group, as every other key is."""
    import copy

    from video_helpers import busy_cell_video

    from videoad.video.index import read_index

    for i in range(3):
        busy_cell_video(tmp_path / "train", f"A/t{i}.mp4", 60, seed=10 + i)
    video.detect(tmp_path / "train", replace(CFG, cell_calibration="z"), save_models=tmp_path / "m")
    path = tmp_path / "m" / "models.json"
    good = json.loads(path.read_text())
    entry = good["groups"]["A"]
    n = entry["cell_grid"][0] * entry["cell_grid"][1]
    assert len(entry["cell_calibration"]["centre"]) == n
    read_index(tmp_path / "m")  # as written: fine
    for edit, said in (({"cell_calibration": {**entry["cell_calibration"], "centre": [0.0, 0.0], "spread": [1.0, 1.0]}},
                        f"it holds 2 cells, the model scores {n}"),
                       ({"ignored_cells": [0]}, f"it holds {n} cells, the model scores {n - 1}"),
                       ({"cell_calibration": {**entry["cell_calibration"], "spread": [float("inf")] * n}},
                        "not each cell's finite centre and positive spread"),
                       ({"cell_calibration": "z"}, "not each cell's finite centre and positive spread"),
                       ({"fitted_layout": {"clip_values": 5}},
                        "not values per clip and per row, with cells their grid and values per cell")):
        index = copy.deepcopy(good)
        index["groups"]["A"].update(edit)
        path.write_text(json.dumps(index))
        key = "fitted_layout" if "fitted_layout" in edit else "cell_calibration"
        with pytest.raises(ValueError, match=re.escape(f"{path}: group 'A' has a damaged {key!r} (") + ".*"
                           + re.escape(f": {said})")):
            read_index(tmp_path / "m")
        with pytest.raises(ValueError, match=re.escape(f"{path}: group 'A' has a damaged {key!r}")):
            video.score(tmp_path / "train", tmp_path / "m")

@pytest.mark.parametrize("name, part", [("3-1:0", "3-1"), ("*:2-0", "2-0")])
def test_a_cell_range_from_high_to_low_is_named_as_such_before_the_fit(name, part):
    """`--ignore-cells 3-1:0` was taken by the settings and refused only at the fit, after loading
    every clip, as "outside the 4x4 grid" of a grid it lies in."""
    from click.testing import CliRunner

    from videoad.cli import cli
    from videoad.group_model import parse_cells

    words = f"ignore_cells: '{name}': the range {part} runs from high to low; write it low-high"
    with pytest.raises(ValueError, match=re.escape(words)):
        parse_cells([name], (4, 4))
    res = CliRunner().invoke(cli, ["run", "--print-config", "--ignore-cells", f"0:0,{name}"])
    assert res.exit_code == 1 and words in res.output and "Traceback" not in res.output, res.output


def test_cells_named_to_ignore_take_no_part_in_the_fit_or_the_scores(tmp_path):
    """`ignore_cells` (row:col, as events.csv names cells) leaves a part of the view that moves all
    the time out of the rows, the fit and every clip score: the quiet cell's moderate anomalies then
    come first, where with every cell the busy one buries them. The ignored cell's written score
    is the clip's coolest scored cell's (never hot); saved models keep the cells they ignore."""
    import json

    from click.testing import CliRunner
    from video_helpers import busy_cell_video

    from videoad.cli import cli

    for i in range(3):
        busy_cell_video(tmp_path / "train", f"A/t{i}.mp4", 60, seed=10 + i)
    planted = [5, 17, 30, 44]
    busy_cell_video(tmp_path / "test", "A/new.mp4", 60, anomalous=planted, seed=20)
    cfg = replace(CFG, smooth=0.0)

    def scored(**kw):
        return next(iter(video.fit_and_score(tmp_path / "train", tmp_path / "test", replace(cfg, **kw),
                                             save_models=tmp_path / "m")))

    every, masked = scored(), scored(ignore_cells=["0:0"])
    top = np.argsort(-masked.scores)[:len(planted)]
    assert set(top.tolist()) == set(planted)
    assert len(set(np.argsort(-every.scores)[:len(planted)].tolist()) & set(planted)) <= 2
    np.testing.assert_allclose(masked.cells[:, 0], masked.cells[:, 1:].min(axis=1))
    # the clip score is the top2 of the three scored cells only
    np.testing.assert_allclose(masked.scores, np.sort(masked.cells[:, 1:], axis=1)[:, -2:].mean(axis=1))
    entry = json.loads((tmp_path / "m" / "models.json").read_text())["groups"]["A"]
    assert entry["ignored_cells"] == [0]
    again = next(iter(video.score(tmp_path / "test", tmp_path / "m")))
    np.testing.assert_allclose(again.scores, masked.scores, rtol=1e-5, atol=1e-6)
    # and a live stream's clips (`videoad watch` scores arrays) leave the same cells out
    from videoad.group_model import GroupModel

    model = GroupModel.load(entry, tmp_path / "m")
    test = load_group(str(tmp_path / "test"), ["A/new.mp4"])[0]
    cells, clips = model.score_arrays(None, test.cells)
    np.testing.assert_allclose(clips, masked.scores, rtol=1e-5, atol=1e-6)  # unsmoothed both (smooth 0 here)
    np.testing.assert_allclose(cells, masked.cells, rtol=1e-5, atol=1e-6)
    # named wrong, or where there are no cells: refused before any fit, the name and the grid said
    with pytest.raises(ValueError, match=r"ignore_cells: '2:0' is outside the 2x2 grid"):
        scored(ignore_cells=["2:0"])
    with pytest.raises(ValueError, match="ignore_cells leaves no cell to score"):
        scored(ignore_cells=["0:0", "0:1", "1:0", "1:1"])
    from videoad.group_model import parse_cells  # ranges and whole rows or columns, as the docs show

    assert parse_cells(["*:0"], (4, 4)) == [0, 4, 8, 12] and parse_cells("0-1:3, 2:2", (4, 4)) == [3, 7, 10]
    with pytest.raises(ValueError, match=r"'0-5:0' is outside the 4x4 grid"):
        parse_cells(["0-5:0"], (4, 4))
    with pytest.raises(ValueError, match=r"ignore_cells holds cell names row:col"):
        replace(cfg, ignore_cells=["top left"]).check()
    fake_video(tmp_path / "clips", "A/c.mp4", 60, seed=1)
    with pytest.raises(ValueError, match="ignore_cells names grid cells, and these features are scored as whole"):
        video.detect(tmp_path / "clips", replace(cfg, ignore_cells=["0:0"]))
    # the command line: --ignore-cells, refused beside saved models (they keep their own)
    res = CliRunner().invoke(cli, ["detect", str(tmp_path / "test"), "--fit-on", str(tmp_path / "train"),
                                   "--ignore-cells", "0:0", "--min-clips", "50", "-o", str(tmp_path / "s")],
                             catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert json.loads((tmp_path / "s" / "run.json").read_text())["groups"][0]["ignored_cells"] == [0]
    res = CliRunner().invoke(cli, ["detect", str(tmp_path / "test"), "--model", str(tmp_path / "m"),
                                   "--ignore-cells", "0:0", "-o", str(tmp_path / "s2")])
    assert res.exit_code != 0 and "--ignore-cells is fixed when models are fitted" in res.output
    # videoad run takes it too (here: the settings it would use)
    res = CliRunner().invoke(cli, ["run", "--print-config", "--ignore-cells", "2:0, 3:0"], catch_exceptions=False)
    assert res.exit_code == 0 and "ignore_cells: ['2:0', '3:0']" in res.output, res.output


def test_footage_whose_frames_repeat_unlike_the_historys_is_scored_and_warned_of(tmp_path, caplog):
    """A camera set to half its file's rate (every other sampled frame a repeat) against a history
    without repeats: per-frame motion is not comparable (check-halfrate: 0.12 AUROC lower, normal
    videos flagged), so the group's record and a warning say so and name repeats=spread; not when
    the shares are close (one frame in ten lost), when both spread repeats over the gap, or when a
    store records no count (written before it was kept)."""
    import json
    import logging

    def attrs(repeated, **options):
        return {"repeated_frames": repeated, "backbone_options": json.dumps({"size": "160x120", **options})}

    train, models = tmp_path / "train", tmp_path / "models"
    for i in range(2):
        fake_video(train, f"A/t{i}.mp4", 60, seed=10 + i, attrs=attrs(0))
    video.detect(train, CFG, save_models=models)
    n_frames = fake_video(tmp_path / "probe", "A/x.mp4", 40, seed=20)["n_frames"]

    def store(name, repeated, **options):
        root = tmp_path / name
        fake_video(root, "A/new.mp4", 40, anomalous=[7, 8], seed=20,
                   attrs=attrs(repeated, **options) if repeated is not None else None)
        return root

    half = store("half", n_frames // 2)
    for run in (lambda: video.fit_and_score(train, half, CFG), lambda: video.score(half, models)):
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="videoad.video.run"):
            scored = run()
        group = next(g for g in scored.meta["groups"] if g["group"] == "A")
        assert group["repeats"]["fitted"] == 0.0 and group["repeats"]["scored"] == pytest.approx(0.5, abs=0.01)
        assert "0% of the fitted footage's sampled frames repeat the one before, 50% of these videos'" in caplog.text
        assert "--backbone-opt repeats=spread" in caplog.text
        assert set(np.argsort(-next(iter(scored)).scores)[:2]) == {7, 8}  # scored anyway
    from videoad.report import build_report

    page = build_report(scored, tmp_path / "report", clips=False).read_text()
    assert "repeated frames</th><td>group A: 0% of the fitted footage" in page  # the analyst reads it too
    spread_train = tmp_path / "spread-train"
    for i in range(2):
        fake_video(spread_train, f"A/t{i}.mp4", 60, seed=10 + i, attrs=attrs(0, repeats="spread"))
    for history, root in ((train, store("stutter", n_frames // 10)), (train, store("old", None)),
                          (spread_train, store("half-spread", n_frames // 2, repeats="spread"))):
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="videoad.video.run"):
            scored = video.fit_and_score(history, root, CFG)
        assert "repeat" not in caplog.text and "repeats" not in scored.meta["groups"][0]


def test_a_group_of_features_extracted_with_different_settings_is_named(tmp_path, caplog):
    """A store filled by two extractions with other options (64x48 beside auto): one model was fitted
    over both kinds of features with no word, in run.json or the log."""
    import json

    def opts(size):
        return {"backbone_options": json.dumps({"size": size, "grid": 2})}

    for i in range(3):
        fake_video(tmp_path / "f", f"A/v{i}.mp4", 40, seed=i, attrs=opts("auto"))
    fake_video(tmp_path / "f", "A/old.mp4", 40, seed=9, attrs=opts("64x48"))
    scores = video.detect(tmp_path / "f", video.DetectConfig(mode="pooled", params=FAST_DUAD))
    (group,) = scores.groups
    assert group["mixed_extraction"] == {"videos": 1, "unlike": "A/v0.mp4", "examples": ["A/old.mp4"]}
    assert "hold features extracted with different settings" in caplog.text
    # inductive: the history's groups are checked the same way
    caplog.clear()
    video.fit_and_score(tmp_path / "f", tmp_path / "f", video.DetectConfig(mode="pooled", params=FAST_DUAD))
    assert "hold features extracted with different settings" in caplog.text
    # alike: nothing said
    caplog.clear()
    for i in range(3):
        fake_video(tmp_path / "g", f"A/v{i}.mp4", 40, seed=i, attrs=opts("auto"))
    assert "mixed_extraction" not in video.detect(tmp_path / "g", video.DetectConfig(
        mode="pooled", params=FAST_DUAD)).groups[0]
    assert "different settings" not in caplog.text


def test_a_hand_edited_models_json_is_named_by_key_before_any_scoring(tmp_path):
    """A threshold of NaN turned every alarm off in silence; a model file named "../x.pt" loaded
    another folder's weights; values of the wrong type (a level 'pixel', a smoothing of 'abc',
    views that are not pictures, a frame rate 'ten') failed as tracebacks at scoring, or in
    watch at the first clip."""
    import copy

    from videoad.video.index import read_index

    store, path = _saved_small_store(tmp_path)
    good = json.loads(path.read_text())
    read_index(tmp_path / "m")  # as written: fine
    group = next(iter(good["groups"]))
    for edit, said in ((("threshold", float("nan")), "no alarm line ('threshold': a finite number)"),
                       (("threshold", float("inf")), "no alarm line"),
                       (("models", ["../other/all.s0.pt"]), "names '../other/all.s0.pt', not a file of the model folder"),
                       (("models", [str(tmp_path / "x.pt")]), "not a file of the model folder"),
                       (("preprocess", "/etc/passwd"), "names '/etc/passwd'"),
                       (("level", "pixel"), "a damaged 'level' ('pixel': 'clip' or 'cell')"),
                       (("smooth", "abc"), "a damaged 'smooth'"),
                       (("score_unit", [1, 2]), "a damaged 'score_unit' ('[1, 2]': words)"),
                       (("cell_aggregate", "median"), "a damaged 'cell_aggregate'"),
                       (("position", "yes"), "a damaged 'position'"),
                       (("views", {"a": 1}), "a damaged 'views'"),
                       (("views", {"camera-01": {"scene": [1.0] * 5}}), "a damaged 'views'"),  # not 24x32
                       (("camera", {"scene": [1.0] * 5}), "a damaged 'camera'"),
                       (("history_still_cells", "x"), "'history_still_cells' must be a list of cell numbers, got 'x'"),
                       (("history_activity_peak", "x"), "a damaged 'history_activity_peak'"),
                       (("extraction", "motion"), "an extraction record that is a JSON str"),
                       (("extraction", {"clip_len": 16, "stride": 4, "sampled_fps": "ten"}),
                        "sampled_fps 'ten', not a frame rate"),
                       (("extraction", {"clip_len": 16, "stride": 4, "repeat_share": True}),
                        "repeat_share True, not a share from 0 to 1"),
                       (("extraction", {"clip_len": 16, "stride": 4, "dim": True}), "dim True, not a whole number"),
                       (("extraction", {"clip_len": 16, "stride": 4, "cell_grid": [True, 4]}),
                        "cell_grid [True, 4], not two counts"),
                       (("extraction", {"clip_len": 16, "stride": 4, "aspects": [True]}), "aspects [True], not a"),
                       (("extraction", {"clip_len": 16, "stride": 4, "working_sizes": [[320, True]]}),
                        "working_sizes [[320, True]], not a list of [width, height] sizes")):
        index = copy.deepcopy(good)
        index["groups"][group][edit[0]] = edit[1]
        path.write_text(json.dumps(index))
        with pytest.raises(ValueError, match=re.escape(f"{path}: group {group!r}") + ".*" + re.escape(said)):
            read_index(tmp_path / "m")
    index = copy.deepcopy(good)
    index["extraction"] = ["motion"]
    path.write_text(json.dumps(index))
    with pytest.raises(ValueError, match="its extraction record is a JSON list"):
        read_index(tmp_path / "m")


def test_a_damaged_extraction_shape_or_activity_split_in_models_json_is_named_before_scoring(tmp_path):
    """The frame shapes and repeated-frame share a source is held to, and the fitted footage's two
    levels of activity, were read unchecked: an aspect of 0 or 'x', a working size [160], a
    repeat share 'x' failed in `detect --model` (and in watch at the first clip) as a
    ZeroDivisionError / TypeError traceback, an activity_split 'x' as one at the end of scoring,
    a repeat share of 7 warned of "700%" of frames repeated."""
    import copy

    from click.testing import CliRunner

    from videoad.cli import cli
    from videoad.video.index import read_index

    store, path = _saved_small_store(tmp_path)
    good = json.loads(path.read_text())
    group = next(iter(good["groups"]))
    for key, value, said in (("aspects", [0], "aspects [0], not a list of frame widths / heights"),
                             ("aspects", "x", "aspects 'x'"),
                             ("working_sizes", [[160]], "working_sizes [[160]], not a list of [width, height]"),
                             ("working_sizes", [[-1, 0]], "working_sizes"),
                             ("repeat_share", "x", "repeat_share 'x', not a share from 0 to 1"),
                             ("repeat_share", 7, "repeat_share 7")):
        index = copy.deepcopy(good)
        index["groups"][group]["extraction"][key] = value
        path.write_text(json.dumps(index))
        with pytest.raises(ValueError, match=re.escape(f"{path}: group {group!r} has an extraction record that "
                                                       f"has {said}")):
            read_index(tmp_path / "m")
        index["groups"][group]["extraction"] = good["groups"][group]["extraction"]
        index["extraction"] = {**good["extraction"], key: value}
        path.write_text(json.dumps(index))
        with pytest.raises(ValueError, match=re.escape(f"{path}: its extraction record has {said}")):
            read_index(tmp_path / "m")
    for value in ("x", {"busier": "A/a1.mp4", "quieter": 1, "ratio": 5.0}):
        index = copy.deepcopy(good)
        index["groups"][group]["activity_split"] = value
        path.write_text(json.dumps(index))
        with pytest.raises(ValueError, match=re.escape(f"{path}: group {group!r} has a damaged 'activity_split'")):
            read_index(tmp_path / "m")
    index = copy.deepcopy(good)  # the command stops with the one line, before it writes scores
    index["groups"][group]["extraction"]["aspects"] = [0]
    path.write_text(json.dumps(index))
    result = CliRunner().invoke(cli, ["detect", str(store), "--model", str(tmp_path / "m"), "-o", str(tmp_path / "s")])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert f"{path}: group {group!r} has an extraction record that has aspects [0]" in result.output
    assert not (tmp_path / "s" / "scores.csv").exists()

def test_a_model_file_copied_over_from_another_fit_is_refused_by_its_recorded_sha256(tmp_path):
    """Another fit's (or group's) weights copied over a group's file, the same network, loaded and
    scored with this group's alarm line in silence; models.json now pins each file's sha256.
    Folders saved before it (no `sha256`) load as they did."""
    import copy
    import shutil

    store, path = _saved_small_store(tmp_path)
    video.detect(store, replace(POOLED, seed=7), save_models=tmp_path / "m2")
    good = json.loads(path.read_text())
    assert set(good["groups"]["all"]["sha256"]) == {*good["groups"]["all"]["models"], "all.preprocess.npz"}
    expected = video.score(store, tmp_path / "m")
    shutil.copy(tmp_path / "m" / "all.s0.pt", tmp_path / "all.s0.pt")
    shutil.copy(tmp_path / "m2" / "all.s0.pt", tmp_path / "m" / "all.s0.pt")
    with pytest.raises(ValueError, match=re.escape(f"{tmp_path / 'm' / 'all.s0.pt'}: not the file {path} records")):
        video.score(store, tmp_path / "m")
    shutil.copy(tmp_path / "all.s0.pt", tmp_path / "m" / "all.s0.pt")  # put back: scored as before
    np.testing.assert_allclose(video.score(store, tmp_path / "m").videos[0].scores, expected.videos[0].scores)
    older = copy.deepcopy(good)
    del older["groups"]["all"]["sha256"]
    path.write_text(json.dumps(older))
    np.testing.assert_allclose(video.score(store, tmp_path / "m").videos[0].scores, expected.videos[0].scores)
    for pinned in ({"all.s0.pt": "x", "all.preprocess.npz": "y"}, {"all.s0.pt": "0" * 64}):
        older["groups"]["all"]["sha256"] = pinned
        path.write_text(json.dumps(older))
        with pytest.raises(ValueError, match=re.escape(f"{path}: group 'all' has a damaged 'sha256'")):
            video.score(store, tmp_path / "m")

def test_models_saved_before_the_frame_rate_cap_are_held_to_the_rate_their_clips_were_cut_at(tmp_path):
    """A models.json written before the rates were recorded (no sampled_fps, no max_fps) of a 15 fps
    history cut at its own rate scored footage of the same camera cut at 10 fps under today's cap
    (native against native: 15 and 15), while `watch` cut at 15: the two disagreed in silence."""
    for k in range(2):
        fake_video(tmp_path / "history", f"h{k}.mp4", 60, seed=k, fps=15.0, attrs={"sampled_fps": 15.0})
    fake_video(tmp_path / "today", "t.mp4", 60, seed=5, fps=15.0, attrs={"sampled_fps": 10.0, "max_fps": 10.0})
    fake_video(tmp_path / "today15", "t.mp4", 60, seed=5, fps=15.0, attrs={"sampled_fps": 15.0})
    video.detect(tmp_path / "history", POOLED, save_models=tmp_path / "m")
    path = tmp_path / "m" / "models.json"
    index = json.loads(path.read_text())
    for record in [index.get("extraction") or {}] + [g.get("extraction") or {} for g in index["groups"].values()]:
        for key in ("sampled_fps", "max_fps"):
            record.pop(key, None)
    path.write_text(json.dumps(index))
    with pytest.raises(ValueError, match=r"frame rate: the fitted footage was cut into clips at 15 fps, t.mp4 at 10 fps"
                                         r".*extract both at one rate with --fps N"):
        video.score(tmp_path / "today", tmp_path / "m")
    assert len(video.score(tmp_path / "today15", tmp_path / "m").videos) == 1  # cut as the history was: scored


def test_a_store_written_with_nan_features_names_the_video(tmp_path):
    """Stores written before non-finite features were refused: the fit failed with "X contains NaN or
    inf (first at row 5, column 0)", rows of a pooled matrix that name no video. Then that one video
    stopped every other's scoring (its group failed: pooled, the whole run); the screen reads
    attributes alone, so it is found at loading, and left out there, named, as a damaged file is:
    in the footage scored and in a history fitted on alike."""
    import h5py

    store = tmp_path / "features"
    small_store(store)
    with h5py.File(store / "A" / "a2.mp4.h5", "r+") as f:
        f["features"][3, 0] = np.nan
    pca = video.DetectConfig(detector="pca", params={}, mode="pooled", min_clips=10)
    why = f"{store / 'A' / 'a2.mp4.h5'}: its features hold values that are not finite numbers (NaN or inf)"
    for scores in (video.detect(store, pca), video.detect(store, replace(pca, mode="per-category"))):
        assert sorted(v.video for v in scores) == ["A/a1.mp4", "B/b1.mp4"]
        (left,) = scores.left_out()
        assert left["video"] == "A/a2.mp4" and left["reason"].startswith(why)
        (group,) = [g for g in scores.groups if "A/a1.mp4" in g["videos"]]
        assert "A/a2.mp4" not in group["videos"] and group["n_clips"] == 60 + (20 if group["group"] == "all" else 0)
    new = tmp_path / "new"
    fake_video(new, "A/n1.mp4", 40, anomalous=[7], seed=20)
    scores = video.fit_and_score(store, new, pca)  # the damaged video in the history
    assert [v.video for v in scores] == ["A/n1.mp4"] and scores.left_out() == []
    (left,) = scores.meta["history_left_out"]
    assert left["video"] == "A/a2.mp4" and left["reason"].startswith(why)
    scores = video.fit_and_score(new, store, pca)  # in the footage scored
    assert sorted(v.video for v in scores) == ["A/a1.mp4", "B/b1.mp4"]
    assert [e["video"] for e in scores.left_out()] == ["A/a2.mp4"]
    only = tmp_path / "only"  # nothing else to fit: the group fails, the video named
    fake_video(only, "a.mp4", 40)
    with h5py.File(only / "a.mp4.h5", "r+") as f:
        f["features"][3, 0] = np.inf
    with pytest.raises(ValueError, match=r"the features of a.mp4 hold values that are not finite numbers"):
        video.detect(only, pca)


def test_a_model_folder_fitted_with_a_seed_now_out_of_range_still_scores(tmp_path):
    """`detect --seed -1` was accepted before the seed's range was checked; a folder fitted so records
    seed -1, which scoring never uses, and `detect --model` refused it (watch did not)."""
    store, path = _saved_small_store(tmp_path)
    index = json.loads(path.read_text())
    index["config"]["seed"] = -1
    path.write_text(json.dumps(index))
    assert len(video.score(store, tmp_path / "m").videos) == 3
    with pytest.raises(ValueError, match="seed must be a whole number from 0 to"):
        video.DetectConfig(seed=-1).check("my.yaml")  # a fit's seed is still checked


def test_videos_one_of_which_recorded_a_leave_to_unpickle_are_extracted_alike(tmp_path, caplog):
    """Older versions recorded allow_pickle among the backbone options; a store resumed today holds
    videos with and without it, and they were called extracted with different settings (a warning,
    and no extraction record at the top of models.json)."""
    opts = {"width": 16}
    fake_video(tmp_path / "f", "a.mp4", 60, seed=1, attrs={"backbone_options": json.dumps({**opts, "allow_pickle": "true"})})
    fake_video(tmp_path / "f", "b.mp4", 60, seed=2, attrs={"backbone_options": json.dumps(opts)})
    with caplog.at_level("WARNING"):
        scores = video.detect(tmp_path / "f", POOLED, save_models=tmp_path / "m")
    assert "different settings" not in caplog.text
    assert not any(g.get("mixed_extraction") for g in scores.meta["groups"])
    assert json.loads((tmp_path / "m" / "models.json").read_text())["extraction"]["options"] == opts


def test_models_saved_before_a_backbone_option_existed_score_the_footage_they_were_fitted_beside(tmp_path):
    """A models.json of a version before `stabilize` (and `cuts`) records the motion options without
    them; the store's side was read as stabilize=False, the model's as None, and `detect --model`
    refused the very footage the models were fitted on ("Extract it with the same settings")."""
    now = {"size": "160x120", "cuts": "keep", "stabilize": False}
    for i in range(3):
        fake_video(tmp_path / "f", f"v{i}.mp4", 60, seed=i,
                   attrs={"backbone": "motion", "backbone_options": json.dumps({"size": "160x120"})})
    video.detect(tmp_path / "f", POOLED, save_models=tmp_path / "m")
    path = tmp_path / "m" / "models.json"
    index = json.loads(path.read_text())
    assert index["extraction"]["options"] == now  # written today with the values the old record stands for
    for record in [index["extraction"]] + [g["extraction"] for g in index["groups"].values()]:
        record["options"] = {"size": "160x120"}  # as the older version wrote it
    path.write_text(json.dumps(index))
    assert len(video.score(tmp_path / "f", tmp_path / "m").videos) == 3
    for i in range(3):  # the same footage extracted today, which records both options
        fake_video(tmp_path / "g", f"v{i}.mp4", 60, seed=i,
                   attrs={"backbone": "motion", "backbone_options": json.dumps(now)})
    assert len(video.score(tmp_path / "g", tmp_path / "m").videos) == 3
    fake_video(tmp_path / "h", "v0.mp4", 60, seed=0,
               attrs={"backbone": "motion", "backbone_options": json.dumps({**now, "stabilize": True})})
    with pytest.raises(ValueError, match=r"backbone option stabilize: False \(fitted\) vs True"):
        video.score(tmp_path / "h", tmp_path / "m")


def test_models_that_do_not_record_their_extraction_score_with_a_warning(tmp_path, caplog):
    """A models.json from before extraction was recorded skipped every check in silence, where
    watch refuses it: footage extracted today (another working size, stabilised) was scored by
    models fitted on other features without a word."""
    store, path = _saved_small_store(tmp_path)
    index = json.loads(path.read_text())
    index.pop("extraction", None)
    for g in index["groups"].values():
        g.pop("extraction", None)
    path.write_text(json.dumps(index))
    with caplog.at_level("WARNING"):
        scores = video.score(store, tmp_path / "m")
    assert len(scores.videos) == 3 and "does not record how its features were extracted" in caplog.text
    assert all(g.get("extraction_unchecked") for g in scores.meta["groups"])


def test_one_video_extracted_otherwise_is_left_out_and_the_rest_scored(tmp_path):
    """One camera's new recording at another resolution (an NVR handing it over upscaled) stopped the
    scoring of every camera, saved models and --fit-on alike; now that video is left out with its
    reason, the others are scored, and detect's exit status says a video was left out so."""
    import json

    from click.testing import CliRunner

    from videoad.cli import cli

    def opts(work):
        return {"backbone_options": json.dumps({"size": "auto", "grid": 2}), "frame_size": [240, 320],
                "working_size": list(work)}

    train, models = tmp_path / "train", tmp_path / "models"
    for i in range(2):
        fake_video(train, f"A/t{i}.mp4", 60, seed=10 + i, attrs=opts((160, 120)))
    video.detect(train, CFG, save_models=models)
    new = tmp_path / "new"
    fake_video(new, "A/same.mp4", 40, anomalous=[7, 8], seed=20, attrs=opts((160, 120)))
    fake_video(new, "A/upscaled.mp4", 40, seed=21, attrs=opts((320, 240)))
    for scores in (video.score(new, models), video.fit_and_score(train, new, CFG)):
        assert [v.video for v in scores] == ["A/same.mp4"]
        left = {item["video"]: item["reason"] for item in scores.left_out()}
        assert "not extracted as" in left["A/upscaled.mp4"] and "[320, 240]" in left["A/upscaled.mp4"]
        assert scores.meta["groups"][0]["unlike_extraction"] == 1
    res = CliRunner().invoke(cli, ["detect", str(new), "--model", str(models), "-o", str(tmp_path / "s")])
    assert res.exit_code == 1 and "left out A/upscaled.mp4: not extracted as the models" in res.output, res.output
    assert (tmp_path / "s" / "segments.csv").exists()


def test_a_history_group_too_short_to_fit_says_what_it_costs_and_what_to_do(tmp_path):
    """A camera (category) whose history is under min_clips was skipped with its count alone; its
    footage then read later as of no known camera. The reason says no model is fitted nor saved, its
    videos are not scored, and how much history a fit needs."""
    train, test = tmp_path / "train", tmp_path / "test"
    for i in range(2):
        fake_video(train, f"A/t{i}.mp4", 60, seed=10 + i)
    fake_video(train, "B/t0.mp4", 12, seed=12)
    fake_video(test, "A/n.mp4", 40, seed=20)
    fake_video(test, "B/n.mp4", 40, seed=21)
    scores = video.fit_and_score(train, test, CFG)
    (b,) = [g for g in scores.meta["groups"] if g["group"] == "B"]
    assert b["status"] == "skipped" and "no model is fitted nor saved for it and its videos are not scored" in b["reason"]
    assert "give it more history" in b["reason"] and [v.video for v in scores] == ["A/n.mp4"]


def test_leaving_out_unlike_videos_reads_each_video_and_a_group_of_none_fails_alike(tmp_path):
    """Mends of the leave-out: a video of other settings was left out when its name sorted first
    and scored by the mismatched model when it sorted after a matching one (the group's record is
    its first video's); a group whose videos are all of other settings fails alike with --save-model
    or without (fitted and saved, it read as scored)."""
    import json

    def opts(mask=None, work=(160, 120)):
        o = {"size": "auto", "grid": 2, **({"mask": mask} if mask else {})}
        return {"backbone_options": json.dumps(o), "frame_size": [240, 320], "working_size": list(work)}

    cfg = replace(CFG, mode="per-category")
    train = tmp_path / "train"
    for c in "AB":
        for i in range(2):
            fake_video(train, f"{c}/t{i}.mp4", 60, seed=10 + i + ord(c), attrs=opts())
    video.detect(train, replace(cfg, mode="pooled"), save_models=tmp_path / "pooled")
    for odd in ("a_masked.mp4", "z_masked.mp4"):
        new = tmp_path / odd
        fake_video(new, f"A/{odd}", 40, seed=20, attrs=opts(mask="0,0,0.5,1"))
        fake_video(new, "A/b_plain.mp4", 40, seed=21, attrs=opts())
        for scores in (video.score(new, tmp_path / "pooled"), video.fit_and_score(train, new, cfg)):
            assert [v.video for v in scores] == ["A/b_plain.mp4"], odd
            assert [x["video"] for x in scores.left_out()] == [f"A/{odd}"]
    new = tmp_path / "new"
    fake_video(new, "A/same.mp4", 40, seed=20, attrs=opts())
    fake_video(new, "B/upscaled.mp4", 40, seed=21, attrs=opts(work=(320, 240)))
    for saved in (None, tmp_path / "models"):  # one status whether models are saved or not
        scores = video.fit_and_score(train, new, cfg, save_models=saved)
        groups = {g["group"]: g for g in scores.meta["groups"]}
        assert groups["B"]["status"] == "failed" and "not extracted as the history" in groups["B"]["reason"]
        assert [g["group"] for g in scores.skipped()] == ["B"] and [v.video for v in scores] == ["A/same.mp4"]
    assert sorted(json.loads((tmp_path / "models" / "models.json").read_text())["groups"]) == ["A"]


def test_the_repeats_note_reads_the_videos_scored_not_those_left_out(tmp_path):
    """A video left out for its extraction, 60% of its frames repeated, gave its group a repeats
    note (and a warning) although the only video scored repeats none."""
    import json

    def opts(work, repeated):
        return {"backbone_options": json.dumps({"size": "auto", "grid": 2}), "frame_size": [240, 320],
                "working_size": list(work), "repeated_frames": repeated}

    train, new = tmp_path / "train", tmp_path / "new"
    for i in range(2):
        fake_video(train, f"t{i}.mp4", 60, seed=10 + i, attrs=opts((160, 120), 0))
    pooled = replace(CFG, mode="pooled")
    video.detect(train, pooled, save_models=tmp_path / "models")
    fake_video(new, "a_upscaled.mp4", 40, seed=21, attrs=opts((320, 240), 400))
    fake_video(new, "b_same.mp4", 40, seed=20, attrs=opts((160, 120), 0))
    for scores in (video.score(new, tmp_path / "models"), video.fit_and_score(train, new, pooled)):
        assert [v.video for v in scores] == ["b_same.mp4"] and "repeats" not in scores.meta["groups"][0]


def test_a_damaged_history_file_is_named_in_run_json_and_on_the_command_line(tmp_path):
    """`detect --fit-on HISTORY`: a history feature file that cannot be read was left out of the fit
    in silence (a log line; run.json kept no `history_left_out`, the report said nothing), the models
    fitted without it as if the history were whole."""
    from click.testing import CliRunner

    from videoad.cli import cli

    history, new = tmp_path / "history", tmp_path / "new"
    small_store(history)
    (history / "A" / "broken.mp4.h5").write_bytes(b"")
    fake_video(new, "A/n1.mp4", 40, anomalous=[7], seed=20)
    scores = video.fit_and_score(history, new, replace(POOLED, detector="pca", params={}))
    assert [v.video for v in scores] == ["A/n1.mp4"] and scores.left_out() == []
    (left,) = scores.meta["history_left_out"]
    assert left["video"] == "A/broken.mp4" and "not a readable feature file" in left["reason"]
    res = CliRunner().invoke(cli, ["detect", str(new), "--fit-on", str(history), "--pooled", "--detector", "pca",
                                   "--min-clips", "10", "-o", str(tmp_path / "s")])
    assert res.exit_code == 0, res.output
    assert f"left out of the history A/broken.mp4: {history / 'A' / 'broken.mp4.h5'}: not a readable" in res.output
    (left,) = json.loads((tmp_path / "s" / "run.json").read_text())["history_left_out"]
    assert left["video"] == "A/broken.mp4"
    assert read_scores(tmp_path / "s").meta["history_left_out"][0]["video"] == "A/broken.mp4"


def _odd_width_video(root, key: str, n_clips: int = 30, dim: int = DIM + 2, seed: int = 9) -> None:
    """Features of another size per clip than `fake_video`'s (extracted with other settings)."""
    from extract.store import write_video

    starts = np.arange(n_clips) * 16
    write_video(root, key, np.random.default_rng(seed).random((n_clips, dim), dtype=np.float32),
                np.stack([starts, starts + 15], 1),
                {"n_frames": int(starts[-1] + 21), "fps": 10.0, "clip_len": 16, "stride": 16, "backbone": "fake"})


def test_a_video_laid_out_unlike_the_rest_of_its_group_is_left_out_not_the_group(tmp_path):
    """One video whose features are laid out otherwise than its group's others (another size per clip,
    or cells on another grid: extracted with other settings) failed the whole group (pooled: the run).
    The minority is left out, named with its file and layout, as a damaged file is; the rest are
    fitted and scored, in the footage scored and in a history fitted on alike. Where no layout is
    most of the group's, there is no odd one to leave out: the group fails, named."""
    from video_helpers import fake_cell_video

    store = tmp_path / "features"
    small_store(store)
    _odd_width_video(store, "A/wide.mp4")
    pca = video.DetectConfig(detector="pca", params={}, mode="pooled", min_clips=10)
    path = store / "A" / "wide.mp4.h5"
    for scores in (video.detect(store, pca), video.detect(store, replace(pca, mode="per-category"))):
        assert sorted(v.video for v in scores) == ["A/a1.mp4", "A/a2.mp4", "B/b1.mp4"]
        (left,) = scores.left_out()
        assert left["video"] == "A/wide.mp4" and left["reason"].startswith(f"{path}: {DIM + 2} values per clip")
        assert f"{DIM} values per clip" in left["reason"]
        assert all(g["status"] == "fitted" and "A/wide.mp4" not in g["videos"] for g in scores.groups)
    new = tmp_path / "new"
    fake_video(new, "A/n1.mp4", 40, anomalous=[7], seed=20)
    scores = video.fit_and_score(store, new, pca)  # the odd video in the history
    assert [v.video for v in scores] == ["A/n1.mp4"] and scores.left_out() == []
    assert [e["video"] for e in scores.meta["history_left_out"]] == ["A/wide.mp4"]

    cells = tmp_path / "cells"  # the same sizes, another grid: 1x4 cells are not 2x2 cells
    for i in range(3):
        fake_cell_video(cells, f"cam/v{i}.mp4", 30, seed=i)
    fake_cell_video(cells, "cam/strip.mp4", 30, seed=5, grid=(1, 4))
    scores = video.detect(cells, replace(pca, level="cell"))
    assert sorted(v.video for v in scores) == ["cam/v0.mp4", "cam/v1.mp4", "cam/v2.mp4"]
    (left,) = scores.left_out()
    assert left["video"] == "cam/strip.mp4" and "1x4" in left["reason"] and "2x2" in left["reason"]
    assert scores.meta["cell_grid"] == [2, 2]

    tie = tmp_path / "tie"  # one of each: neither is the odd one
    fake_video(tie, "a.mp4", 40, seed=1)
    _odd_width_video(tie, "b.mp4", 40)
    with pytest.raises(ValueError, match=r"different feature sizes.*b.mp4: 14"):
        video.detect(tie, pca)


def test_the_videos_a_failed_group_left_out_are_still_said(tmp_path):
    """A group that leaves a damaged video out and then fails (too few clips without it) came back
    as its failure alone: the video it had left out went unnamed in `left_out` (run.json, the command
    line) and stayed in the failed group's videos. In the footage scored and in a history alike."""
    import h5py

    store = tmp_path / "features"
    small_store(store)
    fake_video(store, "B/b2.mp4", 70, seed=4)
    with h5py.File(store / "A" / "a2.mp4.h5", "r+") as f:
        f["features"][3, 0] = np.nan
    pca = video.DetectConfig(detector="pca", params={}, mode="per-category", min_clips=61)
    scores = video.detect(store, pca)
    assert sorted(v.video for v in scores) == ["B/b1.mp4", "B/b2.mp4"]
    (left,) = scores.left_out()
    assert left["video"] == "A/a2.mp4" and "not finite" in left["reason"]
    (a,) = [g for g in scores.groups if g["group"] == "A"]
    assert a["status"] == "failed" and "min_clips=61" in a["reason"]
    assert a["videos"] == ["A/a1.mp4"] and a["n_clips"] == 60
    write_scores(tmp_path / "s", scores)
    assert [e["video"] for e in json.loads((tmp_path / "s" / "run.json").read_text())["left_out"]] == ["A/a2.mp4"]
    new = tmp_path / "new"
    fake_video(new, "A/n1.mp4", 40, seed=20)
    fake_video(new, "B/n2.mp4", 40, seed=21)
    scores = video.fit_and_score(store, new, pca)  # the damaged video in the history: group A fails
    assert [v.video for v in scores] == ["B/n2.mp4"] and scores.left_out() == []
    assert [e["video"] for e in scores.meta["history_left_out"]] == ["A/a2.mp4"]


def test_a_file_whose_cells_are_not_its_grid_is_left_out_of_its_group(tmp_path):
    """A file whose cells number other than its recorded grid says (hand-made, or its attributes
    rewritten) passed as the group's layout and failed the group's fit in numpy's words, naming no
    file; it is left out, named, as a video of another layout is."""
    import h5py

    from video_helpers import fake_cell_video

    from extract.store import write_video

    for i in range(3):
        fake_cell_video(tmp_path, f"cam/v{i}.mp4", 30, seed=i)
    starts = np.arange(30) * 16
    write_video(tmp_path, "cam/nine.mp4", np.ones((30, 4 * DIM), np.float32), np.stack([starts, starts + 15], 1),
                {"n_frames": 500, "fps": 10.0, "clip_len": 16, "stride": 16, "backbone": "fake"},
                cells=np.ones((30, 9, DIM), np.float32), cell_grid=(3, 3))
    with h5py.File(tmp_path / "cam" / "nine.mp4.h5", "r+") as f:
        f.attrs["cell_grid"] = [2, 2]
    pca = video.DetectConfig(detector="pca", params={}, mode="pooled", min_clips=10, level="cell")
    scores = video.detect(tmp_path, pca)
    assert sorted(v.video for v in scores) == ["cam/v0.mp4", "cam/v1.mp4", "cam/v2.mp4"]
    (left,) = scores.left_out()
    assert left["video"] == "cam/nine.mp4" and "9 cells of 12 values each (its cell grid says 2x2)" in left["reason"]


def _without_dim(*roots) -> None:
    """Stores whose files do not record their feature width (written before it was recorded, or by
    hand): nothing but the arrays says how they are laid out."""
    import h5py

    for root in roots:
        for path in Path(root).rglob("*.h5"):
            with h5py.File(path, "r+") as f:
                del f.attrs["dim"]


def test_scoring_with_a_model_leaves_out_the_videos_laid_out_unlike_the_model_not_unlike_most(tmp_path):
    """Scoring with a model (`detect --model`, `--fit-on`) held each video against the layout of most
    of the scored group, not against the model's: in a store without extraction records where the
    model's layout was the minority's, the majority passed, the group failed in the model's words and
    `left_out` named the one video the model could score. The model records the layout it was fitted
    on (models.json `fitted_layout`); the videos laid out otherwise are the ones left out, named. A
    model saved before the record is held to the group's majority, as before."""
    fit = tmp_path / "fit"  # the model's features: DIM + 2 values per clip
    for i in range(3):
        _odd_width_video(fit, f"A/h{i}.mp4", 40, seed=30 + i)
    new = tmp_path / "new"  # most of the scored videos have DIM values per clip; one is laid out as the model's
    for i in range(3):
        fake_video(new, f"A/n{i}.mp4", 30, seed=40 + i)
    _odd_width_video(new, "A/like.mp4", 30, seed=50)
    _without_dim(fit, new)
    duad = replace(CFG, mode="pooled", min_clips=10)
    video.detect(fit, duad, save_models=tmp_path / "m")

    def check(scores):
        assert [v.video for v in scores] == ["A/like.mp4"] and scores.groups[0]["status"] != "failed"
        left = {e["video"]: e["reason"] for e in scores.left_out()}
        assert sorted(left) == ["A/n0.mp4", "A/n1.mp4", "A/n2.mp4"]
        assert left["A/n0.mp4"].startswith(f"{new / 'A' / 'n0.mp4.h5'}: {DIM} values per clip, where the model "
                                           f"was fitted on {DIM + 2} values per clip")

    check(video.score(new, tmp_path / "m"))
    entry = next(iter(json.loads((tmp_path / "m" / "models.json").read_text())["groups"].values()))
    assert entry["fitted_layout"] == {"clip_values": DIM + 2, "row_values": DIM + 2}
    check(video.fit_and_score(fit, new, replace(duad, detector="pca", params={})))
    only = tmp_path / "only"  # none of them as the model's: the group fails, named
    for i in range(2):
        fake_video(only, f"A/n{i}.mp4", 30, seed=40 + i)
    _without_dim(only)
    with pytest.raises(ValueError, match=r"no video of the group is laid out as the features its model was fitted "
                                         r"on: .*n0.mp4.h5: 12 values per clip"):
        video.score(only, tmp_path / "m")
    old = json.loads((tmp_path / "m" / "models.json").read_text())  # a model saved before the record
    for e in old["groups"].values():
        del e["fitted_layout"]
    (tmp_path / "m" / "models.json").write_text(json.dumps(old))
    with pytest.raises(ValueError, match="the model was fitted on 14-d rows, these have 12-d"):
        video.score(new, tmp_path / "m")


@pytest.mark.parametrize("edit", [lambda n: True, str, float])
def test_a_fitted_layout_count_that_is_not_a_whole_number_names_models_json(tmp_path, edit):
    """int() took a hand-edited `clip_values: true` for 1 (and "12" or 12.0 for 12): a true left
    every video out as "extracted with other settings; extract it again", blaming the features for
    a damaged models.json."""
    store, path = _saved_small_store(tmp_path)
    index = json.loads(path.read_text())
    for entry in index["groups"].values():
        entry["fitted_layout"]["clip_values"] = edit(entry["fitted_layout"]["clip_values"])
    path.write_text(json.dumps(index))
    with pytest.raises(ValueError, match=re.escape(f"{path}: group 'all' has a damaged 'fitted_layout'")):
        video.score(store, tmp_path / "m")


def _bare_video(root, key: str, n_clips: int = 30, seed: int = 9) -> None:
    """A video of `fake_cell_video`'s clip size with no cells (extracted before cells, or by a backbone
    without a grid)."""
    from extract.store import write_video

    starts = np.arange(n_clips) * 16
    X = np.tile(np.linspace(1.0, 2.0, DIM), 4) + np.random.default_rng(seed).normal(0, 0.05, (n_clips, 4 * DIM))
    write_video(root, key, X.astype(np.float32), np.stack([starts, starts + 15], 1),
                {"n_frames": int(starts[-1] + 21), "fps": 10.0, "clip_len": 16, "stride": 16, "backbone": "fake"})


def test_one_video_without_cells_is_left_out_not_the_whole_group_scored_without_cells(tmp_path, caplog):
    """One video without cells in a group whose others have them switched the whole group to whole
    clips under `level: auto` (no heat map for any video, said nowhere) and failed the group under
    `level: cell`. It is left out, named, and the others are scored by their cells. Where most of the
    group's videos have no cells, the group is scored as whole clips as before, and the run says so."""
    from video_helpers import fake_cell_video

    from videoad import coverage

    store = tmp_path / "s"
    for i in range(3):
        fake_cell_video(store, f"cam/v{i}.mp4", 30, seed=i)
    _bare_video(store, "cam/bare.mp4")
    pca = video.DetectConfig(detector="pca", params={}, mode="pooled", min_clips=10)
    for level in ("auto", "cell"):
        scores = video.detect(store, replace(pca, level=level))
        assert sorted(v.video for v in scores) == ["cam/v0.mp4", "cam/v1.mp4", "cam/v2.mp4"]
        assert scores.groups[0]["level"] == "cell" and all(v.cells.shape == (30, 4) for v in scores)
        (left,) = scores.left_out()
        assert left["video"] == "cam/bare.mp4" and "no cells in the store" in left["reason"]
        assert "3 of the 4 videos of its group have them" in left["reason"]
    video.detect(store, replace(pca, detector="duad", params=FAST_DUAD), save_models=tmp_path / "m")
    scores = video.score(store, tmp_path / "m")  # a cell model: the video without cells left out, named
    assert [e["video"] for e in scores.left_out()] == ["cam/bare.mp4"] and len(scores.videos) == 3
    assert "cell_grid: [2, 2] (fitted) vs None" in scores.left_out()[0]["reason"]  # the fitted videos' extraction
    index = json.loads((tmp_path / "m" / "models.json").read_text())  # models.json without extraction records
    index.pop("extraction", None)
    index["groups"]["all"].pop("extraction")
    (tmp_path / "m" / "models.json").write_text(json.dumps(index))
    scores = video.score(store, tmp_path / "m")  # the model's layout: no cells, no score
    assert [e["video"] for e in scores.left_out()] == ["cam/bare.mp4"] and len(scores.videos) == 3
    assert (f"{4 * DIM} values per clip, no cells, where the model was fitted on {4 * DIM} values per clip, cells "
            "on a 2x2") in scores.left_out()[0]["reason"]

    most = tmp_path / "most"  # most without cells: whole clips for all, said
    fake_cell_video(most, "cam/v0.mp4", 30, seed=0)
    _bare_video(most, "cam/b1.mp4", seed=1)
    _bare_video(most, "cam/b2.mp4", seed=2)
    caplog.clear()
    scores = video.detect(most, pca)
    assert len(scores.videos) == 3 and scores.left_out() == [] and scores.groups[0]["level"] == "clip"
    assert scores.groups[0]["cells_unused"] == {"with_cells": 1, "videos": 3}
    # said once, with the footage checks (the CLI's `warning:` lines, the report): it was logged as well
    assert [line for line in coverage.warnings(scores.groups) if "only 1 of the 3 videos" in line]
    assert not [r for r in caplog.records if "grid cells" in r.getMessage()]


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_the_local_executor_counts_each_group_as_it_ends(n_jobs):
    """The groups' fits report as each ends, in their order, run in turn or in processes."""
    from videoad.video.run import _run

    ticks = []
    assert _run([(pow, (2, i)) for i in range(3)], n_jobs, progress=ticks.append) == [1, 2, 4]
    assert ticks == [1, 1, 1]


def test_detect_on_a_terminal_shows_a_bar_of_the_groups(monkeypatch):
    """`videoad detect` on a terminal said nothing for the minutes its fits took; it now shows the
    groups fitted (where no one watches, a plain line now and then: tests/test_progress_log.py)."""
    import io
    import sys

    from videoad.cli.ray_opts import detect_executor

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    screen = Terminal()
    monkeypatch.setattr(sys, "stderr", screen)
    executor = detect_executor(None, None, None, 1)
    assert executor([(pow, (2, i)) for i in range(3)], 1) == [1, 2, 4]
    assert "fit and score:   0%" in screen.getvalue() and "0/3 [" in screen.getvalue()  # drawn at its start
