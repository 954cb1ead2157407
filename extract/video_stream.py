"""Which of a file's streams is its video: the first video stream that is not an attached picture.

A phone's or a recorder's MP4 can carry a cover picture or a thumbnail as a video stream of one
frame (disposition `attached_pic`), sometimes listed first; taking `streams.video[0]` would read
that single picture as the whole video. Every place that opens a file with PyAV (decoding, the
timing pass, the frame count, the report's footage) picks the stream here, so they agree on it.

The picture's shape is read here too: a stream whose pixels are not square (`sample_aspect`) is
shown, analysed and drawn at the width a player stretches it to.
"""
from __future__ import annotations

from fractions import Fraction


def is_picture(stream) -> bool:
    """A cover picture or thumbnails stored as a video stream, not footage."""
    from av.stream import Disposition

    return bool(stream.disposition & (Disposition.attached_pic | Disposition.timed_thumbnails))


def decodable(stream) -> bool:
    """Whether FFmpeg has a decoder for the stream's codec: a recorder's own codec (a fourcc
    FFmpeg does not know) leaves PyAV's stream without a codec context."""
    return getattr(stream, "codec_context", None) is not None


#: FFmpeg's demuxers of text, which open any text file as a "video" of its characters drawn
#: (Sultani's C3D feature files, a CSV given as footage: 488 clips of a .txt were extracted)
TEXT_DEMUXERS = frozenset({"tty", "ansi"})


class TextFile(IndexError):
    """A file FFmpeg reads as text drawn in pictures: no video stream of footage."""


def is_text_file(path) -> bool:
    """Whether FFmpeg reads `path` as text (`TEXT_DEMUXERS`): every decoder here would then draw its
    characters as frames (OpenCV's and decord's FFmpeg too), so no decoder is tried."""
    try:
        import av

        with av.open(str(path)) as container:
            return (container.format.name or "") in TEXT_DEMUXERS
    except Exception:  # noqa: BLE001 - a file PyAV cannot open: the decoders say why
        return False


def main_video_stream(container):
    """The container's video stream to read: the first footage stream FFmpeg can decode (a
    stream in a codec it does not know, listed first, would fail the whole file); IndexError
    when it has none (`TextFile` for a text file, which FFmpeg would draw)."""
    if (getattr(getattr(container, "format", None), "name", None) or "") in TEXT_DEMUXERS:
        raise TextFile("a text file, not a video")
    videos = list(container.streams.video)
    footage = [stream for stream in videos if not is_picture(stream)]
    for stream in footage:
        if decodable(stream):
            return stream
    if footage:  # none decodable: the first, whose reader says why it cannot be read
        return footage[0]
    return videos[0]  # only pictures: the first, as before (IndexError when there is no video at all)


def quarter_turns(frame) -> int:
    """Counter-clockwise quarter turns (0-3) a decoded PyAV frame's display matrix asks for (a phone
    filming upright stores its footage sideways with a rotation to show it by)."""
    return round(float(getattr(frame, "rotation", 0) or 0) / 90) % 4


#: a stated sample aspect further from square than this is a writer's mistake, not a picture
SAMPLE_ASPECT_LIMITS = (Fraction(1, 4), Fraction(4, 1))


def sample_aspect(stream) -> Fraction | None:
    """How wide one stored pixel shows, as a fraction of its height, where it is not square, else
    None. A recorder of analogue cameras stores 720x576 or 704x480 and states the aspect a player
    stretches it to (the container's, else the codec's, as FFmpeg prefers them); reading the
    stored grid as if square squeezes the scene (circles as ovals) and the motion with it."""
    for stated in (getattr(stream, "sample_aspect_ratio", None),
                   getattr(getattr(stream, "codec_context", None), "sample_aspect_ratio", None)):
        try:
            value = Fraction(stated) if stated else None
        except (TypeError, ValueError, ZeroDivisionError):
            value = None
        if value is not None and value > 0:
            low, high = SAMPLE_ASPECT_LIMITS
            return value if value != 1 and low <= value <= high else None
    return None


def display_width(width: int, aspect: Fraction | None) -> int:
    """The width a stored picture `width` pixels wide shows at."""
    return width if aspect is None else max(2, int(round(width * aspect)))


def probe_sample_aspect(path) -> tuple[Fraction, int, bool] | None:
    """`sample_aspect` of the file's video stream, its stored width and whether its first frame is
    turned by a display rotation (read with PyAV), or None when its pixels are square or it cannot
    be read: for the decoders that hand the stored picture over as it is (decord, OpenCV)."""
    try:
        import av

        with av.open(str(path)) as container:
            stream = main_video_stream(container)
            aspect = sample_aspect(stream)
            if aspect is None:
                return None
            turned = False
            try:
                first = next(container.decode(stream))
                turned = quarter_turns(first) != 0
            except Exception:  # noqa: BLE001 - no frame PyAV can read: taken as not turned
                pass
            return aspect, int(stream.codec_context.width), turned
    except Exception:  # noqa: BLE001 - a file PyAV cannot open: the decoder's own reading stands
        return None


#: FFmpeg's demuxers of raw elementary streams (a recorder's `.264`/`.h265` export, no container):
#: no timestamps, and a rate FFmpeg assumes (25 fps) unless the stream's VUI timing states one
RAW_STREAM_FORMATS = {"h264": "H.264", "hevc": "HEVC"}


def _starts_with_start_code(path) -> bool:
    """Whether the file begins as an Annex B stream does (zero bytes, then 1): cheap, so that no
    container is opened twice. MPEG program streams start so too; FFmpeg's probe tells them apart."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(64)
    except OSError:
        return False
    body = head.lstrip(b"\0")
    return len(head) - len(body) >= 2 and body[:1] == b"\x01"


def raw_stream_rate(path) -> tuple[str, Fraction | None] | None:
    """(codec, the rate its VUI timing states or None) where `path` is a raw H.264/HEVC stream, else
    None: every decoder reads such a stream at 25 fps whatever it states (`average_rate` is the
    demuxer's default; the codec's `framerate` is the stream's own, absent without VUI timing)."""
    if not _starts_with_start_code(path):
        return None
    try:
        import av

        with av.open(str(path)) as container:
            codec = RAW_STREAM_FORMATS.get(container.format.name)
            if codec is None:
                return None
            stated = main_video_stream(container).codec_context.framerate
            return codec, Fraction(stated) if stated and stated > 0 else None
    except Exception:  # noqa: BLE001 - a file PyAV cannot open: the decoders say why
        return None
