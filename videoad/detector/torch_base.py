"""The base of the torch detectors (DUAD, DAGMM), in the spirit of PyOD's
`BaseDeepLearningDetector`: what every deep detector needs is written here once, and a
subclass keeps only its model, its loss and its own steps.

Here:
- `fit` is a template: the subclass's input checks (`_prepare_fit`), then, with the seed
  resolved and the device chosen, its training (`_fit_model`) inside `fit_scope`: torch's random
  state forked from the caller's (`torch.random.fork_rng`: the CPU generator, and the CUDA
  devices' on a CUDA device) and seeded with the detector's seed, and torch / BLAS threads
  limited to `n_threads` when given. numpy numbers come only from local generators
  (`np.random.default_rng(seed)`, scikit-learn's `random_state=seed`), never from numpy's or
  Python's global state. After `fit` the caller's random states and thread count are what they
  were.
- the mini-batch loop (`_run_epochs`: a fresh seeded permutation per epoch, optional cap on
  the rows of an epoch, optional gradient clipping; the loss comes from `_batch_loss`);
- chunked inference (`_chunks`, `_chunk_rows`: about 2^24 input values per forward pass);
- the device (`extract.device.resolve_device`, the project's one resolver) and the input
  tensor (`_tensor`);
- save / load through `videoad.detector.persistence` (the class lists what it keeps in
  `_json_attrs` and `_array_attrs`; `_build_model` rebuilds the network).
"""
from __future__ import annotations

import abc
import contextlib
import inspect
import time
import warnings
from collections.abc import Iterator

import numpy as np
import torch
from torch import nn

from extract.device import resolve_device
from videoad.detector.base import BaseDetector, resolve_seed
from videoad.detector.validation import MAX_THREADS

#: input values (floats) per chunk of a forward pass over many rows (64 MB of float32)
CHUNK_VALUES = 1 << 24



def numpy_view(X: np.ndarray) -> torch.Tensor:
    """`torch.from_numpy(X)`, also for a read-only X (a group's features loaded once and shared,
    `FeatureStore.load_packed`): the detectors only read their input, so no copy is needed and
    torch's warning that writing to it is undefined does not apply."""
    if X.flags.writeable:
        return torch.from_numpy(X)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
        return torch.from_numpy(X)

class Diverged(ValueError):
    """A step of a training loss met numbers that are not finite (weights gone to NaN or inf);
    `TorchDetector._run_epochs` names the settings likely at fault (`_diverged`)."""


def seed_torch(seed: int, device: str = "cpu") -> None:
    """Seed torch's CPU generator, and every CUDA device's when `device` is a CUDA device (a
    CPU fit leaves CUDA alone: seeding it would initialise it, or queue a seed for later)."""
    torch.random.default_generator.manual_seed(int(seed))
    if str(device).startswith("cuda"):
        torch.cuda.manual_seed_all(int(seed))


@contextlib.contextmanager
def forked_rng(seed: int, device: str = "cpu") -> Iterator[None]:
    """Inside: torch's global generators (the CPU's; every CUDA device's too when `device` is a
    CUDA device) seeded with `seed`, for what draws from them (weight initialisation, dropout).
    After: the caller's states, as they were before."""
    cuda = str(device).startswith("cuda")
    devices = list(range(torch.cuda.device_count())) if cuda else []
    with torch.random.fork_rng(devices=devices):
        seed_torch(seed, device)
        yield


@contextlib.contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """torch's intra-op thread count set to `n` inside, the caller's count back after (None:
    unchanged)."""
    if n is None:
        yield
        return
    before = torch.get_num_threads()
    if before != int(n):
        torch.set_num_threads(int(n))
    try:
        yield
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)


def check_threads(n):
    """`n`, refused (ValueError naming n_threads) unless None or a whole number >= 1: torch's own
    error named no setting."""
    if n is not None and not (isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n >= 1):
        raise ValueError(f"n_threads must be None (as the caller has it) or a whole number >= 1, got {n!r}")
    if n is not None and n > MAX_THREADS:  # 10**30 failed inside torch as "Overflow when unpacking long long"
        raise ValueError(f"n_threads must be None or a whole number from 1 to {MAX_THREADS:,}, got {n!r}")
    return n


@contextlib.contextmanager
def thread_limits(n: int | None) -> Iterator[None]:
    """torch threads (`torch_threads`) and the BLAS / OpenMP pools (threadpoolctl) limited to `n`
    inside, restored after (None: unchanged)."""
    if check_threads(n) is None:
        yield
        return
    from threadpoolctl import threadpool_limits

    with torch_threads(n), threadpool_limits(int(n)):
        yield


