"""`videoad demo`: the README's main command (placeholder until the video pipeline lands).

Runs DUAD on scikit-learn's digits (digit 4 normal, 5% other digits as anomalies: data that
ships inside a dependency, so nothing downloads) and prints its AUROC beside PCA's.
"""
from __future__ import annotations

import click


def digits_demo(seed: int = 0) -> dict:
    import numpy as np
    from sklearn.datasets import load_digits
    from sklearn.metrics import roc_auc_score

    from videoad.baselines import PCARecon
    from videoad.detector import DUAD

    X, y = load_digits(return_X_y=True)
    rng = np.random.default_rng(seed)
    normal = np.flatnonzero(y == 4)
    others = np.flatnonzero(y != 4)
    anomalies = rng.choice(others, int(round(normal.size * 0.05 / 0.95)), replace=False)
    idx = np.concatenate([normal, anomalies])
    X, truth = X[idx] / 16.0, (y[idx] != 4).astype(int)
    det = DUAD(p0=25, p=20, r=5, lr=1e-3, batch_size=64, random_state=seed).fit(X)
    pca = PCARecon(8, random_state=seed).fit(X)
    return {"rows": int(X.shape[0]), "anomalies": int(truth.sum()),
            "duad_auroc": float(roc_auc_score(truth, det.decision_scores_)),
            "pca_auroc": float(roc_auc_score(truth, pca.decision_scores_)),
            "stop_reason": det.stop_reason_, "reselections": det.n_reselections_}


@click.command("demo")
@click.option("--data", type=click.Choice(["digits"]), default="digits", show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
def demo(data: str, seed: int) -> None:
    """Run the detector on an embedded data set and print its AUROC."""
    res = digits_demo(seed)
    click.echo(f"digits: {res['rows']} rows, {res['anomalies']} anomalies (digit 4 normal)")
    click.echo(f"DUAD AUROC {res['duad_auroc']:.4f} ({res['stop_reason']} after {res['reselections']} reselections); "
               f"PCA-8 AUROC {res['pca_auroc']:.4f}")
