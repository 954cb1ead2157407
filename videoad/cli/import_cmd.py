"""`videoad import ...`: convert features made elsewhere into a feature store (extract.importers)."""
from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Iterator

import click

from extract.sources import one_line

from .settings import FiniteFloat, NonBlankText, NonEmptyPath, check_output_folder, count


@click.group(name="import")
def import_features() -> None:
    """Import features made by other tools into a videoad feature store."""


def _report(result) -> None:
    click.echo(f"written {len(result.written)}, already present {len(result.skipped)}, "
               f"failed {len(result.failed)}")
    for path, reason in result.failed:
        click.echo(one_line(f"FAILED {path}: {reason}"), err=True)
    for note in result.notes:
        click.echo(one_line(f"warning: {note}"), err=True)
    if result.stopped:
        click.echo(f"stopped: the store cannot be written, {result.not_tried} file(s) not tried; the files "
                   "written stay, and the same command run again imports the rest", err=True)
    if result.failed:
        raise SystemExit(1)


@contextlib.contextmanager
def _held(out: Path, src: Path) -> Iterator[None]:
    """The store held for this import (an extraction or another import into it at the same time is
    refused, naming the holder; a folder of another kind of output is refused); its errors as the
    command's."""
    from videoad import output_kinds as kinds
    from videoad.output_lock import FolderBusyError, output_lock

    check_output_folder(out, kinds.FEATURES, {"SRC": src})  # a usage error, as every command's
    try:
        with output_lock(out, command="videoad import"):
            (out / kinds.STORE_MARK).touch()  # a store with no manifest, told as one (`output_kinds`)
            yield
    except FolderBusyError as exc:
        raise click.ClickException(str(exc)) from None
    except (ValueError, OSError) as exc:
        raise click.ClickException(str(exc)) from exc


#: the slowest rate an imported video may run at: a frame a thousand seconds (1e-300 was taken, and
#: every later time overflowed the report's); the fastest is the extractor's (extract.clips.MAX_PLAUSIBLE_FPS)
MIN_FPS = 0.001


@import_features.command("sultani")
@click.argument("src", type=NonEmptyPath(exists=True, path_type=Path))
@click.option("-o", "--output", "out", required=True, type=NonEmptyPath(file_okay=False, path_type=Path),
              help="Feature store folder to write.")
@click.option("--annotations", required=True, type=NonEmptyPath(exists=True, dir_okay=False, path_type=Path),
              help="Annotation file with frame counts, e.g. UCF-Crime Test_Annotation.txt.")
@click.option("--fps", default=30.0, show_default=True, type=FiniteFloat(min=MIN_FPS, max=240),
              help="Frame rate recorded in the store (UCF-Crime: 30).")
@click.option("--overwrite", is_flag=True, help="Replace videos already in the store.")
def sultani_cmd(src: Path, out: Path, annotations: Path, fps: float, overwrite: bool) -> None:
    """Sultani et al.'s 32-segment C3D text files (SRC: a folder of <video>.txt or one file)."""
    from extract.importers import import_sultani

    with _held(out, src):
        result = import_sultani(src, out, annotations, fps=fps, overwrite=overwrite)
    _report(result)


@import_features.command("npy")
@click.argument("src", type=NonEmptyPath(exists=True, path_type=Path))
@click.option("-o", "--output", "out", required=True, type=NonEmptyPath(file_okay=False, path_type=Path),
              help="Feature store folder to write.")
@click.option("--annotations", type=NonEmptyPath(exists=True, dir_okay=False, path_type=Path),
              help="Annotation file with frame counts; keys become its <Class>/<video> paths.")
@click.option("--suffix", default="", show_default=True,
              help="Take only <video><suffix>.npy and strip the suffix (RTFM: _i3d; video_features: _rgb).")
@click.option("--clip-len", default=16, show_default=True, type=count(),
              help="Frames each row of an array covers (the source's clip length): row i is frames "
                   "i*stride to i*stride + clip-len - 1.")
@click.option("--stride", default=16, show_default=True, type=count(),
              help="Frames between the starts of consecutive rows (the source's clip step).")
@click.option("--crops", default="mean", show_default=True,
              help="For (n, crops, dim) arrays: mean, keep (concatenate) or a crop index.")
@click.option("--fps", default=30.0, show_default=True, type=FiniteFloat(min=MIN_FPS, max=240),
              help="Frame rate of the source videos, recorded in the store.")
@click.option("--backbone", default="unknown", show_default=True, type=NonBlankText(), help="Recorded in the store.")
@click.option("--layer", default="unknown", show_default=True, type=NonBlankText(), help="Recorded in the store.")
@click.option("--overwrite", is_flag=True, help="Replace videos already in the store.")
def npy_cmd(src: Path, out: Path, annotations: Path | None, suffix: str, clip_len: int, stride: int,
            crops: str, fps: float, backbone: str, layer: str, overwrite: bool) -> None:
    """Per-video .npy arrays (video_features, RTFM-style releases), found recursively under SRC."""
    from extract.importers import import_npy

    if crops not in ("mean", "keep") and not crops.isdigit():
        raise click.BadParameter("use mean, keep or a non-negative crop index", param_hint="--crops")
    with _held(out, src):
        result = import_npy(src, out, frame_counts=annotations, suffix=suffix, clip_len=clip_len,
                            stride=stride, crops=crops if not crops.isdigit() else int(crops),
                            fps=fps, backbone=backbone, layer=layer, overwrite=overwrite)
    _report(result)
