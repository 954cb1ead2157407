"""Clip feature backbones behind one interface (see `base.Backbone`) and a name registry.

Backbones are registered by "module:Class" strings and imported only when asked for, so that
`motion` works on a machine without torchvision, and a backbone whose module is missing or
broken fails when (and only when) that name is requested.
"""
from __future__ import annotations

import importlib
from typing import Any

from .base import Backbone

__all__ = ["Backbone", "BackboneUnavailable", "UnknownOption", "available_backbones", "get_backbone",
           "recorded_options", "register_backbone"]

_TORCHVISION = "extract.backbones.torchvision_nets:TorchvisionBackbone"
_PTV = "extract.backbones.ptv_nets:PTVBackbone"

#: name -> (import target, fixed keyword arguments)
_REGISTRY: dict[str, tuple[str, dict[str, Any]]] = {
    "motion": ("extract.backbones.motion:MotionBackbone", {}),
    "c3d": ("extract.backbones.c3d:C3DBackbone", {}),
    **{arch: (_TORCHVISION, {"arch": arch}) for arch in ("r3d_18", "mc3_18", "r2plus1d_18", "s3d")},
    # the pytorchvideo networks PTVBackbone builds (its ARCHS; x3d_l, i3d_r50, ... were listed and
    # then refused as "unknown pytorchvideo arch")
    **{arch: (_PTV, {"arch": arch}) for arch in ("x3d_xs", "x3d_s", "x3d_m", "slow_r50")},
}


#: options a backbone gained after stores and models were written, with the value a record
#: without them stands for (the features then were made that way)
OPTIONS_BEFORE: dict[str, dict[str, Any]] = {"motion": {"cuts": "keep", "stabilize": False}}


def recorded_options(name: str, options: dict[str, Any] | None) -> dict[str, Any] | None:
    """A store's or a model's recorded backbone options, the options added since filled in with
    what the features were made with then: an older record compares and rebuilds as it was made."""
    if not isinstance(options, dict):
        return options
    # a leave recorded by an older version (allow_pickle, download) is no setting of the features:
    # a store resumed today holds videos with and without it, extracted alike
    return {k: v for k, v in {**OPTIONS_BEFORE.get(name, {}), **options}.items() if k not in PERMISSIONS}


class UnknownOption(TypeError, ValueError):
    """An option the backbone does not take, with the ones it does (a TypeError, as Python's own for
    an unexpected keyword argument, and a ValueError, as every other bad option)."""


class BackboneUnavailable(ImportError):
    """A registered backbone whose module cannot be imported here (missing extra, not written)."""


def register_backbone(name: str, target: str, **fixed_kwargs: Any) -> None:
    """Add or replace a backbone: `target` is "package.module:Class"."""
    if ":" not in target:
        raise ValueError(f"target must be 'package.module:Class', got {target!r}")
    _REGISTRY[name] = (target, dict(fixed_kwargs))


def available_backbones() -> list[str]:
    """Registered names (whether their modules import is only known when one is requested)."""
    return sorted(_REGISTRY)


def get_backbone(name: str, **kwargs: Any) -> Backbone:
    """Build the backbone registered as `name` with keyword arguments (device=, weights=, ...)."""
    try:
        target, fixed = _REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown backbone {name!r}; known: {', '.join(available_backbones())}"
                         ) from None
    module_name, _, class_name = target.partition(":")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as exc:
        raise BackboneUnavailable(
            f"backbone {name!r} needs {target}, which cannot be imported here: {exc}") from exc
    try:
        backbone = cls(**fixed, **kwargs)
    except TypeError:  # an option the backbone does not take: say which ones it does
        import inspect

        known = sorted(p for p in inspect.signature(cls).parameters if p not in fixed and p not in ("self", "device"))
        unknown = sorted(k for k in kwargs if k not in inspect.signature(cls).parameters)
        if not unknown:
            raise
        exc = UnknownOption(f"backbone {name!r} has no option {', '.join(map(repr, unknown))}; its options: "
                            f"{', '.join(known)}")
        exc.unknown = tuple(unknown)  # which ones, for a caller that names where they came from
        raise exc from None
    backbone.registry_name = name
    backbone._given_options = {k: _plain(v, k in _FILE_OPTIONS) for k, v in kwargs.items() if k not in PERMISSIONS}
    return backbone


#: options that give leave rather than change the features (to unpickle a trusted weights file, to
#: fetch a published one): not recorded with the features, so that no store or model folder carries
#: the leave to a later process (`videoad watch` rebuilding the backbone from models.json ran a
#: replaced file's code), nor compared between a history and new footage
PERMISSIONS = ("allow_pickle", "download")


#: keyword arguments that may name a file (weights, C3D's mean cube)
_FILE_OPTIONS = ("weights", "mean")


def _plain(value: Any, may_be_file: bool = False) -> Any:
    """A keyword argument as JSON can keep it: a file becomes an absolute path (a weights file
    named relative to one folder must still be found from another)."""
    import os
    from pathlib import Path

    if isinstance(value, os.PathLike) or (may_be_file and isinstance(value, str) and value
                                          and Path(value).expanduser().is_file()):
        return str(Path(value).expanduser().resolve())
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool, dict)):
        return value
    return str(value)
