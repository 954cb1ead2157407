"""Bad inputs and faults a new user meets (issue 12): each is one line naming the file, key or
video and what to do, never a traceback, and nothing already done is lost.

The disk-full and read-only cases mount a small tmpfs (root only) and skip with the reason
elsewhere.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
import yaml
from click.testing import CliRunner
from video_helpers import FAST_DUAD, fake_video, holding_folder, small_store, write_labels

from _extract_media import make_frames, make_video
from extract.decode import DecodeError, open_image_folder
from extract.sources import find_sources, numbering_gaps, numbering_note, shared_numbers
from extract.store import FeatureStore, StoreReadError
from extract.weights import WeightsError, load_state_dict
from videoad import video
from videoad.cli import cli
from videoad.detector.persistence import load_detector
from videoad.scores import read_scores

# every frame of the 25 fps test videos (no frame-rate cap): the clip counts below count them one by one
SMALL = ["--backbone-opt", "size=64x48", "--backbone-opt", "grid=2", "--workers", "1", "--stride", "16", "--max-fps", "0",
         "-q"]


def invoke(*args):
    """The CLI in-process; an exception that is not a clean click error fails the test."""
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def one_line_error(output: str) -> str:
    """The single `Error: ...` line of a failed command (and no traceback anywhere)."""
    assert "Traceback" not in output, output
    errors = [line for line in output.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, output
    return errors[0]


# -- 1. a video shorter than one clip ----------------------------------------------------------
def _store_with_a_short_video(root: Path) -> dict:
    videos = small_store(root)
    fake_video(root, "A/short10.avi", 1)  # then rewritten as the extractor stores it: 0 clips
    from extract.store import write_video

    write_video(root, "A/short10.avi", np.zeros((0, 12), np.float32), np.zeros((0, 2), np.int64),
                {"n_frames": 10, "fps": 10.0, "clip_len": 16, "stride": 16, "backbone": "fake"})
    videos["A/short10.avi"] = {"n_frames": 10, "intervals": []}
    return videos


def test_a_video_without_clips_is_left_out_and_every_later_step_runs(tmp_path):
    store = tmp_path / "features"
    videos = _store_with_a_short_video(store)
    gt = write_labels(tmp_path / "gt.csv", videos)
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(yaml.safe_dump({"mode": "per-category", "min_clips": 50, "detector": "pca"}))
    res = invoke("detect", store, "--config", cfg, "-o", tmp_path / "scores")
    assert res.exit_code == 0, res.output
    assert "left out A/short10.avi: no clips: 10 frames, shorter than one clip of 16" in res.output
    run = json.loads((tmp_path / "scores" / "run.json").read_text())
    assert [v["video"] for v in run["left_out"]] == ["A/short10.avi"]
    assert "A/short10.avi" not in {v["video"] for v in run["videos"]}
    assert run["groups"][0]["videos"] == ["A/a1.mp4", "A/a2.mp4"]

    res = invoke("evaluate", tmp_path / "scores", "--annotations", gt)
    assert res.exit_code == 0, res.output
    evaluation = json.loads((tmp_path / "scores" / "evaluation.json").read_text())
    assert evaluation["settings"]["annotated_but_not_scored"] == 2  # short10 and group B
    # said beside the table whose "all videos" row leaves them out (a settings count alone before)
    assert ('note: "all videos" pools the 2 scored videos; 2 annotated video(s) have no scores in this run '
            "(A/short10, B/b1)") in res.output
    res = invoke("plot", tmp_path / "scores", "-o", tmp_path / "plots")
    assert res.exit_code == 0 and "2 timeline(s) written" in res.output, res.output
    res = invoke("report", tmp_path / "scores", "-o", tmp_path / "report", "--annotations", gt)
    assert res.exit_code == 0, res.output
    page = (tmp_path / "report" / "index.html").read_text()
    assert "Videos left out" in page and "<bdi>A/short10.avi</bdi>: no clips" in page


def test_scores_written_before_left_out_existed_still_read(tmp_path):
    """Older runs listed a 0-clip video in run.json with n_clips 0 and no segments."""
    folder = tmp_path / "scores"
    folder.mkdir()
    (folder / "segments.csv").write_text(
        "video,category,group,clip,start_frame,end_frame,start_s,end_s,score\n"
        "ok.avi,.,all,0,0,15,0.000,1.600,0.5\n")
    meta = {"format": "videoad-scores/1", "groups": [], "videos": [
        {"video": "ok.avi", "n_frames": 20, "fps": 10.0, "n_clips": 1},
        {"video": "short10.avi", "n_frames": 10, "fps": 10.0, "n_clips": 0}]}
    (folder / "run.json").write_text(json.dumps(meta))
    scores = read_scores(folder)
    assert [v.video for v in scores] == ["ok.avi"]
    assert scores.meta["left_out"] == [{"video": "short10.avi", "reason": "no clips"}]


# -- 3, 8, 9. a full or read-only disk ---------------------------------------------------------
@pytest.fixture
def tmpfs(tmp_path):
    """mount(options) -> a fresh small tmpfs folder; skips where mounting is not allowed."""
    mounted = []

    def mount(options: str) -> Path:
        target = tmp_path / f"disk{len(mounted)}"
        target.mkdir()
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(target)],
                              capture_output=True, text=True)
        if done.returncode != 0:
            pytest.skip(f"needs a small tmpfs, and `mount -t tmpfs` failed here (it needs root): "
                        f"{done.stderr.strip() or done.returncode}")
        mounted.append(target)
        return target

    yield mount
    for target in mounted:
        subprocess.run(["umount", "-l", str(target)], check=False)


def _fill(disk: Path, leave: int) -> None:
    """Take all but `leave` bytes of the disk's free space."""
    info = os.statvfs(disk)
    (disk / "filler").write_bytes(bytes(max(0, info.f_bavail * info.f_frsize - leave)))


def test_disk_full_mid_run_stops_cleanly_and_keeps_what_was_done(tmp_path, tmpfs):
    disk = tmpfs("size=256k")
    make_video(tmp_path / "first" / "a.avi", 32)
    make_video(tmp_path / "more" / "b.avi", 160)  # 10 clips: far more than the space left
    assert invoke("extract", tmp_path / "first", "-o", disk, *SMALL).exit_code == 0
    before = (disk / "a.avi.h5").read_bytes()
    _fill(disk, leave=8 * 1024)  # room for the manifest, not for b's features
    # a separate process: the crash used to come at interpreter exit (h5py, rc 139)
    videoad = [sys.executable, "-c", "from videoad.cli import main; main()"]
    full = subprocess.run([*videoad, "extract", str(tmp_path / "more"), "-o", str(disk), *SMALL],
                          capture_output=True, text=True, timeout=120)
    assert full.returncode == 1, (full.returncode, full.stderr)
    error = one_line_error(full.stderr)
    assert f"cannot write {disk / 'b.avi.h5'}: no space left on the device" in error
    assert "rerun the same command" in error
    assert "Can't decrement" not in full.stderr
    assert sorted(p.name for p in disk.iterdir()) == [".extract-workers.log", ".videoad-lock", "a.avi.h5", "filler",
                                                       "manifest.json"]  # no temporaries (the lock: an empty file)
    assert (disk / "a.avi.h5").read_bytes() == before
    assert FeatureStore(disk).load("a.avi").n_clips == 2


