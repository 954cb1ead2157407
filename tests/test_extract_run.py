"""End to end: the runner and `videoad extract` / `videoad merge` on generated and real videos."""
from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from _extract_media import (damage, damage_packets, make_frames, make_h264, make_raw_stream, make_size_change,
                            make_two_cameras, make_vfr_h264, make_video, shared, truncate)
from extract.backbones.motion import MotionBackbone
from extract.run import ExtractOptions, extract_videos
from extract.manifest import read_store_manifest
from extract.store import FeatureStore, key_path
from videoad.cli.extract_cmd import extract as extract_cmd
from videoad.cli.extract_cmd import merge as merge_cmd

# every frame of the test videos (25 fps): the frame ranges below count source frames one by one
SMALL = ["--backbone-opt", "size=64x48", "--backbone-opt", "grid=2", "--stride", "16", "--max-fps", "0", "-q"]


def small_backbone() -> MotionBackbone:
    return MotionBackbone(size="64x48", grid=2)  # fast enough for many runs


def run(input_path, output, **options) -> "RunSummary":  # noqa: F821
    options.setdefault("progress", False)
    options.setdefault("stride", 16)  # clip counts below assume clips that do not overlap
    options.setdefault("max_fps", 0)  # ... cut from every frame of the 25 fps test videos
    return extract_videos(input_path, output, small_backbone(), ExtractOptions(**options))


def manifest(root: Path) -> dict:
    return json.loads((root / "manifest.json").read_text())["videos"]


def test_bad_inputs_fail_one_by_one_while_the_batch_completes(tmp_path, monkeypatch):
    videos = tmp_path / "in"
    make_video(videos / "cams" / "a" / "x.mp4", 40)
    make_video(videos / "cams" / "b" / "x.mp4", 36, speed=4)  # same name, other folder
    make_video(videos / "caméra 1" / "vidéo été.mp4", 20)
    make_video(videos / "short.mp4", 10)
    (videos / "zero.mp4").write_bytes(b"")
    (videos / "text.mp4").write_text("this is not a video\n" * 10)
    truncate(make_video(tmp_path / "whole.mp4", 60), videos / "trunc.mp4")
    truncate(make_video(tmp_path / "whole.avi", 60, fourcc="MJPG"), videos / "trunc.avi")
    make_frames(videos / "frames" / "01", 20)
    locked = videos / "locked"
    make_video(locked / "v.mp4", 20)
    locked.chmod(0)  # enough for a normal user; root reads anyway, so the listing refuses too
    real_scandir = os.scandir
    monkeypatch.setattr(os, "scandir", lambda path=".": (_ for _ in ()).throw(
        PermissionError(13, "Permission denied", os.fspath(path))) if Path(path) == locked
        else real_scandir(path))
    try:
        result = CliRunner().invoke(extract_cmd, [str(videos), "-o", str(tmp_path / "out"),
                                                  "--recursive", "--workers", "2", *SMALL])
    finally:
        locked.chmod(stat.S_IRWXU)
    assert result.exit_code == 1, result.output
    entries = manifest(tmp_path / "out")
    status = {key: entry["status"] for key, entry in entries.items()}
    assert status == {
        "cams/a/x.mp4": "done", "cams/b/x.mp4": "done", "caméra 1/vidéo été.mp4": "done",
        "frames/01": "done", "short.mp4": "done", "locked": "failed", "text.mp4": "failed",
        "trunc.avi": "failed", "trunc.mp4": "failed", "zero.mp4": "failed"}
    assert "Permission denied" in entries["locked"]["reason"]
    assert "no decoder could read" in entries["text.mp4"]["reason"]
    assert all(d in entries["text.mp4"]["reason"] for d in ("decord:", "pyav:", "opencv:"))
    assert entries["zero.mp4"]["reason"].startswith("the file is empty (0 bytes)")
    for key in ("trunc.avi", "trunc.mp4"):
        assert entries[key]["reason"].startswith("the file is truncated: "), key
    assert "no full clip: 10 frames" in entries["short.mp4"]["warning"]
    assert "trunc.avi:" in result.output and "failed" in result.output

    store = FeatureStore(tmp_path / "out")
    assert store.keys() == ["cams/a/x.mp4", "cams/b/x.mp4", "caméra 1/vidéo été.mp4",
                            "frames/01", "short.mp4"]
    a, b = store.load("cams/a/x.mp4"), store.load("cams/b/x.mp4")
    assert (a.attrs["n_frames"], b.attrs["n_frames"]) == (40, 36)
    np.testing.assert_array_equal(a.frames, [[0, 15], [16, 31]])
    assert not np.array_equal(a.features, b.features)
    assert store.load("caméra 1/vidéo été.mp4").n_clips == 1
    short = store.load("short.mp4")
    assert short.n_clips == 0 and short.attrs["n_frames"] == 10
    frames = store.load("frames/01")
    assert frames.attrs["source_kind"] == "images" and frames.attrs["decoder"] == "images"
    assert frames.attrs["n_frames"] == 20 and np.isnan(frames.attrs["fps"])


def test_a_video_whose_picture_changes_size_is_extracted_at_its_first_size_and_says_so(tmp_path):
    """Once a stacking error at the first clip across the change (the video failed); now its
    frames keep the first size, and the warning and the store's attributes say where it changed.
    A file of two cameras' streams: the first is extracted and the warning names the other."""
    videos = tmp_path / "in"
    make_size_change(videos / "switch.ts", 40, 40)
    make_two_cameras(videos / "two.mkv")
    summary = run(videos, tmp_path / "out")
    two = manifest(tmp_path / "out")["two.mkv"]
    assert two["status"] == "done" and two["warning"].startswith("the file holds 2 video streams; only the first")
    assert FeatureStore(tmp_path / "out").load("two.mkv").attrs["video_streams"] == 2
    entry = manifest(tmp_path / "out")["switch.ts"]
    assert entry["status"] == "done" and summary.failed == []
    assert entry["warning"].startswith("the picture changed size part-way (128x96 at frame 40): 40 frame(s)")
    video = FeatureStore(tmp_path / "out").load("switch.ts")
    assert video.n_clips == 5 and video.attrs["n_frames"] == 80 and video.attrs["resized_frames"] == 40
    assert json.loads(video.attrs["frame_size"]) == [48, 64]
    assert "changed size part-way" in video.attrs["decode_notes"]


def test_a_damaged_recording_is_extracted_whole_with_its_damage_named(tmp_path):
    """Damaged data in the middle of an H.264 file failed the whole video; now its refused frames
    are filled in, every clip is written, and the warning and `damaged_frames` say what was lost."""
    videos = tmp_path / "in"
    videos.mkdir()
    damage_packets(make_h264(tmp_path / "v.mp4", 200, width=160, height=120), videos / "damaged.mp4", [100, 101])
    make_h264(videos / "clean.mp4", 200, width=160, height=120)
    summary = run(videos, tmp_path / "out")
    entries = manifest(tmp_path / "out")
    assert summary.failed == [] and {k: e["status"] for k, e in entries.items()} == {"damaged.mp4": "done", "clean.mp4": "done"}
    store = FeatureStore(tmp_path / "out")
    hurt, clean = store.load("damaged.mp4"), store.load("clean.mp4")
    assert hurt.attrs["n_frames"] == 200 and hurt.n_clips == clean.n_clips == 12
    assert hurt.attrs["damaged_frames"] == 2
    assert entries["damaged.mp4"]["warning"].startswith("2 frame(s) could not be decoded (damaged data at frames 100-101")
    assert "damaged_frames" not in clean.attrs and not entries["clean.mp4"].get("warning")
    same = [i for i in range(12) if np.array_equal(hurt.features[i], clean.features[i])]
    assert same == [0, 1, 2, 3, 4, 5, 7, 8, 9, 10, 11]  # only the clip of frames 96-111 differs
    # the warning travels with the scores to run.json and the report's facts of that video
    from videoad import video
    from videoad.report import build_report
    from videoad.scores import read_scores, write_scores

    write_scores(tmp_path / "scores", video.detect(tmp_path / "out", video.DetectConfig(
        detector="knn", params={}, mode="pooled", min_clips=1)))
    scored = read_scores(tmp_path / "scores")
    warned = {v.video: v.decode_warnings for v in scored}
    assert warned["clean.mp4"] is None and warned["damaged.mp4"].startswith("2 frame(s) could not be decoded")
    page = build_report(scored, tmp_path / "report", clips=False).read_text()
    assert page.count("extraction warned: 2 frame(s) could not be decoded (damaged data at frames 100-101") == 1
    # where: the frames filled in, for the timeline's hatched band
    assert hurt.attrs["damaged_spans"] == "[[100, 101]]"
    assert {v.video: v.damaged_spans for v in scored} == {"clean.mp4": None, "damaged.mp4": [[100, 101]]}
    from videoad.plots import timeline

    assert timeline(next(v for v in scored if v.video == "damaged.mp4"), tmp_path / "t.png").stat().st_size > 0


