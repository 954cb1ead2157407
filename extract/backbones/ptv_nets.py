"""pytorchvideo's Kinetics-400 networks (X3D, Slow R50) as clip feature extractors.

The feature is the classifier's input: the head's own pooling, then a global average (2048-d for
all archs here). The cells come from the map the head pools, in the same forward pass: the last
stage's output for slow_r50 (2048 channels), and for X3D that output after the head's 1x1
pre-projection (432 channels; the head projects to 2048 only after pooling).

Preprocessing follows pytorchvideo's published hub recipe: uniform temporal subsampling of the
clip to the arch's frame count, /255, normalise with mean 0.45 / std 0.225, scale the short side,
centre crop (torchvision's rounding). pytorchvideo 0.1.5 is unmaintained and
imports `torchvision.transforms.functional_tensor`, which current torchvision renamed; a one-line
alias makes it import (only installed when the old name is missing).

Weights: `weights="kinetics400"` is the model zoo's checkpoint (URLs below), fetched once into the
torch hub cache; pytorchvideo publishes no checksum, so it is trusted on first use (see
`extract.weights`); a path to a .pyth file works too (its `model_state` is unwrapped).
Note the temporal difference from training: these nets sampled frames 5-12 apart; here the 16
consecutive frames of one clip are subsampled so that features stay aligned with C3D's clips.
"""
from __future__ import annotations

import importlib
import math
import sys
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ..lazy import lazy_import
from ..tencrop import crop_clip
from ..weights import PublishedWeights, cache_dir
from .torch_base import DEFAULT_CELLS, TorchBackbone, as_bool, as_int, require_weights, seeded_init

torch = lazy_import("torch")  # imported on first use: decode workers never need it

__all__ = ["ARCHS", "PTVBackbone", "PUBLISHED", "import_pytorchvideo", "short_side_size",
           "temporal_indices"]

PTV_MEAN, PTV_STD = 0.45, 0.225
_ZOO = "https://dl.fbaipublicfiles.com/pytorchvideo/model_zoo/kinetics"
#: arch -> (frames fed to the net, short side, crop, feature dim, checkpoint URL)
ARCHS: dict[str, tuple[int, int, int, int, str]] = {
    "x3d_xs": (4, 182, 182, 2048, f"{_ZOO}/X3D_XS.pyth"),
    "x3d_s": (13, 182, 182, 2048, f"{_ZOO}/X3D_S.pyth"),
    "x3d_m": (16, 256, 256, 2048, f"{_ZOO}/X3D_M.pyth"),
    "slow_r50": (8, 256, 256, 2048, f"{_ZOO}/SLOW_8x8_R50.pyth"),
}

#: arch -> its published weights (no sha256: the model zoo publishes none; a test checks the URLs
#: against pytorchvideo's hub)
PUBLISHED: dict[str, tuple[PublishedWeights, ...]] = {
    arch: (PublishedWeights("KINETICS400", url, aliases=("kinetics400", "DEFAULT")),)
    for arch, (*_, url) in ARCHS.items()
}


def import_pytorchvideo():
    """Import `pytorchvideo.models.hub`, aliasing the renamed torchvision module if needed."""
    try:
        importlib.import_module("torchvision.transforms.functional_tensor")
    except ModuleNotFoundError:
        try:
            sys.modules["torchvision.transforms.functional_tensor"] = importlib.import_module(
                "torchvision.transforms._functional_tensor")
        except ImportError:
            pass
    except (ImportError, RuntimeError):
        pass  # torchvision itself is broken; the import below reports it
    try:
        return importlib.import_module("pytorchvideo.models.hub")
    except (ImportError, RuntimeError) as exc:
        raise ImportError(
            f"pytorchvideo is unavailable ({exc}). It needs the 'ptv' extra in a separate "
            'environment: .venv-full/bin/pip install -e ".[dev,ptv]" (never into the CPU-only .venv)'
        ) from exc


def temporal_indices(n_in: int, n_out: int) -> np.ndarray:
    """pytorchvideo's UniformTemporalSubsample: linspace over the clip, truncated to int."""
    return np.linspace(0, n_in - 1, n_out).clip(0, n_in - 1).astype(np.int64)


def short_side_size(h: int, w: int, side: int) -> tuple[int, int]:
    """pytorchvideo's ShortSideScale output (h, w): short side = `side`, long side floored.

    Computed as pytorchvideo does, the ratio first: `floor(w * side / h)` is exact where its
    `floor((w / h) * side)` falls a hair short of an integer (130x150 at 182: 210 against its
    209), a frame one pixel wider than the network's, and every pixel of the crop resampled off."""
    if w < h:
        return int(math.floor((float(h) / w) * side)), side
    return side, int(math.floor((float(w) / h) * side))


def _apply(module: torch.nn.Module | None, x: torch.Tensor) -> torch.Tensor:
    return x if module is None else module(x)


