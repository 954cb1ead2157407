"""`videoad extract` and `videoad merge`: thin click wrappers over `extract.run` / `extract.manifest`.

Backbone flags are declared once in `BACKBONE_FLAGS`: each becomes a keyword argument of
`extract.backbones.get_backbone` when given, so a backbone-specific flag is one entry there
(anything rarer goes through the repeatable `--backbone-opt key=value`).
"""
from __future__ import annotations

import os
import sys
from typing import Any, Callable

import click

from extract.sources import one_line

from . import ray_opts
from .settings import (MAX_THREADS, FiniteFloat, NonEmptyPath, check_output_folder, config_options,
                       count, given, given_settings, not_together, seconds, setting_kwargs)

#: (flag, click.option settings); each given flag becomes get_backbone(<its parameter name>=...)
BACKBONE_FLAGS: list[tuple[str, dict[str, Any]]] = [
    ("--device", {"default": None, "metavar": "D",
                  "help": "Device of the backbone's forward pass: cpu, cuda, cuda:N, auto  [default: cpu]."}),
    ("--weights", {"default": None, "metavar": "PATH|NAME", "callback": lambda c, p, v: _check_weights(v),
                   "help": "Pretrained weights of a learned backbone: a file, or for the torchvision "
                           "and pytorchvideo networks a published name (kinetics400: fetched once into "
                           "the torch hub cache). C3D has no published name: give its file."}),
    ("--random-init", {"is_flag": True, "default": None,
                       "help": "Run a learned backbone on seeded random weights (smoke tests only)."}),
    ("--layer", {"default": None, "metavar": "NAME",
                 "help": "Layer whose activations are the features (backbone-specific)."}),
]


def _check_weights(value: str | None) -> str | None:
    """A path-looking value must be an existing file; a bare name goes to the backbone."""
    if value is None:
        return None
    from extract.weights import weights_value_problem

    problem = weights_value_problem(value)
    if problem:
        raise click.BadParameter(problem)
    return value


def _flag_name(flag: str) -> str:
    return flag.lstrip("-").replace("-", "_")


def _with_backbone_flags(command: Callable) -> Callable:
    for flag, settings in reversed(BACKBONE_FLAGS):
        command = click.option(flag, **settings)(command)
    return command


def _parse_shard(_ctx, _param, value: str | None) -> tuple[int, int] | None:
    if value is None:
        return None
    index, sep, count = value.partition("/")
    try:
        shard = (int(index), int(count))
    except ValueError:
        shard = None
    if not sep or shard is None or shard[1] < 1 or not 0 <= shard[0] < shard[1]:
        raise click.BadParameter(f"expected i/N with 0 <= i < N, got {value!r}")
    return shard


def _parse_opts(_ctx, _param, values: tuple[str, ...]) -> dict[str, str]:
    options = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"expected key=value, got {item!r}")
        options[key.strip().replace("-", "_")] = value
    return options


def _defaults() -> dict:
    from videoad.extract_config import defaults

    return defaults()


#: why --fps and --max-fps are not given together (extract and run)
FPS_TOGETHER = ("--fps resamples every video to that one rate, which leaves --max-fps unused; give --fps for "
                "one rate for all, or --max-fps to slow only the faster videos down")


def fps_together(ctx: click.Context) -> None:
    """--fps beside a --max-fps cap is refused (the cap would go unused); beside `--max-fps 0`, which
    asks for no cap, it is what was asked."""
    not_together(ctx, "target_fps", "max_fps", FPS_TOGETHER, unless=lambda values: values["max_fps"] == 0)


#: option -> its dotted key in the settings (videoad.extract_config): its default shown in --help (read from
#: the defaults), and where the value given goes (--decoders as a list, --float16/--float32 as the dtype)
_TO_SETTINGS = {"backbone": "backbone.name", "workers": "workers", "batch_size": "batch_size", "stride": "stride",
                "tail": "tail", "target_fps": "target_fps", "max_fps": "max_fps", "image_fps": "image_fps",
                "decoders": "decoders", "decode_timeout": "decode_timeout", "recursive": "recursive",
                "prefetch": "prefetch", "float16": "dtype"}
_setting = setting_kwargs(_TO_SETTINGS, _defaults)


