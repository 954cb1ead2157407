"""Videos whose frames are not evenly spaced in time (extract.timing): read at the rate their
frames keep, sampled by timestamp; videos that keep their container's rate read as before."""
from __future__ import annotations

import numpy as np
import pytest
from _extract_media import decoded_code, make_h264, make_vfr_h264
from _paths import shared

from extract.run import ExtractOptions, extract_videos
from extract.backbones.motion import MotionBackbone
from extract.clips import ClipSpec, iter_clips, resample
from extract.decode import open_video
from extract.store import FeatureStore
from extract.timing import Timing, packet_times, variable_timing


def test_only_frames_that_stray_from_the_containers_rate_make_a_video_variable():
    even = np.arange(50) / 25.0
    assert variable_timing(even, 25.0) is None
    jitter = even + np.tile([0.0, 0.006], 25)  # 0.15 of a frame: timestamps rounded by a muxer
    assert variable_timing(jitter, 25.0) is None
    dropped = np.delete(even, [10, 11, 30])  # three frames the camera never wrote
    timing = variable_timing(dropped, 25.0)
    assert timing is not None and timing.fps == pytest.approx(46 / 1.96)
    assert timing.intervals == pytest.approx((0.04, 0.04, 0.12))
    assert "47 frames span 1.96 s" in timing.note() and timing.attrs()["frame_span_s"] == pytest.approx(1.96)
    # gaps of 40 and 160 ms against the average rate an MP4 says (10 fps); 40 and 80 stay within half a frame
    assert variable_timing(np.concatenate([[0], np.cumsum(np.tile([0.04, 0.16], 20))]), 10.0) is not None
    assert variable_timing(np.concatenate([[0], np.cumsum(np.tile([0.04, 0.08], 20))]), 1 / 0.06) is None
    assert variable_timing(None, 25.0) is None and variable_timing(np.zeros(1), 25.0) is None


def test_a_clock_set_forward_mid_file_keeps_the_rate_its_frames_keep():
    """A recorder's clock set an hour forward mid-file: 240 frames at 10 fps read as 0.066 fps
    ((n - 1) / span), refused by `detect` and warned of by `watch` for a rate never cut at. The rate
    is the one kept between pauses; the times (and so the seconds) stay the file's."""
    leap = np.arange(240) / 10.0 + np.where(np.arange(240) >= 120, 3600.0, 0.0)
    timing = variable_timing(leap, 10.0)
    assert timing is not None and timing.fps == pytest.approx(10.0)
    assert "between its 1 pause(s)" in timing.note() and timing.times[-1] == pytest.approx(3623.9)
    bursts = np.concatenate([np.arange(90) * 0.033, 8 + np.arange(90) * 0.033])  # a burst camera's 30 fps
    assert variable_timing(bursts, 30.0).fps == pytest.approx(1 / 0.033)
    dropped = np.delete(np.arange(50) / 25.0, [10, 11, 30])  # no pause: the average over the span, as before
    assert variable_timing(dropped, 25.0).fps == pytest.approx(46 / 1.96)


def test_resampling_by_timestamp_takes_the_latest_frame_at_each_tick():
    times = np.array([0, .04, .08, .12, .30, .34, .38, .42, .46, .50])
    frames = (np.full((2, 2, 3), i, np.uint8) for i in range(10))
    picked = [i for i, _ in resample(frames, 18.0, 10.0, times)]
    assert picked == [0, 2, 3, 4, 6, 9]  # ticks 0, .1, .2, .3, .4, .5 s
    # frames past the timestamps continue at src_fps
    frames = (np.full((2, 2, 3), i, np.uint8) for i in range(6))
    assert [i for i, _ in resample(frames, 10.0, 10.0, np.array([0.0, 0.1, 0.2]))] == [0, 1, 2, 3, 4, 5]


def _expected_sources(times: np.ndarray, rate: float) -> list[int]:
    ticks = np.arange(int(times[-1] * rate) + 1) / rate
    return [int(np.searchsorted(times, t + 1e-9, side="right") - 1) for t in ticks]