class PTVBackbone(TorchBackbone):
    """A pytorchvideo hub network as a clip backbone; see the module docstring.

    weights: "kinetics400", a .pyth checkpoint or a state dict file; required unless
    `random_init`. download: fetch a published file missing from the cache; weights_sha256: pin
    the file's sha256 (checked on download and on every use). cells: "RxC" (3x3) or "none".
    cuts: "keep" or "hold" (a clip across a scene cut shows its longest shot only).
    """

    clip_len = 16
    crop_rounding = "round"

    def __init__(self, arch: str = "x3d_s", weights: str | Path | None = None, *,
                 random_init: Any = False, layer: str | None = None, crops: str = "centre",
                 crop_reduce: str = "mean", allow_pickle: Any = False, seed: Any = 0,
                 download: Any = True, weights_sha256: str | None = None, cells: Any = DEFAULT_CELLS,
                 device: str | None = "cpu", batch_size: Any = 32, amp: Any = None,
                 channels_last: Any = None, cuts: Any = "keep") -> None:
        if arch not in ARCHS:
            raise ValueError(f"unknown pytorchvideo arch {arch!r}; choose from {sorted(ARCHS)}")
        super().__init__(device=device, batch_size=batch_size, amp=amp, channels_last=channels_last,
                         cells=cells, cuts=cuts)
        self.name = arch
        self.n_frames, self.side, self.crop, self._dim, url = ARCHS[arch]
        random_init = as_bool(random_init, "random_init")
        hub = import_pytorchvideo()  # first: weights are no help without pytorchvideo
        require_weights(weights, random_init, f"The {arch} backbone",
                        f"--weights kinetics400 fetches its Kinetics-400 weights, pytorchvideo's "
                        f"checkpoint {url} , once into {cache_dir()}/ (offline: put the file there, "
                        "or pass --weights /path/to/" + url.rsplit("/", 1)[1] + ").", weights_sha256)
        if layer not in (None, "", "pool"):
            raise ValueError(f"{arch}: only the pooled head features are offered (layer 'pool')")
        self._set_crops(crops, crop_reduce)
        self.random_init, self.seed = random_init, as_int(seed, "seed", minimum=0)
        with seeded_init(self.seed):
            model = getattr(hub, arch)(pretrained=False)
        self._load_weights(model, weights, allow_pickle, published=PUBLISHED[arch],
                           download=download, sha256=weights_sha256)
        projected = hasattr(getattr(model.blocks[-1], "pool", None), "pre_conv")
        self.cell_layer = ("head input after its 1x1 pre-projection (X3D), before the head's pooling"
                           if projected else "last stage (the head's input), before the head's pooling")
        self._set_model(model)

    @property
    def dim(self) -> int:
        return self._dim * (self.n_crops if self.crop_reduce == "keep" else 1)

    def preprocess(self, clip: np.ndarray) -> np.ndarray:
        """(16, H, W, 3) uint8 RGB -> (3, n_frames, crop, crop) float32 ((10, ...) for ten-crop)."""
        clip = self._check_clip(clip)
        frames = clip[temporal_indices(len(clip), self.n_frames)]
        h, w = short_side_size(*clip.shape[1:3], self.side)
        x = np.stack([cv2.resize(f.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
                      for f in frames])
        x = (x / 255.0 - PTV_MEAN) / PTV_STD
        x = crop_clip(x.astype(np.float32), self.crop, self.crops, rounding="round")
        return np.ascontiguousarray(np.moveaxis(x, -1, -4))

    def _features_and_map(self, model: torch.nn.Module, x: torch.Tensor
                          ) -> tuple[torch.Tensor, torch.Tensor]:
        for block in model.blocks[:-1]:
            x = block(x)
        pool = getattr(model.blocks[-1], "pool", None)
        if hasattr(pool, "pre_conv"):  # X3D's ProjectedPool: 1x1 conv, pool, 1x1 conv
            x = _apply(pool.pre_act, _apply(pool.pre_norm, pool.pre_conv(x)))
            pooled = _apply(pool.post_act, _apply(pool.post_norm, pool.post_conv(pool.pool(x))))
        else:
            pooled = x if pool is None else pool(x)
        return pooled.mean(dim=(2, 3, 4)), x

    def _resized_hw(self, height: int, width: int) -> tuple[int, int]:
        return short_side_size(height, width, self.side)

    def describe(self) -> dict[str, Any]:
        info = super().describe()
        info.update(
            backbone=self.name,
            layer="head pooling + global average (classifier input)",
            weights_sha256=self.weights_sha256,
            random_init=self.random_init,
            random_init_seed=self.seed if self.random_init else -1,
            preprocessing=(f"RGB, uniform subsample {self.clip_len}->{self.n_frames} frames, /255, "
                           f"mean 0.45 std 0.225, short side {self.side} (bilinear), "
                           f"{'ten-crop' if self.n_crops > 1 else 'centre crop'} {self.crop}, "
                           "layout C,T,H,W"),
        )
        return info
