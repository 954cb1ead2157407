"""What a camera sees when nothing moves: a small grey picture of a video's background.

Footage of several cameras often arrives in one folder (a site's recordings; ShanghaiTech's 13
scenes), and one model fitted over cameras whose normal differs loses what each camera's own
would catch (benchmarks/results/video_check_multicam_*.md). The extractor keeps, beside each
video's features, the per-pixel median of frames sampled evenly through it at 32x24 grey
(`scene` in the feature file's attributes): people and cars pass, the background stays. Two
videos of one camera give nearly the same picture whatever moved in them; `videoad.cameras`
groups videos by it (`videoad detect --per-camera`), without the videos themselves.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

#: (rows, columns) of the stored picture: enough for a scene's layout, small enough for an attribute
SCENE_SHAPE = (24, 32)
#: frames kept at most per video; every how-many-th frame doubles whenever the buffer fills
SCENE_SAMPLES = 32
#: the attribute of a feature file that holds the picture (uint8 values, row-major)
SCENE_ATTR = "scene"


def thumbnail(frame: np.ndarray) -> np.ndarray:
    """A frame (H, W, 3) RGB or (H, W) grey as a SCENE_SHAPE grey picture (uint8; area-averaged)."""
    import cv2

    img = np.asarray(frame)
    if img.ndim == 3 and img.shape[2] == 3:
        img = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
    elif img.ndim == 3:
        img = img[..., 0]
    if img.dtype != np.uint8:
        img = np.clip(img, 0, 255).astype(np.uint8)
    return cv2.resize(img, (SCENE_SHAPE[1], SCENE_SHAPE[0]), interpolation=cv2.INTER_AREA)


class SceneSampler:
    """Keeps a thumbnail of frames spread evenly over a stream of unknown length: every `step`-th
    frame, the step doubling (and every other kept frame dropped) whenever 2 x `samples` are kept."""

    def __init__(self, samples: int = SCENE_SAMPLES) -> None:
        self.samples = int(samples)
        self.step = 1
        self.seen = 0
        self.kept: list[np.ndarray] = []

    def add(self, frame: np.ndarray) -> None:
        if self.seen % self.step == 0:
            self.kept.append(thumbnail(frame))
            if len(self.kept) >= 2 * self.samples:
                self.kept = self.kept[::2]
                self.step *= 2
        self.seen += 1

    def watch(self, frames: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        """Pass `frames` through, sampling them on the way."""
        for frame in frames:
            self.add(frame)
            yield frame

    def picture(self) -> np.ndarray | None:
        """The per-pixel median of the kept thumbnails (uint8 SCENE_SHAPE), None before any frame."""
        if not self.kept:
            return None
        return np.median(np.stack(self.kept), axis=0).round().astype(np.uint8)


def scene_attr(picture: np.ndarray | None) -> list[int]:
    """The picture as the feature file stores it (a flat list; empty when there was no frame)."""
    return [] if picture is None else [int(v) for v in np.asarray(picture, np.uint8).ravel()]


def scene_of(attrs) -> np.ndarray | None:
    """A feature file's picture from its attributes, or None where it has none (extracted before
    pictures were kept, imported features, no frame) or a damaged one."""
    value = attrs.get(SCENE_ATTR)
    if isinstance(value, str):  # lists are kept as JSON text (extract.store)
        try:
            value = json.loads(value)
        except ValueError:
            return None
    if not isinstance(value, (list, tuple, np.ndarray)):
        return None
    arr = np.asarray(value, dtype=np.float64).ravel()
    if arr.size != SCENE_SHAPE[0] * SCENE_SHAPE[1] or not np.all(np.isfinite(arr)):
        return None
    return arr.reshape(SCENE_SHAPE)


def picture_of_stream(stream, limit: int | None = None) -> tuple[np.ndarray | None, list[int] | None]:
    """(the picture, the frame size [height, width]) of an opened stream's frames (its first `limit`
    frames, else all), as the extractor samples them; the stream is closed after."""
    sampler, size = SceneSampler(), None
    try:
        for i, frame in enumerate(sampler.watch(stream.frames)):
            size = size or [int(frame.shape[0]), int(frame.shape[1])]
            if limit is not None and i + 1 >= limit:
                break
    finally:
        stream.close()
    return sampler.picture(), size


def picture_of_source(source, decoders: tuple[str, ...] = (), image_fps: float | None = None
                      ) -> tuple[np.ndarray | None, list[int] | None]:
    """`picture_of_stream` of a source (`extract.sources.Source`) decoded once."""
    from .decode import open_image_folder, open_video

    if source.kind == "images":
        stream = open_image_folder(source.path, fps=image_fps)
    else:
        stream = open_video(source.path, decoders) if decoders else open_video(source.path)
    return picture_of_stream(stream)


def add_picture(path, picture: np.ndarray | None) -> None:
    """Give a finished feature file its picture: a copy gets the attribute and replaces the file,
    so a crash or kill leaves the old file whole (and its temporary is removed by the next run)."""
    import os
    import shutil

    import h5py

    from .store import _to_attr, set_attr, temp_prefix

    final = os.fspath(path)
    tmp = os.path.join(os.path.dirname(final), f"{temp_prefix(Path(final))}{os.getpid()}-scene.tmp")
    try:
        shutil.copy2(final, tmp)
        with h5py.File(tmp, "r+") as f:
            set_attr(f.attrs, SCENE_ATTR, _to_attr(scene_attr(picture)))
        os.replace(tmp, final)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
