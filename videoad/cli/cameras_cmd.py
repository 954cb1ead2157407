"""`videoad cameras`: the cameras a feature store's videos show, told from their scene pictures."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from extract.sources import one_line

from .settings import FiniteFloat, NonEmptyPath


@click.command("cameras")
@click.argument("features", type=NonEmptyPath(exists=True, file_okay=False, path_type=Path))
@click.option("--threshold", type=FiniteFloat(-1, 1), default=None,
              help="Correlation at or above which two videos' pictures show one camera [default: the one "
              "--per-camera uses, 0.85]. It groups this survey only: --model matches videos at 0.85 always, as "
              "`detect --model` does.")
@click.option("--sheet", type=NonEmptyPath(dir_okay=False, path_type=Path),
              help="Also draw every video's scene picture, a block of rows per camera, to this PNG.")
@click.option("--model", "model_dir", type=NonEmptyPath(exists=True, file_okay=False, path_type=Path),
              help="Models saved --per-camera: also say which of their cameras each video matches (what "
              "`videoad detect FEATURES --model DIR` scores it with).")
@click.option("--json", "as_json", is_flag=True, help="Print the survey as JSON.")
def cameras(features: Path, threshold: float | None, sheet: Path | None, model_dir: Path | None,
            as_json: bool) -> None:
    """List the cameras the videos of FEATURES show (what `videoad detect --per-camera` would fit a
    model for), from the scene picture `videoad extract` keeps with each video: each camera's
    videos, how alike they are, and the nearest other camera. No fit, no video decoded."""
    from videoad import cameras as cams
    from videoad.video import open_store
    from videoad.video.levels import store_split

    cut = cams.SAME_CAMERA if threshold is None else threshold
    try:
        store = open_store(features)
        found = cams.survey(store, threshold=cut)
        if not found["videos"]:
            from extract.store import empty_store_message

            raise ValueError(empty_store_message(features))
        for cam in found["cameras"]:  # a camera's day and night: what detect fits apart (videoad.video.levels)
            split = store_split(store, cam["videos"])
            if split:
                cam["activity_split"] = split
        if model_dir is not None:
            # at the correlation detect --model matches with, whatever --threshold groups the survey at
            found["model"] = _matches(store, found, model_dir, cams.SAME_CAMERA)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    drawn, sheet_failed = None, False
    if sheet is not None:  # after the survey: a store without pictures still gets its survey printed
        try:
            drawn = cams.contact_sheet(store, found, sheet)
        except ValueError as exc:
            click.echo(one_line(f"no pictures drawn: {exc}"), err=True)
        except OSError as exc:  # a folder that does not exist, read-only, ...: the survey still printed
            click.echo(one_line(f"--sheet {sheet}: not written ({exc.strerror or exc})"), err=True)
            sheet_failed = True
    if as_json:
        click.echo(json.dumps(found, indent=2))
        if sheet_failed:
            sys.exit(1)
        return
    click.echo(cams.survey_text(found))
    for cam in found["cameras"]:
        if cam.get("activity_split"):
            click.echo(one_line(f"{cam['name']}: " + levels_line(cam["activity_split"])))
    if model_dir is not None:
        click.echo(one_line(f"against the cameras of {model_dir}:"))
        for key, m in found["model"].items():
            if m["camera"]:
                said = f"{m['camera']} (correlation {m['correlation']:.2f})"
            elif m.get("unfitted"):
                said = f"none ({m['unfitted']}): left out"
            elif m["correlation"] <= -1.0:  # `match`'s mark of frames of another shape
                said = "none (its frames' shape is that of none of the cameras): left out"
            else:
                said = f"none (best correlation {m['correlation']:.2f}, under {cams.SAME_CAMERA:g}): left out"
            click.echo(one_line(f"  {key}: {said}"))
    if drawn is not None:
        click.echo(one_line(f"pictures: {drawn}"))
    if sheet_failed:
        sys.exit(1)  # the survey is printed; the picture asked for is not there


def levels_line(split: dict) -> str:
    """A camera whose videos fall into two levels of activity, as `videoad cameras` says it."""
    from videoad.coverage import listed

    busier = split["busier"]
    return (f"its videos fall into two levels of activity: {len(busier)} ({listed(busier, 4)}) move in "
            f"{split['ratio']:.1f}x the share of the picture of the other {split['quieter']} (night and day?); "
            "detect fits a model per level (activity_levels: apart) where each has min_clips clips")


def _matches(store, found: dict, model_dir: Path, threshold: float) -> dict:
    """Each pictured video's camera among the saved models' (`videoad.cameras.match`, as detect --model)."""
    from videoad.cameras import match_many, pictures_of, saved_cameras, unfitted_cameras, unfitted_match
    from videoad.video import MODELS_INDEX
    from videoad.video.index import read_index
    from videoad.video.levels import route_groups, saved_levels

    index_path, index = read_index(model_dir)
    groups = index["groups"]
    known = saved_cameras(groups)
    if not known:
        raise ValueError(f"{model_dir}: its models were not fitted per camera (no camera pictures in {MODELS_INDEX})")
    keys = [key for cam in found["cameras"] for key in cam["videos"]]
    pics, sizes = pictures_of(store, keys)
    unfitted = unfitted_cameras(index)
    out = {}
    for key, pic, size, (camera, sim) in zip(keys, pics, sizes, match_many(pics, sizes, known, threshold)):
        out[key] = {"camera": camera, "correlation": sim}
        why = None if camera is not None else unfitted_match(pic, size, unfitted, threshold)
        if why:  # a camera the fit saw and left without a model
            out[key]["unfitted"] = why
    levels = saved_levels(groups, str(index_path))
    if levels:  # a camera fitted per level of activity: each video to its level, as detect --model sends it
        by_camera: dict[str, list[str]] = {}
        for key, m in out.items():
            if m["camera"] is not None:
                by_camera.setdefault(m["camera"], []).append(key)
        for level, routed in route_groups(store, by_camera, levels).items():
            for key in routed:
                out[key]["camera"] = level
    return dict(sorted(out.items()))
