"""Synthetic fixed-camera surveillance videos with known anomalous intervals.

Why: the demo and the tests need videos whose ground truth is exact and that cost nothing to
ship. The scene is a one-way pedestrian corridor seen by a fixed camera: a textured background
(smoothed noise, paving, a few static props) and walkers who cross left to right at walking
pace. An anomalous video adds one event:

- ``runner``: someone crossing at three to four times walking speed;
- ``wrong_way``: a walker going right to left, against the flow;
- ``crowd``: people converging from all sides on one spot, standing there, then dispersing;
- ``object``: a vehicle-sized object driving through the corridor.

One more event is not among the demo's (`EVENTS`) and is asked for by name (`BRIEF_EVENTS`):

- ``dash``: a walker who bursts forward at six times walking speed for half a second, then walks
  on; the interval is the burst alone. It measures what brief events lose when a fast camera's
  frames are resampled (docs/defaults.md).

The event's interval runs from the first to the last frame in which its actor(s) are inside the
picture, written 1-based and inclusive in the UCF-Crime annotation format, so the same readers and
evaluation serve synthetic and real data. Every random choice comes from the one `seed`.
"""
from __future__ import annotations

import math
import os
import re
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np

from videoad.datasets.annotations import VideoAnnotation, write_ucf_crime

EVENTS = ("runner", "wrong_way", "crowd", "object")
#: events generated only when named: not part of the demo's videos
BRIEF_EVENTS = ("dash",)
CATEGORY = {"runner": "Runner", "wrong_way": "WrongWay", "crowd": "Crowd", "object": "Object", "dash": "Dash",
            None: "Normal"}
#: the dash: how long the burst lasts (seconds) and how much faster than the walker's pace it goes
DASH_SECONDS = 0.5
DASH_SPEEDUP = 6.0


@dataclass
class SceneConfig:
    """Scene geometry and pacing; defaults keep a video small and fast to extract."""

    width: int = 160
    height: int = 120
    fps: float = 15.0
    n_frames: int = 300
    walk_speed: tuple[float, float] = (0.7, 1.1)  # px per frame at 15 fps (step 1)
    run_speed: tuple[float, float] = (3.0, 3.6)
    spawn_rate: float = 0.03  # new walkers per frame
    noise_sigma: float = 2.0  # sensor noise, grey levels
    #: time between frames relative to the speeds above (which are per 1/15 s): 0.5 renders the
    #: same scene at 30 fps (`at_frame_rate`); every per-frame motion and rate is scaled by it
    step: float = 1.0
    #: the background (texture and props) drawn from this seed instead of each video's own: one
    #: camera's videos then share their background, as a real camera's do (None: a new background
    #: per video, the demo's; the development sets of several cameras set it)
    background_seed: int | None = None

    def __post_init__(self) -> None:
        """Sizes the scene can be drawn in (props above and below the corridor: a smaller picture
        failed inside numpy with "low >= high"), said with their minimum."""
        for name, least in (("width", MIN_WIDTH), ("height", MIN_HEIGHT), ("n_frames", 1)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
                raise ValueError(f"SceneConfig: {name} must be a whole number >= {least}, got {value!r}")
        for name in ("fps", "step"):
            if not (isinstance(getattr(self, name), (int, float)) and 0 < getattr(self, name) < math.inf):
                raise ValueError(f"SceneConfig: {name} must be a number > 0, got {getattr(self, name)!r}")
        if not 0 <= self.noise_sigma < math.inf:
            raise ValueError(f"SceneConfig: noise_sigma must be a number >= 0, got {self.noise_sigma!r}")


#: the smallest picture the scene is drawn in (`_background`'s props: above the corridor's top
#: 30%, below its bottom 15%, and a prop's 25 px from the right edge)
MIN_WIDTH, MIN_HEIGHT = 31, 54
#: the fewest frames an event can start in (its start is drawn from a share of them)
MIN_EVENT_FRAMES = 5


def at_frame_rate(cfg: SceneConfig, fps: float) -> SceneConfig:
    """The same scene, the same seconds long, filmed at `fps`: people move as fast in pixels per
    second, so a higher rate sees them move fewer pixels per frame."""
    ratio = cfg.fps / float(fps)
    return replace(cfg, fps=float(fps), n_frames=int(round(cfg.n_frames / ratio)), step=cfg.step * ratio)


@dataclass
class _Actor:
    x: float
    y: float
    vx: float
    vy: float
    scale: float
    shade: tuple[int, int, int]
    phase: float = 0.0
    kind: str = "person"  # person | vehicle
    event: bool = False
    # crowd behaviour: go to `target`, wait `dwell` frames, then leave along `exit_v`
    target: tuple[float, float] | None = None
    dwell: int = 0
    exit_v: tuple[float, float] | None = None
    state: str = "walk"
    seen: bool = False  # has been inside the picture
    # a dash: frames of walking before the burst, frames of the burst (state "dash" meanwhile)
    burst_in: int = -1
    burst_len: int = 0

    def bbox(self) -> tuple[float, float, float, float]:
        if self.kind == "vehicle":
            return self.x - 20 * self.scale, self.y - 10 * self.scale, self.x + 20 * self.scale, self.y + 10 * self.scale
        return self.x - 4 * self.scale, self.y - 12 * self.scale, self.x + 4 * self.scale, self.y + 13 * self.scale


def _background(cfg: SceneConfig, rng: np.random.Generator) -> np.ndarray:
    h, w = cfg.height, cfg.width
    coarse = cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), 6)
    fine = cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), 1)
    base = 120 + 25 * coarse / (np.abs(coarse).max() + 1e-6) + 6 * fine
    top, bottom = int(0.3 * h), int(0.85 * h)
    base[top:bottom] += 30  # paved corridor
    for x in range(0, w, 12):  # paving joints
        base[top:bottom, x] -= 12
    for y in range(top, bottom, 10):
        base[y, :] -= 8
    img = np.clip(base, 0, 255).astype(np.uint8)
    img = cv2.merge([img, np.clip(base * 0.97, 0, 255).astype(np.uint8), np.clip(base * 0.93, 0, 255).astype(np.uint8)])
    for _ in range(3):  # static props: benches, bins, lamp posts
        x0, y0 = int(rng.integers(5, w - 25)), int(rng.choice([rng.integers(2, top - 8), rng.integers(bottom, h - 8)]))
        cv2.rectangle(img, (x0, y0), (x0 + int(rng.integers(8, 20)), y0 + 6), tuple(int(v) for v in rng.integers(40, 90, 3)), -1)
    return img


