"""The paper's detector core: DUAD and its pluggable initial clusterers."""
from videoad.detector.duad import DUAD
from videoad.detector.persistence import load_detector, save_detector

__all__ = ["DUAD", "load_detector", "save_detector"]
