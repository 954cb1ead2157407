"""The docs are true about the command line.

Every `videoad ...` command line in README.md and docs/*.md, in fenced code and inline code (and an
inline `detect --fit-on HISTORY`, a command named without the `videoad` before it), is parsed with
the real click commands of `videoad.cli`, without running them: a subcommand that does not exist, an
option the command does not have, a value its type refuses (`--tail pads`, `--thumbnails many`) fail,
naming the file, the line and the option. Placeholders are taken as they are meant (`FEATURES`,
`--seed N`, `[--annotations GT]`, `--per-video|--pooled`), and paths are not looked up (`--config
my.yaml` need not exist here).

Every option of every command has its line in that command's subsection of docs/cli.md's "Every
option, by command" (what it takes, its default: checked against the code); and every settings key
an inline YAML snippet shows (`history_drop: 1`, `duad_by_features.motion.restarts: 1`) is one that
a settings file of some command takes (the schemas of `videoad.config`'s readers, the detect
settings and the registered detectors' arguments).
"""
from __future__ import annotations

import copy
import functools
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import click
import pytest

REPO = Path(__file__).resolve().parent.parent
PAGES = [REPO / "README.md"] + sorted((REPO / "docs").glob("*.md"))

#: options no page needs to name, each with the reason; kept as short as it can be (a test checks
#: that each one is still an option of its command)
NOT_DOCUMENTED = {
    ("bench", "images", "--out"): "hidden: the old spelling of -o/--output, kept for old scripts",
    ("bench", "kddcup", "--out"): "hidden: the old spelling of -o/--output, kept for old scripts",
    ("bench", "scale", "--out"): "hidden: the old spelling of -o/--output, kept for old scripts",
    ("bench", "scale", "--child"): "hidden: the benchmark's own child processes take it, no user",
}


@dataclass
class Line:
    page: str
    line: int
    text: str

    def where(self) -> str:
        return f"{self.page}:{self.line}"


# ---------------------------------------------------------------------------------------------
# the command lines of the docs
_FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.S | re.M)
_SHELL_STOPS = {"|", "||", "&", "&&", ";", ">", ">>", "<", "(", ")", "2>", "2>&1"}


def _fenced_lines(page: Path) -> list[Line]:
    """Each line of the page's fenced blocks, a line ending in `\\` joined with the next."""
    text, out = page.read_text(), []
    for m in _FENCE.finditer(text):
        first = text.count("\n", 0, m.start(1)) + 1
        pending, start = "", None
        for i, raw in enumerate(m.group(1).splitlines()):
            start = first + i if start is None else start
            if raw.rstrip().endswith("\\"):
                pending += raw.rstrip()[:-1] + " "
                continue
            out.append(Line(_page_name(page), start, pending + raw))
            pending, start = "", None
    return out


def _inline_spans(page: Path) -> list[Line]:
    """The page's inline code spans outside the fenced blocks (a span may wrap onto the next line)."""
    text = page.read_text()
    blanked = _FENCE.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)
    out = []
    for m in re.finditer(r"(?<!`)`([^`]+?)`(?!`)", blanked):
        if "\n\n" in m.group(1):
            continue
        out.append(Line(_page_name(page), blanked.count("\n", 0, m.start()) + 1, m.group(1).replace("\n", " ")))
    return out


def _page_name(page: Path) -> str:
    return page.relative_to(REPO).as_posix()


def _unbracket(text: str) -> str:
    """A synopsis' `[--opt X]` and `[--a|--b]` as the words they hold (each one given)."""
    return re.sub(r"\[(-[^\]]*)\]", lambda m: " " + m.group(1).replace("|", " ") + " ", text)


def _words(text: str) -> list[str] | None:
    lexer = shlex.shlex(_unbracket(text), posix=True, punctuation_chars=";&|<>()")
    lexer.whitespace_split, lexer.commenters = True, "#"
    try:
        return list(lexer)
    except ValueError:  # an unclosed quote: not a command line (or one to fix by hand)
        return None


