"""Small media the extraction tests make themselves, and misbehaving decoders for fault tests.

Frame i of a generated video carries its index modulo `CODE_PERIOD` in the brightness of the
left half (8 grey levels apart, so codec error cannot blur two together) and a bar that moves right by `speed`
pixels per frame (so there is motion to describe).
"""
from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import cv2
import numpy as np

from extract.backbones.motion import MotionBackbone

from _paths import shared  # noqa: E402,F401 - the data tests import it from here


CODE_PERIOD = 28


def frame_code(i: int) -> int:
    return 16 + (i % CODE_PERIOD) * 8


def synthetic_frame(i: int, width: int = 64, height: int = 48, speed: int = 2) -> np.ndarray:
    """RGB frame i (see the module docstring)."""
    frame = np.zeros((height, width, 3), np.uint8)
    frame[:, : width // 2] = frame_code(i)
    x = (width // 2 + i * speed) % (width // 2) + width // 2
    frame[height // 4: 3 * height // 4, max(x - 3, width // 2): x + 3] = 255
    return frame


def decoded_code(frame: np.ndarray) -> int:
    """The index modulo CODE_PERIOD that a decoded frame shows (closest brightness level)."""
    level = float(frame[:, : frame.shape[1] // 4].mean())
    return min(range(CODE_PERIOD), key=lambda i: abs(frame_code(i) - level))


def make_video(path: Path, n_frames: int, fps: float = 25.0, width: int = 64, height: int = 48,
               fourcc: str = "mp4v", speed: int = 2) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(os.fspath(path), cv2.VideoWriter_fourcc(*fourcc), fps, (width, height))
    assert writer.isOpened(), f"cannot write {path} with {fourcc}"
    for i in range(n_frames):
        writer.write(cv2.cvtColor(synthetic_frame(i, width, height, speed), cv2.COLOR_RGB2BGR))
    writer.release()
    return path


def make_h264(path: Path, n_frames: int, fps: int = 25, width: int = 64, height: int = 48,
              aspect=None) -> Path:
    """H.264 with B-frames through PyAV's bundled libx264 (OpenCV cannot write H.264 here);
    `aspect` (a Fraction) states non-square pixels, as a recorder of analogue cameras does."""
    import av

    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(os.fspath(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        if aspect is not None:
            stream.codec_context.sample_aspect_ratio = aspect
        stream.options = {"crf": "18", "bf": "2", "g": "12"}
        for i in range(n_frames):
            frame = av.VideoFrame.from_ndarray(synthetic_frame(i, width, height), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def make_raw_stream(path: Path, n_frames: int, fps: int = 10, hevc: bool = False, vui_timing: bool = True,
                    keyframes: int | None = None) -> Path:
    """A raw H.264 or HEVC elementary stream (no container, no timestamps), as recorders export
    `.264`/`.h265`; its VUI timing states `fps`, or, for HEVC (x265 can leave it out), nothing.
    `keyframes`: H.264 with a keyframe every so many frames, each with its headers (as recorders write)."""
    import av

    path.parent.mkdir(parents=True, exist_ok=True)
    assert vui_timing or hevc, "x264 always writes VUI timing"
    with av.open(os.fspath(path), "w", format="hevc" if hevc else "h264") as container:
        stream = container.add_stream("libx265" if hevc else "libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        if hevc:
            stream.options = {"x265-params": "log-level=error" + ("" if vui_timing else ":vui-timing-info=0")}
        elif keyframes:
            stream.options = {"g": str(keyframes), "x264-params": f"repeat-headers=1:scenecut=0:min-keyint={keyframes}"}
        for i in range(n_frames):
            for packet in stream.encode(av.VideoFrame.from_ndarray(synthetic_frame(i), format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def make_frames(folder: Path, n_frames: int, ext: str = ".jpg", pattern: str = "{:03d}",
                grey: bool = False) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n_frames):
        frame = cv2.cvtColor(synthetic_frame(i), cv2.COLOR_RGB2BGR)
        if grey:
            frame = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        cv2.imwrite(os.fspath(folder / (pattern.format(i) + ext)), frame)
    return folder


def truncate(src: Path, dst: Path, keep: float = 0.5) -> Path:
    data = src.read_bytes()
    dst.write_bytes(data[: int(len(data) * keep)])
    return dst


# -- decoders for fault tests (named "_extract_media:stall_open" etc.; workers import them) --
def stall_open(path: str):
    """A decoder that never returns, like decord in a native hang."""
    time.sleep(3600)
    raise AssertionError("unreachable")


def crash_open(path: str):
    """A decoder that takes its process down, like a native crash."""
    os.kill(os.getpid(), signal.SIGSEGV)
    time.sleep(60)
    raise AssertionError("unreachable")


def crash_once(path: str):
    """PyAV whose process is killed the first time it opens `path` (the OOM killer, a kill from
    outside); a marker file beside the video remembers it."""
    marker = Path(f"{path}.killed-once")
    if not marker.exists():
        marker.write_text("")
        os.kill(os.getpid(), signal.SIGKILL)
        time.sleep(60)
    from extract.decode import open_pyav

    return open_pyav(path)


def refuse_open(path: str):
    raise RuntimeError("refused on purpose")


def stall_after_frames(path: str):
    """Decodes 20 frames through PyAV, then hangs (decord's over-reported-count hang)."""
    from extract.decode import open_pyav

    fps, claimed, frames = open_pyav(path)

    def gen():
        for i, frame in enumerate(frames):
            if i == 20:
                time.sleep(3600)
            yield frame

    return fps, claimed, gen()


def slow_pyav(path: str):
    """PyAV at about 50 frames/s, so that a test can kill a run in the middle."""
    from extract.decode import open_pyav

    fps, claimed, frames = open_pyav(path)

    def gen():
        for frame in frames:
            time.sleep(0.02)
            yield frame

    return fps, claimed, gen()


def make_vfr_h264(path: Path, times_ms: list[int], rate: int = 25, width: int = 64, height: int = 48,
                  picture=None, bframes: int = 2) -> Path:
    """H.264 (with B-frames) whose frame i is shown at times_ms[i]: uneven spacing, as a camera
    that drops frames writes it; the container's rate says `rate`. `picture(i)`: frame i's RGB
    array (`synthetic_frame` by default). `bframes` over 2: that many B-frames between every two
    others, always (deep reordering: a frame decoded up to `bframes` frames after later ones); 0: none,
    every frame decoded in the order it is shown."""
    import fractions

    import av

    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(os.fspath(path), "w") as container:
        stream = container.add_stream("libx264", rate=rate)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.codec_context.time_base = fractions.Fraction(1, 1000)
        stream.options = {"crf": "18", "bf": str(min(bframes, 2)), "g": "12"}
        if bframes > 2:
            stream.options = {"crf": "18", "bf": str(bframes), "g": str(4 * (bframes + 1)),
                              "x264-params": "b-adapt=0:scenecut=0"}
        for i, ms in enumerate(times_ms):
            rgb = synthetic_frame(i, width, height) if picture is None else picture(i)
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts, frame.time_base = int(ms), fractions.Fraction(1, 1000)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def make_size_change(path: Path, n_first: int, n_second: int, scale: int = 2) -> Path:
    """MPEG-TS H.264 whose picture changes size part-way: `n_first` frames at 64x48, then
    `n_second` at `scale` times that (two transport streams joined, as a camera switching
    streams records them); the second part's frame codes start again at 0."""
    first = make_h264(path.with_name(path.stem + "_a.ts"), n_first)
    second = make_h264(path.with_name(path.stem + "_b.ts"), n_second, width=64 * scale, height=48 * scale)
    path.write_bytes(first.read_bytes() + second.read_bytes())
    first.unlink()
    second.unlink()
    return path


def rotate_mp4(src: Path, dst: Path, degrees: int) -> Path:
    """A copy of MP4 `src` whose track header's display matrix turns the picture `degrees`
    clockwise when played (90, 180 or 270), as a phone filming upright stores its video."""
    import struct

    data = bytearray(src.read_bytes())
    at = data.find(b"tkhd")
    version = data[at + 4]
    # tkhd: version/flags, times and track id (20 bytes, 32 in version 1), duration's tail, 8
    # reserved, layer, group, volume, reserved (8): then the 3x3 matrix of 16.16 / 2.30 numbers
    offset = at + 4 + 4 + (32 if version == 1 else 20) + 8 + 8
    a, b, c, d = {90: (0, 1, -1, 0), 180: (-1, 0, 0, -1), 270: (0, -1, 1, 0)}[degrees]
    data[offset:offset + 36] = struct.pack(">9i", a << 16, b << 16, 0, c << 16, d << 16, 0, 0, 0, 1 << 30)
    dst.write_bytes(bytes(data))
    return dst


def damage(path: Path, dst: Path, spots: tuple[tuple[float, int], ...] = ((0.4, 300), (0.6, 2000)),
           seed: int = 1) -> Path:
    """A copy of `path` with seeded random bytes written over (fraction of the file, length)
    spots: damaged data, the file's size unchanged (so not truncated)."""
    data = bytearray(path.read_bytes())
    rng = np.random.default_rng(seed)
    for at, length in spots:
        start = int(len(data) * at)
        data[start:start + length] = rng.integers(0, 256, length, dtype=np.uint8).tobytes()
    dst.write_bytes(bytes(data))
    return dst


def damage_packets(path: Path, dst: Path, frames: list[int]) -> Path:
    """A copy of H.264 MP4 `path` in which the packets of the given frames (presentation order)
    start with an impossible NAL length, so that the decoder refuses exactly them: damage at
    known frames (`damage` is damage at known bytes)."""
    import av

    data = bytearray(path.read_bytes())
    with av.open(os.fspath(path)) as container:
        packets = sorted((p.pts, p.pos) for p in container.demux(video=0) if p.size)
    for i in frames:
        at = packets[i][1]
        data[at:at + 4] = b"\xff\xff\xff\xff"
    dst.write_bytes(bytes(data))
    return dst


def make_two_cameras(path: Path, n_frames: int = 40, cover: bool = False) -> Path:
    """One file with two video streams (a recorder's export of two cameras): stream 0 the
    synthetic 64x48 frames, stream 1 another picture at 128x96. With `cover`, the second stream is
    a one-frame cover picture instead (disposition attached_pic), as phones and editors add."""
    import av
    from av.stream import Disposition

    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(os.fspath(path), "w") as container:
        main = container.add_stream("libx264", rate=25)
        main.width, main.height, main.pix_fmt = 64, 48, "yuv420p"
        other = container.add_stream("mjpeg" if cover else "libx264", rate=25)
        other.width, other.height, other.pix_fmt = 128, 96, "yuvj420p" if cover else "yuv420p"
        if cover:
            other.disposition = Disposition.attached_pic
        for i in range(1 if cover else n_frames):
            picture = np.full((96, 128, 3), 40 + 3 * i, np.uint8)
            container.mux(other.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")))
        container.mux(other.encode())
        for i in range(n_frames):
            container.mux(main.encode(av.VideoFrame.from_ndarray(synthetic_frame(i), format="rgb24")))
        container.mux(main.encode())
    return path


def make_unknown_codec(path: Path, n_frames: int = 20, unknown: tuple[int, ...] = (0,), streams: int = 1) -> Path:
    """An AVI of `streams` MJPEG video streams of the synthetic frames, with the streams numbered in
    `unknown` relabelled to a fourcc no decoder knows (ZQZQ), as a recorder's own codec is: FFmpeg
    finds no decoder for them, and PyAV gives those streams no codec context."""
    import av

    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(os.fspath(path), "w", format="avi") as container:
        outs = []
        for _ in range(streams):
            stream = container.add_stream("mjpeg", rate=25)
            stream.width, stream.height, stream.pix_fmt = 64, 48, "yuvj420p"
            outs.append(stream)
        for i in range(n_frames):
            for stream in outs:
                picture = av.VideoFrame.from_ndarray(synthetic_frame(i), format="rgb24").reformat(format="yuvj420p")
                container.mux(stream.encode(picture))
        for stream in outs:
            container.mux(stream.encode())
    data = bytearray(path.read_bytes())
    header = data.find(b"movi")
    for index in unknown:  # each stream's list: its header (strh) names the codec, its format (strf) too
        at = -1
        for _ in range(index + 1):
            at = data.find(b"strl", at + 1, header)
        end = data.find(b"strl", at + 1, header)
        end = header if end < 0 else end
        for tag in (b"MJPG", b"mjpg"):
            found = data.find(tag, at, end)
            while found >= 0:
                data[found:found + 4] = b"ZQZQ"
                found = data.find(tag, found + 4, end)
    path.write_bytes(bytes(data))
    return path


class SlowPreprocess(MotionBackbone):
    """The motion backbone with per-clip preprocessing that takes `delay` seconds (as a huge working
    size does): the backbone's work, not the decoder's. Importable, so spawned workers unpickle it."""

    def __init__(self, delay: float = 0.0, **options) -> None:
        super().__init__(**options)
        self.delay = delay

    def preprocess_prepared(self, prepared, sources):
        time.sleep(self.delay)
        return super().preprocess_prepared(prepared, sources)


class DiesInWorker(MotionBackbone):
    """A backbone whose unpickling ends the process (exit code 7): decode workers that die as they start."""

    def __reduce__(self):
        return os._exit, (7,)
