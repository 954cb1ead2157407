"""Options whose default is a setting of a packaged settings file say which, and state its value.

Each command read over a settings file (extract, watch, detect, run, bench scale) names its options'
settings in one mapping, `_TO_SETTINGS` (option -> dotted key), and each of those options is a
`SettingOption` of that key. The default its --help shows and the one its line in docs/cli.md's
"Every option, by command" states are the packaged file's value (videoad/defaults/*.yaml, read with
`videoad.config.defaults`), which is also what the command itself uses (its `--print-config` with
no options). Before, `--min-clips` 65, `bench scale --threads` 2 and the like were numbers typed
into the help text, tied to no setting; and a default worded inside a sentence (`--history-drop`'s
"(default 1; ...)", `watch --realtime`'s, `evaluate --overlap`'s) was checked by nothing: every
option now words it as `[default: ...]`, which tests/test_docs_options.py holds docs/cli.md to.
"""
from __future__ import annotations

import importlib
import re

import click
import pytest
import yaml
from click.testing import CliRunner

from test_docs_options import _heading, all_commands, help_default, reference

#: command -> (the module holding its `_TO_SETTINGS`, the packaged files its defaults come from, later over earlier)
COMMANDS = {
    ("extract",): ("videoad.cli.extract_cmd", ["extract"]),
    ("watch",): ("videoad.cli.watch_cmd", ["watch"]),
    ("detect",): ("videoad.cli.video_cmd", ["detect"]),
    ("run",): ("videoad.cli.run_cmd", ["detect", "run"]),
    ("bench", "scale"): ("videoad.bench.scale", ["scale"]),
}
IDS = [" ".join(path) for path in COMMANDS]

#: options named like a top-level key of their command's settings that are not that setting, with the reason
NOT_THE_SETTING = {
    ("extract", "device"): "a backbone argument (backbone.options.device), not a setting of its own",
}


def packaged(files: list[str]) -> dict:
    from videoad.config import defaults

    out: dict = {}
    for name in files:
        out.update(defaults(name))
    return out


def lookup(settings: dict, dotted: str):
    for part in dotted.split("."):
        settings = settings[part]
    return settings