def test_a_full_disk_before_the_manifest_is_one_line_and_leaves_no_temporary(tmp_path, tmpfs):
    disk = tmpfs("size=64k")
    _fill(disk, leave=0)
    make_video(tmp_path / "v.avi", 20)
    res = invoke("extract", tmp_path / "v.avi", "-o", disk, *SMALL)
    assert res.exit_code == 1
    assert f"cannot write {disk / 'manifest.json'}: no space left on the device" in one_line_error(
        res.output)
    # nothing written but the empty file whose kernel lock says "an extraction runs here"
    assert sorted(p.name for p in disk.iterdir()) in (["filler"], [".videoad-lock", "filler"])
    assert all(p.stat().st_size == 0 for p in disk.iterdir() if p.name == ".videoad-lock")


def test_a_read_only_output_folder_is_one_line(tmp_path, tmpfs):
    disk = tmpfs("size=64k,ro")
    make_video(tmp_path / "v.avi", 20)
    for output in (disk, disk / "sub"):
        res = invoke("extract", tmp_path / "v.avi", "-o", output, *SMALL)
        assert res.exit_code == 1
        error = one_line_error(res.output)
        assert "the file system is read-only; choose a writable folder with -o" in error
        assert str(disk) in error


# -- 5. a damaged feature file -----------------------------------------------------------------
def test_a_corrupt_feature_file_is_named_and_left_out(tmp_path):
    store = tmp_path / "features"
    small_store(store)
    bad = store / "A" / "broken.mp4.h5"
    bad.write_bytes(os.urandom(200))
    with pytest.raises(StoreReadError, match=rf"^{bad}: not a readable feature file "
                                             r"\(.*signature.*\); rerun `videoad extract`"):
        FeatureStore(store).load("A/broken.mp4")
    res = invoke("detect", store, "--pooled", "--min-clips", "5", "--detector", "pca", "-o",
                 tmp_path / "s")
    assert res.exit_code == 0, res.output
    assert f"left out A/broken.mp4: {bad}: not a readable feature file" in res.output
    assert len(read_scores(tmp_path / "s")) == 3  # the three good videos are scored


def test_files_unlike_a_feature_files_make_are_named_and_left_out_and_the_rest_scored(tmp_path):
    """Each of these stopped a pooled run or was scored on the wrong frames: an HDF5 file of another
    program holding `features` and `frames` but none of a feature file's attributes failed the whole
    group at the fit ("attribute n_frames is missing"); a 1-d `features` ended in an IndexError
    traceback; `frames` of 20 rows for 30 clips was scored, 10 of its scores on no frame."""
    import h5py

    store = tmp_path / "features"
    small_store(store)
    attrs = {"n_frames": 500, "fps": 10.0, "clip_len": 16, "stride": 16, "backbone": "fake"}
    frames = np.stack([np.arange(30) * 16, np.arange(30) * 16 + 15], axis=1)
    rng = np.random.default_rng(0)
    for name, features, rows, with_attrs in (("other", rng.random((30, 12)), frames, False),
                                             ("flat", rng.random(30), frames, True),
                                             ("short", rng.random((30, 12)), frames[:20], True)):
        with h5py.File(store / "A" / f"{name}.mp4.h5", "w") as f:
            f["features"], f["frames"] = features.astype(np.float32), rows
            for k, v in (attrs if with_attrs else {}).items():
                f.attrs[k] = v
    res = invoke("detect", store, "--pooled", "--min-clips", "5", "--detector", "pca", "-o", tmp_path / "s")
    assert res.exit_code == 0, res.output
    assert "Traceback" not in res.output
    for name, why in (("other", "it lacks the attribute(s) n_frames, fps, clip_len, stride, backbone"),
                      ("flat", "features of shape (30,), not (clips, values)"),
                      ("short", "frames of shape (20, 2) for 30 clips, not (30, 2)")):
        assert f"left out A/{name}.mp4: {store / 'A' / name}.mp4.h5: not a readable feature file ({why}" in res.output
    scores = read_scores(tmp_path / "s")
    assert sorted(v.video for v in scores) == ["A/a1.mp4", "A/a2.mp4", "B/b1.mp4"]
    assert sorted(e["video"] for e in scores.left_out()) == ["A/flat.mp4", "A/other.mp4", "A/short.mp4"]


def test_a_store_of_only_unscorable_videos_is_one_line(tmp_path):
    store = tmp_path / "features"
    store.mkdir()
    (store / "x.mp4.h5").write_bytes(b"not hdf5")
    res = invoke("detect", store, "--pooled", "-o", tmp_path / "s")
    assert res.exit_code == 1
    assert "no video can be scored (x.mp4: " in one_line_error(res.output)


def test_a_category_that_cannot_be_fitted_fails_alone_and_the_others_are_scored(tmp_path):
    """Category C's clips are all alike (a camera on a still scene: motion features all zero):
    its fit fails with a line that says why, and A and B are scored all the same, their scores
    written (the whole run stopped with `X: all 12 columns are constant` before); exit status 1,
    as extraction's when a video failed. run.json and the report list it."""
    store = tmp_path / "features"
    small_store(store)
    from extract.store import write_video

    frames = np.stack([np.arange(30) * 16, np.arange(30) * 16 + 15], axis=1)
    write_video(store, "C/still.mp4", np.zeros((30, 12), np.float32), frames,
                {"n_frames": 480, "fps": 10.0, "clip_len": 16, "stride": 16, "backbone": "fake"})
    res = invoke("detect", store, "--per-category", "--min-clips", "5", "--detector", "pca", "-o", tmp_path / "s")
    assert res.exit_code == 1, res.output
    assert "failed C: the 30 clips of its 1 video(s) have the same features: every clip is alike" in res.output
    assert "2/3 groups scored" in res.output and "Traceback" not in res.output
    scores = read_scores(tmp_path / "s")
    assert sorted(v.video for v in scores) == ["A/a1.mp4", "A/a2.mp4", "B/b1.mp4"]
    (failed,) = [g for g in scores.groups if g["status"] == "failed"]
    assert failed["group"] == "C" and "same features" in failed["reason"]
    assert invoke("report", tmp_path / "s", "-o", tmp_path / "r", "--no-clips").exit_code == 0
    assert "Groups not scored" in (tmp_path / "r" / "index.html").read_text()


# -- 6, 7. frame folders with gaps, broken links -----------------------------------------------
def test_a_gap_in_the_frame_numbering_fails_and_names_the_missing_frames(tmp_path):
    folder = make_frames(tmp_path / "cam", 40)
    (folder / "020.jpg").unlink()
    with pytest.raises(DecodeError, match=r"^frames missing from the numbering: 020\.jpg "
                                          r"\(39 of 40 present\).*restore them"):
        open_image_folder(folder)
    res = invoke("extract", folder, "-o", tmp_path / "out", *SMALL)
    assert res.exit_code == 1 and "cam: frames missing from the numbering: 020.jpg" in res.output


def test_two_sequences_in_one_frame_folder_fail_and_name_the_frames_that_share_a_number(tmp_path):
    """`000.jpg ... 039.jpg` beside `000.png ... 039.png` (another export of the frames), or `1.jpg`
    beside `01.jpg`: name order interleaved them and the folder was extracted as one 80-frame video,
    each frame at the wrong position, without a word (the numbering check gave up on repeated
    numbers). Now it fails naming them; the folder beside it is extracted."""
    folder = make_frames(tmp_path / "in" / "cam", 40)
    make_frames(folder, 40, ext=".png")
    make_frames(tmp_path / "in" / "ok", 20)
    with pytest.raises(DecodeError, match=r"^frames share a number: 000\.jpg and 000\.png; 001\.jpg and "
                                          r"001\.png; 002\.jpg and 002\.png; and 37 more \(40 number"):
        open_image_folder(folder)
    res = invoke("extract", tmp_path / "in", "-o", tmp_path / "out", "--image-fps", "10", *SMALL)
    assert res.exit_code == 1 and "cam: frames share a number: 000.jpg and 000.png" in res.output, res.output
    assert "1 done" in res.output
    assert shared_numbers([Path(n) for n in ("1.jpg", "01.jpg", "2.jpg", "Frame3.jpg", "frame3.jpg")]) == [
        ["1.jpg", "01.jpg"], ["Frame3.jpg", "frame3.jpg"]]
    assert shared_numbers([Path(f"{i:03d}.jpg") for i in range(5)] + [Path("cover.jpg")]) == []