def command_lines(text: str, top: dict[str, set[str]], bare: bool) -> list[list[str]]:
    """The argument lists of the videoad commands in `text` (the words after `videoad`); with `bare`,
    also a text that starts with a subcommand's name (`top`: each one's own subcommands) and goes on
    with an option or one of its subcommands."""
    words = _words(text)
    if not words:
        return []
    out = []
    starts = [i for i, w in enumerate(words) if w == "videoad" or w.endswith("/videoad")]
    if bare:  # inline code: `videoad` first (after VAR=value settings, `time`), not in an error's words
        lead = next((i for i, w in enumerate(words) if not (re.fullmatch(r"[A-Z_]+=\S*", w) or w == "time")), 0)
        starts = [i for i in starts if i == lead or (i == lead + 2 and words[lead:i] == ["python", "-m"])]
    if bare and not starts and words[0] in top and len(words) > 1 and (words[1].startswith("-")
                                                                       or words[1] in top[words[0]]):
        starts, words = [0], ["videoad"] + words
    for i in starts:
        args = []
        for w in words[i + 1:]:
            if w in _SHELL_STOPS:
                break
            args.append(w)
        out.append(args)
    return out


# ---------------------------------------------------------------------------------------------
# parsing a command line with the real commands, running nothing
def _placeholder(value: str) -> bool:
    """A value the docs stand for one of the reader's (`N`, `FEATURES`, `i/N`, `${SLURM_...}`, `...`)."""
    return bool(re.fullmatch(r"[A-Z][A-Z0-9_]*(\.\.\.)?|\.\.\.|i/N|.*\$\{?[A-Z_].*|.*<[^>]+>.*", value))


def _check_value(param: click.Parameter, value, ctx) -> str | None:
    """Why the type of `param` refuses `value` (None: it takes it, or it is a placeholder)."""
    if param.is_flag if isinstance(param, click.Option) else False:
        return None
    values = value if isinstance(value, (list, tuple)) else [value]
    kind = param.type
    if isinstance(kind, click.Path):  # a path of the reader's machine: its form only
        kind = copy.copy(kind)
        kind.exists = False
    for v in values:
        if not isinstance(v, str) or _placeholder(v):
            continue
        try:
            kind.convert(v, param, ctx)
        except click.BadParameter as exc:
            return exc.format_message()
    return None


@functools.cache
def named_values() -> dict[tuple[str, ...], tuple[set[str], object]]:
    """Options of the text type that take one of a set of names (comma-separated, for a list), which
    the command checks in its body: (command..., option) -> (the names, how a name is spelt there)."""
    from extract.backbones import available_backbones
    from videoad.bench import images, scale
    from videoad.detector import registry

    def same(name):
        return name

    return {("extract", "--backbone"): (set(available_backbones()), same),
            ("detect", "--detector"): (set(registry.names()), same),
            ("bench", "images", "--datasets"): (set(images.DATASETS), str.lower),
            ("bench", "images", "--tables"): (set(images.TABLES), str.lower),
            ("bench", "scale", "--datasets"): (set(scale.DATASETS), same),
            ("bench", "scale", "--methods"): (set(scale.METHODS), scale.method_name)}


def _check_names(path: list[str], param: click.Parameter, value) -> str | None:
    known = named_values().get((*path[1:], max(param.opts, key=len)))
    if known is None or not isinstance(value, str) or _placeholder(value):
        return None
    names, spelt = known
    bad = [v.strip() for v in value.split(",") if v.strip() and spelt(v.strip()) not in names]
    return f"not one of {sorted(names)}: {bad}" if bad else None


def parse(args: list[str]) -> list[str]:
    """The problems of `videoad ARGS` as the real command line reads it (empty: none)."""
    from videoad.cli import cli

    command, path, problems, parent = cli, ["videoad"], [], None
    while True:
        ctx = click.Context(command, info_name=path[-1], parent=parent)
        parser = command.make_parser(ctx)
        try:
            opts, rest, order = parser.parse_args(list(args))
        except click.NoSuchOption as exc:
            return problems + [f"`{' '.join(path)}` has no option {exc.option_name}"]
        except click.BadOptionUsage as exc:  # an option without its value, a flag given one
            if args and args[-1] == exc.option_name and "requires an argument" in exc.message:
                args = list(args) + ["X"]  # inline prose naming an option alone: `detect --fit-on`
                continue
            return problems + [f"`{' '.join(path)}`: {exc.format_message()}"]
        except click.UsageError as exc:
            return problems + [f"`{' '.join(path)}`: {exc.format_message()}"]
        for param in dict.fromkeys(order):
            if param.name in opts and isinstance(param, click.Option):
                why = _check_value(param, opts[param.name], ctx) or _check_names(path, param, opts[param.name])
                if why:
                    problems.append(f"`{' '.join(path)}` {max(param.opts, key=len)} {opts[param.name]!r}: {why}")
        if not isinstance(command, click.Group):
            if rest:
                problems.append(f"`{' '.join(path)}` takes no further argument: {rest}")
            return problems
        if not rest:
            return problems
        name = rest[0]
        if _placeholder(name) or name == "CMD":
            return problems
        sub = command.get_command(ctx, name)
        if sub is None:
            return problems + [f"`{' '.join(path)}` has no subcommand {name!r}"]
        command, path, args, parent = sub, path + [name], rest[1:], ctx