def _given_settings(ctx: click.Context) -> dict[str, Any]:
    """The options the user gave, in the layout of the settings file."""
    out = given_settings(ctx, _TO_SETTINGS)
    if "decoders" in out:
        out["decoders"] = [d.strip() for d in out["decoders"].split(",") if d.strip()]
    if "dtype" in out:
        out["dtype"] = "float16" if out["dtype"] else "float32"
    flags = given(ctx, "backbone_opts", *map(_flag_name, (f for f, _ in BACKBONE_FLAGS)))
    options = {name: flags[name] for name in map(_flag_name, (f for f, _ in BACKBONE_FLAGS))
               if flags.get(name) is not None}
    options.update(flags.get("backbone_opts") or {})
    if options:
        out.setdefault("backbone", {})["options"] = options
    return out


def gpu_feeding_hint(model: Any, workers: int, batch_size: int, cores: int | None = None) -> str | None:
    """What to raise when a GPU would mostly wait for the decode workers, or None. Measured on
    one H200 (benchmarks/results/gpu_checks.md): C3D alone ~2,000 clips/s, one decode worker
    ~31, and batches of 64 ahead of 32."""
    device = getattr(model, "device", None)
    if getattr(device, "type", None) != "cuda":
        return None
    cores = cores or os.cpu_count() or 1
    tips = ([f"--workers {cores - 1}"] if workers < cores - 1 else []) + (["--batch-size 64"] if batch_size < 64 else [])
    if not tips:
        return None
    return (f"note: a GPU computes clips far faster than {workers} decode worker(s) can feed it; on this "
            f"{cores}-core machine {' '.join(tips)} keeps it busier (docs/backbones.md, 'Keeping the GPU fed')")


def _existing_inputs(ctx, param, inputs: tuple[str, ...]) -> tuple[str, ...]:
    """Refuse an INPUT that does not exist; a broken symbolic link, or one this user may not read, is
    let through to fail alone, named by the listing or the decoder: among the shell's `videos/*` it
    stopped the whole batch."""
    for path in inputs:
        if not os.path.lexists(path):
            raise click.BadParameter(f"Path {path!r} does not exist.", ctx, param)
    return inputs


@click.command("extract")
@click.argument("inputs", metavar="INPUT...", nargs=-1, type=NonEmptyPath(readable=False), callback=_existing_inputs)
@click.option("-o", "--output", "output", type=NonEmptyPath(file_okay=False),
              metavar="FEATURES", help="Feature store folder (created if missing).  [required]")
@config_options("configs/extract.yaml")
@click.option("--backbone", **_setting("backbone"),
              help="Registered backbone name (motion needs no weights; c3d, r3d_18, x3d_s ... do).")
@_with_backbone_flags
@click.option("--backbone-opt", "backbone_opts", multiple=True, callback=_parse_opts,
              metavar="KEY=VALUE", help="Extra backbone argument, repeatable (e.g. size=224x168).")
@click.option("--recursive/--no-recursive", **_setting("recursive"), help="Look for videos in all subfolders, or not.")
@click.option("--workers", type=count(1, MAX_THREADS), **_setting("workers"),
              help="Decode worker processes (at most one per video starts).")
@click.option("--batch-size", type=click.IntRange(min=1), **_setting("batch_size"),
              help="Clips per backbone forward pass.")
@click.option("--stride", type=count(), **_setting("stride", none="the backbone's: 4 for motion, the clip length (no "
                                                                "overlap) for the learned ones"),
              help="Frames between clip starts.")
@click.option("--tail", type=click.Choice(["drop", "pad"]), **_setting("tail"),
              help="Frames after the last full clip: drop them, or pad a last clip.")
@click.option("--fps", "target_fps", type=FiniteFloat(min=0, min_open=True, max=240), **_setting("target_fps"),
              help="Resample videos to this frame rate before cutting clips.")
@click.option("--max-fps", "max_fps", type=FiniteFloat(min=0),
              **_setting("max_fps", none="the backbone's: 10 for motion, none for the learned ones"),
              help="Resample only videos faster than this to this rate (0: keep every video's own; not with "
                   "--fps).")
@click.option("--image-fps", type=FiniteFloat(min=0, min_open=True), **_setting("image_fps"),
              help="Frame rate of image-sequence folders, and of raw .264/.h265 streams that state none (their "
                   "VUI timing; else 25 assumed, warned) (stored; folders need it with --fps).")
