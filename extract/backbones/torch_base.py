"""What every torch backbone shares: weights policy, device placement and batched inference.

Subclasses build an `nn.Module` on the CPU (weights loaded and checked) and say how to turn a
model input into feature vectors (`_features`). This base decides how the batch runs:

* CPU: float32 in `channels_last_3d` (about +25 % for C3D on this project's CPUs); no reduced
  precision, because bf16/fp16 convolutions on these CPUs are orders of magnitude slower.
* CUDA (`cuda` or `cuda:N`): fp16 autocast, cudnn autotuning, pinned host memory with
  non-blocking copies, and all sub-batches queued before the one synchronising read-back so the
  host prepares the next copy while the GPU computes. Each sub-batch is padded to a power of
  two (`bucket_size`) so that the autotuning runs for a few shapes, not for every batch size
  the runner happens to form. Out-of-memory halves the sub-batch.

The model moves to the device on the first `forward_batch`, not at construction, so that decode
worker processes forked after construction never inherit a CUDA context, and a pickled copy
sent to a spawned worker leaves the model behind (workers only run `preprocess`).

Grid cells: a subclass that implements `_features_and_map` (clip features and the last
convolutional map of the same forward pass) gets per-cell features for free: the map is averaged
over time and adaptively average-pooled to `cell_grid` (`cells=RxC`, default 3x3, `cells=none`
off). With ten-crop the cells come from the centre crop alone, so they cover one well-defined
region of the frame (`cell_region`), the same as without ten-crop.

The wire: what a decode worker sends the main process. A backbone whose normalisation is an
affine map per colour channel (C3D with the per-channel Sports-1M mean, the torchvision
networks) sends its clips as uint8 in the model's layout (resized, cropped, channel order set)
and normalises them on the device after the copy (`wire = "uint8"`): a quarter of the bytes
through the worker's pipe, the main process's unpickling and stacking, and the host-to-device
copy, all work of the one main process that feeds the GPU (on the one GPU measured, the
network computed 12% of the pipeline's time: docs/backbones.md, "Keeping the GPU fed"). The
features are the same bit for bit (float32 subtraction and division round the same on both
sides). With ten-crop the clip travels uncropped (one resized clip, not ten crops: about a
sixth of the bytes again for C3D) and is cut into its ten crops on the device, by the same
boxes as `extract.tencrop.crop_clip`. `wire = "float32"` sends the normalised input as before
(a mean cube, the pytorchvideo networks, whose resize works on floats; also settable, for
benchmarks).

Scene cuts (`extract.cuts`): the decode workers find them in every clip and record where they
are (the report draws them); `cuts="keep"`, the default, gives the network a clip across a cut
as it is, `cuts="hold"` the clip's longest shot alone (its edge frames held over the rest).
"""
from __future__ import annotations

import contextlib
import dataclasses
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from ..cuts import CutLog, clip_cuts, hold_longest_shot
from ..device import resolve_device
from ..lazy import lazy_import
from ..tencrop import CROP_MODES, centre_offset, crop_boxes, crop_clip
from ..weights import PublishedWeights, load_into, load_state_dict, resolve_weights
from .base import Backbone, as_bool, as_int  # noqa: F401 - as_bool, as_int: the learned backbones import them from here

torch = lazy_import("torch")  # imported on first use: decode workers never need it

log = logging.getLogger(__name__)

__all__ = ["DEFAULT_CELLS", "ExecPlan", "MissingWeightsError", "TorchBackbone", "as_bool", "as_int",
           "exec_plan", "grid_cells", "parse_cells", "resolve_device", "require_weights"]

#: the default spatial grid of the learned backbones' cells: coarse, because their last maps are
#: only 6-8 positions wide (7x7 for 112-pixel crops) and each position already sees most of the crop
DEFAULT_CELLS = "3x3"
#: index of the unflipped centre crop in ten-crop order (`extract.tencrop.crop_boxes`)
_CENTRE_CROP = 4
#: what a learned backbone does with a clip across a scene cut (module docstring)
CUT_MODES = ("keep", "hold")


