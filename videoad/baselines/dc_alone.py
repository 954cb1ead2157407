"""Distribution Clustering alone as an anomaly detector (the "DC" row of the paper's Table 4).

Why: DUAD's premise is that anomalies fall outside compact clusters or into spread-out ones.
Scoring rows by that premise alone, without any autoencoder, measures what the clustering step
contributes on its own. Score, lexicographic in two parts:
- the level: the rank of the row's cluster by variance (0 = tightest); unclustered rows get the
  level above every cluster;
- inside a level: the squared distance to the row's cluster centre (unclustered rows: to the
  nearest centre), in the L2-normalised space DC works in (always < 4).
score = 4 * level + distance, so every unclustered row outranks every clustered one.
New rows are attached to clusters by DC's own two tests (`DCModel.attach`). So are the fitted
rows when they are scored again: `decision_function(X_train)` reads each row against the final
clusters, where `decision_scores_` keep the clusters the rows joined as they grew; the two differ
for a few rows (and so may `predict(X_train)` and `labels_`), as kNN's and DUAD's knn score differ
on their own reference rows.
"""
from __future__ import annotations

import numpy as np

from videoad.detector.base import BaseDetector, resolve_seed
from videoad.detector.clustering import rows_per_block
from videoad.detector.distribution_clustering import _check_params as check_dc_params
from videoad.detector.distribution_clustering import (_normalise_lenient, distribution_clustering, label_means,
                                                      normalise_rows)


def _centres(Xn: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """float64 mean row of each cluster 1..k (with no cluster: of all rows), block by block: a
    float64 copy of the clustered rows would be twice the data (16 GB at 200,000 x 4,096)."""
    if k == 0:
        return label_means(Xn, np.zeros(Xn.shape[0], dtype=np.int64), 1)[0]
    return label_means(Xn, labels, k + 1)[0][1:]


class DCAlone(BaseDetector):
    """Distribution Clustering as a detector; parameters as in `distribution_clustering`."""

    _min_rows = 2

    def __init__(self, thres: float = 0.07, min_size: int = 5, max_dist: float = 2.0, center: bool = False,
                 max_rows: int | None = 10_000, device: str = "cpu", contamination: float | None = None,
                 random_state=None):
        self.thres = thres
        self.min_size = min_size
        self.max_dist = max_dist
        self.center = center
        self.max_rows = max_rows
        self.device = device
        self.contamination = contamination
        self.random_state = random_state

    def _check_params(self) -> None:
        """Distribution Clustering's settings, also read when a config file is (registry.check_arguments):
        `thres: 5` passed the read and failed at the fit, after the data was read."""
        check_dc_params(self.thres, self.min_size, self.max_dist, self.max_rows)

    def fit(self, X, y=None):
        self._check_params()
        X = self._validate_fit_input(X)
        out, self.model_ = distribution_clustering(
            X, thres=self.thres, min_size=self.min_size, max_dist=self.max_dist, center=self.center,
            max_rows=self.max_rows, random_state=resolve_seed(self.random_state), device=self.device,
            return_model=True)
        self.labels_dc_ = out.labels
        self.variances_ = out.variances
        self.info_ = out.info
        mean = None if self.model_.center_ is None else self.model_.center_.ravel()
        Xn = normalise_rows(X, center=self.center, mean=mean)
        k = out.n_clusters
        self.centres_ = _centres(Xn, out.labels, k)
        # level of each cluster id (1..k) by variance; id 0 (unclustered) above all
        self.level_ = np.zeros(k + 1, dtype=np.int64)
        self.level_[1:] = np.argsort(np.argsort(out.variances, kind="stable"), kind="stable")
        self.level_[0] = k
        self.decision_scores_ = self._level_scores(Xn, out.labels)
        self._set_threshold()
        return self

    def _level_scores(self, Xn: np.ndarray, labels: np.ndarray) -> np.ndarray:
        """Chunk by chunk: the n x k distances to the centres are never held at once."""
        c = self.centres_
        c_sq = (c ** 2).sum(1)
        out = np.empty(Xn.shape[0])
        step = rows_per_block(Xn.shape[1])
        for s in range(0, Xn.shape[0], step):
            x = Xn[s:s + step].astype(np.float64)
            lab = labels[s:s + step]
            d2 = np.maximum(np.einsum("ij,ij->i", x, x)[:, None] + c_sq[None, :] - 2.0 * x @ c.T, 0.0)
            own = np.where(lab > 0, d2[np.arange(lab.size), np.maximum(lab - 1, 0)], d2.min(1))
            out[s:s + step] = 4.0 * self.level_[lab] + np.minimum(own, 4.0 - 1e-9)
        return out

    def _score(self, X: np.ndarray) -> np.ndarray:
        labels, _ = self.model_.attach(X)
        mean = None if self.model_.center_ is None else self.model_.center_.ravel()
        return self._level_scores(_normalise_lenient(X, mean), labels)
