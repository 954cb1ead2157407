"""Which of a file's streams is its video: the first video stream that is not an attached picture.

A phone's or a recorder's MP4 can carry a cover picture or a thumbnail as a video stream of one
frame (disposition `attached_pic`), sometimes listed first; taking `streams.video[0]` would read
that single picture as the whole video. Every place that opens a file with PyAV (decoding, the
timing pass, the frame count, the report's footage) picks the stream here, so they agree on it.
"""
from __future__ import annotations


def is_picture(stream) -> bool:
    """A cover picture or thumbnails stored as a video stream, not footage."""
    from av.stream import Disposition

    return bool(stream.disposition & (Disposition.attached_pic | Disposition.timed_thumbnails))


def main_video_stream(container):
    """The container's video stream to read; IndexError when it has none."""
    videos = list(container.streams.video)
    for stream in videos:
        if not is_picture(stream):
            return stream
    return videos[0]  # only pictures: the first, as before (IndexError when there is no video at all)
