"""Frame sources: the three decoders, counting, fallback, bad files, image folders, listing."""
from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from _extract_media import (CODE_PERIOD, damage, damage_packets, decoded_code, make_frames, make_h264,
                            make_raw_stream, make_size_change, make_two_cameras, make_unknown_codec, make_vfr_h264, make_video, rotate_mp4, shared, synthetic_frame,
                            truncate)
from extract.decode import (DecodeError, installed_decoders, open_image_folder, open_video,
                            truncation)
from extract.sources import find_sources, image_files, select_shard

DECODERS = ["decord", "pyav", "opencv"]


def decode_all(path, decoders=tuple(DECODERS)):
    stream = open_video(path, decoders)
    frames = list(stream.frames)
    return stream, frames


@pytest.mark.parametrize("decoder", DECODERS)
@pytest.mark.parametrize("kind", ["mp4v", "MJPG", "h264"])
def test_each_decoder_reads_every_frame_in_order(tmp_path, decoder, kind):
    path = (make_h264(tmp_path / "v.mp4", 40) if kind == "h264"
            else make_video(tmp_path / f"v.{'avi' if kind == 'MJPG' else 'mp4'}", 40, fourcc=kind))
    stream, frames = decode_all(path, (decoder,))
    assert stream.backend == decoder
    assert stream.count == 40 and len(frames) == 40
    assert stream.fps == pytest.approx(25.0)
    assert frames[0].shape == (48, 64, 3) and frames[0].dtype == np.uint8
    assert [decoded_code(f) for f in frames] == [i % CODE_PERIOD for i in range(40)]


def test_decoders_agree_bit_for_bit(tmp_path):
    path = make_h264(tmp_path / "v.mp4", 24)
    reference = np.stack(decode_all(path, ("decord",))[1])
    for decoder in ("pyav", "opencv"):
        np.testing.assert_array_equal(np.stack(decode_all(path, (decoder,))[1]), reference)


def test_frames_come_out_rgb(tmp_path):
    path = tmp_path / "red.avi"
    writer = cv2.VideoWriter(os.fspath(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (32, 32))
    for _ in range(3):
        writer.write(np.dstack([np.zeros((32, 32), np.uint8)] * 2 + [np.full((32, 32), 255, np.uint8)]))  # BGR red
    writer.release()
    for decoder in DECODERS:
        frame = decode_all(path, (decoder,))[1][0]
        assert frame[..., 0].mean() > 200 and frame[..., 2].mean() < 50, decoder


def _threads() -> int:
    return int(next(line for line in open("/proc/self/status") if line.startswith("Threads:")).split()[1])


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="counts threads through Linux's /proc")
def test_opencv_decodes_on_one_thread_like_the_other_decoders(tmp_path):
    """Each decode worker is one decoding thread: OpenCV's FFmpeg capture would start one per
    core (up to 16), so that 14 workers on a 16-core machine ran some 200 (docs/extract.md)."""
    path = make_h264(tmp_path / "v.mp4", 40, width=320, height=240)
    before = _threads()
    stream = open_video(path, ("opencv",))
    next(iter(stream.frames))
    during = _threads()
    rest = list(stream.frames)
    assert during - before <= 1 and len(rest) == 39
    if (os.cpu_count() or 1) > 1:  # what OpenCV does unasked, where there are cores to show it
        capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
        capture.read()
        assert _threads() - before > 1
        capture.release()


def test_frame_count_is_counted_not_taken_from_the_container():
    # tree.avi claims 444 frames; 68 decode (shared/data/README.md)
    stream, frames = decode_all(shared("videos", "tree.avi"), ("pyav",))
    assert stream.container_frames == 444
    assert stream.count == len(frames) == 68
    for decoder in ("decord", "opencv"):
        assert decode_all(shared("videos", "tree.avi"), (decoder,))[0].count == 68


def test_shared_h264_video_decodes_to_its_known_length():
    stream, frames = decode_all(shared("videos", "bikes.mp4"))  # vtest.avi: see test_extract_run
    assert stream.count == 250 and frames[0].shape == (272, 640, 3)


def test_decoders_whose_library_is_missing_are_dropped_up_front(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "decord" else real(name, *a))
    assert installed_decoders(("pyav", "decord", "opencv", "pkg:custom")) == (
        "pyav", "opencv", "pkg:custom")


def test_falls_back_to_the_next_decoder_and_says_why(tmp_path):
    path = make_video(tmp_path / "v.mp4", 20)
    stream, frames = decode_all(path, ("_extract_media:refuse_open", "pyav"))
    assert stream.backend == "pyav" and len(frames) == 20
    assert "refused on purpose" in stream.open_errors["_extract_media:refuse_open"]


def test_unreadable_files_fail_with_every_decoders_reason(tmp_path):
    path = tmp_path / "text.mp4"
    path.write_bytes(b"not a video\n" * 20)
    with pytest.raises(DecodeError) as info:
        open_video(path)
    message = str(info.value)
    assert message.startswith("no decoder could read the file")
    assert all(f"{decoder}:" in message for decoder in DECODERS), message


def _mux_silence(container, codec: str, samples: int, dtype, layout: str) -> None:
    """Ten frames of mono silence in a new audio stream of `container` (PyAV, open for writing)."""
    import av

    stream = container.add_stream(codec, rate=44100)
    for _ in range(10):
        frame = av.AudioFrame.from_ndarray(np.zeros((1, samples), dtype), format=layout, layout="mono")
        frame.sample_rate = 44100
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)


def test_an_empty_file_and_a_file_without_video_say_so(tmp_path):
    import av

    (tmp_path / "zero.mp4").write_bytes(b"")
    with pytest.raises(DecodeError, match=r"^the file is empty \(0 bytes\)"):
        open_video(tmp_path / "zero.mp4")
    sound = tmp_path / "sound.mp4"
    with av.open(str(sound), "w") as container:
        _mux_silence(container, "aac", 1024, np.float32, "fltp")
    with pytest.raises(DecodeError, match=r"^the file holds no video stream, only audio \(pyav: "):
        open_video(sound)


