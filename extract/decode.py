"""Frame sources: video files through PyAV, decord or OpenCV, and image-sequence folders.

Every source streams RGB uint8 frames one at a time and counts them: the number of frames a
video has is the number that decoded, never the container's claim (`tree.avi` in the shared
test data claims 444 and holds 68).

Order: PyAV first, decord if PyAV cannot read the file, OpenCV last. decord was the plan, but
measured here (docs/extract.md) its threaded decoder reads ahead into an unbounded queue
whenever the consumer is slower than decoding, which a feature extractor always is: read at
3 ms a frame, the 795-frame vtest.avi took 500 MB with decord and under 60 MB with PyAV or
OpenCV, and decord was not faster. PyAV streams in order, raises on damaged data and bundles
a current FFmpeg; decord's older FFmpeg 4.1 is a useful second opinion; OpenCV cannot tell an
error from the end of the stream, so it comes last.

Truncation: a file shorter than its own container says (an AVI's RIFF size, an MP4's boxes,
a Matroska segment) fails before any decoder runs. Decoders often read such a file up to the
cut without an error (PyAV read 18 of 48 frames of a half AVI and stopped quietly), so the
video would pass for a shorter one.

Fallback: the backends are tried in order until one opens the file *and* decodes its first
frame. An error after frames have been produced fails the video instead of switching backend:
by then the file is damaged (PyAV has already filled in what its decoder refused; what is left
is damage to the container), and OpenCV, the last resort, cannot tell a damaged stream from its
end, so falling back would silently shorten the video.

Damage: PyAV decodes packet by packet; a packet its decoder refuses costs that frame (and the frames
that needed it, up to the next keyframe), filled in with the frame before it where the timestamps
put them (`PyAVFrames`), so one bad spot in a long recording neither fails the video nor shifts
its later frames. Damage to most frames, or to the container itself, still fails it; decord and
OpenCV (the fallbacks) stop at the damage.

Timing: a file whose frames do not keep its container's rate (read from PyAV's packet timestamps)
is read at the rate its frames keep, and sampled by timestamp (extract.timing).

Size: a video or stream whose picture changes size part-way (a camera switched between its main
and sub stream, a recorder's export joining two settings) keeps the first frame's size: later
frames are resized to it (`FrameStream.size_changes` says where, for the extraction's notes), so
one video stays one scene at one scale instead of failing at the first clip that spans the change.
An image folder with a frame of another size still fails, naming the file (a stray image).
Non-square pixels (a recorder's 720x576 shown at 4:3) are stretched to the width a player shows,
by every decoder alike (`upright`, `_stretched`; extract.video_stream.sample_aspect).

Decoder names are "decord", "pyav", "opencv", or "package.module:function" for a custom opener
with the signature of `open_decord` (for formats the three cannot read).
"""
from __future__ import annotations

import importlib
import importlib.util
import math
import os
import struct
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from .clips import MAX_PLAUSIBLE_FPS
from .sources import names_shown
from .timing import DecodedClock, Slots, Timing, frame_slots, packet_table, variable_timing
from .video_stream import (TextFile, decodable, display_width, is_picture, is_text_file, main_video_stream,
                           probe_sample_aspect, quarter_turns, raw_stream_rate, sample_aspect)

DEFAULT_DECODERS = ("pyav", "decord", "opencv")


class DecodeError(RuntimeError):
    """A video that could not be decoded; the message says which backends failed and why."""


class StreamAddressError(DecodeError):
    """A stream address no attempt can open (a protocol FFmpeg does not know): not retried."""