def test_a_video_with_dropped_frames_is_read_by_its_timestamps(tmp_path):
    rng = np.random.default_rng(3)
    gaps = rng.choice([40, 40, 40, 80, 120], size=119)  # a 25 fps camera dropping frames
    times_ms = np.concatenate([[0], np.cumsum(gaps)])
    path = make_vfr_h264(tmp_path / "in" / "drops.mp4", times_ms.tolist(), rate=25)
    times = packet_times(str(path))
    np.testing.assert_allclose(times, times_ms / 1000.0)

    stream = open_video(path, ("pyav",))
    assert stream.timing is not None and stream.fps == pytest.approx(119 / (times_ms[-1] / 1000.0))
    want = _expected_sources(times, 10.0)
    clips = list(iter_clips(stream.frames, ClipSpec(stride=4, max_fps=10.0), stream.fps, times=stream.timing.times))
    stream.close()
    assert len(clips) == (len(want) - 16) // 4 + 1
    for clip in clips:  # the decoded pictures are those frames (B-frames reordered by their times)
        assert list(clip.sources) == want[4 * clip.index: 4 * clip.index + 16]
        assert [decoded_code(f) for f in clip.frames] == [i % 28 for i in clip.sources]

    summary = extract_videos(tmp_path / "in", tmp_path / "out", MotionBackbone(), ExtractOptions(progress=False))
    assert summary.ok and not [r for r in summary.results.values() if r.warning]
    attrs = FeatureStore(tmp_path / "out").attrs("drops.mp4")
    # an MP4 keeps no nominal rate: FFmpeg's average (frames over the stream's duration) is what it says
    assert attrs["fps"] == pytest.approx(stream.fps) and attrs["container_fps"] == pytest.approx(120 / 7.64, rel=0.02)
    assert attrs["sampled_fps"] == 10.0 and attrs["frame_span_s"] == pytest.approx(times_ms[-1] / 1000.0)
    assert f"frames unevenly spaced: the container says {attrs['container_fps']:g} fps" in attrs["decode_notes"]
    assert "sampled at 10 fps by timestamp" in attrs["decode_notes"]
    frames = FeatureStore(tmp_path / "out").load("drops.mp4").frames
    np.testing.assert_array_equal(frames[:, 0], [want[4 * k] for k in range(len(clips))])


def test_a_video_that_keeps_its_rate_reads_as_before(tmp_path):
    path = make_h264(tmp_path / "in" / "even.mp4", 60, fps=25)
    stream = open_video(path, ("pyav",))
    stream.close()
    assert stream.timing is None and stream.fps == 25.0
    assert extract_videos(tmp_path / "in", tmp_path / "out", MotionBackbone(), ExtractOptions(progress=False)).ok
    attrs = FeatureStore(tmp_path / "out").attrs("even.mp4")
    assert "container_fps" not in attrs and "unevenly" not in attrs["decode_notes"]


def test_a_camera_that_writes_now_and_then_is_not_called_damaged(tmp_path):
    """tree.avi: 444 slots at 15 fps, 68 frames from the first slot to the last."""
    src = shared("videos", "tree.avi")
    summary = extract_videos(src, tmp_path / "out", MotionBackbone(), ExtractOptions(progress=False))
    assert summary.ok and not [r for r in summary.results.values() if r.warning]
    attrs = FeatureStore(tmp_path / "out").attrs("tree.avi")
    assert attrs["fps"] == pytest.approx(67 / 29.533481, rel=1e-4) and attrs["container_fps"] == pytest.approx(15.0, rel=1e-4)
    assert "68 of the container's 444 frame slots hold a frame" in attrs["decode_notes"]
    assert "every frame kept" in attrs["decode_notes"]
    assert Timing.covers_slots(attrs, 444) and not Timing.covers_slots(attrs, 900) and not Timing.covers_slots({}, 444)


def test_a_camera_that_records_in_bursts_has_its_events_at_their_own_seconds(tmp_path):
    """A camera at 25 fps for 4 s, then 5 fps for 8 s: every second was frame / average rate (an
    event 1.3 s late here, a motion-triggered camera's 4 minutes early); now each frame's own time."""
    from videoad.events import find_events
    from videoad.scores import ScoreSet, VideoScores, read_scores, write_scores

    times_ms = np.concatenate([np.arange(100) * 40, 4000 + np.arange(1, 41) * 200])
    make_vfr_h264(tmp_path / "in" / "burst.mp4", times_ms.tolist(), rate=25)
    summary = extract_videos(tmp_path / "in", tmp_path / "out", MotionBackbone(), ExtractOptions(progress=False))
    assert summary.ok
    video = FeatureStore(tmp_path / "out").load("burst.mp4")
    np.testing.assert_allclose(video.frame_times, times_ms / 1000.0)
    # a video that keeps its rate keeps no times
    make_h264(tmp_path / "even" / "even.mp4", 40, fps=25)
    extract_videos(tmp_path / "even", tmp_path / "out2", MotionBackbone(), ExtractOptions(progress=False))
    assert FeatureStore(tmp_path / "out2").load("even.mp4").frame_times is None

    n = len(video.frames)
    scores = np.zeros(n)
    hot = (video.frames[:, 0] >= 110) & (video.frames[:, 1] <= 125)  # frames of the 5 fps part: 6.2-9.2 s
    scores[hot] = 5.0
    v = VideoScores("burst.mp4", scores, video.frames, len(times_ms), float(video.attrs["fps"]), threshold=1.0,
                    frame_times=video.frame_times)
    (e,) = find_events(ScoreSet([v], {})).events
    first, last = video.frames[hot][0, 0], video.frames[hot][-1, 1]
    assert e.start_s == pytest.approx(times_ms[first] / 1000.0)
    assert e.end_s == pytest.approx(times_ms[last] / 1000.0 + 0.2)  # the end of its last frame, 5 fps apart
    assert abs(first / float(video.attrs["fps"]) - e.start_s) > 0.5  # what the average rate said
    write_scores(tmp_path / "s", ScoreSet([v], {}))
    back = read_scores(tmp_path / "s")
    np.testing.assert_allclose(back.videos[0].frame_times, video.frame_times)
    np.testing.assert_allclose(back.videos[0].times(), v.times())
    assert back.videos[0].frame_at(e.start_s) == pytest.approx(first)