def test_frames_a_recording_never_delivered_are_warned_of_naming_how_many(tmp_path):
    """A 25 fps MPEG-TS recording whose packets of six frames are gone (the demuxer says nothing): it
    was extracted with no warning; now its manifest entry warns how many frames never arrived and
    its store keeps the count. A recording whose frames keep their rate is extracted as before."""
    videos = tmp_path / "in"
    make_vfr_h264(videos / "lost.ts", [40 * i for i in range(200) if i not in (100, 101, 102, 103, 104, 150)])
    make_vfr_h264(videos / "clean.ts", [40 * i for i in range(200)])
    summary = run(videos, tmp_path / "out")
    entries = manifest(tmp_path / "out")
    assert summary.failed == [] and {k: e["status"] for k, e in entries.items()} == {"lost.ts": "done", "clean.ts": "done"}
    assert "6 of the 200 frames from its first to its last never arrived" in entries["lost.ts"]["warning"]
    assert not entries["clean.ts"].get("warning")
    store = FeatureStore(tmp_path / "out")
    assert store.load("lost.ts").attrs["missing_frames"] == 6 and "missing_frames" not in store.load("clean.ts").attrs


def _tagged(path: Path, tag: str | None, n: int = 40) -> Path:
    """A tiny H.264 file whose container carries `tag` as its creation_time (an MP4 keeps whole
    seconds, a Matroska file its fraction)."""
    import av

    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as container:
        if tag:
            container.metadata["creation_time"] = tag
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(n):
            container.mux(stream.encode(av.VideoFrame.from_ndarray(np.full((48, 64, 3), 3 * i % 256, np.uint8),
                                                                   format="rgb24")))
        container.mux(stream.encode())
    return path


def test_the_recording_start_is_read_from_the_file_name_else_the_creation_time_tag(tmp_path):
    """extract.clock: a recorder's segment named by its start, a phone's file with a creation_time
    tag (the name wins where both say), a frame folder named by its start, and a file that says
    nothing: the store keeps `start_time` and where it was read, which the scores carry on. A
    fraction of a second (a Matroska tag's, a Pixel phone's name's milliseconds) is kept: cut to the
    second, every clock time of its events was up to a second early, and the phone's name gave none."""
    from datetime import datetime

    from extract.clock import clock_after, from_name
    from videoad.events import EventSettings, find_events

    videos = tmp_path / "in"
    make_h264(videos / "cam1_20261205_080000.mp4", 40)
    make_h264(videos / "plain.mp4", 40)
    _tagged(videos / "phone.mp4", "2026-12-04T21:15:30.000000Z")
    _tagged(videos / "cam2_2026-12-05_09-30-00.mp4", "2020-01-01T00:00:00Z")
    _tagged(videos / "action.mkv", "2026-12-05T07:59:59.750000Z", n=200)
    make_h264(videos / "PXL_20261205_080000750.mp4", 40)
    make_frames(videos / "door_20261205T101500", 40)
    run(videos, tmp_path / "out", image_fps=10)
    store = FeatureStore(tmp_path / "out")
    told = {k: (store.attrs(k).get("start_time"), store.attrs(k).get("start_time_from")) for k in store.keys()}
    assert told == {"cam1_20261205_080000.mp4": ("2026-12-05T08:00:00", "file name"),
                    "cam2_2026-12-05_09-30-00.mp4": ("2026-12-05T09:30:00", "file name"),
                    "door_20261205T101500": ("2026-12-05T10:15:00", "file name"),
                    "phone.mp4": ("2026-12-04T21:15:30+00:00", "creation_time"),
                    "action.mkv": ("2026-12-05T07:59:59.750000+00:00", "creation_time"),
                    "PXL_20261205_080000750.mp4": ("2026-12-05T08:00:00.750000", "file name"),
                    "plain.mp4": (None, None)}
    from videoad import video
    from videoad.report import build_report

    scored = video.detect(tmp_path / "out", video.DetectConfig(detector="knn", params={}, mode="pooled", min_clips=1))
    assert {v.video: v.start_time for v in scored} == {k: when for k, (when, _) in told.items()}
    # the events' clock times count from the fraction: 07:59:59.750 + 1.3 s is 08:00:01, not 08:00:00
    from dataclasses import replace

    from videoad.scores import ScoreSet

    v = next(v for v in scored if v.video == "action.mkv")  # every clip over the line: one event
    action = find_events(ScoreSet([replace(v, threshold=float(v.scores.min()) - 1)]),
                         EventSettings(min_length_s=0)).events
    assert action and action[0].start_s is not None
    exact = datetime.fromisoformat("2026-12-05T07:59:59.750+00:00")
    for e in action:
        assert (e.start_clock, e.end_clock, e.peak_clock) == tuple(
            clock_after(exact, s, how) for s, how in ((e.start_s, "down"), (e.end_s, "up"), (e.peak_s, "nearest")))
    page = build_report(scored, tmp_path / "report", clips=False).read_text()
    assert "recorded from 2026-12-05 07:59:59.750+00:00 (its creation_time)" in page
    assert "recorded from 2026-12-05 08:00:00 (its file name)" in page  # whole seconds read as before
    # what is not a date and a time is never taken for one
    assert [from_name(n) for n in ("Explosion008_x264.mp4", "video_0815.avi", "20261205.mp4",
                                    "ch01_20261399_250000.mp4", "Normal_Videos_024_x264")] == [None] * 5
    # a fraction after a point or comma, or milliseconds run on; not a segment counter after `_`
    assert [from_name(n) for n in ("2026-12-05 08-00-00.750.mkv", "2026-12-05T08:00:00,5", "PXL_20261205_080000123.mp4",
                                    "cam_20261205_080000_750.mp4", "cam_20261205_0800007501.mp4")] == \
        [datetime(2026, 12, 5, 8, 0, 0, 750000), datetime(2026, 12, 5, 8, 0, 0, 500000),
         datetime(2026, 12, 5, 8, 0, 0, 123000), datetime(2026, 12, 5, 8, 0, 0), None]


def test_a_time_off_a_camera_clock_never_set_gives_no_clock_times_and_says_so(tmp_path):
    """A camera whose clock battery is dead stamps 1970 or its reset date, 2000-01-01, one set
    wrong a date in the future: every event was told by that clock (2000-01-01 00:03:14, a date
    an analyst might even believe). No start is kept and the warning says why; a 1990 or later
    time is kept as before."""
    from datetime import datetime, timedelta, timezone

    videos = tmp_path / "in"
    _tagged(videos / "epoch.mp4", "1970-01-01T00:00:05.000000Z")
    _tagged(videos / "reset.mp4", "2000-01-01T00:03:12.000000Z")
    ahead = (datetime.now(timezone.utc) + timedelta(days=400)).replace(microsecond=0)
    _tagged(videos / "ahead.mp4", ahead.isoformat().replace("+00:00", "Z"))
    _tagged(videos / "dvr_20000101_000312.mkv", "2026-12-05T08:00:00Z")  # the tag of a later remux
    _tagged(videos / "old.mp4", "1995-06-01T12:00:00.000000Z")
    summary = run(videos, tmp_path / "out")
    assert summary.failed == []
    store, entries = FeatureStore(tmp_path / "out"), manifest(tmp_path / "out")
    assert {k: store.attrs(k).get("start_time") for k in store.keys()} == {
        "epoch.mp4": None, "reset.mp4": None, "ahead.mp4": None, "dvr_20000101_000312.mkv": None,
        "old.mp4": "1995-06-01T12:00:00+00:00"}
    assert "its creation_time says 1970-01-01 00:00:05+00:00, which looks like a camera clock never set" in \
        entries["epoch.mp4"]["warning"]
    assert "its creation_time says 2000-01-01 00:03:12+00:00" in entries["reset.mp4"]["warning"]
    assert "its file name says 2000-01-01 00:03:12" in entries["dvr_20000101_000312.mkv"]["warning"]
    assert "no clock times" in entries["ahead.mp4"]["warning"] and not entries["old.mp4"].get("warning")
    from extract.clock import recording_start, unset

    # tomorrow's time is a zone ahead of this machine, not yet a clock set wrong
    now = datetime(2026, 12, 5, 12, tzinfo=timezone.utc)
    assert [unset(datetime(2026, 12, 6, 11), now), unset(datetime(2026, 12, 6, 13), now),
            unset(datetime(1989, 12, 31, 23, 59, 59), now), unset(datetime(2000, 1, 2), now)] == [False, True, True, False]
    assert recording_start("x.mp4", {"creation_time": "2026-12-05T08:00:00+05:45"}) == \
        ("2026-12-05T08:00:00+05:45", "creation_time")  # an odd offset kept as written
    assert recording_start("x.mp4", {"creation_time": "2026-12-05T08:00:00.25-03:30"}) == \
        ("2026-12-05T08:00:00.250000-03:30", "creation_time")


