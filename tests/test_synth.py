"""The synthetic surveillance generator: determinism, exact intervals, files readable end to end."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from videoad.datasets.annotations import read_annotations
from videoad import synth
from videoad.synth import EVENTS, SceneConfig, at_frame_rate, generate, render_video

SMALL = SceneConfig(n_frames=160, noise_sigma=0.0)


def test_same_seed_same_video_other_seed_other_video():
    a, ia = render_video("runner", seed=7, cfg=SMALL)
    b, ib = render_video("runner", seed=7, cfg=SMALL)
    c, _ = render_video("runner", seed=8, cfg=SMALL)
    assert np.array_equal(a, b) and ia == ib
    assert not np.array_equal(a, c)
    assert a.shape == (160, 120, 160, 3) and a.dtype == np.uint8


def test_vehicle_is_visible_exactly_inside_its_interval():
    frames, intervals = render_video("object", seed=3, cfg=SMALL)
    assert len(intervals) == 1
    s, e = intervals[0]  # 1-based inclusive
    b, g, r = frames[..., 0].astype(int), frames[..., 1].astype(int), frames[..., 2].astype(int)
    # the vehicle body is drawn in (B >= 120, G = 60, R = 60); walkers' bodies never reach B >= 120 with G = R = 60
    body = ((b >= 120) & (g == 60) & (r == 60)).reshape(len(frames), -1).sum(axis=1)
    inside = np.zeros(len(frames), bool)
    inside[s - 1 : e] = True
    assert (body[inside] > 0).all(), "vehicle missing inside its interval"
    assert (body[~inside] == 0).all(), "vehicle visible outside its interval"


@pytest.mark.parametrize("event", EVENTS)
def test_every_event_has_an_interval_inside_the_video(event):
    frames, intervals = render_video(event, seed=1, cfg=SceneConfig(n_frames=300))
    assert intervals and all(1 <= s <= e <= 300 for s, e in intervals)
    assert sum(e - s + 1 for s, e in intervals) >= 30  # long enough to span several 16-frame clips


def test_normal_video_has_no_interval_and_unknown_event_is_refused():
    _, intervals = render_video(None, seed=0, cfg=SMALL)
    assert intervals == []
    with pytest.raises(ValueError, match="unknown event 'fire'"):
        render_video("fire", seed=0, cfg=SMALL)


def test_runner_crosses_faster_than_a_wrong_way_walker():
    _, run = render_video("runner", seed=2)
    _, wrong = render_video("wrong_way", seed=2)
    assert (run[0][1] - run[0][0]) * 2 < wrong[0][1] - wrong[0][0]


@pytest.mark.parametrize("event", ["runner", "object", "crowd"])
def test_a_higher_frame_rate_films_the_same_seconds_with_less_motion_per_frame(event):
    """At twice the rate an event lasts as many seconds (twice the frames) and each frame sees
    about half the motion: what footage from a 30 fps camera looks like against the 15 fps demo."""
    base = SceneConfig(n_frames=300, noise_sigma=0.0)
    fast = at_frame_rate(base, 30)
    assert (fast.fps, fast.n_frames, fast.step) == (30.0, 600, 0.5)
    slow_frames, slow = render_video(event, seed=4, cfg=base)
    fast_frames, quick = render_video(event, seed=4, cfg=fast)
    slow_len = sum(e - s + 1 for s, e in slow) / base.fps
    fast_len = sum(e - s + 1 for s, e in quick) / fast.fps
    assert fast_len == pytest.approx(slow_len, rel=0.25)

    def motion(frames):  # mean absolute grey change between consecutive frames
        grey = frames.mean(axis=3)
        return float(np.abs(np.diff(grey, axis=0)).mean())

    assert motion(fast_frames) < 0.75 * motion(slow_frames)
    # the rate the demo is filmed at renders exactly as before
    assert np.array_equal(render_video(event, seed=4, cfg=at_frame_rate(base, base.fps))[0], slow_frames)


@pytest.mark.parametrize("fps", [15, 30])
def test_a_dash_is_labelled_for_its_half_second_burst_only(fps, monkeypatch):
    """The brief event (not among the demo's): the same walker without the burst draws the same
    frames up to the interval, different ones from its first frame on, and less motion inside it."""
    cfg = at_frame_rate(SceneConfig(n_frames=300, noise_sigma=0.0), fps)
    frames, intervals = render_video("dash", seed=3, cfg=cfg)
    assert len(intervals) == 1
    s, e = intervals[0]
    assert e - s + 1 == round(synth.DASH_SECONDS * fps)
    monkeypatch.setattr(synth, "DASH_SPEEDUP", 1.0)
    calm, _ = render_video("dash", seed=3, cfg=cfg)
    assert np.array_equal(frames[: s - 1], calm[: s - 1])
    assert not np.array_equal(frames[s - 1], calm[s - 1])

    def motion(f):  # mean absolute grey change over the frame pairs inside the interval
        return float(np.abs(np.diff(f[s - 2 : e].mean(axis=3), axis=0)).mean())

    assert motion(frames) > 1.2 * motion(calm)
    assert "dash" not in EVENTS  # the demo's videos do not change


def test_generate_writes_decodable_videos_and_ucf_annotations(tmp_path):
    cfg = SceneConfig(n_frames=120)
    ds = generate(tmp_path, n_normal=1, events=("runner", "object"), seed=5, cfg=cfg)
    files = sorted(p.relative_to(ds.root).as_posix() for p in ds.root.rglob("*.avi"))
    assert files == ["Normal/Normal001.avi", "Object/Object001.avi", "Runner/Runner001.avi"]
    ann = read_annotations(ds.annotation_file, frame_counts=ds.counts_file)
    assert len(ann) == 3
    for v in ds.videos:
        a = ann.require(v.video)
        assert a.intervals == v.intervals and a.category == v.category and a.n_frames == 120
        cap = cv2.VideoCapture(str(ds.root / v.video))
        n = 0
        while cap.read()[0]:
            n += 1
        cap.release()
        assert n == 120
    assert not ann.require("Normal001").is_anomalous and ann.require("Runner001").is_anomalous
    # a second run with the same seed writes the same ground truth
    again = generate(tmp_path / "again", n_normal=1, events=("runner", "object"), seed=5, cfg=cfg)
    assert again.annotation_file.read_text() == ds.annotation_file.read_text()


def test_generate_into_an_earlier_set_leaves_only_its_own_videos(tmp_path):
    """A second `generate` of fewer videos into the same folder (a history of 6, then of 4) left the
    earlier Normal005/006.avi in videos/: extracted and scored beside the new set, in no annotation."""
    cfg = SceneConfig(n_frames=20, width=96, height=72)
    generate(tmp_path, n_normal=3, events=(), seed=1, cfg=cfg)
    (tmp_path / "videos" / "Normal" / "notes.txt").write_text("mine")  # not the generator's: kept
    ds = generate(tmp_path, n_normal=1, events=(), seed=2, cfg=cfg)
    assert sorted(p.name for p in (ds.root / "Normal").iterdir()) == ["Normal001.avi", "notes.txt"]
    assert [v.video for v in ds.videos] == ["Normal/Normal001.avi"]



@pytest.mark.parametrize("field, value, says", [("height", 53, "height must be a whole number >= 54"),
                                                ("width", 30, "width must be a whole number >= 31"),
                                                ("n_frames", 0, "n_frames must be a whole number >= 1"),
                                                ("fps", 0.0, "fps must be a number > 0")])
def test_a_scene_too_small_to_draw_is_refused_with_its_minimum(field, value, says):
    """A picture of 53 px or less high (or 30 px wide) failed inside numpy drawing the background's
    props ("low >= high"); the config now says the minimum, and the smallest allowed is drawn."""
    with pytest.raises(ValueError, match=f"SceneConfig: {says}"):
        SceneConfig(**{field: value})
    frames, _ = render_video(None, seed=0, cfg=SceneConfig(width=31, height=54, n_frames=3))
    assert frames.shape == (3, 54, 31, 3)


def test_an_event_in_too_few_frames_is_refused_with_the_minimum():
    """An event in 4 frames or fewer failed inside numpy drawing its start ("low >= high")."""
    with pytest.raises(ValueError, match=r"event 'runner' in 4 frame\(s\): a video with an event needs n_frames >= 5"):
        render_video("runner", seed=0, cfg=SceneConfig(n_frames=4))
    _, intervals = render_video("runner", seed=0, cfg=SceneConfig(n_frames=5))
    assert intervals