def test_the_last_frame_of_a_burst_ends_a_step_after_it_not_at_the_next_burst():
    """A 1.6 s clip at a burst's end became a 55.6 s event (it passed the minimum length), and
    clips across the pause were one event."""
    from videoad.events import EventSettings, find_events
    from videoad.scores import ScoreSet, VideoScores

    t = np.concatenate([np.arange(60) * 0.1, 60.0 + np.arange(60) * 0.1])  # two bursts 54 s apart
    starts = np.arange(0, 105, 4)
    frames = np.stack([starts, starts + 15], 1)
    scores = np.zeros(len(starts))
    scores[11] = 5.0  # frames 44-59: the first burst's last 1.6 s
    v = VideoScores("b.mp4", scores, frames, 120, 119 / t[-1], threshold=1.0, frame_times=t)
    assert v.end_seconds(59) == pytest.approx(6.0) and v.times()[11, 1] == pytest.approx(6.0)
    assert not find_events(ScoreSet([v], {}), EventSettings(min_length_s=2.0)).events
    (e,) = find_events(ScoreSet([v], {}), EventSettings(min_length_s=1.0)).events
    assert (e.start_s, e.end_s) == (pytest.approx(4.4), pytest.approx(6.0))


def test_the_last_frame_lasts_the_step_kept_between_pauses_not_the_median_over_them():
    """Three frames, the last an hour after the other two (a burst camera's next trigger, a clock set
    forward): the frames keep 10 fps between the pause (`kept_rate`), but the last frame lasted the
    median of all gaps, pause included: 1800 s, so the video ended half an hour after its last frame
    and held 1800.2 s of recording. It lasts the step the frames keep, as the frames before the pause
    do; a clock without a pause keeps its median step."""
    from extract.timing import kept_rate
    from videoad.scores import FrameClock

    t = np.array([0.0, 0.1, 3600.0])
    clock = FrameClock(t, 10.0)
    assert kept_rate(t) == pytest.approx(10.0) and list(clock.pauses) == [2]
    assert clock.end_seconds([2])[0] == pytest.approx(3600.1)
    assert clock.recorded(0, 2) == pytest.approx(0.3)
    assert clock.seconds(3) == pytest.approx(3600.1)  # frame n: where the last one ends
    even = FrameClock(np.array([0.0, 0.1, 0.3, 0.4]), 10.0)
    assert even.step == pytest.approx(0.1) and even.end_seconds([3])[0] == pytest.approx(0.5)


def _two_still_bursts(n: int = 64, width: int = 64, height: int = 48):
    """A textured still scene whose white block stands at x 12 in the first burst (frames below
    n // 2) and at x 36 in the second: nothing moves inside a burst."""
    import cv2

    rng = np.random.default_rng(5)
    ground = cv2.GaussianBlur(rng.integers(0, 256, (height, width)).astype(np.uint8), (0, 0), 1.5)

    def picture(i: int) -> np.ndarray:
        grey = ground.copy()
        x = 12 if i < n // 2 else 36
        grey[16:32, x: x + 8] = 255
        return np.repeat(grey[:, :, None], 3, axis=2)

    return picture


def test_a_pause_in_the_recording_holds_no_tick_but_its_last_frames():
    """A motion-triggered camera's 60 s between bursts was 600 ticks of its last frame at 10 fps:
    150 clips of a frozen picture, and the pair after them read as the video's largest motion."""
    times = np.concatenate([np.arange(40) * 0.04, 61.56 + np.arange(40) * 0.04])  # 25 fps bursts
    frames = (np.zeros((2, 2, 3), np.uint8) for _ in range(80))
    picked = [i for i, _ in resample(frames, 25.0, 10.0, times)]
    assert picked[:17] == [0, 2, 5, 7, 10, 12, 15, 17, 20, 22, 25, 27, 30, 32, 35, 37, 39]
    assert picked.count(39) == 1 and picked[17] == 41  # the tick 61.6 s: the latest frame at or before it
    assert picked == sorted(set(picked)) and picked[-1] == 78
    # the same frames evenly spaced: every tick as before
    even = np.arange(80) * 0.04
    picked = [i for i, _ in resample((np.zeros((2, 2, 3), np.uint8) for _ in range(80)), 25.0, 10.0, even)]
    assert len(picked) == 32


