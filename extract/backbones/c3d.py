"""C3D (Tran et al., ICCV 2015) in the Sports-1M layout of `c3d.pickle`, as Sultani et al. used it.

Module attribute names and shapes are those of the widely shared PyTorch port's state dict
(conv1 ... conv5b, fc6, fc7, fc8 with 487 Sports-1M classes), so that file loads strictly.
Preprocessing reproduces the Caffe C3D v1.0 feature extractor the weights come from: BGR,
0-255, mean subtracted (per channel or the full mean cube), 128x171 frames, crop 112 at (8, 29).

pool5 exists in two forms. Caffe's 3-D pooling rounds the output size up and clips the last
window at the border ("caffe", windows start at 0, 2, 4, 6 on the 7x7 map); most PyTorch ports
pad by one instead ("padded", windows start at -1, 1, 3, 5). Both give 512x1x4x4 and load the
same weights; "caffe" is the default because it is what produced the published features.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ..array_files import read_npy
from ..lazy import lazy_import
from ..tencrop import crop_clip
from ..weights import WeightsError
from .torch_base import DEFAULT_CELLS, TorchBackbone, as_bool, as_int, require_weights, seeded_init

torch = lazy_import("torch")  # imported on first use: decode workers never need it

__all__ = ["C3DBackbone", "SPORTS1M_MEAN_BGR", "WEIGHTS_HELP", "load_mean_cube"]  # and C3D (c3d_net)

#: per-channel Sports-1M mean (channel means of the mean cube), B, G, R
SPORTS1M_MEAN_BGR = (90.25, 97.66, 101.41)
RESIZE_HW = (128, 171)
CROP = 112
LAYERS = ("fc6", "fc7")

WEIGHTS_HELP = (
    "The Sports-1M C3D weights are the file c3d.pickle of the PyTorch port DavideA/c3d-pytorch "
    "(https://github.com/DavideA/c3d-pytorch; direct link "
    "http://imagelab.ing.unimore.it/files/c3d_pytorch/c3d.pickle, converted from the Caffe "
    "C3D v1.0 model via Alberto Montes' Keras port). Download it yourself and pass "
    "--weights /path/to/c3d.pickle (library: C3DBackbone(weights=...))."
)


def load_mean_cube(path: str | Path) -> np.ndarray:
    """A Sports-1M mean cube from .npy, as (16, 128, 171, 3) float32 with BGR channels.

    Accepts Caffe's layout (3, 16, 128, 171), optionally with a leading 1 (the `c3d_mean.npy`
    of the Keras model zoo); the channel axis is BGR, as in Caffe.
    """
    path = Path(path)
    try:
        cube = read_npy(path)
    except ValueError as exc:
        raise ValueError(f"{exc} (the mean cube, mean=; it takes sports1m, none or a mean cube .npy)") from None
    if not np.issubdtype(cube.dtype, np.number) or np.iscomplexobj(cube):
        raise ValueError(f"{path}: the mean cube holds {cube.dtype}, not real numbers")
    if cube.ndim == 5 and cube.shape[0] == 1:
        cube = cube[0]
    if cube.shape != (3, 16, *RESIZE_HW):
        raise ValueError(f"{path}: mean cube must have shape (3, 16, 128, 171) (C=BGR, T, H, W), "
                         f"got {cube.shape}")
    if not np.isfinite(cube).all():
        raise ValueError(f"{path}: mean cube contains non-finite values")
    return np.ascontiguousarray(cube.transpose(1, 2, 3, 0), dtype=np.float32)


class C3DBackbone(TorchBackbone):
    """C3D features (fc6 or fc7, after ReLU) for 16-frame clips, Sports-1M preprocessing.

    weights: path to `c3d.pickle` or any state dict with the same names; required unless
        `random_init` (seeded by `seed`, for tests and smoke runs only).
    allow_pickle: permit full unpickling of the weights file (trusted files only).
    allow_missing_fc: accept files without fc7/fc8 (fc6 features only need conv* and fc6).
    weights_sha256: refuse a weights file whose sha256 differs (a pin for your copy).
    mean: "sports1m" (per channel), "none", or a path to a mean cube .npy.
    crops: "centre" or "tencrop"; crop_reduce: "mean" or "keep" (concatenated per crop).
    cells: grid of per-cell conv5b features ("RxC", default 3x3; "none" for none). conv5b, not
        pool5: it is the last map with a spatial layout of its own (7x7), the same for both
        pool5 variants, while pool5's Caffe windows are uneven and fc6 mixes all positions.
    width: channel divisor for a reduced network (tests, benchmarks); 1 is the real C3D.
    cuts: "keep" (a clip across a scene cut as it is) or "hold" (its longest shot alone); the cuts
        are recorded either way (`extract.backbones.torch_base`).
    """

    name = "c3d"
    clip_len = 16
    crop, crop_rounding = CROP, "floor"
    cell_layer = "conv5b (post-ReLU)"

    def __init__(self, weights: str | Path | None = None, *, random_init: Any = False,
                 layer: str | None = "fc6", pool5: str = "caffe", mean: str = "sports1m",
                 crops: str = "centre", crop_reduce: str = "mean", allow_pickle: Any = False,
                 allow_missing_fc: Any = False, seed: Any = 0, width: Any = 1,
                 weights_sha256: str | None = None, cells: Any = DEFAULT_CELLS,
                 device: str | None = "cpu", batch_size: Any = 32, amp: Any = None,
                 channels_last: Any = None, cuts: Any = "keep") -> None:
        super().__init__(device=device, batch_size=batch_size, amp=amp, channels_last=channels_last,
                         cells=cells, cuts=cuts)
        random_init = as_bool(random_init, "random_init")
        require_weights(weights, random_init, "The C3D backbone", WEIGHTS_HELP, weights_sha256)
        self.layer = layer or "fc6"
        if self.layer not in LAYERS:
            raise ValueError(f"c3d: layer must be one of {LAYERS}, got {self.layer!r}")
        from .c3d_net import C3D, POOL5_MODES  # the network: torch, in this process only

        if pool5 not in POOL5_MODES:
            raise ValueError(f"c3d: pool5 must be one of {POOL5_MODES}, got {pool5!r}")
        self.pool5 = pool5
        self._set_crops(crops, crop_reduce)
        self.mean_spec = str(mean)
        self._mean = self._resolve_mean(self.mean_spec)
        # per-channel (or no) mean: uint8 clips to the device, the mean subtracted there
        self.wire = "uint8" if self._mean is None or self._mean.ndim == 1 else "float32"
        self.width = as_int(width, "width")
        widths = tuple(max(1, w // self.width) for w in (64, 128, 256, 512, 512))
        self._fc_dim = max(1, 4096 // self.width)
        self.random_init = random_init
        self.seed = as_int(seed, "seed", minimum=0)

        with seeded_init(self.seed):
            model = C3D(widths, self._fc_dim, pool5=pool5)
        allow_missing = ("fc7.", "fc8.") if as_bool(allow_missing_fc, "allow_missing_fc") else ()

        def check(path, state, _sha):
            if self.layer == "fc7" and allow_missing and "fc7.weight" not in state:
                raise WeightsError(f"{path}: layer fc7 requested but the file has no fc7")

        self._load_weights(model, weights, allow_pickle, check=check, allow_missing=allow_missing,
                           sha256=weights_sha256)
        self._set_model(model)

    @property
    def dim(self) -> int:
        return self._fc_dim * (self.n_crops if self.crop_reduce == "keep" else 1)

    @staticmethod
    def _resolve_mean(spec: str) -> np.ndarray | None:
        if spec == "none":
            return None
        if spec == "sports1m":
            return np.asarray(SPORTS1M_MEAN_BGR, dtype=np.float32)
        return load_mean_cube(spec)

    def preprocess(self, clip: np.ndarray) -> np.ndarray:
        """(16, H, W, 3) uint8 RGB -> (3, 16, 112, 112) float32 BGR, mean-subtracted, 0-255 scale.

        With ten-crop: (10, 3, 16, 112, 112).
        """
        clip = self._c3d_clip(clip)
        if self._mean is None or self._mean.ndim == 1:
            return self.finish(self.wire_clip(clip))
        x = self._sized(clip)[..., ::-1].astype(np.float32)  # a mean cube: subtracted before the crop
        x -= self._mean
        x = crop_clip(x, CROP, self.crops, rounding="floor")  # (T, 112, 112, 3) or (10, T, ...)
        return np.ascontiguousarray(np.moveaxis(x, -1, -4))

    def wire_clip(self, clip: np.ndarray) -> np.ndarray:
        """Resized, BGR, centre-cropped, (3, 16, 112, 112) uint8 (ten-crop: (3, 16, 128, 171),
        cropped on the device)."""
        return self._wired(self._sized(self._c3d_clip(clip))[..., ::-1])

    def _finish(self, x, stats):
        return x - stats[0] if stats else x

    def _channel_stats(self) -> tuple[np.ndarray, ...]:
        if self._mean is not None and self._mean.ndim > 1:
            raise NotImplementedError("c3d: no uint8 wire with a mean cube (its values differ per "
                                      "position, and the crop has already dropped the positions)")
        return () if self._mean is None else (self._mean.reshape(3, 1, 1, 1),)

    def _c3d_clip(self, clip: np.ndarray) -> np.ndarray:
        clip = np.asarray(clip)
        if clip.ndim != 4 or clip.shape[0] != self.clip_len or clip.shape[-1] != 3 or clip.dtype != np.uint8:
            raise ValueError(f"c3d: expected a ({self.clip_len}, H, W, 3) uint8 RGB clip, got "
                             f"{clip.shape} {clip.dtype}")
        return clip

    def _sized(self, clip: np.ndarray) -> np.ndarray:
        """Every frame at 128x171 (bilinear, uint8); a clip already at that size as it is."""
        h, w = RESIZE_HW
        if clip.shape[1:3] == (h, w):
            return clip
        return np.stack([cv2.resize(f, (w, h), interpolation=cv2.INTER_LINEAR) for f in clip])

    def _features_and_map(self, model: torch.nn.Module, x: torch.Tensor
                          ) -> tuple[torch.Tensor, torch.Tensor]:
        conv5b, pool5 = model.conv5b_and_pool5(x)
        return model.head(pool5, self.layer), conv5b

    def _resized_hw(self, height: int, width: int) -> tuple[int, int]:
        return RESIZE_HW  # every frame is resized to 128x171, whatever its aspect

    def describe(self) -> dict[str, Any]:
        info = super().describe()
        mean = {"sports1m": "Sports-1M per-channel mean (B,G,R) = (90.25, 97.66, 101.41)",
                "none": "no mean subtraction"}.get(self.mean_spec, f"mean cube {self.mean_spec}")
        info.update(
            backbone=self.name,
            layer=f"{self.layer} (post-ReLU)",
            weights_sha256=self.weights_sha256,
            random_init=self.random_init,
            random_init_seed=self.seed if self.random_init else -1,
            pool5=self.pool5,
            width_divisor=self.width,
            preprocessing=(f"RGB->BGR, 0-255, resize 128x171 (bilinear), {mean}, "
                           f"{'ten-crop' if self.n_crops > 1 else 'centre crop'} 112x112 "
                           "(centre at row 8, col 29), layout C,T,H,W"),
        )
        return info


def __getattr__(name: str) -> Any:
    """`C3D`, the network, lives in `c3d_net` (it needs torch at import); named here as before."""
    if name == "C3D":
        from .c3d_net import C3D

        return C3D
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