@pytest.mark.parametrize("names, missing", [
    (["000", "001", "003", "004"], ["002"]),
    (["1", "2", "3", "10"], ["4", "5", "6", "7", "8", "9"]),       # unpadded, natural order
    (["img_0005", "img_0010", "img_0020"], ["img_0015"]),         # every 5th frame kept
    (["a1", "b2", "c4"], []),                                    # not one numbered sequence
    (["000", "001", "002"], []),
])
def test_numbering_gaps(names, missing):
    assert numbering_gaps([Path(n + ".jpg") for n in names]) == [m + ".jpg" for m in missing]


def test_frames_named_by_capture_time_are_not_read_as_a_numbering_with_holes(tmp_path):
    """Frames named by their capture time (milliseconds, 100 ms apart with jitter; or a date and time
    down to the millisecond) are no frame counter: the gcd of their differences is 1, and the gap
    rule failed the folder naming thousands of "missing" frames (a date-time name made it list
    ~10^13 of them). They are read in name order, with a note; a counter's hole still fails."""
    import cv2

    from _extract_media import synthetic_frame

    rng = np.random.default_rng(0)
    stamps = 1733400000000 + np.cumsum(rng.integers(95, 106, 40))
    folder = tmp_path / "cam"
    folder.mkdir()
    for i, t in enumerate(stamps):
        cv2.imwrite(str(folder / f"{t}.jpg"), cv2.cvtColor(synthetic_frame(i), cv2.COLOR_RGB2BGR))
    paths = sorted(folder.iterdir())
    assert numbering_gaps(paths) == [] and "read as capture times" in numbering_note(paths)
    dated = [Path(f"cam_20241201{h:02d}3015{ms:03d}.jpg") for h in (8, 9, 10) for ms in (0, 400, 800)]
    started = time.perf_counter()
    assert numbering_gaps(dated) == [] and numbering_note(dated)
    assert time.perf_counter() - started < 5  # it listed every "missing" number between them before
    assert numbering_note([Path(f"{i:03d}.jpg") for i in (0, 1, 2, 4)]) is None  # a counter
    res = invoke("extract", folder, "-o", tmp_path / "out", *SMALL)
    assert res.exit_code == 0, res.output
    entry = json.loads((tmp_path / "out" / "manifest.json").read_text())["videos"]["cam"]
    assert entry["status"] == "done" and "read as capture times" in entry["note"], entry


def test_a_link_to_a_missing_video_is_reported(tmp_path):
    videos = tmp_path / "in"
    make_video(videos / "ok.avi", 20)
    (videos / "gone.mp4").symlink_to(tmp_path / "nowhere.mp4")
    (videos / "notes.txt").symlink_to(tmp_path / "nowhere.txt")  # not a video: ignored
    listing = find_sources(videos)
    assert [s.key for s in listing.sources] == ["ok.avi"]
    assert list(listing.errors) == ["gone.mp4"]
    assert listing.errors["gone.mp4"].startswith("broken symbolic link: its target ")
    res = invoke("extract", videos, "-o", tmp_path / "out", *SMALL)
    assert res.exit_code == 1, res.output
    assert "gone.mp4: broken symbolic link" in res.output and "1 done" in res.output


def test_extract_takes_the_files_a_shell_glob_names(tmp_path):
    """`videoad extract cam*/*.avi -o out` (what the shell hands over) failed as "Got unexpected extra
    argument", while `videoad run` took it. Several inputs are keyed under the folder holding them all, so
    two files of one name in two folders stay two videos; one named twice is one; the output may be none
    of them."""
    make_video(tmp_path / "cam1" / "v.avi", 20, fourcc="MJPG")
    make_video(tmp_path / "cam2" / "v.avi", 20, fourcc="MJPG")
    given = [tmp_path / "cam1" / "v.avi", tmp_path / "cam2" / "v.avi", tmp_path / "cam1" / "v.avi"]
    res = invoke("extract", *given, "-o", tmp_path / "out", *SMALL)
    assert res.exit_code == 0, res.output
    assert FeatureStore(tmp_path / "out").keys() == ["cam1/v.avi", "cam2/v.avi"] and "2 done" in res.output
    res = invoke("extract", tmp_path / "cam1", tmp_path / "cam2", "-o", tmp_path / "cam2", *SMALL)
    assert res.exit_code == 2 and "is INPUT itself" in one_line_error(res.output)
    # a broken link among them fails alone, named; an input that is not there at all is a usage error
    (tmp_path / "cam2" / "gone.avi").symlink_to(tmp_path / "nowhere.avi")
    res = invoke("extract", *given, tmp_path / "cam2" / "gone.avi", "-o", tmp_path / "out", *SMALL)
    assert res.exit_code == 1 and "cam2/gone.avi: broken symbolic link" in res.output and "2 skipped" in res.output
    res = invoke("extract", *given, tmp_path / "cam3.avi", "-o", tmp_path / "out", *SMALL)
    assert res.exit_code == 2 and "does not exist" in one_line_error(res.output)


def test_a_locked_folder_among_several_inputs_fails_alone(tmp_path, monkeypatch):
    """`videoad run videos/*` (or `extract`) with one folder this user may not read (mode 000, another
    user's 700): `run` crashed with a traceback (PermissionError from the check that an input is no
    videoad output), `extract` refused the whole batch (click: "is not readable"), and the listing
    stopped at it. It now fails alone, named, and the other inputs are extracted. Root ignores chmod:
    the refusals are the file system's (listing the folder, and reaching anything inside it)."""
    from extract.run import list_inputs
    from videoad.output_kinds import folder_kind

    make_video(tmp_path / "ok" / "v.avi", 20, fourcc="MJPG")
    locked = tmp_path / "locked"
    make_video(locked / "v.avi", 20, fourcc="MJPG")
    real_scandir, real_stat, real_access = os.scandir, os.stat, os.access

    def scandir(path="."):
        if os.fspath(path) == os.fspath(locked):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path)

    def stat(path, *args, **kwargs):
        if os.fspath(path).startswith(os.fspath(locked) + os.sep):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_stat(path, *args, **kwargs)

    def access(path, mode, *args, **kwargs):
        return False if os.fspath(path) == os.fspath(locked) else real_access(path, mode, *args, **kwargs)

    monkeypatch.setattr(os, "scandir", scandir)
    monkeypatch.setattr(os, "stat", stat)
    monkeypatch.setattr(os, "access", access)
    assert folder_kind(locked) is None
    root, listing = list_inputs([tmp_path / "ok", locked])
    assert [s.key for s in listing.sources] == ["ok/v.avi"]
    assert listing.errors == {"locked": "cannot list folder: Permission denied"}
    res = invoke("extract", tmp_path / "ok", locked, "-o", tmp_path / "out", *SMALL)
    assert res.exit_code == 1 and "locked: cannot list folder: Permission denied" in res.output, res.output
    assert FeatureStore(tmp_path / "out").keys() == ["ok/v.avi"]


