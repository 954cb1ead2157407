"""The `videoad` command line: a thin click group, one module per subcommand family.

Each subcommand module exposes click commands; they are registered here so that importing
`videoad.cli` stays cheap (heavy imports happen inside the command bodies).
"""
from __future__ import annotations

import importlib
import logging
import sys

import click

from extract.sources import one_line
from videoad import LOADING_INTERRUPTED, __version__

from .settings import ErrorLines

# (module, attribute) of every registered command; a module that fails to import is a bug,
# not an optional feature, so no try/except here.
_COMMANDS = [
    ("videoad.cli.demo_cmd", "demo"),
    ("videoad.cli.run_cmd", "run"),
    ("videoad.cli.bench_cmd", "bench"),
    ("videoad.cli.extract_cmd", "extract"),
    ("videoad.cli.video_cmd", "detect"),
    ("videoad.cli.video_cmd", "evaluate"),
    ("videoad.cli.video_cmd", "plot"),
    ("videoad.cli.video_cmd", "report"),
    ("videoad.cli.watch_cmd", "watch"),
    ("videoad.cli.cameras_cmd", "cameras"),
    ("videoad.cli.extract_cmd", "merge"),
    ("videoad.cli.import_cmd", "import_features"),
    ("videoad.cli.table_cmd", "table"),
]


class _Commands(click.Group):
    """The group, with Ctrl-C answered as a stop: what was finished is kept and a rerun of the same
    command completes the rest (exit status 130, as a shell's), not Click's bare "Aborted!"; and every
    error of a subcommand (its body's, its options', Click's own) with its message on the `Error:` line:
    most are `str(exc)` of an error naming a file, and a name's line feed printed a second line, forged
    (`Error: FAKE ...`). `ErrorLines` keeps the lines it was given apart."""

    def make_context(self, info_name, args, parent=None, **extra) -> click.Context:
        """The group's arguments parsed (`--help`'s page written): a Ctrl-C then was Click's
        "Aborted!", exit status 1, unlike one a moment before or after."""
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except KeyboardInterrupt:
            click.echo(LOADING_INTERRUPTED, err=True)
            raise click.exceptions.Exit(130) from None

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except click.ClickException as exc:
            if not isinstance(exc, ErrorLines):
                exc.message = one_line(exc.message)
            raise
        except KeyboardInterrupt:
            command = ctx.invoked_subcommand
            click.echo("interrupted: " + ("results of a complete earlier run are kept; what this run finished is in "
                                          "its *.partial.json / .md; a rerun starts it again" if command == "bench" else
                                          # a second stop while the first drained the hooks' queue, or one before
                                          # the watch began: the batch commands' words were wrong for it
                                          "records still queued for --on-event / --post, if any, were not sent (every "
                                          "record is in the output's events.jsonl); a rerun into it sends them first "
                                          "and goes on with the files it did not finish"
                                          if command == "watch" else
                                          "rerun the same command; extracted features are kept, and scores, events "
                                          "and reports are written whole or not at all"), err=True)
            ctx.exit(130)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="videoad")
@click.option("-v", "--verbose", count=True, help="More logging (-v info, -vv debug).")
def cli(verbose: int) -> None:
    """Unsupervised anomaly detection for surveillance video (Li et al., WACV 2021)."""
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    from videoad.names import OneLineNames

    console = _AroundBars()
    console.setFormatter(OneLineNames())
    logging.basicConfig(level=level, handlers=[console])


class _AroundBars(logging.StreamHandler):
    """The console's log lines, written above a live progress bar: a plain stream handler wrote a
    warning onto the bar's own line (`... 24.7 clips/s]WARNING videoad.cameras: ...`), and the bar
    then wrote over it; `watch`'s progress line is wiped first. Neither module is imported for this:
    with it not loaded, none of its lines is up."""

    def emit(self, record: logging.LogRecord) -> None:
        line = getattr(getattr(sys.modules.get("videoad.live"), "Progress", None), "shown", None)
        if line is not None:
            line.clear()
        tqdm = sys.modules.get("tqdm")
        if tqdm is None or not hasattr(tqdm, "tqdm"):
            return super().emit(record)
        try:
            tqdm.tqdm.write(self.format(record), file=self.stream)  # clears the bars, writes, draws them again
        except Exception:  # logging's own rule: a failed log line never stops the command
            self.handleError(record)


def _register(commands=None) -> None:
    """Add every listed command; a missing module or attribute is a bug and fails loudly."""
    for module_name, attr in commands or _COMMANDS:
        module = importlib.import_module(module_name)
        command = getattr(module, attr, None)
        if not isinstance(command, click.Command):
            raise RuntimeError(f"videoad.cli: {module_name} has no click command {attr!r}")
        cli.add_command(command)


_register()


def main() -> None:
    import sys

    from videoad.names import shown_on_console

    # a file name that is not UTF-8 shown as caf\xe9.avi, one holding ESC sequences as \x1b, not run
    sys.stdout, sys.stderr = shown_on_console(sys.stdout, sys.stderr)
    cli()