def test_a_camera_that_lowers_its_rate_does_not_pause():
    """30 fps, then 2 fps with no gap: every 0.5 s step read as a pause (ten median steps), and the
    motion backbone wiped the slow part's motion out. A pause is a gap unlike the steps around it."""
    from extract.timing import pauses_before

    drop = np.concatenate([np.arange(120) / 30, 4 + np.arange(1, 61) * 0.5])
    assert not pauses_before(drop).any()
    bursts = np.concatenate([np.arange(90) * 0.033, 8 + np.arange(90) * 0.033])
    assert np.flatnonzero(pauses_before(bursts)).tolist() == [90]
    short = np.concatenate([k * 60 + np.arange(3) * 0.04 for k in range(10)])  # three frames a burst
    assert np.flatnonzero(pauses_before(short)).tolist() == [3 * k for k in range(1, 10)]
    assert not pauses_before(np.arange(20) * 60.0).any()  # a time-lapse: one step, however long
    assert not pauses_before(np.r_[np.arange(10) * 0.01, 0.09 + 0.5]).any()  # under a second: no pause
    # the timeline agrees: a frame of the slow part lasts its 0.5 s, a burst's last one its step
    from videoad.scores import FrameClock

    assert FrameClock(drop).end_seconds([150])[0] == pytest.approx(drop[151])
    assert FrameClock(bursts).end_seconds([89])[0] == pytest.approx(bursts[89] + 0.033)


def test_the_motion_backbone_reads_no_motion_across_a_pause():
    picture = _two_still_bursts(32)
    backbone = MotionBackbone(stabilize=False)
    clip = np.stack([backbone.prepare_frame(picture(i)) for i in range(8, 24)])  # across the jump
    sources = list(range(8, 24))
    backbone.start_video()
    moved = backbone.preprocess_prepared(clip, sources)
    assert moved.max() > 0.05  # the block's jump between frames 15 and 16
    times = np.concatenate([np.arange(16) * 0.1, 30.0 + np.arange(16) * 0.1])  # 28.5 s between them
    backbone.start_video()
    backbone.frame_times(times)
    assert not backbone.preprocess_prepared(clip, sources).any()  # two still bursts: no motion
    backbone.start_video()  # a new video forgets the last one's pauses
    np.testing.assert_array_equal(backbone.preprocess_prepared(clip, sources), moved)
    backbone.frame_times(np.arange(32) * 0.1)  # evenly spaced: the jump is motion
    np.testing.assert_array_equal(backbone.preprocess_prepared(clip, sources), moved)


def test_a_burst_cameras_pause_is_neither_clips_of_a_frozen_picture_nor_motion(tmp_path):
    """Two 3 s bursts at 30 fps, 5 s apart: sampled at 10 fps, the pause made 50 copies of its last
    frame (eight clips of nothing), and the pair after them read the block's jump as motion."""
    times_ms = np.concatenate([np.arange(90) * 33, 8000 + np.arange(90) * 33])
    picture = _two_still_bursts(180)
    make_vfr_h264(tmp_path / "in" / "bursts.mp4", times_ms.tolist(), rate=30, picture=picture)
    summary = extract_videos(tmp_path / "in", tmp_path / "out", MotionBackbone(), ExtractOptions(progress=False))
    assert summary.ok
    video = FeatureStore(tmp_path / "out").load("bursts.mp4")
    assert video.attrs["pauses"] == 1 and video.attrs["sampled_fps"] == 10.0
    assert not np.any(video.frames[:, 0] == video.frames[:, 1])  # no clip of one frame held
    assert len(video.frames) == 12  # 61 sampled frames (30 + 1 + 30), stride 4
    across = (video.frames[:, 0] < 90) & (video.frames[:, 1] >= 90)
    assert across.any()
    # encoding noise aside, the clips across the pause show no more motion than the still ones
    assert np.abs(video.features[across]).max() <= 2 * np.abs(video.features[~across]).max() + 0.01


