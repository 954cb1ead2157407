"""The footage at a moment: frames read by seeking, short clips written for a browser.

Why seeking: a thumbnail at minute 59 of an hour-long video must not decode the 59 minutes
before it. `Footage.frames(first, last)` seeks PyAV to the keyframe at or before `first` and
decodes forward from there; a frame's index is its timestamp times the frame rate (frames are
numbered from 0 as extraction counted them, which holds for constant-frame-rate files), or, for
a file whose frames do not keep its container's rate (extract.timing), its place among the
file's sorted packet timestamps, as extraction counted them. An MPEG-TS whose timestamps cannot
name its frames (going back mid-file, more of them than frames decoded, or the seek lands past the
wanted frame) is entered at a keyframe by its byte position, whose place in extraction's count is
known (`Footage._unstamped`); other files whose timestamps cannot be used are read from their start,
counting frames as extraction did.
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
from extract.video_stream import TextFile, main_video_stream, sample_aspect

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
        self._reader = None  # `_Reader`: extraction's frames from the start, read once, for the index it leaves
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
        except TextFile:
            self.close()
            raise FootageError(f"{self.path}: a text file, not a video (scores of imported features written before "
                               "2026-12-07 named their feature file as footage: rerun `videoad detect`)") from None
        except (av.FFmpegError, IndexError, OSError) as exc:
            self.close()
            raise FootageError(f"{self.path}: cannot open the video ({exc})") from None
        rate = self._stream.average_rate or self._stream.guessed_rate
        self.fps = float(rate) if rate else None
        self._aspect = sample_aspect(self._stream)  # pictures as extraction read them: stretched where pixels are not square
        self._start = self._stream.start_time or 0
        self.seekable = bool(self.fps and self._stream.time_base)
        self._pts = None
        self._table = None  # extract.timing.Packets: where a read can start without the frames' own timestamps
        self._n_frames = n_frames
        self._keyed: tuple[list, list] | None = None  # (timestamp per frame, [(frame, byte position)]): `_key_index`
        why = self._unnamed(n_frames)
        if why:
            log.info("%s: %s: not read by its timestamps", self.path, why)
            self.seekable = False

    def _unnamed(self, n_frames: int | None) -> str | None:
        """Why the frames' own timestamps cannot name them as extraction counted them, or None.
        Sets `_pts` for a file whose frames do not keep its container's rate (extract.timing):
        frame i is then the one with the i-th timestamp; the others' index is timestamp x rate."""
        from extract.timing import packet_table, variable_timing

        table = self._table = packet_table(os.fspath(self.path))
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
        if self._reader is not None:
            self._reader.close()
            self._reader = None
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
                log.info("%s: %s; reading by its keyframes", self.path, why)
            except _Damaged as why:  # the rest from the start, with the damage filled in as extraction did
                log.info("%s: %s; decoding from the start", self.path, why)
                yield from self._sequential(done + 1, int(last))
                return
        yield from self._unstamped(first, int(last))

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

    # -- files whose own timestamps do not name their frames ----------------------------------------
    def _unstamped(self, first: int, last: int) -> Iterator[tuple[int, np.ndarray]]:
        """Frames `first`..`last` of a file whose timestamps cannot name them (going back, frames lost,
        a seek that lands past): an MPEG-TS is entered at a keyframe whose place in extraction's count is
        known, found by its byte position (a timestamp names two frames once a clock went back), and
        each frame decoded from there is checked against the timestamp extraction's frame there had.
        Decoding from the start for each event cost events x file length (a clock set back: 10 events
        of a 3000-frame recording decoded 15,000 frames). The places come from the packet table where
        its count is extraction's (`_key_index`), else from one read from the start (`_Reader`) that
        later events of the file reuse. Other containers are read from their start."""
        if self._table is None or self._table.pos is None or not _byte_seekable(self._container):
            yield from self._sequential(first, last)
            return
        keyed = self._key_index()
        at = first
        if keyed is not None:
            at = yield from self._from_key(*keyed, at, last)
        if at > last or (keyed is not None and at >= len(keyed[0])):  # past its last frame: nothing more
            return
        reader = self._reader
        if reader is not None and reader.count > at:  # passed already: enter at a keyframe it found
            at = yield from self._from_key(reader.stamps, reader.keys, at, last)
            if at > last or (reader.done and at >= reader.count):
                return
            if reader.count > at:  # no keyframe it found leads there unchanged: from the start again
                reader.close()
                reader = None
        if reader is None:
            reader = self._reader = _Reader(self.path, self._table)
        for i, img in reader.upto(last, self):
            if i >= at:
                yield i, img

    def _key_index(self) -> tuple[list, list] | None:
        """(each frame's own timestamp, [(frame, byte position of its keyframe packet)]) in extraction's
        count from the packet table, which puts the frames of a run that restarts after the run before
        (extract.timing); None where its count is not extraction's (packets lost: frames that never
        decoded) or it has no byte positions."""
        if self._keyed is None:
            t = self._table
            if self._n_frames is None or len(t.pts) != int(self._n_frames):
                return None
            order = np.argsort(t.read, kind="stable")
            rank = np.empty_like(order)
            rank[order] = np.arange(len(order))
            keys = sorted((int(rank[k]), int(t.pos[k])) for k in np.flatnonzero(t.keys & (t.pos >= 0)))
            self._keyed = (t.stamped[order].tolist(), keys)
        return self._keyed

    def _from_key(self, stamps: list, keys: list, first: int, last: int):
        """Frames from `first` decoded from the last keyframe at or before it in `keys` while each has the
        timestamp `stamps` names for its place; yields them, returns the first frame not given."""
        import av

        k = _last_at_or_before(keys, first)
        if k is None:
            return first
        i, pos = keys[k]
        try:
            self._container.seek(pos, unsupported_byte_offset=True)
        except av.FFmpegError:
            return first
        self.seeks += 1
        try:
            for frame in self._container.decode(self._stream):
                self.decoded += 1
                if i >= len(stamps) or frame.pts is None or frame.pts != stamps[i]:
                    return max(i, first)  # not the frame extraction had there (damage, a file changed)
                if i > last:
                    return i
                if i >= first:
                    yield i, upright(frame, self._aspect)
                i += 1
        except av.FFmpegError:
            pass
        return max(i, first)

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


