"""Which camera a watched source shows, for models fitted `--per-camera` when no `--group` is
named: a scene picture of the source's first frames (`extract.scene`) matched to each camera's
mean picture in `models.json` (`videoad.cameras.match`), as `videoad detect --model` matches a video."""
from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from pathlib import Path

from videoad.live.model import WatchError
from videoad.live.sources import FileSource, StreamSource

#: frames read from the start of a source to make its picture (about 5 s at the motion backbone's 10 fps)
CAMERA_FRAMES = 48


def choose_camera(model_dir, sources) -> tuple[str, str] | None:
    """(the camera group every source shows, a line saying how well) for a folder of per-camera
    models; None when the models were not fitted per camera (or the index cannot be read: loading
    the model says why). A source that matches no camera, sources of different cameras, or a
    folder (its files arrive later) are errors that list the cameras, to be named with --group."""
    from extract.scene import picture_of_stream
    from videoad.cameras import describe, match

    try:
        index = json.loads((Path(model_dir) / "models.json").read_text())
        groups, mode = index["groups"], index["config"]["mode"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    known = {g: e["camera"] for g, e in groups.items() if isinstance(e, Mapping) and isinstance(e.get("camera"), Mapping)}
    if mode != "per-camera" or len(groups) < 2 or len(known) != len(groups):
        return None
    listing = "; ".join(describe(g, groups[g]) for g in sorted(groups))
    found = {}
    for source in sources:
        if not isinstance(source, (FileSource, StreamSource)):
            raise WatchError(f"{source.name}: the camera a folder shows is not known before its files arrive; name "
                             f"one with --group ({listing})")
        picture, size = picture_of_stream(next(source.feeds(threading.Event())).open(), CAMERA_FRAMES)
        if picture is None:
            raise WatchError(f"{source.name}: no frame to tell its camera by; name one with --group ({listing})")
        found[source.name] = match(picture, size, known)
    cams = {camera for camera, _ in found.values()}
    said = "; ".join(f"{name}: {camera or 'no camera'} (scene correlation {sim:.2f})"
                     for name, (camera, sim) in found.items())
    if None in cams or len(cams) > 1:
        raise WatchError(f"{model_dir}: the sources do not all show one camera of these models ({said}); name one "
                         f"with --group ({listing}), or watch each camera's sources in a process of its own")
    return cams.pop(), said