def test_two_recordings_joined_end_to_end_keep_their_rate(tmp_path):
    """MPEG-TS recordings joined byte for byte (a recorder after a reset): the second's timestamps
    start again. Sorted together they interleaved the two, and 80 frames at 10 fps read as about
    4 s at 20 fps, every second after the join wrong. Each run now carries on from the one before;
    B-frames reordered within a run stay as they were."""
    parts = [make_h264(tmp_path / f"part{i}.ts", 40, fps=10) for i in range(2)]
    joined = tmp_path / "in" / "joined.ts"
    joined.parent.mkdir()
    joined.write_bytes(b"".join(p.read_bytes() for p in parts))
    times = packet_times(str(joined))
    assert len(times) == 80 and np.all(np.diff(times) > 0)
    np.testing.assert_allclose(times, np.arange(80) * 0.1, atol=1e-6)
    np.testing.assert_allclose(packet_times(str(parts[0])), np.arange(40) * 0.1, atol=1e-6)  # one run: as before
    stream = open_video(joined, ("pyav",))
    stream.close()
    assert stream.timing is None and stream.fps == 10.0
    # one packet that carries an earlier frame's time (a glitch, the next one back up) is no reset:
    # the rest of the file stays where it was (it was shifted by the glitch's drop)
    from fractions import Fraction

    from extract.timing import _joined

    stamps = np.arange(100, dtype=np.int64) * 9000 + 900000
    stamps[50] = stamps[20]
    assert np.array_equal(_joined(stamps.copy(), Fraction(1, 90000)), stamps)


def _steps_ms(n: int, fps: int, start_ms: float = 0.0) -> list[int]:
    return [int(round(start_ms + i * 1000 / fps)) for i in range(n)]