def _byte_seekable(container) -> bool:
    """Whether a read can start at a packet's byte position: MPEG-TS and MPEG-PS, whose demuxers find
    the next packet from any byte (others' index or headers go wrong there)."""
    return bool(container is not None and {"mpegts", "mpeg"} & set((container.format.name or "").split(",")))


def _last_at_or_before(keys: list, first: int) -> int | None:
    import bisect

    k = bisect.bisect_right(keys, (first, math.inf)) - 1
    return k if k >= 0 else None


class _Reader:
    """Extraction's frames of a file from its start (`extract.decode.PyAVFrames`), read as far as asked
    and kept open for the next event: each frame's own timestamp (None for damage filled in) and the
    frames that are keyframes, with their packets' byte positions (matched in demux order), so that
    a later read of frames it passed starts at one of them (`Footage._from_key`)."""

    LOOK = 4  # keyframe packets looked ahead for a frame's timestamp (one lost keyframe is passed by)

    def __init__(self, path: Path, table) -> None:
        import av

        from extract.decode import PyAVFrames

        container = av.open(os.fspath(path))
        self._frames = PyAVFrames(container, main_video_stream(container))
        at = np.flatnonzero(table.keys & (table.pos >= 0))
        self._key_packets = list(zip(table.stamped[at].tolist(), table.pos[at].tolist()))
        self._next_key = 0
        self.stamps: list = []
        self.keys: list = []
        self.done = False

    @property
    def count(self) -> int:
        return len(self.stamps)

    def upto(self, last: int, footage: "Footage") -> Iterator[tuple[int, np.ndarray]]:
        """Frames from where it stands to `last` (or the end)."""
        import av

        from extract.decode import DecodeError

        try:
            while not self.done and self.count <= last:
                try:
                    image = next(self._frames)
                except StopIteration:
                    self.done = True
                    return
                footage.decoded += 1
                i, pts = self.count, self._frames.shown_pts
                self.stamps.append(pts)
                ahead = self._key_packets[self._next_key:self._next_key + self.LOOK]
                hit = next((n for n, (stamp, _) in enumerate(ahead) if stamp == pts), None)
                if pts is not None and hit is not None:
                    self.keys.append((i, ahead[hit][1]))
                    self._next_key += hit + 1
                yield i, image
        except (av.FFmpegError, DecodeError) as exc:
            raise FootageError(f"{footage.path}: decoding failed ({exc})") from None

    def close(self) -> None:
        self._frames.close()


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