@dataclass
class FrameStream:
    """An opened source: metadata plus a one-pass frame iterator that counts what it yields."""

    backend: str
    fps: float  # nan when unknown (image folders)
    container_frames: int  # what the container claims; -1 when it does not say
    frames: Iterator[np.ndarray]
    #: backends that failed before this one opened the file -> why
    open_errors: dict[str, str] = field(default_factory=dict)
    #: set when the frames do not keep the container's rate (extract.timing); `fps` is then theirs
    timing: "Timing | None" = None
    #: PyAV's reader: the frames of damaged packets it filled in (`PyAVFrames.damaged`), the streams
    #: it did not read (`PyAVFrames.other_streams`)
    reader: "PyAVFrames | None" = None
    #: what the opener found worth a note (a frame folder named by capture times: `sources.check_numbering`)
    note: str | None = None
    #: `fps` is FFmpeg's guess, not a rate the stream states (an MJPEG camera over HTTP states none,
    #: and FFmpeg says 25): `videoad watch` times such a live stream's frames as they arrive
    rate_guessed: bool = False
    #: the stored pixels' aspect where they are not square (`video_stream.sample_aspect`); the frames
    #: come out stretched to it, whichever decoder read them
    sample_aspect: Fraction | None = None
    #: a frame folder of 16-bit images whose 8-bit reading keeps little of their contrast (`depth_note`)
    depth_note: str | None = None
    #: where a raw H.264/HEVC stream's rate came from (`raw_rate`); `rate_guessed` when it was assumed
    rate_note: str | None = None
    #: the frame slots the packets' times span where they keep the container's rate but for gaps of
    #: whole frames (extract.timing.frame_slots): what `missing_note` counts the decoded frames against
    slots: "Slots | None" = None
    #: the time (s) the stream stamped on the frame it gave last, None where it stamps none: by default
    #: PyAV's reader's (`PyAVFrames.shown_time`); `videoad watch` reads a live stream's pauses from them
    stamp: "Callable[[], float | None] | None" = None
    #: where the packets' timestamps go back, read as carrying on (`extract.timing.Packets.restart_note`)
    restart_note: str | None = None
    #: each decoded frame's own time, as PyAV gives the frames (`extract.timing.DecodedClock`); None for
    #: the other decoders and where the packets' timestamps were carried on (`restart_note`)
    clock: "DecodedClock | None" = None
    #: seconds of the file before the first frame OpenCV gave (`OpenCVFrames.first_ms`): frames it dropped
    #: before the file's first keyframe, which it neither decodes nor counts (`start_note`)
    opencv_lead_s: float = 0.0

    def __post_init__(self) -> None:
        self.count = 0
        self.ended = False  # every frame read: only then can frames be missing
        #: (frame index, width, height) where the decoded picture took a new size; every frame not of
        #: the first frame's size is resized to it (`resized` counts them)
        self.size_changes: list[tuple[int, int, int]] = []
        self.resized = 0
        self._inner = self.frames
        self.frames = self._counted()

    def _counted(self) -> Iterator[np.ndarray]:
        size = None
        for frame in self._inner:
            if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:  # e.g. decord on a rotated file
                raise DecodeError(f"{self.backend} gave frame {self.count} as {frame.dtype} {tuple(frame.shape)}, "
                                  "not an RGB picture (height, width, 3) of bytes: a decoder that misreads this file")
            shape = frame.shape[:2]
            if size is None:
                size = shape
            if shape != size:
                if not self.size_changes or self.size_changes[-1][1:] != (shape[1], shape[0]):
                    self.size_changes.append((self.count, int(shape[1]), int(shape[0])))
                frame = _resized(frame, size)
                self.resized += 1
            elif self.size_changes and self.size_changes[-1][1:] != (size[1], size[0]):
                self.size_changes.append((self.count, int(size[1]), int(size[0])))  # back to the first size
            self.count += 1
            if self.clock is not None:  # PyAV's reader has just given this frame: its timestamp
                self.clock.add(self.reader.shown_pts)
            yield frame
        self.ended = True

    def frame_time(self) -> float | None:
        """The time (s) the stream stamped on the frame it gave last (`stamp`), or None."""
        if self.stamp is not None:
            return self.stamp()
        return self.reader.shown_time() if self.reader is not None else None

    def missing_frames(self) -> int:
        """Frames of a constant-rate recording that never arrived (`slots`): its slots from the first
        frame to the last, less the frames read (damaged ones filled in among them) and those before
        the first keyframe (`start_note`); 0 before every frame was read."""
        if self.slots is None or not self.ended:
            return 0
        return max(0, self.slots.count - self.count - self.leading_lost)

    def missing_note(self) -> str | None:
        """One line on the frames missing from a constant-rate recording, or None: the demuxer skips
        the packets it cannot parse without an error, so nothing else says they are gone."""
        missing = self.missing_frames()
        if not missing:
            return None
        gaps = self.slots.gaps
        shown = (", ".join(f"{n} at {t:.2f} s" for t, n in gaps[:6])
                 + (f" and {len(gaps) - 6} more" if len(gaps) > 6 else ""))
        dropped = missing - sum(n for _, n in gaps)  # packets that came and gave no frame, no error said
        # slots a gap skips just after damage, where they were counted by timestamps and not by packets
        # (`PyAVFrames`), are filled in: those gaps' frames are among the damaged ones, not missing
        filled = f", {-dropped} of them filled in among the damaged frames" if dropped < 0 else ""
        where = "; ".join(([f"gaps of whole frames in its timestamps: {shown}{filled}"] if gaps else [])
                          + ([f"{dropped} the decoder dropped without an error"] if dropped > 0 else []))
        # its seconds are right whatever the gaps where it is read by timestamps, one per decoded frame
        # (`timing`, as extract.run stores them), or by each decoded frame's own (`clock`: extract.workers
        # stores them where they are not the packets'); else (a decoder other than PyAV) they are counted
        # at one rate, and those after a gap are off
        timed = (self.timing is not None and len(self.timing.times) == self.count) or (
            self.clock is not None and self.ended)
        seconds = ("its seconds, read from its timestamps, stay right" if timed else
                   f"its seconds, counted at {self.fps:.3g} fps (not every decoded frame has a timestamp of its "
                   "own), are off after a gap by up to the time the frames lost took")
        return (f"{missing} of the {self.slots.count} frames from its first to its last never arrived ({where}; "
                "damaged data the demuxer skipped, or frames the recorder dropped): each frame is numbered lower "
                f"than its place in the recording by the frames lost before it, {seconds}, and motion across a gap "
                "is read over more time")

    def size_note(self) -> str | None:
        """One line on the picture's changes of size, or None when it kept the first frame's."""
        if not self.size_changes:
            return None
        shown = ", ".join(f"{w}x{h} at frame {i}" for i, w, h in self.size_changes[:4])
        more = f" and {len(self.size_changes) - 4} more" if len(self.size_changes) > 4 else ""
        return (f"the picture changed size part-way ({shown}{more}): {self.resized} frame(s) resized to the "
                "first frame's size")

    def damaged_spans(self) -> list[list[int]]:
        """The frames filled in for damaged data, as [first, last] runs (frame indices)."""
        return [] if self.reader is None else [[a, b] for a, b in _spans(self.reader.damaged)]

    def damage_note(self) -> str | None:
        """One line on the frames that could not be decoded and were filled in, or None."""
        if self.reader is None or not self.reader.damaged:
            return None
        spans = _spans(self.reader.damaged)
        shown = ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in spans[:6])
        more = f" and {len(spans) - 6} more" if len(spans) > 6 else ""
        return (f"{len(self.reader.damaged)} frame(s) could not be decoded (damaged data at frames {shown}{more}; "
                f"{self.reader.damage_reason}): each shows the frame before it, so later frames keep their "
                "place; clips there read no motion")

    @property
    def leading_lost(self) -> int:
        """Frames counted before the first decoded one that nothing could decode (PyAV's count; OpenCV
        counts none: `opencv_lead_s`)."""
        return getattr(self.reader, "leading_lost", 0) if self.reader is not None else 0

    @property
    def leading_seconds(self) -> float:
        """The seconds of the file before its first decoded frame that could not be decoded (a segment
        cut mid-GOP): the time its frame 0 is after its start, by PyAV's count or OpenCV's first time."""
        if self.leading_lost:
            return float(self.reader.leading_seconds)
        return self.opencv_lead_s

    def start_note(self) -> str | None:
        """One line when the file's first frames could not be decoded (it starts mid-GOP), or None."""
        lost = self.leading_lost
        tail = ("it starts within a group of pictures whose keyframe is in the file before it (a recorder's "
                "segment cut mid-GOP): frame 0 here is the file's first keyframe, and frame numbers and seconds "
                "count from it (a start time read from the name or tags is moved by as much)")
        if lost:
            return f"the file's first {lost} frame(s) ({self.reader.leading_seconds:.2f} s) could not be decoded: {tail}"
        if not self.opencv_lead_s:
            return None
        # OpenCV gives the first frame's time, not how many frames it dropped before it: at the container's
        # rate, about so many (a camera that skips frames had fewer)
        about = (f"about {round(self.opencv_lead_s * self.fps)} frame(s) at its {self.fps:g} fps; "
                 if math.isfinite(self.fps) and self.fps > 0 else "")
        return (f"the file's first {self.opencv_lead_s:.2f} s could not be decoded (its first frame OpenCV gave is "
                f"stamped {self.opencv_lead_s:.2f} s after the stream's start; {about}OpenCV drops such frames "
                f"without counting them): {tail}")

    def streams_note(self) -> str | None:
        """One line when the file holds video streams besides the one read, or None."""
        if self.reader is None or not self.reader.other_streams:
            return None
        first = "the first FFmpeg can decode" if getattr(self.reader, "skipped_first", False) else "the first"
        return (f"the file holds {len(self.reader.other_streams) + 1} video streams; only {first} "
                f"({self.reader.read_stream}) was read, not "
                f"{', '.join(self.reader.other_streams)} (a recorder's export of several cameras: export "
                "each camera to a file of its own, e.g. ffmpeg -i IN -map 0:v:1 -c copy OUT)")

    def close(self) -> None:
        close = getattr(self._inner, "close", None)
        if close is not None:
            close()


def _spans(indices: list[int]) -> list[tuple[int, int]]:
    """Sorted indices as (first, last) runs of consecutive ones."""
    spans: list[list[int]] = []
    for i in sorted(indices):
        if spans and i == spans[-1][1] + 1:
            spans[-1][1] = i
        else:
            spans.append([i, i])
    return [(a, b) for a, b in spans]


