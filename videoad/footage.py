"""The footage at a moment: frames read by seeking, short clips written for a browser.

Why seeking: a thumbnail at minute 59 of an hour-long video must not decode the 59 minutes
before it. `Footage.frames(first, last)` seeks PyAV to the keyframe at or before `first` and
decodes forward from there; a frame's index is its timestamp times the frame rate (frames are
numbered from 0 as extraction counted them, which holds for constant-frame-rate files), or, for
a file whose frames do not keep its container's rate (extract.timing), its place among the
file's sorted packet timestamps, as extraction counted them. A file whose timestamps cannot be
used (missing, going back mid-file, more of them than frames decoded, or the seek lands past the
wanted frame) is read from its start instead, counting frames as extraction did.
Image-sequence folders (UCSD Ped2's `001.tif ...`) are read frame by frame from their files.

Clips are H.264 in MP4 (`libx264`, yuv420p, the moov atom first so that a browser starts at
once) when PyAV's FFmpeg has the encoder, else VP9 in WebM; both play in Chromium and Firefox.
"""
from __future__ import annotations

import logging
import math
import os
from fractions import Fraction
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np

from extract.decode import c_path, upright
from extract.video_stream import main_video_stream, sample_aspect

log = logging.getLogger(__name__)

#: frame rate written into clips of sources whose rate is unknown (image folders)
FALLBACK_FPS = 25.0


class FootageError(RuntimeError):
    """A source that cannot be read at the wanted frames; the message names the file."""


class PyAVMissing(FootageError):
    """PyAV, which reads the frames of event pictures and writes the clips, is not installed."""


def _pyav():
    """The `av` module, or PyAVMissing saying how to install it (a raw ModuleNotFoundError ended a
    report after its slow stages, and read as an unreadable source)."""
    try:
        import av
    except ImportError as exc:
        raise PyAVMissing(f"PyAV is not installed ({exc}): event pictures and clips need it; it is a dependency of "
                          "videoad: pip install av (or reinstall videoad)") from None
    return av


