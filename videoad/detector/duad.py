"""DUAD: Deep Unsupervised Anomaly Detection (Li, Wang, Liu, Lin, WACV 2021), Algorithm 1.

1. Cluster X and keep the tightest clusters: the initial normal subset C(X, p0).
2. Train an autoencoder on that subset only.
3. Every r epochs: encode all of X, z = [bottleneck; reconstruction angle], L2-normalise each z,
   fit a GMM (20 components) and reselect with p < p0.
4. Stop when the selection stops changing (or at a cap; `stop_reason_` says which).
5. Score = arccos of the cosine between x and its reconstruction (higher = more anomalous).

Step 5 is a parameter (`score`): the paper's angle ignores the norm of x, and for motion
statistics "more" or "faster" is often exactly the anomaly. "error" is the reconstruction error
in input space; "knn" is the distance from a row to its k-th nearest row of the final normal
selection, measured in the autoencoder's own representation of a row: its code (where on the
learned normal manifold it lies) next to its residual x - x_hat (how far off that manifold).
A row far from every selected row in either sense is anomalous, whatever its norm
(docs/defaults.md measures the three).

Which reading of "keep the clusters at or below the (100 - p)th percentile of variance" is used
is a parameter (`selection`, see `clustering.select_normal`): the paper's wording over
components removes only a few percent of the rows on KDDCUP99, a per-row reading purifies
(`research/kdd-prototype.md`; `configs/kddcup_readings.yaml` measures the readings side by side,
docs/detector.md, "Which reading of the percentile rule").
"""
from __future__ import annotations

import copy
import logging
import time
from typing import Any

import numpy as np
import torch
from sklearn.base import ClassNamePrefixFeaturesOutMixin, TransformerMixin

from extract.device import check_device_text
from videoad.detector.attempts import Attempts, processes_for
from videoad.detector.base import resolve_seed
from videoad.detector.seeds import offset_seed
from videoad.detector.autoencoder import ACTIVATIONS, MLPAutoencoder, auto_architecture, reconstruction_angle
from videoad.detector.clustering import SELECTION_RULES, ClusterResult, make_clusterer, rows_per_block, select_normal
from videoad.detector.gmm_torch import COVARIANCE_TYPES as TORCH_COVARIANCES
from videoad.detector.knn import KNNIndex, batched
from videoad.detector.torch_base import CHUNK_VALUES, TorchDetector, check_threads, seed_torch, thread_limits
from videoad.detector.validation import (MAX_COUNT, MAX_LR, MAX_REPEATS, MAX_WIDTH, MIN_LR, check_count, check_percent,
                                        whole_valued)

log = logging.getLogger(__name__)

INPUT_SCALINGS = ("global", "row", "none")
#: values of [code, residual] the "auto" knn reference may hold (2^24: 4,080 rows at 4,112 columns)
REFERENCE_VALUES = 1 << 24
#: input values the fit itself (selection, training, reselections) may hold under max_fit_rows="auto"
#: (2^25: 8,192 rows at 4,096 columns, 284,000 at KDDCUP99's 118); every row is scored
FIT_VALUES = 1 << 25
#: input values one epoch may train on under max_epoch_rows="auto" (2^24: 4,096 rows at 4,096 columns)
EPOCH_VALUES = 1 << 24
SCORES = ("angle", "error", "knn")
RESTART_KEEPS = ("mean", "fewest_changes")
RESTART_WHENS = ("unsettled", "always")
#: scikit-learn's covariance types of a Gaussian mixture
GMM_COVARIANCES = ("full", "tied", "diag", "spherical")
KNN_SPACES = ("rep", "input")
#: the largest weight_decay (Adam's L2 term): measured on a DUAD fit, every value from 1 to 1e6 gave
#: the same weights (the term outweighs the reconstruction's gradient, and Adam's step is lr whatever
#: its size); at 1e30 the squared gradient overflowed float32 and no weight moved, in silence; at 1e39
#: torch failed ("cannot be converted to type float without overflow")
MAX_WEIGHT_DECAY = 1e6


def kept_attempt(attempts: list[dict]) -> int:
    """Which of a fit's attempts `restarts` keeps (index into `attempts`, dicts with
    "stop_reason" and "last_change"): the first that converged, else the one whose last
    reselection changed the fewest rows (the first of equals)."""
    for i, a in enumerate(attempts):
        if a["stop_reason"] == "converged":
            return i
    return min(range(len(attempts)), key=lambda i: attempts[i]["last_change"])


