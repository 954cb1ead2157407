"""videoad: unsupervised anomaly detection for surveillance video."""
__version__ = "0.1.0"

#: what a Ctrl-C before a command began says (while the command line loads, or Click parses its
#: arguments), with exit status 130 as a shell's: `videoad.__main__.run`, `videoad.cli._Commands`
LOADING_INTERRUPTED = "interrupted before the command began: nothing was written"
