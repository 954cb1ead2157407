"""Clip sampling: ranges, stride, tail policy, fps resampling, streaming."""
from __future__ import annotations

import numpy as np
import pytest

from extract.clips import ClipSpec, count_full_clips, iter_clips, resample


def frames(n: int):
    """Frame i is a 2x2 image filled with i, so a clip's content names its source frames."""
    for i in range(n):
        yield np.full((2, 2, 3), i, np.uint8)


def ranges(n: int, spec: ClipSpec, fps: float = 25.0) -> list[tuple[int, int]]:
    return [(c.first, c.last) for c in iter_clips(frames(n), spec, fps)]


def test_default_is_non_overlapping_16_frame_clips_dropping_the_tail():
    clips = list(iter_clips(frames(40), ClipSpec()))
    assert [(c.first, c.last) for c in clips] == [(0, 15), (16, 31)]
    assert [c.index for c in clips] == [0, 1]
    np.testing.assert_array_equal(clips[1].frames[:, 0, 0, 0], np.arange(16, 32))
    assert clips[0].frames.shape == (16, 2, 2, 3)


def test_stride_overlapping_and_sparse():
    assert ranges(40, ClipSpec(stride=8)) == [(0, 15), (8, 23), (16, 31), (24, 39)]
    assert ranges(60, ClipSpec(stride=20)) == [(0, 15), (20, 35), (40, 55)]


def test_pad_tail_repeats_last_frame_and_records_the_real_range():
    clips = list(iter_clips(frames(40), ClipSpec(tail="pad")))
    assert [(c.first, c.last) for c in clips] == [(0, 15), (16, 31), (32, 39)]
    np.testing.assert_array_equal(clips[2].frames[:, 0, 0, 0], list(range(32, 40)) + [39] * 8)
    assert clips[2].sources == tuple(range(32, 40)) + (39,) * 8  # each frame's source index, padding too


def test_pad_adds_nothing_when_overlap_already_covers_the_tail():
    assert ranges(40, ClipSpec(stride=8, tail="pad")) == [(0, 15), (8, 23), (16, 31), (24, 39)]


def test_short_video_gives_no_clip_when_dropping_and_one_padded_clip_when_padding():
    assert ranges(10, ClipSpec()) == []
    assert ranges(0, ClipSpec()) == []
    assert ranges(10, ClipSpec(tail="pad")) == [(0, 9)]
    assert ranges(0, ClipSpec(tail="pad")) == []


@pytest.mark.parametrize("tail", ["drop", "pad"])
@pytest.mark.parametrize("stride", [1, 5, 16, 23])
def test_count_full_clips_agrees_with_the_sampler(tail, stride):
    spec = ClipSpec(stride=stride, tail=tail)
    for n in [0, 1, 15, 16, 17, 31, 32, 33, 47, 100]:
        assert count_full_clips(n, spec) == len(ranges(n, spec)), n


def test_frames_are_pulled_lazily_one_clip_at_a_time():
    pulled = []

    def source():
        for i in range(1000):
            pulled.append(i)
            yield np.zeros((1, 1, 3), np.uint8)

    clips = iter_clips(source(), ClipSpec())
    next(clips)
    assert len(pulled) == 16  # nothing beyond the first clip was decoded
    next(clips)
    assert len(pulled) == 32


def test_downsampling_picks_source_frames_and_keeps_source_indices():
    assert [i for i, _ in resample(frames(12), 30.0, 10.0)] == [0, 3, 6, 9]
    assert [i for i, _ in resample(frames(11), 25.0, 10.0)] == [0, 2, 5, 7, 10]
    # 96 frames at 30 fps -> 32 at 10 fps -> two clips spanning source frames 0..45 and 48..93
    assert ranges(96, ClipSpec(target_fps=10.0), fps=30.0) == [(0, 45), (48, 93)]
    second = list(iter_clips(frames(96), ClipSpec(target_fps=10.0), 30.0))[1]
    assert second.sources == tuple(range(48, 94, 3))  # where each sampled frame came from


def test_a_frame_rate_cap_resamples_only_faster_sources():
    spec = ClipSpec(max_fps=15.0)
    assert (spec.rate_for(30.0), spec.rate_for(25.0), spec.rate_for(15.1)) == (15.0, 15.0, None)
    assert (spec.rate_for(10.0), spec.rate_for(float("nan")), spec.rate_for(None)) == (None, None, None)
    assert ClipSpec(max_fps=15.0, target_fps=10.0).rate_for(30.0) == 10.0  # a named rate wins
    # a 30 fps source is cut at 15: clip frames two source frames apart; a 10 fps one as it is
    assert ranges(64, spec, fps=30.0) == [(0, 30), (32, 62)]
    assert ranges(32, spec, fps=10.0) == [(0, 15), (16, 31)]
    # stores written before the cap record their settings without it (a resume finds them current)
    assert "max_fps" not in ClipSpec().as_dict() and spec.as_dict()["max_fps"] == 15.0


def test_upsampling_repeats_frames():
    assert [i for i, _ in resample(frames(4), 10.0, 20.0)] == [0, 0, 1, 1, 2, 2, 3, 3]


def test_resampling_needs_a_known_frame_rate():
    with pytest.raises(ValueError, match="frame rate is unknown"):
        list(resample(frames(4), float("nan"), 10.0))


@pytest.mark.parametrize("kwargs", [{"clip_len": 0}, {"stride": 0}, {"tail": "keep"},
                                    {"target_fps": 0.0}, {"max_fps": 0.0}, {"max_fps": -5.0}])
def test_invalid_specs_are_refused(kwargs):
    (name,) = kwargs
    with pytest.raises(ValueError, match=rf"^{name} must be"):  # the key named, not any ValueError
        ClipSpec(**kwargs)


def test_prepare_runs_once_per_frame_however_many_clips_hold_it():
    seen = []

    def prepare(frame):
        seen.append(int(frame[0, 0, 0]))
        return frame[:, :, 0] * 2  # grey-like: another shape than the raw frames

    clips = list(iter_clips(frames(42), ClipSpec(stride=4, tail="pad"), prepare=prepare, keep_frames=False))
    assert seen == list(range(42))  # each frame once, though most sit in four clips
    assert [c.frames for c in clips] == [None] * len(clips)
    np.testing.assert_array_equal(clips[1].prepared[:, 0, 0], 2 * np.arange(4, 20))
    assert clips[-1].prepared.shape == (16, 2, 2)  # the padded tail repeats prepared frames too
    np.testing.assert_array_equal(clips[-1].prepared[:, 0, 0], 2 * np.array(list(range(28, 42)) + [41] * 2))
    assert {c.source_shape for c in clips} == {(2, 2)}


def test_kept_frames_sit_beside_the_prepared_ones_and_no_prepare_means_the_raw_stack():
    kept = list(iter_clips(frames(20), ClipSpec(), prepare=lambda f: f[:, :, 0]))
    assert kept[0].frames.shape == (16, 2, 2, 3) and kept[0].prepared.shape == (16, 2, 2)
    plain = list(iter_clips(frames(20), ClipSpec(), keep_frames=False))  # nothing to prepare: raw kept
    assert plain[0].prepared is plain[0].frames and plain[0].frames.shape == (16, 2, 2, 3)
    resampled = list(iter_clips(frames(40), ClipSpec(target_fps=50.0), 25.0, prepare=lambda f: f[:, :, 0]))
    # upsampling repeats a frame: its prepared copy is repeated with it
    np.testing.assert_array_equal(resampled[0].prepared[:, 0, 0], np.repeat(np.arange(8), 2))
