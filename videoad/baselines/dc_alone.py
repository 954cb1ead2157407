"""Distribution Clustering alone as an anomaly detector (the "DC" row of the paper's Table 4).

Why: DUAD's premise is that anomalies fall outside compact clusters or into spread-out ones.
Scoring rows by that premise alone, without any autoencoder, measures what the clustering step
contributes on its own. Score, lexicographic in two parts:
- the level: the rank of the row's cluster by variance (0 = tightest); unclustered rows get the
  level above every cluster;
- inside a level: the squared distance to the row's cluster centre (unclustered rows: to the
  nearest centre), in the L2-normalised space DC works in (always < 4).
score = 4 * level + distance, so every unclustered row outranks every clustered one.
New rows are attached to clusters by DC's own two tests (`DCModel.attach`).
"""
from __future__ import annotations

import numpy as np

from videoad.detector.base import BaseDetector, resolve_seed
from videoad.detector.distribution_clustering import distribution_clustering, normalise_rows


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

    def fit(self, X, y=None):
        X = self._validate_fit_input(X)
        out, self.model_ = distribution_clustering(
            X, thres=self.thres, min_size=self.min_size, max_dist=self.max_dist, center=self.center,
            max_rows=self.max_rows, random_state=resolve_seed(self.random_state), device=self.device,
            return_model=True)
        self.labels_dc_ = out.labels
        self.variances_ = out.variances
        self.info_ = out.info
        Xn = normalise_rows(X, center=self.center).astype(np.float64)
        k = out.n_clusters
        if k:
            self.centres_ = np.stack([Xn[out.labels == c + 1].mean(0) for c in range(k)])
        else:  # nothing clustered: one reference direction, the mean row
            self.centres_ = Xn.mean(0, keepdims=True)
        # level of each cluster id (1..k) by variance; id 0 (unclustered) above all
        self.level_ = np.zeros(k + 1, dtype=np.int64)
        self.level_[1:] = np.argsort(np.argsort(out.variances, kind="stable"), kind="stable")
        self.level_[0] = k
        self.decision_scores_ = self._score(Xn, out.labels)
        self._set_threshold()
        return self

    def _score(self, Xn: np.ndarray, labels: np.ndarray) -> np.ndarray:
        c = self.centres_
        d2 = np.maximum((Xn ** 2).sum(1)[:, None] + (c ** 2).sum(1)[None, :] - 2.0 * Xn @ c.T, 0.0)
        own = np.where(labels > 0, d2[np.arange(labels.size), np.maximum(labels - 1, 0)], d2.min(1))
        return 4.0 * self.level_[labels] + np.minimum(own, 4.0 - 1e-9)

    def decision_function(self, X) -> np.ndarray:
        X = self._validate_score_input(X)
        labels, _ = self.model_.attach(X)
        Xc = X.astype(np.float64) - (self.model_.center_ if self.model_.center_ is not None else 0.0)
        norms = np.linalg.norm(Xc, axis=1, keepdims=True)
        Xn = Xc / np.where(norms > 0, norms, 1.0)
        return self._score(Xn, labels)