def _resized(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    import cv2

    height, width = size
    shrink = frame.shape[0] * frame.shape[1] > height * width
    return cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)


#: an opener returns (fps, container frame count or -1, frame iterator)
Opener = Callable[[str], tuple[float, int, Iterator[np.ndarray]]]


@contextmanager
def c_path(path: str | os.PathLike) -> Iterator[str]:
    """`path` as a C library that takes UTF-8 text (OpenCV, decord) can open it. A name that is not
    UTF-8 (a Latin-1 folder `lat\xe9/`, read as surrogates) crashed OpenCV (SIGSEGV: every video and
    picture of such a folder lost) and decord refused it: it is opened here by its bytes and handed
    over as `/proc/self/fd/N`, which the library opens again (its own descriptor; ours is closed when
    the block ends). Where there is no /proc, a `DecodeError` says why."""
    text = os.fspath(path)
    try:
        text.encode("utf-8")
        usable = True
    except UnicodeEncodeError:
        usable = False
    if usable:
        yield text
        return
    if not os.path.isdir("/proc/self/fd"):
        raise DecodeError("its path is not valid UTF-8, which OpenCV and decord cannot open here: "
                          "rename it (e.g. `convmv -f latin1 -t utf8`)")
    fd = os.open(text, os.O_RDONLY)
    try:
        yield f"/proc/self/fd/{fd}"
    finally:
        os.close(fd)


