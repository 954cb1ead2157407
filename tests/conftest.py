"""Hooks for running the suite in parallel (`make test` runs it with pytest-xdist, `-n 2 --dist loadgroup`)."""
from __future__ import annotations

import pytest


def _utf8(text: str) -> str:
    """`text`, with what UTF-8 cannot encode (a file name's surrogate escapes) written as `\\udcxx`."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """xdist sends each report from its worker as UTF-8: a captured log naming a file whose name is
    not UTF-8 (tests/test_watch.py) stopped the whole run with an INTERNALERROR (DumpError)."""
    report = (yield).get_result()
    report.sections = [(name, _utf8(content)) for name, content in report.sections]
    if report.failed and isinstance(report.longrepr, str):
        report.longrepr = _utf8(report.longrepr)