class Footage:
    """Random access to the frames of a video file or an image-sequence folder (RGB uint8)."""

    def __init__(self, source: str | os.PathLike, n_frames: int | None = None):
        """`n_frames`: the decoded frame count extraction recorded; when the container's own
        count disagrees with it (a file whose timestamps skip, like `tree.avi`, claiming 444
        frames and holding 68), timestamps cannot name frames and every read decodes from the
        start."""
        self.path = Path(source)
        if not self.path.exists():
            raise FootageError(f"{self.path}: source not found")
        self._container = None
        self._images: list[Path] | None = None
        self.fps: float | None = None
        self.seeks = 0  # seeks made, and frames decoded: what a read cost (tests check both)
        self.decoded = 0
        if self.path.is_dir():
            from extract.sources import image_files

            self._images = image_files(self.path)
            if not self._images:
                raise FootageError(f"{self.path}: the folder holds no image files")
            return
        av = _pyav()
        try:
            self._container = av.open(os.fspath(self.path))
            self._stream = main_video_stream(self._container)
        except (av.FFmpegError, IndexError, OSError) as exc:
            self.close()
            raise FootageError(f"{self.path}: cannot open the video ({exc})") from None
        rate = self._stream.average_rate or self._stream.guessed_rate
        self.fps = float(rate) if rate else None
        self._aspect = sample_aspect(self._stream)  # pictures as extraction read them: stretched where pixels are not square
        self._start = self._stream.start_time or 0
        self.seekable = bool(self.fps and self._stream.time_base)
        self._pts = None
        why = self._unnamed(n_frames)
        if why:
            log.info("%s: %s: reading from the start", self.path, why)
            self.seekable = False

    def _unnamed(self, n_frames: int | None) -> str | None:
        """Why the frames' own timestamps cannot name them as extraction counted them, or None.
        Sets `_pts` for a file whose frames do not keep its container's rate (extract.timing):
        frame i is then the one with the i-th timestamp; the others' index is timestamp x rate."""
        from extract.timing import packet_table, variable_timing

        table = packet_table(os.fspath(self.path))
        if table is not None and table.restarts:
            # decoded frames carry the stamps as written (an MPEG-TS clock set back an hour: 2**33 ticks
            # added by FFmpeg), not as read: one named a frame of the first run, or none
            return "its timestamps go back (a clock set back, recordings joined), so they do not name its frames"
        if table is not None:
            times = (table.pts - table.pts[0]).astype(np.float64) * float(table.base)
            if variable_timing(times, self.fps or math.nan) is not None:
                if n_frames is not None and len(table.pts) != int(n_frames):
                    # packets that gave no frame (lost data the decoder skipped without an error): after them
                    # the i-th timestamp is a later frame than extraction's i-th
                    return f"{len(table.pts)} frames have timestamps, {n_frames} were decoded"
                self._pts = table.pts
                self.seekable = True  # frames named by their own timestamps, whatever the container claims
                return None
        claimed = self._claimed_frames()
        if n_frames is not None and claimed is not None and abs(claimed - int(n_frames)) > 1:
            return f"the container says {claimed} frames, {n_frames} were decoded"
        return None

    def _claimed_frames(self) -> int | None:
        if self._stream.frames:
            return int(self._stream.frames)
        if self._stream.duration and self.fps:
            return int(round(float(self._stream.duration * self._stream.time_base) * self.fps))
        return None

    def __enter__(self) -> "Footage":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._container is not None:
            self._container.close()
            self._container = None

    # -- reading ---------------------------------------------------------------------------------
    def frame(self, index: int) -> np.ndarray:
        for i, img in self.frames(index, index):
            return img
        raise FootageError(f"{self.path}: frame {index} is past the end of the video")

    def frames(self, first: int, last: int) -> Iterator[tuple[int, np.ndarray]]:
        """(index, RGB frame) for every frame from `first` to `last` inclusive that exists."""
        first = max(0, int(first))
        if self._images is not None:
            yield from self._image_frames(first, int(last))
            return
        if self.seekable:
            done = first - 1
            try:
                for i, img in self._seeked(first, int(last)):
                    done = i
                    yield i, img
                return
            except _NoTimestamps as why:
                log.info("%s: %s; decoding from the start", self.path, why)
            except _Damaged as why:  # the rest from the start, with the damage filled in as extraction did
                log.info("%s: %s; decoding from the start", self.path, why)
                first = done + 1
        yield from self._sequential(first, int(last))

    def _image_frames(self, first: int, last: int) -> Iterator[tuple[int, np.ndarray]]:
        import cv2

        for i in range(first, min(last, len(self._images) - 1) + 1):
            with c_path(self._images[i]) as usable:  # a folder whose name is not UTF-8 crashed OpenCV
                img = cv2.imread(usable, cv2.IMREAD_COLOR)
            if img is None:
                raise FootageError(f"{self._images[i]}: cannot be read as an image")
            yield i, cv2.cvtColor(img, cv2.COLOR_BGR2RGB)

    def _index(self, frame) -> int | None:
        if frame.pts is None:
            return None
        if self._pts is not None:
            i = int(np.searchsorted(self._pts, frame.pts))
            return i if i < len(self._pts) and self._pts[i] == frame.pts else None
        return int(round(float((frame.pts - self._start) * self._stream.time_base) * self.fps))

    def _seeked(self, first: int, last: int) -> Iterator[tuple[int, np.ndarray]]:
        import av

        tb = self._stream.time_base
        if self._pts is not None:
            target = int(self._pts[min(first, len(self._pts) - 1)])
        else:
            target = self._start + int(math.floor(first / self.fps / tb))
        try:
            self._container.seek(max(target, self._start), stream=self._stream, backward=True, any_frame=False)
        except av.FFmpegError as exc:
            raise _NoTimestamps(f"cannot seek ({exc})") from None
        self.seeks += 1
        started = False
        try:
            for frame in self._container.decode(self._stream):
                self.decoded += 1
                i = self._index(frame)
                if i is None:
                    if not started:
                        raise _NoTimestamps("a frame without a timestamp")
                    raise FootageError(f"{self.path}: a frame without a timestamp after frame {first}")
                if not started:
                    if i > first:
                        raise _NoTimestamps(f"the seek landed on frame {i}, after frame {first}")
                    started = True
                if i < first:
                    continue
                if i > last:
                    return
                yield i, upright(frame, self._aspect)
        except av.FFmpegError as exc:
            raise _Damaged(f"damaged data near frame {first} ({exc})") from None
        if not started:  # an MPEG-TS or FLV seek into the last GOP lands past the data: read from the start
            raise _NoTimestamps(f"the seek to frame {first} found no frame")

    def _sequential(self, first: int, last: int) -> Iterator[tuple[int, np.ndarray]]:
        """Every frame from the start, counted as extraction counts them: damaged packets' frames
        filled in (`extract.decode.PyAVFrames`), so frame i is extraction's frame i."""
        import av

        from extract.decode import DecodeError, PyAVFrames

        self.close()  # a fresh demuxer for later seeks: a failed seek may have left it anywhere
        self._container = av.open(os.fspath(self.path))
        self._stream = main_video_stream(self._container)
        container = av.open(os.fspath(self.path))  # this read's own, closed with it
        reader = PyAVFrames(container, main_video_stream(container))
        try:
            for i, image in enumerate(reader):
                self.decoded += 1
                if i > last:
                    return
                if i >= first:
                    yield i, image
        except (av.FFmpegError, DecodeError) as exc:
            raise FootageError(f"{self.path}: decoding failed ({exc})") from None
        finally:
            reader.close()


