"""Clip scores smoothed in time: one smoother offline and live, its settings, its place in a run."""
from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter1d

from tests.video_helpers import FAST_DUAD, fake_video
from videoad import video
from videoad.group_model import GroupModel
from videoad.smoothing import ScoreSmoother, clip_step_seconds, kernel, smooth_scores, step_seconds


@pytest.mark.parametrize("n", [1, 2, 5, 40])
@pytest.mark.parametrize("sigma", [0.4, 1.25, 3.0])
def test_offline_smoothing_is_a_gaussian_with_the_ends_repeated(n, sigma):
    x = np.random.default_rng(n).normal(size=n)
    np.testing.assert_allclose(smooth_scores(x, sigma), gaussian_filter1d(x, sigma, mode="nearest"), atol=1e-12)
    np.testing.assert_array_equal(smooth_scores(x, 0.0), x)
    assert kernel(sigma).sum() == pytest.approx(1.0) and len(kernel(sigma)) == 2 * int(4 * sigma + 0.5) + 1


@pytest.mark.parametrize("n", [1, 2, 3, 17, 140, 141, 600])
@pytest.mark.parametrize("sigma", [15.8, 16.0, 35.0, 70.0, 160.0])  # 127 taps (direct) to 1281 (FFT)
def test_long_kernels_give_the_gaussian_with_the_ends_repeated_whatever_the_video_length(n, sigma):
    """Kernels past `DIRECT_TAPS` go by FFT with the repeated ends added in closed form: the numbers
    of scipy's direct filter, on videos shorter and longer than the kernel, offset far from 0."""
    x = 1e3 + np.random.default_rng(n).normal(size=n) * 50
    want = gaussian_filter1d(x, sigma, mode="nearest")
    np.testing.assert_allclose(smooth_scores(x, sigma), want, rtol=0, atol=1e-9)
    sm = ScoreSmoother(sigma)
    got = [v for s in x for _, v in sm.push(s)] + [v for _, v in sm.flush()]
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-9)


