"""The docs are true about the command line.

Every `videoad ...` command line in README.md and docs/*.md, in fenced code and inline code (and an
inline `detect --fit-on HISTORY`, a command named without the `videoad` before it), is parsed with
the real click commands of `videoad.cli`, without running them: a subcommand that does not exist, an
option the command does not have, a value its type refuses (`--tail pads`, `--thumbnails many`) fail,
naming the file, the line and the option. Placeholders are taken as they are meant (`FEATURES`,
`--seed N`, `[--annotations GT]`, `--per-video|--pooled`), and paths are not looked up (`--config
my.yaml` need not exist here).

Every option of every command is named somewhere in README.md or docs/*.md; and every settings key
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


def _docs_text() -> str:
    return "\n".join(p.read_text() for p in PAGES)


def test_every_option_is_documented():
    """Each option of each command (any of its spellings, `--no-x` included) is named in the docs:
    in a command line of that command, or anywhere in the text (an option several commands share,
    `--seed`, is then taken as named for each of them: the brief's rule, "mentioned somewhere")."""
    text = _docs_text()
    used: dict[tuple[str, ...], set[str]] = {}
    for _, args in doc_lines():
        path, cmd = (), all_commands()[()]
        for w in args:
            if isinstance(cmd, click.Group) and (path + (w,)) in all_commands():
                path = path + (w,)
                cmd = all_commands()[path]
            used.setdefault(path, set()).add(w.split("=", 1)[0])
    commands = all_commands()
    missing = []
    for path, command in commands.items():
        for p in command.params:
            if not isinstance(p, click.Option) or (*path, max(p.opts, key=len)) in NOT_DOCUMENTED:
                continue
            names = p.opts + p.secondary_opts
            if used.get(path, set()) & set(names):
                continue
            anywhere = [o for o in names if re.search(rf"(?<![\w-]){re.escape(o)}(?![\w-])", text)]
            if anywhere:
                continue
            missing.append(f"videoad {' '.join(path)} {'/'.join(names)}")
    assert not missing, "options the docs never name:\n" + "\n".join(missing)


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