def test_a_creation_time_with_a_lower_case_z_is_read():
    """ISO 8601 allows `z` and `t` in lower case; Python's reader takes the `t` alone."""
    from datetime import datetime, timezone

    from extract.clock import from_tag, recording_start

    assert [from_tag(t) for t in ("2026-12-05t08:00:00z", "2026-12-05T08:00:00.5z", "2026-12-05T08:00:00Z")] == [
        datetime(2026, 12, 5, 8, tzinfo=timezone.utc), datetime(2026, 12, 5, 8, 0, 0, 500000, tzinfo=timezone.utc),
        datetime(2026, 12, 5, 8, tzinfo=timezone.utc)]
    assert recording_start("x.mp4", {"creation_time": "2026-12-05t08:00:00z"}) == \
        ("2026-12-05T08:00:00+00:00", "creation_time")


def test_a_store_extracted_before_the_clock_was_checked_gives_its_unset_start_no_clock_times():
    """A store written before extraction checked for a clock never set still holds its 2000-01-01
    start: detect leaves it out and says why, in the words extraction now warns in."""
    from videoad.video.run import _video_meta

    class Stored:  # a store video as detect reads it
        key = "dvr_20000101_000312.mkv"
        attrs = {"n_frames": 10, "fps": 10.0, "start_time": "2000-01-01T00:03:12",
                 "start_time_from": "file name", "decode_warnings": "12 damaged frames filled in"}

    meta = _video_meta(Stored)
    assert (meta["start_time"], meta["start_time_from"]) == (None, None)
    assert meta["decode_warnings"] == ("12 damaged frames filled in; its file name says 2000-01-01 00:03:12, which "
                                       "looks like a camera clock never set (before 1990, on 2000-01-01 or in the "
                                       "future): its events are given no clock times")
    Stored.attrs = {"n_frames": 10, "fps": 10.0, "start_time": "2026-12-05T08:00:00", "start_time_from": "file name"}
    meta = _video_meta(Stored)  # a set clock: kept, nothing said
    assert (meta["start_time"], meta["start_time_from"], meta["decode_warnings"]) == \
        ("2026-12-05T08:00:00", "file name", None)


def test_clock_times_count_the_seconds_that_passed_across_a_change_of_summer_time(monkeypatch):
    """A name's time is the recorder's local clock. 38 s after 01:59:30 on the night New York's
    clocks jump to 03:00 read 02:00:08, a time that never was; under UTC nothing changes, and a
    tag's time with its zone is counted in it."""
    import time
    from datetime import datetime, timezone

    from extract.clock import clock_after

    start = datetime(2026, 3, 8, 1, 59, 30)
    try:
        for zone, expected in (("America/New_York", "2026-03-08T03:00:08"), ("UTC", "2026-03-08T02:00:08"),
                               ("Europe/Berlin", "2026-03-08T02:00:08")):
            monkeypatch.setenv("TZ", zone)
            time.tzset()
            assert clock_after(start, 38) == expected, zone
        monkeypatch.setenv("TZ", "America/New_York")
        time.tzset()
        assert clock_after(datetime(2026, 11, 1, 0, 59, 0), 3600) == "2026-11-01T01:59:00"  # the hour after, once
        # a name in the hour the clock skips (a recorder that keeps no summer time): as written, not
        # an hour before its own start; a year past the platform's local times: plain addition
        assert clock_after(datetime(2026, 3, 8, 2, 30, 0), 0) == "2026-03-08T02:30:00"
        assert clock_after(datetime(2026, 3, 8, 2, 30, 0), 60) == "2026-03-08T02:31:00"
        assert clock_after(datetime(9999, 12, 31, 23, 59, 0), 30) == "9999-12-31T23:59:30"
        assert clock_after(datetime(2026, 3, 8, 6, 59, 30, tzinfo=timezone.utc), 38) == "2026-03-08T07:00:08+00:00"
    finally:
        monkeypatch.undo()
        time.tzset()


def test_a_name_near_the_file_systems_limit_is_extracted_and_its_temporaries_cleaned(tmp_path):
    """A 245-byte name: its feature file (249 bytes) fits in the 255 a file system allows, the
    temporary beside it (`.<name>.<pid>-<id>.tmp`) did not, and the video failed with `File name
    too long`; its temporaries now take a shortened name, which a rerun still finds and removes."""
    from extract.store import temp_prefix

    videos = tmp_path / "in"
    name = "v" * 241 + ".mp4"
    make_video(videos / name, 32)
    summary = run(videos, tmp_path / "out")
    assert summary.failed == [] and FeatureStore(tmp_path / "out").load(name).n_clips == 2
    final = tmp_path / "out" / (name + ".h5")
    prefix = temp_prefix(final)
    assert len(prefix.encode()) < 140 and prefix != f".{final.name}."
    stale = final.with_name(f"{prefix}4242-deadbeef.tmp")
    stale.write_bytes(b"half written")
    run(videos, tmp_path / "out")
    assert not stale.exists()


def test_a_damaged_manifest_is_rebuilt_and_said_once(tmp_path):
    """A manifest.json that does not read (a disk that lost its end, a hand edit) was rebuilt from
    the feature files in silence, and the failures it recorded of other videos went with it."""
    videos = tmp_path / "in"
    make_video(videos / "a.mp4", 32)
    out = tmp_path / "out"
    run(videos, out)
    for damaged, why in (("{", "Expecting property name enclosed in double quotes"),
                         ('{"videos": []}', "not an extraction manifest")):
        (out / "manifest.json").write_text(damaged)
        again = run(videos, out)
        said = [line.strip() for line in again.report().splitlines() if "manifest.json could not be read" in line]
        assert len(said) == 1 and said[0].startswith(f"{out / 'manifest.json'} could not be read ({why}")
        assert said[0].endswith("rebuilt from the feature files and this run's videos (failures it recorded "
                                "of other videos are lost)")
        assert manifest(out)["a.mp4"]["status"] == "done"
    assert "could not be read" not in run(videos, out).report()


def test_resume_skips_complete_files_and_redoes_stale_ones(tmp_path):
    videos = tmp_path / "in"
    for name, n in [("a.mp4", 32), ("b.mp4", 40), ("c.mp4", 20)]:
        make_video(videos / name, n)
    out = tmp_path / "out"
    first = run(videos, out)
    assert len(first.done) == 3 and first.ok
    mtimes = {p.name: p.stat().st_mtime_ns for p in out.glob("*.h5")}

    again = run(videos, out)
    assert len(again.skipped) == 3 and again.clips == 0 and not again.done
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("*.h5")} == mtimes
    assert all(e["status"] == "done" and e["resumed"] for e in manifest(out).values())

    os.utime(videos / "b.mp4", ns=(1_000_000_000, 1_000_000_000))  # the source changed
    (out / "c.mp4.h5").write_bytes(b"not hdf5 at all")              # a damaged feature file
    partly = run(videos, out)
    assert sorted(r.key for r in partly.done) == ["b.mp4", "c.mp4"]
    assert [r.key for r in partly.skipped] == ["a.mp4"]
    assert FeatureStore(out).load("c.mp4").n_clips == 1

    restrided = run(videos, out, stride=8)  # other settings: everything is stale, and said ("3 done" alone before)
    assert len(restrided.done) == 3
    # what was made again, and why (it said "other settings or a changed file" of each, whatever the cause)
    assert partly.store_notes == ["2 video(s) already in the store were extracted again, the earlier features "
                                  "replaced (b.mp4: its source changed since (modified time); c.mp4: its feature "
                                  "file is damaged or not HDF5)"]
    assert restrided.store_notes == ["3 video(s) already in the store were extracted again, the earlier features "
                                     "replaced (a.mp4, b.mp4, c.mp4: made with other settings: clip.stride 16 -> 8)"]
    assert FeatureStore(out).load("b.mp4").frames.tolist() == [[0, 15], [8, 23], [16, 31], [24, 39]]

    forced = run(videos, out, stride=8, overwrite=True)
    assert len(forced.done) == 3 and not forced.skipped
    (videos / "c.mp4").write_bytes(b"no longer a video")  # made again and failed: not said to be replaced
    failed = run(videos, out, stride=16)
    assert [r.key for r in failed.failed] == ["c.mp4"]
    assert [n for n in failed.store_notes if "extracted again" in n] == [
        "2 video(s) already in the store were extracted again, the earlier features replaced (a.mp4, b.mp4: made "
        "with other settings: clip.stride 8 -> 16)"]


