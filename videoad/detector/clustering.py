"""Clusterers that pick the initial normal subset C(X, p0), behind one small interface.

A clusterer maps X to a `ClusterResult`: a label per row (-1 = left unclustered), each
cluster's variance, and each row's squared distance to its own cluster's centre. The selection
rule (`select_normal`) works on that result alone, so GMM, K-means, HDBSCAN and Distribution
Clustering are interchangeable by name (`make_clusterer`).

Variance of a cluster = mean over its members of ||x - centre||^2 (the trace of its covariance),
computed in the space the clusterer saw.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from threadpoolctl import threadpool_limits

from videoad.detector.validation import MAX_COUNT, MAX_REPEATS, MAX_THREADS, check_count, check_number

SELECTION_RULES = ("row", "component", "component_rows")
#: scikit-learn GaussianMixture's covariance types
GMM_COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")


def check_counts(owner: object, **bounds) -> None:
    """Each named attribute of `owner` a whole number within its bounds (`validation.check_count`):
    a least, or (least, most); a `None` least: None allowed, else >= 0 (a max_fit_rows of 0 or None
    subsamples nothing). A config's `n_components: abc` or -1 was taken by a clusterer's constructor
    and failed inside scikit-learn after the autoencoder's training."""
    for name, bound in bounds.items():
        least, most = bound if isinstance(bound, tuple) else (bound, MAX_COUNT)
        check_count(getattr(owner, name), name, at_least=0 if least is None else least, at_most=most,
                    words=(None,) if least is None else ())


def check_choice(value, name: str, choices) -> None:
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")


@dataclass
class ClusterResult:
    labels: np.ndarray  # (n,) int, -1 = unclustered
    variances: np.ndarray  # (k,) per cluster
    row_dist: np.ndarray  # (n,) squared distance to own centre, nan where unclustered
    info: dict = field(default_factory=dict)

    @property
    def n_clusters(self) -> int:
        return int(self.variances.shape[0])


def result_from_labels(X: np.ndarray, labels: np.ndarray, centres: np.ndarray | None = None, **info) -> ClusterResult:
    """Variances and row distances for hard labels (centres default to the members' means).

    Computed chunk by chunk in float64 over X's own dtype (no float64 copy of a large X), with
    explicit differences (a KDDCUP99 component can have a variance of 1e-8).
    """
    labels = np.asarray(labels, dtype=np.int64)
    ids = np.unique(labels[labels >= 0])
    remap = np.full(labels.max() + 1 if labels.size and labels.max() >= 0 else 1, -1, dtype=np.int64)
    remap[ids] = np.arange(ids.size)
    new = np.where(labels >= 0, remap[np.maximum(labels, 0)], -1)
    k, d = ids.size, X.shape[1]
    step = rows_per_block(d)
    counts = np.bincount(new[new >= 0], minlength=k).astype(np.float64)
    if centres is None:
        sums = np.zeros((k, d))
        for s in range(0, X.shape[0], step):
            lab = new[s:s + step]
            keep = lab >= 0
            if keep.any():
                group_add(sums, lab[keep], X[s:s + step][keep].astype(np.float64))
        centres_k = sums / np.maximum(counts, 1.0)[:, None]
    else:
        centres_k = np.asarray(centres, dtype=np.float64)[ids]
    row_dist = np.full(X.shape[0], np.nan, dtype=np.float64)
    for s in range(0, X.shape[0], step):
        lab = new[s:s + step]
        keep = np.flatnonzero(lab >= 0)
        if keep.size:
            diff = X[s:s + step][keep].astype(np.float64) - centres_k[lab[keep]]
            row_dist[s + keep] = np.einsum("ij,ij->i", diff, diff)
    clustered = new >= 0
    variances = np.bincount(new[clustered], weights=row_dist[clustered], minlength=k) / np.maximum(counts, 1.0)
    return ClusterResult(new, variances, row_dist, dict(info))