# ---------------------------------------------------------------------------------------------
# the commands and their options
@functools.cache
def all_commands() -> dict[tuple[str, ...], click.Command]:
    from videoad.cli import cli

    out = {}

    def walk(command, path):
        out[path] = command
        if isinstance(command, click.Group):
            ctx = click.Context(command, info_name=path[-1] if path else "videoad")
            for name in command.list_commands(ctx):
                walk(command.get_command(ctx, name), path + (name,))

    walk(cli, ())
    return out


@functools.cache
def doc_lines() -> list[tuple[Line, list[str]]]:
    from videoad.cli import cli

    top = {name: set(getattr(c, "list_commands", lambda ctx: [])(None)) for name, c in cli.commands.items()}
    out = []
    for page in PAGES:
        for line in _fenced_lines(page):
            out += [(line, args) for args in command_lines(line.text, top, bare=False)]
        for span in _inline_spans(page):
            out += [(span, args) for args in command_lines(span.text, top, bare=True)]
    return out


def test_the_reader_finds_the_docs_command_lines():
    """The extraction itself: enough command lines found, of every kind of writing the pages use."""
    found = doc_lines()
    assert len(found) > 150
    texts = [" ".join(args) for _, args in found]
    assert "detect FEATURES --per-video --per-category --per-camera --pooled --config FILE -o SCORES" in texts
    assert any(t.startswith("extract") and "--shard ${SLURM_ARRAY_TASK_ID}/32" in t for t in texts)
    assert "evaluate scores/ --annotations GT.txt --json -" in texts  # stops at the pipe


def test_parse_names_what_is_wrong():
    """The checker itself, on lines made wrong on purpose."""
    assert parse(["detect", "FEATURES", "-o", "SCORES", "--fit-on", "HISTORY"]) == []
    assert parse(["extract", "v/", "-o", "f/", "--tail", "pad", "--stride", "N"]) == []
    assert "has no option --fit-onn" in parse(["detect", "F", "--fit-onn", "H"])[0]
    assert "no subcommand 'detekt'" in parse(["detekt", "F"])[0]
    assert "no subcommand 'kdd'" in parse(["bench", "kdd"])[0]
    assert "--tail 'pads'" in parse(["extract", "v/", "--tail", "pads"])[0]
    assert "--thumbnails 'many'" in parse(["plot", "s/", "--thumbnails", "many"])[0]
    assert "--min-event '-1'" in parse(["run", "x/", "--min-event", "-1"])[0]
    assert "['c4d']" in parse(["extract", "v/", "--backbone", "c4d"])[0]
    assert "['PCB']" in parse(["bench", "scale", "--methods", "DUAD,PCB"])[0]
    assert parse(["bench", "scale", "--methods", "DUAD,iforest,DC alone"]) == []


@pytest.mark.parametrize("page", PAGES, ids=_page_name)
def test_every_command_line_parses(page):
    problems = [f"{line.where()}: {why}  [{line.text.strip()}]"
                for line, args in doc_lines() if line.page == _page_name(page) for why in parse(args)]
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------------------------------------
# the reference: docs/cli.md's "Every option, by command", a subsection per command
REFERENCE_PAGE = REPO / "docs" / "cli.md"
REFERENCE_HEADING = "## Every option, by command"


