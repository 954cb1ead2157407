"""Where the shared real data lives, and what a test does when it is not there.

The data sits in `../shared/data` beside the checkout (as in CI); `VIDEOAD_DATA` points
elsewhere. A plain clone has no such folder: tests that need it call `shared(...)`, which skips
them with the missing path as the reason. CI must not pass by skipping, so under `CI=true` or
`VIDEOAD_REQUIRE_DATA=1` (which `.ci/run` sets) a missing path fails the test instead.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest


def _locate() -> Path:
    override = os.environ.get("VIDEOAD_DATA")
    if override:
        return Path(override)
    beside = Path(__file__).resolve().parents[2] / "shared" / "data"
    if not beside.is_dir() and Path("/work/shared/data").is_dir():
        return Path("/work/shared/data")  # a checkout elsewhere on this project's machines
    return beside


SHARED = _locate()


def data_required() -> bool:
    """True where a missing data folder is an error (CI), not a reason to skip."""
    flag = lambda name: os.environ.get(name, "").strip().lower() in ("1", "true", "yes")  # noqa: E731
    return flag("CI") or flag("VIDEOAD_REQUIRE_DATA")


def shared(*parts: str) -> Path:
    """`SHARED / parts`, or skip the calling test (fail it under CI) when that path is missing."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        why = (f"needs the shared data: {path} is missing (put the data in ../shared/data "
               "beside the checkout, or set VIDEOAD_DATA)")
        if data_required():
            pytest.fail(why + "; CI=true / VIDEOAD_REQUIRE_DATA=1 forbids skipping", pytrace=False)
        try:  # report the skip at the test (`-rs` names it), not at this line
            skip = pytest.skip.Exception(why, _use_item_location=True)
        except TypeError:  # a pytest without that option: the reason still names the path
            skip = pytest.skip.Exception(why)
        raise skip
    return path