def rows_per_block(d: int) -> int:
    """Rows of a float64 working block of about 64 MB (at least 256)."""
    return max(256, (1 << 23) // max(1, d))


def group_add(out: np.ndarray, labels: np.ndarray, values: np.ndarray) -> None:
    """out[g] += the sum of the rows of `values` labelled g (sorted segments, one reduceat)."""
    if labels.size == 0:
        return
    order = np.argsort(labels, kind="stable")
    lab = labels[order]
    starts = np.flatnonzero(np.r_[True, lab[1:] != lab[:-1]])
    out[lab[starts]] += np.add.reduceat(values[order], starts, axis=0)


def select_normal(result: ClusterResult, p: float, rule: str = "row") -> np.ndarray:
    """Boolean mask of the rows kept as normal: drop the most spread-out p percent.

    rule="component": the paper's wording. Keep the clusters whose variance is at or below the
        (100 - p)th percentile of the cluster variances. On data whose high-variance clusters are
        small this removes far fewer than p percent of the rows (`research/kdd-prototype.md`).
    rule="component_rows": the same cluster variances, but the percentile is taken over rows
        (each row carries its cluster's variance), so about p percent of the rows are dropped,
        whole clusters at a time, widest first.
    rule="row": each row's own squared distance to its cluster centre, percentile over rows:
        keeps the (100 - p) percent of rows that sit closest to their cluster centres.
    Unclustered rows (label -1) are never selected.
    """
    if rule not in SELECTION_RULES:
        raise ValueError(f"selection rule must be one of {SELECTION_RULES}, got {rule!r}")
    clustered = result.labels >= 0
    if not clustered.any():
        return np.zeros_like(clustered)
    q = 100.0 - float(p)
    if rule == "component":
        cut = np.percentile(result.variances, q)
        keep_cluster = result.variances <= cut
        return clustered & keep_cluster[np.maximum(result.labels, 0)]
    if rule == "component_rows":
        row_var = np.where(clustered, result.variances[np.maximum(result.labels, 0)], np.inf)
        cut = np.percentile(row_var[clustered], q)
        return clustered & (row_var <= cut)
    d = np.where(clustered, result.row_dist, np.inf)
    cut = np.percentile(d[clustered], q)
    return clustered & (d <= cut)


class GMMClusterer:
    """scikit-learn GaussianMixture, hard assignments; fitted on a seeded subsample when large.

    BLAS threads are limited to one around the fit: OpenBLAS threads fighting another process
    slow GaussianMixture down by up to 20x (`research/deps.md`, section 5).
    """

    def __init__(self, n_components: int = 20, covariance_type: str = "diag", max_fit_rows: int = 50_000,
                 max_iter: int = 200, reg_covar: float = 1e-6, blas_threads: int | None = 1):
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.max_fit_rows = max_fit_rows
        self.max_iter = max_iter
        self.reg_covar = reg_covar
        self.blas_threads = blas_threads

    def check(self) -> None:
        """The arguments' kinds and ranges, before any data (DUAD checks its clusterer's when read)."""
        check_counts(self, n_components=1, max_fit_rows=None, max_iter=(1, MAX_REPEATS),
                     blas_threads=(None, MAX_THREADS))
        check_choice(self.covariance_type, "covariance_type", GMM_COVARIANCE_TYPES)
        check_number(self.reg_covar, "reg_covar", at_least=0)

    def __call__(self, X: np.ndarray, random_state: int) -> ClusterResult:
        import warnings

        from sklearn.exceptions import ConvergenceWarning
        from sklearn.mixture import GaussianMixture

        rng = np.random.default_rng(random_state)
        fit_rows = X
        if self.max_fit_rows and X.shape[0] > self.max_fit_rows:
            fit_rows = X[np.sort(rng.choice(X.shape[0], self.max_fit_rows, replace=False))]
        k = min(self.n_components, fit_rows.shape[0])
        reg = self.reg_covar
        for attempt in range(4):
            gmm = GaussianMixture(k, covariance_type=self.covariance_type, max_iter=self.max_iter,
                                  reg_covar=reg, random_state=random_state)
            try:
                # a mixture that did not converge is recorded (`converged`, in DUAD's history_); scikit-learn's
                # warning of it reached the benchmarks' output raw, once per fit
                with threadpool_limits(self.blas_threads), warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    gmm.fit(fit_rows)
                    labels = gmm.predict(X)
                break
            except ValueError:
                # collapsed components (many identical rows, e.g. an untrained bottleneck):
                # regularise the covariances harder, as scikit-learn's message suggests
                if attempt == 3:
                    raise
                reg *= 100.0
        return result_from_labels(X, labels, centres=None, clusterer="gmm", n_components=k, reg_covar=reg,
                                  fit_rows=int(fit_rows.shape[0]), converged=bool(gmm.converged_))


class KMeansClusterer:
    def __init__(self, n_clusters: int = 20, max_fit_rows: int = 100_000, blas_threads: int | None = 1):
        self.n_clusters = n_clusters
        self.max_fit_rows = max_fit_rows
        self.blas_threads = blas_threads

    def check(self) -> None:
        check_counts(self, n_clusters=1, max_fit_rows=None, blas_threads=(None, MAX_THREADS))

    def __call__(self, X: np.ndarray, random_state: int) -> ClusterResult:
        from sklearn.cluster import KMeans

        rng = np.random.default_rng(random_state)
        fit_rows = X
        if self.max_fit_rows and X.shape[0] > self.max_fit_rows:
            fit_rows = X[np.sort(rng.choice(X.shape[0], self.max_fit_rows, replace=False))]
        km = KMeans(min(self.n_clusters, fit_rows.shape[0]), n_init=3, random_state=random_state)
        with threadpool_limits(self.blas_threads):
            km.fit(fit_rows)
            labels = km.predict(X)
        return result_from_labels(X, labels, centres=None, clusterer="kmeans")


class HDBSCANClusterer:
    """scikit-learn's HDBSCAN; its noise points (-1) stay unclustered."""

    def __init__(self, min_cluster_size: int = 10, min_samples: int | None = None, max_fit_rows: int = 20_000):
        self.min_cluster_size = min_cluster_size
        self.min_samples = min_samples
        self.max_fit_rows = max_fit_rows

    def check(self) -> None:
        check_counts(self, min_cluster_size=2, max_fit_rows=None)  # scikit-learn's HDBSCAN: at least 2
        if self.min_samples is not None:
            check_counts(self, min_samples=1)

    def __call__(self, X: np.ndarray, random_state: int) -> ClusterResult:
        from sklearn.cluster import HDBSCAN
        from sklearn.neighbors import KNeighborsClassifier

        rng = np.random.default_rng(random_state)
        idx = np.arange(X.shape[0])
        if self.max_fit_rows and X.shape[0] > self.max_fit_rows:
            idx = np.sort(rng.choice(X.shape[0], self.max_fit_rows, replace=False))
        hd = HDBSCAN(min_cluster_size=self.min_cluster_size, min_samples=self.min_samples, copy=True)
        sub_labels = hd.fit_predict(X[idx])
        labels = np.full(X.shape[0], -1, dtype=np.int64)
        labels[idx] = sub_labels
        if idx.size < X.shape[0] and (sub_labels >= 0).any():
            # rows outside the subsample take the label of their nearest clustered neighbour
            rest = np.setdiff1d(np.arange(X.shape[0]), idx)
            knn = KNeighborsClassifier(1).fit(X[idx], sub_labels)
            labels[rest] = knn.predict(X[rest])
        return result_from_labels(X, labels, centres=None, clusterer="hdbscan",
                                  subsampled=bool(idx.size < X.shape[0]))


#: clusterer name -> its class, or "module:Class" for those that live in their own module and
#: import this one (Distribution Clustering, the torch GMM): imported on first use, so neither
#: module imports the other at any level
_REGISTRY: dict[str, Callable[..., Callable[[np.ndarray, int], ClusterResult]] | str] = {
    "gmm": GMMClusterer,
    "kmeans": KMeansClusterer,
    "hdbscan": HDBSCANClusterer,
    "dc": "videoad.detector.distribution_clustering:DCClusterer",
    "gmm_torch": "videoad.detector.gmm_torch:TorchGMMClusterer",
}


def register_clusterer(name: str, factory) -> None:
    """Add a clusterer: a class (or "module:Class") called with its parameters, whose instances
    map (X, random_state) to a `ClusterResult`."""
    _REGISTRY[name] = factory


def make_clusterer(name: str, **params):
    """A clusterer by name ("gmm", "kmeans", "hdbscan", "dc", "gmm_torch"), with parameters."""
    try:
        factory = _REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown clusterer {name!r}; choose one of {sorted(_REGISTRY)}") from None
    if isinstance(factory, str):
        import importlib

        module, _, attr = factory.partition(":")
        factory = getattr(importlib.import_module(module), attr)
    return factory(**params)