def _draw(img: np.ndarray, a: _Actor) -> None:
    s, c = a.scale, a.shade
    x, y = int(round(a.x)), int(round(a.y))
    if a.kind == "vehicle":
        cv2.rectangle(img, (int(a.x - 20 * s), int(a.y - 10 * s)), (int(a.x + 20 * s), int(a.y + 10 * s)), c, -1)
        win = tuple(max(0, v - 50) for v in c)
        cv2.rectangle(img, (int(a.x - 12 * s), int(a.y - 7 * s)), (int(a.x + 12 * s), int(a.y - 1 * s)), win, -1)
        for dx in (-13, 13):
            cv2.circle(img, (int(a.x + dx * s), int(a.y + 10 * s)), max(1, int(3 * s)), (20, 20, 20), -1)
        return
    swing = math.sin(a.phase) * 3.5 * s
    hip = (x, int(y + 4 * s))
    cv2.line(img, hip, (int(x + swing), int(y + 13 * s)), c, max(1, int(1.5 * s)))
    cv2.line(img, hip, (int(x - swing), int(y + 13 * s)), c, max(1, int(1.5 * s)))
    cv2.ellipse(img, (x, y), (max(1, int(3 * s)), max(1, int(6 * s))), 0, 0, 360, c, -1)
    cv2.circle(img, (x, int(y - 9 * s)), max(1, int(2.5 * s)), tuple(min(255, v + 40) for v in c), -1)


def _walker(cfg: SceneConfig, rng: np.random.Generator, x: float | None = None) -> _Actor:
    top, bottom = 0.35 * cfg.height, 0.8 * cfg.height
    speed = rng.uniform(*cfg.walk_speed) * cfg.step
    shade = tuple(int(v) for v in rng.integers(20, 110, 3))
    return _Actor(
        x=-8.0 if x is None else x, y=float(rng.uniform(top, bottom)), vx=speed,
        vy=float(rng.normal(0, 0.03)) * cfg.step,
        scale=float(rng.uniform(0.9, 1.15)), shade=shade, phase=float(rng.uniform(0, 2 * np.pi)),
    )