class _Damaged(Exception):
    """Damaged data met after a seek: read from the start instead, as extraction read it."""


class _NoTimestamps(Exception):
    pass


def read_frames(source: str | os.PathLike, indices: Iterable[int], n_frames: int | None = None
                ) -> dict[int, np.ndarray]:
    """RGB frames at the given 0-based indices of a video file or image folder, one seek each."""
    out = {}
    with Footage(source, n_frames) as f:
        for i in sorted(set(int(i) for i in indices)):
            for j, img in f.frames(i, i):
                out[j] = img
    return out


# -- writing clips -------------------------------------------------------------------------------

def clip_format() -> tuple[str, str]:
    """(file suffix, encoder) of the clips this installation writes: H.264 MP4, else VP9 WebM."""
    _pyav()
    from av.codec import codecs_available

    if "libx264" in codecs_available:
        return ".mp4", "libx264"
    if "libvpx-vp9" in codecs_available:
        return ".webm", "libvpx-vp9"
    raise FootageError("PyAV's FFmpeg has neither libx264 nor libvpx-vp9: no browser-playable encoder")


def write_clip(frames: Iterable[np.ndarray], out_path: str | os.PathLike, fps: float,
               *, max_width: int = 960) -> Path:
    """Encode RGB frames into `out_path` (its suffix picks MP4/H.264 or WebM/VP9); atomic.

    Frames wider than `max_width` are scaled down (a 4K camera's clip stays a few MB); sizes
    are made even, as yuv420p requires.
    """
    import av
    import cv2

    from extract.store import temp_path

    out = Path(out_path)
    encoder = {".mp4": "libx264", ".webm": "libvpx-vp9"}.get(out.suffix.lower())
    if encoder is None:
        raise ValueError(f"{out}: clips are .mp4 or .webm")
    out.parent.mkdir(parents=True, exist_ok=True)
    # a temporary of this process's own, named as every atomic write's (extract.store.write_atomic):
    # two reports into one folder each wrote into one shared name and renamed each other's half-files
    tmp = temp_path(out)
    rate = Fraction(fps if fps and fps > 0 else FALLBACK_FPS).limit_denominator(1001)
    options = {"movflags": "+faststart"} if encoder == "libx264" else {}
    n, done = 0, False
    container = av.open(os.fspath(tmp), "w", format=out.suffix.lower().lstrip("."), options=options)
    try:
        stream = None
        for img in frames:
            h, w = img.shape[:2]
            if stream is None:
                scale = min(1.0, max_width / w)
                W, H = int(w * scale) // 2 * 2, int(h * scale) // 2 * 2
                stream = container.add_stream(encoder, rate=rate)
                stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
                # the same frames do not always give the same bytes (libx264 here, with one thread or
                # several: measured, not explained; docs/video.md); the frames handed to it are the same
                stream.options = ({"crf": "23", "preset": "veryfast"} if encoder == "libx264"
                                  else {"crf": "32", "b": "0", "deadline": "realtime", "cpu-used": "8"})
            if (w, h) != (W, H):
                img = cv2.resize(img, (W, H), interpolation=cv2.INTER_AREA)
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="rgb24")
            container.mux(stream.encode(frame))
            n += 1
        if stream is None:
            raise FootageError(f"{out}: no frame to write")
        container.mux(stream.encode(None))
        done = True
    finally:
        try:
            # writes the trailer (with faststart, the whole file again): a full disk fails it too, and
            # its error, raised here, skipped the removal below and left the half-clip
            container.close()
        except BaseException:
            done = False
            raise
        finally:
            if not done:  # no frame, a read that failed partway, a full disk: no half-clip left behind
                tmp.unlink(missing_ok=True)
    tmp.replace(out)
    return out


def clip_frames(footage: Footage, first: int, last: int,
                draw: Callable[[int, np.ndarray], np.ndarray] | None = None) -> Iterator[np.ndarray]:
    """Frames `first`..`last` of `footage`, each passed through `draw(index, frame)` when given."""
    for i, img in footage.frames(first, last):
        yield draw(i, img) if draw is not None else img
