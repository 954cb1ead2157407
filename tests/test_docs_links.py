"""Every relative link in README.md and docs/*.md names a file that exists and, with `#anchor`, a
heading of that file (GitHub's rule: lowercase, punctuation but hyphens and spaces dropped, spaces
to hyphens, a repeated heading numbered -1, -2). The README's long sections moved to docs/; a link
that moved with them, or one into a section that moved, must follow it."""
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PAGES = [REPO / "README.md"] + sorted((REPO / "docs").glob("*.md"))


def _unfenced(text: str) -> str:
    """The text without fenced code blocks (a `#` there is a comment, not a heading)."""
    return re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)


def _prose(text: str) -> str:
    """The text without code, fenced or inline, where brackets are not links."""
    return re.sub(r"`[^`\n]*`", "", _unfenced(text))


def slug(heading: str) -> str:
    heading = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading.replace("`", ""))
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    out, seen = set(), {}
    for m in re.finditer(r"^#{1,6}\s+(.*?)\s*#*\s*$", _unfenced(page.read_text()), flags=re.M):
        s = slug(m.group(1))
        out.add(s if s not in seen else f"{s}-{seen[s]}")
        seen[s] = seen.get(s, 0) + 1
    return out


def test_slug_is_githubs():
    assert slug("Dependencies, and where a requested one is broken") == "dependencies-and-where-a-requested-one-is-broken"
    assert slug("Images: MNIST and CIFAR-10 raw pixels (paper Tables 4, 7, 8)") == \
        "images-mnist-and-cifar-10-raw-pixels-paper-tables-4-7-8"
    assert slug("`videoad run`: one's own footage") == "videoad-run-ones-own-footage"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(REPO).as_posix())
def test_every_relative_link_resolves(page):
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", _prose(page.read_text())):
        if re.match(r"[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        file = (page.parent / path) if path else page
        if not file.exists():
            broken.append(f"{target}: no such file")
        elif anchor and (file.suffix != ".md" or anchor not in anchors(file)):
            broken.append(f"{target}: no heading #{anchor} in {file.relative_to(REPO)}")
    assert not broken, f"{page.relative_to(REPO)}: " + "; ".join(broken)