def test_a_link_that_loops_is_named_and_the_other_videos_are_extracted(tmp_path):
    """`loop.mp4 -> loop.mp4` (or two links to each other) beside good videos: listing its folder
    raised ELOOP and the whole run stopped (`cannot list the input folder ...: Too many levels of
    symbolic links`), and a frame folder holding one failed whole. Now the link fails alone, and
    a frame folder's looping link is no frame."""
    videos = tmp_path / "in"
    make_video(videos / "ok.avi", 20)
    (videos / "loop.mp4").symlink_to("loop.mp4")
    (videos / "a.mkv").symlink_to("b.mkv")
    (videos / "b.mkv").symlink_to("a.mkv")
    make_frames(videos / "cam", 20)
    (videos / "cam" / "zz.jpg").symlink_to("zz.jpg")
    listing = find_sources(videos)
    assert [s.key for s in listing.sources] == ["cam", "ok.avi"]
    assert sorted(listing.errors) == ["a.mkv", "b.mkv", "loop.mp4"]
    assert listing.errors["loop.mp4"].startswith("broken symbolic link: it loops (its target loop.mp4 ")
    res = invoke("extract", videos, "-o", tmp_path / "out", "--image-fps", "10", *SMALL)
    assert res.exit_code == 1, res.output
    assert "loop.mp4: broken symbolic link: it loops" in res.output and "2 done" in res.output
    entries = json.loads((tmp_path / "out" / "manifest.json").read_text())["videos"]
    assert entries["cam"]["status"] == entries["ok.avi"]["status"] == "done"
    assert entries["cam"]["n_frames"] == 20


def test_16_bit_frames_whose_8_bit_reading_keeps_little_contrast_are_warned_of(tmp_path):
    """A thermal camera's frames: 14-bit counts (a warm walker 600 above the background at 1000)
    in 16-bit PNGs. Every frame is read as 8 bits (the high byte): 3-6, four grey levels, and the
    motion with them, without a word. Now the run warns; frames that fill the 16 bits (an 8-bit
    picture stored as 16) are read as before and not warned of."""
    for name, scale, offset in (("thermal", 4, 1000), ("full", 257, 0)):
        folder = tmp_path / "in" / name
        folder.mkdir(parents=True)
        for i in range(20):
            picture = np.full((48, 64), 40, np.uint16)
            picture[12:36, 10 + 2 * i: 14 + 2 * i] = 200
            cv2.imwrite(str(folder / f"{i:03d}.png"), picture * scale + offset)
    res = invoke("extract", tmp_path / "in", "-o", tmp_path / "out", "--image-fps", "10", *SMALL)
    assert res.exit_code == 0, res.output
    entries = json.loads((tmp_path / "out" / "manifest.json").read_text())["videos"]
    assert entries["thermal"]["status"] == entries["full"]["status"] == "done"
    assert entries["thermal"]["warning"].startswith(
        "the frames are 16-bit images whose values (1160-1800 in the first, 000.png) span only 4 grey level(s) "
        "read as 8 bits"), entries["thermal"]
    assert "thermal: the frames are 16-bit images" in res.output
    assert "16-bit" not in json.dumps(entries["full"])


def test_a_name_no_feature_file_can_take_fails_that_video_alone(tmp_path):
    """A backslash (a Windows archive unpacked here), a name over 255 bytes with `.h5`: each of those
    videos fails with its reason before any work, the others are extracted (one such name stopped the
    whole batch), and a 252-byte name is extracted. Bytes that are not UTF-8 (Latin-1 `caf\\xe9.avi`)
    name a feature file of the same bytes: extracted, its key the name read back."""
    import shutil

    videos = tmp_path / "in"
    make_video(videos / "good.avi", 20)
    longest = "x" * (252 - len(".avi")) + ".avi"
    names = ["Abuse\\Abuse001_x264.avi", os.fsdecode(b"caf\xe9.avi"), "y" * 249 + ".avi", longest]
    for name in names:
        shutil.copyfile(videos / "good.avi", videos / name)
    res = invoke("extract", videos, "-o", tmp_path / "out", *SMALL)
    assert res.exit_code == 1, res.output
    assert "3 done, 0 skipped (already complete), 2 failed" in res.output
    assert "its name cannot name a feature file (invalid store key" in res.output
    assert "its name is too long for a feature file (256 bytes with '.h5', 255 at most)" in res.output
    assert FeatureStore(tmp_path / "out").keys() == sorted(["good.avi", longest, names[1]])
    assert os.path.isfile(os.path.join(os.fsencode(tmp_path / "out"), b"caf\xe9.avi.h5"))
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["videos"][names[1]]["status"] == "done"  # a name that is not UTF-8 reads back as itself


# -- 10, 11. config types, a damaged model folder ----------------------------------------------
@pytest.mark.parametrize("text, message", [
    ("seed: [1, 2]", "seed must be a whole number (e.g. seed: 0), got [1, 2]"),
    ("min_clips: lots", "min_clips must be a whole number (e.g. min_clips: 65), got 'lots'"),
    ("n_jobs: true", "n_jobs must be a whole number (e.g. n_jobs: 1), got True"),
    ("alarm_level: high", "alarm_level must be a (finite) number"),
    ("smooth: 1e400", "smooth must be a (finite) number"),
    ("smooth: 1000000000", "smooth must be 0 (off) to 3600 seconds, got 1000000000"),
    ("mode: 3", "mode must be a name (e.g. mode: per-category), got 3"),
    ("params: [1]", "params must be a mapping"),
])
def test_config_values_of_the_wrong_type_name_the_file_and_key(tmp_path, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text + "\n")
    with pytest.raises(ValueError, match=rf"^{path}: ") as info:
        video.load_config(path)
    assert message in str(info.value)
    res = invoke("detect", tmp_path, "--config", path, "-o", tmp_path / "s")
    assert res.exit_code == 1 and message in one_line_error(res.output)


def test_a_damaged_preprocess_file_in_a_model_folder_is_named(tmp_path):
    store = tmp_path / "features"
    small_store(store)
    cfg = video.DetectConfig(mode="pooled", params=FAST_DUAD, min_clips=5)
    video.detect(store, cfg, save_models=tmp_path / "models")
    prep = tmp_path / "models" / "all.preprocess.npz"
    np.savez(prep, how="none")  # no scale array
    res = invoke("detect", store, "--model", tmp_path / "models", "-o", tmp_path / "s")
    assert res.exit_code == 1
    error = one_line_error(res.output)
    assert f"{prep}: not a readable feature-transform file (it lacks the array(s) ['scale'])" in error
    assert "refit the models" in error
    prep.write_text("garbage")
    assert "not an .npz archive" in one_line_error(
        invoke("detect", store, "--model", tmp_path / "models", "-o", tmp_path / "s").output)


def _damage(index: dict, how: str) -> object:
    """A models.json damaged one way (hand-edited, truncated by another tool)."""
    entry = index["groups"]["all"]
    return {"groups-a-list": {**index, "groups": [entry]},
            "no-config": {k: v for k, v in index.items() if k != "config"},
            "entry-a-string": {**index, "groups": {"all": "all.s0.pt"}},
            "no-models": {**index, "groups": {"all": {k: v for k, v in entry.items() if k != "models"}}},
            "threshold-text": {**index, "groups": {"all": {**entry, "threshold": "high"}}},
            "a-later-format": {**index, "format": "videoad-models/2", "version": "9.0"},  # read as ours before
            "an-array": [index]}[how]


@pytest.mark.parametrize("how, message", [
    ("groups-a-list", "no 'groups' object"), ("no-config", "no 'config' object"),
    ("entry-a-string", "group 'all' is a JSON str, not a model entry"),
    ("no-models", "group 'all' names no model files"), ("threshold-text", "group 'all' has no alarm line"),
    ("a-later-format", "model index format 'videoad-models/2', this videoad reads 'videoad-models/1' (written by "
                       "videoad 9.0)"),
    ("an-array", "not a model index (a JSON list, not an object)")])
