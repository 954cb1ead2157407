"""Stage 1: videos -> 16-frame clips -> features in an HDF5 store. Never imports videoad."""
__version__ = "0.1.0"
