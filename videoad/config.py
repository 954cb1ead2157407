"""One configuration system for every command that has settings.

The shipped defaults are YAML files inside the package, `videoad/defaults/<name>.yaml`, read
with `importlib.resources` (so an installed package finds them wherever it lives): the one
place a default is written. `configs/` at the top of a checkout holds copies to edit (a test
keeps each copy equal to its packaged file).

| defaults        | command                                     | copy                    |
|-----------------|---------------------------------------------|-------------------------|
| detect.yaml     | `videoad detect`                            | configs/video.yaml      |
| run.yaml        | `videoad run`, `videoad demo` (over detect) | configs/run.yaml        |
| kddcup.yaml     | `videoad bench kddcup`                      | configs/kddcup.yaml     |
| mnist.yaml      | `videoad bench images --datasets mnist`     | configs/mnist.yaml      |
| cifar10.yaml    | `videoad bench images --datasets cifar10`   | configs/cifar10.yaml    |
| extract.yaml    | `videoad extract`                           | configs/extract.yaml    |
| watch.yaml      | `videoad watch`                             | configs/watch.yaml      |
| scale.yaml      | `videoad bench scale`                       | configs/scale.yaml      |
| table.yaml      | `videoad table` (a table; pictures: mnist/cifar10) | configs/table.yaml |

extract.yaml and watch.yaml are generated from the code defaults of the settings they hold
(`extract.run.ExtractOptions`, `videoad.live.WatchOptions`, ...; see `videoad.extract_config`
and `videoad.watch_config`): the code is the one place those defaults are written, the file
is what `--print-config` prints with no options, and a test keeps the two equal.

One loader (`read_yaml`, `merge`, `check`): a user's file is read, checked key by key against
a typed schema, and (where the command merges) laid over the defaults. Every error names the
file and the key: `my.yaml: quick.seeds must be a whole number, got 'two'`.
"""
from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

#: packaged defaults -> the copy under configs/ in a checkout
COPIES = {"detect": "video.yaml", "run": "run.yaml", "kddcup": "kddcup.yaml", "mnist": "mnist.yaml",
          "cifar10": "cifar10.yaml", "extract": "extract.yaml", "watch": "watch.yaml", "scale": "scale.yaml",
          "table": "table.yaml"}


class ConfigError(ValueError):
    """A settings file that cannot be used; the message names the file and the key."""


# ---------------------------------------------------------------------------------------------
# the packaged defaults
def defaults_file(name: str):
    """The packaged `videoad/defaults/<name>.yaml` (an importlib.resources Traversable)."""
    from importlib.resources import files

    res = files("videoad").joinpath("defaults", f"{name}.yaml")
    if not res.is_file():
        raise ConfigError(f"no packaged defaults named {name!r} (videoad/defaults/{name}.yaml); "
                          f"there are: {sorted(COPIES)}")
    return res


def defaults_path(name: str) -> Path:
    """The packaged defaults as a file path (the package is installed as files, not zipped)."""
    return Path(str(defaults_file(name)))


def defaults_text(name: str) -> str:
    return defaults_file(name).read_text()


def defaults(name: str) -> dict:
    """The packaged defaults `name`, parsed (a fresh copy each call)."""
    return _parse(defaults_text(name), f"videoad/defaults/{name}.yaml")


# ---------------------------------------------------------------------------------------------
# reading and merging
_LOADER = _DUMPER = None


def yaml_loader():
    """PyYAML's safe loader as a settings file needs it: `1e-3` is a number (YAML 1.1 wants a dot,
    `1.0e-3`, and read `lr: 1e-3` as text that failed deep in a fit), and a key given twice is an
    error (the second silently replaced the first: a whole `duad:` block lost)."""
    global _LOADER, _DUMPER
    if _LOADER is None:
        import re

        import yaml

        class SettingsLoader(yaml.SafeLoader):
            def construct_mapping(self, node, deep=False):
                seen = set()
                for key_node, _ in node.value:
                    if key_node.tag == "tag:yaml.org,2002:merge":  # `<<: *defaults`: its keys may be overridden
                        continue
                    key = self.construct_object(key_node, deep=deep)
                    try:
                        repeated = key in seen
                        seen.add(key)
                    except TypeError:  # a key that cannot be a name (a list): the settings checks say so
                        continue
                    if repeated:
                        raise yaml.constructor.ConstructorError(
                            None, None, f"the key {key!r} is given twice (the second would replace the first)",
                            key_node.start_mark)
                return super().construct_mapping(node, deep=deep)

        class SettingsDumper(yaml.SafeDumper):
            """Writes text the loader would read as a number (`1e3`) quoted, so that what
            `--print-config` prints reads back as itself."""

        for cls in (SettingsLoader, SettingsDumper):
            cls.add_implicit_resolver(
                "tag:yaml.org,2002:float", re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
                list("-+0123456789"))
        _LOADER, _DUMPER = SettingsLoader, SettingsDumper
    return _LOADER