def test_a_changed_setting_is_named_by_its_field_and_a_long_description_by_the_clause_that_differs():
    from extract.run import _made_again_note, settings_change

    def record(size: str, stride: int = 4, extra: str = "") -> str:
        text = (f"grey, resize {size} INTER_AREA; camera motion taken out of each frame pair; OpenCV DIS flow "
                f"(ultrafast, finest scale 1); 4x4 grid + whole frame{extra}")
        return json.dumps({"backbone": {"backbone": "motion", "preprocessing": text},
                           "clip": {"stride": stride, "max_fps": 10.0}, "dtype": "float32"})

    assert settings_change(record("160x120"), record("auto (native, at most 240 lines)")) == (
        'backbone.preprocessing "grey, resize 160x120 INTER_AREA" -> "grey, resize auto (native, at most 240 '
        'lines) INTER_AREA"')
    assert settings_change(record("160x120"), record("160x120", extra="; scene cuts left out")) == (
        'backbone.preprocessing null -> "scene cuts left out"')
    assert settings_change(record("a", 4), record("b", 16)) == (
        'backbone.preprocessing "grey, resize a INTER_AREA" -> "grey, resize b INTER_AREA"; clip.stride 4 -> 16')
    assert settings_change(json.dumps({"clip": {"tail": "drop"}}), json.dumps({"clip": {}})) == 'clip.tail "drop" -> null'
    assert settings_change(None, record("a")).startswith("backbone null -> {")
    # reasons shared by many videos are said once, the videos named by the first few
    note = _made_again_note({f"v{i}.mp4": "made with other settings: clip.stride 4 -> 8" for i in range(5)}
                            | {"w.mp4": "its source changed since (size)"})
    assert note == ("6 video(s) already in the store were extracted again, the earlier features replaced (v0.mp4, "
                    "v1.mp4, v2.mp4 and 2 more: made with other settings: clip.stride 4 -> 8; w.mp4: its source "
                    "changed since (size))")


def test_a_rerun_keeps_what_was_said_of_each_video_and_of_the_others(tmp_path):
    """A resumed video keeps its warning in the manifest and the summary; a run over part of the
    input keeps the failure of a video it did not look at (both were forgotten)."""
    videos = tmp_path / "in"
    make_video(videos / "a.mp4", 32)
    make_video(videos / "short.mp4", 10)
    (videos / "broken.mp4").write_text("not a video\n")
    out = tmp_path / "out"
    first = run(videos, out)
    assert [r.key for r in first.failed] == ["broken.mp4"]
    warned = manifest(out)["short.mp4"]["warning"]
    assert warned.startswith("no full clip")
    again = run(videos, out)
    assert manifest(out)["short.mp4"]["warning"] == warned and manifest(out)["short.mp4"]["resumed"]
    assert "short.mp4: no full clip" in again.report()
    (out / "manifest.json").unlink()  # a kill before the manifest's save: the file says it all the same
    run(videos, out)
    assert manifest(out)["short.mp4"]["warning"] == warned
    run(videos / "a.mp4", out)
    assert manifest(out)["broken.mp4"]["status"] == "failed" and manifest(out)["a.mp4"]["status"] == "done"
    # a temporary of the manifest that a kill mid-save left is deleted by the next run (it stayed)
    (out / ".manifest.json.123-abcd1234.tmp").write_text("{")
    run(videos / "a.mp4", out)
    assert not list(out.glob(".manifest.json.*.tmp"))
    # under a frame-rate cap, the warning counts what the clips are cut from (30 frames are 16 and more)
    make_video(tmp_path / "fast" / "cam.mp4", 30, fps=25.0)
    capped = run(tmp_path / "fast", tmp_path / "out-capped", max_fps=10)
    assert "cam.mp4: no full clip: 30 frames (about 12 at the 10 fps clips are cut at) < clip length 16" \
        in capped.report()


def test_real_videos_and_ucsd_frames(tmp_path):
    videos, ped2 = shared("videos"), shared("ucsd_ped2", "testing")
    summary = extract_videos(videos, tmp_path / "v", MotionBackbone(),
                             ExtractOptions(progress=False))
    assert summary.ok and len(summary.done) == 3
    store = FeatureStore(tmp_path / "v")
    # tree.avi says 15 fps; its 68 frames span 29.5 s: read at the 2.27 fps they keep (extract.timing)
    expected = {"tree.avi": (68, 67 / 29.533481), "bikes.mp4": (250, 25.0), "vtest.avi": (795, 10.0)}
    for key, (n_frames, fps) in expected.items():
        video = store.load(key)
        # the motion backbone's defaults: videos faster than 10 fps cut at 10 (sampled frame p is source
        # frame floor(p * fps / 10)), a 16-frame clip every 4 sampled frames
        native = float(video.attrs["fps"])
        rate = min(native, 10.0)
        sampled = [i for i in (int(p * native / rate + 1e-9) for p in range(n_frames)) if i < n_frames]
        n_clips = (len(sampled) - 16) // 4 + 1
        assert video.attrs["n_frames"] == n_frames and video.attrs["fps"] == pytest.approx(fps, rel=1e-3)
        assert video.attrs["sampled_fps"] == pytest.approx(rate, rel=1e-3) and video.attrs["max_fps"] == 10.0
        assert video.features.shape == (n_clips, 255) and video.attrs["stride"] == 4
        np.testing.assert_array_equal(video.frames[:, 0], [sampled[4 * k] for k in range(n_clips)])
        np.testing.assert_array_equal(video.frames[:, 1], [sampled[4 * k + 15] for k in range(n_clips)])
        assert np.isfinite(video.features).all() and video.features.any()
        assert video.attrs["backbone"] == "motion" and video.attrs["weights_sha256"] == "none"
        with_cells = store.load(key, cells=True)
        assert with_cells.cell_grid == (4, 4) and with_cells.cells.shape == (n_clips, 16, 15)
        np.testing.assert_array_equal(with_cells.cells.reshape(n_clips, -1), video.features[:, :240])
    assert store.attrs("vtest.avi")["source_size"] == (videos / "vtest.avi").stat().st_size
    # the native frame size and the size the flow ran at, for a model to check what it may score
    sizes = {k: tuple(json.loads(store.attrs(k)[a]) for a in ("frame_size", "working_size")) for k in expected}
    # size auto (the default): native, scaled down to at most 240 lines with the aspect kept
    assert sizes == {"tree.avi": ([240, 320], [320, 240]), "bikes.mp4": ([272, 640], [565, 240]),
                     "vtest.avi": ([576, 768], [320, 240])}
    fixed = extract_videos(videos / "bikes.mp4", tmp_path / "fixed", MotionBackbone(size="160x120"),
                           ExtractOptions(progress=False))
    assert fixed.ok
    assert json.loads(FeatureStore(tmp_path / "fixed").attrs("bikes.mp4")["working_size"]) == [160, 120]

    ucsd = extract_videos(ped2, tmp_path / "u", MotionBackbone(),
                          ExtractOptions(progress=False, recursive=True, image_fps=10, stride=16))
    assert ucsd.ok
    store = FeatureStore(tmp_path / "u")
    assert store.keys() == ["frames/01", "frames/02"]
    assert store.groups() == {"frames": store.keys()}
    video = store.load("frames/01")
    assert video.attrs["n_frames"] == 180 and video.attrs["fps"] == 10.0
    assert video.frames[-1].tolist() == [160, 175] and video.n_clips == 11