@click.option("--decoders", **_setting("decoders"), help="Decoders to try in order (or package.module:function).")
@click.option("--decode-timeout", type=seconds(), **_setting("decode_timeout"),
              help="Seconds without decode progress before a decoder is killed and the next tried.")
@click.option("--prefetch", type=click.IntRange(min=1), **_setting("prefetch"),
              help="Preprocessed clips a decode worker may hold ahead of the backbone.")
@click.option("--float16/--float32", **_setting("float16"), help="Store features as float16, or float32.")
@click.option("--overwrite", is_flag=True, help="Recompute videos that already have features.")
@click.option("--shard", default=None, callback=_parse_shard, metavar="i/N",
              help="Process only shard i of N (0-based) of the sorted video list.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@ray_opts.extract_options
@click.pass_context
def extract(ctx: click.Context, inputs: tuple[str, ...], output: str | None, config: str | None,
            print_config: bool, overwrite: bool, shard: tuple[int, int] | None, quiet: bool,
            **flags: Any) -> None:
    """Decode the videos under INPUT into 16-frame clips and store one feature file per video.

    INPUT is a video file, a folder of frames (one video), or a folder of videos and frame
    folders; several (the shell's `videos/*.mp4`) are keyed under the folder holding them all. A rerun skips videos whose features are complete and current; the exit status
    is 1 when any video failed (see the summary and FEATURES/manifest*.json). Settings come
    from the options, then --config FILE, then the defaults (--print-config shows them).
    """
    from extract.backbones import BackboneUnavailable, UnknownOption, available_backbones, get_backbone
    from extract.run import WorkerStartError, extract_videos
    from extract.store import OutputError
    from videoad import extract_config

    fps_together(ctx)
    try:
        cfg = extract_config.load(config, _given_settings(ctx))
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    backbone, kwargs = extract_config.backbone_args(cfg)
    if kwargs.get("weights") and backbone == "motion":
        raise click.UsageError("--weights needs a learned backbone: name it with --backbone "
                               "(c3d, r3d_18, ...); motion has no weights")
    ray = ray_opts.pop_extract_settings(flags)
    on_ray = ray["ray_address"] is not None
    if backbone not in available_backbones():
        raise click.UsageError(f"unknown backbone {backbone!r}; known: {', '.join(available_backbones())}"
                               + (f" (from {config})" if config and "backbone" not in _given_settings(ctx) else ""))
    if print_config and backbone != "motion":  # a learned one is not built to print (weights, a download)
        click.echo(extract_config.text(cfg), nl=False)
        return
    # one input as before (its keys under it); several (the shell's `videos/*.mp4`, which failed as
    # "Got unexpected extra argument") keyed under the folder holding them all (`list_inputs`)
    input_path = (inputs[0] if len(inputs) == 1 else list(inputs)) if inputs else None
    if not print_config and (input_path is None or output is None):
        raise click.UsageError("give INPUT and -o/--output (or --print-config alone)")
    try:
        # with --ray this copy only checks the options before the cluster starts, on the CPU
        # (the driver may have no GPU); each actor builds its own
        model = get_backbone(backbone, **({**kwargs, "device": "cpu"}
                                          if on_ray and "device" in kwargs else kwargs))
    except UnknownOption as exc:  # the options it does take are named
        typed = (_given_settings(ctx).get("backbone") or {}).get("options") or {}
        in_file = [k for k in getattr(exc, "unknown", ()) if k not in typed]
        if config and in_file:  # a misspelt key of the file: named with the file, as its other keys are
            keys = [f"backbone.options.{k}" for k in in_file]
            raise click.ClickException(f"{config}: unknown key(s) {keys}: {exc}") from None
        raise click.UsageError(str(exc)) from None
    except TypeError as exc:
        if "unexpected keyword argument" not in str(exc):
            raise
        raise click.UsageError(f"backbone {backbone!r} does not take that option: {exc}") from None
    except BackboneUnavailable as exc:
        raise click.UsageError(str(exc)) from None
    except ValueError as exc:  # an option's value: named with the options given and where they came from
        given = ", ".join(f"{k}={v!r}" for k, v in kwargs.items() if k not in ("device",))
        raise click.UsageError(f"backbone {backbone!r}" + (f" ({given})" if given else "") + f": {exc}"
                               + (f" (settings from {config} and the options)" if config else "")) from None
    except ImportError as exc:  # torchvision or pytorchvideo not installed: its message says which extra
        raise click.ClickException(str(exc)) from None

    if print_config:  # what --config reads back: the motion backbone's options checked by building it
        click.echo(extract_config.text(cfg), nl=False)
        return
    if on_ray and "device" in kwargs and not model.uses_device:  # the motion backbone runs on the CPU: its
        kwargs = {k: v for k, v in kwargs.items() if k != "device"}  # actors must not wait for a GPU each
    from videoad import output_kinds as kinds

    for path in inputs:
        check_output_folder(output, kinds.FEATURES, {"INPUT": path})
    # a bar only where someone watches: redirected to a file it was hundreds of \r-joined lines
    options = extract_config.extract_options(cfg, overwrite=overwrite, shard=shard,
                                             progress=not quiet and sys.stderr.isatty())
    # redirected to a log (a nightly job, nohup, CI): a plain line at most once a minute in place of the bar
    from extract.progress import LogProgress

    in_log = None if quiet or sys.stderr.isatty() else LogProgress(unit=options.progress_unit, desc="extract")
    hint = None if on_ray else gpu_feeding_hint(model, options.workers, options.batch_size)
    if hint:
        click.echo(hint, err=True)
    from videoad.output_lock import FolderBusyError, output_lock

    try:
        # two unsharded runs into one store wrote each other's files with their own settings and
        # each called the store theirs; the shards of one run share it
        with output_lock(output, command="videoad extract" + (f" --shard {shard[0]}/{shard[1]}" if shard else ""),
                         shared=shard is not None):
            summary = (ray_opts.extract_on_ray(input_path, output, backbone, kwargs, options, ray, progress=in_log)
                       if on_ray else extract_videos(input_path, output, model, options, progress=in_log))
    except FolderBusyError as exc:
        raise click.ClickException(str(exc) + ("" if shard else " (the shards of one run, --shard i/N, may run "
                                                                "side by side)")) from None
    except OutputError as exc:  # disk full or read-only: say what was kept, then why it stopped
        if exc.summary is not None:
            click.echo(exc.summary.report(), err=True)
        raise click.ClickException(str(exc)) from None
    except (FileNotFoundError, PermissionError, ValueError, WorkerStartError) as exc:
        raise click.ClickException(str(exc)) from None
    except KeyboardInterrupt:
        click.echo("interrupted: finished videos are kept; rerun the same command to resume",
                   err=True)
        sys.exit(130)
    click.echo(summary.report(), err=True)
    if not summary.ok:
        sys.exit(1)


@click.command("merge")
@click.argument("features", type=NonEmptyPath(exists=True, file_okay=False))
def merge(features: str) -> None:
    """Check that every `--shard i/N` run into FEATURES finished, and join their manifests.

    Exit status: 0 merged, 1 merged but some videos failed, 2 not merged (a shard is missing,
    unfinished or inconsistent; rerun it, then merge again).
    """
    from extract.manifest import merge_shards
    from extract.store import OutputError
    from videoad.output_lock import FolderBusyError, output_lock

    try:
        with output_lock(features, command="videoad merge"):  # not while a shard still writes
            report = merge_shards(features)
    except FolderBusyError as exc:
        click.echo(one_line(f"not merged: {features}: a shard or another extraction is writing this store now ({exc.holder}); "
                   "merge once it has finished"), err=True)
        sys.exit(2)
    except (OutputError, PermissionError) as exc:
        click.echo(one_line(f"not merged: {exc}"), err=True)  # 1 says merged with failures: a script would go on
        sys.exit(2)
    for note in report.notes:
        click.echo(one_line(f"note: {note}"), err=True)
    if report.problems:
        click.echo("not merged:", err=True)
        for problem in report.problems:
            click.echo(one_line(f"  {problem}"), err=True)
        sys.exit(2)
    click.echo(one_line(f"merged {report.n_shards} shards: {report.n_done} videos done, "
               f"{len(report.failed)} failed -> {report.path}"))  # the result, on standard output as extract's
    for key, reason in report.failed.items():
        click.echo(one_line(f"  failed {key}: {reason}"), err=True)
    if report.failed:
        sys.exit(1)
