"""videoad: unsupervised anomaly detection for surveillance video."""
__version__ = "0.1.0"