def test_a_file_this_user_may_not_read_says_so(tmp_path, monkeypatch):
    """A video copied with mode 000 (or another user's 600): it failed as "no decoder could read the
    file (pyav: PermissionError ...; decord: RuntimeError ...; opencv: ...)". The tests run as root,
    whom chmod does not stop: the refusal is the file system's open."""
    import builtins

    video = make_video(tmp_path / "locked.mp4", 4)
    real_open = builtins.open

    def refusing(file, *args, **kwargs):
        if os.fspath(file) == os.fspath(video):
            raise PermissionError(13, "Permission denied", os.fspath(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", refusing)
    with pytest.raises(DecodeError, match=r"^cannot read the file: Permission denied \(its permissions do not "):
        open_video(video)


@pytest.mark.parametrize("name, fourcc, what", [
    ("v.mp4", "mp4v", "its 'mdat' box"),
    ("v.avi", "mp4v", "its RIFF header"),  # PyAV read 18 of 48 frames of this one, no error
    ("v.avi", "MJPG", "its RIFF header"),
])
def test_a_truncated_file_fails_before_any_decoder_reads_it(tmp_path, name, fourcc, what):
    whole = make_video(tmp_path / name, 48, fourcc=fourcc)
    assert truncation(whole) is None
    cut = truncate(whole, tmp_path / f"cut{whole.suffix}")
    size = cut.stat().st_size
    with pytest.raises(DecodeError, match=rf"^the file is truncated: {what} needs [\d,]+ bytes, "
                                          rf"the file has {size:,} .*copy it again"):
        open_video(cut)


def test_a_truncated_matroska_file_is_caught_too(tmp_path):
    import av

    whole = tmp_path / "v.mkv"
    with av.open(str(whole), "w") as container:
        stream = container.add_stream("mpeg4", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(30):
            for packet in stream.encode(av.VideoFrame.from_ndarray(synthetic_frame(i), format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    assert truncation(whole) is None and open_video(whole).container_frames != 0
    assert "Matroska segment needs" in truncation(truncate(whole, tmp_path / "cut.mkv"))


def test_refused_frames_are_filled_in_where_they_were_and_every_other_frame_keeps_its_place(tmp_path):
    """The packets of frames 12 (a keyframe: x264 at g=12 with B-frames) and 80-82 refused by the
    decoder: the keyframe's loss also costs, without an error, the frames that needed it up to the
    next keyframe, and frames around it come out late; every lost frame is filled in with the one
    before, at its own position, and every other frame shows its own index (the whole video failed
    before, at frame 12)."""
    path = damage_packets(make_h264(tmp_path / "v.mp4", 200, width=160, height=120), tmp_path / "damaged.mp4",
                          [12, 80, 81, 82])
    stream, frames = decode_all(path, ("pyav",))
    assert stream.count == len(frames) == 200
    assert stream.reader.damaged == list(range(12, 22)) + [80, 81, 82]
    assert all(np.array_equal(frames[i], frames[i - 1]) for i in stream.reader.damaged)
    assert all(decoded_code(frames[i]) == i % CODE_PERIOD for i in range(200) if i not in stream.reader.damaged)
    assert stream.damage_note().startswith("13 frame(s) could not be decoded (damaged data at frames 12-21, 80-82; "
                                           "InvalidDataError: Invalid data found when processing input)")
    _, first = decode_all(damage_packets(make_h264(tmp_path / "w.mp4", 40), tmp_path / "first.mp4", [0]), ("pyav",))
    assert len(first) == 40 and [decoded_code(f) for f in first[12:]] == [i % CODE_PERIOD for i in range(12, 40)]


def test_frames_held_after_damage_are_held_as_decoded_not_as_rgb_pictures(tmp_path):
    """The frames decoded after damage wait (REPAIR_WINDOW of them) to be put in order: they were
    held as RGB pictures, stretched to square pixels (32 at 4K: about 800 MB per worker). Now as the
    decoder gave them (4:2:0: half the bytes, at the stored size), made RGB as they go out; the
    repaired frames are the same."""
    from fractions import Fraction

    import av

    from extract.decode import REPAIR_WINDOW

    src = make_h264(tmp_path / "v.mp4", 120, width=160, height=120, aspect=Fraction(4, 3))
    stream = open_video(damage_packets(src, tmp_path / "damaged.mp4", [12, 80, 81]), ("pyav",))
    frames, held = [], []
    for frame in stream.frames:
        frames.append(frame)
        held.append(list(stream.reader.held))
    assert max(len(h) for h in held) >= REPAIR_WINDOW and not held[-1]  # more where damage comes again
    pictures = [image for h in held for _, image in h]
    assert all(isinstance(p, av.VideoFrame) and (p.width, p.height, p.format.name) == (160, 120, "yuv420p")
               for p in pictures)
    rgb = 120 * 213 * 3  # what goes out: stretched to square pixels, three bytes a pixel
    assert {f.shape for f in frames} == {(120, 213, 3)}
    # 4:2:0 at the stored size: 1.5 bytes a stored pixel (the decoder pads rows: 2.4 at this width, 1.5 at 4K)
    assert max(sum(plane.buffer_size for plane in p.planes) for p in pictures) <= 0.65 * rgb
    assert stream.reader.damaged == list(range(12, 22)) + [80, 81, 82] and len(frames) == 120
    assert all(decoded_code(frames[i]) == i % CODE_PERIOD for i in range(120) if i not in stream.reader.damaged)
    assert all(np.array_equal(frames[i], frames[i - 1]) for i in stream.reader.damaged)


def test_random_bytes_over_a_recording_cost_only_the_frames_they_hit(tmp_path):
    """Random bytes over two spots of an H.264 MP4 (a recorder's write error): the video is read to
    its end with every frame in its place after the damage."""
    path = damage(make_h264(tmp_path / "v.mp4", 200, width=160, height=120), tmp_path / "damaged.mp4")
    stream, frames = decode_all(path, ("pyav",))
    filled = stream.reader.damaged
    assert stream.count == len(frames) == 200 and 0 < len(filled) < 60
    assert [decoded_code(f) for f in frames[-40:]] == [i % CODE_PERIOD for i in range(160, 200)]


def test_damage_that_costs_the_container_its_packets_is_read_past_and_said(tmp_path):
    """A quarter of an MJPEG AVI zeroed, chunk headers with it: the demuxer skips what it cannot
    find (those frames are gone, later ones move up: the container's count tells, see
    test_extract_run) and the decoder refuses one packet; the end of the file is still read."""
    path = make_video(tmp_path / "v.avi", 60, fourcc="MJPG")
    data = bytearray(path.read_bytes())
    third = len(data) // 3
    data[third: third + len(data) // 4] = bytes(len(data) // 4)  # same size: not truncated
    path.write_bytes(data)
    stream, frames = decode_all(path, ("pyav",))
    assert 30 < stream.count < 60 and decoded_code(frames[-1]) == 59 % CODE_PERIOD
    assert stream.reader.damaged and "could not be decoded" in stream.damage_note()


def test_a_file_damaged_throughout_still_fails_saying_so(tmp_path):
    """Every frame's data zeroed but the first five: not a damaged spot to fill, a file (or a
    codec) the decoder cannot read; it fails once most of the frames seen are refused."""
    path = make_video(tmp_path / "v.avi", 120, fourcc="MJPG")
    data = bytearray(path.read_bytes())
    at, n = data.find(b"00dc"), 0
    while at >= 0:
        size = int.from_bytes(data[at + 4: at + 8], "little") if n >= 5 else 0
        data[at + 8: at + 8 + size] = bytes(size)
        n += 1
        at = data.find(b"00dc", at + 8)
    path.write_bytes(data)
    stream = open_video(path, ("pyav",))
    with pytest.raises(DecodeError, match=r"pyav: \d+ of the first \d+ frames could not be decoded .*damaged "
                                          r"throughout"):
        list(stream.frames)


def test_paths_with_spaces_and_non_ascii_characters(tmp_path):
    path = make_video(tmp_path / "caméra 1" / "vidéo été №2.mp4", 20)
    for decoder in DECODERS:
        assert decode_all(path, (decoder,))[0].count == 20, decoder


def test_image_folder_streams_frames_in_natural_order(tmp_path):
    folder = make_frames(tmp_path / "seq", 12, ext=".png", pattern="{}")  # 0.png ... 11.png
    assert [p.name for p in image_files(folder)][:3] == ["0.png", "1.png", "2.png"]
    assert image_files(folder)[10].name == "10.png"
    stream = open_image_folder(folder, fps=10)
    frames = list(stream.frames)
    assert stream.count == 12 and stream.fps == 10
    assert [decoded_code(f) for f in frames] == list(range(12))


def test_a_folder_of_webp_frames_is_a_video(tmp_path):
    """A folder of .webp stills (a browser's or an NVR's export) was not found at all: "no videos
    or frame folders found"."""
    folder = make_frames(tmp_path / "cam" / "seq", 6, ext=".webp")
    assert [(s.key, s.kind) for s in find_sources(tmp_path / "cam", recursive=True).sources] == [("seq", "images")]
    frames = list(open_image_folder(folder, fps=10).frames)
    assert len(frames) == 6 and [decoded_code(f) for f in frames] == list(range(6))


def test_frame_names_read_alike_keep_one_order_whatever_the_listing(tmp_path, monkeypatch):
    """`02.jpg` and `2.jpg`, `Frame1.jpg` and `frame1.jpg` sort alike by their numbers: they came out
    in the order the file system listed them, another on another disk."""
    import extract.sources as sources

    names = ["2.jpg", "02.jpg", "frame1.jpg", "Frame1.jpg", "10.jpg"]
    for name in names:
        (tmp_path / name).write_bytes(b"")
    real = os.scandir
    orders = []
    for flip in (False, True):
        monkeypatch.setattr(sources.os, "scandir",
                            lambda p, flip=flip: iter(sorted(real(p), key=lambda e: e.name, reverse=flip)))
        orders.append([p.name for p in image_files(tmp_path)])
    assert orders[0] == orders[1] and orders[0][-1] == "frame1.jpg" and orders[0].index("10.jpg") == 2


def test_grey_tif_frames_become_three_channels(tmp_path):
    folder = make_frames(tmp_path / "tif", 3, ext=".tif", grey=True)
    frame = next(open_image_folder(folder).frames)
    assert frame.shape == (48, 64, 3)
    assert np.array_equal(frame[..., 0], frame[..., 2])


def test_ucsd_ped2_folder_is_one_video_of_180_frames():
    stream = open_image_folder(shared("ucsd_ped2", "testing", "frames", "01"))
    frames = list(stream.frames)
    assert stream.count == 180 and frames[0].shape == (240, 360, 3)
    assert np.isnan(stream.fps)


def test_a_corrupt_frame_names_itself(tmp_path):
    folder = make_frames(tmp_path / "seq", 5)
    (folder / "003.jpg").write_bytes(b"garbage")
    stream = open_image_folder(folder)
    with pytest.raises(DecodeError, match=r"frame 3 \(003.jpg\)"):
        list(stream.frames)


def test_listing_keys_are_relative_paths_and_frame_folders_are_videos(tmp_path):
    make_video(tmp_path / "a" / "x.mp4", 4)
    make_video(tmp_path / "b" / "x.mp4", 4)
    make_video(tmp_path / "top.avi", 4, fourcc="MJPG")
    make_frames(tmp_path / "frames" / "01", 3)
    (tmp_path / "notes.txt").write_text("not a video")
    (tmp_path / ".hidden.mp4").write_bytes(b"")
    flat = find_sources(tmp_path)
    assert [(s.key, s.kind) for s in flat.sources] == [("top.avi", "video")]
    deep = find_sources(tmp_path, recursive=True)
    assert [(s.key, s.kind) for s in deep.sources] == [
        ("a/x.mp4", "video"), ("b/x.mp4", "video"), ("frames/01", "images"), ("top.avi", "video")]
    # a frame folder given directly is one video, keyed by its name
    single = find_sources(tmp_path / "frames" / "01")
    assert [(s.key, s.kind) for s in single.sources] == [("01", "images")]
    assert [s.key for s in find_sources(tmp_path / "a" / "x.mp4").sources] == ["x.mp4"]


def test_a_stray_picture_beside_folders_of_videos_does_not_hide_them(tmp_path):
    """An input folder with a cover.jpg and videos in subfolders: the videos are listed (the picture
    made the whole input one frame folder), and the picture is left out with a note (it was listed
    as a one-frame frame folder, which scores nothing), with --recursive or without (there the
    videos below need it, and the picture hid that)."""
    make_video(tmp_path / "videos" / "Abuse" / "a1.mp4", 4)
    make_video(tmp_path / "videos" / "Normal" / "n1.mp4", 4)
    make_frames(tmp_path / "videos", 1)
    listing = find_sources(tmp_path / "videos", recursive=True)
    assert [(s.key, s.kind) for s in listing.sources] == [("Abuse/a1.mp4", "video"), ("Normal/n1.mp4", "video")]
    assert len(listing.notes) == 1 and "left out 1 picture(s) in the input folder (000.jpg)" in listing.notes[0]
    flat = find_sources(tmp_path / "videos")
    assert flat.sources == [] and flat.notes == listing.notes
    # a folder below the input alike: its pictures above footage are no video
    deeper = find_sources(tmp_path, recursive=True)
    assert [s.key for s in deeper.sources] == ["videos/Abuse/a1.mp4", "videos/Normal/n1.mp4"]
    assert "in videos (000.jpg): above the footage in its subfolders" in deeper.notes[0], deeper.notes


def test_pictures_beside_videos_are_left_out_with_a_note_and_frame_folders_stay_videos(tmp_path):
    """`videos/` holding a.mp4, b.avi and cover.jpg, given as a folder or as the shell's
    `videos/*`: the picture is no video (named as an input it was read as a one-frame video, which
    scores nothing) and the listing says it left it out. A folder of pictures alone is still one
    video, given or found, and a picture named alone fails naming why."""
    from extract.run import list_inputs
    from extract.sources import PICTURE_ALONE

    videos = tmp_path / "videos"
    make_video(videos / "a.mp4", 4)
    make_video(videos / "b.avi", 4, fourcc="MJPG")
    make_frames(videos, 1, pattern="cover")
    listing = find_sources(videos)
    assert [s.key for s in listing.sources] == ["a.mp4", "b.avi"]
    assert listing.notes == ["left out 1 picture(s) in the input folder (cover.jpg): beside its videos, not "
                             "footage; a folder that holds pictures alone is one video (a frame folder)"]
    root, shell = list_inputs(sorted(videos.iterdir()))
    assert root == videos and [s.key for s in shell.sources] == ["a.mp4", "b.avi"] and not shell.errors
    assert len(shell.notes) == 1 and "(cover.jpg): named beside other inputs" in shell.notes[0], shell.notes
    alone = find_sources(videos / "cover.jpg")
    assert alone.sources == [] and alone.errors == {"cover.jpg": PICTURE_ALONE}
    # frame folders (the Ped2 layout) are videos as before, found below the input or given
    make_frames(tmp_path / "ped" / "frames" / "01", 3, ext=".tif")
    make_frames(tmp_path / "ped" / "frames" / "02", 3, ext=".tif")
    for recursive in (False, True):
        found = find_sources(tmp_path / "ped" / "frames", recursive=recursive)
        assert [(s.key, s.kind) for s in found.sources] == [("01", "images"), ("02", "images")] and not found.notes
    given = find_sources(tmp_path / "ped" / "frames" / "01")
    assert [(s.key, s.kind) for s in given.sources] == [("01", "images")] and not given.notes


def test_system_files_named_beside_videos_are_left_out_with_a_note(tmp_path):
    """The shell's `videos/*` over a folder copied from Windows names Thumbs.db and desktop.ini, and
    `find -name '*.mp4'` over one copied from a Mac names AppleDouble `._a.mp4` files: each was decoded,
    failed ("no decoder could read the file"), and `videoad run videos/*` exited 1. Beside other
    inputs they are left out with a note; one named alone fails naming what it is."""
    from extract.run import list_inputs

    videos = tmp_path / "videos"
    make_video(videos / "a.mp4", 4)
    make_video(videos / "b.avi", 4, fourcc="MJPG")
    for name in ("Thumbs.db", "desktop.ini", "._a.mp4"):
        (videos / name).write_bytes(b"\x00\x05\x16\x07" + bytes(60))
    root, shell = list_inputs(sorted(videos.iterdir()))
    assert root == videos and [s.key for s in shell.sources] == ["a.mp4", "b.avi"] and not shell.errors
    assert shell.notes == ["left out 3 system file(s) named beside other inputs (._a.mp4, Thumbs.db, desktop.ini): "
                           "files the operating system keeps beside the footage (Thumbs.db, desktop.ini, macOS's "
                           "._ files), not videos"]
    alone = find_sources(videos / "._a.mp4")
    assert alone.sources == [] and alone.errors == {"._a.mp4": "macOS metadata of a.mp4 (an AppleDouble file), "
                                                               "not a video"}
    assert list(find_sources(videos / "Thumbs.db").errors) == ["Thumbs.db"]


def test_hidden_videos_and_folders_beside_found_footage_are_counted_in_a_note(tmp_path):
    """Hidden names are never read; where nothing else was found the error named them, but beside
    other videos they were left out without a word (a `.old/` of last week's footage, a `.v.mp4`
    a copy left half-written). macOS's `._` files and other hidden files are no footage lost."""
    videos = tmp_path / "videos"
    make_video(videos / "cam1.mp4", 4)
    make_video(videos / ".old" / "v.mp4", 4)
    make_video(videos / "cam2" / ".partial.mp4", 4)
    for name in ("._cam1.mp4", ".DS_Store", ".hidden.txt"):
        (videos / name).write_bytes(b"x")
    listing = find_sources(videos, recursive=True)
    assert [s.key for s in listing.sources] == ["cam1.mp4"]
    assert listing.notes == ["2 hidden name(s) left out (.old/, cam2/.partial.mp4): names starting with a dot "
                             "are never read"]
    assert find_sources(videos / "cam2").notes == []  # nothing found: the error names it, as before
    assert find_sources(videos / "cam2").sources == []


def test_no_videos_found_says_what_the_folder_holds_instead(tmp_path):
    """A folder of a recorder's `.dav` files, with no subfolder, failed as "no videos or frame folders
    found under it (videos in subfolders need --recursive)": the hint sent the user to a flag that finds
    nothing. The error names the extensions taken for no video's, what to do with `.dav` (Dahua's own
    format, untested here: try it named, or convert it), the hidden names never read, and --recursive
    only where a subfolder was not entered."""
    from extract.backbones.motion import MotionBackbone
    from extract.run import ExtractOptions, extract_videos

    exports = tmp_path / "exports"
    make_video(exports / ".old" / "v.mp4", 4)
    for name in ("cam1.bin", "cam2.dav", "Thumbs.db"):  # the listing goes by names: no content needed
        (exports / name).write_bytes(b"x")
    with pytest.raises(FileNotFoundError) as err:
        extract_videos(exports, tmp_path / "out", MotionBackbone(), ExtractOptions(progress=False))
    assert str(err.value) == (f"no videos or frame folders found under {exports}: .dav is a Dahua recorder's own "
                              "format, untested here: name one as INPUT to try FFmpeg's reader of it, or convert "
                              "them first (ffmpeg -i IN.dav -c copy OUT.mp4, or export as MP4/AVI from Dahua's "
                              "player) and extract the converted files; 2 file(s) whose extension is not "
                              "a video's (.bin x1, .dav x1): a file named as INPUT is read whatever its extension; "
                              "1 hidden name(s) left out (.old/): names starting with a dot are never read")
    make_video(exports / "cam3" / "v.mp4", 4)
    (exports / "cam1.bin").unlink()
    (exports / "cam2.dav").unlink()
    with pytest.raises(FileNotFoundError, match=r"never read; videos in subfolders need --recursive$"):
        extract_videos(exports, tmp_path / "out", MotionBackbone(), ExtractOptions(progress=False))


def test_raw_streams_are_found_in_a_folder(tmp_path):
    """A recorder's raw `.264`/`.h264`/`.265`/`.h265`/`.hevc` exports were no video to the folder walk
    ("no videos found"), though each was read when named: they are listed like any video."""
    names = ["cam1.264", "cam2.H264", "cam3.265", "cam4.h265", "cam5.hevc"]
    for name in names:  # the listing goes by names: no content needed
        (tmp_path / name).write_bytes(b"x")
    assert [s.key for s in find_sources(tmp_path).sources] == names


@pytest.mark.parametrize("decoder", ["pyav", "opencv"])  # decord 0.6 cannot read a raw stream ("broken metadata")
def test_a_raw_stream_is_read_at_the_rate_its_vui_timing_states(tmp_path, decoder):
    """A raw stream has no container and no timestamps: PyAV and OpenCV read it at FFmpeg's 25 fps
    whatever its VUI timing states, so a 10 fps camera's seconds came out 2.5 times too short. The
    stated rate is read; every frame still comes, in order."""
    for path in (make_raw_stream(tmp_path / "cam.264", 30, fps=10),
                 make_raw_stream(tmp_path / "cam.h265", 30, fps=12, hevc=True)):
        stream = open_video(path, (decoder,))
        codes = [decoded_code(frame) for frame in stream.frames]
        assert codes == [i % CODE_PERIOD for i in range(30)]
        assert (stream.fps, stream.rate_guessed) == ((10.0, False) if path.suffix == ".264" else (12.0, False))
        assert "as its VUI timing states" in stream.rate_note


def test_a_raw_stream_cut_mid_gop_says_the_frames_it_lost(tmp_path):
    """A raw stream cut within a group of pictures (a recorder's segment) starts with frames nothing
    can decode; with no timestamps they were lost without a word, and frame 0 was a later picture. The
    start note counts them (the packets before the first keyframe) and their seconds at the stream's rate."""
    import av

    whole = make_raw_stream(tmp_path / "whole.264", 60, fps=10, keyframes=20)
    with av.open(os.fspath(whole)) as container:
        starts = [p.pos for p in container.demux() if p.size]
    (tmp_path / "cut.264").write_bytes(whole.read_bytes()[starts[5]:])
    stream = open_video(tmp_path / "cut.264")
    codes = [decoded_code(frame) for frame in stream.frames]
    assert codes == [i % CODE_PERIOD for i in range(20, 60)]
    assert stream.reader.leading_lost == 15 and stream.reader.leading_seconds == pytest.approx(1.5)
    assert stream.start_note().startswith("the file's first 15 frame(s) (1.50 s) could not be decoded")
    assert open_video(whole).start_note() is None


def test_decord_says_it_cannot_read_a_raw_stream(tmp_path):
    """decord 0.6 fails every raw stream with "Failed to measure duration/frame-count due to broken
    metadata", which read as a damaged file: it says what it cannot read, and the next decoder reads it."""
    path = make_raw_stream(tmp_path / "cam.h264", 20)
    with pytest.raises(DecodeError, match=r"decord: DecodeError: decord 0.6 cannot read a raw H.264/HEVC stream"):
        open_video(path, ("decord",))
    stream = open_video(path, ("decord", "pyav"))
    assert stream.backend == "pyav" and stream.fps == 10.0 and sum(1 for _ in stream.frames) == 20


def test_a_raw_stream_that_states_no_rate_is_assumed_25_or_given(tmp_path):
    """Without VUI timing the rate is unknown: 25 fps (what every decoder assumes) is taken and said,
    with the way to give the real one; given (--image-fps), that rate is used."""
    path = make_raw_stream(tmp_path / "cam.hevc", 20, fps=8, hevc=True, vui_timing=False)
    assumed = open_video(path)
    assert (assumed.fps, assumed.rate_guessed) == (25.0, True)
    assert "states no frame rate: 25 fps assumed" in assumed.rate_note and "--image-fps R" in assumed.rate_note
    given = open_video(path, unstated_fps=8.0)
    assert (given.fps, given.rate_guessed) == (8.0, False)
    assert "read at 8 fps, as --image-fps says" in given.rate_note
    stated = open_video(make_raw_stream(tmp_path / "cam.264", 20, fps=10), unstated_fps=8.0)
    assert stated.fps == 10.0  # a rate the stream states is its own
    assert open_video(make_h264(tmp_path / "cam.mp4", 20, fps=10), unstated_fps=8.0).rate_note is None


def test_a_symlink_loop_is_listed_once(tmp_path):
    make_video(tmp_path / "cam" / "v.mp4", 4)
    (tmp_path / "cam" / "again").symlink_to(tmp_path, target_is_directory=True)
    assert [s.key for s in find_sources(tmp_path, recursive=True).sources] == ["cam/v.mp4"]


def test_a_folder_reached_by_a_link_too_is_keyed_by_its_own_path(tmp_path):
    """`alink -> cam1` beside `cam1/` (and `cam2/more -> ../cam1` deeper): the walk took whichever came
    first by name, so cam1's videos were keyed `alink/v.mp4` and the real folder was left out; removing
    the link re-keyed them. The real folder is walked first, links after, and each folder once."""
    make_video(tmp_path / "cam1" / "v.mp4", 4)
    make_video(tmp_path / "cam2" / "w.mp4", 4)
    (tmp_path / "alink").symlink_to("cam1", target_is_directory=True)
    (tmp_path / "cam0").symlink_to("cam2", target_is_directory=True)
    (tmp_path / "cam2" / "more").symlink_to("../cam1", target_is_directory=True)
    (tmp_path / "elsewhere").mkdir()
    make_video(tmp_path / "elsewhere" / "x.mp4", 4)
    (tmp_path / "cam2" / "ext").symlink_to("../elsewhere", target_is_directory=True)
    listing = find_sources(tmp_path, recursive=True)
    assert [s.key for s in listing.sources] == ["cam1/v.mp4", "cam2/w.mp4", "elsewhere/x.mp4"]
    outside = find_sources(tmp_path / "cam2", recursive=True)  # a link out of the input is read through it
    assert [s.key for s in outside.sources] == ["ext/x.mp4", "more/v.mp4", "w.mp4"]


def test_unlistable_folder_is_reported_not_skipped(tmp_path, monkeypatch):
    make_video(tmp_path / "ok" / "v.mp4", 4)
    locked = tmp_path / "locked"
    make_video(locked / "v.mp4", 4)
    real_scandir = os.scandir

    def scandir(path="."):
        if Path(path) == locked:  # root ignores chmod, so refuse the listing here
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    listing = find_sources(tmp_path, recursive=True)
    assert [s.key for s in listing.sources] == ["ok/v.mp4"]
    assert "Permission denied" in listing.errors["locked"]


def test_shards_partition_the_sorted_list(tmp_path):
    for name in "edcba":
        make_video(tmp_path / f"{name}.mp4", 2)
    sources = find_sources(tmp_path).sources
    shards = [select_shard(sources, i, 2) for i in range(2)]
    assert [s.key for s in shards[0]] == ["a.mp4", "c.mp4", "e.mp4"]
    assert [s.key for s in shards[1]] == ["b.mp4", "d.mp4"]
    with pytest.raises(ValueError):
        select_shard(sources, 2, 2)


@pytest.mark.parametrize("decoder", ["pyav", "opencv"])
def test_a_picture_that_changes_size_part_way_is_read_at_its_first_size(tmp_path, decoder):
    """A camera switched between streams: every frame, in order, at the first frame's size (OpenCV
    scales by itself; PyAV's frames are resized and counted). decord, the fallback, is left out:
    on this file it returns 44 frames of the first size but not the right ones (it logs that it
    filled corrupt frames in from their neighbours)."""
    path = make_size_change(tmp_path / "switch.ts", 20, 24)
    stream, frames = decode_all(path, (decoder,))
    assert len(frames) == 44 and {f.shape for f in frames} == {(48, 64, 3)}
    assert [decoded_code(f) for f in frames] == [i % CODE_PERIOD for i in range(20)] + list(range(24))
    if decoder == "pyav":
        assert stream.size_changes == [(20, 128, 96)] and stream.resized == 24
        assert stream.size_note().startswith("the picture changed size part-way (128x96 at frame 20): 24 frame(s)")
    else:
        assert stream.size_note() is None


def test_a_picture_back_at_its_first_size_is_named_and_not_resized(tmp_path):
    first = make_h264(tmp_path / "a.ts", 10)
    second = make_h264(tmp_path / "b.ts", 10, width=128, height=96)
    path = tmp_path / "there_and_back.ts"
    path.write_bytes(first.read_bytes() + second.read_bytes() + first.read_bytes())
    stream, frames = decode_all(path, ("pyav",))
    assert len(frames) == 30 and {f.shape for f in frames} == {(48, 64, 3)}
    assert stream.size_changes == [(10, 128, 96), (20, 64, 48)] and stream.resized == 10


@pytest.mark.parametrize("degrees", [90, 180, 270])
def test_a_rotated_video_is_read_as_a_player_shows_it(tmp_path, degrees):
    """A phone's upright footage, stored sideways with a display rotation: PyAV's frames are
    turned as OpenCV's (which turns them by itself), so cells and pictures are where a viewer sees them."""
    plain = make_h264(tmp_path / "plain.mp4", 12)
    turned = rotate_mp4(plain, tmp_path / f"turned{degrees}.mp4", degrees)
    _, stored = decode_all(plain, ("pyav",))
    _, frames = decode_all(turned, ("pyav",))
    _, by_opencv = decode_all(turned, ("opencv",))
    quarter_turns = -degrees // 90  # np.rot90 turns counter-clockwise
    assert all(np.array_equal(f, np.rot90(s, quarter_turns)) for f, s in zip(frames, stored))
    assert len(frames) == 12 and all(np.array_equal(f, o) for f, o in zip(frames, by_opencv))


def test_a_decoder_never_hands_on_a_picture_that_is_not_rgb(tmp_path):
    """decord 0.6 reads a file with a display rotation as 4-channel frames that match no turn of
    the picture: it fails naming itself (the features differed from PyAV's by 0.5, silently),
    or, in a decord that reads it right, gives PyAV's frames."""
    turned = rotate_mp4(make_h264(tmp_path / "plain.mp4", 12), tmp_path / "turned90.mp4", 90)
    _, by_pyav = decode_all(turned, ("pyav",))
    try:
        _, by_decord = decode_all(turned, ("decord",))
    except DecodeError as exc:
        assert "decord reads this file as (64, 48, 4) frames, not RGB pictures" in str(exc)
        stream, frames = decode_all(turned, ("decord", "opencv"))  # the next decoder reads it
        assert stream.backend == "opencv" and all(np.array_equal(a, b) for a, b in zip(frames, by_pyav))
    else:
        assert all(np.array_equal(a, b) for a, b in zip(by_decord, by_pyav))


@pytest.mark.parametrize("name", ["rec.ts", "cam.m2ts"])
def test_every_decoder_reads_an_mpeg_ts_recording_from_its_first_frame(tmp_path, name):
    """A recorder's MPEG-TS H.264 with B-frames: decord 0.6 began 11 frames in (its first frame was
    frame 11) and repeated the last frame to make up the count, without an error, so the features
    and every frame number depended on which decoder read the file. decord now leaves it to the next
    decoder, saying why; OpenCV reads it as PyAV does."""
    import av

    path = make_h264(tmp_path / name, 40)
    if name.endswith(".m2ts"):  # a camcorder's 192-byte packets
        with av.open(os.fspath(make_h264(tmp_path / "plain.mp4", 40))) as src, \
                av.open(os.fspath(path), "w", format="mpegts", options={"mpegts_m2ts_mode": "1"}) as dst:
            out = dst.add_stream_from_template(src.streams.video[0])
            for packet in src.demux(video=0):
                if packet.size:
                    packet.stream = out
                    dst.mux(packet)
    _, by_pyav = decode_all(path, ("pyav",))
    assert [decoded_code(f) for f in by_pyav] == [i % CODE_PERIOD for i in range(40)]
    stream, frames = decode_all(path, ("decord", "opencv"))
    assert stream.backend == "opencv" and "decord 0.6 misplaces the frames of an MPEG-TS file" in stream.open_errors["decord"]
    assert len(frames) == 40 and all(np.array_equal(a, b) for a, b in zip(frames, by_pyav))


def test_a_file_of_two_cameras_reads_the_first_and_names_the_other(tmp_path):
    path = make_two_cameras(tmp_path / "two.mkv")
    stream, frames = decode_all(path, ("pyav",))
    assert len(frames) == 40 and frames[0].shape == (48, 64, 3)
    assert [decoded_code(f) for f in frames] == [i % CODE_PERIOD for i in range(40)]
    assert stream.streams_note().startswith("the file holds 2 video streams; only the first (#0 64x48) was read, "
                                            "not #1 128x96")


def test_a_video_stream_in_a_codec_ffmpeg_does_not_know_is_passed_over_and_named(tmp_path):
    """A recorder's export whose second (or first) video stream is in its own codec (a fourcc FFmpeg
    has no decoder for): PyAV's reader failed on the whole file (AttributeError on the stream's
    missing codec context) and decord or OpenCV read it instead, or nothing did without decord.
    Now PyAV reads the stream it can decode, and the note names the other."""
    for unknown, first in (((1,), "the first"), ((0,), "the first FFmpeg can decode")):
        path = make_unknown_codec(tmp_path / f"export{unknown[0]}.avi", streams=2, unknown=unknown)
        stream, frames = decode_all(path, ("pyav",))
        assert stream.backend == "pyav" and stream.open_errors == {}
        assert [decoded_code(f) for f in frames] == [i % CODE_PERIOD for i in range(20)]
        other = 1 - unknown[0]
        assert stream.streams_note().startswith(
            f"the file holds 2 video streams; only {first} (#{other} 64x48) was read, not #{unknown[0]} "
            "(a codec FFmpeg cannot decode)"), stream.streams_note()


def test_a_file_whose_only_video_codec_no_decoder_knows_says_so(tmp_path):
    path = make_unknown_codec(tmp_path / "recorder.avi")
    with pytest.raises(DecodeError) as info:
        open_video(path)
    message = str(info.value)
    assert message.startswith("the file's video is in a codec no decoder here knows"), message
    assert "pyav: DecodeError: no decoder for the video stream's codec" in message
    assert "AttributeError" not in message


def test_a_cover_picture_is_neither_read_as_the_video_nor_named(tmp_path):
    """A cover picture stored as a video stream is not footage: listed first or not, the video
    stream is read (extract.video_stream), and nothing is said about the picture."""
    from types import SimpleNamespace

    from av.stream import Disposition

    from extract.video_stream import main_video_stream

    path = make_two_cameras(tmp_path / "cover.mp4", cover=True)
    stream, frames = decode_all(path, ("pyav",))
    assert len(frames) == 40 and stream.streams_note() is None
    picture, video = (SimpleNamespace(disposition=d) for d in (Disposition.attached_pic, Disposition.default))
    assert main_video_stream(SimpleNamespace(streams=SimpleNamespace(video=[picture, video]))) is video
    assert main_video_stream(SimpleNamespace(streams=SimpleNamespace(video=[picture]))) is picture


def test_a_timestamp_jump_after_damage_is_not_filled_as_lost_frames(tmp_path):
    """Frames 0-29 every 40 ms, then the camera's clock set a minute on: a refused packet just
    before the jump is one frame to fill in, not the 1,500 slots the timestamps skip."""
    from _extract_media import make_vfr_h264

    times = [40 * i for i in range(30)] + [60_000 + 40 * i for i in range(30)]
    path = damage_packets(make_vfr_h264(tmp_path / "jump.mp4", times), tmp_path / "damaged.mp4", [29])
    stream, frames = decode_all(path, ("pyav",))
    assert len(frames) == 60 and stream.reader.damaged == [29]
    assert [decoded_code(f) for f in frames[30:]] == [i % CODE_PERIOD for i in range(30, 60)]


# -- unusual files a surveillance user has (review, 2026-12-06) ----------------------------------
def test_a_segment_cut_mid_gop_says_what_it_lost(tmp_path):
    """A recorder's MPEG-TS segment whose first packets (its keyframe) are in the file before it:
    FFmpeg drops the frames up to the next keyframe without a word, so frame 0 and every second
    were that much early."""
    from datetime import datetime, timedelta

    import av

    full = make_h264(tmp_path / "full.mp4", 60, fps=5)  # a keyframe every 12 frames: 2.4 s
    cut = tmp_path / "cam1_20261205_080000.ts"
    with av.open(os.fspath(full)) as src, av.open(os.fspath(cut), "w", format="mpegts") as dst:
        stream = src.streams.video[0]
        out = dst.add_stream_from_template(stream)
        for k, packet in enumerate(p for p in src.demux(stream) if p.dts is not None):
            if k >= 3:  # the keyframe and two more are in the segment before
                packet.stream = out
                dst.mux(packet)
    stream = open_video(cut, ("pyav",))
    n = sum(1 for _ in stream.frames)
    lost, lost_s = stream.reader.leading_lost, stream.reader.leading_seconds
    assert lost >= 3 and n + lost >= 57 and f"the file's first {lost} frame(s)" in stream.start_note()
    stream.close()
    from extract.backbones.motion import MotionBackbone
    from extract.run import ExtractOptions, extract_videos
    from extract.store import FeatureStore

    extract_videos(cut, tmp_path / "out", MotionBackbone(), ExtractOptions(progress=False))
    attrs = FeatureStore(tmp_path / "out").attrs(cut.name)
    assert "starts within a group of pictures" in attrs["decode_warnings"]
    # its frame 0 is after the segment's start, by the fraction too (8 frames, 1.6 s; cut to 08:00:01,
    # every clock time of its events was 0.6 s early)
    assert lost_s % 1 and attrs["start_time"] == (datetime(2026, 12, 5, 8) + timedelta(seconds=lost_s)).isoformat()
    full_stream = open_video(full, ("pyav",))
    assert full_stream.start_note() is None and sum(1 for _ in full_stream.frames) == 60
    full_stream.close()


def test_a_segment_cut_mid_gop_read_by_opencv_says_what_it_lost(tmp_path):
    """The same cut segment read by OpenCV (PyAV missing, or refusing the file): OpenCV drops the frames
    before the first keyframe and counts none of them (its frame position reads 1 at the first frame it
    gives), so frame 0 and every clock time were that much early and nothing said so. The one thing it
    tells is the first frame's time after the stream's start (CAP_PROP_POS_MSEC): the note gives those
    seconds (PyAV's count of them) and the frames they hold at the container's rate as an estimate; the
    recording's start moves by them, as PyAV's does. A file that starts at its keyframe says nothing."""
    from datetime import datetime, timedelta

    import av
    from extract.backbones.motion import MotionBackbone
    from extract.run import ExtractOptions, extract_videos
    from extract.store import FeatureStore

    full = make_h264(tmp_path / "full.mp4", 60, fps=5)
    cut = tmp_path / "cam1_20261205_080000.ts"
    with av.open(os.fspath(full)) as src, av.open(os.fspath(cut), "w", format="mpegts") as dst:
        stream = src.streams.video[0]
        out = dst.add_stream_from_template(stream)
        for k, packet in enumerate(p for p in src.demux(stream) if p.dts is not None):
            if k >= 3:
                packet.stream = out
                dst.mux(packet)
    by_pyav = open_video(cut, ("pyav",))
    pyav_frames = [decoded_code(f) for f in by_pyav.frames]
    lost, lost_s = by_pyav.reader.leading_lost, by_pyav.reader.leading_seconds
    stream = open_video(cut, ("opencv",))
    frames = [decoded_code(f) for f in stream.frames]
    assert stream.backend == "opencv" and frames == pyav_frames  # the same frames, from the first keyframe
    assert stream.leading_seconds == pytest.approx(lost_s, abs=1e-6) and stream.leading_lost == 0  # counted: none
    note = stream.start_note()
    assert note.startswith(f"the file's first {lost_s:.2f} s could not be decoded") and "starts within a group" in note
    assert f"about {lost} frame(s) at its 5 fps" in note

    summary = extract_videos(cut, tmp_path / "out", MotionBackbone(),
                             ExtractOptions(progress=False, decoders=("opencv",)))
    attrs = FeatureStore(tmp_path / "out").attrs(cut.name)
    assert attrs["decoder"] == "opencv" and attrs["n_frames"] == len(frames)
    assert note in attrs["decode_warnings"] and f"{cut.name}: " in summary.report()
    assert attrs["leading_seconds"] == pytest.approx(lost_s) and "leading_lost" not in attrs
    assert attrs["start_time"] == (datetime(2026, 12, 5, 8) + timedelta(seconds=lost_s)).isoformat()
    full_stream = open_video(full, ("opencv",))
    assert full_stream.start_note() is None and sum(1 for _ in full_stream.frames) == 60


def test_an_mp4_never_finalised_says_so(tmp_path):
    """Power lost while recording: media but no index; the error was the decoders' 'Invalid data'."""
    path = make_h264(tmp_path / "rec.mp4", 30)
    data = path.read_bytes()
    at = data.find(b"moov") - 4
    assert at > data.find(b"mdat")  # PyAV writes the index last
    (tmp_path / "cut.mp4").write_bytes(data[:at])
    with pytest.raises(DecodeError, match=r"not finalised: it holds media \('mdat'\) but no index \('moov' box\)"):
        open_video(tmp_path / "cut.mp4")


def test_a_cut_short_jpeg_frame_is_named_not_read_grey(tmp_path):
    folder = make_frames(tmp_path / "cam", 20)
    frame = sorted(folder.iterdir())[7]
    frame.write_bytes(frame.read_bytes()[: frame.stat().st_size * 4 // 5])
    with pytest.raises(DecodeError, match=rf"frame 7 \({frame.name}\) is cut short \(no JPEG end marker\)"):
        list(open_image_folder(folder, fps=10).frames)
    padded = sorted(folder.iterdir())[3]
    padded.write_bytes(padded.read_bytes() + b"\x00" * 16)  # a camera's padding after the end marker
    from extract.decode import image_cut

    assert image_cut(padded) is None and image_cut(frame) == "no JPEG end marker"


def test_a_file_still_being_written_fails_and_an_implausible_rate_warns(tmp_path, monkeypatch):
    from extract.backbones.motion import MotionBackbone
    from extract.run import ExtractOptions, extract_videos
    from extract.sources import Source

    make_h264(tmp_path / "in" / "fast.mp4", 40, fps=1000)
    make_h264(tmp_path / "in" / "growing.mp4", 40)
    real = Source.fingerprint
    calls = {}

    def grows(self):
        found = real(self)
        calls[self.key] = calls.get(self.key, 0) + 1
        if self.key == "growing.mp4" and calls[self.key] > 1:  # read again after decoding: it grew
            found = {**found, "size": found["size"] + 4096}
        return found

    monkeypatch.setattr(Source, "fingerprint", grows)
    summary = extract_videos(tmp_path / "in", tmp_path / "out", MotionBackbone(), ExtractOptions(progress=False))
    growing, fast = summary.results["growing.mp4"], summary.results["fast.mp4"]
    assert growing.status == "failed" and "the source changed while it was read" in growing.reason
    assert fast.status == "done" and "the container says 1000 frames per second" in fast.warning


def test_a_source_deleted_while_the_run_goes_on_is_said_to_be_gone(tmp_path, monkeypatch):
    """It failed as "no decoder could read the file (pyav: FileNotFoundError ...)"."""
    from extract.backbones.motion import MotionBackbone
    from extract.run import ExtractOptions, extract_videos
    from extract.sources import Source

    make_h264(tmp_path / "in" / "gone.mp4", 40)
    make_h264(tmp_path / "in" / "kept.mp4", 40)
    real = Source.fingerprint

    def listed_then_deleted(self):
        found = real(self)
        if self.key == "gone.mp4" and self.path.exists():
            self.path.unlink()  # after the listing took it, before it is decoded
        return found

    monkeypatch.setattr(Source, "fingerprint", listed_then_deleted)
    summary = extract_videos(tmp_path / "in", tmp_path / "out", MotionBackbone(), ExtractOptions(progress=False))
    gone, kept = summary.results["gone.mp4"], summary.results["kept.mp4"]
    assert gone.status == "failed" and gone.reason.startswith("the source is gone (deleted or moved while the run")
    assert kept.status == "done"


def test_a_damaged_first_keyframe_is_damage_not_a_segment_cut_mid_gop(tmp_path):
    """Packet 0 refused: its frames are filled in where they were, and were counted again as lost
    leading frames, moving the clock start by seconds."""
    src = make_h264(tmp_path / "a.mp4", 40, fps=10)
    bad = damage_packets(src, tmp_path / "cam1_20261205_080000.mp4", [0])
    stream = open_video(bad, ("pyav",))
    assert sum(1 for _ in stream.frames) == 40
    assert stream.reader.damaged and stream.reader.leading_lost == 0 and stream.start_note() is None
    stream.close()


def test_images_with_data_after_their_end_are_whole(tmp_path):
    """A phone's motion-photo trailer, a fill after the end marker, a PNG chunk after IEND: OpenCV
    reads them whole; the first end check called them cut short and failed the folder."""
    from extract.decode import image_cut

    folder = make_frames(tmp_path / "j", 3)
    jpg = sorted(folder.iterdir())[0]
    whole = jpg.read_bytes()
    for name, data in (("trailer.jpg", whole + b"\x00\x00\x00\x18ftypmp42" + bytes(4000)),
                       ("fill.jpg", whole + b"\xff" * 64)):
        (tmp_path / name).write_bytes(data)
        assert image_cut(tmp_path / name) is None, name
    (tmp_path / "cut.jpg").write_bytes(whole[: len(whole) * 3 // 4])
    assert image_cut(tmp_path / "cut.jpg") == "no JPEG end marker"
    png = make_frames(tmp_path / "p", 2, ext=".png")
    first = sorted(png.iterdir())[0]
    data = first.read_bytes()
    extra = (5).to_bytes(4, "big") + b"tEXt" + b"after" + bytes(4)  # a chunk after IEND
    (tmp_path / "after.png").write_bytes(data + extra)
    assert image_cut(tmp_path / "after.png") is None
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    assert image_cut(tmp_path / "cut.png") == "no PNG end chunk"


def test_a_variable_rate_file_extracted_before_its_times_or_pauses_were_kept_is_redone(tmp_path):
    from extract.run import is_current

    fingerprint, settings = {"size": 10, "mtime_ns": 5, "files": 1}, "{}"
    base = {"source_size": 10, "source_mtime_ns": 5, "source_files": 1, "settings_json": "{}"}
    for attrs, current in (({}, True), ({"frame_span_s": 3.0}, False),
                           ({"frame_span_s": 3.0, "frame_times_kept": False}, False),  # its pauses not told
                           ({"frame_span_s": 3.0, "frame_times_kept": False, "pauses": 0}, True),
                           ({"frame_span_s": 3.0, "frame_times_kept": True, "pauses": 2}, True)):
        path = tmp_path / f"v{len(attrs)}.h5"
        import h5py

        with h5py.File(path, "w") as f:
            for k, v in {**base, **attrs}.items():
                f.attrs[k] = v
        assert is_current(path, fingerprint, settings) is current, attrs
    # written before pauses were told, its times kept: redone only where they hold a pause (tree.avi's
    # uneven steps hold none, and were redone to the same features)
    for times, current in ((np.arange(40) * 0.4 + np.tile([0.0, 0.1], 20), True),
                           (np.r_[np.arange(20) * 0.04, 30 + np.arange(20) * 0.04], False)):
        path = tmp_path / f"t{current}.h5"
        with h5py.File(path, "w") as f:
            for k, v in {**base, "frame_span_s": float(times[-1]), "frame_times_kept": True}.items():
                f.attrs[k] = v
            f.create_dataset("frame_times", data=times)
        assert is_current(path, fingerprint, settings) is current, current


@pytest.mark.parametrize("decoder", DECODERS)
def test_non_square_pixels_are_stretched_as_a_player_shows_them(tmp_path, decoder):
    """A recorder of analogue cameras stores its picture with non-square pixels and states how a
    player stretches it: read as stored, the scene (and its motion) is squeezed across. Every
    decoder hands the stretched picture, the same one, and the file's content is the same."""
    from fractions import Fraction

    wide = make_h264(tmp_path / "wide.mp4", 12, aspect=Fraction(2, 1))
    stream, frames = decode_all(wide, (decoder,))
    assert stream.sample_aspect == Fraction(2, 1) and {f.shape for f in frames} == {(48, 128, 3)}
    _, by_pyav = decode_all(wide, ("pyav",))
    _, plain = decode_all(make_h264(tmp_path / "plain.mp4", 12), ("pyav",))
    assert [decoded_code(f) for f in frames] == list(range(12))
    for got, pyav, square in zip(frames, by_pyav, plain):
        assert np.abs(got.astype(int) - pyav).mean() < 3  # the decoders' scalers differ a little
        back = cv2.resize(got, (64, 48), interpolation=cv2.INTER_AREA)  # squeezed back: the stored picture
        assert np.abs(back.astype(int) - square).mean() < 4


def test_a_turned_file_with_non_square_pixels(tmp_path):
    """PyAV stretches the stored picture, then turns it; decord and OpenCV turn it themselves and
    hand it over unstretched, which the stream then says (OpenCV stretched a turned square picture
    across the wrong side, and the store claimed a stretch not made)."""
    from fractions import Fraction

    turned = rotate_mp4(make_h264(tmp_path / "wide.mp4", 12, aspect=Fraction(2, 1)), tmp_path / "turned.mp4", 90)
    by_pyav, frames = decode_all(turned, ("pyav",))
    assert by_pyav.sample_aspect == Fraction(2, 1) and {f.shape for f in frames} == {(128, 48, 3)}
    by_opencv, frames = decode_all(turned, ("opencv",))
    assert by_opencv.sample_aspect is None and {f.shape for f in frames} == {(64, 48, 3)}
    square = rotate_mp4(make_h264(tmp_path / "sq.mp4", 12, width=48, height=48, aspect=Fraction(2, 1)),
                        tmp_path / "sq_turned.mp4", 90)
    by_opencv, frames = decode_all(square, ("opencv",))
    assert by_opencv.sample_aspect is None and {f.shape for f in frames} == {(48, 48, 3)}


def test_square_pixels_are_read_as_stored(tmp_path):
    stream, frames = decode_all(make_h264(tmp_path / "plain.mp4", 6), ("pyav",))
    assert stream.sample_aspect is None and {f.shape for f in frames} == {(48, 64, 3)}


def test_non_square_pixels_are_extracted_stretched_and_older_stores_of_them_redone(tmp_path):
    """The store records the aspect the frames were stretched to (1:1 for square pixels); a store
    written before (no record) of a file with non-square pixels is redone, one of square pixels kept;
    the report's pictures are the frames extraction read."""
    import json
    from fractions import Fraction

    import h5py

    from extract.backbones.motion import MotionBackbone
    from extract.run import ExtractOptions, extract_videos, is_current
    from extract.store import FeatureStore
    from videoad.footage import Footage

    make_h264(tmp_path / "in" / "wide.mp4", 40, aspect=Fraction(2, 1))
    make_h264(tmp_path / "in" / "plain.mp4", 40)
    assert extract_videos(tmp_path / "in", tmp_path / "out", MotionBackbone(), ExtractOptions(progress=False)).ok
    store = FeatureStore(tmp_path / "out")
    wide, plain = store.load("wide.mp4"), store.load("plain.mp4")
    assert wide.attrs["sample_aspect"] == "2:1" and plain.attrs["sample_aspect"] == "1:1"
    assert json.loads(wide.attrs["frame_size"]) == [48, 128] and json.loads(plain.attrs["frame_size"]) == [48, 64]
    for key, redone in (("wide.mp4", True), ("plain.mp4", False)):
        path = tmp_path / "out" / f"{key}.h5"
        with h5py.File(path, "r+") as f:
            fingerprint = {"size": int(f.attrs["source_size"]), "mtime_ns": int(f.attrs["source_mtime_ns"]),
                           "files": int(f.attrs["source_files"])}
            settings = f.attrs["settings_json"]
            assert is_current(path, fingerprint, settings)
            del f.attrs["sample_aspect"]  # as written before the aspect was read
        assert is_current(path, fingerprint, settings) is not redone, key
        # the footage moved since (same size and time): the source is read where it is now
        moved = tmp_path / "moved" / key
        moved.parent.mkdir(exist_ok=True)
        (tmp_path / "in" / key).rename(moved)
        assert is_current(path, fingerprint, settings, moved) is not redone, key
        moved.rename(tmp_path / "in" / key)
    every = decode_all(tmp_path / "in" / "wide.mp4", ("pyav",))[1]
    with Footage(tmp_path / "in" / "wide.mp4", len(every)) as footage:
        got = list(footage.frames(20, 22))
    assert [j for j, _ in got] == [20, 21, 22] and all(np.array_equal(img, every[j]) for j, img in got)


def test_a_frame_turned_by_its_orientation_tag_is_named_as_such(tmp_path):
    """A frame folder where one picture carries an EXIF orientation tag (a phone turned) failed with
    'frame 2 is 48x64, the first frame is 64x48', which left the user to guess why."""
    from PIL import Image

    folder = make_frames(tmp_path / "seq", 4)
    turned = Image.open(folder / "002.jpg")
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees to show
    turned.save(folder / "002.jpg", exif=exif)
    with pytest.raises(DecodeError, match=r"frame 2 \(002.jpg\) is 48x64, the first frame is 64x48; the same "
                                          r"picture turned: their EXIF orientation tags differ"):
        list(open_image_folder(folder).frames)
    make_frames(tmp_path / "odd", 2)
    cv2.imwrite(str(tmp_path / "odd" / "002.jpg"), np.zeros((40, 64, 3), np.uint8))  # another size: no such hint
    with pytest.raises(DecodeError, match=r"is 64x40, the first frame is 64x48$"):
        list(open_image_folder(tmp_path / "odd").frames)


@pytest.mark.parametrize("suffix", [".mkv", ".avi"])
def test_a_video_stream_without_a_frame_says_so(tmp_path, suffix):
    """A container whose video stream holds no frame (a recorder stopped before its first one) read
    "no decoder could read the file", as for a file no decoder knows."""
    import av

    path = tmp_path / f"empty{suffix}"
    with av.open(str(path), "w") as container:  # a video stream and a little sound, as recorders mux them
        video = container.add_stream("mpeg4", rate=10)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        _mux_silence(container, "mp2", 1152, np.int16, "s16")
    with pytest.raises(DecodeError, match=r"^the file's video stream holds no frame that decodes"):
        open_video(path)


def test_damage_that_recurs_within_the_repair_window_holds_a_bounded_number_of_frames(tmp_path, monkeypatch):
    """Each damaged packet restarted the REPAIR_WINDOW count, so damage every 25 frames never let the
    held frames go out: 260 of a 300-frame file at once (a long 4K recording damaged so: a worker out
    of memory). At most MAX_HELD are held now, and here the frames that go out are the same as
    holding without a bound gives."""
    import extract.decode as decode

    src = make_h264(tmp_path / "v.mp4", 300, width=160, height=120)
    bad = damage_packets(src, tmp_path / "damaged.mp4", list(range(12, 300, 25)))

    def read():
        stream = open_video(bad, ("pyav",))
        frames, most = [], 0
        for frame in stream.frames:
            frames.append(frame)
            most = max(most, len(stream.reader.held))
        return frames, most, stream.reader.damaged

    frames, most, damaged = read()
    assert decode.REPAIR_WINDOW < most < 200 and len(frames) == 300  # 260 held before
    assert most <= decode.MAX_HELD
    monkeypatch.setattr(decode, "MAX_HELD", 10**9)
    unbounded, held_then, damaged_then = read()
    assert held_then >= 260 and damaged == damaged_then
    assert all(np.array_equal(a, b) for a, b in zip(frames, unbounded, strict=True))


def test_frames_a_transport_stream_never_delivered_are_counted_and_said(tmp_path):
    """An MPEG-TS recording at 25 fps whose packets of frames 100-104 and 150 are gone (what a
    transport stream's destroyed packets leave: no decoder error, the next frames' timestamps skip):
    read without a word before. Now `missing_note` counts them, with where; a clean file's is None."""
    times = [40 * i for i in range(200) if i not in (100, 101, 102, 103, 104, 150)]
    path = make_vfr_h264(tmp_path / "lost.ts", times)
    stream, frames = decode_all(path, ("pyav",))
    assert stream.count == len(frames) == 194 and stream.missing_frames() == 6
    assert stream.missing_note().startswith("6 of the 200 frames from its first to its last never arrived (gaps "
                                            "of whole frames in its timestamps: 5 at 4.20 s, 1 at 6.04 s; ")
    clean, _ = decode_all(make_vfr_h264(tmp_path / "clean.ts", [40 * i for i in range(200)]), ("pyav",))
    assert clean.missing_frames() == 0 and clean.missing_note() is None
    # a variable rate (frames 33 and 67 ms apart, the container saying their average): none missing
    phone, _ = decode_all(make_vfr_h264(tmp_path / "phone.mp4", np.cumsum([0] + [33, 67] * 60).tolist(),
                                        rate=20), ("pyav",))
    assert phone.slots is None and phone.missing_note() is None


def test_bytes_overwritten_in_a_transport_stream_say_how_many_frames_were_lost(tmp_path):
    """Random bytes over three spots of an MPEG-TS file: the demuxer drops the packets it cannot
    parse and says nothing; the frames lost are counted against the slots the timestamps span."""
    src = make_vfr_h264(tmp_path / "v.ts", [100 * i for i in range(240)], rate=10)
    path = damage(src, tmp_path / "hit.ts", ((0.4, 3000), (0.5, 3000), (0.6, 3000)))
    stream, frames = decode_all(path, ("pyav",))
    assert 0 < stream.missing_frames() == 240 - len(frames) - stream.reader.leading_lost
    assert f"{stream.missing_frames()} of the 240 frames from its first to its last never arrived" in stream.missing_note()


def test_missing_frames_note_says_whether_seconds_stay_right(tmp_path):
    """A 10 fps MPEG-TS whose frames 100-102 and 200 never arrived is read by its timestamps: the
    note said "the frames keep its container's rate otherwise, so each later frame's number is that
    many short", read as every later second being off too; its seconds, one timestamp per decoded
    frame, are right, and the note now says so. Where the decoder also dropped frames without an
    error (bytes overwritten in a 160x96 file: 225 timestamps, 215 frames), the timestamps did not
    pair with the frames and the seconds were counted at one rate; each decoded frame's own timestamp
    is read now (tests/test_extract_run.py checks them against the frames' numbers), and the note says
    the seconds stay right."""
    lost = make_vfr_h264(tmp_path / "lost.ts", [100 * i for i in range(300) if i not in (100, 101, 102, 200)],
                         rate=10)
    stream, frames = decode_all(lost, ("pyav",))
    assert len(frames) == 296 and stream.missing_frames() == 4 and len(stream.timing.times) == 296
    note = stream.missing_note()
    assert "its seconds, read from its timestamps, stay right" in note and "container's rate" not in note
    assert "numbered lower than its place in the recording by the frames lost before it" in note
    src = make_vfr_h264(tmp_path / "v.ts", [100 * i for i in range(240)], rate=10, width=160, height=96)
    hit = damage(src, tmp_path / "hit.ts", ((0.4, 3000), (0.5, 3000), (0.6, 3000)))
    stream, frames = decode_all(hit, ("pyav",))
    assert len(stream.timing.times) > len(frames) and stream.missing_frames() > 0
    note = stream.missing_note()  # each decoded frame's own timestamp is kept now (extract.timing.DecodedClock)
    assert stream.clock.drifted and len(stream.clock.final(len(frames))) == len(frames)
    assert "its seconds, read from its timestamps, stay right" in note and "counted at" not in note


def test_a_transport_stream_too_short_to_state_a_rate_gets_none_not_its_clock(tmp_path):
    """An MPEG-TS of one or two frames states no rate, and FFmpeg's guess is its 90 kHz clock: the
    single frame was warned of as "the container says 90000 frames per second, more than cameras
    film", and two frames as "frames unevenly spaced: the container says 90000 fps". Now one frame
    has no rate (NaN), two frames the one their timestamps keep, said as no rate stated; three frames
    keep the rate FFmpeg reads from them."""
    one, _ = decode_all(make_vfr_h264(tmp_path / "one.ts", [0]), ("pyav",))
    assert np.isnan(one.fps)
    two, _ = decode_all(make_vfr_h264(tmp_path / "two.ts", [0, 100]), ("pyav",))
    assert two.fps == pytest.approx(10.0) and two.timing.note().startswith("the container states no frame rate, its 2 "
                                                                          "frames span 0.10 s")
    three, _ = decode_all(make_vfr_h264(tmp_path / "three.ts", [0, 100, 200], rate=10), ("pyav",))
    assert three.fps == pytest.approx(10.0)