def _inside(a: _Actor, cfg: SceneConfig) -> bool:
    """Whether any pixel of the actor is drawn in the picture (exact: drawn on a blank mask where
    its box crosses the border; a box wholly inside holds every pixel drawn, and one is)."""
    x0, y0, x1, y1 = a.bbox()
    if x1 < -8 or y1 < -8 or x0 > cfg.width + 8 or y0 > cfg.height + 8:
        return False
    if x0 >= 0 and y0 >= 0 and x1 < cfg.width - 1 and y1 < cfg.height - 1:
        return True
    mask = np.zeros((cfg.height, cfg.width, 3), dtype=np.uint8)
    _draw(mask, replace(a, shade=(255, 255, 255)))
    return bool(mask.any())


def _event_actors(event: str, cfg: SceneConfig, rng: np.random.Generator) -> list[_Actor]:
    """Actors of one event, placed so that they enter the picture a little after they start."""
    w, h, step = cfg.width, cfg.height, cfg.step
    y = float(rng.uniform(0.4 * h, 0.75 * h))
    shade = tuple(int(v) for v in rng.integers(20, 110, 3))
    if event == "runner":
        return [_Actor(-8.0, y, float(rng.uniform(*cfg.run_speed)) * step, 0.0, 1.05, shade, event=True)]
    if event == "wrong_way":
        return [_Actor(w + 8.0, y, -1.2 * float(rng.uniform(*cfg.walk_speed)) * step, 0.0, 1.05, shade, event=True)]
    if event == "object":
        speed = float(rng.uniform(1.6, 2.2)) * step
        direction = rng.choice([-1.0, 1.0])
        x = -25.0 if direction > 0 else w + 25.0
        return [_Actor(x, y, direction * speed, 0.0, 1.0, (int(rng.integers(120, 200)), 60, 60), kind="vehicle", event=True)]
    if event == "crowd":
        cx, cy = float(rng.uniform(0.35 * w, 0.65 * w)), float(rng.uniform(0.45 * h, 0.65 * h))
        n = int(rng.integers(6, 9))
        actors = []
        for k in range(n):
            ang = 2 * np.pi * k / n + rng.normal(0, 0.2)
            r = 0.0  # start just outside the picture along the ray from the meeting point
            while 0 <= cx + r * math.cos(ang) < w and 0 <= cy + r * math.sin(ang) < h:
                r += 2.0
            r += 8.0
            sx, sy = cx + r * math.cos(ang), cy + r * math.sin(ang)
            tx, ty = cx + 9 * math.cos(ang), cy + 6 * math.sin(ang)
            d = math.hypot(tx - sx, ty - sy)
            speed = float(np.clip(d / rng.uniform(40, 50), 0.9, 1.8)) * step  # arrive at about the same time
            a = _Actor(sx, sy, speed * (tx - sx) / d, speed * (ty - sy) / d, 1.0,
                       tuple(int(v) for v in rng.integers(20, 110, 3)), event=True,
                       target=(tx, ty), dwell=int(int(rng.integers(30, 45)) / step), state="gather")
            a.exit_v = (speed * math.cos(ang + 0.3), speed * math.sin(ang + 0.3))
            actors.append(a)
        return actors
    if event == "dash":  # walks in, bursts forward when 30-55% of the way across, walks on
        walk = float(rng.uniform(*cfg.walk_speed)) * step
        at = float(rng.uniform(0.3, 0.55)) * w
        return [_Actor(-8.0, y, walk, 0.0, 1.05, shade, event=True, burst_in=int(round((at + 8.0) / walk)),
                       burst_len=max(1, int(round(DASH_SECONDS * cfg.fps))))]
    raise ValueError(f"unknown event {event!r}; choose one of {EVENTS + BRIEF_EVENTS}")