def _number(x) -> str:
    """A bound or default as the reference writes it: 2.0 as 2, 604800 s as a week, 2**31 - 1 as such."""
    if isinstance(x, float) and x.is_integer():
        x = int(x)
    named = {604800: "a week", 2**31 - 1: "2^31 - 1", 2**32 - 1: "2^32 - 1"}
    if isinstance(x, int) and x in named:
        return named[x]
    return f"{x:,}" if isinstance(x, int) and abs(x) >= 10000 else str(x)


def kind_of(p: click.Option) -> str:
    """What the option takes, as the reference's item says it first: `flag`, `one of `a`, `b``,
    `whole number, 1 to 2^31 - 1`, `number, over 0, at most a week`, `file`, `folder`, `path`, `text`."""
    t = p.type
    if p.is_flag or p.count:
        return "flag" if p.is_flag else "count"
    if isinstance(t, click.Choice):
        return "one of " + ", ".join(f"`{c}`" for c in t.choices)
    if isinstance(t, click.Path):
        return "folder" if not t.file_okay else "file" if not t.dir_okay else "path"
    if not isinstance(t, (click.IntRange, click.FloatRange)):
        return "text"
    word = "whole number" if isinstance(t, click.IntRange) else "number"
    low, high, low_open, high_open = t.min, t.max, t.min_open, t.max_open
    lower = None if low is None else f"{'over' if low_open else 'at least'} {_number(low)}"
    upper = None if high is None else f"{'under' if high_open else 'at most'} {_number(high)}"
    if lower and upper and not (low_open or high_open):
        span = f"{_number(low)} to {_number(high)}"
    else:
        span = ", ".join(filter(None, (lower, upper)))
    return f"{word}, {span}" if span else word


def machine_default(p: click.Option):
    """The option's default as the command takes it when the option is not given, where the code holds
    one: click's own, or for an option read over a settings file (`SettingOption`) that setting's
    packaged value; None where the default is the outcome of a rule the help text words (`[default:
    the backbone's ...]`) or a plain flag's off."""
    from videoad.cli.settings import SettingOption

    value = p.default
    if isinstance(p, SettingOption):
        value = p.setting_default()
        value = None if value == [] else value  # an empty list: none, worded as --help words it
    if value is None or type(value).__name__ == "Sentinel" or (isinstance(value, bool) and not p.secondary_opts):
        return None
    if p.count and value == 0:
        return 0
    return value


def _same_default(stated: str, value, p: click.Option) -> bool:
    if isinstance(value, bool):
        return stated == (p.opts if value else p.secondary_opts)[0]
    if isinstance(value, (int, float)):
        try:
            return float(stated.replace(",", "")) == float(value)
        except ValueError:
            return False
    if isinstance(value, (list, tuple)):
        return stated == ",".join(map(str, value))
    return stated == ('""' if value == "" else str(value))


def _shown(value, p: click.Option) -> str:
    if isinstance(value, bool):
        return (p.opts if value else p.secondary_opts)[0]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _number(value)
    if isinstance(value, (list, tuple)):
        return ",".join(map(str, value))
    return '""' if value == "" else str(value)


def help_default(p: click.Option) -> str | None:
    """The `[default: ...]` the option's --help text words, if any (a settings option's as --help shows it)."""
    from videoad.cli.settings import SettingOption

    if isinstance(p, SettingOption):  # it words its default when the help is shown
        p.get_help_record(click.Context(click.Command("videoad")))
    m = re.search(r"\[default: ([^\]]*)\]", p.help or "")
    return m.group(1) if m else None


@dataclass
class Item:
    """One option's line of the reference: `- `SPELLINGS METAVAR` (FIELDS): what it does.`"""
    line: int
    spellings: set[str]
    fields: list[str]
    text: str


def _fields(rest: str) -> tuple[list[str], str] | None:
    """`(a; b (c); d): sentence` -> ([a, b (c), d], sentence), splitting at the outer level; a worded
    default, `default: ...`, runs to the closing bracket (--help's own may hold a `;`)."""
    if not rest.startswith("("):
        return None
    depth, field, out = 0, "", []
    for i, ch in enumerate(rest):
        depth += ch == "("
        depth -= ch == ")"
        if depth == 0:
            return out + [field.strip()], rest[i + 1:].lstrip(": ")
        if depth == 1 and ch == ";" and rest[i + 1:i + 2] == " " and not field.strip().startswith("default: "):
            out, field = out + [field.strip()], ""
        elif not (depth == 1 and ch == "("):
            field += ch
    return None