def test_a_hung_or_crashing_decoder_is_killed_and_the_next_one_takes_over(tmp_path):
    videos = tmp_path / "in"
    make_video(videos / "a.mp4", 48)
    make_video(videos / "b.mp4", 40, speed=3)
    reference = run(videos, tmp_path / "ref", decoders=("pyav",))
    assert reference.ok

    # decode 20 frames (one clip sent), hang; then a decoder that crashes its process; then PyAV
    flaky = run(videos, tmp_path / "out", decode_timeout=3.0, decoders=(
        "_extract_media:stall_after_frames", "_extract_media:crash_open", "pyav"))
    assert flaky.ok, flaky.report()
    # the clip the hung attempt sent was computed, then discarded: the summary counts stored clips
    assert flaky.clips == reference.clips == 5 and "; 5 clips in" in flaky.report()
    for key in ("a.mp4", "b.mp4"):
        entry = manifest(tmp_path / "out")[key]
        assert entry["decoder"] == "pyav"
        assert "stall_after_frames: no decode progress for 3 s" in entry["note"]
        # a process that died is given its decoder once more, then the next decoder, with a warning
        assert entry["note"].count("crash_open: the decoder process died (killed by SIGSEGV)") == 2
        assert ("read by pyav, _extract_media:stall_after_frames and _extract_media:crash_open having stopped or "
                "died on it") in entry["warning"]
        got = FeatureStore(tmp_path / "out").load(key)
        want = FeatureStore(tmp_path / "ref").load(key)
        np.testing.assert_array_equal(got.frames, want.frames)  # the hung attempt's clip is gone
        np.testing.assert_array_equal(got.features, want.features)

    # killed once from outside (the OOM killer): the same decoder reads it again, the same features
    once = run(videos, tmp_path / "once", decoders=("_extract_media:crash_once", "opencv"))
    assert once.ok and not [r for r in once.results.values() if r.warning], once.report()
    for key in ("a.mp4", "b.mp4"):
        entry = manifest(tmp_path / "once")[key]
        assert entry["decoder"] == "_extract_media:crash_once"
        assert "crash_once: the decoder process died (killed by SIGKILL)" in entry["note"]
        np.testing.assert_array_equal(FeatureStore(tmp_path / "once").load(key).features,
                                      FeatureStore(tmp_path / "ref").load(key).features)

    hung = run(videos / "a.mp4", tmp_path / "hung", decode_timeout=2.0,
               decoders=("_extract_media:stall_open",))
    assert [r.key for r in hung.failed] == ["a.mp4"]
    assert "no decode progress for 2 s" in hung.failed[0].reason
    assert FeatureStore(tmp_path / "hung").keys() == []


def test_shards_then_merge(tmp_path):
    videos = tmp_path / "in"
    for i in range(5):
        make_video(videos / f"v{i}.mp4", 16)
    out = tmp_path / "out"
    cli = CliRunner()
    first = cli.invoke(extract_cmd, [str(videos), "-o", str(out), "--shard", "0/2", *SMALL])
    assert first.exit_code == 0, first.output
    assert FeatureStore(out).keys() == ["v0.mp4", "v2.mp4", "v4.mp4"]
    early = cli.invoke(merge_cmd, [str(out)])
    assert early.exit_code == 2 and "shards [1] of 2" in early.output
    second = cli.invoke(extract_cmd, [str(videos), "-o", str(out), "--shard", "1/2", *SMALL])
    assert second.exit_code == 0, second.output
    shard1 = json.loads((out / "manifest.shard-1-of-2.json").read_text())
    assert sorted(shard1["videos"]) == ["v1.mp4", "v3.mp4"] and shard1["complete"]
    merged = cli.invoke(merge_cmd, [str(out)])
    assert merged.exit_code == 0, merged.output
    assert sorted(manifest(out)) == [f"v{i}.mp4" for i in range(5)]
    assert read_store_manifest(out)["complete"] is True


def test_padding_resampling_and_float16_end_to_end(tmp_path):
    make_video(tmp_path / "in" / "v.mp4", 50, fps=25)
    result = CliRunner().invoke(extract_cmd, [
        str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--fps", "10", "--tail", "pad",
        "--float16", *SMALL])
    assert result.exit_code == 0, result.output
    video = FeatureStore(tmp_path / "out").load("v.mp4")
    # 50 frames at 25 fps -> 20 sampled (source 0, 2, 5, 7, ...): one full clip, one padded
    assert video.frames.tolist() == [[0, 37], [40, 47]]
    assert video.attrs["target_fps"] == 10.0 and video.attrs["tail"] == "pad"
    assert video.attrs["dtype"] == "float16" and video.features.dtype == np.float32
    assert video.dim == 5 * 15  # grid=2 reached the backbone


def test_a_frame_rate_cap_resamples_the_fast_camera_and_keeps_the_slow_one(tmp_path):
    """The motion backbone's default cap (10 fps) and --max-fps: a 30 fps video is cut at the cap,
    a 10 fps one at its own rate; each video records the cap and the rate its clips were cut at."""
    make_video(tmp_path / "in" / "fast.mp4", 64, fps=30)
    make_video(tmp_path / "in" / "slow.mp4", 32, fps=10)
    args = [str(tmp_path / "in"), "-o", str(tmp_path / "out"), *SMALL[:-3], "-q"]  # SMALL without its --max-fps 0

    def extracted(*extra):
        result = CliRunner().invoke(extract_cmd, [*args, *extra])
        assert result.exit_code == 0, result.output
        store = FeatureStore(tmp_path / "out")
        return store.load("fast.mp4"), store.load("slow.mp4")

    fast, slow = extracted()  # the default: every third frame of the 30 fps video
    assert fast.frames.tolist() == [[0, 45]] and slow.frames.tolist() == [[0, 15], [16, 31]]
    assert (fast.attrs["max_fps"], fast.attrs["sampled_fps"], fast.attrs["target_fps"]) == (10.0, 10.0, 0.0)
    assert (slow.attrs["max_fps"], slow.attrs["sampled_fps"]) == (10.0, 10.0)
    fast, slow = extracted("--max-fps", "15")  # a changed setting: the rerun recomputes both
    assert fast.frames.tolist() == [[0, 30], [32, 62]] and slow.frames.tolist() == [[0, 15], [16, 31]]
    assert (fast.attrs["max_fps"], fast.attrs["sampled_fps"], slow.attrs["sampled_fps"]) == (15.0, 15.0, 10.0)
    fast, _ = extracted("--max-fps", "0")  # no cap: every frame of each video
    assert fast.frames.tolist() == [[0, 15], [16, 31], [32, 47], [48, 63]]
    assert (fast.attrs["max_fps"], fast.attrs["sampled_fps"]) == (0.0, 30.0)


@pytest.mark.parametrize("args,message", [
    (["--weights", __file__], "needs a learned backbone"),
    (["--backbone", "nope"], "unknown backbone"),
    (["--backbone-opt", "grid"], "expected key=value"),
    (["--backbone-opt", "colour=red"], "backbone 'motion' has no option 'colour'; its options: bins, blur"),
    (["--shard", "2/2"], "0 <= i < N"),
])
def test_cli_refuses_bad_options_before_any_work(tmp_path, args, message):
    make_video(tmp_path / "v.mp4", 4)
    result = CliRunner().invoke(extract_cmd, [str(tmp_path / "v.mp4"), "-o", str(tmp_path / "o"), *args])
    assert result.exit_code == 2 and message in result.output
    assert not (tmp_path / "o").exists()