def _step(a: _Actor, rng: np.random.Generator, step: float = 1.0) -> None:
    if a.state == "gather" and a.target is not None:
        dx, dy = a.target[0] - a.x, a.target[1] - a.y
        if math.hypot(dx, dy) <= math.hypot(a.vx, a.vy):
            a.x, a.y, a.vx, a.vy, a.state = a.target[0], a.target[1], 0.0, 0.0, "dwell"
    elif a.state == "dwell":
        a.dwell -= 1
        a.x += rng.normal(0, 0.3 * math.sqrt(step))
        if a.dwell <= 0 and a.exit_v is not None:
            a.vx, a.vy, a.state = a.exit_v[0], a.exit_v[1], "leave"
    elif a.burst_in == 0:
        a.burst_in, a.vx, a.state = -1, a.vx * DASH_SPEEDUP, "dash"
    elif a.burst_in > 0:
        a.burst_in -= 1
    elif a.state == "dash":
        a.burst_len -= 1
        if a.burst_len <= 0:
            a.vx, a.state = a.vx / DASH_SPEEDUP, "walk"
    a.x += a.vx
    a.y += a.vy
    a.phase += 0.35 * math.hypot(a.vx, a.vy) + (0.0 if a.state != "dwell" else 0.05 * step)


def render_video(
    event: str | None = None, *, seed: int = 0, cfg: SceneConfig | None = None
) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Frames (T, H, W, 3) uint8 BGR and the event's 1-based inclusive intervals (empty if none)."""
    cfg = cfg or SceneConfig()
    if event is not None and event not in EVENTS + BRIEF_EVENTS:
        raise ValueError(f"unknown event {event!r}; choose one of {EVENTS + BRIEF_EVENTS}")
    if event is not None and cfg.n_frames < MIN_EVENT_FRAMES:  # failed inside numpy ("low >= high")
        raise ValueError(f"event {event!r} in {cfg.n_frames} frame(s): a video with an event needs "
                         f"n_frames >= {MIN_EVENT_FRAMES} (more for it to enter the picture)")
    rng = np.random.default_rng(seed)
    bg = _background(cfg, rng if cfg.background_seed is None else np.random.default_rng(cfg.background_seed))
    # start with the corridor already populated
    walkers = [_walker(cfg, rng, x=float(rng.uniform(0, cfg.width))) for _ in range(int(rng.integers(2, 5)))]
    event_actors: list[_Actor] = []
    n = cfg.n_frames
    start = int(rng.integers(int(0.25 * n), int(0.45 * n))) if event else -1
    if event == "wrong_way" or event == "crowd":  # long events: start earlier so they end in the video
        start = int(rng.integers(int(0.15 * n), int(0.3 * n)))
    frames = np.empty((n, cfg.height, cfg.width, 3), dtype=np.uint8)
    visible = np.zeros(n, dtype=bool)
    for t in range(n):
        if t == start:
            event_actors = _event_actors(event, cfg, rng)
        if rng.random() < cfg.spawn_rate * cfg.step:
            walkers.append(_walker(cfg, rng))
        img = bg.copy()
        for a in sorted(walkers + event_actors, key=lambda a: a.y):
            _draw(img, a)
        noise = rng.normal(0, cfg.noise_sigma, img.shape)
        frames[t] = np.clip(img.astype(np.float32) + noise, 0, 255).astype(np.uint8)
        for a in event_actors:
            a.seen = a.seen or _inside(a, cfg)
        # a dash is anomalous while it bursts, the other events while their actors are in view
        visible[t] = any(_inside(a, cfg) and (event != "dash" or a.state == "dash") for a in event_actors)
        for a in walkers + event_actors:
            _step(a, rng, cfg.step)
        walkers = [a for a in walkers if a.x < cfg.width + 10]
        event_actors = [a for a in event_actors if not a.seen or _inside(a, cfg) or a.state == "gather"]
    intervals = []
    if visible.any():
        idx = np.flatnonzero(visible)
        # contiguous runs (a crowd member may step out and back in at the edge)
        breaks = np.flatnonzero(np.diff(idx) > 1)
        starts = np.r_[idx[0], idx[breaks + 1]]
        ends = np.r_[idx[breaks], idx[-1]]
        intervals = [(int(s) + 1, int(e) + 1) for s, e in zip(starts, ends)]
    elif event is not None:
        raise RuntimeError(f"event {event!r} never entered the picture (seed {seed}); use more frames")
    return frames, intervals