def reference(text: str | None = None) -> tuple[str, dict[str, list[Item]], dict[str, int]]:
    """docs/cli.md's reference section: its contents line, and per subsection heading (`videoad run`)
    its items and the line of its heading."""
    text = REFERENCE_PAGE.read_text() if text is None else text
    lines = text.splitlines()
    start = lines.index(REFERENCE_HEADING)
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    contents, sections, where, current = "", {}, {}, None
    for i in range(start + 1, end):
        line = lines[i]
        if m := re.fullmatch(r"### `([^`]+)`", line):
            current = m.group(1)
            sections[current], where[current] = [], i + 1
        elif current is None:
            contents += line + "\n"
        elif line.startswith("- `"):
            sections[current].append(Item(i + 1, set(), [], line[2:]))
        elif line.startswith("  ") and sections[current] and line.strip():
            sections[current][-1].text += " " + line.strip()
    for items in sections.values():
        for item in items:
            m = re.match(r"`([^`]+)` (.*)$", item.text)
            parsed = _fields(m.group(2)) if m else None
            item.spellings = {w.strip(",") for w in (m.group(1).split() if m else []) if w.startswith("-")}
            item.fields = parsed[0] if parsed else []
    return contents, sections, where


def _heading(path: tuple[str, ...]) -> str:
    return " ".join(("videoad",) + path)


def reference_problems(text: str | None = None) -> list[str]:
    """What the reference gets wrong against the commands (empty: nothing)."""
    from test_docs_links import slug

    contents, sections, where = reference(text)
    problems = []
    commands = {path: c for path, c in all_commands().items() if not isinstance(c, click.Group) or not path}
    for path, command in commands.items():
        head = _heading(path)
        if head not in sections:
            problems.append(f"no subsection ### `{head}`")
            continue
        if f"(#{slug(head)})" not in contents:
            problems.append(f"the contents line does not link #{slug(head)}")
        items = sections[head]
        for item in items:
            if not item.spellings or not item.fields:
                problems.append(f"docs/cli.md:{item.line}: not an option's item: {item.text[:60]!r}")
        options = [p for p in command.params if isinstance(p, click.Option)]
        known = {o for p in options for o in p.opts + p.secondary_opts}
        for item in items:
            if item.spellings - known:
                problems.append(f"docs/cli.md:{item.line}: `{head}` has no option {sorted(item.spellings - known)}")
        for p in options:
            name = max(p.opts, key=len)
            if (*path, name) in NOT_DOCUMENTED:
                continue
            mine = [it for it in items if set(p.opts + p.secondary_opts) & it.spellings]
            if not mine:
                problems.append(f"`{head}` {'/'.join(p.opts + p.secondary_opts)}: not in its subsection")
                continue
            item, where_ = mine[0], f"docs/cli.md:{mine[0].line}: `{head}` {name}"
            if missing := set(p.opts + p.secondary_opts) - item.spellings:
                problems.append(f"{where_}: the item does not name {sorted(missing)}")
            if item.fields[0] != kind_of(p):
                problems.append(f"{where_}: takes {kind_of(p)!r}, the item says {item.fields[0]!r}")
            for word, due in (("repeatable", p.multiple), ("required", p.required or "[required]" in (p.help or ""))):
                if (word in item.fields) != bool(due):
                    problems.append(f"{where_}: {'is' if due else 'is not'} {word}")
            stated = [f[len("default `"):-1] for f in item.fields if re.fullmatch(r"default `[^`]*`", f)]
            worded = [f[len("default: "):] for f in item.fields if f.startswith("default: ")]
            value, helps = machine_default(p), help_default(p)
            if value is not None:
                if not stated or not _same_default(stated[0], value, p):
                    problems.append(f"{where_}: its default is `{_shown(value, p)}`, the item says "
                                    f"{stated[0] if stated else 'none'}")
            elif stated:
                problems.append(f"{where_}: the item states default `{stated[0]}`, the code has none of its "
                                "own (word the rule as `default: ...`, as --help does)")
            if helps is not None and value is None and worded != [helps]:
                problems.append(f"{where_}: --help says [default: {helps}], the item "
                                f"{'default: ' + worded[0] if worded else 'states none'}")
    extra = set(sections) - {_heading(path) for path in commands}
    problems += [f"docs/cli.md:{where[h]}: ### `{h}` is no command" for h in sorted(extra)]
    return problems


