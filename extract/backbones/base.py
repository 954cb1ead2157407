"""The interface every clip backbone implements.

The extraction runner only talks to this interface: decode workers call `preprocess` on raw
clips (CPU, in worker processes, so it must be picklable and cheap; a backbone with per-frame
work splits it into `prepare_frame` and `preprocess_prepared`), the main process stacks
the results and calls `forward_batch` on the device. `describe` goes into the store's
attributes so that a feature file always says how it was made.
"""
from __future__ import annotations

import abc
from typing import Any, Callable, Sequence

import numpy as np



def as_bool(value: Any, name: str) -> bool:
    """Accept real booleans and the strings a `--backbone-opt key=value` produces."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{name}: expected a boolean (true/false), got {value!r}")


def not_bool(value: Any, name: str) -> Any:
    """`value`, refused when a boolean: int() and float() read a settings file's `grid: true` as 1."""
    if isinstance(value, bool):
        raise ValueError(f"{name}: {str(value).lower()} is not a number")
    return value


def as_int(value: Any, name: str, minimum: int | None = 1) -> int:
    """`value` as a whole number (a settings file's `4`, `4.0` or "4"), refused when it is not one:
    int() cut a `grid: 4.7` to 4 in silence, and read `grid: true` as 1. `minimum`: None for no floor."""
    not_bool(value, name)
    try:
        number = float(value) if not isinstance(value, int) else value
        whole = int(number)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"{name}: expected an integer, got {value!r}") from None
    if whole != number:
        raise ValueError(f"{name}: expected an integer, got {value!r}")
    if minimum is not None and whole < minimum:
        raise ValueError(f"{name}: must be >= {minimum}, got {whole}")
    return whole


class Backbone(abc.ABC):
    """A clip -> feature vector mapping.

    Clips arrive as uint8 arrays of shape (T, H, W, 3) in RGB order, T == `clip_len`.
    """

    #: registry name, e.g. "motion", "c3d", "r3d_18"
    name: str = "base"
    #: frames per clip the backbone expects
    clip_len: int = 16
    #: frames between clip starts when the user names none (None: the clip length, no overlap)
    default_stride: int | None = None
    #: sources faster than this are resampled to it when the user names no rate (None: never)
    default_max_fps: float | None = None
    #: (rows, cols) of the spatial layout stored beside each clip vector, None for none
    cell_grid: tuple[int, int] | None = None
    #: the name `get_backbone` built it under (set there; None when constructed directly)
    registry_name: str | None = None
    #: whether its `device` argument puts work on an accelerator (a torch network); one that runs on
    #: the CPU whatever it is given (the motion backbone) asks a Ray cluster for no GPU
    uses_device: bool = False

    @property
    @abc.abstractmethod
    def dim(self) -> int:
        """Length of one feature vector."""

    @abc.abstractmethod
    def preprocess(self, clip: np.ndarray) -> np.ndarray:
        """Turn one raw clip (T, H, W, 3) uint8 RGB into the model's input array (float32).

        Runs in decode worker processes: no torch state, no device work here.
        """

    #: optional per-frame stage, `frame -> prepared frame`, run once per decoded frame before
    #: clips are cut (`extract.clips.iter_clips(prepare=...)`): overlapping clips share frames,
    #: and work done here is not repeated for every clip that holds the frame. None: no stage.
    prepare_frame: Callable[[np.ndarray], np.ndarray] | None = None

    def preprocess_prepared(self, clip: np.ndarray, sources: Sequence[int] | None = None) -> np.ndarray:
        """`preprocess` for a clip whose frames went through `prepare_frame` (the raw clip
        when there is no such stage): what the decode workers and `videoad watch` call.
        `sources`: each frame's index in the source video, when the caller knows it (the decode
        workers and `videoad watch` pass it), for what `video_summary` reports by position; an
        override takes it too and passes it on."""
        return self.preprocess(clip)

    def start_video(self) -> None:
        """Called by a decode worker before a video's first frame: per-video state starts here."""

    def frame_times(self, times: np.ndarray | None, first: int = 0) -> None:
        """The started video's frames' own times (s, by source index from `first`), given after
        `start_video` when they keep no one rate (extract.timing), and before each clip of a live
        stream (its latest frames' times: `videoad watch`); the motion backbone leaves out a frame pair
        across a pause in the recording. Ignored by default: a learned backbone reads a clip across
        a pause as it reads one across a scene cut."""

    def video_summary(self) -> dict[str, Any]:
        """What the per-frame and per-clip stages noticed in the video since `start_video`, for
        its store attributes (the motion backbone: the scene cuts it left out, and where). Empty
        by default."""
        return {}

    def take_scene_cuts(self) -> list[int]:
        """The scene cuts found since the last call, by the frame after each, when the clips came
        with their source indices; forgotten once taken (a stream's scorer asks after each clip).
        None found, or none looked for, by default."""
        return []

    @abc.abstractmethod
    def forward_batch(self, batch: np.ndarray) -> np.ndarray:
        """Features for a stacked batch of preprocessed clips: (B, ...) -> (B, dim) float32."""

    def forward_cells(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Clip vectors and, for a backbone with a `cell_grid`, per-cell features from one pass:
        ((B, dim), (B, rows * cols, cell_dim) or None). Cells are row-major, top-left first."""
        return self.forward_batch(batch), None

    def cell_region(self, height: int, width: int) -> tuple[float, float, float, float] | None:
        """The part of a height x width source frame that the cells cover, as fractions
        (x0, y0, x1, y1); None without cells. Stored as the `cell_region` attribute, per video
        because a crop after an aspect-preserving resize covers more or less of each frame."""
        return None

    def describe(self) -> dict[str, Any]:
        """Provenance for the store: name, layer, weights sha256 (or "none"), preprocessing."""
        return {"backbone": self.name, "layer": "", "weights_sha256": "none", "preprocessing": ""}

    def options(self) -> dict[str, Any]:
        """The keyword arguments that rebuild this backbone: `get_backbone(registry_name, **options)`
        extracts as this one does. `describe` says in words how features were made; this is what
        a later process (`videoad watch`) needs to make them the same way. Stored beside every
        feature file as `backbone_options`.

        The default is what `get_backbone` was given (file paths made absolute); a backbone
        whose defaults could change may override it with its resolved values, as `motion` does.
        """
        return dict(getattr(self, "_given_options", None) or {})
