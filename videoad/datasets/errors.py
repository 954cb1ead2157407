"""The error every ground-truth reader raises (videoad.datasets.annotations, .frame_labels)."""
from __future__ import annotations


class AnnotationError(ValueError):
    """A ground-truth file that cannot be read as asked; the message names file, line and problem."""