class MissingWeightsError(ValueError):
    """A backbone that needs pretrained weights was given none (and no explicit random init)."""


def parse_cells(value: Any) -> tuple[int, int] | None:
    """`cells=` as "RxC" (or "N" for NxN, or a (rows, cols) pair); "none"/"off"/"0" for no cells."""
    if value is None or (isinstance(value, str) and value.strip().lower() in ("none", "off", "0", "")):
        return None
    given = value
    if isinstance(value, str):
        rows, sep, cols = value.strip().lower().partition("x")
        value = (rows, cols if sep else rows)
    elif isinstance(value, int):
        value = (value, value)
    try:
        rows, cols = (int(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"cells: expected RxC (e.g. 3x3) or none, got {given!r}") from None
    if not (1 <= rows <= 16 and 1 <= cols <= 16):
        raise ValueError(f"cells: rows and columns must be 1..16, got {rows}x{cols}")
    return rows, cols


def grid_cells(fmap: torch.Tensor, grid: tuple[int, int]) -> torch.Tensor:
    """(N, C, T, H, W) map -> (N, rows * cols, C): mean over time, adaptive average over each
    cell's part of the map, cells row-major from the top left (the store's order)."""
    x = fmap.float().mean(dim=2)
    x = torch.nn.functional.adaptive_avg_pool2d(x, grid)
    return x.flatten(2).transpose(1, 2).contiguous()


@dataclass(frozen=True)
class ExecPlan:
    """How a batch runs on a device; chosen from the device type, overridable per flag."""

    device: torch.device
    amp: bool            # fp16 autocast
    pin_memory: bool     # stage host tensors in page-locked memory
    non_blocking: bool   # asynchronous host -> device copies
    channels_last: bool  # channels_last_3d memory format for model and input
    #: pad each sub-batch on the device to a power of two (rows of the last clip repeated, their
    #: outputs dropped): the runner forwards clips as they arrive, so without it every new batch
    #: size sets cudnn's autotuning off again (CUDA only; see `bucket_size`)
    bucket: bool = False

    @property
    def precision(self) -> str:
        return "fp16-autocast" if self.amp else "fp32"


def exec_plan(device: torch.device, amp: bool | None = None,
              channels_last: bool | None = None) -> ExecPlan:
    """Defaults per device type; pure logic so that the CUDA choices are testable without a GPU."""
    if device.type == "cuda":
        return ExecPlan(device, amp=True if amp is None else amp, pin_memory=True,
                        non_blocking=True, channels_last=bool(channels_last), bucket=True)
    if amp:
        raise ValueError("mixed precision is CUDA-only here: fp16/bf16 3-D convolutions on the CPU "
                         "are orders of magnitude slower than fp32")
    return ExecPlan(device, amp=False, pin_memory=False, non_blocking=False,
                    channels_last=True if channels_last is None else channels_last)


def bucket_size(n: int, cap: int) -> int:
    """The padded size of a sub-batch of `n` rows: the next power of two, at most `cap` (the
    sub-batch size), so that a run sees at most log2(cap) + 2 input shapes. Padding at most
    doubles a sub-batch's compute, on a device that the decode workers keep mostly idle."""
    return min(max(cap, n), 1 << max(0, n - 1).bit_length())


def _real_rows(out: torch.Tensor, rows: int, padded: int) -> torch.Tensor:
    """The outputs of the first `rows` of `padded` input rows (each row may give several
    outputs, one per crop; the cells, from the centre crop, one)."""
    return out if padded == rows else out[: rows * (out.shape[0] // padded)]


@contextlib.contextmanager
def seeded_init(seed: int):
    """Inside: torch's CPU generator seeded with `seed`, for the random initial weights of a
    network built on the CPU (`random_init`, layers a weights file lacks). After: the caller's
    state as it was. CUDA's generators are left alone: `torch.manual_seed` also seeded every
    CUDA device (at once, or queued until CUDA starts), which `fork_rng(devices=[])` does not
    restore, so building a backbone reset the caller's CUDA random stream to the backbone's seed."""
    with torch.random.fork_rng(devices=[]):
        torch.random.default_generator.manual_seed(int(seed))
        yield


def require_weights(weights: Any, random_init: bool, what: str, where: str, sha256: Any = None) -> None:
    """Refuse to run a pretrained architecture on random weights unless that is asked for; a
    `weights_sha256` pin with `random_init` pins nothing (it was ignored in silence)."""
    if weights and random_init:
        raise ValueError(f"{what}: give either weights or random_init, not both")
    if random_init and sha256:
        raise ValueError(f"{what}: weights_sha256 pins a weights file, and random_init loads none: give weights "
                         "with the pin, or leave the pin out")
    if not weights and not random_init:
        raise MissingWeightsError(
            f"{what} needs pretrained weights and none were given. {where} "
            "For smoke tests only, --random-init runs it with seeded random weights "
            "(recorded in the store's attributes)."
        )


class TorchBackbone(Backbone):
    """Batched, device-aware inference over `_features`; see the module docstring."""

    uses_device = True

    #: crops per clip produced by `preprocess` (10 for ten-crop)
    n_crops: int = 1
    #: "mean": average the crops' features; "keep": concatenate them crop-major (dim * n_crops)
    crop_reduce: str = "mean"
    #: dimensions of one model input (C, T, H, W)
    input_ndim: int = 4

    #: what the cells are computed from, for `describe()` (set by subclasses that have cells)
    cell_layer: str = ""
    #: crop side and centre rounding ("floor" Caffe, "round" torchvision), for `cell_region`
    crop: int = 0
    crop_rounding: str = "round"
    #: what `preprocess_prepared` hands the main process (module docstring): "uint8" where the
    #: subclass implements `wire_clip` and `_finish`, else "float32"
    wire: str = "float32"

    def __init__(self, *, device: str | None = "cpu", batch_size: Any = 32,
                 amp: Any = None, channels_last: Any = None, cells: Any = None, cuts: Any = "keep") -> None:
        self.cuts = str(cuts)
        if self.cuts not in CUT_MODES:
            raise ValueError(f"cuts must be one of {CUT_MODES} for a learned backbone, got {cuts!r}")
        self._cut_log = CutLog("held" if self.cuts == "hold" else "kept")
        self.device = resolve_device("cpu" if device is None else device)  # None: the CPU, as the runners assume
        self.cell_grid = parse_cells(cells)
        self.plan = exec_plan(
            self.device,
            amp=None if amp is None else as_bool(amp, "amp"),
            channels_last=None if channels_last is None else as_bool(channels_last, "channels_last"),
        )
        #: most model inputs (clips x crops) per forward call; larger batches are split
        self.batch_size = as_int(batch_size, "batch_size")
        self._model: torch.nn.Module | None = None
        self._placed = False
        self.stats = {"batches": 0, "clips": 0, "forward_s": 0.0, "device_s": 0.0, "padded": 0}

    # -- scene cuts (run in the decode workers) ---------------------------------------------
    def preprocess_prepared(self, clip: np.ndarray, sources: Sequence[int] | None = None) -> np.ndarray:
        """`preprocess`, after the clip's scene cuts are found and recorded (and with
        `cuts="hold"`, the clip reduced to its longest shot)."""
        clip = self._sized(np.asarray(clip))  # the network's frame size first: the cut check reads fewer pixels
        cuts = clip_cuts(clip)
        self._cut_log.add(cuts, sources)
        if self.cuts == "hold" and any(cuts):
            clip = hold_longest_shot(clip, cuts)
        return self.wire_clip(clip) if self.wire == "uint8" else self.preprocess(clip)

    # -- the wire (module docstring) ----------------------------------------------------------
    def wire_clip(self, clip: np.ndarray) -> np.ndarray:
        """The clip resized and laid out for the model, still uint8: (C, T, crop, crop), or with
        ten-crop the whole resized clip (C, T, H, W), cropped on the device. `finish` turns it
        into `preprocess`'s output. Subclasses size the frames and call `_wired`."""
        raise NotImplementedError(f"{self.name}: no uint8 wire; its clips travel as float32")

    def _wired(self, sized: np.ndarray) -> np.ndarray:
        """A (T, H, W, C) uint8 clip at the network's frame size as it travels: centre-cropped,
        or whole under ten-crop; channels first."""
        if self.n_crops == 1:
            sized = crop_clip(sized, self.crop, "centre", rounding=self.crop_rounding)
        return np.ascontiguousarray(np.moveaxis(sized, -1, -4))

    def _ten_crops(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C, T, H, W) -> (N * 10, C, T, crop, crop): the boxes and flips of
        `extract.tencrop.crop_clip`, in its order."""
        h, w = x.shape[-2:]
        boxes = crop_boxes(h, w, self.crop, "tencrop", self.crop_rounding)
        flipped = x.flip(-1)
        crops = [(flipped if f else x)[..., y:y + self.crop, c:c + self.crop] for y, c, f in boxes]
        return torch.stack(crops, dim=1).reshape(-1, *x.shape[1:-2], self.crop, self.crop)

    def _uncropped(self, wired: Any) -> bool:
        """Whether a wired clip or batch still holds the whole frame (ten-crop's wire)."""
        return self.n_crops > 1 and tuple(wired.shape[-2:]) != (self.crop, self.crop)

    def _finish(self, x: Any, stats: tuple[Any, ...]) -> Any:
        """The per-channel normalisation of a wired clip or batch as float32 (a numpy array
        or a torch tensor: the same operations in the same order on both), `stats` from
        `_channel_stats` shaped to broadcast over (C, T, H, W)."""
        raise NotImplementedError(f"{self.name}: no uint8 wire")

    def _channel_stats(self) -> tuple[np.ndarray, ...]:
        """The per-channel constants `_finish` uses, as float32 arrays of shape (C, 1, 1, 1)."""
        return ()

    def finish(self, wired: np.ndarray) -> np.ndarray:
        """`preprocess`'s float32 input from what `preprocess_prepared` returned (as it is when
        that is float32 already)."""
        wired = np.asarray(wired)
        if wired.dtype != np.uint8:
            return wired
        if self._uncropped(wired):  # the ten crops, as on the device: (..., 10, C, T, crop, crop)
            lead = wired.shape[:-4]
            crops = self._ten_crops(torch.from_numpy(wired.reshape(-1, *wired.shape[-4:]))).numpy()
            wired = crops.reshape(*lead, self.n_crops, *crops.shape[1:])
        return np.ascontiguousarray(self._finish(wired.astype(np.float32), self._channel_stats()))

    def _finish_on_device(self, x: torch.Tensor) -> torch.Tensor:
        """`_finish` on a uint8 batch that has reached the device (cut into its ten crops first
        when it travelled whole)."""
        if self._uncropped(x):
            x = self._ten_crops(x)
        cached = getattr(self, "_device_stats", None)
        if cached is None or cached[0] != x.device:
            stats = tuple(torch.from_numpy(s).to(x.device) for s in self._channel_stats())
            self._device_stats = cached = (x.device, stats)
        return self._finish(x.float(), cached[1])

    def start_video(self) -> None:
        self._cut_log.start()

    def video_summary(self) -> dict[str, Any]:
        """The scene cuts found since `start_video`, where, and what was done at them."""
        return self._cut_log.summary()

    def take_scene_cuts(self) -> list[int]:
        return self._cut_log.take()

    def options(self) -> dict[str, Any]:
        options = super().options()
        if options.get("cuts") == "keep":  # the default, as records from before the option say
            del options["cuts"]
        return options

    # -- subclass hooks ---------------------------------------------------------------------
    def _sized(self, clip: np.ndarray) -> np.ndarray:
        """The clip at the size `preprocess` resizes every frame to, when that size is fixed and
        `preprocess` passes a clip already at it through unchanged (C3D, torchvision); as it is
        otherwise."""
        return clip

    def _features(self, model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
        """(N, *input) -> (N, feature_dim) for one sub-batch on the device."""
        return self._features_and_map(model, x)[0]

    def _features_and_map(self, model: torch.nn.Module, x: torch.Tensor
                          ) -> tuple[torch.Tensor, torch.Tensor]:
        """The clip features (N, feature_dim) and, from the same pass, the (N, C, T, H, W) map the
        cells are pooled from. Backbones with cells implement this (and set `cell_layer`)."""
        raise NotImplementedError(f"{self.name}: no feature map for cells")

    def _features_and_cells(self, model: torch.nn.Module, x: torch.Tensor
                            ) -> tuple[torch.Tensor, torch.Tensor]:
        """(N, feature_dim) and (N, rows * cols, C) from one forward pass."""
        features, fmap = self._features_and_map(model, x)
        return features, grid_cells(fmap, self.cell_grid)

    def _resized_hw(self, height: int, width: int) -> tuple[int, int]:
        """Frame size after `preprocess`'s resize, before the crop (subclasses with cells)."""
        raise NotImplementedError

    def cell_region(self, height: int, width: int) -> tuple[float, float, float, float] | None:
        """[x0, y0, x1, y1] of a height x width source frame, as fractions, that the (centre)
        crop and hence the cells cover; the resize keeps relative positions, the crop does not."""
        if self.cell_grid is None:
            return None
        rh, rw = self._resized_hw(height, width)
        top = centre_offset(rh, self.crop, self.crop_rounding)
        left = centre_offset(rw, self.crop, self.crop_rounding)
        return (left / rw, top / rh, (left + self.crop) / rw, (top + self.crop) / rh)

    def _set_crops(self, crops: str, crop_reduce: str) -> None:
        """Validate and apply the crop options shared by every backbone (see `extract.tencrop`)."""
        if crops not in CROP_MODES:
            raise ValueError(f"{self.name}: crops must be one of {CROP_MODES}, got {crops!r}")
        if crop_reduce not in ("mean", "keep"):
            raise ValueError(f"{self.name}: crop_reduce must be 'mean' or 'keep', got {crop_reduce!r}")
        self.crops, self.crop_reduce = crops, crop_reduce
        self.n_crops = 10 if crops == "tencrop" else 1

    def _set_model(self, model: torch.nn.Module) -> None:
        self._model = model.eval()
        self._placed = False

    def _load_weights(self, model: torch.nn.Module, weights: Any, allow_pickle: Any, *,
                      check: Callable[[Path, dict, str], None] | None = None,
                      allow_missing: tuple[str, ...] = (),
                      published: tuple[PublishedWeights, ...] = (), download: Any = True,
                      sha256: str | None = None) -> None:
        """Load weights strictly into `model`, or keep its (seeded) random initialisation when
        `weights` is empty; record the file and its sha256 for the store's provenance.
        `weights` is a file or one of the `published` names (see `extract.weights.resolve_weights`;
        `download`, `sha256`: its options). `check(path, state, sha256)` may reject a file."""
        if not weights:
            self.weights_path, self.weights_sha256 = None, "none"
            return
        loaded: list[Path] = []

        def accept(path: Path, sha: str) -> None:
            state = load_state_dict(path, allow_pickle=as_bool(allow_pickle, "allow_pickle"))
            if check is not None:
                check(path, state, sha)
            load_into(model, state, source=str(path), allow_missing=allow_missing)
            loaded.append(path)

        self.weights_path, self.weights_sha256 = resolve_weights(
            weights, self.name, published, download=as_bool(download, "download"), sha256=sha256, accept=accept)
        if not loaded:  # not a first use: loaded here (a first use was loaded before it was trusted)
            accept(self.weights_path, self.weights_sha256)

    def _check_clip(self, clip: np.ndarray) -> np.ndarray:
        """The raw clip every backbone takes: (T, H, W, 3) uint8 RGB."""
        clip = np.asarray(clip)
        if clip.ndim != 4 or clip.shape[-1] != 3 or clip.dtype != np.uint8:
            raise ValueError(f"{self.name}: expected a (T, H, W, 3) uint8 RGB clip, got "
                             f"{clip.shape} {clip.dtype}")
        return clip

    # -- the Backbone interface -------------------------------------------------------------
    def forward_batch(self, batch: np.ndarray) -> np.ndarray:
        return self._forward(batch, cells=False)[0]

    def forward_cells(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        return self._forward(batch, cells=self.cell_grid is not None)

    def _forward(self, batch: np.ndarray, cells: bool) -> tuple[np.ndarray, np.ndarray | None]:
        model = self._ready_model()
        batch = np.asarray(batch)
        whole = batch.dtype == np.uint8 and batch.ndim == self.input_ndim + 1 and self._uncropped(batch)
        per_clip = self.input_ndim + (1 if self.n_crops > 1 and not whole else 0)
        if batch.ndim != per_clip + 1 or (self.n_crops > 1 and not whole and batch.shape[1] != self.n_crops):
            crops = f"{self.n_crops} crops x " if self.n_crops > 1 else ""
            raise ValueError(f"{self.name}: expected a batch of preprocessed clips "
                             f"(B, {crops}{self.input_ndim}-D input), got shape {batch.shape}")
        n_clips = batch.shape[0]
        flat = batch.reshape((-1, *batch.shape[-self.input_ndim:]))
        start = time.perf_counter()
        feats, grid = self._run_all(model, flat, cells)
        if self.n_crops > 1:
            feats = feats.reshape(n_clips, self.n_crops, -1)
            feats = feats.mean(axis=1) if self.crop_reduce == "mean" else feats.reshape(n_clips, -1)
            if grid is not None:  # the centre crop's cells only: one region of the frame
                grid = grid.reshape(n_clips, self.n_crops, *grid.shape[1:])[:, _CENTRE_CROP]
        self.stats["forward_s"] += time.perf_counter() - start
        self.stats["batches"] += 1
        self.stats["clips"] += n_clips
        feats = np.ascontiguousarray(feats, dtype=np.float32)
        return feats, None if grid is None else np.ascontiguousarray(grid, dtype=np.float32)

    def describe(self) -> dict[str, Any]:
        info = super().describe()
        # no device and no file paths here: the runner fingerprints this dict for resume, and
        # neither changes the features (the precision does)
        info.update(precision=self._placement().precision,
                    crops=self.n_crops, crop_reduce=self.crop_reduce if self.n_crops > 1 else "none")
        if self.cell_grid is not None:
            rows, cols = self.cell_grid
            info.update(cells=f"{rows}x{cols}",
                        cell_layer=f"{self.cell_layer}; time mean, adaptive average per cell"
                                   + ("; centre crop only" if self.n_crops > 1 else ""))
        else:
            info.update(cells="none")
        if self.cuts == "hold":  # named only when set: stores from before the option stay current
            info.update(cuts="a clip across a scene cut shows its longest shot only (extract.cuts)")
        return info

    # -- internals --------------------------------------------------------------------------
    def _ready_model(self) -> torch.nn.Module:
        if self._model is None:
            raise RuntimeError(f"{self.name}: this copy has no model (copies sent to decode "
                               "workers carry only the preprocessing)")
        if not self._placed:
            self._placement()
            fmt = torch.channels_last_3d if self.plan.channels_last else torch.contiguous_format
            self._model = self._model.to(self.device, memory_format=fmt)
            if self.device.type == "cuda":
                torch.backends.cudnn.benchmark = True
            self._placed = True
        return self._model

    def _run_all(self, model: torch.nn.Module, flat: np.ndarray, cells: bool = False
                 ) -> tuple[np.ndarray, np.ndarray | None]:
        step = self.batch_size
        while True:
            try:
                return self._run_chunks(model, flat, step, cells)
            except torch.cuda.OutOfMemoryError:
                if step == 1 or self.device.type != "cuda":
                    raise
                step = max(1, step // 2)
                torch.cuda.empty_cache()
                log.warning("%s: out of device memory, retrying with sub-batches of %d", self.name, step)
                self.batch_size = step

    def _run_chunks(self, model: torch.nn.Module, flat: np.ndarray, step: int, cells: bool
                    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Queue every sub-batch, then read all results back with one synchronisation."""
        plan = self.plan
        cuda = self.device.type == "cuda"
        if cuda:
            begin, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            begin.record()
        outs, cell_outs = [], []
        with torch.inference_mode(), torch.autocast(device_type=self.device.type,
                                                     dtype=torch.float16, enabled=plan.amp):
            wired = flat.dtype == np.uint8
            if wired and self._uncropped(flat):  # each row becomes n_crops model inputs on the device
                step = max(1, step // self.n_crops)
            for i in range(0, len(flat), step):
                x = torch.from_numpy(np.ascontiguousarray(flat[i:i + step],
                                                          dtype=np.uint8 if wired else np.float32))
                if plan.pin_memory:
                    x = x.pin_memory()
                x = x.to(self.device, non_blocking=plan.non_blocking)
                rows = x.shape[0]
                padded = bucket_size(rows, step) if plan.bucket else rows
                if padded > rows:  # repeat the last row; its outputs are dropped below
                    x = torch.cat([x, x[-1:].expand(padded - rows, *x.shape[1:])])
                    self.stats["padded"] += padded - rows
                if wired:  # normalised here, after the copy of a quarter of the bytes
                    x = self._finish_on_device(x)
                if plan.channels_last and x.ndim == 5:
                    x = x.contiguous(memory_format=torch.channels_last_3d)
                if cells:
                    features, grid = self._features_and_cells(model, x)
                    cell_outs.append(_real_rows(grid, rows, padded).float())
                else:
                    features = self._features(model, x)
                outs.append(_real_rows(features, rows, padded).float())
            result = torch.cat(outs).cpu().numpy()
            grid = torch.cat(cell_outs).cpu().numpy() if cells else None
        if cuda:
            end.record()
            end.synchronize()
            self.stats["device_s"] += begin.elapsed_time(end) / 1000.0
        return result, grid

    def __getstate__(self) -> dict[str, Any]:
        """A copy for a decode worker: no model, and the device and plan as plain values, so
        that unpickling it imports no torch; `_placement` rebuilds them where they are needed."""
        state = self.__dict__.copy()
        state["_model"] = None
        state["_placed"] = False
        state.pop("_device_stats", None)
        state["device"] = str(self.device)
        if isinstance(self.plan, ExecPlan):
            state["plan"] = {f.name: getattr(self.plan, f.name) for f in dataclasses.fields(ExecPlan)
                             if f.name != "device"}
        return state

    def _placement(self) -> ExecPlan:
        """The execution plan, rebuilt with its torch.device in a copy that was unpickled."""
        if isinstance(self.device, str):
            self.device = resolve_device(self.device)
            self.plan = ExecPlan(self.device, **self.plan)
        return self.plan

    def __copy__(self) -> "TorchBackbone":
        """A copy in the same process (`videoad watch`, one per camera): the model is shared, as
        the weights are the same; what a video's clips leave behind (the cuts found, the timing
        counters) is its own. Pickling, by contrast, leaves the model behind (decode workers)."""
        new = self.__class__.__new__(self.__class__)
        new.__dict__.update(self.__dict__)
        new._cut_log = CutLog(self._cut_log.handling)
        new.stats = {key: 0 * value for key, value in self.stats.items()}
        return new
