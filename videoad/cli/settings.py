"""Pieces shared by the commands whose settings are read from code defaults, a --config file and
options (`extract`, `watch`; see videoad.config): the two options, which options the user gave,
and help texts that show the code default without writing it a second time; and the error of
several lines (`ErrorLines`)."""
from __future__ import annotations

import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource


def config_options(copy: str) -> Callable:
    """--config FILE and --print-config (the settings as YAML that --config reads back, then exit)."""
    def decorate(command: Callable) -> Callable:
        command = click.option("--print-config", is_flag=True,
                               help="Print the settings this command would use (defaults, --config, options) "
                                    "as YAML and exit.")(command)
        return click.option("--config", "config", type=NonEmptyPath(exists=True, dir_okay=False),
                            help=f"YAML settings (see {copy}); command-line options win.")(command)
    return decorate


def given(ctx: click.Context, *names: str) -> dict[str, Any]:
    """The options among `names` that the user gave (command line or environment), with their values."""
    explicit = (ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT)
    return {n: ctx.params[n] for n in names if ctx.get_parameter_source(n) in explicit}


class ErrorLines(click.ClickException):
    """An error of several lines on purpose (a failed stage's summary below its headline): each line
    given is kept on its own, a name's line feed in it escaped (`one_line`); the group writes every
    other error's message on one line."""

    def __init__(self, *lines: str):
        from extract.sources import one_line

        super().__init__("\n".join(one_line(line) for line in lines))


def not_together(ctx: click.Context, first: str, second: str, why: str,
                 unless: Callable[[dict[str, Any]], bool] | None = None) -> None:
    """A usage error naming both options when the user gave both `first` and `second` (parameter
    names; on the command line or through the environment): one of them would be taken in silence.
    `unless(values)`: True where the two values given agree after all."""
    both = given(ctx, first, second)
    if len(both) == 2 and not (unless is not None and unless(both)):
        flag = {p.name: max(p.opts, key=len) for p in ctx.command.params}
        raise click.UsageError(f"{flag[first]} and {flag[second]} cannot be combined: {why}", ctx)


def refuse_given(ctx: click.Context, names, why: str) -> None:
    """A usage error naming the options among `names` (parameter names) that the user gave, where
    another option's choice leaves them without use (`why`); nothing when none was given."""
    shown = [max(p.opts, key=len) for p in ctx.command.params if p.name in given(ctx, *names)]
    if shown:
        raise click.UsageError(f"{', '.join(shown)}: {why}", ctx)


class SettingOption(click.Option):
    """An option whose default is a setting of the command's settings file (`defaults()[setting]`,
    dotted for nested keys), shown in the help as `[default: ...]`: the value (a flag's own spelling
    for a yes/no setting, a list comma-separated), or for a null setting the words `none` says it
    means (no default shown without them). The option itself defaults to None: the command lays
    what was given over the --config file and the defaults. Each command names its options'
    settings in one mapping, option -> dotted key (`setting_kwargs`), which also places the options
    given (`given_settings`); tests/test_option_settings.py checks the shown default against the
    packaged file and docs/cli.md."""

    def __init__(self, *args, setting: str, defaults: Callable[[], dict], none: str | None = None, **kwargs):
        self.setting, self.defaults, self.none = setting, defaults, none
        kwargs.setdefault("default", None)
        super().__init__(*args, **kwargs)

    def setting_default(self) -> Any:
        """The setting's value in the defaults."""
        return lookup(self.defaults(), self.setting)

    def get_help_record(self, ctx):
        shown = default_words(self.setting_default(), self)
        if shown is not None and "[default:" not in (self.help or ""):
            self.help = f"{self.help or ''}  [default: {shown}]".strip()
        return super().get_help_record(ctx)


def lookup(settings: dict, dotted: str) -> Any:
    """`settings[a][b]` for the key `a.b`."""
    value: Any = settings
    for part in dotted.split("."):
        value = value[part]
    return value


def default_words(value: Any, option: click.Option) -> str | None:
    """How --help words a setting's `value` as an option's default: a number as written (900, not
    900.0), a list comma-separated, yes/no as the flag's spelling that gives it (`--no-smooth`),
    null as the option's `none` words (None: nothing to show)."""
    if value is None or value == []:
        return getattr(option, "none", None)
    if isinstance(value, bool):
        return (option.opts if value else option.secondary_opts or [None])[0]
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (list, tuple)):
        return ",".join(map(str, value))
    return str(value)


def setting_kwargs(mapping: dict[str, str], defaults: Callable[[], dict]) -> Callable[..., dict]:
    """For a command's mapping (option's parameter name -> dotted settings key) and its defaults:
    `name -> click.option keyword arguments` of that option as a SettingOption."""
    def kwargs(name: str, none: str | None = None) -> dict[str, Any]:
        return {"cls": SettingOption, "setting": mapping[name], "defaults": defaults, "none": none}
    return kwargs


def given_settings(ctx: click.Context, mapping: dict[str, str]) -> dict[str, Any]:
    """The options among `mapping`'s that the user gave, placed at their dotted settings keys."""
    out: dict[str, Any] = {}
    for name, value in given(ctx, *mapping).items():
        *sections, key = mapping[name].split(".")
        node = out
        for section in sections:
            node = node.setdefault(section, {})
        node[key] = value
    return out