def test_ray_options_without_ray_are_refused_and_no_cluster_is_a_named_error(tmp_path, monkeypatch):
    """--ray-workers/--ray-cpus/--ray-gpus without --ray ran locally, silently; `--ray=auto` with no
    cluster running ended in Ray's ConnectionError traceback."""
    from extract.ray_runner import connect

    monkeypatch.setenv("RAY_TMPDIR", str(tmp_path))  # no record of a `ray start` here (the machine's own may hold one)
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    from videoad.cli.video_cmd import detect as detect_cmd

    make_video(tmp_path / "in" / "a.mp4", 20)
    res = CliRunner().invoke(extract_cmd, [str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--ray-workers", "64",
                                           "--ray-gpus", "1"])
    assert res.exit_code == 2 and "--ray-workers, --ray-gpus without --ray" in res.output
    assert not (tmp_path / "out").exists()
    (tmp_path / "features").mkdir()
    res = CliRunner().invoke(detect_cmd, [str(tmp_path / "features"), "-o", str(tmp_path / "s"), "--ray-cpus", "2"])
    assert res.exit_code == 2 and "--ray-cpus without --ray" in res.output

    class NoCluster:  # what ray.init does where no cluster runs
        @staticmethod
        def init(address=None, **_):
            raise ConnectionError("Could not find any running Ray instance. Please specify the one to connect to")

    with pytest.raises(RuntimeError, match=r"no Ray cluster at auto: Could not find any running Ray instance"):
        connect(NoCluster, "auto")


def test_the_backbones_work_is_not_counted_as_a_decode_stall(tmp_path):
    """--decode-timeout ran on while the backbone prepared each clip: a slow preprocessing (a large
    working size) had each decoder killed and blamed in turn, though every one read the file."""
    from _extract_media import SlowPreprocess

    make_video(tmp_path / "in" / "a.mp4", 40)
    summary = extract_videos(tmp_path / "in", tmp_path / "out",
                             SlowPreprocess(delay=1.5, size="64x48", grid=2),
                             ExtractOptions(workers=1, progress=False, decode_timeout=1.0, stride=8, max_fps=0))
    (result,) = summary.results.values()
    assert result.status == "done" and result.n_clips >= 2, summary.report()
    assert "no decode progress" not in (result.note or ""), result.note


def test_workers_that_cannot_start_stop_the_run_without_failing_the_videos(tmp_path):
    """A backbone class defined in __main__ (a notebook, `python -c`) cannot be unpickled by the
    spawned workers: each decoder of each video was blamed ("the decoder process died"). The run
    stops with the workers' own error, and no video is marked failed (none was read)."""
    import subprocess
    import sys

    make_video(tmp_path / "in" / "a.mp4", 40)
    make_video(tmp_path / "in" / "b.mp4", 40)
    code = f"""
import sys
from extract.backbones.motion import MotionBackbone
from extract.run import ExtractOptions, WorkerStartError, extract_videos
class Mine(MotionBackbone):
    pass
try:
    extract_videos({str(tmp_path / 'in')!r}, {str(tmp_path / 'out')!r}, Mine(size="64x48", grid=2),
                   ExtractOptions(workers=1, progress=False))
except WorkerStartError as exc:
    print("STOPPED:", exc)
    sys.exit(3)
"""
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                         cwd=Path(__file__).resolve().parents[1])
    assert res.returncode == 3, res.stdout + res.stderr
    assert "the backbone cannot be rebuilt in a worker process (AttributeError: Can't get attribute 'Mine'" \
        in res.stdout and "importable module" in res.stdout, res.stdout
    entries = json.loads((tmp_path / "out" / "manifest.json").read_text())["videos"]
    assert not any(e.get("status") == "failed" for e in entries.values()), entries
    # workers that die as they start, whatever the reason: three in a row stop the run, no video failed
    from _extract_media import DiesInWorker

    from extract.run import WorkerStartError

    with pytest.raises(WorkerStartError, match=r"decode workers die as they start \(exit code 7, 3 in a row\)"):
        extract_videos(tmp_path / "in", tmp_path / "out2", DiesInWorker(size="64x48", grid=2),
                       ExtractOptions(workers=1, progress=False))
    entries = json.loads((tmp_path / "out2" / "manifest.json").read_text())["videos"]
    assert not any(e.get("status") == "failed" for e in entries.values()), entries


def test_an_outdated_file_that_cannot_be_removed_fails_its_video_not_the_batch(tmp_path, monkeypatch):
    """A shared store whose folder another user owns: writing the new features and removing the
    outdated file both failed, and the removal's PermissionError stopped the whole batch with a bare
    errno message after one video."""
    import extract.run as run_module

    videos = tmp_path / "in"
    make_video(videos / "a.mp4", 40)
    make_video(videos / "b.mp4", 40, speed=3)
    assert run(videos, tmp_path / "out", stride=16).ok
    locked = key_path(tmp_path / "out", "a.mp4")
    real_write, real_unlink = run_module.write_video, Path.unlink

    def write(output, key, *args, **kwargs):
        if key == "a.mp4":
            raise PermissionError(13, "Permission denied", str(locked))
        return real_write(output, key, *args, **kwargs)

    def unlink(self, *args, **kwargs):
        if self == locked:
            raise PermissionError(13, "Permission denied", str(self))
        return real_unlink(self, *args, **kwargs)

    monkeypatch.setattr(run_module, "write_video", write)
    monkeypatch.setattr(Path, "unlink", unlink)
    again = run(videos, tmp_path / "out", stride=8)
    assert [r.key for r in again.failed] == ["a.mp4"]
    assert f"its outdated features file could not be removed (Permission denied): remove {locked}" in \
        again.failed[0].reason
    assert FeatureStore(tmp_path / "out").attrs("b.mp4")["stride"] == 8  # the rest of the batch went on


def test_an_output_folder_under_a_file_is_named_not_a_traceback(tmp_path):
    videos = tmp_path / "in"
    make_video(videos / "a.mp4", 20)
    (tmp_path / "afile").write_text("x")
    res = CliRunner().invoke(extract_cmd, [str(videos), "-o", str(tmp_path / "afile" / "sub"), *SMALL])
    assert res.exit_code == 2 and not isinstance(res.exception, OSError), res.exception  # as -o afile is
    assert f"cannot make '{tmp_path / 'afile' / 'sub'}': '{tmp_path / 'afile'}' is a file, not a folder" in res.output


def test_a_shard_rerun_after_a_merge_is_not_hidden_by_the_merged_manifest(tmp_path):
    """After a merge, videos arrived and only one shard was rerun (or one was rerun with another
    stride): the old manifest.json still said complete, and detect scored the store without a word."""
    from videoad.video.groups import unfinished

    videos = tmp_path / "in"
    for i in range(4):
        make_video(videos / f"v{i}.mp4", 16)
    out = tmp_path / "out"
    cli = CliRunner()
    for shard in ("0/2", "1/2"):
        assert cli.invoke(extract_cmd, [str(videos), "-o", str(out), "--shard", shard, *SMALL]).exit_code == 0
    assert cli.invoke(merge_cmd, [str(out)]).exit_code == 0
    assert read_store_manifest(out)["complete"] is True and unfinished(out) is None
    for i in range(4, 8):  # more footage arrives; shard 0/2 runs over it, shard 1/2 not yet
        make_video(videos / f"v{i}.mp4", 16)
    assert cli.invoke(extract_cmd, [str(videos), "-o", str(out), "--shard", "0/2", *SMALL]).exit_code == 0
    assert not (out / "manifest.json").exists()
    assert read_store_manifest(out)["complete"] is False
    assert "ran in shards that have not all finished with the same settings and input" in unfinished(out)
    assert cli.invoke(extract_cmd, [str(videos), "-o", str(out), "--shard", "1/2", *SMALL]).exit_code == 0
    assert cli.invoke(merge_cmd, [str(out)]).exit_code == 0
    assert read_store_manifest(out)["complete"] is True and len(manifest(out)) == 8
    # one shard rerun with other settings: not the same run's
    other = [a if a != "16" else "8" for a in SMALL]
    assert cli.invoke(extract_cmd, [str(videos), "-o", str(out), "--shard", "1/2", *other]).exit_code == 0
    assert read_store_manifest(out)["complete"] is False and unfinished(out) is not None
    assert cli.invoke(merge_cmd, [str(out)]).exit_code == 2


