"""Which camera a watched source shows, for models fitted `--per-camera` when no `--group` is
named: a scene picture of the source's first frames (`extract.scene`) matched to each camera's
mean picture in `models.json` (`videoad.cameras.match`), as `videoad detect --model` matches a video.

A file or a stream is matched once, before watching starts; a folder's files are matched one by
one as they arrive (`CameraModels.for_feed`), so one `watch` scores several cameras, each with its
own camera's model."""
from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path

from videoad.cameras import SAME_CAMERA, describe, match, none_matched, saved_cameras, unfitted_cameras, unfitted_match
from videoad.live.model import WatchError, WatchModel
from videoad.live.sources import FileSource, FolderSource, StreamSource

#: frames read from the start of a source to make its picture (about 5 s at the motion backbone's 10 fps)
CAMERA_FRAMES = 48


class CameraModels:
    """The per-camera models of one folder: each camera's mean scene picture, and its model, every
    one loaded at start from one reading of models.json (loaded as sources first showed them, a
    refit into the folder meanwhile, which can number the cameras anew, scored a file with
    another camera's model under this one's name)."""

    def __init__(self, model_dir, groups: Mapping, device: str | None = None, index: tuple | None = None,
                 allow_pickle: bool = False):
        self.model_dir, self.groups, self.device = Path(model_dir), groups, device
        self._index, self._allow_pickle = index, allow_pickle
        self.known = saved_cameras(groups)
        self.unfitted = unfitted_cameras(index[1]) if index is not None else {}  # seen at the fit, no model
        self.listing = "; ".join(describe(g, groups[g]) for g in sorted(groups))
        self._loaded: dict[str, WatchModel] = {}
        self._lock = threading.Lock()  # folder sources' scorers load models from their own threads

    @classmethod
    def of(cls, model_dir, device: str | None = None, allow_pickle: bool = False) -> "CameraModels | None":
        """The folder's cameras when its models were fitted per camera (two or more, each with its
        picture); None otherwise, or when the index cannot be read (loading the model says why)."""
        from videoad.video.index import read_index

        try:
            index_path, index = read_index(model_dir)
        except ValueError:
            return None
        groups, mode = index["groups"], index["config"].get("mode")
        # one camera's model beside cameras the fit left without one is per-camera too: a file of
        # those was scored with the one model (detect --model leaves it out, saying why)
        if mode != "per-camera" or not isinstance(groups, Mapping) or not groups or \
                (len(groups) < 2 and not unfitted_cameras(index)):
            return None
        if len(saved_cameras(groups)) != len(groups):
            return None
        cameras = cls(model_dir, groups, device, (index_path, index), allow_pickle)
        for camera in groups:  # now, while the files are those this index names
            cameras.model(camera)
        return cameras

    def model(self, camera: str) -> WatchModel:
        """The camera's model, loaded once; a camera fitted per level of activity (`activity_levels:
        apart`, either level matched by its picture) loads as its pair, which picks the level by
        activity as the stream goes (`videoad.live.scorer`)."""
        entry = self.groups.get(camera)
        level = entry.get("activity_level") if isinstance(entry, Mapping) else None
        name = str(level["of"]) if isinstance(level, Mapping) and level.get("of") else camera
        with self._lock:
            if name not in self._loaded:
                first = next(iter(self._loaded.values()), None)  # its backbone shared: one network
                wm = WatchModel.load(self.model_dir, name, self.device, built=first,  # a pair by its group's name
                                     index=self._index, allow_pickle=self._allow_pickle)
                for m in (wm.levels.models.values() if wm.levels is not None else (wm,)):
                    m.cameras = self  # a source switching camera mid-way: videoad.live.scorer
                self._loaded[name] = wm
            return self._loaded[name]

    def identify(self, feed) -> tuple[str | None, float | None, str | None]:
        """(the camera a feed's first CAMERA_FRAMES frames show or None, the scene correlation; None
        when no frame could be read; where they show a camera the fit left without a model, why).
        Opens the feed once more: a file is read twice, a stream connected to twice."""
        from extract.scene import picture_of_stream

        picture, size = picture_of_stream(feed.open(), CAMERA_FRAMES)
        if picture is None:
            return None, None, None
        camera, sim = match(picture, size, self.known)
        return camera, sim, None if camera is not None else unfitted_match(picture, size, self.unfitted)

    def for_feed(self, feed) -> tuple[WatchModel | None, str, float | None]:
        """(the model of the camera `feed` shows, its name or why none, the scene correlation); the
        model is None when the feed shows none of the cameras or has no frame to tell it by."""
        try:
            camera, sim, unfitted = self.identify(feed)
        except Exception as exc:  # noqa: BLE001 - an unreadable file: its reader reports it as well
            return None, feed.mask(f"cannot read its first frames to tell its camera ({type(exc).__name__}: "
                                   f"{exc})"), None
        if sim is None:
            return None, "no frame to tell its camera by", None
        if camera is None:
            return None, unfitted or none_matched(sim, self.known, SAME_CAMERA, "models'"), sim
        return self.model(camera), camera, sim

    def choose(self, sources) -> tuple[dict, list[str]]:
        """Each source's model: a file's or a stream's camera is told now (one that shows none, or
        has no frame, is an error listing the cameras); a folder's files are told as they arrive
        (the value is this object). Returns (source name -> WatchModel or self, one line per source)."""
        chosen, lines = {}, []
        for source in sources:
            if isinstance(source, FolderSource):
                chosen[source.name] = self
                lines.append(f"{source.name}: each file's camera told as it arrives")
                continue
            if not isinstance(source, (FileSource, StreamSource)):
                raise WatchError(f"{source.name}: frames given from Python carry no camera to tell; name one "
                                 f"with --group ({self.listing})")
            feed = next(source.feeds(threading.Event()))
            wm, name, sim = self.for_feed(feed)
            if wm is None and sim is None and isinstance(source, StreamSource):
                # down at start-up (a camera rebooting, a service up before the network): watched all the
                # same, reopened as any stream; its view, once it comes, switches it to its camera's model
                first = sorted(self.known)[0]
                chosen[source.name] = self.model(first)
                lines.append(f"{source.name}: its camera cannot be told now ({name}); scored with {first}'s "
                             "model until its view is told, then with its own camera's")
                continue
            if wm is None:
                raise WatchError(f"{source.name}: {name}; name one with --group ({self.listing}), or leave the "
                                 "source out")
            chosen[source.name] = wm
            lines.append(f"{source.name}: {name} (scene correlation {sim:.2f})")
        return chosen, lines

