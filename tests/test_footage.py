"""Footage at a moment: frames found by seeking (equal to decoding from the start, at a fraction
of the cost), image folders read directly, clips a browser plays, and the evidence per event."""
from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import av
import numpy as np
import pytest
from _paths import shared

from extract.decode import open_image_folder, open_video
from extract.timing import packet_pts
from videoad.events import EventSettings, find_events
from videoad.evidence import write_evidence
from videoad.footage import Footage, FootageError, clip_format, read_frames, write_clip
from videoad.scores import ScoreSet, VideoScores
from videoad.synth import SceneConfig, render_video, write_video



def _all_frames(path):
    stream = open_video(path)
    try:
        return list(stream.frames)
    finally:
        stream.close()


@pytest.mark.parametrize("name", ["vtest.avi", "bikes.mp4"])
def test_seeking_gives_the_frames_decoding_from_the_start_gives(name):
    path = shared("videos", name)  # skipped where the data is missing, failed under CI
    every = _all_frames(path)
    n = len(every)
    with Footage(path, n) as f:
        for i in (0, 1, n // 3, n // 2, n - 2):
            got = list(f.frames(i, i + 2))
            assert [j for j, _ in got] == list(range(i, min(i + 3, n)))
            assert all(np.array_equal(img, every[j]) for j, img in got), (name, i)
        f.decoded = 0
        f.frame(n - 3)
        assert f.decoded < n // 4, f"{f.decoded} frames decoded to read frame {n - 3} of {n}: not a seek"
        assert f.seeks >= 6


def test_a_file_whose_timestamps_skip_is_read_by_its_timestamps():
    path = shared("videos", "tree.avi")  # claims 444 frame slots at 15 fps, 68 frames in them
    every = _all_frames(path)
    with Footage(path, len(every)) as f:
        assert f.seekable  # each frame named by its place among the file's timestamps
        for first in (0, 22, 60, 66):
            got = dict(f.frames(first, first + 2))
            assert sorted(got) == [j for j in range(first, first + 3) if j < 68]
            assert all(np.array_equal(got[j], every[j]) for j in got), first


def test_a_camera_that_dropped_frames_is_found_by_seeking(tmp_path):
    """Uneven gaps (extract.timing): frame i is the i-th timestamp, not timestamp x rate."""
    from _extract_media import decoded_code, make_vfr_h264

    gaps = np.random.default_rng(5).choice([40, 40, 80, 160], size=149)
    path = make_vfr_h264(tmp_path / "drops.mp4", np.concatenate([[0], np.cumsum(gaps)]).tolist())
    every = _all_frames(path)
    with Footage(path, len(every)) as f:
        for i in (3, 70, 120, 147):
            got = list(f.frames(i, i + 1))
            assert [j for j, _ in got] == [i, i + 1]
            assert [decoded_code(img) for _, img in got] == [i % 28, (i + 1) % 28]
            assert all(np.array_equal(img, every[j]) for j, img in got)
        f.decoded = 0
        f.frame(140)
        assert f.decoded < 40, f"{f.decoded} frames decoded to read frame 140 of 150: not a seek"


def test_a_transport_streams_last_frames_are_read(tmp_path):
    """An MPEG-TS recording (a keyframe every 2 s): a seek into its last GOP lands past the data and
    finds no frame; the frames are then read from the start (the peak picture of an event in a
    file's last seconds was 'past the end of the video')."""
    frames, _ = render_video("runner", seed=3, cfg=SceneConfig(n_frames=120))
    path = tmp_path / "cam.ts"
    with av.open(str(path), "w", format="mpegts") as out:
        stream = out.add_stream("libx264", rate=15)
        stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
        stream.options = {"g": "30"}
        for img in frames:
            out.mux(stream.encode(av.VideoFrame.from_ndarray(img[..., ::-1].copy(), format="rgb24")))
        out.mux(stream.encode(None))
    every = _all_frames(path)
    with Footage(path, len(every)) as f:
        for i in (10, 100, len(every) - 5, len(every) - 1):
            assert np.array_equal(f.frame(i), every[i]), i


def _labelled(i: int) -> np.ndarray:
    """Frame i with its number drawn as 8 bits of black and white blocks (`_label` reads it back)."""
    img = np.zeros((48, 64, 3), np.uint8)
    for b in range(8):
        if (i >> b) & 1:
            img[(b // 4) * 24:(b // 4 + 1) * 24, (b % 4) * 16:(b % 4 + 1) * 16] = 255
    return img


def _label(img: np.ndarray) -> int:
    blocks = img.reshape(2, 24, 4, 16, 3)[:, 6:18, :, 4:12].mean(axis=(1, 3, 4))
    return int(sum(1 << b for b in range(8) if blocks[b // 4, b % 4] > 128))


def _write_ts(path: Path, times_ms, start: int = 0) -> Path:
    """MPEG-TS H.264 (a keyframe every 10 frames) whose frame i shows start + i, shown at times_ms[i]."""
    from fractions import Fraction

    with av.open(str(path), "w", format="mpegts") as out:
        stream = out.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        stream.codec_context.time_base = Fraction(1, 1000)
        stream.options = {"g": "10", "bf": "0", "crf": "18", "threads": "1"}
        for i, ms in enumerate(times_ms):
            frame = av.VideoFrame.from_ndarray(_labelled(start + i), format="rgb24")
            frame.pts, frame.time_base = int(ms), Fraction(1, 1000)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def _seeks_as_extraction_reads(path: Path, ranges) -> None:
    """Each range, read as an event's picture and clip are, shows extraction's frames there (their
    drawn numbers)."""
    every = [_label(img) for img in _all_frames(path)]
    for first, last in ranges:
        with Footage(path, len(every)) as f:
            got = [(j, _label(img)) for j, img in f.frames(first, last)]
        assert got == [(j, every[j]) for j in range(first, min(last, len(every) - 1) + 1)], (first, last)


def test_a_transport_stream_with_lost_packets_shows_the_frames_extraction_read(tmp_path):
    """TS packets lost in the middle (a network stream's, a recorder's write error): the demuxer
    skips them without an error and the decoder drops the frames whose data was cut without one
    either, so fewer frames decode (extraction's count) than packets have timestamps. The i-th
    timestamp named frame i: after the loss each clip and picture of the report showed frames
    from before the event's (frame 70 showed extraction's 67)."""
    clean = _write_ts(tmp_path / "clean.ts", [i * 100 for i in range(160)])
    data = clean.read_bytes()
    packets = [data[i:i + 188] for i in range(0, len(data), 188)]
    cut = range(len(packets) * 3 // 10, len(packets) * 3 // 10 + 7)  # ends inside a frame's data
    lost = tmp_path / "lost.ts"
    lost.write_bytes(b"".join(p for k, p in enumerate(packets) if k not in cut))
    n = len(_all_frames(lost))
    assert n < len(packet_pts(str(lost))[0]) < 160  # frames with a timestamp that never decoded
    _seeks_as_extraction_reads(lost, [(20, 25), (70, 75), (84, 90), (n - 12, n - 1)])


def test_a_transport_stream_whose_clock_goes_back_shows_the_frames_extraction_read(tmp_path):
    """A variable-rate MPEG-TS recording whose clock is set back 8 s mid-file (two recordings joined
    byte for byte alike): extraction reads the second run as carrying on (extract.timing), but its
    decoded frames carry the stamps as written, which named frames of the first run: frame 30's
    picture showed frame 94; or none ('a frame without a timestamp after frame 30': no clip)."""
    gaps = np.random.default_rng(3).choice([100, 200, 100, 100], size=119)
    times = (20000 + np.concatenate([[0], np.cumsum(gaps)])).tolist()
    first = _write_ts(tmp_path / "a.ts", times[:60])
    second = _write_ts(tmp_path / "b.ts", [t - 8000 for t in times[60:]], start=60)
    joined = tmp_path / "joined.ts"
    joined.write_bytes(first.read_bytes() + second.read_bytes())
    _seeks_as_extraction_reads(joined, [(30, 30), (54, 54), (30, 45), (80, 100)])


def _set_back(tmp_path: Path) -> Path:
    """240 frames at 10 fps, the clock set back 8 s at frame 120 (two recordings joined byte for byte)."""
    first = _write_ts(tmp_path / "a.ts", [20000 + 100 * i for i in range(120)])
    second = _write_ts(tmp_path / "b.ts", [20000 + 100 * i - 8000 for i in range(120, 240)], start=120)
    joined = tmp_path / "set_back.ts"
    joined.write_bytes(first.read_bytes() + second.read_bytes())
    return joined


def _lost(tmp_path: Path) -> Path:
    """160 frames whose TS packets lost mid-frame leave fewer frames than timestamps (above)."""
    data = _write_ts(tmp_path / "clean.ts", [i * 100 for i in range(160)]).read_bytes()
    packets = [data[i:i + 188] for i in range(0, len(data), 188)]
    cut = range(len(packets) * 3 // 10, len(packets) * 3 // 10 + 7)
    lost = tmp_path / "lost.ts"
    lost.write_bytes(b"".join(p for k, p in enumerate(packets) if k not in cut))
    return lost


def _uneven(tmp_path: Path) -> Path:
    """240 frames 0.1-0.3 s apart: seeks to their timestamps land past the frame asked for."""
    gaps = np.random.default_rng(2).choice([100, 200, 300], size=239)
    return _write_ts(tmp_path / "uneven.ts", np.concatenate([[0], np.cumsum(gaps)]).tolist())


@pytest.mark.parametrize("make", [_set_back, _lost, _uneven])
def test_each_event_of_a_transport_stream_read_from_its_start_decodes_one_gop_not_the_file(tmp_path, make):
    """MPEG-TS files whose timestamps cannot name their frames (a clock set back, packets lost, seeks that
    land past) were decoded from their start for every event: 10 events of a 3000-frame recording
    decoded 15,000 frames. Now a read enters at a keyframe whose place in extraction's count is known
    (the packet table's, or that of one read from the start that the file's later events reuse): each
    event after the first decodes at most two keyframe intervals (10 frames here) and its own frames,
    which stay extraction's."""
    path = make(tmp_path)
    every = _all_frames(path)
    n = len(every)
    with Footage(path, n) as f:
        for k, (first, last) in enumerate([(n - 12, n - 1), (n - 40, n - 35), (n // 2, n // 2 + 5),
                                           (n // 2 + 20, n // 2 + 22), (n - 70, n - 66), (n - 3, n + 20)]):
            f.decoded = 0
            got = list(f.frames(first, last))
            assert [j for j, _ in got] == list(range(first, min(last, n - 1) + 1))
            assert all(np.array_equal(img, every[j]) for j, img in got), (first, last)
            if k:
                assert f.decoded <= 2 * 10 + min(last, n - 1) - first + 1, f"{f.decoded} decoded for {first}-{last} of {n}"


def test_image_folders_are_read_frame_by_frame():
    folder = shared("ucsd_ped2", "testing", "frames", "01")
    stream = open_image_folder(folder)
    first = [img for _, img in zip(range(12), stream.frames)]
    stream.close()
    got = read_frames(folder, [0, 11])
    assert np.array_equal(got[0], first[0]) and np.array_equal(got[11], first[11])


def test_missing_source_is_an_error_naming_it(tmp_path):
    with pytest.raises(FootageError, match="gone.avi: source not found"):
        Footage(tmp_path / "gone.avi")
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video")
    with pytest.raises(FootageError, match="bad.mp4: cannot open"):
        Footage(bad)


def test_clips_decode_with_their_frames_size_and_rate(tmp_path):
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 255, (121, 163, 3), dtype=np.uint8) for _ in range(30)]  # odd sizes
    suffix, encoder = clip_format()
    out = write_clip(iter(frames), tmp_path / f"c{suffix}", 12.5)
    with av.open(str(out)) as c:
        s = c.streams.video[0]
        assert s.codec_context.name in ("h264", "vp9") and (s.width, s.height) == (162, 120)
        assert float(s.average_rate) == pytest.approx(12.5)
        assert sum(1 for _ in c.decode(s)) == 30
    assert not list(tmp_path.glob(".*tmp*"))  # written atomically, nothing left behind
    with pytest.raises(FootageError, match="no frame"):
        write_clip(iter([]), tmp_path / f"empty{suffix}", 10)


def test_a_clip_whose_frames_fail_partway_leaves_nothing(tmp_path):
    """A read failing partway left its half-clip beside the report."""
    rng = np.random.default_rng(1)
    frames = [rng.integers(0, 255, (120, 160, 3), dtype=np.uint8) for _ in range(60)]
    suffix, _ = clip_format()

    def failing():
        yield from frames[:20]
        raise FootageError("the source went away")

    with pytest.raises(FootageError, match="went away"):
        write_clip(failing(), tmp_path / f"half{suffix}", 10)
    assert not (tmp_path / f"half{suffix}").exists() and not list(tmp_path.glob(".*"))


def test_two_reports_writing_one_clip_each_write_their_own_temporary(tmp_path, monkeypatch):
    """Two `videoad report` into one folder wrote one shared temporary name: both encoders wrote
    into one file and each renamed the other's half-clip into place (undecodable clips, exit 0)."""
    from videoad import footage

    suffix, _ = clip_format()
    opened = []
    real_open = av.open

    def recording_open(path, *args, **kwargs):
        if args[:1] == ("w",):
            opened.append(Path(path).name)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(av, "open", recording_open)
    frames = [np.full((48, 64, 3), 100, np.uint8)] * 5
    for _ in range(2):
        footage.write_clip(iter(frames), tmp_path / f"E001{suffix}", 10)
    assert len(set(opened)) == 2 and all(str(os.getpid()) in name for name in opened)


@pytest.fixture()
def runner_scores(tmp_path):
    """A rendered runner video with hand-made clip and cell scores, and a video whose source is gone."""
    frames, _ = render_video("runner", seed=0, cfg=SceneConfig(n_frames=150))
    src = write_video(tmp_path / "cam" / "run.avi", frames, 15.0)
    n = 34
    starts = np.arange(n) * 4
    fr = np.stack([starts, starts + 15], 1)
    scores = np.full(n, 0.2)
    scores[10:14] = [0.6, 0.9, 0.8, 0.6]
    cells = np.full((n, 16), 0.1)
    cells[10:14, 9] = scores[10:14]
    vids = [VideoScores("cam/run.avi", scores, fr, 150, 15.0, "", "all", str(src), 0.5, cells),
            VideoScores("cam/gone.avi", scores.copy(), fr, 150, 15.0, "", "all", str(tmp_path / "gone.avi"), 0.5,
                        cells.copy())]
    return ScoreSet(vids, {"cell_grid": [4, 4], "config": {"detector": "duad"}})


def test_evidence_per_event_image_and_playable_clip(runner_scores, tmp_path, caplog):
    events = find_events(runner_scores, EventSettings(min_length_s=0))
    assert len(events.events) == 2
    media = write_evidence(runner_scores, events, tmp_path / "rep" / "events", pad_s=1.0, burn_heatmap=True)
    ok, gone = (media[e.event] for e in sorted(events.events, key=lambda e: e.video, reverse=True))
    e = events.events[0] if events.events[0].video == "cam/run.avi" else events.events[1]
    assert (tmp_path / "rep" / ok.image).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with av.open(str(tmp_path / "rep" / ok.clip)) as c:
        n = sum(1 for _ in c.decode(video=0))
    assert ok.clip_first_frame == e.start_frame - 15  # 1 s of padding at 15 fps
    assert n == (e.end_frame + 15) - ok.clip_first_frame + 1
    assert ok.play_from_s == pytest.approx(1.0)
    # the unreadable source: its image says why, no clip, and the other video was not stopped
    assert gone.clip is None and "source not readable" in gone.note and (tmp_path / "rep" / gone.image).is_file()
    assert "gone.avi" in caplog.text
    assert ok.note is None or "around the peak" not in ok.note
    # an event longer than the clip's limit: the clip is centred on the peak and says the event began
    # before it (the viewer said it starts 1 s before the event)
    short = write_evidence(runner_scores, events, tmp_path / "short" / "events", pad_s=1.0, max_clip_s=1.0)[e.event]
    assert short.clip_first_frame > e.start_frame and short.play_from_s == 0.0
    began = (short.clip_first_frame - e.start_frame) / 15.0
    assert f"clip: the 1 s around the peak; the event began {began:.1f} s before the clip does" in short.note


def test_clips_go_to_the_highest_peaked_events_up_to_the_limit(runner_scores, tmp_path):
    """A day of a busy camera's events made a clip each (thousands, hundreds of MB) before the page
    could open: clips for the highest peaks, the others keep their picture and say why."""
    events = find_events(runner_scores, EventSettings(min_length_s=0))
    readable = [e for e in events.events if e.video == "cam/run.avi"]
    extra = [replace(readable[0], event=10 + i, peak_score=readable[0].peak_score - 0.01 * (i + 1))
             for i in range(3)]
    events.events.extend(extra)
    media = write_evidence(runner_scores, events, tmp_path / "rep" / "events", pad_s=0.0, max_clip_s=1.0,
                           max_clips=2)
    # the slots go to events whose video can be read (an unreadable video's event took one before)
    top = sorted((e for e in events.events if e.video == "cam/run.avi"), key=lambda e: -e.peak_score)
    assert [e.event for e in top if media[e.event].clip] == [e.event for e in top[:2]]
    for e in top[2:]:
        m = media[e.event]
        assert m.image and not m.clip and "clips for the 2 highest-peaked events only (--max-clips)" in m.note
    gone = [e for e in events.events if e.video != "cam/run.avi"]
    assert gone and all("source not readable" in media[e.event].note for e in gone)
    everything = write_evidence(runner_scores, events, tmp_path / "all" / "events", pad_s=0.0, max_clip_s=1.0,
                                max_clips=0)
    assert all(everything[e.event].clip for e in top)
    none = write_evidence(runner_scores, events, tmp_path / "none" / "events", pad_s=0.0, clips=False, max_clips=1)
    assert all(none[e.event].note == "no clip: this report was written without clips" for e in top)


def test_evidence_removes_the_half_clips_of_a_killed_report_not_a_running_ones(runner_scores, tmp_path):
    events = find_events(runner_scores, EventSettings(min_length_s=0))
    out = tmp_path / "rep" / "events"
    out.mkdir(parents=True)
    suffix, _ = clip_format()
    dead = out / f".E001{suffix}.999999999-0badc0de.tmp"  # no such process
    running = out / f".E002{suffix}.{os.getppid()}-0badc0de.tmp"  # a report running now
    for path in (dead, running):
        path.write_bytes(b"half a clip")
    write_evidence(runner_scores, events, out, pad_s=1.0)
    assert not dead.exists() and running.exists()


def test_a_source_changed_since_extraction_is_said_beside_its_pictures(runner_scores, tmp_path, caplog):
    """A source whose size (a frame folder: its image count) differs from what extraction read:
    every event's caption says so (a retention job deleting a folder's first images shifted every
    picture and clip, with no word of it). The same source as read says nothing."""
    run = runner_scores.videos[0]
    size = Path(run.source).stat().st_size
    events = find_events(runner_scores, EventSettings(min_length_s=0))
    e = next(e for e in events.events if e.video == "cam/run.avi")
    run.source_fingerprint = {"size": size, "files": 1}
    same = write_evidence(runner_scores, events, tmp_path / "same", pad_s=1.0, clips=False)[e.event]
    assert "changed since extraction" not in (same.note or "")
    run.source_fingerprint = {"size": size + 100, "files": 1}
    moved = write_evidence(runner_scores, events, tmp_path / "changed", pad_s=1.0, clips=False)[e.event]
    assert moved.note.startswith(f"source changed since extraction ({size + 100} bytes then, {size} now)")
    assert "changed since extraction" in caplog.text
    # rewritten in place at the same size (a recorder's fixed-size segments): its modification time
    mtime = Path(run.source).stat().st_mtime_ns
    run.source_fingerprint = {"size": size, "files": 1, "mtime_ns": mtime - 10**9}
    rewritten = write_evidence(runner_scores, events, tmp_path / "rewritten", pad_s=1.0, clips=False)[e.event]
    assert rewritten.note.startswith("source changed since extraction (the same size, modified since)")
    run.source_fingerprint = {"size": size, "files": 1, "mtime_ns": mtime}
    assert "changed since" not in (write_evidence(runner_scores, events, tmp_path / "same2", pad_s=1.0,
                                                  clips=False)[e.event].note or "")
    from videoad.video.run import _video_meta

    class Stored:  # a store video as detect reads it
        key, attrs = "x.avi", {"n_frames": 10, "fps": 10.0, "source_size": 123, "source_files": 1,
                               "source_mtime_ns": 5}

    assert _video_meta(Stored)["source_fingerprint"] == {"size": 123, "files": 1, "mtime_ns": 5}
    run.source_fingerprint = {"size": size + 100, "files": 1}
    from videoad.scores import read_scores, write_scores

    write_scores(tmp_path / "scores", runner_scores)  # kept in run.json for a later `videoad report`
    assert read_scores(tmp_path / "scores").videos[0].source_fingerprint == {"size": size + 100, "files": 1}


def test_a_rotated_videos_pictures_are_turned_as_its_features_were(tmp_path):
    """The report's pictures and the extraction read a phone's sideways-stored footage alike."""
    from _extract_media import make_h264, rotate_mp4

    path = rotate_mp4(make_h264(tmp_path / "plain.mp4", 12), tmp_path / "turned.mp4", 90)
    every = _all_frames(path)
    assert every[0].shape == (64, 48, 3)
    with Footage(path, len(every)) as f:
        got = list(f.frames(3, 5))
    assert [j for j, _ in got] == [3, 4, 5] and all(np.array_equal(img, every[j]) for j, img in got)


def test_a_damaged_recordings_pictures_are_the_frames_extraction_read(tmp_path):
    """A lost keyframe (frame 12: frames 12-21 filled in by extraction): a seek that runs into it
    reads on from the start as extraction did, so frame i of the report is extraction's frame i."""
    from _extract_media import damage_packets, make_h264

    path = damage_packets(make_h264(tmp_path / "v.mp4", 60, width=160, height=120), tmp_path / "damaged.mp4", [12])
    every = _all_frames(path)
    assert len(every) == 60
    with Footage(path, len(every)) as f:
        for first, last in ((10, 25), (30, 33), (0, 2), (14, 14)):
            got = list(f.frames(first, last))
            assert [j for j, _ in got] == list(range(first, last + 1))
            assert all(np.array_equal(img, every[j]) for j, img in got), (first, last)


def test_an_event_pictures_title_names_the_clip_score_beside_the_cells_colour_bar(runner_scores):
    """The title read "peak 1.363" beside a colour bar of cell scores up to 2.9: two scales, one word."""
    from videoad.evidence import _title

    e = find_events(runner_scores, EventSettings(min_length_s=0)).events[0]
    assert _title(e, "distance to the normal selection").splitlines()[1].startswith(
        f"peak clip score {e.peak_score:.3g}"[:18])


def test_without_pyav_a_report_keeps_its_events_and_says_what_to_install(runner_scores, tmp_path, monkeypatch,
                                                                          caplog):
    """PyAV missing (a broken install): the report stopped on a raw ModuleNotFoundError after its
    slow stages, and `--no-clips` called the video unreadable and pointed to --source-root."""
    import sys

    events = find_events(runner_scores, EventSettings(min_length_s=0))
    monkeypatch.setitem(sys.modules, "av", None)  # `import av` raises ImportError
    with caplog.at_level("WARNING"):
        media = write_evidence(runner_scores, events, tmp_path / "rep" / "events", pad_s=1.0)
    assert len(media) == len(events.events) and not any(m.clip for m in media.values())
    assert "event clips not written: PyAV is not installed" in caplog.text
    assert "frames cannot be read without PyAV" in caplog.text and "--source-root" not in caplog.text.split(
        "without PyAV")[1].split("\n")[0]
    ran = next(m for e, m in media.items() if next(x for x in events.events if x.event == e).video == "cam/run.avi")
    assert "pip install av" in ran.note
    from videoad.plots import timeline

    caplog.clear()
    with caplog.at_level("WARNING"):  # a timeline's peak frames: the same words, not --source-root
        timeline(runner_scores.videos[0], tmp_path / "t.png", thumbnails=1)
    assert "PyAV reads them: pip install av" in caplog.text and "--source-root" not in caplog.text