def test_a_store_reused_for_another_folder_or_other_settings_says_so(tmp_path):
    """Two cameras' folders into one store: each run silently replaced the other camera's 0001.mp4;
    a store left with features of other settings beside this run's was reported complete."""
    make_video(tmp_path / "cams" / "cam1" / "0001.mp4", 20)
    make_video(tmp_path / "cams" / "cam2" / "0001.mp4", 20, speed=4)
    store = tmp_path / "store"
    first = run(tmp_path / "cams" / "cam1", store)
    assert first.ok and not first.store_notes
    second = run(tmp_path / "cams" / "cam2", store)
    assert second.ok
    (note,) = second.store_notes
    assert f"this store was filled from {tmp_path / 'cams' / 'cam1'}, this run reads {tmp_path / 'cams' / 'cam2'}" in note
    assert (f"replaced the features of {tmp_path / 'cams' / 'cam1' / '0001.mp4'}, another file under the same key"
            in second.results["0001.mp4"].warning)
    assert "store:" in second.report()

    videos = tmp_path / "in"
    for i in range(4):
        make_video(videos / f"v{i}.mp4", 20, speed=i + 1)
    mixed = tmp_path / "mixed"
    assert run(videos, mixed).ok
    for i in (2, 3):
        (videos / f"v{i}.mp4").unlink()
    again = extract_videos(videos, mixed, MotionBackbone(size="32x24", grid=2),
                           ExtractOptions(progress=False, stride=16, max_fps=0))
    assert again.ok
    assert any("2 feature file(s) of videos not in this run were made with other settings (v2.mp4, v3.mp4)" in n
               for n in again.store_notes), again.store_notes
    assert run(videos, tmp_path / "fresh").store_notes == []


def test_an_image_rate_given_for_videos_alone_is_said_to_change_nothing(tmp_path, caplog):
    """`--image-fps 10` on a video file was taken in silence: it is the rate of frame folders, and a
    user who meant to resample the video (--fps) got its own rate without a word."""
    make_video(tmp_path / "in" / "a.avi", 40)
    with caplog.at_level("WARNING", logger="extract.run"):
        run(tmp_path / "in", tmp_path / "out", image_fps=10)
    assert "--image-fps 10 changes nothing here" in caplog.text and "--fps resamples it" in caplog.text
    caplog.clear()
    make_frames(tmp_path / "in2" / "door", 40)
    make_video(tmp_path / "in2" / "a.avi", 40)
    with caplog.at_level("WARNING", logger="extract.run"):
        run(tmp_path / "in2", tmp_path / "out2", image_fps=10)
    assert "changes nothing" not in caplog.text  # a frame folder among them: it is used


def test_a_folder_of_raw_streams_is_extracted_at_their_rates(tmp_path, caplog):
    """A recorder's raw `.264`/`.hevc` exports: found in the folder (they were "no videos found"),
    each at the rate its VUI timing states (all were read at 25 fps), one that states none at 25 fps
    with a warning naming it, or at --image-fps (which was "changes nothing here" for them); a damaged
    one fails alone, named. A rerun with --image-fps redoes only the streams that state no rate."""
    videos = tmp_path / "in"
    make_raw_stream(videos / "cam1.264", 48, fps=10)
    make_raw_stream(videos / "cam2.hevc", 48, fps=8, hevc=True, vui_timing=False)
    (videos / "junk.264").write_bytes(np.random.default_rng(0).integers(0, 256, 3000, dtype=np.uint8).tobytes())
    first = run(videos, tmp_path / "out")
    assert sorted(first.results) == ["cam1.264", "cam2.hevc", "junk.264"]
    assert first.results["junk.264"].status == "failed" and "no decoder could read" in first.results["junk.264"].reason
    assert first.results["cam1.264"].warning is None
    assert "states no frame rate: 25 fps assumed" in first.results["cam2.hevc"].warning
    store = FeatureStore(tmp_path / "out")
    assert [store.load(k).attrs["fps"] for k in ("cam1.264", "cam2.hevc")] == [10.0, 25.0]
    assert [store.load(k).attrs["n_frames"] for k in ("cam1.264", "cam2.hevc")] == [48, 48]
    with caplog.at_level("WARNING", logger="extract.run"):
        again = run(videos, tmp_path / "out", image_fps=8)
    assert "changes nothing" not in caplog.text
    assert again.results["cam2.hevc"].status == "done" and again.results["cam2.hevc"].warning is None
    assert again.results["cam1.264"].status == "skipped"  # its stated rate stands: nothing to redo
    assert [store.load(k).attrs["fps"] for k in ("cam1.264", "cam2.hevc")] == [10.0, 8.0]


def test_an_image_rate_is_a_raw_stream_s_that_states_none_whatever_its_name(tmp_path, caplog):
    """A raw stream named `cam.bin` (a recorder's export renamed) read at --image-fps while the run
    warned "--image-fps changes nothing here"; one whose VUI timing states its rate keeps it, and
    the warning is then true."""
    make_raw_stream(tmp_path / "a" / "cam.bin", 32, fps=8, hevc=True, vui_timing=False)
    make_raw_stream(tmp_path / "b" / "cam.264", 32, fps=10)
    with caplog.at_level("WARNING", logger="extract.run"):
        named = run(tmp_path / "a" / "cam.bin", tmp_path / "out", image_fps=8)
    assert named.results["cam.bin"].status == "done" and "changes nothing" not in caplog.text
    assert FeatureStore(tmp_path / "out").load("cam.bin").attrs["fps"] == 8.0
    with caplog.at_level("WARNING", logger="extract.run"):
        run(tmp_path / "b", tmp_path / "out2", image_fps=8)
    assert "--image-fps 8 changes nothing here" in caplog.text
    assert FeatureStore(tmp_path / "out2").load("cam.264").attrs["fps"] == 10.0


def test_a_missing_decoder_is_named_with_its_extra_and_the_default_lists_absence_is_no_warning(tmp_path, monkeypatch,
                                                                                                caplog):
    """A core install (no decord) warned "not installed, skipped: decord" on every extract, for a
    decoder the user never named; a named one missing said nothing of how to install it."""
    import extract.run as run_module

    make_video(tmp_path / "in" / "a.mp4", 20)
    monkeypatch.setattr(run_module, "installed_decoders", lambda names: tuple(n for n in names if n != "decord"))
    with caplog.at_level("INFO", logger="extract.run"):
        assert run(tmp_path / "in", tmp_path / "out").ok  # the default list
    said = [r for r in caplog.records if "not installed, skipped" in r.getMessage()]
    assert said and all(r.levelname == "INFO" for r in said)
    caplog.clear()
    with caplog.at_level("WARNING", logger="extract.run"):
        assert run(tmp_path / "in", tmp_path / "out2", decoders=("decord", "opencv")).ok
    assert "not installed, skipped: decord (pip install 'videoad[decord]')" in caplog.text
    with pytest.raises(ValueError, match=r"none of the decoders decord is installed \(pip install 'videoad\[decord\]'\)"):
        run(tmp_path / "in", tmp_path / "out3", decoders=("decord",))
    # PyAV, the default decoder and a dependency, missing: a broken install, said at every extract
    monkeypatch.setattr(run_module, "installed_decoders", lambda names: tuple(n for n in names if n == "opencv"))
    caplog.clear()
    with caplog.at_level("WARNING", logger="extract.run"):
        assert run(tmp_path / "in", tmp_path / "out4").ok
    assert "not installed, skipped: pyav, decord (pip install av, pip install 'videoad[decord]')" in caplog.text


def test_names_one_feature_file_on_a_drive_that_ignores_case_fail_the_later_video(tmp_path, monkeypatch):
    """`A.mp4` and `a.mp4` (or `é` composed and decomposed) are two videos on Linux, and one feature
    file on macOS's, Windows' or an exFAT drive: the second video's features replaced the first's, and
    the key `A.mp4` then read `a.mp4`'s features, both reported done. Now the later of the two fails,
    naming the other, before any work; where names cannot clash no probe is made."""
    import unicodedata

    from extract import store as store_module

    assert store_module.name_folding(tmp_path) == (False, False)  # this file system: names kept apart
    assert list(tmp_path.iterdir()) == []  # the probe is gone
    videos = tmp_path / "in"
    for name in ("A.mp4", "a.mp4", unicodedata.normalize("NFC", "é.mp4"), unicodedata.normalize("NFD", "é.mp4"),
                 "b.mp4"):
        make_video(videos / name, 24)
    ignoring = {"case": (True, False), "accents": (False, True), "neither": (False, False)}
    for what, folding in ignoring.items():
        probes = []
        monkeypatch.setattr(store_module, "name_folding", lambda root, f=folding: probes.append(root) or f)
        summary = run(videos, tmp_path / what)
        failed = {r.key: r.reason for r in summary.failed}
        accented = sorted(unicodedata.normalize(form, "é.mp4") for form in ("NFC", "NFD"))
        clashing = {"case": ["a.mp4"], "accents": accented[1:], "neither": []}[what]  # the later in key order
        assert sorted(failed) == clashing, failed
        for key in clashing:
            assert "differ only in" in failed[key] and "rename one of the two videos" in failed[key]
        assert len(summary.done) == 5 - len(clashing) and len(probes) == 1
    monkeypatch.setattr(store_module, "name_folding", lambda root: pytest.fail("probed with nothing to clash"))
    only = tmp_path / "only"
    make_video(only / "A.mp4", 24)
    make_video(only / "b.mp4", 24)
    assert len(run(only, tmp_path / "plain").done) == 2


