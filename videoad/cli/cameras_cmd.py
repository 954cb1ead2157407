"""`videoad cameras`: the cameras a feature store's videos show, told from their scene pictures."""
from __future__ import annotations

import json
from pathlib import Path

import click


@click.command("cameras")
@click.argument("features", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--threshold", type=click.FloatRange(-1, 1), default=None,
              help="Correlation at or above which two videos' pictures show one camera [default: the one "
              "--per-camera uses, 0.85].")
@click.option("--sheet", type=click.Path(dir_okay=False, path_type=Path),
              help="Also draw every video's scene picture, a block of rows per camera, to this PNG.")
@click.option("--json", "as_json", is_flag=True, help="Print the survey as JSON.")
def cameras(features: Path, threshold: float | None, sheet: Path | None, as_json: bool) -> None:
    """List the cameras the videos of FEATURES show (what `videoad detect --per-camera` would fit a
    model for), from the scene picture `videoad extract` keeps with each video: each camera's
    videos, how alike they are, and the nearest other camera. No fit, no video decoded."""
    from videoad import cameras as cams
    from videoad.video import open_store

    try:
        store = open_store(features)
        found = cams.survey(store, threshold=cams.SAME_CAMERA if threshold is None else threshold)
        if not found["videos"]:
            raise ValueError(f"{features}: the feature store holds no videos")
        if sheet is not None:
            cams.contact_sheet(store, found, sheet)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(json.dumps(found, indent=2) if as_json else cams.survey_text(found))
    if sheet is not None and not as_json:
        click.echo(f"pictures: {sheet}")