class DUAD(ClassNamePrefixFeaturesOutMixin, TransformerMixin, TorchDetector):
    """The paper's estimator with the scikit-learn / PyOD contract. Seeding, thread limits, the
    batch loop, chunked inference and save/load come from `torch_base.TorchDetector`.

    Parameters
    ----------
    p0, p : percent of the data dropped by the initial selection and by each reselection
        (0 < p <= p0 < 100). Paper: KDDCUP 35/30, MNIST 25/20, CIFAR-10 15/10.
    r : epochs of autoencoder training between reselections.
    clusterer : initial clusterer, "auto" (Distribution Clustering above `dc_min_features`
        columns, else GMM), "gmm", "dc", "kmeans" or "hdbscan"; `clusterer_params` go to it.
    selection : reading of the variance-percentile rule for the initial selection and for every
        reselection: "row", "component" (the paper's wording) or "component_rows".
    reselection : rule of the reselections when it should differ from `selection`; besides the
        three cluster rules, "angle" keeps the (100 - p)% of rows with the smallest reconstruction
        angle (a per-row reading that ignores the GMM; measured in the KDDCUP99 benchmark).
    n_components : GMM components of each reselection (paper: 20).
    gmm_covariance : covariance type of the reselection GMM.
    hidden_dims, latent_dim, activation : the MLP autoencoder ("auto" sizes it from the input).
    lr, batch_size, weight_decay : Adam settings.
    max_reselections : cap on reselections; `tol` : fraction of rows whose membership may change
        and still count as "the selection stopped changing".
    final_epochs : extra epochs on the final selection after the loop ends.
    score : what `decision_function` returns: "angle" (the paper: arccos of the cosine between x and
        its reconstruction, radians), "error" (Euclidean norm of x - x_hat in the scaled input
        space) or "knn" (distance from the row's [code, residual] to the `n_neighbors`-th nearest
        one among the final selection; a selected training row does not count itself in
        `decision_scores_` and `labels_`, but `decision_function`/`predict` take rows as new ones, so a
        fitted row passed again counts itself and scores lower: read fitted rows from those attributes).
        The name is scikit-learn's for a `score(X, y)` method, which DUAD therefore has not: model
        selection needs a scorer (e.g. scoring="roc_auc"), and `Pipeline.score` fails.
    n_neighbors : k of "knn".
    knn_space : where "knn" measures distances: "rep" ([code, residual], the autoencoder's view of a
        row) or "input" (the scaled input itself; the autoencoder then only shapes the selection).
    max_reference : "knn" compares with at most this many selected rows (a seeded subsample
        above it), which bounds the memory and time of scoring. "auto": 20,000 rows, fewer when
        [code, residual] is wide (at most 2^24 values: 4,080 rows at 4,096 + 16 columns), so that
        scoring n rows costs at most n x 2^24 multiply-adds; never under 1,000 rows (rows wider than
        about 16,800 values then hold more).
    max_fit_rows : rows the fit itself runs on (initial clustering, training, reselections);
        above it a seeded subsample, and every row is scored at the end (`n_fit_rows_`; rows outside
        the subsample are never in `selection_`). "auto": at most 2^25 input values (8,192 rows at
        4,096 columns, 284,000 at KDDCUP99's 118) and never under 4,096 rows (rows over 8,192
        columns then hold more), None: every row.
    max_epoch_rows : rows one epoch trains on; above it each epoch draws a fresh seeded subset of
        the selection (so an epoch's cost stops growing with the data). "auto": at most 2^24 input
        values per epoch (4,096 rows at 4,096 columns, 142,000 at KDDCUP99's 118) and never under
        4,096 rows (rows over 4,096 columns then hold more), None: every selected row every epoch
        (the paper).
    input_scaling : "global" divides X by one scalar fitted on the training rows (so fitting on
        c * X gives the same scores), "row" L2-normalises every row (the usual treatment of C3D
        features; scores are then invariant to each row's scale), "none".
    contamination : optional expected anomaly share, sets `threshold_` and `labels_`.
    device : "auto", "cpu", "cuda", "cuda:1", ...: where the autoencoder, its forward passes, the
        knn search and (with gmm_backend "auto") the reselection mixture run.
    n_threads : torch and BLAS threads during `fit` and `decision_function`, the caller's counts
        restored after; None (the default) leaves them as they are.
    gmm_backend : the reselection mixture: "sklearn" (GaussianMixture on the CPU), "torch" (EM in
        torch on `device`, `gmm_torch`; "full" or "diag" covariances), "auto" (torch on a GPU for
        those two, else scikit-learn).
    keep_selection_history : store each selection mask in `history_` (for purity plots).
    guard : keep a group of rows out of the selection when it would enter although the angle
        reading of the same reselection would drop it (`_guard`; what it did at each reselection
        is in `history_[step]["guard"]`). Off by default: on KDDCUP99 at 20% it lifts the dev
        seeds' mean AUPRC, but at 5% it kept whole normal modes out (seed 0: AUPRC 62.1 against
        96.0 without it; docs/guard.md).
    guard_margin : a group is kept out only when its median angle exceeds this multiple of the
        reference percentile. 2 was chosen on KDDCUP99 dev seeds 8-14 at 20% (mean AUPRC 85.4
        against 81.2 at 1): at 1 the guard also kept out whole normal modes whose median sat just
        above the percentile (0.06 against 0.053), while the anomalous groups it must stop sit at
        0.5-1.3 rad, ten times the reference and more.
    refit_epochs : after the last reselection, train a fresh autoencoder this many epochs on the
        final selection (0 = off), so that what early periods learned from a contaminated start
        is not carried into the scores.
    guard_runs : the initial selection keeps only the rows that this many independently seeded
        clusterings agree on (`_initial_selection`; 1 = one clustering, the default).
    restarts : when the selection has not converged after `max_reselections`, fit again with
        another seed (the fit's seed + 1000 k), at most this many more times; the first fit that
        converged is kept. Label-free: on KDDCUP99 the poor fits were ones whose selection never
        settled (benchmarks/results/kdd_restarts.md). `restarts_` lists every attempt. 0 (the
        default): one fit, as the paper. A reselection too small to train on keeps the previous
        selection (`history_[step]["kept_previous"]`) and does not count as settling.
    restart_keep : what `restarts` keeps when no attempt converged. "mean" (default): every
        attempt, the score being the mean of their scores (`members_`; `selection_` and
        `history_` are those of the attempt with the smallest last change); among unsettled
        fits no label-free sign found tells the good one, and on KDDCUP99 the mean of two never
        scored below the worse of them (docs/guard.md). "fewest_changes": the attempt whose
        last reselection changed the fewest rows (the rule before; kdd_restarts*.md).
    restart_when : "unsettled" (default): fit again only while the selection has not converged;
        "always": fit `restarts` more times whatever each fit did and score by the mean of every
        attempt (an ensemble of seeds; `selection_` and `history_` as above). Not shipped: on
        KDDCUP99's development splits it beat "unsettled" at 5, 10 and 20% (a converged
        selection did not mean a good fit), but on the reported splits it lost 3.2 / 6.2 AUPRC
        at 20% (one / two threads; docs/guard.md, benchmarks/results/kddcup_restart_always/).
    train_last_selection : when the loop stops at `max_reselections`, the last reselection's
        selection has not been trained on yet: train `r` more epochs on it before scoring, so that
        the scores come from a model that learned `selection_` (a converged loop already did). On
        KDDCUP99 the poor unsettled fits had ended one period after a contaminated selection,
        which the model had learned, with a clean last selection it had not
        (benchmarks/results/kdd_settle.md).
    z_angle : the angle column of the reselection's z before each row is L2-normalised: "angle"
        (the paper) or "log" (its logarithm, floored at 1e-4 rad). Why it was tried: with the raw
        angle, rows reconstructed badly (a large angle beside a small code) are pressed together
        near the angle axis and look tight, the opposite of what the variance rule presumes; with
        its logarithm, well reconstructed rows carry the large column and bad ones spread with their
        code. Lost on KDDCUP99 development splits (no fit settled, anomalies entered; docs/guard.md);
        off everywhere.
    unselected_share : the share of each training period's rows drawn (seeded, anew each period)
        from outside the selection, beside it; 0 (the paper) trains on the selection alone. Why
        it was tried: a clean, settled KDDCUP99 fit that scores poorly has dropped a dense normal
        mode its one-unit code then does not extrapolate to, and a few of its rows might teach it
        while the diverse anomalies stay out of reach of such a small code. Off everywhere: on the
        development splits at 20% it gave 78.68 (0.05) and 77.51 (0.1) against 85.25 AUPRC; the
        anomalies it brings in cap every fit near 84 (docs/guard.md, last section).
    snapshots : how many training periods' models score: 1 (the last, the paper) or 2 (the last
        and the one before, their scores averaged; kept as `members_`). Why: on KDDCUP99 the
        model swings period by period between a selection that holds anomalies and one that
        does not, and where the loop stops in that cycle decides the fit (docs/guard.md); two
        consecutive periods hold one of each. No extra training: a copy of the weights is kept
        one period. With `restarts`, each attempt is scored this way. Off in every shipped
        setting: it lifted single fits at 20% (one thread) but not two fits averaged, nor
        single fits at two threads (docs/guard.md).
    """

    def __init__(self, p0: float = 35.0, p: float = 30.0, r: int = 10, clusterer: str = "auto",
                 clusterer_params: dict | None = None, selection: str = "row", reselection: str | None = None,
                 n_components: int = 20,
                 gmm_covariance: str = "full", hidden_dims="auto", latent_dim: int | str = "auto",
                 activation: str = "tanh", lr: float = 1e-4, batch_size: int = 1024, weight_decay: float = 0.0,
                 max_reselections: int = 10, tol: float = 0.001, final_epochs: int = 0,
                 input_scaling: str = "global", dc_min_features: int = 200, score: str = "angle",
                 n_neighbors: int = 5, knn_space: str = "rep", max_reference: int | str = "auto", max_fit_rows: int | str | None = "auto",
                 max_epoch_rows: int | str | None = "auto",
                 contamination: float | None = None,
                 device: str = "auto", random_state=None, keep_selection_history: bool = False,
                 guard: bool = False, guard_runs: int = 1, guard_margin: float = 2.0, refit_epochs: int = 0,
                 restarts: int = 0, restart_keep: str = "mean", restart_when: str = "unsettled",
                 train_last_selection: bool = False, unselected_share: float = 0.0,
                 snapshots: int = 1, z_angle: str = "angle", gmm_backend: str = "auto", n_threads: int | None = None,
                 verbose: bool = False):
        self.p0 = p0
        self.p = p
        self.r = r
        self.clusterer = clusterer
        self.clusterer_params = clusterer_params
        self.selection = selection
        self.reselection = reselection
        self.n_components = n_components
        self.gmm_covariance = gmm_covariance
        self.hidden_dims = hidden_dims
        self.latent_dim = latent_dim
        self.activation = activation
        self.lr = lr
        self.batch_size = batch_size
        self.weight_decay = weight_decay
        self.max_reselections = max_reselections
        self.tol = tol
        self.final_epochs = final_epochs
        self.input_scaling = input_scaling
        self.dc_min_features = dc_min_features
        self.score = score
        self.n_neighbors = n_neighbors
        self.knn_space = knn_space
        self.max_reference = max_reference
        self.max_fit_rows = max_fit_rows
        self.max_epoch_rows = max_epoch_rows
        self.contamination = contamination
        self.device = device
        self.random_state = random_state
        self.keep_selection_history = keep_selection_history
        self.guard = guard
        self.guard_runs = guard_runs
        self.guard_margin = guard_margin
        self.refit_epochs = refit_epochs
        self.restarts = restarts
        self.restart_keep = restart_keep
        self.restart_when = restart_when
        self.train_last_selection = train_last_selection
        self.unselected_share = unselected_share
        self.snapshots = snapshots
        self.z_angle = z_angle
        self.gmm_backend = gmm_backend
        self.n_threads = n_threads
        self.verbose = verbose

    # ------------------------------------------------------------------ checks
    def _check_params(self) -> None:
        p0 = check_percent(self.p0, "p0")
        p = check_percent(self.p, "p")
        if p > p0:
            raise ValueError(f"p must not exceed p0 (the reselection keeps more rows than the start): p={p}, p0={p0}")
        # each count's least and most (validation.MAX_*): 10**30 epochs ran for ever, a layer of 2**63
        # units failed inside torch as "Overflow when unpacking long long", after the features were read
        counts = {"r": (1, MAX_REPEATS), "n_components": (1, MAX_COUNT), "batch_size": (1, MAX_COUNT),
                  "max_reselections": (0, MAX_REPEATS), "n_neighbors": (1, MAX_COUNT),
                  "refit_epochs": (0, MAX_REPEATS), "final_epochs": (0, MAX_REPEATS),
                  "guard_runs": (1, MAX_REPEATS), "dc_min_features": (1, MAX_COUNT),
                  "max_epoch_rows": (1, MAX_COUNT, None, "auto"), "max_fit_rows": (2, MAX_COUNT, None, "auto"),
                  "max_reference": (2, MAX_COUNT, "auto")}
        for key, (least, most, *words) in counts.items():  # 2.5 epochs ran as 2, a batch of 1.5 rows as 1, in silence
            check_count(getattr(self, key), key, at_least=least, at_most=most, words=tuple(words),
                        what=" (epochs between reselections)" if key == "r" else "")
        # lr=0 (or 1e-300, validation.MIN_LR) trained nothing in silence, tol<0 never converged, and the
        # others failed inside torch's Adam or after the training, as a TypeError or a message that did
        # not name the setting (weight_decay 1e39: "cannot be converted to type float without overflow")
        for key, what, ok in (("lr", f"from {MIN_LR:g} to {MAX_LR:g}", lambda v: MIN_LR <= v <= MAX_LR),
                              ("weight_decay", f"from 0 to {MAX_WEIGHT_DECAY:g}", lambda v: 0 <= v <= MAX_WEIGHT_DECAY),
                              ("tol", "in [0, 1]", lambda v: 0 <= v <= 1), ("guard_margin", "> 0", lambda v: v > 0)):
            value = _real(getattr(self, key))
            if value is None or not ok(value):
                raise ValueError(f"{key} must be a number {what}, got {getattr(self, key)!r}")
        if self.selection not in SELECTION_RULES:
            raise ValueError(f"selection must be one of {SELECTION_RULES}, got {self.selection!r}")
        if self.reselection not in (None, "angle", *SELECTION_RULES):
            raise ValueError(f"reselection must be None, 'angle' or one of {SELECTION_RULES}, got {self.reselection!r}")
        if self.input_scaling not in INPUT_SCALINGS:
            raise ValueError(f"input_scaling must be one of {INPUT_SCALINGS}, got {self.input_scaling!r}")
        if self.gmm_covariance not in GMM_COVARIANCES:  # scikit-learn checked it only after the training
            raise ValueError(f"gmm_covariance must be one of {GMM_COVARIANCES}, got {self.gmm_covariance!r}")
        if self.gmm_backend not in ("auto", "sklearn", "torch"):
            raise ValueError(f"gmm_backend must be 'auto', 'sklearn' or 'torch', got {self.gmm_backend!r}")
        if self.gmm_backend == "torch" and self.gmm_covariance not in TORCH_COVARIANCES:  # failed at the first
            # reselection, after the training, as "covariance_type must be ..." (no setting of DUAD's)
            raise ValueError(f"gmm_backend='torch' fits only gmm_covariance in {TORCH_COVARIANCES}, got "
                             f"{self.gmm_covariance!r}: use gmm_backend='sklearn' (or 'auto') for it")
        if self.score not in SCORES:
            raise ValueError(f"score must be one of {SCORES}, got {self.score!r}")
        if self.knn_space not in KNN_SPACES:
            raise ValueError(f"knn_space must be one of {KNN_SPACES}, got {self.knn_space!r}")
        if not (whole_valued(self.snapshots) and 1 <= self.snapshots <= 2):
            raise ValueError(f"snapshots must be 1 (the last model) or 2 (the last two periods' models), "
                             f"got {self.snapshots!r}")
        if self.snapshots == 2 and int(self.refit_epochs) > 0:
            raise ValueError("snapshots=2 averages two periods of one model; refit_epochs replaces that model "
                             "with a fresh one: use one or the other")
        if self.z_angle not in ("angle", "log"):
            raise ValueError(f"z_angle must be 'angle' or 'log', got {self.z_angle!r}")
        if not 0.0 <= float(self.unselected_share) < 1.0:
            raise ValueError(f"unselected_share must be in [0, 1), got {self.unselected_share!r}")
        if self.hidden_dims != "auto" and not (isinstance(self.hidden_dims, (list, tuple))
                                               and all(whole_valued(h) and 1 <= h <= MAX_WIDTH
                                                       for h in self.hidden_dims)):
            raise ValueError(f"hidden_dims must be 'auto' or a list of layer widths from 1 to {MAX_WIDTH:,} "
                             f"(e.g. [60, 30]), got {self.hidden_dims!r}")
        check_count(self.latent_dim, "latent_dim", at_least=1, at_most=MAX_WIDTH, words=("auto",))
        self._check_restarts()
        # these failed only at the fit, after the features were read: a config's `activation: relu6`
        # or `restarts: -1` failed every group of a detect run, its file unnamed
        if not isinstance(self.activation, str) or self.activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {self.activation!r}")
        self._check_contamination()
        check_threads(self.n_threads)
        check_device_text(self.device)  # its form; whether the GPU is there is the fit's to say
        self._check_clusterer()

    def _check_restarts(self) -> None:
        """`fit` reads these before the other settings (they decide how many processes start)."""
        check_count(self.restarts, "restarts", at_least=0, at_most=MAX_REPEATS)
        if self.restart_keep not in RESTART_KEEPS:
            raise ValueError(f"restart_keep must be one of {RESTART_KEEPS}, got {self.restart_keep!r}")
        if self.restart_when not in RESTART_WHENS:
            raise ValueError(f"restart_when must be one of {RESTART_WHENS}, got {self.restart_when!r}")

    def _check_clusterer(self) -> None:
        """The clusterer's arguments taken by it (one of the two for "auto", which picks by width),
        before a fit: a misspelt one failed after the data was read, as a TypeError."""
        params = self.clusterer_params or {}
        if not isinstance(params, dict):
            raise ValueError(f"clusterer_params must be a mapping of the clusterer's arguments, got {params!r}")
        names = ("gmm", "dc") if self.clusterer == "auto" else (self.clusterer,)
        problems = []
        for name in names:
            try:
                clusterer = make_clusterer(name, **params)
            except TypeError as exc:
                problems.append(str(exc))
                continue
            try:  # its values too: `n_components: abc` failed inside scikit-learn after the training
                getattr(clusterer, "check", lambda: None)()
            except (TypeError, ValueError) as exc:
                raise ValueError(f"clusterer_params: {exc}"
                                 + (f" (for the {name} clusterer)" if len(names) > 1 else "")) from None
            return
        raise ValueError(f"clusterer_params: {'; '.join(problems)}")

    def _n_init_clusters(self, n_features: int) -> int:
        params = self.clusterer_params or {}
        name = self._clusterer_name(n_features)
        if name == "gmm":
            return int(params.get("n_components", 20))
        if name == "kmeans":
            return int(params.get("n_clusters", 20))
        return 2

    def _clusterer_name(self, n_features: int) -> str:
        if self.clusterer == "auto":
            return "dc" if n_features >= self.dc_min_features else "gmm"
        return self.clusterer

    # ------------------------------------------------------------------ scaling
    def _fit_scale(self, X: np.ndarray) -> float:
        if self.input_scaling != "global":
            return 1.0
        total = 0.0
        step = max(1024, CHUNK_VALUES // max(1, X.shape[1]))
        for s in range(0, X.shape[0], step):  # float64 sums chunk by chunk: no float64 copy of X
            block = X[s:s + step].astype(np.float64)
            total += float(np.einsum("ij,ij->", block, block))
        rms = float(np.sqrt(total / X.shape[0]))
        return rms if rms > 0 else 1.0

    def _transform(self, X: np.ndarray) -> np.ndarray:
        """The scaled input, float32 (one new array at most; "none" returns X itself)."""
        X = np.asarray(X, dtype=np.float32)
        if self.input_scaling == "row":
            norms = np.sqrt(np.einsum("ij,ij->i", X, X, dtype=np.float64))[:, None].astype(np.float32)
            return X / np.where(norms > 0, norms, np.float32(1.0))
        if self.input_scaling == "global":
            return X / np.float32(self.scale_)
        return X

    # ------------------------------------------------------------------ fit
    def fit(self, X, y=None):
        """Run Algorithm 1 on X (n_samples, n_features). `y` is ignored (unsupervised); with
        `restarts`, again with other seeds while the selection does not converge."""
        self._check_restarts()
        given, others = self.random_state, None
        processes = processes_for(self, X)  # 1 without restarts
        if processes > 1:  # the later attempts start beside the first
            self._check_params()  # a bad setting fails here, before any process starts
            first = resolve_seed(given)  # drawn once, as the first fit would draw it
            self.random_state = first
            others = Attempts(self, X, {k: offset_seed(first, 1000 * k) for k in range(1, int(self.restarts) + 1)},
                              processes)
        try:
            super().fit(X, y)  # `_fit_model` clears the members of a fit before
            if int(self.restarts) == 0:
                self.restarts_ = [self._attempt(kept=True)]
                return self
            first_seed, started = self.seed_, self._fit_started
            fits = [(self._attempt(kept=False), copy.copy(self))]
            for k in range(1, int(self.restarts) + 1):
                if self.restart_when == "unsettled" and self.stop_reason_ != "max_reselections":
                    break  # converged, or no reselection to settle
                done = others.result(k) if others is not None else None
                if done is not None:  # fitted in its own process: this detector as the fit here leaves it
                    self._forget_fit()
                    self.__dict__.update(done.__dict__)
                else:
                    self.random_state = offset_seed(first_seed, 1000 * k)
                    super().fit(X, y)
                fits.append((self._attempt(kept=False), copy.copy(self)))
        finally:
            self.random_state = given
            if others is not None:
                others.stop()
        attempt, fitted = fits[kept_attempt([a for a, _ in fits])]
        self.__dict__.update(fitted.__dict__)
        self.random_state = given
        attempt["kept"] = True
        if len(fits) > 1 and (self.restart_when == "always"
                              or (self.restart_keep == "mean" and attempt["stop_reason"] != "converged")):
            # every attempt always, or no attempt settled: keep them all, score by the mean of theirs
            for a, _ in fits:
                a["kept"] = True
            self.members_ = [f for _, f in fits]
            self.decision_scores_ = np.mean([f.decision_scores_ for f in self.members_], axis=0)
            self._set_threshold()
        self.restarts_ = [a for a, _ in fits]
        self.fit_seconds_ = time.perf_counter() - started
        return self

    def _attempt(self, kept: bool) -> dict[str, Any]:
        """One fit, as `restarts_` lists it."""
        last = self.history_[-1]
        return {"seed": int(self.seed_), "stop_reason": self.stop_reason_, "epochs": int(self.n_epochs_),
                "last_change": int(last["entered"] + last["left"]), "kept": kept}

    def _prepare_fit(self, X) -> np.ndarray:
        self._check_params()
        X = self._validate_fit_input(X)
        n, d = X.shape
        if d == 1 and self.score == "angle":  # the paper's score reads each row's direction against its reconstruction's
            raise ValueError("X has one column: the angle between a one-value row and its reconstruction is 0 or pi, "
                             "so score='angle' cannot rank such rows; use score='error' or 'knn', or give it two "
                             "or more columns")
        name = self._clusterer_name(d)
        if self.clusterer == "auto":  # `_check_clusterer` took arguments either of the two takes
            try:
                make_clusterer(name, **(self.clusterer_params or {}))
            except TypeError as exc:
                raise ValueError(f"clusterer_params {self.clusterer_params!r} do not fit the clusterer that "
                                 f"clusterer='auto' picks for X's {d} columns ({name}: Distribution Clustering at "
                                 f"dc_min_features={self.dc_min_features} columns or more, else gmm): {exc}; "
                                 "name the clusterer (clusterer='gmm' or 'dc')") from None
        n_min = max(int(self.n_components), self._n_init_clusters(d))
        if n < n_min:
            raise ValueError(
                f"X has {n} rows but the detector fits {n_min} clusters; it needs at least as many rows as clusters"
            )
        return X  # `constant_columns_`: set by the shared validation

    def _fit_model(self, X: np.ndarray) -> None:
        """Steps 1-5 of Algorithm 1 (inside `fit_scope`: seeded, the caller's state kept)."""
        t_start = self._fit_started
        n, d = X.shape
        self.members_ = None
        self._previous_state = None  # the weights before the last training period (`snapshots`)
        self.scale_ = self._fit_scale(X)
        Xs = self._transform(X)
        self.zero_scale_ = _typical_length(Xs)  # what a zero row's reconstruction is measured against

        hidden, latent = self.hidden_dims, self.latent_dim
        auto_hidden, auto_latent = auto_architecture(d)
        hidden = auto_hidden if hidden == "auto" else tuple(int(h) for h in hidden)
        latent = auto_latent if latent == "auto" else int(latent)
        self.architecture_ = {"n_features": d, "hidden": list(hidden), "latent": int(latent),
                              "activation": self.activation}
        self._new_model()
        # foreach: one kernel per step for all parameters (the for-loop Adam costs ~25% of a
        # KDDCUP99 epoch on the CPU); same update rule
        optimiser = torch.optim.Adam(self.model_.parameters(), lr=float(self.lr),
                                     weight_decay=float(self.weight_decay), foreach=True)
        generator = torch.Generator().manual_seed(self.seed_)
        # the selection, the training and the reselections run on at most `max_fit_rows` rows
        # (a seeded subsample); every row is scored at the end
        cap = self._fit_rows_cap()
        fit_index = None
        need = max(int(self.n_components), self._n_init_clusters(Xs.shape[1]))
        if cap is not None and n > cap and cap < need:  # as too few rows are refused, before the cap
            raise ValueError(f"max_fit_rows={cap} leaves fewer rows than the {need} the fit needs (its clusters: "
                             f"n_components={self.n_components}); raise max_fit_rows or lower n_components")
        if cap is not None and n > cap:
            fit_index = np.sort(np.random.default_rng(self.seed_).choice(n, cap, replace=False))
        Xf = Xs if fit_index is None else Xs[fit_index]
        n_all, n = n, Xf.shape[0]
        self.n_fit_rows_ = int(n)
        X_t = self._tensor(Xf)

        timings = {"prepare": time.perf_counter() - t_start, "clustering": 0.0, "training": 0.0,
                   "reselection": 0.0, "scoring": 0.0}

        # 1. initial selection C(X, p0); with the guard, only the rows that every one of
        # `guard_runs` independently seeded clusterings selects (`_initial_selection`)
        t0 = time.perf_counter()
        name = self._clusterer_name(d)
        params = dict(self.clusterer_params or {})
        if name == "dc" and "device" not in params:  # DC's distance matrix goes where the model goes
            params["device"] = self.device_
        clusterer = make_clusterer(name, **params)
        init, selected, agreement = self._initial_selection(clusterer, Xf)
        self.init_info_ = {"clusterer": name, "n_clusters": init.n_clusters,
                           "unclustered": int((init.labels < 0).sum()), "selected": int(selected.sum()),
                           "seconds": time.perf_counter() - t0, **_jsonable(init.info)}
        share, meant = float(selected.mean()), 1.0 - float(self.p0) / 100.0
        if share < 0.5 * meant:  # e.g. Distribution Clustering's absolute thres on data it does not suit
            log.warning("the initial selection holds %.1f%% of the rows, not the %.0f%% p0=%g keeps: the %s clustering "
                        "left %d of %d rows in no cluster%s", 100 * share, 100 * meant, float(self.p0), name,
                        self.init_info_["unclustered"], n,
                        "; raise clusterer_params['thres'] (docs/images.md: MNIST takes 0.10)" if name == "dc" else "")
        self.history_: list[dict[str, Any]] = [self._history_entry(0, 0, selected, None, init, time.perf_counter() - t0)]
        if agreement is not None:
            self.history_[0]["guard"] = agreement
        timings["clustering"] = time.perf_counter() - t0

        # 2-4. train on the selection, reselect every r epochs, stop when it settles
        epochs = 0
        self.stop_reason_ = "max_reselections"
        for step in range(1, int(self.max_reselections) + 1):
            t0 = time.perf_counter()
            self._train(X_t, selected, int(self.r), optimiser, generator)
            epochs += int(self.r)
            timings["training"] += time.perf_counter() - t0
            t0 = time.perf_counter()
            z, angle = self._embedding(X_t)
            if self.reselection == "angle":  # per-row reading: no mixture to fit
                result = None
                new = angle <= np.percentile(angle, 100.0 - float(self.p))
            else:
                result = self._reselection_mixture()(z, offset_seed(self.seed_, step))
                new = self._select(result, float(self.p), n, fallback=selected, rule=self.reselection)
            kept_previous = new is selected  # the reselection was too small to train on: nothing was decided
            guard = None
            if self.guard:
                new, guard = self._guard(new, selected, angle, None if result is None else result.labels)
            self.history_.append(self._history_entry(step, epochs, new, selected, result, time.perf_counter() - t0))
            if kept_previous:
                self.history_[-1]["kept_previous"] = True
            if guard is not None:
                if "mask" in guard:  # kept beside the entry's own mask (arrays are not saved)
                    self.history_[-1]["rejected_mask"] = guard.pop("mask")
                self.history_[-1]["guard"] = guard
            timings["reselection"] += time.perf_counter() - t0
            changed = int((new != selected).sum())
            selected = new
            if self.verbose:
                log.info("reselection %d: %d selected, %d changed", step, selected.sum(), changed)
            if changed <= float(self.tol) * n and not kept_previous:  # a kept selection has not settled
                self.stop_reason_ = "converged"
                break
        t0 = time.perf_counter()
        # a selection no period has trained on yet: the initial one when there is no reselection,
        # the last reselection's under `train_last_selection` when the loop hit its cap
        if self.stop_reason_ == "max_reselections" and (int(self.max_reselections) == 0 or self.train_last_selection):
            self._train(X_t, selected, int(self.r), optimiser, generator)
            epochs += int(self.r)
        if int(self.max_reselections) == 0:
            self.stop_reason_ = "no_reselection"
        if int(self.final_epochs) > 0:
            self._train(X_t, selected, int(self.final_epochs), optimiser, generator)
            epochs += int(self.final_epochs)
        if int(self.refit_epochs) > 0:
            # a fresh autoencoder on the final selection: what the first periods learned from a
            # contaminated start is not carried into the scores
            seed_torch(offset_seed(self.seed_, 7), self.device_)
            self._new_model()
            optimiser = torch.optim.Adam(self.model_.parameters(), lr=float(self.lr),
                                         weight_decay=float(self.weight_decay), foreach=True)
            self._train(X_t, selected, int(self.refit_epochs), optimiser, generator)
            epochs += int(self.refit_epochs)
        timings["training"] += time.perf_counter() - t0

        self.n_epochs_ = epochs
        self.n_reselections_ = len(self.history_) - 1
        if fit_index is not None:  # back to every row: rows outside the subsample were never selected
            selected = _expand(selected, fit_index, n_all)
            for h in self.history_:
                for key in ("mask", "rejected_mask"):
                    if key in h:
                        h[key] = _expand(h[key], fit_index, n_all)
            X_t = self._tensor(Xs)
        self.selection_ = selected
        t0 = time.perf_counter()
        self.decision_scores_ = self._fit_scores(X_t, selected)
        if int(self.snapshots) > 1 and epochs > int(self.r):  # at least two periods trained
            self._keep_snapshots(X_t, selected)
        self._previous_state = None
        timings["scoring"] = time.perf_counter() - t0
        self.timings_ = {k: round(v, 3) for k, v in timings.items()}

    def _keep_snapshots(self, X_t: torch.Tensor, selected: np.ndarray) -> None:
        """`members_` = [the model one period back, the last model], each scoring as a detector of
        its own (its own knn reference under "knn"); the fit's scores become their mean."""
        last = copy.copy(self)
        before = copy.copy(self)
        before.model_ = self._build_model().to(self.device_)
        before.model_.load_state_dict(self._previous_state)
        before.model_.eval()
        before.decision_scores_ = before._fit_scores(X_t, selected)
        for m in (last, before):
            m.members_ = None
            m._previous_state = None
        self.members_ = [before, last]
        self.decision_scores_ = np.mean([m.decision_scores_ for m in self.members_], axis=0)

    def _initial_selection(self, clusterer, Xs: np.ndarray):
        """C(X, p0); with `guard_runs` > 1, only the rows that every one of that many
        clusterings, each with its own seed, selects.

        Whether a tight cluster of anomalies gets a mixture component of its own (and so looks
        tight) depends on the clustering's seed: on KDDCUP99 at 20% single GMM fits start with
        0.6-8.6% anomalies, the rows three fits agree on with 0.0-0.8% (dev seeds 5-12). Not
        the default: the agreement also drops normal modes that one fit happened to split, and
        the entry guard then keeps them out for good (dev seeds 8 and 9 fell to AUPRC 27.6 and
        60.1; docs/guard.md). Returns the first run's clustering, the mask, and what the
        agreement did (None with one run).
        """
        n = Xs.shape[0]
        init = clusterer(Xs, self.seed_)
        selected = self._select(init, float(self.p0), n)
        runs = int(self.guard_runs) if self.guard else 1
        if runs < 2:
            return init, selected, None
        each = [int(selected.sum())]
        agreed = selected.copy()
        for j in range(1, runs):
            mask = self._select(clusterer(Xs, offset_seed(self.seed_, 100_003 * j)), float(self.p0), n)
            each.append(int(mask.sum()))
            if j == 1 and np.array_equal(mask, selected):  # a deterministic clusterer: nothing to compare
                break
            agreed &= mask
        info = {"runs": len(each), "selected_each": each, "selected_all": int(agreed.sum())}
        floor = max(int(self.n_components), int(0.01 * n), 2)
        if agreed.sum() < floor:
            log.warning("the initial clusterings agree on only %d rows (< %d); keeping the first one's selection",
                        agreed.sum(), floor)
            info["fallback"] = "first run"
            return init, selected, info
        return init, agreed, info

    def _reselection_mixture(self):
        """The reselection GMM: scikit-learn's on the CPU, the torch one where the model is on a GPU."""
        backend = self.gmm_backend
        if backend == "auto":  # a covariance the torch mixture lacks: scikit-learn's on a GPU too (it failed there)
            backend = "torch" if str(self.device_).startswith("cuda") and self.gmm_covariance in TORCH_COVARIANCES \
                else "sklearn"
        if backend == "torch":
            return make_clusterer("gmm_torch", n_components=int(self.n_components),
                                  covariance_type=self.gmm_covariance, device=self.device_)
        return make_clusterer("gmm", n_components=int(self.n_components), covariance_type=self.gmm_covariance)

    def _select(self, result: ClusterResult, p: float, n: int, fallback: np.ndarray | None = None,
                rule: str | None = None) -> np.ndarray:
        """Apply the selection rule; guard against a selection too small to train on."""
        mask = select_normal(result, p, rule or self.selection)
        floor = max(int(self.n_components), int(0.01 * n), 2)
        if mask.sum() >= floor:
            return mask
        if fallback is not None:
            log.warning("reselection kept only %d rows (< %d); keeping the previous selection", mask.sum(), floor)
            return fallback
        mask = select_normal(result, p, "row")  # the per-row reading always keeps ~(100 - p)% of clustered rows
        if mask.sum() >= floor:
            log.warning("initial selection too small under rule %r; used the per-row rule", self.selection)
            return mask
        log.warning("initial clustering left too few rows clustered; starting from all rows")
        return np.ones(n, dtype=bool)

    def _guard(self, new: np.ndarray, old: np.ndarray, angle: np.ndarray,
               groups: np.ndarray | None) -> tuple[np.ndarray, dict[str, Any]]:
        """Keep out a group of entering rows that the angle reading would drop.

        Why: the variance rule sees only how tight a mixture component is in z, and z is
        L2-normalised, so rows the autoencoder reconstructs badly (a large angle beside a small
        code) are pressed together near the angle axis: a cluster of anomalies looks tight and
        enters whole (KDDCUP99 at 20%: components of 1,500-13,000 rows, 90-99% anomalies, median
        angle 0.8-1.2 rad against 0.05 for the selected rows). The paper's other reading of the
        same step, keeping the rows whose reconstruction angle is below the (100 - p)th
        percentile, would drop them. So a group of rows entering the selection (the rows of one
        reselection component that are not selected yet; single rows under the per-row rules) is
        admitted only when its median angle is at or below `guard_margin` times that percentile of
        all rows' angles.
        Rows already selected are never removed by the guard, and under `reselection="angle"`
        it never fires (that rule admits nothing above its own cut).
        """
        entering = new & ~old
        info: dict[str, Any] = {"reference_angle": None, "groups_entering": 0, "rejected": [], "rows_rejected": 0}
        if not entering.any():
            if self.keep_selection_history:
                info["mask"] = np.zeros_like(new)
            return new, info
        ref = float(self.guard_margin) * float(np.percentile(angle, 100.0 - float(self.p)))
        info["reference_angle"] = round(ref, 6)
        if groups is None:
            info["groups_entering"] = int(entering.sum())
            reject = entering & (angle > ref)
        else:
            reject = np.zeros_like(new)
            ids = np.unique(groups[entering])
            info["groups_entering"] = int(ids.size)
            for k in ids:
                rows = entering & (groups == k)
                med = float(np.median(angle[rows]))
                if med > ref:
                    reject |= rows
                    info["rejected"].append({"component": int(k), "rows": int(rows.sum()), "median_angle": round(med, 6)})
        info["rows_rejected"] = int(reject.sum())
        if self.keep_selection_history:
            info["mask"] = reject
        return new & ~reject, info

    def _history_entry(self, step, epochs, new, old, result: ClusterResult | None, seconds) -> dict[str, Any]:
        entry = {"step": step, "epochs": epochs, "selected": int(new.sum()),
                 "entered": int((new & ~old).sum()) if old is not None else int(new.sum()),
                 "left": int((old & ~new).sum()) if old is not None else 0,
                 "n_clusters": result.n_clusters if result is not None else 0, "seconds": round(seconds, 3)}
        if result is not None and "converged" in result.info:  # the mixture's EM (scikit-learn's warning is off)
            entry["mixture_converged"] = bool(result.info["converged"])
        if self.keep_selection_history:
            entry["mask"] = new.copy()
        return entry

    # ------------------------------------------------------------------ torch parts
    def _row_cap(self, setting, values: int) -> int | None:
        """A row cap from a setting: None = none, "auto" = `values` input values' worth of rows
        (at least 4,096), else the number given."""
        if setting is None:
            return None
        if setting == "auto":
            return max(4096, values // max(1, int(self.architecture_["n_features"])))
        return int(setting)

    def _fit_rows_cap(self) -> int | None:
        return self._row_cap(self.max_fit_rows, FIT_VALUES)

    def _epoch_rows(self) -> int | None:
        return self._row_cap(self.max_epoch_rows, EPOCH_VALUES)

    def _train(self, X_t: torch.Tensor, selected: np.ndarray, epochs: int, optimiser, generator) -> None:
        """`epochs` epochs on the selected rows (a fresh subset of at most `_epoch_rows()` each).
        Under `snapshots=2` the weights before this period are kept (`_previous_state`)."""
        if int(self.snapshots) > 1:
            self._previous_state = {k: v.detach().clone() for k, v in self.model_.state_dict().items()}
        rows = torch.from_numpy(np.flatnonzero(selected))
        share = float(self.unselected_share)
        if share > 0:  # this period's draw from the rows outside the selection, beside it
            outside = torch.from_numpy(np.flatnonzero(~selected))
            k = min(outside.numel(), int(round(share / (1.0 - share) * rows.numel())))
            if k:
                rows = torch.cat([rows, outside[torch.randperm(outside.numel(), generator=generator)[:k]]])
        self._run_epochs(X_t, epochs, optimiser, generator, rows=rows, cap=self._epoch_rows())

    def _rescale_words(self) -> str:
        if self.input_scaling == "none":  # rows at 1e14 overflowed Adam's squares under a ReLU network
            return "rescale X (standardise its columns, or input_scaling 'global', the default)"
        return super()._rescale_words()

    def _batch_loss(self, x: torch.Tensor) -> torch.Tensor:
        _, x_hat = self.model_(x)
        return torch.mean((x_hat - x) ** 2)

    @torch.no_grad()
    def _forward_all(self, X_t: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        codes, angles = [], []
        for x in self._chunks(X_t):
            code, x_hat = self.model_(x)
            codes.append(code.float().cpu())
            angles.append(reconstruction_angle(x, x_hat, getattr(self, "zero_scale_", None)).float().cpu())
        return torch.cat(codes).numpy(), torch.cat(angles).numpy()

    def _embedding(self, X_t: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        """z = [bottleneck; angle], each row L2-normalised (the space of every reselection), and the angles.

        z is float64: it is only n x (latent + 1), and the tightest KDDCUP99 components have
        variances near 1e-8, below float32's resolution around 1.
        """
        code, angle = self._forward_all(X_t)
        column = np.log(np.maximum(angle, 1e-4)) if self.z_angle == "log" else angle
        z = np.concatenate([code, column[:, None]], axis=1).astype(np.float64)
        norms = np.linalg.norm(z, axis=1, keepdims=True)
        return z / np.where(norms > 0, norms, 1.0), angle

    @torch.no_grad()
    def _rep(self, x: torch.Tensor) -> torch.Tensor:
        """The representation "knn" compares rows in: [code, x - x_hat] ("rep"), or the scaled input."""
        if self.knn_space == "input":
            return x.float()
        code, x_hat = self.model_(x)
        return torch.cat([code, x - x_hat], dim=1).float()

    @torch.no_grad()
    def _scores(self, X_t: torch.Tensor) -> np.ndarray:
        """The angle or the error of every row (the "knn" score goes through `_knn_scores`)."""
        out = []
        for x in self._chunks(X_t):
            code, x_hat = self.model_(x)
            if self.score == "error":
                out.append(torch.linalg.vector_norm(x - x_hat, dim=1).float().cpu())
            else:
                out.append(reconstruction_angle(x, x_hat, getattr(self, "zero_scale_", None)).float().cpu())
        return torch.cat(out).numpy().astype(np.float64)

    def _reference_cap(self) -> int:
        """`max_reference`, or under "auto" 20,000 rows but at most 2^24 values of [code, residual]."""
        if self.max_reference != "auto":
            return int(self.max_reference)
        width = int(self.architecture_["n_features"]) + int(self.architecture_["latent"])
        return int(min(20000, max(1000, REFERENCE_VALUES // width)))

    def _fit_scores(self, X_t: torch.Tensor, selected: np.ndarray) -> np.ndarray:
        if self.score != "knn":
            self.reference_ = self.reference_rows_ = None
            return self._scores(X_t)
        self.model_.eval()
        rows = np.flatnonzero(selected)
        cap = self._reference_cap()
        if len(rows) > cap:
            rows = np.sort(np.random.default_rng(self.seed_).choice(rows, cap, replace=False))
        self.reference_rows_ = rows  # fit-time only (not saved): which fitted rows `held_out_scores` leaves out
        chunk = self._chunk_rows()
        rows_t = torch.from_numpy(rows).to(X_t.device)
        self.reference_ = torch.cat([self._rep(X_t[rows_t[s:s + chunk]]).cpu()
                                     for s in range(0, len(rows), chunk)]).numpy()
        self._nn_index = None
        in_reference = np.zeros(X_t.shape[0], dtype=bool)
        in_reference[rows] = True
        # a reference row skips itself (its k-th other row); a row outside the reference is scored as
        # `_score` scores new rows (its k-th row of the reference), also where the reference holds
        # no more than k rows
        k_in, k_out = min(int(self.n_neighbors), len(rows) - 1), min(int(self.n_neighbors), len(rows))
        dist = self._knn_index().query_stream(batched(X_t, self._rep, chunk),
                                              min(int(self.n_neighbors) + 1, len(rows)))
        return np.where(in_reference, dist[:, k_in], dist[:, k_out - 1])

    def held_out_scores(self, X, groups) -> np.ndarray:
        """The "knn" score of each row DUAD was just fitted on (X: those rows, in order), measured
        without the reference rows of its own group (`groups`: one label per row, e.g. its video).

        A fitted row's own score finds its near-duplicates among the reference (the overlapping
        clips of the same video), so it is lower than what a new row like it would get; an alarm
        line drawn from such scores sits too low. Left out by group, a row scores as new footage
        does. Scores other than "knn" are returned as `decision_scores_`, and so are the rows of a
        group that holds the whole reference (a history of one video); a group that holds nearly
        all of it is measured against what is left, with k cut to that.
        """
        if getattr(self, "members_", None):
            return np.mean([m.held_out_scores(X, groups) for m in self.members_], axis=0)
        if self.score != "knn":
            return np.asarray(self.decision_scores_, dtype=np.float64)
        rows = getattr(self, "reference_rows_", None)
        if rows is None:
            raise ValueError("held_out_scores needs the fit's reference rows: call it right after fit, "
                             "on the rows fitted (a loaded model does not keep them)")
        X = self._validate_score_input(X)
        groups = np.asarray(groups)
        if X.shape[0] != len(self.decision_scores_) or groups.shape != (X.shape[0],):
            raise ValueError(f"held_out_scores takes the {len(self.decision_scores_)} fitted rows and one group "
                             f"label each, got {X.shape[0]} rows and {groups.shape[0] if groups.ndim else 0} labels")
        if groups.dtype.kind in "fc" and np.isnan(groups).any():  # NaN != NaN: its rows matched no group
            raise ValueError(f"held_out_scores: groups holds NaN (first at row {int(np.flatnonzero(np.isnan(groups))[0])});"
                             " give every row a group label")
        # each row's group by its index among the labels: `groups == g` left rows no label equals (NaN)
        # out of every group, and their scores were whatever np.empty held
        try:
            _, codes = np.unique(groups, return_inverse=True)
        except TypeError:  # labels that do not compare (None beside names): numpy's sort failed
            raise ValueError("held_out_scores: groups must be labels of one kind (names or numbers), got "
                             f"{sorted({type(g).__name__ for g in groups.tolist()})}") from None
        codes = codes.reshape(-1)
        out = np.empty(X.shape[0], dtype=np.float64)
        ref_groups = codes[rows]
        X_t = self._tensor(self._transform(X))
        self.model_.eval()
        with thread_limits(getattr(self, "n_threads", None)):
            for g in range(int(codes.max()) + 1):
                members = np.flatnonzero(codes == g)
                others = ref_groups != g
                if not others.any():  # one group holds the whole reference: its fitted scores
                    out[members] = self.decision_scores_[members]
                    continue
                ref = self.reference_[others]
                k = min(int(self.n_neighbors), len(ref))
                index = KNNIndex(ref, device=self.device_)
                queries = X_t[torch.from_numpy(members).to(X_t.device)]
                out[members] = index.query_stream(batched(queries, self._rep, self._chunk_rows()), k)[:, k - 1]
        return out

    def _knn_index(self) -> KNNIndex:
        """The reference rows on the model's device, built on first use (also after loading)."""
        index = getattr(self, "_nn_index", None)
        if index is None:
            index = self._nn_index = KNNIndex(self.reference_, device=self.device_)
        return index

    # ------------------------------------------------------------------ scoring
    def _score(self, X: np.ndarray) -> np.ndarray:
        """Anomaly score of each row of X (see `score`; the angle is in radians in [0, pi]); higher = more anomalous."""
        if getattr(self, "members_", None):  # restarts that never settled: the mean of their scores
            return np.mean([m._score(X) for m in self.members_], axis=0)
        X_t = self._tensor(self._transform(X))
        if self.score != "knn":
            return self._scores(X_t)
        self.model_.eval()
        k = min(int(self.n_neighbors), len(self.reference_))
        return self._knn_index().query_stream(batched(X_t, self._rep, self._chunk_rows()), k)[:, k - 1]

    def score_unit(self) -> str:
        """What the scores measure, for plots and reports."""
        return {"angle": "reconstruction angle (rad)", "error": "reconstruction error",
                "knn": "distance to the normal selection"}[self.score]

    def transform(self, X) -> np.ndarray:
        """The bottleneck codes of X (n_samples, latent_dim), float32 whatever X's type;
        `fit_transform` and `set_output` are scikit-learn's (TransformerMixin), the codes named
        duad0, duad1, ... (`save` and pickling keep a `set_output` choice)."""
        X = self._validate_score_input(X, empty=True)
        if not X.shape[0]:  # no rows: no codes, of the code's width
            return np.empty((0, self._n_features_out), dtype=np.float32)
        return self._forward_all(self._tensor(self._transform(X)))[0]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        if tags.transformer_tags is not None:
            tags.transformer_tags.preserves_dtype = ["float32"]  # the codes are float32 for any X
        return tags

    @property
    def _n_features_out(self) -> int:
        """The code's width, for `get_feature_names_out`."""
        return int(self.architecture_["latent"])

    # ------------------------------------------------------------------ persistence
    _json_attrs = ("n_features_in_", "feature_names_in_", "seed_", "device_", "scale_", "architecture_", "init_info_",
                   "history_",
                   "stop_reason_", "n_epochs_", "n_reselections_", "threshold_", "fit_seconds_", "timings_",
                   "n_fit_rows_", "restarts_", "zero_scale_")
    _array_attrs = ("decision_scores_", "selection_", "labels_", "constant_columns_", "reference_")

    def _build_model(self) -> MLPAutoencoder:
        a = self.architecture_
        return MLPAutoencoder(a["n_features"], a["hidden"], a["latent"], a["activation"])


def _typical_length(Xs: np.ndarray) -> float | None:
    """The median length of the rows that are not all zero (None when every row is): the unit a
    zero row's reconstruction is measured in (`reconstruction_angle`)."""
    lengths = np.empty(Xs.shape[0])
    step = rows_per_block(Xs.shape[1])
    for s in range(0, Xs.shape[0], step):
        block = Xs[s:s + step]
        lengths[s:s + len(block)] = np.sqrt(np.einsum("ij,ij->i", block, block, dtype=np.float64))
    lengths = lengths[lengths > 0]
    return float(np.median(lengths)) if lengths.size else None


def _expand(mask: np.ndarray, index: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros(n, dtype=bool)
    out[index] = mask
    return out


def _jsonable(info: dict) -> dict:
    out = {}
    for k, v in info.items():
        if isinstance(v, (np.integer,)):
            v = int(v)
        elif isinstance(v, (np.floating,)):
            v = float(v)
        elif isinstance(v, np.ndarray):
            v = v.tolist()
        out[k] = v
    return out


def _real(value) -> float | None:
    """A finite real number as a float (a numeric string too, as YAML may give "1e-4"), else None."""
    if isinstance(value, bool):
        return None
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if np.isfinite(v) else None