def test_every_option_is_in_its_commands_reference():
    """Each option of each command (every spelling, `--no-x` included) has its item in that command's
    subsection of docs/cli.md's "Every option, by command", saying what it takes (the type and range
    click checks), whether it repeats or is required, and its default: the code's own where it has
    one (click's, or a settings option's packaged value), else the rule the --help text words. A new
    option, a changed range or default, or a removed option fails here until the reference follows.
    Before, an option named anywhere in the docs counted for every command that has it (about 50
    options were shown for no command of theirs)."""
    problems = reference_problems()
    assert not problems, "docs/cli.md, 'Every option, by command':\n" + "\n".join(problems)


def test_the_reference_check_names_what_is_wrong():
    """The checker itself, on the reference made wrong on purpose."""
    text = REFERENCE_PAGE.read_text()

    def problems_after(old: str, new: str) -> list[str]:
        assert old in text, old
        return reference_problems(text.replace(old, new, 1))

    item = next(line for line in text.splitlines() if line.startswith("- `--merge-gap SECONDS`"))
    assert any("--merge-gap" in p and "default is `2`" in p for p in problems_after(item, item.replace("`2`", "`3`")))
    assert any("--merge-gap" in p and "not in its subsection" in p for p in problems_after(item + "\n", ""))
    assert any("--stride" in p and "takes 'whole number, 1 to 2^31 - 1'" in p for p in
               problems_after("- `--stride N` (whole number, 1 to 2^31 - 1", "- `--stride N` (whole number, at least 1"))
    assert any("has no option ['--fit-onn']" in p for p in problems_after("- `--fit-on ", "- `--fit-onn "))
    assert any("--help says [default: keep trying]" in p for p in problems_after("default: keep trying", "default: 3"))
    assert any("the contents line does not link #videoad-watch" in p for p in
               problems_after("(#videoad-watch)", "(#videoad-wach)"))


def test_every_option_has_help():
    """Every option a user sees has a --help text (`import npy --clip-len` and `--stride` had none)."""
    bare = [f"videoad {' '.join(path)} {max(p.opts, key=len)}" for path, command in all_commands().items()
            for p in command.params if isinstance(p, click.Option) and not p.hidden and not (p.help or "").strip()]
    assert not bare, bare


def test_the_exemptions_are_options():
    commands = all_commands()
    for (*path, option), why in NOT_DOCUMENTED.items():
        assert why
        assert any(option in p.opts for p in commands[tuple(path)].params), (path, option)


# ---------------------------------------------------------------------------------------------
# the settings keys of the docs' YAML snippets
#: snippets that show a refused setting on purpose (the docs tell of the error it gives), by text
SETTINGS_REFUSED_ON_PURPOSE = {
    "restarts: -1", "activation: relu6", "device: gpu0", "clusterer_params: {n_components: abc}",  # docs/cli.md's
    "thres: true", "r: 1e30",                                                   # examples of the checks' errors
}

#: keys of the files videoad writes, not of a settings file, that the docs show as `key: value`
RECORD_FIELDS = {
    "allow_pickle": "models.json's record of a learned backbone's weights file (docs/backbones.md)",
    "n_events": "events.json's count of a video's events (docs/video.md)",
    "rescored": "a watch record's mark of a file scored again (docs/video.md)",
}


@functools.cache
def settings_keys() -> set[str]:
    """Every key a settings file of some command takes, at any depth: the schemas of the readers
    (`videoad.config.check`'s), the detect settings (`DetectConfig`, its `detector:` block and the
    packaged DUAD table by kind of features) and the registered detectors' arguments."""
    from videoad import config, extract_config, watch_config
    from videoad.bench import images, kddcup, scale
    from videoad.detector import registry
    from videoad.video.config import DUAD_BY_FEATURES, DetectConfig

    keys: set[str] = set()

    def walk(schema):
        if isinstance(schema, dict):
            for key, kind in schema.items():
                keys.add(key)
                walk(kind)
        elif isinstance(schema, config.Nullable):
            walk(schema.kind)

    for module in (extract_config, watch_config, images, kddcup, scale):
        walk(module.SCHEMA)
    walk(DUAD_BY_FEATURES)
    keys |= set(DetectConfig.__dataclass_fields__) | {"detector", "name", "params", "duad_by_features"}
    for name in registry.names():
        keys |= set(registry.detector_class(name)._get_param_names())
    return keys