def write_video(path, frames: np.ndarray, fps: float) -> Path:
    """Write BGR frames as MJPG AVI (decodable by OpenCV, PyAV and decord without extra codecs)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    h, w = frames.shape[1:3]
    with _c_target(path) as target:
        writer = cv2.VideoWriter(target, cv2.VideoWriter_fourcc(*"MJPG"), float(fps), (w, h))
        if not writer.isOpened():
            raise RuntimeError(f"{path}: OpenCV could not open an MJPG video writer")
        try:
            for f in frames:
                writer.write(np.ascontiguousarray(f))
        finally:
            writer.release()
    return path


@contextmanager
def _c_target(path: Path) -> Iterator[str]:
    """A name OpenCV's writer can take for `path` (UTF-8 text). A path that is not UTF-8 (a user's
    `--workdir` in a Latin-1 folder `lat\xe9/`, read as surrogates) crashed OpenCV (SIGSEGV, like its
    readers: extract.decode.c_path): the video is written under an ASCII temporary name in the same
    folder, reached as `/proc/self/fd/N/` of the folder opened by its bytes, and renamed to `path`
    when the block ends without an error (removed if it raises)."""
    text = os.fspath(path)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        pass
    else:
        yield text
        return
    if not os.path.isdir("/proc/self/fd"):
        raise RuntimeError(f"{path}: its path is not valid UTF-8, which OpenCV cannot write to here: "
                           "choose another folder (or rename it, e.g. `convmv -f latin1 -t utf8`)")
    suffix = path.suffix if path.suffix.isascii() else ".avi"  # the writer picks its container by it
    tmp = f".videoad-{uuid.uuid4().hex}{suffix}"
    fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        try:
            yield f"/proc/self/fd/{fd}/{tmp}"
            os.replace(path.parent / tmp, path)
        except BaseException:
            try:
                os.unlink(path.parent / tmp)
            except OSError:
                pass
            raise
    finally:
        os.close(fd)


@dataclass
class SynthDataset:
    """What `generate` wrote: the videos' root, the annotation files, and each video's truth."""

    root: Path
    annotation_file: Path  # UCF-Crime temporal format
    counts_file: Path  # Test_Annotation.txt format (with frame counts)
    videos: list[VideoAnnotation] = field(default_factory=list)


def generate(
    out_dir,
    *,
    n_normal: int = 2,
    events: tuple[str, ...] | list[str] = EVENTS,
    per_event: int = 1,
    seed: int = 0,
    cfg: SceneConfig | None = None,
) -> SynthDataset:
    """Write ``<out_dir>/videos/<Category>/<Category>NNN.avi`` and two annotation files.

    Each video gets its own child seed of `seed` by its place in the plan (normal videos first,
    then the events in order): the same arguments give the same videos, and adding or removing a
    video changes those after it.
    """
    cfg = cfg or SceneConfig()
    out = Path(out_dir)
    root = out / "videos"
    plan: list[str | None] = [None] * int(n_normal) + [e for e in events for _ in range(int(per_event))]
    if not plan:
        raise ValueError("nothing to generate: n_normal=0 and no events")
    seeds = np.random.SeedSequence(seed).spawn(len(plan))
    counters: dict[str, int] = {}
    videos = []
    for event, ss in zip(plan, seeds):
        cat = CATEGORY[event]
        counters[cat] = counters.get(cat, 0) + 1
        rel = f"{cat}/{cat}{counters[cat]:03d}.avi"
        frames, intervals = render_video(event, seed=int(ss.generate_state(1)[0]), cfg=cfg)
        write_video(root / rel, frames, cfg.fps)
        videos.append(VideoAnnotation(rel, cat, tuple(intervals), int(frames.shape[0]), "synthetic"))
    _remove_unplanned(root, {v.video for v in videos})
    ann = write_ucf_crime(out / "Temporal_Anomaly_Annotation.txt", videos)
    counts = write_ucf_crime(out / "Test_Annotation.txt", videos, with_counts=True)
    return SynthDataset(root, ann, counts, videos)


def _remove_unplanned(root: Path, made: set[str]) -> None:
    """Remove the videos an earlier `generate` into the same folder made and this one did not
    (Normal005.avi of a plan of six after one of four): they were extracted and scored beside the
    new ones, with no line in the annotation files. Only names of its own form are touched."""
    for cat in set(CATEGORY.values()):
        folder = root / cat
        if not folder.is_dir():
            continue
        for f in folder.iterdir():
            if re.fullmatch(rf"{cat}\d{{3,}}\.avi", f.name) and f"{cat}/{f.name}" not in made and f.is_file():
                f.unlink()