def test_one_video_reached_under_two_names_is_extracted_and_said(tmp_path):
    """Two links to one video (or one folder reached by two paths) were extracted as two videos in
    silence: a pooled fit then weighed that video twice and its events came twice."""
    from videoad.cli.run_cmd import run as run_cmd

    videos = tmp_path / "in"
    make_video(videos / "cam1.mp4", 24)
    make_video(videos / "cam2.mp4", 24)
    (videos / "copy_of_cam1.mp4").symlink_to(videos / "cam1.mp4")
    summary = run(videos, tmp_path / "out")
    assert len(summary.done) == 3  # as asked: each name has its features
    notes = [n for n in summary.store_notes if "read twice" in n]
    assert len(notes) == 1 and "cam1.mp4 = copy_of_cam1.mp4" in notes[0], summary.store_notes
    assert "copy_of_cam1.mp4" in summary.report() and "cam2" not in notes[0]
    res = CliRunner().invoke(run_cmd, [str(videos), "-o", str(tmp_path / "run"), "--min-clips", "2"])
    assert "note: features: 3 video names are" not in res.output  # two names, one file: counted right
    assert "note: features: 2 video names are 1 file(s)" in res.output, res.output  # `run` says it too
    (videos / "copy_of_cam1.mp4").unlink()
    assert not any("read twice" in n for n in run(videos, tmp_path / "out").store_notes)


def test_a_single_frame_transport_stream_is_said_to_have_no_rate_not_90000_fps(tmp_path):
    """A one-frame MPEG-TS: its run warned "the container says 90000 frames per second, more than
    cameras film (a wrong header?)", FFmpeg's 90 kHz clock taken for a rate. Now its notes say it has
    no frame rate, and no warning speaks of one."""
    make_vfr_h264(tmp_path / "in" / "one.ts", [0])
    run(tmp_path / "in", tmp_path / "out")
    entry = manifest(tmp_path / "out")["one.ts"]
    assert entry["status"] == "done" and "frames per second" not in entry["warning"]
    attrs = FeatureStore(tmp_path / "out").load("one.ts").attrs
    assert "no frame rate: the container states none and its timestamps give none (a single frame)" in attrs["decode_notes"]


def test_frames_lost_and_damaged_in_one_file_get_notes_that_agree(tmp_path):
    """A 10 fps MP4 whose frames 30, 31 and 90 never arrived and whose packets of frames 70-71 the
    decoder refuses. The repair after the damage once filled the slot of lost frame 90 too (118 frames
    read, the container's 117), and the notes said "118 of the container's 117 frame slots hold a frame"
    and "2 of the 120 frames ... never arrived", three in the gaps against two missing. The repair now
    fills only the packets the damage took (`PyAVFrames`: a slot no packet had is no damaged frame), so
    the frames read are the container's 117, and the three missing are the three in the gaps."""
    lost = [i for i in range(120) if i not in (30, 31, 90)]
    src = make_vfr_h264(tmp_path / "src" / "lost.mp4", [100 * i for i in lost], rate=10)
    (tmp_path / "in").mkdir()
    damage_packets(src, tmp_path / "in" / "hit.mp4", [70, 71])
    run(tmp_path / "in", tmp_path / "out")
    attrs = FeatureStore(tmp_path / "out").load("hit.mp4").attrs
    notes = attrs["decode_notes"]
    assert attrs["n_frames"] == 117 and attrs["container_frames"] == 117 and attrs["missing_frames"] == 3, notes
    assert "frame slots hold a frame" not in notes and "the container claims" not in notes, notes
    assert "3 of the 120 frames" in notes and "2 at 3.20 s, 1 at 9.10 s;" in notes and "filled in among" not in notes


def _numbered_ts(path: Path, n: int) -> Path:
    """A 10 fps 160x96 MPEG-TS whose frame i shows i in binary (ten blocks along the top), keyframes every 25."""
    import av

    with av.open(os.fspath(path), "w") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 160, 96, "yuv420p"
        stream.options = {"crf": "18", "bf": "2", "g": "25", "threads": "1"}
        for i in range(n):
            picture = np.full((96, 160, 3), 60, np.uint8)
            for b in range(10):
                picture[0:16, b * 16:(b + 1) * 16] = 255 if (i >> b) & 1 else 0
            picture[40:80, 20 + (i * 3) % 120:28 + (i * 3) % 120] = 200
            for packet in stream.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def _number_shown(picture: np.ndarray) -> int:
    return sum(1 << b for b in range(10) if picture[4:12, b * 16 + 4:b * 16 + 12].mean() > 128)


@pytest.mark.parametrize("max_fps", [0, 4])
def test_frames_the_decoder_drops_without_an_error_keep_their_own_seconds(tmp_path, max_fps):
    """Bytes overwritten in a 10 fps MPEG-TS whose frames show their number: the decoder drops some
    frames without an error (more timestamps than frames), so frame i had no timestamp of its own and
    the store kept none: seconds counted at one rate, off by 2.3 s after the damage, in the timeline and
    events.csv alike. Each decoded frame's own timestamp is now stored: a frame after the gap sits at its
    real time (its number / 10 s), and so does an event there; under the frame-rate cap (4 fps) the
    clips' frames after the gap are picked by those times (a frame of the 10 fps source at or just before
    each quarter second: before, by the timestamps of other frames)."""
    import csv

    from extract.decode import open_video
    from extract.timing import packet_table
    from videoad.events import EventSettings, find_events, write_events
    from videoad.scores import ScoreSet, VideoScores

    source = _numbered_ts(tmp_path / "v.ts", 240)
    videos = tmp_path / "in"
    videos.mkdir()
    hit = damage(source, videos / "hit.ts", ((0.4, 3000), (0.5, 3000), (0.6, 3000)), seed=3)
    stream = open_video(hit, ("pyav",))
    shown = np.array([_number_shown(f) for f in stream.frames])
    assert len(packet_table(os.fspath(hit)).pts) > len(shown)  # frames dropped without an error
    # frames after the damage, each showing the number after the one before: their real time is it / 10 s
    after = np.arange(np.flatnonzero(np.diff(shown) != 1)[-1] + 1, len(shown))
    assert len(after) > 60 and after[0] > 130 and shown[after[0]] - after[0] > 15  # far past frames lost: index seconds were wrong
    run(videos, tmp_path / "out", max_fps=max_fps, stride=4 if max_fps else 16)
    store = FeatureStore(tmp_path / "out")
    v = store.load("hit.ts")
    assert v.attrs["n_frames"] == len(shown) and v.frame_times is not None
    real = (shown - shown[0]) / 10.0
    assert np.all(np.abs(v.frame_times[after] - real[after]) < 0.05)  # within half a frame
    if max_fps:  # each clip's first frame after the damage is the latest frame before a tick (4 a second)
        assert v.attrs["sampled_fps"] == 4.0
        late = real[v.frames[v.frames[:, 0] >= after[0], 0]]
        assert len(late) > 3 and np.all(np.ceil(late * 4 - 1e-6) / 4 - late < 0.1 - 1e-6)
    # an event on the clip that starts at frame `first`, well after the damage: events.csv's seconds are its real time
    clip = int(np.flatnonzero(v.frames[:, 0] >= after[0])[0])
    first = int(v.frames[clip, 0])
    scores = np.full(len(v.frames), 0.1)
    scores[clip] = 0.9
    video = VideoScores("hit.ts", scores, v.frames, v.attrs["n_frames"], v.attrs["fps"], "C", "all", "", 0.5,
                        frame_times=v.frame_times)
    events = find_events(ScoreSet([video]), EventSettings(merge_gap_s=0.0, min_length_s=0))
    (row,) = csv.DictReader(open(write_events(tmp_path / "scores", events)[0]))
    assert int(row["start_frame"]) == first and abs(float(row["start_s"]) - real[first]) < 0.05