def printed(path: tuple[str, ...]) -> dict:
    """The settings the command itself uses with no file and no options: its --print-config."""
    from videoad.cli import cli

    result = CliRunner().invoke(cli, [*path, "--print-config"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return yaml.safe_load(result.output)


def items(path: tuple[str, ...]) -> dict[str, list[str]]:
    """docs/cli.md's reference for the command: each spelling -> its item's fields."""
    _, sections, _ = reference()
    return {s: item.fields for item in sections[_heading(path)] for s in item.spellings}


@pytest.mark.parametrize("path", COMMANDS, ids=IDS)
def test_each_option_of_a_setting_names_it_in_the_commands_one_mapping(path):
    from videoad.cli.settings import SettingOption

    module, files = COMMANDS[path]
    mapping = importlib.import_module(module)._TO_SETTINGS
    options = {p.name: p for p in all_commands()[path].params if isinstance(p, click.Option)}
    keys = packaged(files)
    problems = []
    for name, key in mapping.items():
        p = options.get(name)
        if p is None:
            problems.append(f"{name}: no option of that name")
        elif not isinstance(p, SettingOption) or p.setting != key:
            problems.append(f"{max(p.opts, key=len)}: stands for {key} but says {getattr(p, 'setting', 'nothing')}")
        else:
            lookup(keys, key)  # a key of the packaged file
    for name, p in options.items():
        if isinstance(p, SettingOption) and name not in mapping:
            problems.append(f"{max(p.opts, key=len)}: a setting's option not in {module}._TO_SETTINGS")
        if name not in mapping and (path[-1], name) not in NOT_THE_SETTING and (name in keys or f"{name}_s" in keys):
            problems.append(f"{max(p.opts, key=len)}: named like the setting {name}, and not tied to it")
    assert not problems, problems


def default_problems(path: tuple[str, ...], keys: dict | None = None) -> list[str]:
    """Where the command's --help, its docs/cli.md lines or what it uses differ from the packaged
    settings (`keys`: those settings, the packaged files' by default)."""
    from videoad.cli.settings import SettingOption, default_words

    module, files = COMMANDS[path]
    mapping = importlib.import_module(module)._TO_SETTINGS
    options = {p.name: p for p in all_commands()[path].params if isinstance(p, SettingOption)}
    keys = packaged(files) if keys is None else keys
    used, docs = printed(path), items(path)
    problems = []
    for name, key in mapping.items():
        p, value = options[name], lookup(keys, key)
        flag = max(p.opts, key=len)
        if lookup(used, key) != value:
            problems.append(f"{flag}: the command uses {key}: {lookup(used, key)!r}, the packaged file says {value!r}")
        shown = default_words(value, p)
        if help_default(p) != shown:
            problems.append(f"{flag}: --help says [default: {help_default(p)}], the packaged {key} is {value!r}")
        stated = [f for f in docs.get(flag, []) if f.startswith("default")]
        due = [] if shown is None else [f"default `{shown}`" if value not in (None, []) else f"default: {shown}"]
        if stated != due:
            problems.append(f"docs/cli.md `{_heading(path)}` {flag}: says {stated}, the packaged {key} is {value!r}")
    return problems


@pytest.mark.parametrize("path", COMMANDS, ids=IDS)
def test_help_and_docs_state_the_packaged_default_the_command_uses(path):
    problems = default_problems(path)
    assert not problems, "\n".join(problems)


def test_the_check_names_each_place_that_differs_from_the_file():
    """The check itself: a packaged value other than the one the help, the docs and the command use
    is named three times (as a file edited without the others would be)."""
    keys = {**packaged(["scale"]), "threads": 3}
    assert default_problems(("bench", "scale"), keys) == [
        "--threads: the command uses threads: 2, the packaged file says 3",
        "--threads: --help says [default: 2], the packaged threads is 3",
        "docs/cli.md `videoad bench scale` --threads: says ['default `2`'], the packaged threads is 3"]
    keys = {**packaged(["watch"]), "retries": 5}
    assert [p.split(":")[0].split()[-1] for p in default_problems(("watch",), keys)] == ["--retries"] * 3


def test_detect_says_its_packaged_grouping_is_the_default():
    """The grouping flag --help marks as the default is the packaged `mode` (--per-category)."""
    mode = packaged(["detect"])["mode"]
    marked = {p.name: help_default(p) for p in all_commands()[("detect",)].params
              if p.name.startswith("mode_") and help_default(p) is not None}
    assert marked == {f"mode_{mode.replace('-', '_')}": mode}


def test_detect_device_states_the_device_detect_fits_on():
    """Without --device, detect (and run) fit DUAD and DAGMM with their own `device="auto"` (a GPU
    when torch sees one): --help said "cpu (the default)"."""
    from videoad import video
    from videoad.group_model import make_detector
    from videoad.video.config import FEATURE_KINDS, detector_params

    p = next(p for p in all_commands()[("detect",)].params if p.name == "device")
    said = (help_default(p) or "").split(",")[0]
    for cfg in (video.load_config(None), video.run_config(None)):
        for kind in FEATURE_KINDS:
            assert make_detector(cfg.detector, detector_params(cfg, kind), 0).device == said, kind
    assert make_detector("dagmm", {}, 0).device == said


#: a default worded in the help's own sentence: "(default 1; ...)", "(default: ...)", "cpu (the default)",
#: "... Default."
_IN_A_SENTENCE = re.compile(r"\(default\b|\(the default\)|\bdefault\)|\bDefault\.|\bdefault \d", re.I)


def test_no_option_words_its_default_inside_a_sentence():
    from videoad.cli.settings import SettingOption

    found = []
    for path, command in all_commands().items():
        for p in command.params:
            if not isinstance(p, click.Option):
                continue
            if isinstance(p, SettingOption):
                help_default(p)  # the help as shown
            text = re.sub(r"\[default: [^\]]*\]", "", p.help or "")
            if _IN_A_SENTENCE.search(text):
                found.append(f"videoad {' '.join(path)} {max(p.opts, key=len)}: {text!r}")
    assert not found, "\n".join(found)
