"""Spatial crops of a clip: the single centre crop and the ten-crop used by many published
UCF-Crime feature sets (RTFM and its descendants ship I3D features with 10 crops per snippet).

Pure numpy on (T, H, W, C) arrays so that it runs in decode workers. The ten crops follow
torchvision's `TenCrop` order: top-left, top-right, bottom-left, bottom-right, centre, then the
same five boxes on the horizontally flipped clip. Where the centre lies on a half pixel the
conventions differ: Caffe (C3D) floors, torchvision rounds half to even; both are offered so each
backbone matches the pipeline its weights were trained with.
"""
from __future__ import annotations

import numpy as np

__all__ = ["CROP_MODES", "centre_offset", "crop_boxes", "crop_clip"]

#: "centre": one crop per clip; "tencrop": ten crops per clip
CROP_MODES = ("centre", "tencrop")


def centre_offset(size: int, crop: int, rounding: str = "floor") -> int:
    """Offset of a centred crop along one axis; `rounding` is "floor" (Caffe) or "round" (torchvision)."""
    if crop > size:
        raise ValueError(f"crop {crop} larger than the frame side {size}")
    if rounding == "floor":
        return (size - crop) // 2
    if rounding == "round":
        return int(round((size - crop) / 2.0))  # Python's round: half to even, as torchvision
    raise ValueError(f"rounding must be 'floor' or 'round', got {rounding!r}")


def crop_boxes(height: int, width: int, crop: int, mode: str = "centre",
               rounding: str = "floor") -> list[tuple[int, int, bool]]:
    """(top, left, flipped) of each crop, in output order."""
    cy, cx = centre_offset(height, crop, rounding), centre_offset(width, crop, rounding)
    if mode == "centre":
        return [(cy, cx, False)]
    if mode != "tencrop":
        raise ValueError(f"crop mode must be one of {CROP_MODES}, got {mode!r}")
    five = [(0, 0), (0, width - crop), (height - crop, 0), (height - crop, width - crop), (cy, cx)]
    return [(y, x, False) for y, x in five] + [(y, x, True) for y, x in five]


def crop_clip(clip: np.ndarray, crop: int, mode: str = "centre", rounding: str = "floor") -> np.ndarray:
    """Crops of a (T, H, W, C) clip: (T, crop, crop, C) for "centre", (10, T, crop, crop, C) for "tencrop"."""
    if clip.ndim != 4:
        raise ValueError(f"expected a (T, H, W, C) clip, got shape {clip.shape}")
    _, h, w, _ = clip.shape
    boxes = crop_boxes(h, w, crop, mode, rounding)
    flipped = clip[:, :, ::-1] if any(f for _, _, f in boxes) else None
    crops = [
        (flipped if f else clip)[:, y:y + crop, x:x + crop]
        for y, x, f in boxes
    ]
    if mode == "centre":
        return np.ascontiguousarray(crops[0])
    return np.ascontiguousarray(np.stack(crops))