def yaml_dumper():
    """The dumper that matches `yaml_loader` (see there)."""
    yaml_loader()
    return _DUMPER


def _keys_are_names(data, where: str, path: str = "") -> None:
    """Every key of a settings mapping is text: YAML reads `yes:`, `on:` and `1:` as true and 1,
    which no setting is named (and which broke the checks that list unknown keys)."""
    if isinstance(data, dict):
        for key, value in data.items():
            if not isinstance(key, str):
                hint = " (YAML reads yes/no/on/off as true/false: quote it)" if isinstance(key, bool) else ""
                raise ConfigError(f"{where}: the key {path}{key!r} is not a name{hint}")
            _keys_are_names(value, where, f"{path}{key}.")
    elif isinstance(data, list):
        for item in data:
            _keys_are_names(item, where, path)


#: the most values a settings file may expand to (its aliases followed)
MAX_VALUES = 100_000


def _expanded_size(data, memo: dict) -> int:
    """How many values `data` holds with every alias followed, counted once per distinct object
    (what YAML shares, the walks over the settings visit again and again)."""
    if not isinstance(data, (dict, list)):
        return 1
    known = memo.get(id(data))
    if known is None:
        children = list(data.keys()) + list(data.values()) if isinstance(data, dict) else data
        memo[id(data)] = known = 1 + sum(_expanded_size(c, memo) for c in children)
    return known


def _parse(text: str, where: str) -> dict:
    import yaml

    try:
        data = yaml.load(text, Loader=yaml_loader())  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:  # file:line:column and the problem (the library's text named
        mark = exc.problem_mark or exc.context_mark  # "<unicode string>" and drew a caret in brackets)
        at = f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""
        what = "; ".join(x for x in (exc.context, exc.problem) if x) or str(exc)
        raise ConfigError(f"{where}{at}: not valid YAML: {what}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{where}: not valid YAML ({exc})") from None
    except RecursionError:  # [[[[...]]]] thousands deep: Python's own traceback from inside the parser
        raise ConfigError(f"{where}: nested thousands of levels deep; a settings file is a few levels") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping of settings at the top level, got {type(data).__name__}")
    if _expanded_size(data, {}) > MAX_VALUES:  # aliases of aliases: a 1 kB file of 43 million values took 18 s
        raise ConfigError(f"{where}: its aliases expand to more than {MAX_VALUES:,} values; a settings file "
                          "holds a few dozen")
    _keys_are_names(data, where)
    return data


def read_yaml(path) -> dict:
    """A user's settings file as a mapping; a missing file, bad YAML or a top level that is not a
    mapping is an error naming the file."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"{p}: no such config file")
    try:
        text = p.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{p}: cannot be read ({exc})") from None
    return _parse(text, str(p))


def merge(base: Mapping, override: Mapping | None) -> dict:
    """`override` laid over `base`, mappings merged key by key, anything else replaced (copies)."""
    out = copy.deepcopy(dict(base))
    for k, v in (override or {}).items():
        out[k] = merge(out[k], v) if isinstance(v, Mapping) and isinstance(out.get(k), Mapping) else copy.deepcopy(v)
    return out


def dump(data: Mapping) -> str:
    """Settings as YAML that `read_yaml` reads back (key order kept)."""
    import yaml

    return yaml.dump(dict(data), Dumper=yaml_dumper(), sort_keys=False, default_flow_style=None)


def dump_commented(data: Mapping, comments: Mapping[str, str], header: str = "") -> str:
    """`dump(data)` with `header` (comment lines) first and the comment `comments[key]` (lines
    split at newlines) above each top-level key that has one; it reads back as `dump`'s."""
    out = [header]
    for line in dump(data).splitlines(keepends=True):
        key = line.split(":", 1)[0]
        if line[:1] not in (" ", "-", "#") and key in comments:
            out.extend(f"# {c}\n" for c in comments[key].splitlines())
        out.append(line)
    return "".join(out)


