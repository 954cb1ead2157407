"""DUAD on your own table: fit, score, threshold, save and reload.

    .venv/bin/python examples/tabular_detector.py

Uses scikit-learn's digits (digit 0 normal, a few other digits mixed in) so that it runs offline.
"""
import tempfile

import numpy as np
from sklearn.datasets import load_digits
from sklearn.metrics import roc_auc_score

from videoad.baselines import PCARecon
from videoad.detector import DUAD

X, y = load_digits(return_X_y=True)
rng = np.random.default_rng(0)
normal = np.flatnonzero(y == 0)
mixed_in = rng.choice(np.flatnonzero(y != 0), 10, replace=False)
idx = np.concatenate([normal, mixed_in])
X, is_anomaly = X[idx] / 16.0, (y[idx] != 0).astype(int)

det = DUAD(p0=25, p=20, r=5, lr=1e-3, batch_size=64, contamination=0.05, random_state=0).fit(X)
print("stopped:", det.stop_reason_, "after", det.n_reselections_, "reselections")
for h in det.history_:
    print(f"  step {h['step']}: {h['selected']} rows selected (+{h['entered']} / -{h['left']})")
print(f"DUAD AUROC {roc_auc_score(is_anomaly, det.decision_scores_):.3f}")
print(f"PCA  AUROC {roc_auc_score(is_anomaly, PCARecon(8).fit(X).decision_scores_):.3f}")
print("flagged rows:", np.flatnonzero(det.labels_))

with tempfile.TemporaryDirectory() as tmp:
    det.save(f"{tmp}/duad-digits.pt")
    again = DUAD.load(f"{tmp}/duad-digits.pt")
assert np.array_equal(again.decision_function(X), det.decision_function(X))
print("reloaded model scores identically")