class FiniteFloat(click.FloatRange):
    """click's FloatRange without NaN and infinities, which its comparisons let through (a merge gap
    of nan failed after the whole fit, a clip pad of inf with a traceback)."""

    def convert(self, value, param, ctx):
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return number


#: the bounds the settings files hold, written here so that the command line stays free of their modules'
#: imports (tests/test_cli_bounds.py keeps each equal to its source): a week, the longest wait or span of
#: seconds (videoad.live.outputs.MAX_WAIT_S; time.sleep, Event.wait and subprocess's timeout overflow past
#: about 9.2e9 s); the longest stride or clip (videoad.extract_config.MAX_STRIDE, what HDF5's frame numbers
#: hold); threads or processes of one run (videoad.video.config.MAX_THREADS); repeats (seeds) of a
#: benchmark (videoad.detector.validation.MAX_REPEATS)
MAX_SECONDS = 7 * 24 * 3600.0
MAX_FRAMES = 2**31 - 1
MAX_THREADS = 1024
MAX_REPEATS = 10**6


def seconds(zero: bool = False) -> FiniteFloat:
    """A number of seconds, > 0 (>= 0 with `zero`), at most a week (MAX_SECONDS), refused by click as a
    usage error naming the option and the range: `watch --hook-timeout 1e30` or `bench scale --timeout
    1e30` passed the parse and were refused later with exit 1 naming the setting, not the option, or
    overflowed the wait (`extract --decode-timeout 1e30`)."""
    return FiniteFloat(min=0, min_open=not zero, max=MAX_SECONDS)


def count(low: int = 1, high: int = MAX_FRAMES) -> click.IntRange:
    """A whole number from `low` to `high` (a number of frames by default): `import npy --stride 10**30`
    was a traceback (numpy's int64), `bench images --seeds 10**30` a run that never ended."""
    return click.IntRange(low, high)


class NonEmptyPath(click.Path):
    """click's Path without the empty string, which it takes for the current folder (`-o ""` wrote a
    run's scores, report and lock file into whatever folder the user stood in), and with a leading
    `~` expanded, as `run` expands its INPUT and --fit-on: the shell leaves `--output=~/x` as it is,
    and a folder named `~` was made in the current one.

    A path to be made (not `exists`: an -o, --save-model, --sheet) under a file is a usage error naming
    both, as click's own for a folder's path that is a file (`Directory 'afile' is a file.`): `-o
    afile/x` was exit 1 where `-o afile` was 2, or a traceback, and after the fit for some commands."""

    def convert(self, value, param, ctx):
        if isinstance(value, str) and value == "":
            self.fail("an empty path.", param, ctx)
        if isinstance(value, str) and value.startswith("~"):
            value = os.path.expanduser(value)
        path = super().convert(value, param, ctx)
        if not self.exists and not (self.allow_dash and value == "-"):
            blocker = file_in_the_way(path)
            if blocker is not None:
                self.fail(f"cannot make '{os.fsdecode(path)}': '{blocker}' is a file, not a folder.", param, ctx)
        return path


def file_in_the_way(path) -> str | None:
    """The file standing where a folder above `path` must be (`afile` for `afile/x`), else None; the
    path itself may be a file or not be there."""
    for above in Path(os.fsdecode(path)).parents:
        try:
            if above.exists():
                return None if above.is_dir() else str(above)
        except OSError:  # a folder this user may not look into: the command's own write names it
            return None
    return None


class NonBlankText(click.ParamType):
    """A name recorded as given (`import npy --backbone`): an empty or all-blank one is a usage error
    naming the option (`--backbone ""` was stored as the store's backbone name)."""

    name = "text"

    def convert(self, value, param, ctx):
        if isinstance(value, str) and not value.strip():
            self.fail("a blank name; give one, or leave the option out for its default.", param, ctx)
        return value


def choice_flag(flag: str, value: str, setting: str, **kwargs) -> Callable:
    """One of the flags that give one setting its value (--pooled, --per-video, ...), remembered for
    `chosen(setting)`. As click's flag_value options sharing one name they could not be told apart:
    `--pooled --per-video` fitted per video, the last one winning without a word."""
    def remember(ctx: click.Context, param: click.Parameter, given: bool) -> bool:
        if given:
            ctx.meta.setdefault(f"videoad.choice.{setting}", {})[flag] = value
        return given

    return click.option(flag, f"{setting}_{value.replace('-', '_')}", is_flag=True, expose_value=False,
                        callback=remember, **kwargs)


def chosen(setting: str) -> str | None:
    """The value the `choice_flag`s of `setting` gave (None: none given); two different ones are a
    usage error naming both."""
    ctx = click.get_current_context()
    flags = ctx.meta.get(f"videoad.choice.{setting}", {})
    if len(set(flags.values())) > 1:
        raise click.UsageError(f"{' and '.join(sorted(flags))} contradict each other: give one of them", ctx)
    return next(iter(flags.values()), None)


def check_output_folder(output, writes: str, inputs: dict[str, object], option: str = "-o") -> None:
    """`videoad.output_kinds.check_output` for every command alike: an output folder that is one
    of the command's inputs (both paths named) or holds another kind of videoad output is a usage
    error naming the option (exit 2). `detect`, `plot`, `report`, `watch` and `import` gave it as
    exit 1 and `extract` and `run` as exit 2."""
    from videoad import output_kinds

    try:
        output_kinds.check_output(output, writes, inputs, option)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