@functools.cache
def yaml_snippets() -> list[tuple[Line, dict]]:
    """Inline code that reads as one setting, `key: value` (a dotted key for a nested one), the
    value one word or a flow mapping or list: `restarts: 1`, `smooth: 0`, `detector: {name: pca}`.
    An error message's words (`my.yaml: quick.seeds must be ...`) have spaces, and are not one."""
    import yaml

    out = []
    for page in PAGES:
        for span in _inline_spans(page):
            m = re.fullmatch(r"\s*([a-z_][a-z0-9_]*(?:\.[a-z0-9_]+)*):\s+(\{[^}]*\}|\[[^\]]*\]|[^\s{}\[\]]+)\s*",
                             span.text)
            if not m or m.group(2) in ("...",) or re.search(r"\.(yaml|yml|json|py|md)$", m.group(1)):
                continue
            try:
                value = yaml.safe_load(m.group(2))
            except yaml.YAMLError:
                continue
            out.append((span, {m.group(1): value}))
    return out


def _unknown(data, known: set[str], path: str = "") -> list[str]:
    out = []
    for key, value in data.items():
        name = f"{path}{key}"
        out += [f"{name} ({part})" for part in str(key).split(".") if part not in known]
        if isinstance(value, dict) and not str(key).endswith("_params"):  # a clusterer's own arguments
            out += _unknown(value, known, name + ".")
    return out


def _refused(key: str, value) -> str | None:
    """Why the detect settings or DUAD refuse `key: value` where the key is theirs alone."""
    from dataclasses import fields

    from videoad.detector import registry
    from videoad.video.config import DetectConfig

    if isinstance(value, str) and re.fullmatch(r"[A-Z][A-Z0-9_]*|[a-z]", value):  # `detector: NAME`, `r: k`
        return None
    if key in ("alarm", "history_alarm"):  # its level is a setting of its own, checked with it
        from videoad.group_model import ALARMS

        return None if value in ALARMS else f"{key} must be one of {ALARMS}, got {value!r}"
    if key in {f.name for f in fields(DetectConfig)} - {"params"}:
        try:
            DetectConfig(**{key: value}).check("docs")
        except ValueError as exc:
            return str(exc)
    elif key in registry.detector_class("duad")._get_param_names():
        try:
            registry.check_arguments("duad", {key: value}, "docs", "detector: params")
        except ValueError as exc:
            return str(exc)
    return None


def test_the_reader_finds_the_docs_settings():
    found = {(line.page, line.text) for line, _ in yaml_snippets()}
    assert ("docs/defaults.md", "history_drop: 1") in found
    assert ("docs/defaults.md", "duad_by_features.motion.restarts: 1") in found
    assert not any(text.startswith("my.yaml") for _, text in found)
    assert _unknown({"duad_by_features.motion.restart": 1}, settings_keys()) == [
        "duad_by_features.motion.restart (restart)"]
    assert "alarm must be one of" in _refused("alarm", "madd")
    assert "line_from must be one of" in _refused("line_from", "fited")
    assert "restarts" in _refused("restarts", "one")
    assert _refused("alarm", "quantile") is None and _refused("detector", "NAME") is None


def test_every_settings_key_shown_is_one_a_reader_takes():
    known = settings_keys() | set(RECORD_FIELDS)
    problems = []
    for line, data in yaml_snippets():
        if line.text.strip() in SETTINGS_REFUSED_ON_PURPOSE:
            continue
        problems += [f"{line.where()}: `{line.text.strip()}`: no settings file takes the key {k}"
                     for k in _unknown(data, known)]
        (key, value), = data.items()
        if isinstance(value, (str, int, float, bool)) and "." not in key and (why := _refused(key, value)):
            problems.append(f"{line.where()}: `{line.text.strip()}`: {why}")
    assert not problems, "\n".join(problems)
