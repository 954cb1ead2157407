"""torchvision's Kinetics-400 video networks as clip feature extractors.

r3d_18, mc3_18, r2plus1d_18 (512-d) and s3d (1024-d): the feature is the globally pooled
output of the last convolutional stage, i.e. what the classifier sees; the cells are the same
map (layer4, or s3d's last `features` block) averaged per grid cell, so with a grid that divides
the map evenly their mean is the clip feature. Preprocessing follows the
`transforms()` of each network's KINETICS400_V1 weights (torchvision's `VideoClassification`):
RGB, resize (128x171, or 256x256 for s3d; bilinear, no antialiasing), centre crop (112 or 224;
torchvision rounds the centre offset), scale to [0, 1], normalise with the Kinetics mean/std.
It is reimplemented in numpy because it runs in decode workers; a test compares it with
torchvision's own transform.

Weights: `weights="kinetics400"` (or torchvision's names `KINETICS400_V1`, `DEFAULT`) is the
published file below, fetched once into the torch hub cache and checked against the sha256
prefix in its name (`extract.weights.resolve_weights`); a path to that file works too, offline.
torchvision is imported only when a backbone is built, because here it needs the CUDA torch
build in a separate environment (`.venv-full`).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ..lazy import lazy_import
from ..weights import PublishedWeights, cache_dir, check_name_hash
from .torch_base import DEFAULT_CELLS, TorchBackbone, as_bool, as_int, require_weights, seeded_init

torch = lazy_import("torch")  # imported on first use: decode workers never need it

__all__ = ["ARCHS", "KINETICS_MEAN", "KINETICS_STD", "PUBLISHED", "TorchvisionBackbone",
           "import_torchvision"]

KINETICS_MEAN = (0.43216, 0.394666, 0.37645)
KINETICS_STD = (0.22803, 0.22145, 0.216989)

#: arch -> (feature dim, resize (h, w), crop, weights URL of torchvision's KINETICS400_V1)
ARCHS: dict[str, tuple[int, tuple[int, int], int, str]] = {
    "r3d_18": (512, (128, 171), 112, "https://download.pytorch.org/models/r3d_18-b3b3357e.pth"),
    "mc3_18": (512, (128, 171), 112, "https://download.pytorch.org/models/mc3_18-a90a0ba3.pth"),
    "r2plus1d_18": (512, (128, 171), 112, "https://download.pytorch.org/models/r2plus1d_18-91a641e6.pth"),
    "s3d": (1024, (256, 256), 224, "https://download.pytorch.org/models/s3d-d76dad2f.pth"),
}

#: arch -> torchvision's weights enum (the names users know from torchvision)
WEIGHTS_ENUMS = {"r3d_18": "R3D_18_Weights", "mc3_18": "MC3_18_Weights",
                 "r2plus1d_18": "R2Plus1D_18_Weights", "s3d": "S3D_Weights"}

#: arch -> its published weights; KINETICS400_V1 is also each enum's DEFAULT (a test checks the
#: URLs against torchvision's enums)
PUBLISHED: dict[str, tuple[PublishedWeights, ...]] = {
    arch: (PublishedWeights("KINETICS400_V1", url, aliases=(
        "kinetics400", "DEFAULT", f"{WEIGHTS_ENUMS[arch]}.KINETICS400_V1",
        f"{WEIGHTS_ENUMS[arch]}.DEFAULT")),)
    for arch, (_, _, _, url) in ARCHS.items()
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


def resize_frames(clip: np.ndarray, size_hw: tuple[int, int]) -> np.ndarray:
    """Bilinear resize without antialiasing, rounded back to uint8, like torchvision on uint8 video."""
    h, w = size_hw
    if clip.shape[1:3] == (h, w):
        return clip
    out = [cv2.resize(f.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR) for f in clip]
    return np.clip(np.rint(np.stack(out)), 0, 255).astype(np.uint8)


class TorchvisionBackbone(TorchBackbone):
    """A torchvision video network (Kinetics-400) as a clip backbone; see the module docstring.

    arch: one of ARCHS. weights: "kinetics400" (see the module docstring), the KINETICS400_V1
    .pth file or any state dict of the arch; required unless `random_init`. download: fetch a
    published file that is not in the cache yet; weights_sha256: pin the file's full sha256.
    crops: "centre" or "tencrop" (crop_reduce "mean"/"keep").
    cells: grid of per-cell last-stage features ("RxC", default 3x3; "none" for none).
    cuts: "keep" or "hold" (a clip across a scene cut shows its longest shot only).
    """

    clip_len = 16
    crop_rounding = "round"

    def __init__(self, arch: str = "r3d_18", weights: str | Path | None = None, *,
                 random_init: Any = False, layer: str | None = None, crops: str = "centre",
                 crop_reduce: str = "mean", allow_pickle: Any = False, seed: Any = 0,
                 download: Any = True, weights_sha256: str | None = None,
                 cells: Any = DEFAULT_CELLS, device: str | None = "cpu", batch_size: Any = 32,
                 amp: Any = None, channels_last: Any = None, cuts: Any = "keep") -> None:
        if arch not in ARCHS:
            raise ValueError(f"unknown torchvision video arch {arch!r}; choose from {sorted(ARCHS)}")
        super().__init__(device=device, batch_size=batch_size, amp=amp, channels_last=channels_last,
                         cells=cells, cuts=cuts)
        self.name = arch
        self.cell_layer = "features (last block)" if arch == "s3d" else "layer4"
        self._dim, self.resize_hw, self.crop, url = ARCHS[arch]
        random_init = as_bool(random_init, "random_init")
        tv_video = import_torchvision()  # first: weights are no help without torchvision
        require_weights(weights, random_init, f"The {arch} backbone",
                        f"--weights kinetics400 fetches its Kinetics-400 weights, torchvision's file "
                        f"{url} , once into {cache_dir()}/ (offline: put the file there, or pass "
                        "--weights /path/to/" + url.rsplit("/", 1)[1] + ").", weights_sha256)
        if layer not in (None, "", "pool"):
            raise ValueError(f"{arch}: only the pooled last-stage features are offered (layer 'pool')")
        self._set_crops(crops, crop_reduce)
        self.random_init, self.seed = random_init, as_int(seed, "seed", minimum=0)
        with seeded_init(self.seed):
            model = getattr(tv_video, arch)(weights=None)
        self._load_weights(model, weights, allow_pickle,
                           check=lambda path, _state, sha: check_name_hash(
                               path, sha, [w for ws in PUBLISHED.values() for w in ws]),
                           published=PUBLISHED[arch], download=download, sha256=weights_sha256)
        self._set_model(model)
        self._mean = np.asarray(KINETICS_MEAN, np.float32)
        self._std = np.asarray(KINETICS_STD, np.float32)
        self.wire = "uint8"  # the normalisation runs on the device (extract.backbones.torch_base)

    @property
    def dim(self) -> int:
        return self._dim * (self.n_crops if self.crop_reduce == "keep" else 1)

    def preprocess(self, clip: np.ndarray) -> np.ndarray:
        """(T, H, W, 3) uint8 RGB -> (3, T, crop, crop) float32 normalised ((10, ...) for ten-crop)."""
        return self.finish(self.wire_clip(clip))

    def wire_clip(self, clip: np.ndarray) -> np.ndarray:
        """Resized and centre-cropped, (3, T, crop, crop) uint8 (ten-crop: the whole resized
        clip, cropped on the device)."""
        return self._wired(self._sized(self._check_clip(clip)))

    def _finish(self, x, stats):
        mean, std = stats
        return (x / 255.0 - mean) / std

    def _channel_stats(self) -> tuple[np.ndarray, ...]:
        return self._mean.reshape(3, 1, 1, 1), self._std.reshape(3, 1, 1, 1)

    def _features_and_map(self, model: torch.nn.Module, x: torch.Tensor
                          ) -> tuple[torch.Tensor, torch.Tensor]:
        if self.name == "s3d":
            fmap = model.features(x)
            return fmap.mean(dim=(2, 3, 4)), fmap
        fmap = model.layer4(model.layer3(model.layer2(model.layer1(model.stem(x)))))
        return model.avgpool(fmap).flatten(1), fmap

    def _sized(self, clip: np.ndarray) -> np.ndarray:
        return resize_frames(clip, self.resize_hw)

    def _resized_hw(self, height: int, width: int) -> tuple[int, int]:
        return self.resize_hw  # a fixed size, whatever the frame's aspect

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