def test_an_hour_of_smoothing_on_a_long_video_of_a_clip_a_frame_is_computed_not_hung():
    """`smooth: 3600` at stride 1 and 25 fps is a sigma of 90,000 clips (720,001 taps): convolved
    directly, 100k clips did not end in 5 minutes (offline, and the stream's flush alike)."""
    n, sigma = 100_000, 90_000.0
    np.testing.assert_allclose(smooth_scores(np.full(n, 2.5), sigma), 2.5, rtol=0, atol=1e-12)
    ramp = np.linspace(-1.0, 1.0, n)  # symmetric about the middle clip: so is its smoothing
    got = smooth_scores(ramp, sigma)
    np.testing.assert_allclose(got, -got[::-1], rtol=0, atol=1e-12)
    w = kernel(sigma)
    r = len(w) // 2
    for t in (0, 1, 12_345, n // 2, n - 1):  # the definition at a few clips: ends repeated past the video
        assert got[t] == pytest.approx(float(np.dot(w, ramp[np.clip(np.arange(t - r, t + r + 1), 0, n - 1)])),
                                       abs=1e-12)
    sm = ScoreSmoother(sigma)
    assert [v for s in ramp for _, v in sm.push(s)] == []  # the kernel reaches past the video's end
    np.testing.assert_allclose([v for _, v in sm.flush()], got, rtol=0, atol=1e-12)


@pytest.mark.parametrize("sigma", [float("nan"), float("inf")])
def test_a_sigma_that_is_not_a_number_is_refused_by_name(sigma):
    with pytest.raises(ValueError, match="sigma must be a finite number"):
        kernel(sigma)


def test_the_stream_hands_each_clip_back_once_in_order_radius_clips_late():
    x = np.random.default_rng(0).normal(size=30)
    sm = ScoreSmoother(1.25)
    r = sm.radius
    got = []
    for i, v in enumerate(x):
        out = sm.push(v, item=f"clip{i}")
        # clip t is final once clip t + radius has arrived
        assert [item for item, _ in out] == ([f"clip{i - r}"] if i >= r else [])
        got += out
    got += sm.flush()
    assert [item for item, _ in got] == [f"clip{i}" for i in range(30)]
    np.testing.assert_allclose([v for _, v in got], smooth_scores(x, 1.25), atol=1e-12)
    # after a flush the smoother starts a new video: nothing of the last one leaks in
    y = x[:7] + 10
    again = [v for s in y for _, v in sm.push(s)] + [v for _, v in sm.flush()]
    np.testing.assert_allclose(again, smooth_scores(y, 1.25), atol=1e-12)


def test_seconds_between_clips_from_the_extraction_settings():
    frames = np.stack([np.arange(10) * 4, np.arange(10) * 4 + 15], 1)
    assert clip_step_seconds({"fps": 10.0, "stride": 4}, frames) == pytest.approx(0.4)
    assert clip_step_seconds({"fps": 30.0, "stride": 4, "target_fps": 10.0}, frames * 3) == pytest.approx(0.4)
    # capped (--max-fps): a 30 fps video cut at 15, clips 8 source frames apart; a 10 fps one kept
    assert clip_step_seconds({"fps": 30.0, "stride": 4, "max_fps": 15.0, "sampled_fps": 15.0},
                             frames * 2) == pytest.approx(4 / 15)
    assert clip_step_seconds({"fps": 10.0, "stride": 4, "max_fps": 15.0, "sampled_fps": 10.0}, frames) == pytest.approx(0.4)
    # imported 32-segment features: clips are not `stride` apart; their own spacing counts
    seg = np.stack([np.arange(32) * 100, np.arange(32) * 100 + 99], 1)
    assert clip_step_seconds({"fps": 25.0, "stride": 16}, seg) == pytest.approx(4.0)
    assert step_seconds(16, None) == pytest.approx(16 / 25.0)  # no frame rate: the events' assumption


@pytest.mark.parametrize("n_frames", [80, 320, 1600])
def test_a_short_imported_videos_segments_are_as_far_apart_as_they_are_on_average(n_frames):
    """32 segments of a video of 5 clips (80 frames) share first frames (0, 0, 0, 0, 16, ...): the
    median spacing was 0 seconds, so that video went unsmoothed among smoothed ones; at 20 clips it
    alternated 16 and 0 frames and the median said 16, where the segments are 10 apart."""
    from extract.importers import sultani_segments

    _, frames = sultani_segments(n_frames)
    step = clip_step_seconds({"fps": 30.0, "stride": 16, "row_kind": "segment"}, frames)  # as import sultani writes
    assert step == pytest.approx((frames[-1, 0] - frames[0, 0]) / 31 / 30.0)
    model = GroupModel([], {}, {}, False, "mean", 0.0, smooth=0.5)
    assert model.sigma(step) > 0


def _store(root):
    for k in range(3):
        fake_video(root, f"v{k}.mp4", 80, anomalous=[20, 21, 22] if k == 0 else [], seed=k, stride=4)
    return root


def test_a_run_smooths_each_video_on_its_own_and_the_model_keeps_the_setting(tmp_path):
    root = _store(tmp_path / "f")
    cfg = video.DetectConfig(mode="pooled", params=dict(FAST_DUAD), level="clip", min_clips=10)
    raw = video.detect(root, replace(cfg, smooth=0.0), save_models=tmp_path / "m0")
    sm = video.detect(root, replace(cfg, smooth=1.0), save_models=tmp_path / "m")
    assert sm.meta["groups"][0]["smooth"] == 1.0
    for a, b in zip(raw, sm):  # sigma = 1 s / (4 frames / 10 fps) = 2.5 clips, per video
        np.testing.assert_allclose(b.scores, smooth_scores(a.scores, 2.5), atol=1e-9)
    # the alarm line is drawn from the smoothed scores
    assert sm.videos[0].threshold != raw.videos[0].threshold
    entry = json.loads((tmp_path / "m" / "models.json").read_text())["groups"]
    entry = entry[0] if isinstance(entry, list) else next(iter(entry.values()))
    assert entry["smooth"] == 1.0
    # scoring with the saved model smooths the same way (the same fit, saved with and without)
    for a, b in zip(video.score(root, tmp_path / "m0"), video.score(root, tmp_path / "m")):
        np.testing.assert_allclose(b.scores, smooth_scores(a.scores, 2.5), atol=1e-9)


def test_models_saved_before_smoothing_existed_score_unsmoothed(tmp_path):
    """A models.json written before `smooth` was recorded: its models score raw (as they were fitted),
    whatever today's default smoothing."""
    root = _store(tmp_path / "f")
    cfg = video.DetectConfig(mode="pooled", params=dict(FAST_DUAD), level="clip", min_clips=10)
    video.detect(root, replace(cfg, smooth=0.0), save_models=tmp_path / "m0")
    video.detect(root, replace(cfg, smooth=1.0), save_models=tmp_path / "m")
    index = tmp_path / "m" / "models.json"
    data = json.loads(index.read_text())
    groups = data["groups"] if isinstance(data["groups"], list) else list(data["groups"].values())
    for g in groups:
        g.pop("smooth", None)
    index.write_text(json.dumps(data))
    assert GroupModel.load(groups[0], tmp_path / "m").smooth == 0.0
    for old, raw in zip(video.score(root, tmp_path / "m"), video.score(root, tmp_path / "m0")):
        np.testing.assert_allclose(old.scores, raw.scores, atol=1e-9)
        assert not np.allclose(old.scores, smooth_scores(raw.scores, 2.5), atol=1e-6)


def test_a_negative_smoothing_is_refused_with_its_key():
    with pytest.raises(ValueError, match=r"smooth must be 0 \(off\) to 3600 seconds"):
        video.DetectConfig(smooth=-1.0).check("video.yaml")


@pytest.mark.parametrize("smooth", [-1.0, float("nan"), float("inf"), "a while"])
def test_a_fit_refuses_a_smoothing_its_saved_model_could_not_be_loaded_with(tmp_path, smooth):
    """`GroupModel.fit` (library use, no DetectConfig check) read a negative or NaN `smooth` as no
    smoothing, and wrote it to models.json, which scoring then refused."""
    from videoad.video.groups import _load_group

    vids = _load_group(str(_store(tmp_path / "f")), ["v0.mp4", "v1.mp4"])
    with pytest.raises(ValueError, match="smooth must be a finite number of seconds >= 0"):
        GroupModel.fit(vids, level="clip", detector="duad", params=dict(FAST_DUAD), preprocess="none", n_seeds=1,
                       seed=0, position=False, cell_aggregate="top2", alarm="mad", alarm_level=4.0, smooth=smooth)
