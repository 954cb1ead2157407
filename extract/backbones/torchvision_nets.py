"""torchvision's Kinetics-400 video networks as clip feature extractors.

r3d_18, mc3_18, r2plus1d_18 (512-d) and s3d (1024-d): the feature is the globally pooled
output of the last convolutional stage, i.e. what the classifier sees. Preprocessing follows the
`transforms()` of each network's KINETICS400_V1 weights (torchvision's `VideoClassification`):
RGB, resize (128x171, or 256x256 for s3d; bilinear, no antialiasing), centre crop (112 or 224;
torchvision rounds the centre offset), scale to [0, 1], normalise with the Kinetics mean/std.
It is reimplemented in numpy because it runs in decode workers; a test compares it with
torchvision's own transform.

Weights are never downloaded: pass the .pth file that torchvision would fetch (URLs below).
torchvision is imported only when a backbone is built, because here it needs the CUDA torch
build in a separate environment (`.venv-full`).
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch

from ..tencrop import crop_clip
from ..weights import WeightsError
from .torch_base import TorchBackbone, as_bool, as_int, require_weights

__all__ = ["ARCHS", "KINETICS_MEAN", "KINETICS_STD", "TorchvisionBackbone", "import_torchvision"]

KINETICS_MEAN = (0.43216, 0.394666, 0.37645)
KINETICS_STD = (0.22803, 0.22145, 0.216989)

#: arch -> (feature dim, resize (h, w), crop, weights URL of torchvision's KINETICS400_V1)
ARCHS: dict[str, tuple[int, tuple[int, int], int, str]] = {
    "r3d_18": (512, (128, 171), 112, "https://download.pytorch.org/models/r3d_18-b3b3357e.pth"),
    "mc3_18": (512, (128, 171), 112, "https://download.pytorch.org/models/mc3_18-a90a0ba3.pth"),
    "r2plus1d_18": (512, (128, 171), 112, "https://download.pytorch.org/models/r2plus1d_18-91a641e6.pth"),
    "s3d": (1024, (256, 256), 224, "https://download.pytorch.org/models/s3d-d76dad2f.pth"),
}


def import_torchvision():
    """Import torchvision with a message that says how to get a working one."""
    try:
        import torchvision.models.video as tv_video
    except (ImportError, RuntimeError) as exc:  # RuntimeError: torchvision built for another torch
        raise ImportError(
            f"torchvision video models are unavailable ({exc}). They need the 'vision' extra in a "
            "separate environment: python3 -m venv .venv-full && "
            '.venv-full/bin/pip install -e ".[dev,vision]" (never into the CPU-only .venv)'
        ) from exc
    return tv_video


def _check_hash_prefix(path: Path, sha256: str) -> None:
    """torchvision names its files `<arch>-<first 8 hex of sha256>.pth`: catch corrupt downloads."""
    match = re.fullmatch(r".+-([0-9a-f]{8,})\.pth", path.name)
    if match and not sha256.startswith(match.group(1)):
        raise WeightsError(f"{path}: sha256 {sha256[:12]}... does not match the {match.group(1)} in its "
                           "name (truncated or corrupt download?)")


def resize_frames(clip: np.ndarray, size_hw: tuple[int, int]) -> np.ndarray:
    """Bilinear resize without antialiasing, rounded back to uint8, like torchvision on uint8 video."""
    h, w = size_hw
    if clip.shape[1:3] == (h, w):
        return clip
    out = [cv2.resize(f.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR) for f in clip]
    return np.clip(np.rint(np.stack(out)), 0, 255).astype(np.uint8)


class TorchvisionBackbone(TorchBackbone):
    """A torchvision video network (Kinetics-400) as a clip backbone; see the module docstring.

    arch: one of ARCHS. weights: the KINETICS400_V1 .pth file (or any state dict of the arch);
    required unless `random_init`. crops: "centre" or "tencrop" (crop_reduce "mean"/"keep").
    """

    clip_len = 16

    def __init__(self, arch: str = "r3d_18", weights: str | Path | None = None, *,
                 random_init: Any = False, layer: str | None = None, crops: str = "centre",
                 crop_reduce: str = "mean", allow_pickle: Any = False, seed: Any = 0,
                 device: str | None = "cpu", batch_size: Any = 32, amp: Any = None,
                 channels_last: Any = None) -> None:
        if arch not in ARCHS:
            raise ValueError(f"unknown torchvision video arch {arch!r}; choose from {sorted(ARCHS)}")
        super().__init__(device=device, batch_size=batch_size, amp=amp, channels_last=channels_last)
        self.name = arch
        self._dim, self.resize_hw, self.crop, url = ARCHS[arch]
        random_init = as_bool(random_init, "random_init")
        require_weights(weights, random_init, f"The {arch} backbone",
                        f"Its Kinetics-400 weights are torchvision's file {url} ; download it "
                        "yourself and pass --weights /path/to/" + url.rsplit("/", 1)[1] + ".")
        if layer not in (None, "", "pool"):
            raise ValueError(f"{arch}: only the pooled last-stage features are offered (layer 'pool')")
        self._set_crops(crops, crop_reduce)
        self.random_init, self.seed = random_init, as_int(seed, "seed", minimum=0)
        tv_video = import_torchvision()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            model = getattr(tv_video, arch)(weights=None)
        self._load_weights(model, weights, allow_pickle,
                           check=lambda path, _state, sha: _check_hash_prefix(path, sha))
        self._set_model(model)
        self._mean = np.asarray(KINETICS_MEAN, np.float32)
        self._std = np.asarray(KINETICS_STD, np.float32)

    @property
    def dim(self) -> int:
        return self._dim * (self.n_crops if self.crop_reduce == "keep" else 1)

    def preprocess(self, clip: np.ndarray) -> np.ndarray:
        """(T, H, W, 3) uint8 RGB -> (3, T, crop, crop) float32 normalised ((10, ...) for ten-crop)."""
        clip = self._check_clip(clip)
        x = resize_frames(clip, self.resize_hw)
        x = crop_clip(x, self.crop, self.crops, rounding="round")
        x = (x.astype(np.float32) / 255.0 - self._mean) / self._std
        return np.ascontiguousarray(np.moveaxis(x, -1, -4))

    def _features(self, model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
        if self.name == "s3d":
            return model.features(x).mean(dim=(2, 3, 4))
        x = model.layer4(model.layer3(model.layer2(model.layer1(model.stem(x)))))
        return model.avgpool(x).flatten(1)

    def describe(self) -> dict[str, Any]:
        info = super().describe()
        h, w = self.resize_hw
        info.update(
            backbone=self.name,
            layer="global average pool of the last stage (classifier input)",
            weights_sha256=self.weights_sha256,
            random_init=self.random_init,
            random_init_seed=self.seed if self.random_init else -1,
            preprocessing=(f"RGB, resize {h}x{w} bilinear (no antialias), "
                           f"{'ten-crop' if self.n_crops > 1 else 'centre crop'} {self.crop} "
                           "(torchvision rounding), /255, Kinetics mean/std, layout C,T,H,W"),
        )
        return info