def _max_reorder_s(path) -> float:
    """How far (s) a packet's presentation time lies below the highest before it, in demux order."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        pts = np.array([p.pts for p in container.demux(stream) if p.size])
        return float((np.maximum.accumulate(pts) - pts).max() * stream.time_base)


@pytest.mark.parametrize("fps, back_s", [(10, 1.0), (10, 0.3), (30, 1.0), (30, 0.3)])
def test_a_clock_set_back_by_under_two_seconds_starts_a_new_run(tmp_path, fps, back_s):
    """Two MPEG-TS segments joined byte for byte, the second starting `back_s` before the first
    ends (a recorder's clock corrected): only drops of 2 s started a new run, so the two interleaved
    (80 frames at 10 fps, 1 s back: 6.7 s, frames 0-0.1 s apart). The decoding timestamps going back
    (and the second segment's first keyframe at or below the first's times) say where it starts."""
    first = make_vfr_h264(tmp_path / "a.ts", _steps_ms(40, fps), rate=fps)
    last_ms = 39 * 1000 / fps
    second = make_vfr_h264(tmp_path / "b.ts", _steps_ms(40, fps, last_ms + 1000 / fps - 1000 * back_s), rate=fps)
    joined = tmp_path / "joined.ts"
    joined.write_bytes(first.read_bytes() + second.read_bytes())
    times = packet_times(str(joined))
    assert len(times) == 80 and np.all(np.diff(times) > 0)
    np.testing.assert_allclose(times, np.arange(80) / fps, atol=2e-3)
    stream = open_video(joined, ("pyav",))
    frames = list(stream.frames)
    assert stream.timing is None and stream.fps == pytest.approx(fps, rel=0.01)
    assert [decoded_code(f) for f in frames] == [i % 28 for i in range(40)] * 2  # the second's codes start again


def test_an_mpeg_ts_clock_set_back_an_hour_is_no_day_forward(tmp_path):
    """An MPEG-TS recorder's clock set back an hour mid-file: FFmpeg takes a timestamp that far
    below the stream's first for its 33-bit clock wrapping around and adds 2**33 ticks, so the hour
    back read as 25.5 h forward (91,843 s; an event across it 91,841 s long). A step of over half
    the clock's period is read the shorter way round: the hour back, whose run carries on from the
    one before. A clock that really wraps (26.5 h at 90 kHz) steps on as it did."""
    first = make_vfr_h264(tmp_path / "a.ts", _steps_ms(40, 10, 3_600_000), rate=10)
    second = make_vfr_h264(tmp_path / "b.ts", _steps_ms(40, 10), rate=10)
    joined = tmp_path / "joined.ts"
    joined.write_bytes(first.read_bytes() + second.read_bytes())
    np.testing.assert_allclose(packet_times(str(joined)), np.arange(80) / 10, atol=2e-3)
    stream = open_video(joined, ("pyav",))
    frames = list(stream.frames)
    assert stream.timing is None and stream.fps == pytest.approx(10) and len(frames) == 80
    wrapping = make_vfr_h264(tmp_path / "wrap.ts", _steps_ms(40, 10, (1 << 33) / 90 - 2000), rate=10)
    np.testing.assert_allclose(packet_times(str(wrapping)), np.arange(40) / 10, atol=2e-3)
    from extract.timing import _unwrapped

    stamps = np.array([5, 9, 2, 7, (1 << 33) - 3], dtype=np.int64)  # no step over half the period: as it is
    assert np.array_equal(_unwrapped(stamps[:4], 33), stamps[:4])
    assert _unwrapped(stamps, None) is stamps and _unwrapped(stamps, 33)[-1] == -3


def test_a_clock_set_back_is_said_once_in_the_videos_notes(tmp_path):
    """An MPEG-TS recorder's clock set back an hour mid-file is read as carrying on (above), and was
    said nowhere: the report's times after it are the recording's, not its clock's. The video's notes
    now say where its timestamps go back; a file whose timestamps only rise says nothing."""
    from extract.timing import packet_table

    first = make_vfr_h264(tmp_path / "a.ts", _steps_ms(40, 10, 3_600_000), rate=10)
    second = make_vfr_h264(tmp_path / "b.ts", _steps_ms(40, 10), rate=10)
    joined = tmp_path / "in" / "joined.ts"
    joined.parent.mkdir()
    joined.write_bytes(first.read_bytes() + second.read_bytes())
    assert packet_table(str(joined)).restarts == pytest.approx((4.0,), abs=2e-3)
    assert packet_table(str(first)).restarts == () and packet_table(str(first)).restart_note() is None
    assert extract_videos(tmp_path / "in", tmp_path / "out", MotionBackbone(), ExtractOptions(progress=False)).ok
    notes = FeatureStore(tmp_path / "out").attrs("joined.ts")["decode_notes"]
    assert "its timestamps go back 1 time(s) (at 4.00 s: a recorder's clock set back" in notes


@pytest.mark.parametrize("fps, ext", [(4, "ts"), (30, "ts"), (4, "mp4")])
def test_deep_b_frame_reordering_is_no_new_run(tmp_path, fps, ext):
    """16 B-frames between every two others: in demux order a frame's time lies up to 16 frames
    below the highest before it (4 s at 4 fps, past the 2 s that used to start a new run; 0.53 s at
    30 fps, more than a clock set back by 0.3 s). Its times read as they are; joined after another
    segment whose times it overlaps by 0.3 s, it still carries on from it."""
    times_ms = _steps_ms(120, fps)
    path = make_vfr_h264(tmp_path / f"deep.{ext}", times_ms, rate=fps, bframes=16)
    assert _max_reorder_s(path) == pytest.approx(16 / fps, abs=2e-3)
    np.testing.assert_allclose(packet_times(str(path)), np.asarray(times_ms) / 1000.0, atol=1e-6)
    stream = open_video(path, ("pyav",))
    frames = list(stream.frames)
    assert stream.timing is None and len(frames) == 120
    assert [decoded_code(f) for f in frames] == [i % 28 for i in range(120)]
    if ext != "ts":
        return
    first = make_vfr_h264(tmp_path / "a.ts", _steps_ms(40, fps), rate=fps, bframes=16)
    second = make_vfr_h264(tmp_path / "b.ts", _steps_ms(120, fps, 40 * 1000 / fps - 300), rate=fps, bframes=16)
    joined = tmp_path / "joined.ts"
    joined.write_bytes(first.read_bytes() + second.read_bytes())
    np.testing.assert_allclose(packet_times(str(joined)), np.arange(160) / fps, atol=2e-3)


def test_where_the_container_says_nothing_runs_start_by_what_it_has():
    """`_run_starts` without trusted decoding timestamps: a muxer that copied the presentation
    times of B-frames into them (they go back at every B-frame) falls back to keyframes; with no
    keyframe flags either, to a drop over RESET_S that stays down."""
    from fractions import Fraction

    from extract.timing import _joined, _run_starts

    base = Fraction(1, 1000)
    # demux order of I0 P17 B1..B16 P34 B18..B33 ..., 100 ms apart (1.6 s of reordering)
    order = [0] + [k for g in range(4) for k in [17 * (g + 1)] + list(range(17 * g + 1, 17 * g + 17))]
    stamps = np.asarray(order, dtype=np.int64) * 100
    keys = np.zeros(len(stamps), bool)
    keys[[0, 35]] = True  # a keyframe every other group, each above all before it
    assert _run_starts(stamps, base, stamps.copy(), keys) == []  # DTS copied from PTS: not trusted
    assert _run_starts(stamps, base, np.arange(len(stamps)) * 100, keys) == []
    assert _run_starts(stamps, base) == []  # 1.6 s back, under RESET_S
    # the same stream joined to itself, 0.5 s back (its start below its end): found by the keyframe
    # alone, or by DTS alone, and carried on one step after the first's last frame
    again = np.concatenate([stamps, stamps + stamps.max() - 500])
    keys2, dts2 = np.concatenate([keys, keys]), np.concatenate([np.arange(len(stamps))] * 2) * 100
    n = len(stamps)
    assert _run_starts(again, base, again.copy(), keys2) == [n]
    assert _run_starts(again, base, dts2, np.zeros(2 * n, bool)) == [n]
    want = np.concatenate([stamps, stamps + stamps.max() + 100])
    np.testing.assert_array_equal(_joined(again, base, dts2, keys2), want)
    assert _run_starts(again, base) == []  # nothing to tell it by, and 0.5 s back: left as it was


def test_frames_an_edit_list_hides_have_no_time_among_the_frames_read(tmp_path):
    """An MP4 whose frames start before 0 (B-frames from a source with a negative start): its edit
    list hides the first three, which no decoder puts out, but their packets' times were counted,
    so frame i took frame i - 3's time (120 ms early) and the frames ran three times short of the times."""
    import av

    times_ms = [-120 + 40 * i for i in range(25)] + [880 + 120 * i for i in range(15)]  # then dropped frames
    path = make_vfr_h264(tmp_path / "early.mp4", times_ms)
    stream = open_video(path, ("pyav",))
    frames = list(stream.frames)
    assert len(frames) == 37 and stream.timing is not None
    assert len(stream.timing.times) == len(frames)
    with av.open(str(path)) as container:  # each frame's own time, as the decoder puts it out
        shown = [f.time for f in container.decode(video=0)]
    np.testing.assert_allclose(stream.timing.times, np.asarray(shown) - shown[0], atol=1e-3)
    assert [decoded_code(f) for f in frames] == [i % 28 for i in range(3, 40)]


def test_frame_slots_count_the_frames_a_constant_rate_recording_misses_and_no_others():
    """Gaps of a whole number of frames among steps of one are frames that never arrived; a phone's
    variable rate, a camera that lowers its rate and a burst camera's pause are not."""
    from extract.timing import frame_slots

    even = np.arange(240) / 10.0
    assert frame_slots(even, 10.0).count == 240 and frame_slots(even, 10.0).gaps == ()
    jitter = even + np.tile([0.0, 0.012], 120)  # a muxer's rounding
    assert frame_slots(jitter, 10.0).count == 240
    lost = np.delete(even, [100, 101, 102, 103, 104, 150])
    slots = frame_slots(lost, 10.0)
    assert slots.count == 240 and slots.gaps == ((10.5, 5), (15.1, 1))
    # a phone: 30 fps, then 10 fps in the dark, the container stating the average (20)
    phone = np.concatenate([np.arange(60) / 30.0, 2.0 + np.arange(1, 21) / 10.0, 4.0 + np.arange(1, 61) / 30.0])
    assert frame_slots(phone, 20.0) is None
    lower = np.concatenate([np.arange(60) / 30.0, 2.0 + np.arange(1, 31) * 2 / 30.0])  # 30 fps, then 15, says 30
    assert frame_slots(lower, 30.0) is None
    paused = np.concatenate([even[:90], 60.0 + even[:90]])  # a burst camera: a pause is one step
    assert frame_slots(paused, 10.0).count == 180
    assert frame_slots(even, float("nan")) is None and frame_slots(None, 10.0) is None


def test_a_stand_in_after_frames_lost_at_the_start_takes_its_own_packets_time(tmp_path):
    """A segment cut mid-GOP (its first packets give no frame) from a camera that skips two slots every
    eighth frame, one packet refused later: the frames' times count from the first decoded frame, but
    the packets' slots were still counted from the first packet, so the stand-in of the refused packet
    took the slot of a packet 11 earlier (0.2 s off) and held the frames after it there. Each frame's
    time is now the whole file's (the same packet refused), moved by the first decoded frame's; a
    cut file of one rate keeps the packets' times (none stored)."""
    import os

    import av
    from _extract_media import damage_packets

    def cut(src, dst, drop=4):  # the first `drop` packets (demux order) left in the segment before
        with av.open(os.fspath(src)) as whole, av.open(os.fspath(dst), "w") as part:
            stream = whole.streams.video[0]
            out = part.add_stream_from_template(stream)
            for k, packet in enumerate(p for p in whole.demux(stream) if p.dts is not None):
                if k >= drop:
                    packet.stream = out
                    part.mux(packet)
        return dst

    steps = [0] + [300 if n % 8 == 0 else 100 for n in range(1, 120)]
    whole = make_vfr_h264(tmp_path / "whole.mp4", list(np.cumsum(steps)), rate=10)
    part = cut(whole, tmp_path / "part.mp4")
    clocks = {}
    for name, src, hit in (("whole", whole, 42), ("part", part, 38)):  # the same packet
        stream = open_video(damage_packets(src, tmp_path / f"hit_{name}.mp4", [hit]), ("pyav",))
        n = sum(1 for _ in stream.frames)
        clocks[name] = (stream.reader, np.array(stream.clock.times[:n]))
    (reader, times), (_, whole_times) = clocks["part"], clocks["whole"]
    assert reader.leading_lost > 0 and reader.damaged
    lead = len(whole_times) - len(times)
    assert np.allclose(times, whole_times[lead:] - whole_times[lead], atol=1e-9)

    even = cut(make_h264(tmp_path / "even.mp4", 60, fps=10), tmp_path / "even_part.mp4")
    stream = open_video(even, ("pyav",))
    n = sum(1 for _ in stream.frames)
    assert stream.reader.leading_lost > 0 and stream.clock.final(n) is None


def test_damage_just_before_frames_never_recorded_fills_only_the_packets_it_took(tmp_path):
    """A 10 fps camera that never wrote frames 60-62, the packet just after that gap (frame 63) refused:
    the decoder gives nothing again until a later frame. The stand-ins were counted by the slots the
    timestamps skip from frame 59 to it (three of them slots no packet had) and timed by the packets'
    slots, so the first frame decoded again was held three slots (0.3 s) late and every later frame was
    numbered three too high (150 frames from 147 packets). Now one stand-in per packet the damage took,
    at its packet's time, and every decoded frame keeps its own: its number / 10."""
    from _extract_media import damage_packets

    def numbered(i):  # frame i shows its recording's number in binary along the top (10 blocks)
        picture = np.full((96, 160, 3), 60, np.uint8)
        for b in range(10):
            picture[0:16, b * 16:(b + 1) * 16] = 255 if (kept[i] >> b) & 1 else 0
        picture[40:80, 20 + (kept[i] * 3) % 120:28 + (kept[i] * 3) % 120] = 200
        return picture

    def shown(picture):
        return sum(1 << b for b in range(10) if picture[4:12, b * 16 + 4:b * 16 + 12].mean() > 128)

    kept = [n for n in range(150) if not 60 <= n < 63]
    src = make_vfr_h264(tmp_path / "gap.mp4", [100 * n for n in kept], rate=10, width=160, height=96,
                        picture=numbered, bframes=0)
    stream = open_video(damage_packets(src, tmp_path / "hit.mp4", [60]), ("pyav",))  # packet 60: frame 63
    frames = list(stream.frames)
    numbers, times = [shown(f) for f in frames], np.array(stream.clock.times[:len(frames)])
    damaged = stream.reader.damaged
    assert len(frames) == len(kept) and damaged == list(range(60, 60 + len(damaged))) and damaged
    assert numbers[59:60 + len(damaged)] == [59] * (1 + len(damaged))  # stand-ins show the frame before them
    real = [i for i in range(len(frames)) if i not in damaged]
    assert [numbers[i] for i in real] == [kept[i] for i in real]  # none numbered too high
    np.testing.assert_allclose(times[real], [numbers[i] / 10 for i in real], atol=1e-9)
    np.testing.assert_allclose(times[damaged], [kept[i] / 10 for i in damaged], atol=1e-9)  # the packets' slots
    assert stream.clock.final(len(frames)) is None  # one frame per packet: the packets' times stand


def test_a_late_frame_held_at_the_time_before_is_no_gap_of_0_s_in_the_note():
    """A frame the decoder puts out later than the one after it (`DecodedClock`: kept at the time of the
    one before, so that times never go back) left a gap of 0 s, and the video's note said its frames
    were "0-0.3 s apart" (`frame_intervals_s` [0, ...]), which no two frames of this 10 fps camera were.
    The held frame's gap is left out of the intervals and the note says it was held; a clock that held
    none reads as before."""
    from fractions import Fraction

    from extract.timing import DecodedClock, Packets

    pts = [0, 100, 200, 300, 400, 500, 800, 900, 1000]  # 10 fps, the camera skipping two frames at 0.8 s
    clock = DecodedClock(Packets(np.array(pts, dtype=np.int64), Fraction(1, 1000)))
    for p in [0, 100, 300, 200, 400, 500, 800, 900, 1000]:  # 0.2 s put out after 0.3 s
        clock.add(p)
    times = clock.final(len(pts))
    assert list(times[2:4]) == [0.3, 0.3] and clock.held == [3]
    timing = variable_timing(times, 10.0, clock.held)
    assert timing.intervals == pytest.approx((0.1, 0.1, 0.3)) and timing.attrs()["frame_intervals_s"][0] > 0
    assert "0.1-0.3 s apart" in timing.note() and "1 frame(s) the decoder put out late" in timing.note()
    plain = variable_timing(np.array(pts) / 1000.0, 10.0)
    assert plain.held == 0 and "put out late" not in plain.note() and "0.1-0.3 s apart" in plain.note()