def layered(base: Mapping, path, schema: Mapping, given: Mapping | None = None) -> dict:
    """The settings of a command, lowest first: `base` (its defaults), the YAML file at `path` if
    any (checked key by key against `schema`; errors name the file and the key), then `given`
    (the options given on the command line), each laid over the one before with `merge`."""
    cfg = merge(base, None)
    if path is not None:
        user = read_yaml(path)
        check(user, schema, str(path))
        cfg = merge(cfg, user)
    return merge(cfg, given)


def check_values(data: Mapping, rules: Mapping, where: str) -> None:
    """Ranges and choices: `rules` maps a dotted key to (test, what the value must be); the first
    value that fails its test is a ConfigError naming `where` and the key. A missing or null
    value passes (the schema says where null is allowed)."""
    for name, (test, must) in rules.items():
        value: Any = data
        for part in name.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
        if value is not None and not test(value):
            raise ConfigError(f"{where}: {name} must be {must}, got {value!r}")


# ---------------------------------------------------------------------------------------------
# typed schemas
class Map:
    """A mapping with keys of the user's choice, each value of kind `value` (ANY: anything)."""

    def __init__(self, value: Any = None):
        self.value = ANY if value is None else value


class ListOf:
    def __init__(self, item: Any):
        self.item = item


class Nullable:
    """`kind` or null."""

    def __init__(self, kind: Any):
        self.kind = kind


class _Any:
    pass


ANY = _Any()
#: constructor arguments of a detector: any keys, any values (the constructor checks them)
ARGS = Map()
_NAMES = {int: "a whole number", float: "a (finite) number", str: "a text", bool: "true or false", list: "a list",
          dict: "a mapping"}


def _describe(kind) -> str:
    if isinstance(kind, tuple):
        return " or ".join(_describe(k) for k in kind)
    if isinstance(kind, Nullable):
        return _describe(kind.kind) + " or null"
    if isinstance(kind, ListOf):
        return f"a list of {_describe(kind.item).replace('a ', '', 1)}s"
    if isinstance(kind, (Map, dict)):
        return "a mapping"
    return _NAMES.get(kind, getattr(kind, "__name__", str(kind)))


def finite_number(value) -> bool:
    """A real number (not a bool) that a float holds finitely: YAML's `1e400` is inf, and a
    400-digit integer overflows a float (math.isfinite raised OverflowError on it)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def _fits(value, kind) -> bool:
    if kind is ANY:
        return True
    if isinstance(kind, tuple):
        return any(_fits(value, k) for k in kind)
    if isinstance(kind, Nullable):
        return value is None or _fits(value, kind.kind)
    if isinstance(kind, (Map, dict)):
        return isinstance(value, Mapping)
    if isinstance(kind, ListOf):
        return isinstance(value, list)
    if kind is float:  # finite: `1e400` is inf, which no setting means
        return finite_number(value)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)


def check(data: Mapping, schema: Mapping, where: str, prefix: str = "") -> None:
    """Every key of `data` known to `schema` (a mapping of key -> kind: a type, a tuple of
    types, `Nullable`, `ListOf`, `Map`, a nested schema mapping, `ANY`) and of its kind; the
    first problem is a ConfigError naming `where` and the dotted key."""
    for key, value in data.items():
        name = f"{prefix}{key}"
        if key not in schema:
            raise ConfigError(f"{where}: unknown key {name!r}; known here: {list(schema)}")
        _check_value(value, schema[key], where, name)


def _check_value(value, kind, where: str, name: str) -> None:
    said = kind
    if isinstance(kind, Nullable):
        if value is None:
            return
        kind = kind.kind
    if not _fits(value, kind):
        raise ConfigError(f"{where}: {name} must be {_describe(said)}, got {value!r}")
    if isinstance(kind, dict):
        check(value, kind, where, name + ".")
    elif isinstance(kind, Map) and kind.value is not ANY:
        for k, v in value.items():
            _check_value(v, kind.value, where, f"{name}.{k}")
    elif isinstance(kind, ListOf):
        for i, v in enumerate(value):
            _check_value(v, kind.item, where, f"{name}[{i}]")


def require(data: Mapping, keys, where: str) -> None:
    missing = [k for k in keys if k not in data]
    if missing:
        raise ConfigError(f"{where}: missing section(s) {missing}")
