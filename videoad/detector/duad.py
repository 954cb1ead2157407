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
(`research/kdd-prototype.md`; the README's KDDCUP99 table measures both).
"""
from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np
import torch

from videoad.detector.autoencoder import MLPAutoencoder, auto_architecture, reconstruction_angle
from videoad.detector.base import BaseDetector, resolve_device, resolve_seed, seed_everything
from videoad.detector.clustering import SELECTION_RULES, ClusterResult, make_clusterer, select_normal
from videoad.detector.validation import check_not_all_constant, check_percent

log = logging.getLogger(__name__)

INPUT_SCALINGS = ("global", "row", "none")
SCORES = ("angle", "error", "knn")


class DUAD(BaseDetector):
    """The paper's estimator with the scikit-learn / PyOD contract.

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
        one among the final selection; a selected training row does not count itself).
    n_neighbors : k of "knn".
    max_reference : "knn" compares with at most this many selected rows (a seeded subsample
        above it), which bounds the memory and time of scoring.
    input_scaling : "global" divides X by one scalar fitted on the training rows (so fitting on
        c * X gives the same scores), "row" L2-normalises every row (the usual treatment of C3D
        features; scores are then invariant to each row's scale), "none".
    contamination : optional expected anomaly share, sets `threshold_` and `labels_`.
    device : "auto", "cpu", "cuda", "cuda:1", ...
    keep_selection_history : store each selection mask in `history_` (for purity plots).
    """

    def __init__(self, p0: float = 35.0, p: float = 30.0, r: int = 10, clusterer: str = "auto",
                 clusterer_params: dict | None = None, selection: str = "row", reselection: str | None = None,
                 n_components: int = 20,
                 gmm_covariance: str = "full", hidden_dims="auto", latent_dim: int | str = "auto",
                 activation: str = "tanh", lr: float = 1e-4, batch_size: int = 1024, weight_decay: float = 0.0,
                 max_reselections: int = 10, tol: float = 0.001, final_epochs: int = 0,
                 input_scaling: str = "global", dc_min_features: int = 200, score: str = "angle",
                 n_neighbors: int = 5, max_reference: int = 20000, contamination: float | None = None,
                 device: str = "auto", random_state=None, keep_selection_history: bool = False,
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
        self.max_reference = max_reference
        self.contamination = contamination
        self.device = device
        self.random_state = random_state
        self.keep_selection_history = keep_selection_history
        self.verbose = verbose

    # ------------------------------------------------------------------ checks
    def _check_params(self) -> None:
        p0 = check_percent(self.p0, "p0")
        p = check_percent(self.p, "p")
        if p > p0:
            raise ValueError(f"p must not exceed p0 (the reselection keeps more rows than the start): p={p}, p0={p0}")
        if int(self.r) < 1:
            raise ValueError(f"r (epochs between reselections) must be >= 1, got {self.r!r}")
        if self.selection not in SELECTION_RULES:
            raise ValueError(f"selection must be one of {SELECTION_RULES}, got {self.selection!r}")
        if self.reselection not in (None, "angle", *SELECTION_RULES):
            raise ValueError(f"reselection must be None, 'angle' or one of {SELECTION_RULES}, got {self.reselection!r}")
        if self.input_scaling not in INPUT_SCALINGS:
            raise ValueError(f"input_scaling must be one of {INPUT_SCALINGS}, got {self.input_scaling!r}")
        if self.score not in SCORES:
            raise ValueError(f"score must be one of {SCORES}, got {self.score!r}")
        if int(self.n_neighbors) < 1 or int(self.max_reference) < 2:
            raise ValueError(f"n_neighbors must be >= 1 and max_reference >= 2, got {self.n_neighbors!r}, "
                             f"{self.max_reference!r}")
        if int(self.n_components) < 1 or int(self.batch_size) < 1 or int(self.max_reselections) < 0:
            raise ValueError("n_components and batch_size must be >= 1, max_reselections >= 0")

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
        rms = float(np.sqrt(np.mean(np.sum(X.astype(np.float64) ** 2, axis=1))))
        return rms if rms > 0 else 1.0

    def _transform(self, X: np.ndarray) -> np.ndarray:
        if self.input_scaling == "row":
            norms = np.linalg.norm(X, axis=1, keepdims=True)
            return X / np.where(norms > 0, norms, 1.0)
        if self.input_scaling == "global":
            return X / np.float32(self.scale_)
        return X

    # ------------------------------------------------------------------ fit
    def fit(self, X, y=None):
        """Run Algorithm 1 on X (n_samples, n_features). `y` is ignored (unsupervised)."""
        t_start = time.perf_counter()
        self._check_params()
        X = self._validate_fit_input(X)
        n, d = X.shape
        n_min = max(int(self.n_components), self._n_init_clusters(d))
        if n < n_min:
            raise ValueError(
                f"X has {n} rows but the detector fits {n_min} clusters; it needs at least as many rows as clusters"
            )
        self.constant_columns_ = np.flatnonzero(check_not_all_constant(X))
        self.seed_ = resolve_seed(self.random_state)
        seed_everything(self.seed_)
        self.device_ = resolve_device(self.device)
        self.scale_ = self._fit_scale(X)
        Xs = self._transform(X).astype(np.float32)

        hidden, latent = self.hidden_dims, self.latent_dim
        auto_hidden, auto_latent = auto_architecture(d)
        hidden = auto_hidden if hidden == "auto" else tuple(int(h) for h in hidden)
        latent = auto_latent if latent == "auto" else int(latent)
        self.architecture_ = {"n_features": d, "hidden": list(hidden), "latent": int(latent),
                              "activation": self.activation}
        self.model_ = self._build_model().to(self.device_)
        optimiser = torch.optim.Adam(self.model_.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        generator = torch.Generator().manual_seed(self.seed_)
        X_t = torch.from_numpy(Xs).to(self.device_)

        # 1. initial selection C(X, p0)
        t0 = time.perf_counter()
        name = self._clusterer_name(d)
        clusterer = make_clusterer(name, **(self.clusterer_params or {}))
        init = clusterer(Xs, self.seed_)
        selected = self._select(init, float(self.p0), n)
        self.init_info_ = {"clusterer": name, "n_clusters": init.n_clusters,
                           "unclustered": int((init.labels < 0).sum()), "selected": int(selected.sum()),
                           "seconds": time.perf_counter() - t0, **_jsonable(init.info)}
        self.history_: list[dict[str, Any]] = [self._history_entry(0, 0, selected, None, init, time.perf_counter() - t0)]

        # 2-4. train on the selection, reselect every r epochs, stop when it settles
        epochs = 0
        self.stop_reason_ = "max_reselections"
        for step in range(1, int(self.max_reselections) + 1):
            self._train(X_t, selected, int(self.r), optimiser, generator)
            epochs += int(self.r)
            t0 = time.perf_counter()
            z, angle = self._embedding(X_t)
            if self.reselection == "angle":  # per-row reading: no mixture to fit
                result = None
                new = angle <= np.percentile(angle, 100.0 - float(self.p))
            else:
                result = make_clusterer("gmm", n_components=int(self.n_components),
                                        covariance_type=self.gmm_covariance)(z, self.seed_ + step)
                new = self._select(result, float(self.p), n, fallback=selected, rule=self.reselection)
            self.history_.append(self._history_entry(step, epochs, new, selected, result, time.perf_counter() - t0))
            changed = int((new != selected).sum())
            selected = new
            if self.verbose:
                log.info("reselection %d: %d selected, %d changed", step, selected.sum(), changed)
            if changed <= float(self.tol) * n:
                self.stop_reason_ = "converged"
                break
        if int(self.max_reselections) == 0:
            self._train(X_t, selected, int(self.r), optimiser, generator)
            epochs += int(self.r)
            self.stop_reason_ = "no_reselection"
        if int(self.final_epochs) > 0:
            self._train(X_t, selected, int(self.final_epochs), optimiser, generator)
            epochs += int(self.final_epochs)

        self.n_epochs_ = epochs
        self.n_reselections_ = len(self.history_) - 1
        self.selection_ = selected
        self.decision_scores_ = self._fit_scores(X_t, selected)
        self._set_threshold()
        self.fit_seconds_ = time.perf_counter() - t_start
        return self

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

    def _history_entry(self, step, epochs, new, old, result: ClusterResult | None, seconds) -> dict[str, Any]:
        entry = {"step": step, "epochs": epochs, "selected": int(new.sum()),
                 "entered": int((new & ~old).sum()) if old is not None else int(new.sum()),
                 "left": int((old & ~new).sum()) if old is not None else 0,
                 "n_clusters": result.n_clusters if result is not None else 0, "seconds": round(seconds, 3)}
        if self.keep_selection_history:
            entry["mask"] = new.copy()
        return entry

    # ------------------------------------------------------------------ torch parts
    def _train(self, X_t: torch.Tensor, selected: np.ndarray, epochs: int, optimiser, generator) -> None:
        self.model_.train()
        idx_all = torch.from_numpy(np.flatnonzero(selected))
        bs = int(self.batch_size)
        for _ in range(epochs):
            perm = idx_all[torch.randperm(idx_all.numel(), generator=generator)]
            for start in range(0, perm.numel(), bs):
                batch = X_t[perm[start:start + bs].to(X_t.device)]
                _, x_hat = self.model_(batch)
                loss = torch.mean((x_hat - batch) ** 2)
                optimiser.zero_grad(set_to_none=True)
                loss.backward()
                optimiser.step()
        self.model_.eval()

    @torch.no_grad()
    def _forward_all(self, X_t: torch.Tensor, chunk: int = 65536) -> tuple[np.ndarray, np.ndarray]:
        self.model_.eval()
        codes, angles = [], []
        for start in range(0, X_t.shape[0], chunk):
            x = X_t[start:start + chunk]
            code, x_hat = self.model_(x)
            codes.append(code.float().cpu())
            angles.append(reconstruction_angle(x, x_hat).float().cpu())
        return torch.cat(codes).numpy(), torch.cat(angles).numpy()

    def _embedding(self, X_t: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        """z = [bottleneck; angle], each row L2-normalised (the space of every reselection), and the angles."""
        code, angle = self._forward_all(X_t)
        z = np.concatenate([code, angle[:, None]], axis=1).astype(np.float64)
        norms = np.linalg.norm(z, axis=1, keepdims=True)
        return z / np.where(norms > 0, norms, 1.0), angle

    @torch.no_grad()
    def _scores(self, X_t: torch.Tensor, chunk: int = 65536) -> tuple[np.ndarray, np.ndarray | None]:
        """The score of every row (angle or error), or for "knn" the representation [code, residual]."""
        self.model_.eval()
        out = []
        for start in range(0, X_t.shape[0], chunk):
            x = X_t[start:start + chunk]
            code, x_hat = self.model_(x)
            if self.score == "knn":
                out.append(torch.cat([code, x - x_hat], dim=1).float().cpu())
            elif self.score == "error":
                out.append(torch.linalg.vector_norm(x - x_hat, dim=1).float().cpu())
            else:
                out.append(reconstruction_angle(x, x_hat).float().cpu())
        values = torch.cat(out).numpy()
        return (None, values) if self.score == "knn" else (values.astype(np.float64), None)

    def _fit_scores(self, X_t: torch.Tensor, selected: np.ndarray) -> np.ndarray:
        scores, rep = self._scores(X_t)
        if self.score != "knn":
            self.reference_ = None
            return scores
        rows = np.flatnonzero(selected)
        if len(rows) > int(self.max_reference):
            rows = np.sort(np.random.default_rng(self.seed_).choice(rows, int(self.max_reference), replace=False))
        self.reference_ = np.ascontiguousarray(rep[rows], dtype=np.float32)
        in_reference = np.zeros(len(rep), dtype=bool)
        in_reference[rows] = True
        k = min(int(self.n_neighbors), len(rows) - 1)
        dist = self._knn(rep, k + 1)
        return np.where(in_reference, dist[:, k], dist[:, k - 1])  # a reference row skips itself

    def _knn(self, rep: np.ndarray, k: int) -> np.ndarray:
        """Distances from each row of `rep` to its k nearest reference rows, (n, k) ascending."""
        index = getattr(self, "_nn_index", None)
        if index is None:  # built on first use, also after loading
            from sklearn.neighbors import NearestNeighbors

            index = self._nn_index = NearestNeighbors().fit(self.reference_)
        return index.kneighbors(rep, n_neighbors=k, return_distance=True)[0].astype(np.float64)

    # ------------------------------------------------------------------ scoring
    def decision_function(self, X) -> np.ndarray:
        """Anomaly score of each row of X (see `score`; the angle is in radians in [0, pi]); higher = more anomalous."""
        X = self._validate_score_input(X)
        X_t = torch.from_numpy(self._transform(X).astype(np.float32)).to(self.device_)
        scores, rep = self._scores(X_t)
        if self.score != "knn":
            return scores
        k = min(int(self.n_neighbors), len(self.reference_))
        return self._knn(rep, k)[:, k - 1]

    def score_unit(self) -> str:
        """What the scores measure, for plots and reports."""
        return {"angle": "reconstruction angle (rad)", "error": "reconstruction error",
                "knn": "distance to the normal selection"}[self.score]

    def transform(self, X) -> np.ndarray:
        """The bottleneck codes of X (n_samples, latent_dim)."""
        X = self._validate_score_input(X)
        X_t = torch.from_numpy(self._transform(X).astype(np.float32)).to(self.device_)
        return self._forward_all(X_t)[0]

    # ------------------------------------------------------------------ persistence
    _json_attrs = ("n_features_in_", "seed_", "device_", "scale_", "architecture_", "init_info_", "history_",
                   "stop_reason_", "n_epochs_", "n_reselections_", "threshold_", "fit_seconds_")
    _array_attrs = ("decision_scores_", "selection_", "labels_", "constant_columns_", "reference_")

    def _build_model(self) -> MLPAutoencoder:
        a = self.architecture_
        return MLPAutoencoder(a["n_features"], a["hidden"], a["latent"], a["activation"])

    def save(self, path) -> None:
        """Write tensors plus a JSON description to one file (see `persistence`)."""
        from videoad.detector.persistence import save_detector

        save_detector(self, path)

    @classmethod
    def load(cls, path, device: str | None = None) -> "DUAD":
        from videoad.detector.persistence import load_detector

        det = load_detector(path, device=device)
        if not isinstance(det, cls):
            raise ValueError(f"{path}: holds a {type(det).__name__}, not a {cls.__name__}")
        return det


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
