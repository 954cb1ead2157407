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


MOVED = ["cli.md", "results.md", "throughput.md", "detector.md", "limitations.md"]


def _headings(page: Path) -> list[tuple[int, str]]:
    return [(len(m.group(1)), m.group(2)) for m in
            re.finditer(r"^(#{1,6})\s+(.*?)\s*#*\s*$", _unfenced(page.read_text()), flags=re.M)]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(REPO).as_posix())
def test_one_title_then_each_level_one_deeper_at_most(page):
    """A page is `# title`, then `##`, `###`: the README's sections moved to docs/ one level up."""
    levels = [level for level, _ in _headings(page)]
    assert page.read_text().lstrip().startswith("# ") and levels.count(1) == 1, page.name
    assert all(b <= a + 1 for a, b in zip(levels, levels[1:])), (page.name, levels)


@pytest.mark.parametrize("name", MOVED)
def test_a_moved_page_says_what_it_holds_and_links_back(name):
    """A reader lands on a moved page from a link: its opening paragraph (before any list, table or
    heading) says in two sentences or more what the page holds and links to the README's section.
    Before, each opened with one line, 'Moved from the README, which keeps ...'."""
    text = (REPO / "docs" / name).read_text()
    opening = text.split("\n\n")[1]
    assert not opening.lstrip().startswith(("-", "|", "#")), name
    assert len(re.findall(r"[\w)`]\.(?:\s|$)", _prose(opening))) >= 2, opening
    assert re.search(r"\]\(\.\./README\.md#[\w-]+\)", opening), opening


@pytest.mark.parametrize("name", ["cli.md", "results.md"])
def test_a_long_page_opens_with_its_contents(name):
    """docs/cli.md and docs/results.md run to thousands of words: before their first section a
    list links to every `##` section, in order."""
    page = REPO / "docs" / name
    text = _unfenced(page.read_text())
    head = text[:text.index("\n## ")]
    listed = re.findall(r"^- \[[^\]]+\]\(#([\w-]+)\)$", head, flags=re.M)
    assert listed == [slug(h) for level, h in _headings(page) if level == 2]


def test_no_page_names_a_section_of_another_page_by_its_place():
    """'docs/guard.md, last section' stopped being true as sections were added after it (the
    detector's snapshots, the limitations' 'what a settled fit misses'); a section of another page
    is named by a link to its heading."""
    found = []
    for page in PAGES:
        for m in re.finditer(r"\.md\)?[,:]?\s+\(?(last|next|previous|first)(\s+two)?\s+sections?\b",
                             _prose(page.read_text())):
            found.append(f"{page.relative_to(REPO)}: ...{m.group(0)}")
    assert not found, found


POSITIONAL = re.compile(
    r"\b(?:last|next|previous)\s+(?:two\s+)?sections?\b"      # "last section", "next section"
    r"|\bsections?\s+(?:above|below)\b"                      # "the section above"
    r"|\bsection\s+(?:after|before)\s+this\s+one\b"          # "the section after this one"
    r"|\bsection\s+\"[^\"]+\",\s+last\b",                     # 'the section "Where ...", last'
    flags=re.I)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(REPO).as_posix())
def test_no_page_names_its_own_sections_by_their_place(page):
    """docs/defaults.md's table said 'last section' for the alarm line, the cap on fitted rows, the
    cell calibration, the camera's motion...: each true when written, each wrong once later
    sections were added. A section is named by a link to its heading, on the same page too."""
    prose = _prose(page.read_text())
    found = [" ".join(prose[max(0, m.start() - 60):m.end()].split()) for m in POSITIONAL.finditer(prose)]
    assert not found, f"{page.relative_to(REPO)}: {found}"
