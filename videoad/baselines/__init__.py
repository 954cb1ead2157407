"""Baselines behind the same estimator contract as DUAD (higher score = more anomalous)."""
from videoad.baselines.dagmm import DAGMM
from videoad.baselines.dc_alone import DCAlone
from videoad.baselines.sklearn_baselines import IForest, KNNDist, OCSVM, PCARecon

__all__ = ["DAGMM", "DCAlone", "IForest", "KNNDist", "OCSVM", "PCARecon"]