def test_a_damaged_model_index_is_named_with_what_is_wrong(tmp_path, how, message):
    store = tmp_path / "features"
    small_store(store)
    video.detect(store, video.DetectConfig(mode="pooled", params=FAST_DUAD, min_clips=5), save_models=tmp_path / "m")
    index_path = tmp_path / "m" / "models.json"
    index_path.write_text(json.dumps(_damage(json.loads(index_path.read_text()), how)))
    for args in (("detect", store, "--model", tmp_path / "m", "-o", tmp_path / "s"),
                 ("cameras", store, "--model", tmp_path / "m")):
        res = invoke(*args)
        assert res.exit_code == 1
        error = one_line_error(res.output)
        assert f"{index_path}: " in error and message in error and "again" in error, error


def test_scoring_with_models_no_video_matches_says_why(tmp_path):
    """Per-camera models and footage of none of their cameras: the error names the videos and
    why (it said `no group could be scored ()`)."""
    from test_cameras import scene as camera_scene

    for i in range(3):
        fake_video(tmp_path / "hist", f"h{i}.mp4", 40, seed=i, attrs=camera_scene("road", i))
    fake_video(tmp_path / "new", "other.mp4", 40, seed=9, attrs=camera_scene("stripes", 9))
    cfg = video.DetectConfig(mode="per-camera", params=FAST_DUAD, min_clips=5)
    video.detect(tmp_path / "hist", cfg, save_models=tmp_path / "m")
    res = invoke("detect", tmp_path / "new", "--model", tmp_path / "m", "-o", tmp_path / "s")
    assert res.exit_code == 1
    error = one_line_error(res.output)
    assert "no video could be scored" in error and "other.mp4: its scene matches none of the models' cameras" in error, error


# -- 12. refused pickles -----------------------------------------------------------------------
class _Payload:
    def __reduce__(self):
        return (os.system, ("echo should never run",))