class TorchDetector(BaseDetector):
    """A detector whose model is a torch network. Subclasses set `_json_attrs`, `_array_attrs`
    and define `_build_model`, `_prepare_fit`, `_fit_model`, `_batch_loss`, `_score`; they take
    the parameters `device`, `random_state`, `batch_size` and `n_threads`."""

    #: fitted attributes saved as JSON / as arrays (see `persistence`)
    _json_attrs: tuple[str, ...] = ("n_features_in_", "feature_names_in_", "seed_", "device_", "threshold_",
                                    "fit_seconds_")
    _array_attrs: tuple[str, ...] = ("decision_scores_", "labels_")

    # ------------------------------------------------------------------ what a subclass writes
    @abc.abstractmethod
    def _build_model(self) -> nn.Module:
        """The untrained network for `self.architecture_` (also how `load` rebuilds it)."""

    def _prepare_fit(self, X) -> np.ndarray:
        """Checks before anything is seeded or built; returns the validated input."""
        return self._validate_fit_input(X)

    @abc.abstractmethod
    def _fit_model(self, X: np.ndarray) -> None:
        """Build and train the model on X and set `decision_scores_` (runs inside `fit_scope`)."""

    def _batch_loss(self, x: torch.Tensor) -> torch.Tensor:
        """The training loss of one batch (for `_run_epochs`)."""
        raise NotImplementedError

    @abc.abstractmethod
    def _score(self, X: np.ndarray) -> np.ndarray:
        """Anomaly scores of validated rows X."""

    # ------------------------------------------------------------------ fit and score
    def fit(self, X, y=None):
        """Fit on X (n_samples, n_features); `y` is ignored (unsupervised)."""
        self._fit_started = time.perf_counter()
        X = self._prepare_fit(X)
        self.seed_ = resolve_seed(self.random_state)
        self.device_ = str(resolve_device(self.device))  # "cpu" or "cuda:N"
        with self.fit_scope():
            self._fit_model(X)
        self._set_threshold()
        self.fit_seconds_ = time.perf_counter() - self._fit_started
        return self

    def decision_function(self, X) -> np.ndarray:
        """Anomaly score of each row of X; higher = more anomalous."""
        with thread_limits(getattr(self, "n_threads", None)):
            return super().decision_function(X)

    @contextlib.contextmanager
    def fit_scope(self) -> Iterator[None]:
        """The random state forked from the caller's and seeded with `seed_`, and the thread
        limits of `n_threads`, for the duration of a fit."""
        with forked_rng(self.seed_, self.device_), thread_limits(getattr(self, "n_threads", None)):
            yield

    # ------------------------------------------------------------------ shared steps
    def _tensor(self, X: np.ndarray) -> torch.Tensor:
        """Rows as a tensor on the model's device."""
        return numpy_view(X).to(self.device_)

    def _new_model(self) -> nn.Module:
        """A fresh network on the device (drawn from torch's seeded generator), as `model_`."""
        self.model_ = self._build_model().to(self.device_)
        return self.model_

    def _run_epochs(self, X_t: torch.Tensor, epochs: int, optimiser, generator: torch.Generator, *,
                    rows: torch.Tensor | None = None, cap: int | None = None, min_batch: int = 1,
                    grad_clip: float | None = None) -> None:
        """Mini-batch training for `epochs` epochs: each epoch a fresh permutation of `rows` (of
        every row when None) drawn from `generator`, cut to its first `cap` rows when longer, in
        batches of `batch_size`; batches smaller than `min_batch` are skipped; the gradient norm
        is clipped to `grad_clip` when given. Leaves the model in eval mode. A loss that stops being
        a finite number is a ValueError at the end of its epoch (`_diverged`): it went on, in
        silence, into NaN weights that failed later inside scikit-learn ("Input X contains NaN") or
        were reported as rows to rescale. So is a gradient that overflowed while the loss stayed finite
        (`_gradient_overflow`): the clipping's norm (its largest, kept on the device) or Adam's running
        squares (`_optimiser_finite`) not finite; the weights had stopped moving, in silence."""
        self.model_.train()
        n = X_t.shape[0] if rows is None else rows.numel()
        bs = int(self.batch_size)
        for epoch in range(int(epochs)):
            total = None  # the epoch's summed loss, read once an epoch (one device sync, not one a batch)
            peak = None  # the largest gradient norm the clipping saw (NaN / inf stick), read with `total`
            perm = torch.randperm(n, generator=generator)
            if rows is not None:
                perm = rows[perm]
            if cap is not None and perm.numel() > cap:
                perm = perm[:cap]  # a fresh random subset each epoch
            perm = perm.to(X_t.device)
            for start in range(0, perm.numel(), bs):
                x = X_t.index_select(0, perm[start:start + bs])  # a plain gather: faster than X_t[idx]
                if x.shape[0] < min_batch:
                    continue
                try:
                    loss = self._batch_loss(x)
                except Diverged:  # a step of the loss met the non-finite weights of an earlier step
                    self.model_.eval()
                    raise ValueError(self._diverged(epoch + 1, int(epochs), float("nan"), X_t)) from None
                total = loss.detach() if total is None else total + loss.detach()
                optimiser.zero_grad(set_to_none=True)
                loss.backward()
                if grad_clip is not None:
                    norm = nn.utils.clip_grad_norm_(self.model_.parameters(), grad_clip)
                    peak = norm if peak is None else torch.maximum(peak, norm)  # NaN-propagating
                optimiser.step()
            if total is None:
                continue
            state = self._optimiser_finite(optimiser)  # False: its running squares overflowed (or went NaN)
            checks = [total, total if peak is None else peak, torch.ones_like(total) if state is None else state]
            loss_v, peak_v, state_ok = torch.stack([c.float() for c in checks]).tolist()  # one sync an epoch
            if not np.isfinite(loss_v):
                self.model_.eval()
                raise ValueError(self._diverged(epoch + 1, int(epochs), loss_v, X_t))
            if not np.isfinite(peak_v) or not state_ok:
                self.model_.eval()
                raise ValueError(self._gradient_overflow(epoch + 1, int(epochs), grad_clip, peak_v, X_t))
        self.model_.eval()

    @staticmethod
    def _optimiser_finite(optimiser) -> torch.Tensor | None:
        """A device bool: Adam's running square of every gradient (`exp_avg_sq`) is finite; None where
        the optimiser keeps none. Once a gradient's square overflowed float32 (or a gradient was NaN)
        that square is inf or NaN for ever and the weight's steps are 0 or NaN: the loss can stay finite
        while the weights it holds no longer move. One fused max over the squares (never negative; NaN
        propagates), read with the epoch's loss: about 60 us an epoch for 19,000 weights on a CPU."""
        squares = [st["exp_avg_sq"] for st in optimiser.state.values() if torch.is_tensor(st.get("exp_avg_sq"))]
        if not squares:
            return None
        # one fused max where torch has it (a private op, present in 2.13-2.14); else one max per tensor,
        # still read once an epoch (pyproject allows torch from 2.4)
        fused = getattr(torch, "_foreach_max", None)
        peaks = fused(squares) if fused is not None else [t.max() for t in squares]
        return torch.isfinite(torch.stack(list(peaks)).max())

    #: settings whose smaller values make a gradient overflow (DAGMM: eps, which 1/variance can reach)
    GRADIENT_RAISE: tuple[str, ...] = ()

    def _gradient_overflow(self, epoch: int, epochs: int, grad_clip: float | None, peak: float,
                           X_t: torch.Tensor | None = None) -> str:
        """What a training whose loss stayed finite while its gradient did not says (the detector, the
        epoch, the settings that can cause it, the input's scale when it is large): the clipping scaled
        every such step to 0 (or NaN), or Adam's running squares overflowed, and the weights stopped
        moving in silence: the fit "succeeded" with the scores of a network that no longer trained."""
        if grad_clip is not None and not np.isfinite(peak):
            what = (f"the gradient's norm became {peak} in epoch {epoch} of {epochs} while the loss stayed finite: "
                    f"the clipping (grad_clip {grad_clip!r}) " + ("scaled those steps to 0 (to NaN where a gradient was "
                                                               "itself inf), and the weights stopped moving" if peak > 0 else "made those steps NaN (inf x 0), and the "
                                                               "weights stopped being numbers"))
        else:
            what = (f"the gradient overflowed float32 in epoch {epoch} of {epochs} while the loss stayed finite: "
                    "the optimiser's running squares of it are no longer finite numbers, and the weights they "
                    "hold stopped moving")
        return self._diverged(epoch, epochs, float("nan"), X_t, what=what, raise_=self.GRADIENT_RAISE)

    #: the settings that can make this detector's training loss stop being finite, each named with
    #: its value and default when it does, the likeliest first (DUAD: lr alone; its weight_decay, at
    #: most 1e6, left every loss finite at lr 1: it stops weights moving, it does not blow them up)
    DIVERGE_SETTINGS: tuple[str, ...] = ("lr",)

    #: inputs reaching this magnitude are named as the likelier cause of a diverged training than the
    #: settings: their squares near float32's range (3.4e38) and a network's sums overflow before it
    HUGE_INPUT = 1e6

    def _rescale_words(self) -> str:
        """How a diverged training asks for smaller input (DUAD adds its own scaling when it is off)."""
        return "rescale X (standardise its columns)"

    def _diverged_term(self) -> tuple[str, str | None] | None:
        """Which part of the loss was first not finite, as (words, the setting that weighs it, or
        None), where the subclass records it cheaply (DAGMM); None where it cannot say."""
        return None

    def _diverged(self, epoch: int, epochs: int, loss: float, X_t: torch.Tensor | None = None, *,
                  what: str | None = None, raise_: tuple[str, ...] = ()) -> str:
        """What a training loss that became `loss` (NaN or inf) in epoch `epoch` of `epochs` says:
        the detector, the epoch, the part of the loss that went first where the subclass can tell
        (`_diverged_term`), and every setting that can cause it with its value and default, that
        part's own setting first, then the furthest above its default (a stable sort: as listed); first the input, where its values reach `HUGE_INPUT` (rows at 1e20
        were blamed on the learning rate). `what` replaces "training loss became ... in epoch ..." (and
        the loss's part), `raise_` names settings to raise after those to lower (`_gradient_overflow`)."""
        settings = [k for k in self.DIVERGE_SETTINGS if hasattr(self, k)]
        named = ", ".join(f"{k} {getattr(self, k)!r}" for k in settings)
        params = inspect.signature(type(self).__init__).parameters
        term = self._diverged_term() if what is None else None

        def rank(k):  # the part's own weight first, then the settings furthest above their defaults
            default = params[k].default if k in params else None
            try:
                above = float(getattr(self, k)) / float(default)
            except (TypeError, ValueError, ZeroDivisionError):
                above = 1.0
            return (term is None or term[1] != k, -above)

        settings.sort(key=rank)
        lower = [f"{k} (the default is {params[k].default!r})" if k in params else k for k in settings]
        lower = lower[0] if len(lower) == 1 else ", ".join(lower[:-1]) + " or " + lower[-1]
        largest = float(X_t.abs().max()) if X_t is not None and X_t.numel() else 0.0
        data = (f"X's values reach {largest:.3g}, which overflow its float32 training: {self._rescale_words()}, "
                "or ") if not largest < self.HUGE_INPUT else ""
        went = f"; {term[0]}" if term is not None else ""
        higher = [f"{k} {getattr(self, k)!r} (the default is {params[k].default!r})" for k in raise_
                  if hasattr(self, k) and k in params]
        higher = f", or raise {' or '.join(higher)}" if higher else ""
        what = what or f"training loss became {loss} in epoch {epoch} of {epochs}"
        return f"{type(self).__name__}: {what} ({named}){went}: {data}lower {lower}{higher}; no scores were made"

    def _chunk_rows(self) -> int:
        """Rows per forward chunk: about 16 M values (64 MB of float32) over the input and every
        layer's output together, at least 1,024 rows. Counted by the input alone, a 15-value cell
        row made chunks of a million rows whose 64-unit layers took 0.6 GB more for two hours of
        footage scored with a saved model."""
        width = int(self.n_features_in_)
        model = getattr(self, "model_", None)
        if model is not None:  # each weight matrix's rows: one layer's outputs per input row
            width += sum(int(p.shape[0]) for p in model.parameters() if p.ndim == 2)
        return max(1024, CHUNK_VALUES // max(1, width))

    def _chunks(self, X_t: torch.Tensor, rows: int | None = None) -> Iterator[torch.Tensor]:
        """X_t in consecutive chunks of `rows` (default `_chunk_rows()`), the model in eval mode."""
        self.model_.eval()
        step = rows or self._chunk_rows()
        for start in range(0, X_t.shape[0], step):
            yield X_t[start:start + step]

    # ------------------------------------------------------------------ persistence
    def save(self, path) -> None:
        """Write tensors plus a JSON description to one file (see `persistence`)."""
        from videoad.detector.persistence import save_detector

        save_detector(self, path)

    @classmethod
    def load(cls, path, device: str | None = None):
        """Read a detector `save` wrote; `device` overrides where it goes."""
        from videoad.detector.persistence import load_detector

        det = load_detector(path, device=device)
        if not isinstance(det, cls):
            raise ValueError(f"{path}: holds a {type(det).__name__}, not a {cls.__name__}")
        return det