def is_mpeg_ts(path: str | os.PathLike) -> bool:
    """Whether `path` is an MPEG transport stream (a recorder's .ts, a camcorder's .m2ts/.mts): its
    sync byte 0x47 at the start of three consecutive 188-byte packets (192-byte ones in M2TS)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(3 * 192)
    except OSError:
        return False
    return any(len(head) > offset + 2 * size and all(head[offset + k * size] == 0x47 for k in range(3))
               for offset, size in ((0, 188), (4, 192)))


def open_decord(path: str) -> tuple[float, int, Iterator[np.ndarray]]:
    import decord

    if is_mpeg_ts(path):  # measured: every H.264 or MPEG-2 .ts with B-frames, no error said
        raise DecodeError("decord 0.6 misplaces the frames of an MPEG-TS file with B-frames (it began 11 frames "
                          "in and repeated the last frame to make up the count): left to the next decoder")
    if raw_stream_rate(path) is not None:  # its own words: "Failed to measure duration/frame-count due to ..."
        raise DecodeError("decord 0.6 cannot read a raw H.264/HEVC stream (no container to count its frames by): "
                          "left to the next decoder (pyav or opencv)")
    # one thread: the parallelism is across decode worker processes
    with c_path(path) as usable:
        reader = decord.VideoReader(usable, ctx=decord.cpu(0), num_threads=1)
    claimed = len(reader)
    try:  # the first frame read at opening: a picture decord misreads passes the file to the next decoder
        first = reader.next().asnumpy()
    except StopIteration:
        first = None
    if first is not None and (first.ndim != 3 or first.shape[2] != 3):
        raise DecodeError(f"decord reads this file as {tuple(first.shape)} frames, not RGB pictures "
                          "(decord 0.6 misreads a display rotation, and pictures of some widths under 64 pixels)")

    def frames() -> Iterator[np.ndarray]:
        # `next()` rather than indexing: sequential decoding, no seeks (decord's seeks are
        # where its wrong-frame bugs live)
        if first is None:
            return
        yield first
        while True:  # until decord itself runs out, whatever the container claimed
            try:
                frame = reader.next()
            except StopIteration:
                return
            yield frame.asnumpy()

    return float(reader.get_avg_fps()), claimed, frames()


#: PyAV's verdict on a file whose video streams are all in codecs FFmpeg has no decoder for
UNKNOWN_CODEC = "no decoder for the video stream's codec"


def open_pyav(path: str) -> tuple[float, int, Iterator[np.ndarray]]:
    import av

    container = av.open(path)
    try:
        stream = main_video_stream(container)
    except IndexError as exc:
        container.close()
        raise DecodeError(str(exc) if isinstance(exc, TextFile) else "no video stream") from None
    if not decodable(stream):
        container.close()
        raise DecodeError(UNKNOWN_CODEC)
    stream.thread_count = 1  # the decode worker processes are the parallelism
    rate = stated_rate(stream)
    fps = float(rate) if rate else math.nan

    return fps, int(stream.frames or -1), PyAVFrames(container, stream)


#: a video whose damaged frames (`PyAVFrames`) outnumber this share of its frames, once there are
#: more than DAMAGE_MIN_FRAMES of them, fails: it is a file the decoder cannot read, not a damaged spot
DAMAGE_MAX_SHARE = 0.5
DAMAGE_MIN_FRAMES = 50
#: frames decoded after damage that are held and put in presentation order before they go out: a
#: decoder that lost a reference puts frames out late around it (measured: by up to 12 with
#: x264's B-frames and keyframes every 12). They are held as the decoder gave them (4:2:0 video:
#: half the bytes of the RGB picture, before any stretch to square pixels; 32 at 4K about 400 MB,
#: not 800) and made RGB as they go out
REPAIR_WINDOW = 32
#: the most frames held at once: damage again within the window restarts its count, and damage
#: that keeps coming held every frame after it (261 of a 300-frame file damaged every 25 frames);
#: past this many the held frames go out in order and holding starts again
MAX_HELD = 4 * REPAIR_WINDOW
#: the most frames filled in for the slots that timestamps skip after damage (20 s at 30 fps, more
#: than a keyframe interval): a larger skip is the timestamps jumping (a camera's clock set, a
#: stream's wrap), not frames lost, and only the refused packets are filled in
MAX_GAP_FILL = 600
#: the most packet timestamps kept to count the frames damage took (`PyAVFrames`): more than a
#: refilled gap (MAX_GAP_FILL) and the frames held (MAX_HELD) together
PENDING_MAX = 4 * (MAX_GAP_FILL + MAX_HELD)


class PyAVFrames:
    """A PyAV video stream's frames, decoded packet by packet so that damaged data costs only its
    own frames: a packet the decoder refuses (a recorder's write error, a bad sector, a network
    stream's lost packet) becomes a copy of the frame before it, put where its timestamp says, and
    so do the frames the decoder then drops silently (those that needed it), found by the packets
    shown between the frame before and the next frame decoded; frames decoded after damage are held
    (REPAIR_WINDOW) and put in presentation order first. Every later frame keeps its position (the ground truth's frame
    numbers, the timing's timestamps), and clips across the damage read no motion there.
    `damaged` lists the filled frames' indices, `damage_reason` the decoder's first complaint.
    Errors of the container itself (the demuxer) still end the video (`_guarded`), and so does
    damage to most of its frames. Where packets carry no timestamps the slots the next frame's
    timestamp skips are counted instead, at the step the frames before kept, and a skip over
    MAX_GAP_FILL slots is taken for the timestamps jumping. `other_streams` describes the
    file's video streams besides the one read (a recorder's export holding several cameras), for
    the run's notes."""

    def __init__(self, container, stream) -> None:
        self.container, self.stream = container, stream
        self.damaged: list[int] = []
        self.damage_reason: str | None = None
        #: frames before the first decoded one that nothing could decode (a segment cut mid-GOP):
        #: the file's first frame is not its first picture, and every later one is that many early
        self.leading_lost = 0
        self.leading_seconds = 0.0

        def described(s) -> str:  # now: a closed container's streams read garbage
            if not decodable(s):
                return f"#{s.index} (a codec FFmpeg cannot decode)"
            return f"#{s.index} {s.codec_context.width}x{s.codec_context.height}"

        self.read_stream = described(stream)
        #: the stored pixels' aspect where not square (`video_stream.sample_aspect`): frames come out stretched to it
        self.aspect = sample_aspect(stream)
        self.metadata = dict(container.metadata or {})  # the container's tags (`extract.clock`: creation_time)
        self.other_streams = [described(s) for s in container.streams.video
                              if s.index != stream.index and not is_picture(s)]
        #: a video stream before the one read is in a codec FFmpeg cannot decode: the one read is
        #: the first it can, not the file's first
        self.skipped_first = any(s.index < stream.index and not is_picture(s) for s in container.streams.video)
        #: the frames held since damage (`REPAIR_WINDOW`) until the last of them goes out, as
        #: (timestamp, PyAV's frame); empty otherwise
        self.held: list = []
        self.shown_pts = None  # the timestamp of the frame given last (None for a stand-in: `shown_time`)
        self._frames = self._decode()

    def __iter__(self) -> "PyAVFrames":
        return self

    def __next__(self) -> np.ndarray:
        return next(self._frames)

    def shown_time(self) -> float | None:
        """The time (s) the stream stamped on the frame given last, None for a damaged frame's
        stand-in or a frame without a timestamp."""
        base = self.stream.time_base
        return None if self.shown_pts is None or not base else float(self.shown_pts * base)

    def close(self) -> None:
        self._frames.close()
        self.container.close()

    def _decode(self) -> Iterator[np.ndarray]:
        import av

        stated = _frame_step(self.stream)  # one frame's duration at the stream's stated rate, or None
        start = self.stream.start_time
        last_pts = None if start is None or stated is None else start - stated  # the slot before the first
        gaps: deque = deque(maxlen=16)  # the last intervals between frames, in the stream's time base
        lost: list = []  # timestamps of refused packets whose frames are not placed yet
        window: list | None = None  # frames decoded since damage, put in order before they go out
        window_left = 0
        # the frame before (a stand-in for damaged ones), kept as PyAV's frame and made an array
        # only when it stands in. Packet by packet costs 0.98-1.09x the plain decoding loop's time
        # on the shared videos over two runs (`benchmarks/bench_extract.py --reader-cost`)
        last = None
        count = 0
        early: list = []  # timestamps of the packets demuxed before the first frame came out
        # the timestamps of the packets demuxed after the frame given last (and a few before it, pruned as
        # frames go out): the frames to fill in before a frame after damage are the packets shown between
        pending: deque = deque()
        timed = True  # every packet has a timestamp (a raw stream's have none: the slots are counted instead)
        before_key = None  # of those, the packets before the first keyframe (a raw stream's have no timestamps)

        def forget(shown) -> None:
            """Prune the pending packets shown up to `shown` (demux order: B-frames leave a few behind,
            pruned later); PENDING_MAX bounds them where a stray timestamp keeps them from it."""
            while pending and (shown is not None and pending[0] <= shown or len(pending) > PENDING_MAX):
                pending.popleft()

        def array(frame) -> np.ndarray:
            return frame if isinstance(frame, np.ndarray) else upright(frame, self.aspect)

        def placed(window_frames):
            """The window's frames in presentation order, each after the frames to fill in before it:
            the refused packets shown before it, or the packets shown between it and the frame before
            (the decoder also drops, without a word, the frames that needed a refused one until the
            next keyframe, and puts out late the ones around the damage), whichever is more. Where
            packets have no timestamps, the slots its timestamp skips at the median step stand for
            them: they also count slots no packet had (a pause, frames never recorded), and damage
            just before such a gap filled them with stand-ins that put every later frame late."""
            nonlocal last, last_pts, count, lost
            # a frame's duration as the frames before the damage kept it (a stated average rate is
            # off where frames do not keep one); the stated rate when the damage came first
            step = float(np.median(gaps)) if gaps else stated
            for pts, image in sorted(window_frames, key=lambda f: math.inf if f[0] is None else f[0]):
                if pts is not None and last_pts is not None and pts <= last_pts:
                    continue  # put out after its slot was filled in: the stand-in stays
                image = array(image)  # held as the decoder gave it: RGB only now
                refused = sum(1 for t in lost if t is None or pts is None or t < pts)
                if pts is not None and last_pts is not None and timed and pts in pending:
                    skipped = sum(1 for t in pending if last_pts < t < pts)  # packets, not slots
                else:
                    skipped = (int(round((pts - last_pts) / step)) - 1
                               if pts is not None and last_pts is not None and step is not None else 0)
                    skipped = skipped if skipped <= MAX_GAP_FILL else 0
                stand_in = image if last is None else array(last)  # damage before the first frame
                for _ in range(max(refused, skipped)):
                    self.damaged.append(count)
                    count += 1
                    self.shown_pts = None
                    yield stand_in
                lost = [t for t in lost if t is not None and pts is not None and t > pts]
                count += 1
                last, last_pts = image, pts if pts is not None else last_pts
                forget(last_pts)
                self.shown_pts = pts
                yield image

        try:
            for packet in self.container.demux(self.stream):
                shown_packet = packet.size and not getattr(packet, "is_discard", False)  # an edit list hides it
                if shown_packet:
                    if packet.pts is None:
                        timed = False
                    else:
                        pending.append(packet.pts)
                if count == 0 and shown_packet:
                    early.append(packet.pts)
                    if before_key is None and packet.is_keyframe:
                        before_key = len(early) - 1
                try:
                    decoded = packet.decode()
                except av.error.FFmpegError as exc:
                    if self.damage_reason is None:
                        why = getattr(exc, "strerror", None)
                        self.damage_reason = f"{type(exc).__name__}: {why}" if why else _describe(exc)
                    lost.append(packet.pts)
                    window, window_left = (window if window is not None else []), REPAIR_WINDOW
                    self.held = window
                    bad, seen = len(self.damaged) + len(lost), count + len(lost) + len(window)
                    if bad > DAMAGE_MIN_FRAMES and bad > DAMAGE_MAX_SHARE * seen:
                        raise DecodeError(f"{bad} of the first {seen} frames could not be decoded "
                                          f"({self.damage_reason}): the file is damaged throughout, or "
                                          "its codec is one this decoder cannot read")
                    continue
                for frame in decoded:
                    # packets shown before the first frame that gave none, no error said (damage is filled in)
                    if count == 0 and window is None and not lost and frame.pts is not None:
                        self.leading_lost = sum(1 for t in early if t is not None and t < frame.pts)
                        if self.leading_lost and self.stream.time_base:
                            first = min(t for t in early if t is not None)
                            self.leading_seconds = float((frame.pts - first) * self.stream.time_base)
                    elif count == 0 and window is None and not lost and frame.pts is None and before_key:
                        self.leading_lost = before_key  # seconds: `open_video`, once the stream's rate is known
                    if window is None:
                        count += 1
                        if frame.pts is not None and last_pts is not None and frame.pts > last_pts and count > 1:
                            gaps.append(frame.pts - last_pts)
                        last, last_pts = frame, frame.pts if frame.pts is not None else last_pts
                        forget(last_pts)
                        self.shown_pts = frame.pts
                        yield upright(frame, self.aspect)
                        continue
                    window.append((frame.pts, frame))
                    window_left -= 1
                    if window_left <= 0:
                        yield from placed(window)
                        window, self.held = None, []
                    elif len(window) >= MAX_HELD:  # damage that keeps coming: out in order, still repairing
                        yield from placed(window)
                        window = self.held = []
            yield from placed(window or [])
            self.held = []
            for _ in lost if last is not None else ():  # damage at the very end
                self.damaged.append(count)
                count += 1
                self.shown_pts = None
                yield array(last)
        finally:
            self.container.close()


def stated_rate(stream) -> Fraction | None:
    """`stream`'s frame rate as its container states it or FFmpeg reads it from its frames, or None.
    Where neither can (an MPEG-TS of one or two frames), FFmpeg's guess is a timestamp clock's tick
    rate (90000 fps, 2000 for a codec's clock of 1/1000 s), which the run warned of as "the container
    says 2000 frames per second, more than cameras film" for a single frame: a guess past what cameras
    film (`clips.MAX_PLAUSIBLE_FPS`) with no average rate stated is no rate, and None says so (two
    frames' timestamps still give theirs: extract.timing)."""
    rate = stream.average_rate or stream.guessed_rate
    if rate and stream.average_rate is None and rate > MAX_PLAUSIBLE_FPS:
        return None
    return rate


def _frame_step(stream) -> float | None:
    """One frame's duration in `stream`'s time base from its stated rate, or None."""
    rate = stated_rate(stream)
    if not rate or not stream.time_base:
        return None
    return float(1 / (rate * stream.time_base))


def upright(frame, aspect: Fraction | None = None) -> np.ndarray:
    """A PyAV frame as RGB, stretched to its stream's sample `aspect` (`video_stream.sample_aspect`:
    a recorder's non-square pixels) and turned as its display matrix says (a phone's or a body
    camera's footage filmed upright is stored sideways with a rotation to show it by), so that the
    analysis, the report's pictures and the grid's cell names see what a player shows. decord
    and OpenCV turn their frames so by themselves; `open_video` stretches theirs."""
    if aspect is not None:  # one pass through FFmpeg's scaler: the colour conversion and the stretch
        image = frame.reformat(width=display_width(frame.width, aspect), height=frame.height,
                               format="rgb24").to_ndarray()
    else:
        image = frame.to_ndarray(format="rgb24")
    turns = quarter_turns(frame)
    return np.ascontiguousarray(np.rot90(image, turns)) if turns else image


#: FFmpeg threads of an OpenCV capture (see open_opencv); benchmarks/bench_extract.py
#: --opencv-threads measures it against OpenCV's default
OPENCV_THREADS = 1


class OpenCVFrames:
    """An OpenCV capture's frames as RGB. OpenCV's FFmpeg capture drops, without a word, the frames
    before the first keyframe of a file cut within a group of pictures (a recorder's segment cut
    mid-GOP); the one thing it tells of them is the time of the first frame it gives, counted from
    the stream's first timestamp (CAP_PROP_POS_MSEC; its frame position counts frames read, so
    1). `first_ms` keeps it (None before the first frame, 0 where the stream stamps none: a raw
    H.264/HEVC stream, whose loss it cannot tell)."""

    def __init__(self, capture) -> None:
        self.capture = capture
        self.first_ms: float | None = None
        self._frames = self._read()

    def __iter__(self) -> "OpenCVFrames":
        return self

    def __next__(self) -> np.ndarray:
        return next(self._frames)

    def close(self) -> None:
        self._frames.close()
        self.capture.release()

    def _read(self) -> Iterator[np.ndarray]:
        import cv2

        try:
            while True:
                ok, frame = self.capture.read()
                if not ok:  # end of stream and decode errors look the same here
                    return
                if self.first_ms is None:
                    ms = self.capture.get(cv2.CAP_PROP_POS_MSEC)
                    self.first_ms = float(ms) if math.isfinite(ms) and ms > 0 else 0.0
                yield cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
        finally:
            self.capture.release()


def open_opencv(path: str) -> tuple[float, int, Iterator[np.ndarray]]:
    import cv2

    # one FFmpeg thread, as for PyAV and decord: OpenCV otherwise starts one per core (up to 16)
    # in every decode worker, and 14 workers on a 16-core machine then run ~200 decode threads
    with c_path(path) as usable:
        capture = cv2.VideoCapture(usable, cv2.CAP_FFMPEG, [cv2.CAP_PROP_N_THREADS, OPENCV_THREADS])
    if not capture.isOpened():
        capture.release()
        raise DecodeError("OpenCV could not open the file")
    fps = capture.get(cv2.CAP_PROP_FPS)
    claimed = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    return (fps if fps > 0 else math.nan), (claimed if claimed > 0 else -1), OpenCVFrames(capture)


BUILTIN_DECODERS: dict[str, Opener] = {
    "decord": open_decord, "pyav": open_pyav, "opencv": open_opencv,
}


_MODULES = {"decord": "decord", "pyav": "av", "opencv": "cv2"}


def installed_decoders(names: tuple[str, ...]) -> tuple[str, ...]:
    """`names` without the built-in decoders whose library is not installed (decord and PyAV
    are optional extras), so that a missing one is said once, not in every video's notes."""
    kept = []
    for name in names:
        module = _MODULES.get(name)
        if module is None:
            kept.append(name)
            continue
        try:
            found = importlib.util.find_spec(module) is not None
        except ValueError:  # a module half-imported by another thread has no __spec__ yet
            found = True
        if found:
            kept.append(name)
    return tuple(kept)


def resolve_decoder(name: str) -> Opener:
    if name in BUILTIN_DECODERS:
        return BUILTIN_DECODERS[name]
    if ":" in name:
        module, _, attr = name.partition(":")
        return getattr(importlib.import_module(module), attr)
    raise ValueError(f"unknown decoder {name!r}: use {', '.join(BUILTIN_DECODERS)} "
                     "or package.module:function")


def quiet_native_logs() -> None:
    """Silence FFmpeg's stderr chatter in the three libraries: errors reach us as exceptions,
    and the chatter would tear the progress bar apart."""
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
    os.environ.setdefault("OPENCV_LOG_LEVEL", "SILENT")
    try:
        import cv2
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
    except (ImportError, AttributeError):
        pass
    try:
        import decord
        decord.logging.set_level(decord.logging.QUIET)
    except ImportError:
        pass
    try:
        import av.logging
        av.logging.set_level(None)
    except ImportError:
        pass


#: a decoder that opened the file and its video stream and gave no frame
NO_FRAME = "no frame decoded"


def open_video(path: str | os.PathLike, decoders: tuple[str, ...] = DEFAULT_DECODERS,
               on_attempt: Callable[[int], None] | None = None, unstated_fps: float | None = None,
               guessed_fps: tuple[float, str] | None = None) -> FrameStream:
    """Open `path` with the first decoder that reads its first frame; see the module docstring.

    `on_attempt(i)` is called before decoder i is tried (the runner uses it to know which
    decoder was busy when a decode stalled). `unstated_fps` is the rate of a raw H.264/HEVC stream
    that states none (`raw_rate`; --image-fps); without it, `guessed_fps` (rate, where it comes from)
    is assumed for one in place of 25.
    """
    if os.path.isfile(path) and os.path.getsize(path) == 0:
        raise DecodeError("the file is empty (0 bytes): an interrupted copy or recording; copy it again")
    denied = _not_readable(path)
    if denied:
        raise DecodeError(denied)
    cut = truncation(path)
    if cut == _NO_INDEX:
        raise DecodeError(f"the file is not finalised: {cut}")
    if cut is not None:
        raise DecodeError(f"the file is truncated: {cut} (an interrupted copy or recording); copy "
                          "it again from its source, or remux the part that is there into a new "
                          "file (e.g. ffmpeg -i IN -c copy OUT) and extract that")
    if is_text_file(path):
        raise DecodeError("a text file, not a video (FFmpeg would draw its characters as frames): feature "
                          "files made by other tools go through `videoad import`")
    errors: dict[str, str] = {}
    for attempt, name in enumerate(decoders):
        if on_attempt is not None:
            on_attempt(attempt)
        try:
            fps, claimed, frames = resolve_decoder(name)(os.fspath(path))
            first = next(frames)
        except StopIteration:
            errors[name] = NO_FRAME
            continue
        except Exception as exc:  # noqa: BLE001 - each library raises its own types
            errors[name] = _describe(exc)
            continue
        packets = packet_table(os.fspath(path)) if name == "pyav" else None
        times = None if packets is None else packets.times()
        timing, slots = variable_timing(times, fps), frame_slots(times, fps)
        reader = frames if isinstance(frames, PyAVFrames) else None
        if reader is not None:
            aspect = reader.aspect
            chained = _chain(first, frames)
        else:  # decord, OpenCV or a custom opener: the stored picture, stretched here as PyAV's is
            probed = probe_sample_aspect(path)
            if probed is None or probed[2]:  # square, or turned (decord and OpenCV turn it: left unstretched)
                aspect, chained = None, _chain(first, frames)
            else:
                aspect, chained = probed[0], _stretched(_chain(first, frames), probed[0], probed[1])
        rate_note, guessed = None, False
        raw = raw_stream_rate(path) if timing is None else None
        if raw is not None:
            fps, rate_note, guessed = raw_rate(raw, unstated_fps, guessed_fps)
            if reader is not None and reader.leading_lost:  # no timestamps: the lost frames at its rate
                reader.leading_seconds = reader.leading_lost / fps
        # OpenCV's first frame stamped after the stream's start by over half a frame: frames before the file's
        # first keyframe it dropped without a word (a stream that stamps none, a raw one, says 0: no loss told)
        lead_s = getattr(frames, "first_ms", None) or 0.0
        lead_s = lead_s / 1000.0 if isinstance(frames, OpenCVFrames) else 0.0
        if not (math.isfinite(fps) and fps > 0 and lead_s * fps > 0.5) or raw is not None:
            lead_s = 0.0
        # each frame's own timestamp, on the packets' clock: not where their times were unwrapped or carried on
        clock = (DecodedClock(packets) if reader is not None and packets is not None and packets.stamped is not None
                 and np.array_equal(packets.stamped, packets.read) else None)
        return FrameStream(name, timing.fps if timing is not None else fps, claimed,
                           _guarded(name, chained), errors, timing, reader=reader, sample_aspect=aspect,
                           rate_note=rate_note, rate_guessed=guessed, slots=slots,
                           restart_note=None if packets is None else packets.restart_note(), clock=clock,
                           opencv_lead_s=lead_s)
    detail = "; ".join(f"{name}: {why}" for name, why in errors.items())
    if errors.get("pyav", "").endswith("no video stream"):
        raise DecodeError(f"the file holds no video stream{_streams_held(path)} ({detail})")
    if errors.get("pyav") == NO_FRAME:  # PyAV opened the file and its video stream, and it gave no frame
        raise DecodeError("the file's video stream holds no frame that decodes (a recording stopped before "
                          f"its first frame, or every frame damaged) ({detail})")
    if errors.get("pyav", "").endswith(UNKNOWN_CODEC):
        raise DecodeError("the file's video is in a codec no decoder here knows (a recorder's own format?): "
                          f"export it from the recorder's player as MP4 or AVI and extract that ({detail})")
    raise DecodeError(f"no decoder could read the file ({detail})")


#: the rate FFmpeg (and so PyAV, decord and OpenCV) reads a raw stream at when it states none
RAW_ASSUMED_FPS = 25.0


def raw_rate(raw: tuple[str, Fraction | None], unstated_fps: float | None,
             guessed_fps: tuple[float, str] | None = None) -> tuple[float, str, bool]:
    """(fps, note, assumed) of a raw stream (`video_stream.raw_stream_rate`): the rate its VUI timing
    states, else `unstated_fps`, else `guessed_fps`'s rate (watch: its models' footage's), else
    RAW_ASSUMED_FPS, the last two assumed. A recorder's `.264`/`.h265` export has no container and no
    timestamps: every decoder reads it at 25 fps whatever it states, which put a 10 fps camera's events
    at 2.5 times their real speed."""
    codec, stated = raw
    if stated is not None:
        return float(stated), (f"a raw {codec} stream (no container): {float(stated):g} fps, as its VUI timing "
                               "states"), False
    if unstated_fps is not None:
        return float(unstated_fps), (f"a raw {codec} stream (no container) that states no frame rate: read at "
                                     f"{unstated_fps:g} fps, as --image-fps says"), False
    fps, whence = (float(guessed_fps[0]), f" ({guessed_fps[1]})") if guessed_fps else (RAW_ASSUMED_FPS, "")
    return fps, (f"a raw {codec} stream (no container) that states no frame rate: {fps:g} fps assumed{whence}, so "
                 "every second and clip time depends on it; give its real rate with --image-fps R (or remux it "
                 "at its rate: ffmpeg -framerate R -i IN -c copy OUT.mp4)"), True


def _stretched(frames: Iterator[np.ndarray], aspect: Fraction, stored: int) -> Iterator[np.ndarray]:
    """`frames` stretched to their sample `aspect`. A frame not `stored` pixels wide passes as it is
    (a custom opener that stretched it itself). A file turned by a display rotation never comes
    here: decord and OpenCV read it turned and unstretched (PyAV, the default, reads it right)."""
    for frame in frames:
        height, width = frame.shape[:2]
        yield _resized(frame, (height, display_width(width, aspect))) if width == stored else frame


def _streams_held(path) -> str:
    """', only audio' and the like: what a file without a video stream holds, for the message."""
    try:
        import av

        with av.open(os.fspath(path)) as container:
            kinds = sorted({s.type for s in container.streams})
    except Exception:  # noqa: BLE001 - the message goes without it
        return ""
    return f", only {' and '.join(kinds)}" if kinds else ", no stream at all"


#: what names a stream rather than a file: a URL scheme, or a capture device
STREAM_PREFIXES = ("rtsp://", "rtsps://", "rtmp://", "rtmps://", "http://", "https://", "udp://", "tcp://",
                   "srt://", "rtp://", "/dev/video")


def is_stream(source: str | os.PathLike) -> bool:
    """Whether `source` is a camera or network stream (a URL PyAV opens, or /dev/videoN) rather than a file."""
    text = os.fspath(source)
    return text.lower().startswith(STREAM_PREFIXES) or ("://" in text and not os.path.exists(text))


def open_stream(source: str, timeout: float = 10.0) -> FrameStream:
    """A camera or network stream through PyAV, frames streamed as they arrive.

    Unlike a file, a stream has no end to count to and may stall: `timeout` seconds bound both
    the opening and each read, so a dropped connection ends the frame iterator (quietly, or
    with PyAV's error) instead of blocking for ever; the caller decides whether to reopen it. RTSP is
    asked for TCP (UDP loses packets and smears frames on busy networks); /dev/videoN opens as
    a V4L2 capture device.
    """
    import av

    options = {}
    kind = None
    if source.startswith("/dev/video"):
        kind = "v4l2"
    elif source.lower().startswith(("rtsp://", "rtsps://")):
        options["rtsp_transport"] = "tcp"
    try:
        container = av.open(source, format=kind, options=options, timeout=(float(timeout), float(timeout)))
    except av.error.ProtocolNotFoundError as exc:  # a scheme FFmpeg does not know: no retry opens it
        raise StreamAddressError(f"cannot open the stream ({_describe(exc)}): FFmpeg knows no such protocol "
                                 "(a mistyped scheme? rtsp://, http://, https://, udp://, ...)") from None
    except Exception as exc:  # noqa: BLE001 - PyAV raises per-errno subclasses
        raise DecodeError(f"cannot open the stream ({_describe(exc)})") from None
    try:
        stream = main_video_stream(container)
    except IndexError:
        container.close()
        raise DecodeError("the stream has no video") from None
    rate = stream.average_rate or stream.guessed_rate
    fps = float(rate) if rate else math.nan

    frames = PyAVFrames(container, stream)  # a lost packet costs its frame, not the session
    return FrameStream("pyav", fps, -1, frames, reader=frames, rate_guessed=not stream.average_rate)


def _not_readable(path: str | os.PathLike) -> str | None:
    """Why this user may not read the file (its permissions), else None: each decoder failed on it
    alike, and the reason read as three decoders' errors ("no decoder could read the file (pyav:
    PermissionError ...; decord: ...; opencv: ...)")."""
    if not os.path.isfile(path):  # a stream's address, or gone: the decoders say
        return None
    try:
        with open(path, "rb"):
            return None
    except PermissionError as exc:
        return (f"cannot read the file: {exc.strerror or exc} (its permissions do not let this user read it: "
                "chmod or chown it, or run as its owner)")
    except OSError:
        return None


def truncation(path: str | os.PathLike) -> str | None:
    """What says the file is cut short, or None (complete, or a container this cannot check).

    Reads the top-level structure only: consecutive RIFF chunks (AVI, OpenDML AVI), ISO base
    media boxes (MP4, MOV, 3GP), the Matroska segment (MKV, WebM). A size the writer left
    unknown (0, or all ones as live recorders do) gives no verdict.
    """
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as fh:
            head = fh.read(12)
            if head[:4] == b"RIFF":
                return _riff_cut(fh, size)
            if head[4:8] in _BOX_TYPES:
                return _boxes_cut(fh, size)
            if head[:4] == b"\x1a\x45\xdf\xa3":
                return _matroska_cut(fh, size)
    except OSError:
        return None  # the decoders will say why the file cannot be read
    return None


#: first box types of an ISO base media file
_BOX_TYPES = {b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pnot", b"styp"}


def _cut(what: str, claimed: int, size: int) -> str:
    return f"{what} needs {claimed:,} bytes, the file has {size:,}"


def _riff_cut(fh, size: int) -> str | None:
    offset = 0
    while offset + 8 <= size:
        fh.seek(offset)
        tag, length = struct.unpack("<4sI", fh.read(8))
        if tag != b"RIFF" or length in (0, 0xFFFFFFFF):
            return None
        end = offset + 8 + length + (length & 1)
        if end > size + (length & 1):  # the last chunk's pad byte may be missing
            return _cut("its RIFF header", offset + 8 + length, size)
        offset = end
    return None


#: a recording stopped before it was finalised: its media, never its index ('moov')
_NO_INDEX = ("it holds media ('mdat') but no index ('moov' box): the recording was cut off before it "
             "was finalised (power loss, a camera unplugged); a repair tool can rebuild the index")


def _boxes_cut(fh, size: int) -> str | None:
    offset, seen = 0, set()
    while offset + 8 <= size:
        fh.seek(offset)
        length, kind = struct.unpack(">I4s", fh.read(8))
        if not all(32 <= c < 127 for c in kind):
            return None  # not a box: no verdict
        seen.add(kind)
        if length == 1:
            raw = fh.read(8)
            if len(raw) < 8:
                return _cut(f"its '{kind.decode()}' box", offset + 16, size)
            length = struct.unpack(">Q", raw)[0]
        elif length == 0:  # this box runs to the end of the file: nothing can follow it
            return _NO_INDEX if kind == b"mdat" and not seen & {b"moov", b"moof"} else None
        if length < 8:
            return None
        if offset + length > size:
            return _cut(f"its '{kind.decode()}' box", offset + length, size)
        offset += length
    # a fragment ('moof') of a stream whose index sits in another file is no recording cut off
    return _NO_INDEX if b"mdat" in seen and not seen & {b"moov", b"moof"} and offset == size else None


def _matroska_cut(fh, size: int) -> str | None:
    fh.seek(4)
    header_len, n = _ebml_size(fh)
    if header_len is None:
        return None
    fh.seek(4 + n + header_len)
    if fh.read(4) != b"\x18\x53\x80\x67":  # the Segment element
        return None
    start = fh.tell()
    segment_len, n = _ebml_size(fh)
    if segment_len is None:
        return None
    end = start + n + segment_len
    return _cut("its Matroska segment", end, size) if end > size else None


def _ebml_size(fh) -> tuple[int | None, int]:
    """An EBML variable-length size: (value or None when unknown or unreadable, bytes read)."""
    first = fh.read(1)
    if not first or first[0] == 0:
        return None, 1
    n = 8 - first[0].bit_length() + 1
    rest = fh.read(n - 1)
    if len(rest) < n - 1:
        return None, n
    value = first[0] & ((1 << (8 - n)) - 1)
    for byte in rest:
        value = (value << 8) | byte
    if value == (1 << (7 * n)) - 1:  # all ones: size unknown (a live stream)
        return None, n
    return value, n


def _chain(first: np.ndarray, rest: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
    yield first
    yield from rest


def _guarded(backend: str, frames: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
    """Turn a mid-stream failure into a DecodeError that says how far decoding got."""
    count = 0
    try:
        for frame in frames:
            count += 1
            yield frame
    except DecodeError as exc:  # the reader's own verdict (PyAVFrames): already says what is wrong
        raise DecodeError(f"{backend}: {exc}") from exc
    except Exception as exc:  # noqa: BLE001
        raise DecodeError(f"{backend}: decoding failed after {count} frames, the file looks "
                          f"truncated or corrupt ({_describe(exc)})") from exc
    finally:
        close = getattr(frames, "close", None)
        if close is not None:
            close()


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    # decord prefixes a C++ stack location; the last line carries the reason
    message = names_shown(text[-1]) if text else ""  # PyAV quotes a path as repr: `'caf\\udce9.avi'`
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def image_cut(path: Path) -> str | None:
    """What says a JPEG or PNG file ends before its image does, else None: a JPEG's main scan with no
    end marker after it, a PNG whose chunks stop before IEND (trailers after the end, such as a
    phone's motion-photo video or a fill, are fine)."""
    suffix = path.suffix.lower()
    end = {".jpg": b"\xff\xd9", ".jpeg": b"\xff\xd9", ".png": b"IEND\xaeB`\x82"}.get(suffix)
    if end is None:
        return None
    try:
        with open(path, "rb") as fh:  # nearly every frame ends with its end marker: 64 bytes tell
            fh.seek(max(0, os.path.getsize(path) - 64))
            if fh.read().endswith(end):
                return None
        data = path.read_bytes()  # something after the end (a trailer), or a cut: read its structure
    except OSError:
        return None
    if suffix == ".png":
        at = 8
        while at + 12 <= len(data):
            length, kind = int.from_bytes(data[at:at + 4], "big"), data[at + 4:at + 8]
            at += 12 + length
            if kind == b"IEND":
                return None
        return "no PNG end chunk"
    at = 2  # after SOI: segments with lengths up to the main image's start of scan (SOS)
    while at + 4 <= len(data) and data[at] == 0xFF:
        marker = data[at + 1]
        if marker == 0xFF:  # fill before a marker
            at += 1
            continue
        if marker == 0xDA:
            return None if data.find(b"\xff\xd9", at) >= 0 else "no JPEG end marker"
        at += 2 + int.from_bytes(data[at + 2:at + 4], "big")
    return None  # not laid out as expected: no verdict


#: a 16-bit frame whose 8-bit reading (OpenCV keeps the high byte) spans fewer grey levels than
#: this, while its own values span more than 8 bits hold, loses its contrast: a thermal camera's
#: 14-bit counts in a 16-bit PNG (1000-1620 read as 3-6), a dark scene of a 16-bit camera
DEPTH_MIN_LEVELS = 32


def depth_note(path: Path) -> str | None:
    """One line when `path` is a 16-bit image whose 8-bit reading keeps fewer than
    DEPTH_MIN_LEVELS grey levels of values spanning more than 256, else None."""
    import cv2

    with c_path(path) as usable:
        image = cv2.imread(usable, cv2.IMREAD_ANYDEPTH | cv2.IMREAD_ANYCOLOR)
    if image is None or image.dtype != np.uint16:
        return None
    low, high = int(image.min()), int(image.max())
    levels = (high >> 8) - (low >> 8) + 1
    if levels >= DEPTH_MIN_LEVELS or high - low < 256:
        return None
    return (f"the frames are 16-bit images whose values ({low}-{high} in the first, {path.name}) span only "
            f"{levels} grey level(s) read as 8 bits, as every frame is read (a thermal or scientific camera's "
            "export, or a dark scene): most of their contrast, and the motion in it, is lost; scale them to 8 "
            "bits over their own range (one scale for every frame) before extraction")


def open_image_folder(folder: str | os.PathLike, fps: float | None = None) -> FrameStream:
    """Frames of an image-sequence folder in natural name order, read one at a time."""
    import cv2

    from .sources import check_numbering, image_files, shared_numbers

    paths = image_files(Path(folder))
    if not paths:
        raise DecodeError("the folder holds no image files")
    shared = shared_numbers(paths)
    if shared:
        shown = "; ".join(" and ".join(names) for names in shared[:3]) + (
            f"; and {len(shared) - 3} more" if len(shared) > 3 else "")
        raise DecodeError(f"frames share a number: {shown} ({len(shared)} number(s) taken by more than one of "
                          f"the {len(paths)} files): two sequences in one folder (another format, or another zero "
                          "padding), read interleaved, each frame at the wrong position: keep one sequence "
                          "per folder")
    missing, note = check_numbering(paths)
    if missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        raise DecodeError(f"frames missing from the numbering: {shown} ({len(paths)} of "
                          f"{len(paths) + len(missing)} present); every later frame would sit at "
                          "the wrong position: restore them, or renumber the files if the gap is "
                          "meant")

    def frames() -> Iterator[np.ndarray]:
        shape = None
        for index, path in enumerate(paths):
            with c_path(path) as usable:
                image = cv2.imread(usable, cv2.IMREAD_COLOR)  # grey frames become 3 equal channels
            if image is None:
                raise DecodeError(f"frame {index} ({path.name}) cannot be read as an image")
            cut = image_cut(path)
            if cut:  # OpenCV decodes the part that is there and fills the rest grey, without a word
                raise DecodeError(f"frame {index} ({path.name}) is cut short ({cut}): an interrupted upload or "
                                  "copy; copy it again, or remove it and renumber the frames after it")
            if shape is None:
                shape = image.shape
            elif image.shape != shape:
                turned = image.shape[:2] == shape[1::-1]  # a phone's or camera's EXIF orientation, applied
                raise DecodeError(f"frame {index} ({path.name}) is {image.shape[1]}x{image.shape[0]},"
                                  f" the first frame is {shape[1]}x{shape[0]}" + (
                                      "; the same picture turned: their EXIF orientation tags differ (OpenCV "
                                      "turns each as a viewer shows it); save the frames upright with no "
                                      "orientation tag" if turned else ""))
            yield cv2.cvtColor(image, cv2.COLOR_BGR2RGB)

    return FrameStream("images", math.nan if fps is None else float(fps), len(paths), frames(),
                       note=note, depth_note=depth_note(paths[0]))