def test_a_refused_pickle_never_suggests_loading_it_unsafely(tmp_path):
    path = tmp_path / "weights.pt"
    torch.save({"conv1.weight": torch.ones(1), "x": _Payload()}, path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(WeightsError) as weights:
            load_state_dict(path)
        with pytest.raises(ValueError) as model:
            load_detector(path)
    for message in (str(weights.value), str(model.value)):
        assert message.startswith(f"{path}: ") and "\n" not in message
        assert "system" in message  # the refused object is named (posix.system / nt.system)
        assert "weights_only" not in message and "likely succeed" not in message
    assert "plain state dict" in str(weights.value)


# -- a kill partway, two runs at once ---------------------------------------------------------------
def test_detect_on_a_store_whose_extraction_did_not_finish_says_so(tmp_path, caplog):
    """Extraction killed after 3 of 8 videos: detect scored the 3, exit 0, no word."""
    from extract.manifest import Manifest

    for i in range(3):
        fake_video(tmp_path / "f", f"v{i}.avi", 40, seed=i)
    keys = [f"v{i}.avi" for i in range(8)]
    Manifest(tmp_path / "f", input_root="videos", settings={}, n_videos_total=8, keys=keys).save(force=True)
    scores = video.detect(tmp_path / "f", video.DetectConfig(mode="pooled", params=FAST_DUAD))
    (note,) = scores.meta["unfinished_stores"]
    assert "its extraction did not finish (3 of 8 videos have features" in note and note in caplog.text
    for i in range(3, 8):
        fake_video(tmp_path / "f", f"v{i}.avi", 40, seed=i)
    Manifest(tmp_path / "f", input_root="videos", settings={}, n_videos_total=8, keys=keys).finish()
    assert "unfinished_stores" not in video.detect(tmp_path / "f", video.DetectConfig(mode="pooled",
                                                                                      params=FAST_DUAD)).meta


def test_an_extraction_that_finishes_during_the_fit_is_still_named(tmp_path, caplog):
    """`videoad detect` started while `videoad extract` ran: it scored the 3 videos there were, the
    extraction finished during the fit, and the manifest read after it said complete (no word)."""
    from extract.manifest import Manifest
    from videoad.video.run import _run

    keys = [f"v{i}.avi" for i in range(8)]
    for i in range(3):
        fake_video(tmp_path / "f", keys[i], 40, seed=i)
    Manifest(tmp_path / "f", input_root="videos", settings={}, n_videos_total=8, keys=keys).save(force=True)

    def extraction_ends_meanwhile(plan, n_jobs):
        for i in range(3, 8):
            fake_video(tmp_path / "f", keys[i], 40, seed=i)
        Manifest(tmp_path / "f", input_root="videos", settings={}, n_videos_total=8, keys=keys).finish()
        return _run(plan, n_jobs)

    scores = video.detect(tmp_path / "f", video.DetectConfig(mode="pooled", params=FAST_DUAD),
                          executor=extraction_ends_meanwhile)
    assert len(scores.videos) == 3
    (note,) = scores.meta["unfinished_stores"]
    assert "its extraction did not finish (3 of 8 videos have features" in note and note in caplog.text


def test_a_scores_rewrite_that_stops_partway_is_refused_not_mixed(tmp_path, monkeypatch):
    """Killed between segments.csv and run.json: the next `report` read this run's segments beside
    the previous run's thresholds, cells and events."""
    import videoad.scores as scores_mod
    from videoad.events import find_events, write_events
    from videoad.scores import ScoreSet, ScoresError, VideoScores, write_scores

    starts = np.arange(10) * 4
    run = ScoreSet([VideoScores("v.avi", np.linspace(0, 1, 10), np.stack([starts, starts + 15], 1), 60, 10.0)], {})
    write_scores(tmp_path / "s", run)
    write_events(tmp_path / "s", find_events(run))
    real = scores_mod.write_atomic

    def dies_at_run_json(path, data):
        if path.name == "run.json":
            raise KeyboardInterrupt
        real(path, data)

    monkeypatch.setattr(scores_mod, "write_atomic", dies_at_run_json)
    with pytest.raises(KeyboardInterrupt):
        write_scores(tmp_path / "s", run)
    with pytest.raises(ScoresError, match="run.json is missing"):
        read_scores(tmp_path / "s")
    assert not (tmp_path / "s" / "events.csv").exists() and not (tmp_path / "s" / "events.json").exists()


def test_temporaries_of_killed_writes_go_and_those_of_a_running_writer_stay(tmp_path):
    """A kill mid-write left `.segments.csv.<pid>-<id>.tmp` (and a report's, a merge's) for ever;
    and a second run into the same store deleted the first's temporary before its rename."""
    from extract.manifest import merge_shards
    from extract.store import remove_stale_temporaries
    from videoad.report import build_report
    from videoad.scores import ScoreSet, VideoScores, write_scores

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (tmp_path / "s").mkdir()
        (tmp_path / "r").mkdir()
        stale = [tmp_path / "s" / f".segments.csv.{dead}-ab12cd34.tmp", tmp_path / "s" / f".cells.h5.{dead}-0.tmp",
                 tmp_path / "r" / f".index.html.{dead}-1.tmp", tmp_path / "r" / f".events.csv.{dead}-2.tmp",
                 tmp_path / f".manifest.json.{dead}-3.tmp"]
        running = tmp_path / "s" / f".run.json.{alive.pid}-ef56ab78.tmp"
        for p in stale + [running]:
            p.write_text("half")
        starts = np.arange(10) * 4
        run = ScoreSet([VideoScores("v.avi", np.linspace(0, 1, 10), np.stack([starts, starts + 15], 1), 60, 10.0)],
                       {})
        write_scores(tmp_path / "s", run)
        build_report(run, tmp_path / "r", clips=False)
        merge_shards(tmp_path)
        assert [p.name for p in stale if p.exists()] == [] and running.exists()
        alive.kill()
        alive.wait()
        remove_stale_temporaries([tmp_path / "s" / "run.json"])
        assert not running.exists()
    finally:
        alive.kill()


def test_a_second_writer_of_one_output_folder_is_refused_naming_the_first(tmp_path):
    """Two detects (two reports, two watches, two overlapping `videoad run`) into one folder wrote
    over each other in silence: one run's segments beside the other's run.json, clips renamed over
    each other's halves. The second is refused; a killed holder leaves nothing to clear."""
    from videoad.output_lock import FolderBusyError, output_lock

    holder = holding_folder(tmp_path / "out")
    try:
        with pytest.raises(FolderBusyError) as busy:
            with output_lock(tmp_path / "elsewhere", tmp_path / "out", command="videoad report"):
                pass
        assert f"{tmp_path / 'out'}: another videoad is writing this folder now (pid {holder.pid}, videoad " \
               "detect, since" in str(busy.value)
        with output_lock(tmp_path / "elsewhere", command="videoad report"):  # released with the refusal
            with output_lock(tmp_path / "elsewhere", command="videoad run"):  # this process again: re-entrant
                pass
    finally:
        holder.kill()
        holder.wait()
    with output_lock(tmp_path / "out", command="videoad detect"):  # the kill released it
        pass


@pytest.mark.parametrize("command", ["detect", "report", "plot", "run"])
def test_each_command_that_writes_a_folder_is_refused_while_another_writes_it(tmp_path, command):
    small_store(tmp_path / "f")
    assert invoke("detect", tmp_path / "f", "--pooled", "--detector", "pca", "-o", tmp_path / "s").exit_code == 0
    videos = make_video(tmp_path / "in" / "a.avi", 20)
    target = {"detect": tmp_path / "s2", "report": tmp_path / "r", "plot": tmp_path / "p",
              "run": tmp_path / "run" / "scores"}[command]
    args = {"detect": ["detect", tmp_path / "f", "--pooled", "-o", target],
            "report": ["report", tmp_path / "s", "-o", target, "--no-clips"],
            "plot": ["plot", tmp_path / "s", "-o", target],
            "run": ["run", videos, "-o", tmp_path / "run"]}[command]
    holder = holding_folder(target)
    try:
        res = invoke(*args)
    finally:
        holder.kill()
        holder.wait()
    assert res.exit_code == 1, res.output
    assert f"another videoad is writing this folder now (pid {holder.pid}, videoad detect" in one_line_error(res.output)
    assert not (target / "run.json").exists() and not (target / "index.html").exists()


def test_ctrl_c_in_a_command_is_a_stop_that_a_rerun_completes(tmp_path, monkeypatch):
    """detect, run and report printed Click's bare "Aborted!" and exited 1; extract said how to
    resume and exited 130."""
    small_store(tmp_path / "f")

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(video, "detect", interrupted)
    res = invoke("detect", tmp_path / "f", "-o", tmp_path / "s")
    assert res.exit_code == 130 and "interrupted: rerun the same command" in res.output, res.output
    assert "Aborted!" not in res.output


# -- hostile option values (a fuzzing review of every command's options) -----------------------------
@pytest.fixture(scope="module")
def store_and_scores(tmp_path_factory):
    root = tmp_path_factory.mktemp("fuzz")
    videos = small_store(root / "f")
    assert invoke("detect", root / "f", "--pooled", "--detector", "pca", "-o", root / "s").exit_code == 0
    write_labels(root / "gt.csv", videos)
    make_video(root / "v.avi", 20)
    (root / "npy").mkdir()
    np.save(root / "npy" / "x.npy", np.ones((4, 8), np.float32))
    return root


@pytest.mark.parametrize("args, named", [
    (["extract", "{v}", "-o", "{t}/x", "--fps", "1e6"], "--fps"),  # a run that never ended
    (["detect", "{f}", "-o", "", "--pooled"], "empty path"),  # wrote into the current folder
    (["run", "", "-o", "{t}/x"], "empty path"),
    (["run", "{v}", "--fit-on", "", "-o", "{t}/x"], "--fit-on"),
    (["detect", "{f}", "-o", "{t}/x", "--pooled", "--merge-gap", "nan"], "--merge-gap"),  # failed after the fit
    (["report", "{s}", "-o", "{t}/x", "--pad", "inf"], "--pad"),  # a traceback
    (["cameras", "{f}", "--threshold", "nan"], "--threshold"),  # every video a camera of its own
    (["watch", "--print-config", "--keep-days", "1e308"], "--keep-days"),  # overflowed the clock
    (["import", "npy", "{t}/npy", "-o", "{t}/x", "--fps", "nan"], "--fps"),  # stored, then no seconds
    (["bench", "images", "--threads", "-1"], "--threads"),  # a traceback from torch
])
def test_hostile_option_values_are_refused_naming_the_option(store_and_scores, args, named):
    t = store_and_scores
    res = invoke(*[a.format(t=t, v=t / "v.avi", f=t / "f", s=t / "s") for a in args])
    assert res.exit_code == 2 and named in res.output and "Traceback" not in res.output, res.output
    assert not (t / "x").exists()


def test_files_that_cannot_be_written_or_read_as_asked_are_named(store_and_scores, tmp_path):
    """evaluate --json into no folder: a traceback after the work; a video given as annotations:
    "'utf-8' codec can't decode byte 0xb8", no file named."""
    t = store_and_scores
    res = invoke("evaluate", t / "s", "--annotations", t / "gt.csv", "--json", tmp_path / "no" / "e.json")
    assert res.exit_code == 1 and "pooled" in res.output
    assert f"--json {tmp_path / 'no' / 'e.json'}: not written" in one_line_error(res.output)
    res = invoke("evaluate", t / "s", "--annotations", t / "v.avi")
    assert res.exit_code == 1
    assert f"{t / 'v.avi'}: not an annotation file: byte" in one_line_error(res.output)


def test_evaluate_on_a_full_disk_leaves_no_half_json(store_and_scores, tmpfs):
    """evaluate said "not written" and left the file it had begun under the name (a reader's
    JSON error, or half the figures), the previous one gone."""
    t = store_and_scores
    disk = tmpfs("size=64k")
    _fill(disk, leave=0)
    res = invoke("evaluate", t / "s", "--annotations", t / "gt.csv", "--json", disk / "e.json")
    assert res.exit_code == 1 and "pooled" in res.output
    assert f"--json {disk / 'e.json'}: not written (No space left on device)" in one_line_error(res.output)
    assert sorted(p.name for p in disk.iterdir()) == ["filler"]  # no e.json, no temporary


def test_an_empty_watch_source_is_refused_not_watched_for_ever():
    from videoad.live.model import WatchError
    from videoad.live.sources import make_source

    with pytest.raises(WatchError, match="empty path"):
        make_source("")


def test_a_nas_or_archivers_own_folders_are_not_read_as_footage(tmp_path):
    """A Synology share keeps `@eaDir/<video>/SYNOPHOTO_THUMB_*.jpg` beside each video: every such
    folder was read as a one-frame video (and its recycle bin's deleted footage as the camera's);
    a zip unpacked from a Mac keeps `__MACOSX/`. The walk now skips them as it skips hidden folders."""
    make_video(tmp_path / "cam1.mp4", 24)
    make_frames(tmp_path / "seq", 8)
    for junk in ("@eaDir/cam1.mp4", "#recycle", "__MACOSX", "$RECYCLE.BIN"):
        make_frames(tmp_path / junk, 3)
    make_video(tmp_path / "#recycle" / "deleted.mp4", 24)
    listing = find_sources(tmp_path, recursive=True)
    assert sorted((s.key, s.kind) for s in listing.sources) == [("cam1.mp4", "video"), ("seq", "images")]
    assert not listing.errors
    # a name of the kind on a video is no such folder: `#recycle.mp4` stays a video
    make_video(tmp_path / "sub" / "#recycle.mp4", 24)
    assert "sub/#recycle.mp4" in {s.key for s in find_sources(tmp_path, recursive=True).sources}


def test_ucsd_ground_truth_masks_beside_their_clips_are_not_footage(tmp_path):
    """The UCSD Anomaly Dataset keeps `Test001_gt/` (pixel masks, .bmp) beside `Test001/` (frames):
    `videoad extract UCSDped2/Test` scored every mask folder as one more video. They are left out
    and said; a `_gt` folder with no clip of its name beside it is still footage."""
    from extract.run import ExtractOptions, extract_videos
    from extract.backbones.motion import MotionBackbone

    test = tmp_path / "Test"
    for clip in ("Test001", "Test002"):
        make_frames(test / clip, 20, ext=".tif", grey=True)
        make_frames(test / f"{clip}_gt", 20, ext=".bmp", grey=True)
    make_frames(test / "gate_gt", 20)  # a camera someone named so: no `gate` beside it
    listing = find_sources(test)
    assert [s.key for s in listing.sources] == ["Test001", "Test002", "gate_gt"]
    assert listing.notes == [f"left out Test00{i}_gt: the ground-truth masks of Test00{i} beside it (the UCSD "
                             "layout), not footage" for i in (1, 2)]
    summary = extract_videos(test, tmp_path / "f", MotionBackbone(size="64x48", grid=2),
                             ExtractOptions(progress=False, stride=16, max_fps=0, image_fps=10))
    assert sorted(r.key for r in summary.done) == ["Test001", "Test002", "gate_gt"]
    assert "left out Test001_gt: the ground-truth masks" in summary.report()


def test_a_name_holding_terminal_escapes_is_shown_escaped_never_run_by_the_terminal(tmp_path):
    """A file name is anyone's text: one holding ESC sequences (`\\x1b]0;...\\x07` retitles the window,
    `\\x1b[2K\\x1b[1A` erases the line before and writes over it, `\\x9b` is ESC's one-byte form) went
    raw to the console in the event line and in the warnings, and the terminal ran them. Written
    as `\\x1b`, the bytes of the name, on stdout and stderr alike (the terminal's or a log's)."""
    from videoad.scores import ScoreSet, VideoScores, write_scores

    name = "cam\x1b]0;owned\x07/x\x1b[2K\x1b[1A\x08\x9bok.avi"
    scores = np.full(30, 0.1)
    scores[10:14] = 2.0
    starts = np.arange(30) * 8
    v = VideoScores(name, scores, np.stack([starts, starts + 15], 1), 260, 10.0, "cam", "all", "gone.avi", 1.0)
    write_scores(tmp_path / "s", ScoreSet([v], {"config": {"detector": "duad"}}))
    import pty

    terminal, tty = pty.openpty()  # stdout a terminal, as a user's (click keeps ESC sequences there)
    try:
        try:
            res = subprocess.run([sys.executable, "-m", "videoad", "report", tmp_path / "s", "-o", tmp_path / "r"],
                                 cwd=Path(__file__).resolve().parents[1], stdout=tty, stderr=subprocess.PIPE,
                                 timeout=300, env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
        finally:
            os.close(tty)
        out = b""
        while True:
            try:
                chunk = os.read(terminal, 65536)
            except OSError:  # the other end closed: all is read
                break
            if not chunk:
                break
            out += chunk
    finally:
        os.close(terminal)
    out, err = out.decode(), res.stderr.decode()
    assert res.returncode == 0, err
    shown = "cam\\x1b]0;owned\\x07/x\\x1b[2K\\x1b[1A\\x08\\x9bok.avi"
    assert shown in out and shown in err  # the event's line, and the warning that its source is not there
    assert not any(c in out + err for c in "\x1b\x07\x08\x9b")


def test_the_console_keeps_colour_sequences_and_escapes_every_other_control():
    """The console stream escaped every ESC, so the colours other libraries give their lines on a
    terminal (Ray prefixes its workers' output so) came out as `\\x1b[36m` text. A colour sequence
    moves nothing and names nothing; a window title or a cursor move around it is still escaped."""
    import io

    from videoad.names import shown_on_console

    sink = io.StringIO()
    (out,) = shown_on_console(sink)
    out.write("\x1b[36m(worker pid=7)\x1b[0m cam\x1b]0;owned\x07\x1b[1A\x1b[2;5mx\x9b.avi\n")
    assert sink.getvalue() == "\x1b[36m(worker pid=7)\x1b[0m cam\\x1b]0;owned\\x07\\x1b[1A\x1b[2;5mx\\x9b.avi\n"


def test_a_name_holding_a_newline_prints_it_escaped_never_as_a_line_of_its_own(tmp_path):
    """Linux allows a line feed in a file name: `extract`'s summary printed `bad\\nFAKE 3 done, ...` as
    two lines, the second one forged, reading as the command's own. Written `\\n` (as the console
    writes ESC `\\x1b`), the name stays on its entry's line."""
    videos = tmp_path / "v"
    make_video(videos / "ok\n9 done, 0 skipped (already complete), 0 failed.avi", 20)
    (videos / "bad\nFAKE\r3 done.avi").write_bytes(b"not a video" * 100)
    res = subprocess.run([sys.executable, "-m", "videoad", "extract", videos, "-o", tmp_path / "f", "--backbone",
                          "motion"], cwd=Path(__file__).resolve().parents[1], capture_output=True, timeout=300,
                         env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    err = res.stderr.decode()
    assert res.returncode == 1, err
    lines = err.splitlines()
    assert lines[0].startswith("1 done, 0 skipped (already complete), 1 failed;"), err
    assert any(x.startswith("  bad\\nFAKE\\r3 done.avi: no decoder could read the file") for x in lines), err
    assert any(x.startswith("  ok\\n9 done, 0 skipped (already complete), 0 failed.avi: no full clip") for x in lines), err
    assert not any(x.startswith(("FAKE", "3 done", "9 done")) for x in lines) and "\r" not in err, err


def test_an_output_folder_holding_a_newline_stays_on_the_summarys_manifest_line(tmp_path):
    """`extract`'s summary ends on `manifest: OUT/...`: an output folder named `f\nFAKE ...` printed its
    line feed as it is, the rest of the name a line of its own, forged."""
    videos = tmp_path / "v"
    make_video(videos / "a.avi", 40)
    out = tmp_path / "f\nFAKE 9 done"
    res = invoke("extract", videos, "-o", out, "--backbone", "motion")
    assert res.exit_code == 0, res.output
    assert any(x.startswith("manifest: ") and "f\\nFAKE 9 done" in x for x in res.output.splitlines()), res.output
    assert not any(x.startswith("FAKE") for x in res.output.splitlines()), res.output


def test_a_name_holding_a_newline_stays_on_the_error_line(tmp_path):
    """An error naming a file (`click.ClickException(str(exc))` in every command) printed a line feed in
    the name as it is: a folder `in\nError: FAKE` wrote a second `Error:` line, forged."""
    folder = tmp_path / "in\nError: FAKE"
    folder.mkdir()
    for args in (["detect", folder, "-o", tmp_path / "s"], ["run", folder, "-o", tmp_path / "r"]):
        res = invoke(*args)
        assert res.exit_code == 1, res.output
        assert "in\\nError: FAKE" in one_line_error(res.output), res.output


def test_a_name_holding_a_newline_stays_on_its_line_in_log_lines_and_the_summary(tmp_path):
    """`report`'s warning (the name an argument of the log line) and its summary line (`strongest: E001
    cam` then `FAKE ...` on a line of its own) printed a line feed in a video's name as it is."""
    from videoad.scores import ScoreSet, VideoScores, write_scores

    scores = np.full(30, 0.1)
    scores[10:14] = 2.0
    starts = np.arange(30) * 8
    v = VideoScores("cam\nFAKE 9 event(s)/x\r.avi", scores, np.stack([starts, starts + 15], 1), 260, 10.0, "cam",
                    "all", "gone.avi", 1.0)
    write_scores(tmp_path / "s", ScoreSet([v], {"config": {"detector": "duad"}}))
    res = subprocess.run([sys.executable, "-m", "videoad", "report", tmp_path / "s", "-o", tmp_path / "r"],
                         cwd=Path(__file__).resolve().parents[1], capture_output=True, timeout=300,
                         env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    out, err = res.stdout.decode(), res.stderr.decode()
    assert res.returncode == 0, err
    assert "(first: cam\\nFAKE 9 event(s)/x\\r.avi: source not readable" in err.splitlines()[0], err
    assert "strongest: E001 cam\\nFAKE 9 event(s)/x\\r.avi 8.0 s-12.0 s" in out.splitlines()[0], out
    assert not any(x.startswith("FAKE") for x in (out + err).splitlines()) and "\r" not in out + err, out + err


def _console_log_lines(write) -> list[str]:
    """The lines `write(logger)` makes through the console's log format (`OneLineNames`)."""
    import io
    import logging

    from videoad.names import OneLineNames

    sink = io.StringIO()
    handler = logging.StreamHandler(sink)
    handler.setFormatter(OneLineNames())
    logger = logging.getLogger("videoad.test_one_line")
    logger.addHandler(handler)
    try:
        write(logger)
    finally:
        logger.removeHandler(handler)
    return sink.getvalue().splitlines()


def test_the_console_log_line_keeps_a_names_line_feed_on_it_and_a_tracebacks_lines_apart():
    """A path given to a log line (`removing %s`) is escaped as a name is; the message's own lines, an
    exception's traceback, stay lines."""
    def write(logger):
        logger.warning("removing %s (%s, %d)", Path("x\nWARNING videoad: done.avi"), "a\rb", 3)
        try:
            raise ValueError("bad")
        except ValueError:
            logger.exception("failed:\n%s", "c\nd")

    lines = _console_log_lines(write)
    assert lines[0] == "WARNING videoad.test_one_line: removing x\\nWARNING videoad: done.avi (a\\rb, 3)"
    assert lines[1:4] == ["ERROR videoad.test_one_line: failed:", "c\\nd", "Traceback (most recent call last):"]


def test_a_log_lines_error_or_quoted_name_is_on_its_line_and_escaped_once():
    """An exception given to a log line (`timeline drawn without ground truth: %s`, an annotation
    file's error naming its file) printed a line feed in its message as it is, a line of its own;
    and a name quoted with `%r` (`group %r: ...`, `video %r`), already `\\n` in its repr, was escaped
    again: `'cam\\\\n.avi'`, naming no file there is."""
    from videoad.datasets.errors import AnnotationError

    def write(logger):
        logger.warning("drawn without: %s", AnnotationError("ann\nWARNING videoad: FAKE.txt: video 'a.avi'"))
        logger.warning("group %r: %s video(s), %-6s|", "cam\nx", 3, "a\nb")

    assert _console_log_lines(write) == [
        "WARNING videoad.test_one_line: drawn without: ann\\nWARNING videoad: FAKE.txt: video 'a.avi'",
        "WARNING videoad.test_one_line: group 'cam\\nx': 3 video(s), a\\nb  |"]


def test_a_log_lines_mapping_or_objects_name_is_on_its_line_and_its_numbers_still_format():
    """Only a text, path or exception argument was escaped: a name given in a mapping
    (`log.info("%(video)s ...", {...})`) or inside an object whose `str` holds it printed its line feed
    as it is, a forged line of its own. Every argument is now, and `%d` / `%.2f` still format a
    number that `numbers` does not count (numpy's bool, a 0-d tensor)."""
    class Named:
        def __str__(self):
            return "cam\nWARNING videoad: FAKE.avi"

    def write(logger):
        logger.warning("%(video)s: %(n)d clip(s)", {"video": "a\nWARNING videoad: FAKE", "n": 3})
        logger.warning("source %s; %d %.2f %x", Named(), np.bool_(True), torch.tensor(1.5), np.int64(255))

    assert _console_log_lines(write) == [
        "WARNING videoad.test_one_line: a\\nWARNING videoad: FAKE: 3 clip(s)",
        "WARNING videoad.test_one_line: source cam\\nWARNING videoad: FAKE.avi; 1 1.50 ff"]


def test_a_name_holding_escapes_or_a_bidi_override_is_shown_as_its_bytes_on_a_pipe_too(tmp_path):
    """On a pipe or a file Click strips an ESC sequence from the lines it writes: `extract`'s summary
    named `bad\\x1b[2J\\x1b[1Ax.avi` as `badx.avi`, a file that is not there, and a bidi override
    (U+202E) went as it is, showing the rest of the line reversed where a terminal orders bidi text.
    `one_line` writes them as the console's stream does, `\\x1b`, `\\u202e`."""
    videos = tmp_path / "v"
    videos.mkdir()
    (videos / "bad\x1b[2J\x1b[1Ax.avi").write_bytes(b"not a video" * 100)
    (videos / "cam\u202eiva.mp4").write_bytes(b"not a video" * 100)
    res = invoke("extract", videos, "-o", tmp_path / "f", "--backbone", "motion")
    assert res.exit_code == 1, res.output
    lines = res.output.splitlines()
    assert any(x.startswith("  bad\\x1b[2J\\x1b[1Ax.avi: no decoder could read") for x in lines), res.output
    assert any(x.startswith("  cam\\u202eiva.mp4: no decoder could read") for x in lines), res.output
    assert not any(c in res.output for c in "\x1b\u202e"), res.output


def test_a_text_file_given_as_footage_is_refused_not_drawn_as_frames(tmp_path):
    """FFmpeg opens a large text file as a "video" of its characters drawn (its tty demuxer): PyAV
    refused nothing, then OpenCV read it, and `videoad extract feats.txt` stored 488 clips of a
    Sultani feature file; `plot` drew such a file as the peak-frame picture of scores that named it.
    Extraction now fails the file, naming the reason, and the footage reader refuses it."""
    from videoad.footage import Footage, FootageError

    text = tmp_path / "Explosion008_x264.txt"  # Sultani's layout: 32 rows of 4,096 values
    np.savetxt(text, np.random.default_rng(0).random((32, 4096)), fmt="%.6f")
    result = CliRunner().invoke(cli, ["extract", str(text), "-o", str(tmp_path / "store")])
    assert result.exit_code != 0 and "0 done" in result.output and "1 failed" in result.output
    assert "Explosion008_x264.txt: a text file, not a video" in " ".join(result.output.split())
    assert not list((tmp_path / "store").glob("*.h5"))
    with pytest.raises(FootageError, match="a text file, not a video"):
        Footage(text)
