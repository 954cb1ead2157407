"""Timeline plots: one figure per video, the analyst's view of a detect run.

The curve is each clip's score at the clip's middle frame, the very numbers of the event table
(`evaluate` spreads clip scores over frames instead; drawing that mean would put a different
number under every peak). Time in seconds runs along the bottom, frame numbers along the top
(frames only when the fps is unknown). Events are shaded and numbered as in the report, each
with its peak marked; the alarm line is dashed; ground truth, when given, is a band along the
bottom (the legend tells a video labelled normal from one the annotations do not name). The
y-axis names the score's unit and may be shared between videos (`ylim`) so that a calm video
looks calm. Below, the peak frame of each of the strongest events (or of the highest
clip when there is none), read by seeking. PNG or SVG, by the file extension.

Text: titles carry video names, which may be in any script. Fonts that have the glyphs are used
when installed (Noto CJK, WenQuanYi, ...); characters no installed font has are written as
``\\uXXXX`` escapes instead of producing a warning per glyph.
"""
from __future__ import annotations

import contextlib
import functools
import logging
import math
import os
from dataclasses import dataclass
from pathlib import Path, PureWindowsPath

import numpy as np
from matplotlib import patheffects
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure

from extract.clock import readable_start
from videoad import output_keys
from videoad.datasets.errors import AnnotationError
from videoad.events import Event, event_name, find_events, fmt_score, fmt_time
from videoad.names import file_stems  # noqa: F401  (the report's and the tests' import)
from videoad.names import worker_console, worker_console_args
from videoad.scores import ScoreSet, VideoScores

log = logging.getLogger(__name__)

FORMATS = (".png", ".svg")
EVENT_RGB = "#f28e2b"
EVENT_ALPHA = 0.22  # the event's fill: light (1.21:1 on white), so that the curve reads over it
#: each event span's edge, so that its extent is seen (WCAG's 3:1 for a mark: 4.3:1 on white, 3.6:1
#: on the fill); the report's viewer marks an event in the same colour (report.css)
EVENT_EDGE_RGB = "#d9480f"
CURVE_RGB = "#1f4e79"
#: the curve's halo, in the axes' colour, a point wider on each side: over the ground-truth band the
#: curve read at 2.35:1 against the green (the band lies under it); it reads against its halo now
CURVE_HALO_RGB, CURVE_HALO_PT = "#ffffff", 1.0
#: the ground-truth band, opaque: 3.7:1 on white and 3.05:1 on an event's fill (#2ca02c at alpha 0.8
#: was 2.63:1), a bluer green than #2ca02c, which the red-green deficiencies barely told from the
#: event's edge (each mark's colour 20+ apart from the others' in CIELAB under simulated protanopia,
#: deuteranopia and tritanopia: tests/test_report.py)
TRUTH_RGB = "#209858"
#: scene cuts: violet, dotted, behind the curve (grey #7a7a7a was 8.6 in CIELAB from the damaged frames'
#: grey hatching, to every reader; this one is 42+ from every span's and the band's colour and the
#: curve's, with or without a colour-vision deficiency, and 4.4:1 on an event's fill)
CUT_RGB = "#aa00ee"
#: frames filled in for damaged data (their clips read no motion): grey hatching and edge on no fill,
#: 3.2:1 on white (light grey at alpha 0.35 was 1.28:1); lighter than a pause's edge, over which the
#: curve reads (2.7:1)
DAMAGE_RGB = "#909090"
#: a pause in the recording (no footage, the curve broken across it): a light grey fill (1.18:1)
#: edged in dark grey, 7:1 on white and 5.9:1 on the fill
PAUSE_RGB, PAUSE_ALPHA, PAUSE_EDGE_RGB = "#d9d9d9", 0.5, "#595959"
#: installed fonts worth falling back to for names in other scripts, in order of preference
FALLBACK_FONTS = ("Noto Sans CJK JP", "Noto Sans CJK SC", "Noto Sans CJK TC", "Source Han Sans",
                  "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "Droid Sans Fallback", "AR PL UMing CN",
                  "Noto Sans", "Noto Sans Arabic", "Noto Sans Devanagari")


# -- text and file names -------------------------------------------------------------------------

@functools.cache
def _fonts() -> tuple[tuple[str, ...], frozenset[int]]:
    """(font families to use, code points they cover): DejaVu Sans plus installed fallbacks."""
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    families, covered = ["DejaVu Sans"], set()
    paths = {f.name: f.fname for f in font_manager.fontManager.ttflist}
    for name in ("DejaVu Sans", *FALLBACK_FONTS):
        if name not in paths:
            continue
        try:
            covered.update(FT2Font(paths[name]).get_charmap())
        except (OSError, RuntimeError):
            continue
        if name != "DejaVu Sans":
            families.append(name)
    return tuple(families), frozenset(covered)


def safe_text(text: str) -> str:
    """`text` with the characters no installed font can draw written as \\uXXXX escapes, and each
    `$` escaped (matplotlib reads text between two as a formula: `refund_$20_$50.mp4` failed)."""
    covered = _fonts()[1]
    return "".join(c if ord(c) in covered or c in "\n\t" else f"\\u{ord(c):04x}"
                   for c in str(text)).replace("$", "\\$")


@contextlib.contextmanager
def font_context():
    """matplotlib settings under which text falls back to the installed fonts glyph by glyph."""
    from matplotlib import rc_context

    with rc_context({"font.family": "sans-serif", "font.sans-serif": list(_fonts()[0])}):
        yield


# -- the timeline ---------------------------------------------------------------------------------

def top_clips(v: VideoScores, k: int) -> list[int]:
    """Indices of the k highest-scoring clips, no two of them overlapping in frames."""
    chosen: list[int] = []
    for i in np.argsort(-v.scores, kind="stable"):
        a, b = v.frames[i]
        if all(b < v.frames[j, 0] or a > v.frames[j, 1] for j in chosen):
            chosen.append(int(i))
        if len(chosen) == k:
            break
    return chosen


#: the y-range's room above the highest score, as a share of the range
HEADROOM = 0.15


def shared_ylim(videos) -> tuple[float, float]:
    """One y-range for every timeline of a run: from 0 (or the lowest score) to above the peak; over
    the finite scores and lines alone (one clip's inf or NaN would make every axis unusable)."""
    finite = [s for v in videos for s in (np.asarray(v.scores, np.float64),) if np.isfinite(s).any()]
    lines = [float(v.threshold) for v in videos if v.threshold is not None and np.isfinite(v.threshold)]
    lo = min([0.0] + [float(np.nanmin(np.where(np.isfinite(s), s, np.nan))) for s in finite])
    hi = max([lo] + lines + [float(np.nanmax(np.where(np.isfinite(s), s, np.nan))) for s in finite])
    # room above the peak for the strongest events' labels (at 8% the top one sat on the axis' edge)
    return lo, hi + HEADROOM * (hi - lo if hi > lo else 1.0)


@dataclass
class TimelineGeometry:
    """Where the axes sit in the written image (fractions of width from the left, of height from
    the top) and the x-range they show: what the report needs to mark a moment on the image."""

    path: Path
    left: float
    right: float
    top: float
    bottom: float
    x_max: float
    x_unit: str  # "s" or "frame"
    #: why the peak frames below the timeline are missing ("" when drawn or not asked for)
    thumbnail_note: str = ""


def _x(v: VideoScores):
    """(frame -> x, x -> frame, unit); seconds when the fps is known, else frames."""
    fps = v.fps if v.fps and math.isfinite(v.fps) and v.fps > 0 else None
    if fps is None:
        return (lambda f: np.asarray(f, float)), (lambda x: x), "frame"
    return v.seconds, v.frame_at, "s"  # the frames' own times where they keep no one rate


#: the legend's words for a video labelled normal (no interval) and for one the annotations do not
#: name (short: the legend shares its row with the title)
TRUTH_NORMAL = "ground truth: normal"
NO_TRUTH = "no ground truth (not annotated)"
#: the legend's words for a video whose annotation does not fit it (an interval past its end: `_truth`)
TRUTH_UNPLACED = "ground truth not drawn (past the video's end)"
#: events labelled E<n> on a timeline, the strongest first (their markers are all drawn)
LABELLED_EVENTS = 30
#: a timeline longer than this (seconds) reads its axis as m:ss or h:mm:ss
CLOCK_AXIS_S = 600.0
#: the clock axis's tick spacings (seconds): minutes, quarter hours, hours
CLOCK_STEPS = (60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)
#: a curve of more points than this is drawn as its per-bin minimum and maximum (the figure is ~1,000 px wide)
CURVE_POINTS = 4000


#: a pause in the recording longer than this (seconds) is drawn shortened to a narrow gap on a timeline
#: whose such pauses together take more than `SHORTENED_FROM` of its span (a motion-triggered camera's
#: hour between two 10 s bursts drew them as two slivers at the axis' ends, their events unread)
LONG_PAUSE_S = 30.0
SHORTENED_FROM = 0.5
#: a shortened pause's width, a share of the axis; all of them together take at most `GAPS_SHARE`
GAP_SHARE, GAPS_SHARE = 0.03, 0.25
#: gaps this wide (share of the axis) or wider are marked as breaks (//) and say how long their pauses
#: are ("paused 1 h 0 min"); narrower ones (over 16 pauses) are shaded alone: their marks were a hatched band
GAP_LABEL_SHARE = 0.015
#: the tick spacings (seconds) of a timeline with shortened pauses, and the least room between two ticks
#: (share of the axis: a label hh:mm:ss is ~50 of the axis' ~900 px)
GAP_TICK_STEPS = (0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30) + CLOCK_STEPS
GAP_TICK_ROOM = 0.08
#: frame numbers the top axis of such a timeline shows at least, where a round step has room for them
FRAME_TICKS = 6


@dataclass(frozen=True)
class TimeAxis:
    """Where a time (seconds) lies along a timeline's axis: itself, or, with `shortened` pauses
    ((start, end) in seconds), piecewise linear between knots, each such pause a narrow gap and the
    footage between at its own scale. The timeline draws everything through it and the report
    places its marks and playhead by it (its images' x-range is the axis' own)."""

    real: tuple[float, ...] = ()
    drawn: tuple[float, ...] = ()
    shortened: tuple[tuple[float, float], ...] = ()

    def __call__(self, x):
        return x if not self.real else _piecewise(x, self.real, self.drawn)

    def inverse(self, x):
        return x if not self.real else _piecewise(x, self.drawn, self.real)


def _piecewise(x, xs: tuple, ys: tuple):
    """np.interp between the knots, at slope 1 beyond them (matplotlib asks a little past the axis)."""
    x = np.asarray(x, dtype=np.float64)
    return np.interp(x, xs, ys) + np.minimum(x - xs[0], 0) + np.maximum(x - xs[-1], 0)


def timeline_axis(v: VideoScores) -> TimeAxis:
    """`v`'s timeline axis (`TimeAxis`): its pauses over `LONG_PAUSE_S` shortened where together they
    take more than `SHORTENED_FROM` of its span, each to a gap of `GAP_SHARE` of the axis (less where
    there are many: `GAPS_SHARE` in all; never wider than the pause); else the identity, and the
    timeline is drawn as it always was."""
    if _x(v)[2] != "s" or not len(pauses := v.pause_frames()):
        return TimeAxis()
    start, end = np.asarray(v.end_seconds(pauses - 1), float), np.asarray(v.seconds(pauses), float)
    long = end - start > LONG_PAUSE_S
    span = float(v.seconds(v.n_frames))
    if not long.any() or (end - start)[long].sum() <= SHORTENED_FROM * span:
        return TimeAxis()
    start, end = start[long], end[long]
    share = min(GAP_SHARE, GAPS_SHARE / len(start))
    footage = span - float((end - start).sum())
    widths = np.minimum(share * footage / (1 - len(start) * share), end - start)
    cut = np.concatenate([[0.0], np.cumsum(end - start - widths)[:-1]])  # time taken out before each pause
    real = np.column_stack([start, end]).ravel()
    drawn = np.column_stack([start - cut, start - cut + widths]).ravel()
    return TimeAxis(tuple(map(float, real)), tuple(map(float, drawn)), tuple(zip(map(float, start), map(float, end))))


def _pause_words(s: float) -> str:
    """A pause's length as its gap says it: 45 s, 5 min 30 s, 1 h 0 min."""
    s = int(round(s))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h} h {m} min" if h else f"{m} min {sec} s" if m else f"{sec} s"


def _gap_ticks(axis: TimeAxis, x_max: float, clock: bool) -> list[float]:
    """Ticks (axis places) on each stretch of footage between shortened pauses, no two closer than
    `GAP_TICK_ROOM` of the axis (their labels overlapped). Each stretch wide enough to hold a label
    gets one first, at its roundest time (`_roundest`: many short bursts fell between the round
    steps, unlabelled), narrower ones one where there is room, then the same round step of real time
    fills in, later ticks kept first so that a burst's start is read."""
    steps = [t for t in GAP_TICK_STEPS if t >= 1 or not clock]  # a clock's labels are whole seconds
    step = next((t for t in steps if x_max / t <= 10), steps[-1])
    room = GAP_TICK_ROOM * x_max
    edges = [0.0, *(t for pause in axis.shortened for t in pause), float(axis.inverse(x_max))]
    stretches = list(zip(edges[::2], edges[1::2]))
    wide, narrow = [], []
    for k, (lo, hi) in enumerate(stretches):  # a label within the stretch (or past the axis' own ends)
        a = 0.0 if k == 0 else float(axis(lo)) + room / 2
        b = x_max if k == len(stretches) - 1 else float(axis(hi)) - room / 2
        if a <= b:
            wide.append(_roundest(float(axis.inverse(a)), float(axis.inverse(b)), steps))
        else:
            narrow.append(_roundest(lo, hi, steps))
    rounds = [t * step for lo, hi in stretches[::-1]
              for t in range(math.floor(hi / step + 1e-9), math.ceil(lo / step - 1e-9) - 1, -1)]
    ticks = [float(axis(t)) for t in wide]  # apart by their stretches' room
    for x in axis(np.asarray(narrow + rounds, float)):
        if all(abs(x - t) >= room for t in ticks):
            ticks.append(float(x))
    return sorted(ticks)


def _frame_ticks(f2x, n_frames: int, x_max: float) -> list[int]:
    """The top axis' frame numbers where frames do not lie evenly along the axis (shortened pauses,
    bursts at other rates, a phone's slowing down): the multiples of one round step, each kept where
    no tick kept is nearer than `GAP_TICK_ROOM` of the axis, the step that keeps the most (the
    locator's even frame steps crowded a burst of 30 frames a second into overlapping labels beside
    bursts of one); the coarsest step that keeps `FRAME_TICKS` does."""
    from matplotlib.ticker import MaxNLocator

    room, best = GAP_TICK_ROOM * x_max, []
    for bins in (4, 10, 25, 60, 150):  # coarsest first: a finer step must keep more
        kept: list[tuple[int, float]] = []
        for f in MaxNLocator(bins, steps=[1, 2, 5, 10], integer=True).tick_values(0, n_frames):
            f = int(round(f))
            if 0 <= f <= n_frames and all(abs(float(f2x(f)) - x) >= room for _, x in kept):
                kept.append((f, float(f2x(f))))
        if len(kept) > len(best):
            best = kept
        if len(best) >= FRAME_TICKS:
            break
    return [f for f, _ in best]


def _roundest(lo: float, hi: float, steps: list[float]) -> float:
    """The time in [lo, hi] that is a multiple of the largest of `steps` having one there (the one
    nearest the middle); the middle where none has."""
    mid = (lo + hi) / 2
    for step in sorted(steps, reverse=True):
        near = [t * step for t in (math.floor(mid / step), math.ceil(mid / step)) if lo <= t * step <= hi]
        if near:
            return min(near, key=lambda t: abs(t - mid))
    return mid


def _draw_gaps(ax, axis: TimeAxis, x_max: float) -> bool:
    """Each shortened pause whose gap has the room (`GAP_LABEL_SHARE`) marked as a break in the axis
    (// on its edges, top and bottom) and labelled with its length; whether any was (the axis' label
    says // only then)."""
    band = ax.get_xaxis_transform()
    gaps = [(b - a, *map(float, axis(np.asarray([a, b])))) for a, b in axis.shortened]
    gaps = [(length, x0, x1) for length, x0, x1 in gaps if x1 - x0 >= GAP_LABEL_SHARE * x_max]
    if not gaps:
        return False
    edges = [x for _, x0, x1 in gaps for x in (x0, x1)]
    ax.plot(edges * 2, [0] * len(edges) + [1] * len(edges), transform=band, ls="none", marker=[(-1, -2), (1, 2)],
            ms=9, mew=1.2, color="#444444", clip_on=False, label="_nolegend_")
    for length, x0, x1 in gaps:
        ax.text((x0 + x1) / 2, 0.5, f"paused {_pause_words(length)}", transform=band, rotation=90, ha="center",
                va="center", fontsize=7, color="#444444")
    return True


def _hms(x: float, hours: bool) -> str:
    """`x` seconds as h:mm:ss (`hours`) or m:ss; '' before 0 (a tick left of the axis)."""
    if x < 0:
        return ""
    h, rem = divmod(int(round(x)), 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if hours else f"{h * 60 + m}:{sec:02d}"


def _envelope(x: np.ndarray, y: np.ndarray, at: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The curve itself, or for a long video (216,000 clips in a day) each bin's lowest and highest
    point in order: every peak stays visible, at a few thousand points. `at`: each point's frame,
    given with the points kept."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(y) <= CURVE_POINTS:
        return x, y, np.asarray(at)
    bins = CURVE_POINTS // 2
    edges = np.linspace(0, len(y), bins + 1).astype(int)
    kept = []
    for a, b in zip(edges[:-1], edges[1:]):
        lo, hi = a + int(np.argmin(y[a:b])), a + int(np.argmax(y[a:b]))
        kept += sorted({lo, hi})
    return x[kept], y[kept], np.asarray(at)[kept]


def _between_pauses(x: np.ndarray, y: np.ndarray, mids: np.ndarray, pauses) -> tuple[np.ndarray, np.ndarray]:
    """The curve broken (a NaN) where a pause in the recording lies between two clips (`pauses`: the
    frames one lies just before; each clip on the side of its middle frame, as for its events,
    `videoad.events`): one line drawn across an hour's pause read as an hour scored."""
    if not len(pauses):
        return x, y
    part = np.searchsorted(np.asarray(pauses, dtype=np.int64), mids, side="right")
    cuts = np.flatnonzero(np.diff(part)) + 1
    return np.insert(np.asarray(x, float), cuts, np.nan), np.insert(np.asarray(y, float), cuts, np.nan)


def _when(e: Event) -> str:
    """Where an event peaks, written as the report's table writes it (2:48:44.8, not 10124.8 s)."""
    return fmt_time(e.peak_s, e.peak_frame)


#: the text of a peak frame that could not be read: its size, and the share of a box's width one
#: character takes at that size (DejaVu Sans averages ~0.6 em)
NOTE_FONT, NOTE_EM = 7, 0.6
NOTE_LINES = 8


def _note_lines(note: str, box_width_in: float) -> str:
    """`note` (it names the source: often a long path) broken into lines that fit a thumbnail's box:
    one line as wide as three boxes squeezed the timeline above to nothing (matplotlib's layout
    gave up, its x label under the boxes' titles) and ran over the neighbouring boxes."""
    import textwrap

    width = max(12, int(box_width_in * 72 / (NOTE_FONT * NOTE_EM)))
    return textwrap.fill(note, width, max_lines=NOTE_LINES, placeholder=" …", break_on_hyphens=False)


def timeline(v: VideoScores, out_path, **kw) -> Path:
    """Write the timeline of one video to `out_path` (.png or .svg); see `draw_timeline`."""
    drawn = draw_timeline(v, out_path, **kw)
    _say_missing_thumbnails([v.video], [drawn], kw.get("source_root"))
    return drawn.path


def _truth(annotation, n_frames: int) -> list[tuple[int, int]] | None:
    """`annotation`'s intervals on a video of `n_frames`; None where one cannot be placed on it (it
    starts past the end: the wrong video, or the wrong file), warned naming the file and the video.
    That timeline is drawn without them: the first such video stopped `plot` (and a report's
    rerun), the other videos' timelines not drawn."""
    try:
        return annotation.clipped_intervals(n_frames)
    except AnnotationError as exc:
        log.warning("timeline drawn without ground truth: %s", exc)
        return None


def draw_timeline(
    v: VideoScores,
    out_path,
    *,
    events: list[Event] | None = None,
    annotation=None,
    thumbnails: int = 3,
    ylim: tuple[float, float] | None = None,
    unit: str = "score",
    source_root=None,
    shared_names=frozenset(),
    title: bool = True,
    truth_given: bool = False,
) -> TimelineGeometry:
    """Draw one video's timeline. `events`: its events numbered as in the run (default: found
    with the default event settings and numbered 1.. from the highest peak, as a run of this
    video alone would number them); `thumbnails`: how many event peak frames to show below;
    `source_root`, `shared_names`: where its source is now (`resolve_source`). `truth_given`: an
    annotation file was given, so `annotation` None means the file does not name this video (the
    legend says so; without it such a video looked like one labelled normal: no band either way)."""
    out = Path(out_path)
    if out.suffix.lower() not in FORMATS:
        raise ValueError(f"{out}: timeline format must be one of {FORMATS}")
    if events is None:  # `video_events` numbers every event 0 (the run ranks them): each read "E0"
        events = find_events(ScoreSet([v], {})).events
    seconds, x2s, xunit = _x(v)
    axis = timeline_axis(v)  # every place below is the axis' (long pauses shortened), every label the real time
    f2x, x2f = (lambda f: axis(seconds(f))), (lambda x: x2s(axis.inverse(x)))
    mids = (v.frames[:, 0] + v.frames[:, 1]) // 2
    shown = sorted(events, key=lambda e: -e.peak_score)[:thumbnails] if thumbnails > 0 else []
    fallback = None
    if thumbnails > 0 and not shown and len(v.scores):
        fallback = top_clips(v, 1)[0]
    frames_wanted = [e.peak_frame for e in shown] + ([int(mids[fallback])] if fallback is not None else [])
    images, note = {}, ""
    if frames_wanted:
        images, note = _peak_frames(v, frames_wanted, source_root, shared_names)

    with font_context():
        n_thumbs = len(frames_wanted)
        fig = Figure(figsize=(11, 4.9 if n_thumbs else 3.1), layout="constrained")
        if n_thumbs:
            slots = range(max(n_thumbs, 3))
            gs = fig.add_gridspec(2, len(slots), height_ratios=[1.5, 1.0])
            ax = fig.add_subplot(gs[0, :])
        else:
            ax = fig.add_subplot(1, 1, 1)
        truth = _truth(annotation, v.n_frames) if annotation is not None else None
        if truth is not None:
            for k, (s, e) in enumerate(truth):
                # over the spans (a pause's fill faded it under 3:1), under the curve
                ax.axvspan(f2x(s - 1), f2x(e), ymin=0, ymax=0.05, color=TRUTH_RGB, lw=0, zorder=1.5,
                           label="ground truth" if k == 0 else None)
            if not truth:  # a legend entry without a mark: no band to draw, and the reader told why
                ax.plot([], [], ls="none", label=TRUTH_NORMAL)
        elif annotation is not None:
            ax.plot([], [], ls="none", label=TRUTH_UNPLACED)
        elif truth_given:
            ax.plot([], [], ls="none", label=NO_TRUTH)
        # spans and lines as one artist each (a day's video can hold thousands of events and cuts)
        band = ax.get_xaxis_transform()  # x in data, y over the whole axes
        # where a frame ends: before a pause in the recording, a step after it, not at the next frame
        f_end = (lambda f: axis(v.end_seconds(f))) if xunit == "s" else (lambda f: f2x(np.asarray(f) + 1))
        if events:
            # the fill's alpha alone: an artist's alpha would fade its edge too; under the ground truth
            # and the curve (the edges cross the band at the bottom)
            ax.broken_barh([(float(f2x(e.start_frame)), float(f_end(e.end_frame) - f2x(e.start_frame)))
                            for e in events], (0, 1), transform=band, facecolor=to_rgba(EVENT_RGB, EVENT_ALPHA),
                            edgecolor=EVENT_EDGE_RGB, lw=0.8, zorder=0.9, label="event (its clips' frames)")
        if v.damaged_spans:  # frames filled in: no motion read there
            from matplotlib import rc_context

            with rc_context({"hatch.color": DAMAGE_RGB}):  # the edge's colour (matplotlib < 3.10 hatched black)
                ax.broken_barh([(float(f2x(a)), float(f2x(b + 1) - f2x(a))) for a, b in v.damaged_spans], (0, 1),
                               transform=band, facecolor="none", edgecolor=DAMAGE_RGB, lw=0.8, hatch="///",
                               label="damaged frames")
        if v.scene_cut_frames:  # edited footage: where the shot changes
            ax.vlines(f2x(np.asarray(v.scene_cut_frames)), 0, 1, transform=band, color=CUT_RGB, ls=":", lw=1.1,
                      label="scene cut")
        pauses = v.pause_frames() if xunit == "s" else ()
        if len(pauses):  # no footage there: shaded, and the curve not drawn across it as if scored
            ax.broken_barh([(float(f_end(p - 1)), float(f2x(p) - f_end(p - 1))) for p in pauses],
                           (0, 1), transform=band, facecolor=to_rgba(PAUSE_RGB, PAUSE_ALPHA),
                           edgecolor=PAUSE_EDGE_RGB, lw=0.8, label="pause in the recording")
        marked = axis.shortened and _draw_gaps(ax, axis, float(f2x(v.n_frames)))
        curve, = ax.plot(*_between_pauses(*_envelope(f2x(mids), v.scores, mids), pauses), color=CURVE_RGB, lw=1.3,
                         label="clip score (at its middle)", marker="o" if len(v.scores) == 1 else None,
                         ms=4)  # one clip: a point no line would show
        # haloed, so that it reads where it crosses the ground-truth band (and the marks under it)
        curve.set_path_effects([patheffects.Stroke(linewidth=1.3 + 2 * CURVE_HALO_PT, foreground=CURVE_HALO_RGB),
                                patheffects.Normal()])
        if v.threshold is not None:
            ax.axhline(v.threshold, color="#444444", ls="--", lw=1, label=f"alarm line {fmt_score(v.threshold)}")
        if events:  # named in the legend as every other mark is (not by colour and shape alone)
            ax.plot(f2x(np.array([e.peak_frame for e in events])), [e.peak_score for e in events], "v",
                    color="#7f0000", ms=6, ls="none", label="event peak")
        for e in sorted(events, key=lambda e: -e.peak_score)[:LABELLED_EVENTS]:  # more would overlap unread
            ax.annotate(event_name(e.event), (float(f2x(e.peak_frame)), e.peak_score), xytext=(0, 6),
                        textcoords="offset points", ha="center", fontsize=8, color="#7f0000", fontweight="bold")
        x_max = float(f2x(v.n_frames))
        ax.set_xlim(0, x_max)
        if ylim is not None:
            ax.set_ylim(*ylim)
        else:
            lo, hi = shared_ylim([v])
            ax.set_ylim(lo, hi)
        since = f" from {readable_start(v.start_time)}" if xunit == "s" and v.start_time else ""  # extract.clock
        span = float(axis.inverse(x_max))  # the real time the axis covers
        clock = xunit == "s" and span > CLOCK_AXIS_S  # minutes and hours read as such, not as 115,200 s
        if clock or axis.shortened:
            from matplotlib.ticker import FixedLocator, FuncFormatter, MultipleLocator

            step = next((t for t in CLOCK_STEPS if x_max / t <= 10), CLOCK_STEPS[-1])
            ax.xaxis.set_major_locator(FixedLocator(_gap_ticks(axis, x_max, clock)) if axis.shortened
                                       else MultipleLocator(step))
            ax.xaxis.set_major_formatter(FuncFormatter(
                (lambda x, _pos: _hms(float(axis.inverse(x)), span >= 3600)) if clock
                else (lambda x, _pos: f"{round(float(axis.inverse(x)), 3):g}")))
        if axis.shortened:
            since += f", pauses over {LONG_PAUSE_S:g} s shortened{' (//)' if marked else ''}"
        ax.set_xlabel((f"time ({'h:mm:ss' if span >= 3600 else 'm:ss'}){since}" if clock else f"time (s){since}")
                      if xunit == "s" else "frame")
        ax.set_ylabel("anomaly score" if unit == "score" else f"anomaly score\n{unit}", fontsize=9)
        if xunit == "s":
            top = ax.secondary_xaxis("top", functions=(x2f, f2x))
            if axis.shortened or v.variable_rate:  # frames not evenly along the axis: apart by hand
                from matplotlib.ticker import FixedLocator

                top.xaxis.set_major_locator(FixedLocator(_frame_ticks(f2x, v.n_frames, x_max)))
            top.tick_params(labelsize=7, colors="#666666")
            top.set_xlabel("frame", fontsize=7, color="#666666")
        n = len(events)
        summary = (f"{n} event{'s' if n != 1 else ''}, highest peak {fmt_score(max(e.peak_score for e in events))}"
                   if events else f"no event (highest clip {fmt_score(float(v.scores.max()))})")
        if title:
            fig.suptitle(safe_text(f"{v.video}  —  {summary}"), x=0.01, ha="left", fontsize=10)
        fig.legend(loc="outside upper right", ncol=4, fontsize=8, frameon=False)
        ax.grid(alpha=0.3)
        for n, frame in enumerate(frames_wanted):
            tax = fig.add_subplot(gs[1, n])
            tax.set_xticks([]), tax.set_yticks([])
            if frame in images:
                tax.imshow(images[frame])
            else:
                # kept out of the layout and clipped to its box, whatever its length
                tax.text(0.5, 0.5, _note_lines(safe_text(note or "frame not decoded"), fig.get_figwidth() / len(slots)
                                               * 0.9), ha="center", va="center", fontsize=NOTE_FONT,
                         transform=tax.transAxes, clip_on=True).set_in_layout(False)
            if n < len(shown):
                e = shown[n]
                tax.set_title(f"{event_name(e.event)}: peak {fmt_score(e.peak_score)} at {_when(e)}", fontsize=8)
            else:
                when = fmt_time(float(seconds(frame)) if xunit == "s" else None, frame)
                tax.set_title(f"highest clip: {fmt_score(float(v.scores[fallback]))} at {when} (no event)",
                              fontsize=8)
        save_figure(fig, out, dpi=90)
        box = ax.get_position()
    return TimelineGeometry(out, box.x0, box.x1, 1 - box.y1, 1 - box.y0, x_max, xunit, note)


# -- what a timeline is drawn from: the key a rerun keeps its picture by (videoad.output_keys) --

#: raise when the pictures change through code outside this module (events.fmt_score, the seconds
#: of `VideoScores`, ...): every kept timeline is then drawn again (this module's source is keyed itself)
DRAWING_VERSION = 1
#: matplotlib settings that never reach a saved picture (reading "backend" would pick one)
_RC_NOT_DRAWN = ("backend", "interactive", "keymap.", "macosx.", "tk.", "toolbar", "webagg.", "savefig.directory",
                 "figure.raise_window")


def drawing_environment() -> tuple:
    """What every timeline is drawn by: videoad's code (all of it: `output_keys.code_digest`),
    matplotlib and numpy, the fonts, the settings."""
    import matplotlib

    rc = matplotlib.rcParams
    settings = repr([(k, rc[k]) for k in sorted(rc.keys()) if not k.startswith(_RC_NOT_DRAWN)])
    return (DRAWING_VERSION, output_keys.code_digest(), matplotlib.__version__, np.__version__, _fonts()[0],
            settings)


def drawing_inputs(v: VideoScores, out_path, *, events: list[Event] | None = None, annotation=None,
                   thumbnails: int = 3, ylim: tuple[float, float] | None = None, unit: str = "score",
                   source_root=None, shared_names=frozenset(), title: bool = True,
                   truth_given: bool = False) -> tuple | None:
    """Everything `draw_timeline(v, out_path, **kw)` reads of its arguments (the same parameters:
    one added there and not here fails the call), for its picture's key. None where the picture
    cannot be keyed: events found by the drawing itself, or peak frames from footage that is not
    one video file (its path, size and time, and the decoder's version, key a file's frames)."""
    if events is None:
        return None
    footage = None
    if thumbnails > 0 and (events or len(v.scores)):
        footage = _footage_key(v, source_root, shared_names)
        if footage is None:
            return None
    return (Path(out_path).suffix.lower(), v.scores, v.frames, v.n_frames, v.fps, v.frame_times, v.threshold,
            v.damaged_spans, v.scene_cut_frames, v.start_time, v.video if title else None,
            [(e.event, e.start_frame, e.end_frame, e.peak_frame, e.peak_score, e.peak_s) for e in events],
            None if annotation is None else (annotation.intervals, annotation.times), truth_given,
            thumbnails, None if ylim is None else tuple(ylim), unit, footage)


def _footage_key(v: VideoScores, source_root, shared_names) -> tuple | None:
    """`footage_key` of the video file the peak frames are read from; None also where the source
    is ambiguous (the figure then says why: drawn each time)."""
    try:
        src = resolve_source(v, source_root, shared_names)
    except OSError:  # AmbiguousSource
        return None
    return footage_key(src)


def footage_key(src) -> tuple | None:
    """(file, size, time, PyAV's version): what keys the frames read from the video file `src`
    (here, and the events' pictures and clips: `evidence`); None for a frame folder (its images
    change one by one), a source not found, or no PyAV."""
    import stat

    try:
        st = os.stat(src) if src is not None else None
        import av
    except (OSError, ImportError):
        return None
    if st is None or not stat.S_ISREG(st.st_mode):
        return None
    return os.path.realpath(src), st.st_size, st.st_mtime_ns, av.__version__


#: timelines drawn in worker processes when a run has more videos than this (one figure costs
#: ~0.2 s of a core with its peak-frame boxes, nearly all of it matplotlib's layout and drawing:
#: benchmarks/bench_plot.py)
PARALLEL_FROM = 16


def save_figure(fig, out, **savefig) -> Path:
    """`fig.savefig` into `out` through a temporary beside it (`extract.store.write_atomic`): a kill
    mid-write left a 0-byte or cut PNG under its final name, which looked drawn. The format is the
    name's (.png, .svg); a PNG is drawn once (`_png`) and packed at `PNG_COMPRESSION`."""
    import io

    from extract.store import write_atomic

    out = Path(out)
    if out.is_symlink():  # written through, as a plain write was: the rename would replace the link
        out = Path(os.path.realpath(out))
    fmt = out.suffix.lstrip(".").lower() or "png"
    data = _png(fig, **savefig) if fmt == "png" else None
    if data is None:
        buf = io.BytesIO()
        fig.savefig(buf, format=fmt, **({"pil_kwargs": {"compress_level": PNG_COMPRESSION}} if fmt == "png" else {}),
                    **savefig)
        data = buf.getbuffer()
    write_atomic(out, data, sync=False)
    return out


#: zlib's level for the PNGs: 3 packs a timeline in about a third of the time of PIL's default
#: (6), the files 1-3% larger, the pixels the same (benchmarks/bench_plot.py)
PNG_COMPRESSION = 3


def _png(fig, dpi=None, **other) -> bytes | None:
    """The PNG `fig.savefig(format="png", dpi=dpi)` writes (the same bytes at the same zlib level),
    drawn once: savefig draws a figure that has a layout engine twice (a first pass, rendering
    nothing, to lay it out), the Agg canvas's own draw lays it out as it renders. None where
    savefig is asked for more or other (no dpi, other arguments; rcParams' tight box, face colour,
    transparency)."""
    import io

    import matplotlib as mpl
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    rc = mpl.rcParams
    if dpi is None or other or rc["savefig.bbox"] is not None or rc["savefig.transparent"] or any(
            not isinstance(rc[k], str) or rc[k] != "auto" for k in ("savefig.facecolor", "savefig.edgecolor")):
        return None
    before, buf = fig.dpi, io.BytesIO()
    fig.dpi = dpi
    try:
        FigureCanvasAgg(fig).print_png(buf, pil_kwargs={"compress_level": PNG_COMPRESSION})
    finally:
        fig.dpi = before
    return buf.getvalue()


def draw_timelines(jobs: list[tuple[VideoScores, Path, dict]], workers: int | None = 1,
                   keys=None) -> list[TimelineGeometry]:
    """`draw_timeline(v, path, **kw)` for every job, in order; with `workers` None (the commands'
    choice) in worker processes, one per core up to 8, when there are more than `PARALLEL_FROM`
    jobs to draw. A library call draws here unless it asks: spawned workers import the caller's
    `__main__`, which a script without an `if __name__ == "__main__":` guard does not survive
    (a pool that breaks all the same falls back to drawing here). `keys`: the key file
    (`output_keys.TIMELINE_KEYS`) of the pictures' folder: a picture drawn before from the same inputs,
    its bytes unchanged, is kept and not drawn again (a report's rerun)."""
    from extract.store import remove_stale_temporaries

    # a killed run's half-drawn pictures (and half-written key file)
    remove_stale_temporaries([path for _, path, _ in jobs] + ([Path(keys)] if keys is not None else []))
    known = output_keys.KeyFile(keys, entries="pictures", payload="geometry") if keys is not None else None
    keyed = _keys(jobs) if known is not None else [None] * len(jobs)
    drawn: list[TimelineGeometry | None] = [_kept(known, path, key) for (_, path, _), key in zip(jobs, keyed)]
    todo = [i for i, geo in enumerate(drawn) if geo is None]
    for v, _, kw in (jobs[i] for i, geo in enumerate(drawn) if geo is not None):
        if kw.get("annotation") is not None:  # what drawing it would have warned of (an interval past the end)
            _truth(kw["annotation"], v.n_frames)
    for i, geo in zip(todo, _draw([jobs[i] for i in todo], workers)):
        drawn[i] = geo
    if known is not None:  # a picture whose peak frames are missing is drawn again: the footage may be back
        known.save([(path.name, None if geo.thumbnail_note else key, [path], _geometry(geo))
                    for (_, path, _), geo, key in zip(jobs, drawn, keyed)])
    _say_missing_thumbnails([v.video for v, _, _ in jobs], drawn, jobs[0][2].get("source_root") if jobs else None)
    return drawn


def _keys(jobs: list[tuple[VideoScores, Path, dict]]) -> list[str | None]:
    """Each job's picture key (`drawing_inputs` and the run's `drawing_environment`), None: not keyable."""
    env = drawing_environment()
    inputs = [drawing_inputs(v, path, **kw) for v, path, kw in jobs]
    return [None if x is None else output_keys.key_of((env, x)) for x in inputs]


def _kept(known, path: Path, key: str | None) -> TimelineGeometry | None:
    """The geometry of a picture kept from a run before, None where it is to be drawn."""
    found = known.reuse(path.name, key, [path]) if known is not None and key is not None else None
    if found is None:
        return None
    try:
        return TimelineGeometry(path, float(found["left"]), float(found["right"]), float(found["top"]),
                                float(found["bottom"]), float(found["x_max"]), str(found["x_unit"]),
                                str(found.get("thumbnail_note", "")))
    except (KeyError, TypeError, ValueError):  # an entry not of this version's making: drawn again
        return None


def _geometry(geo: TimelineGeometry) -> dict:
    return {"left": geo.left, "right": geo.right, "top": geo.top, "bottom": geo.bottom, "x_max": geo.x_max,
            "x_unit": geo.x_unit, "thumbnail_note": geo.thumbnail_note}


def _draw(jobs: list[tuple[VideoScores, Path, dict]], workers: int | None) -> list[TimelineGeometry]:
    """The drawing of `draw_timelines`: here, or in worker processes where there are many jobs."""
    workers = min(8, os.cpu_count() or 1) if workers is None else max(1, int(workers))
    if workers == 1 or len(jobs) <= PARALLEL_FROM:
        return [draw_timeline(v, path, **kw) for v, path, kw in jobs]
    from concurrent.futures.process import BrokenProcessPool

    from extract.spawning import process_pool

    chunk = max(1, len(jobs) // (workers * 4))
    try:
        with process_pool(workers, initializer=worker_console, initargs=worker_console_args()) as pool:
            return list(pool.map(_draw_job, jobs, chunksize=chunk))
    except BrokenProcessPool as exc:
        log.warning("timelines drawn in this process: the worker processes failed (%s)", exc)
        return [draw_timeline(v, path, **kw) for v, path, kw in jobs]


def _say_missing_thumbnails(videos: list[str], drawn: list[TimelineGeometry], source_root=None) -> None:
    """One line for the timelines whose peak frames could not be read (each figure says why): a
    line per video was thousands of lines where the footage is not on the analyst's machine."""
    missing = [(video, g.thumbnail_note) for video, g in zip(videos, drawn) if g.thumbnail_note]
    if missing:
        video, note = missing[0]
        log.warning("peak frames not drawn on %d of %d timeline(s) (%s: %s%s); %s", len(missing), len(drawn), video,
                    note, "; the others' figures say why" if len(missing) > 1 else "",
                    "PyAV reads them: pip install av" if "PyAV is not installed" in note else
                    f"not under --source-root {source_root} either" if source_root is not None else
                    "--source-root names where the videos are now")


def _draw_job(job: tuple[VideoScores, Path, dict]) -> TimelineGeometry:
    v, path, kw = job
    return draw_timeline(v, path, **kw)


class AmbiguousSource(FileNotFoundError):
    """A file found under --source-root by its name alone, a name that other videos of the run have."""


def _on_windows(source: str) -> bool:
    """Whether `source` was recorded on Windows (C:\\footage\\a.mp4, \\\\nvr\\share), read here."""
    return bool(PureWindowsPath(source).drive) or "\\" in source


def _file_name(source: str) -> str:
    return PureWindowsPath(source).name if _on_windows(source) else Path(source).name


def shared_file_names(videos) -> frozenset[str]:
    """The file names that the sources of two or more of `videos` have (`cam1/clip.avi`,
    `cam2/clip.avi`): such a name found alone under --source-root could be either's file."""
    seen: dict[str, int] = {}
    for v in videos:
        if v.source:
            name = _file_name(v.source)
            seen[name] = seen.get(name, 0) + 1
    return frozenset(name for name, n in seen.items() if n > 1)


def resolve_source(v: VideoScores, source_root=None, shared_names=frozenset()) -> Path | None:
    """The video file behind `v`'s scores. With `source_root` (the videos moved since): a relative
    source under it; an absolute one not found where it was, looked for under the root by the
    video's key (its path below the folder extraction was given) and then by its file name,
    unless another video of the run has that name (`shared_names`: `shared_file_names` of the run;
    AmbiguousSource then: one camera's events were cut from another's file)."""
    src = Path(v.source) if v.source else None
    if src is None or source_root is None:
        return src
    root = Path(source_root)
    if _on_windows(v.source):
        name = _file_name(v.source)
    elif not src.is_absolute():
        return root / src
    elif src.exists():
        return src
    else:
        name = src.name
    by_key, by_name = root / v.video, root / name
    if by_key.exists():
        return by_key
    if by_name.exists():
        if name in shared_names:
            raise AmbiguousSource(f"{by_name}: found under --source-root by its file name alone, which other videos "
                                  f"of this run have too, so it may be another's file: not used (put this video's at "
                                  f"{by_key})")
        return by_name
    return src


def _peak_frames(v: VideoScores, frames: list[int], source_root,
                 shared_names=frozenset()) -> tuple[dict[int, np.ndarray], str]:
    from videoad.footage import read_frames

    try:
        src = resolve_source(v, source_root, shared_names)
        if src is None:
            raise FileNotFoundError("the scores do not name a source video")
        return read_frames(src, frames, n_frames=v.n_frames), ""
    except Exception as exc:  # noqa: BLE001 - decoders raise their own types; the figure says why
        note = f"thumbnails unavailable: {exc}"
        log.debug("%s: %s", v.video, note)  # drawn on the figure; `draw_timelines` says it once for a run
        return {}, note


def plot_run(scores: ScoreSet, output, *, videos=(), annotations=None, fmt: str = "png", thumbnails: int = 3,
             events=None, workers: int | None = 1, source_root=None) -> list[Path]:
    """Timelines of the chosen videos of a run into the folder `output` (or the file `output`
    when it ends in .png/.svg and one video is chosen), on one shared y-range; returns the files."""
    from videoad.events import score_unit

    output = Path(output)
    chosen = [v for v in scores if not videos or v.video in videos]
    missing = sorted(set(videos) - {v.video for v in scores})
    if missing:
        raise ValueError(f"{scores.path or 'scores'}: no scores for video(s) {missing}")
    single = output.suffix.lower() in FORMATS
    if single and len(chosen) != 1:
        raise ValueError(f"{output}: a single file holds one timeline; {len(chosen)} videos selected")
    events = events or find_events(scores)
    ylim, unit = shared_ylim(scores.videos), score_unit(scores.meta)
    stems = file_stems(v.video for v in scores)
    truth = annotations.match(v.video for v in scores) if annotations is not None else {}
    shared = shared_file_names(scores)
    jobs = [(v, output if single else output / f"{stems[v.video]}.{fmt}",
             dict(events=events.of(v.video), annotation=truth.get(v.video), thumbnails=thumbnails, ylim=ylim,
                  unit=unit, source_root=source_root, shared_names=shared, truth_given=annotations is not None))
            for v in chosen]
    if not single:
        from extract.sources import mark_output

        mark_output(output)  # a folder of pictures, never read as a frame folder of footage
    # a folder's timelines are kept by their keys (videoad.output_keys): a replot draws what changed
    keys = None if single else output / output_keys.TIMELINE_KEYS
    paths = [geo.path for geo in draw_timelines(jobs, workers, keys=keys)]
    if not single:
        _note_other_runs(output, paths, os.path.realpath(scores.path) if scores.path else None, whole=not videos)
    return paths


#: which scores each timeline `plot_run` wrote into a folder was drawn from (file name -> scores folder)
LISTING = ".videoad-timelines.json"


def _note_other_runs(folder: Path, drawn: list[Path], scores_path: str | None, *, whole: bool) -> None:
    """Say where `folder` also holds timelines an earlier `plot_run` drew from other scores (or,
    when this run drew `whole` scores, from videos these scores no longer have): they sit beside
    this run's on another y-range and read as this run's. Nothing is deleted (a folder of several
    runs' plots, or of one run in two formats, is the user's to keep); the listing is updated."""
    import json

    from extract.store import remove_stale_temporaries, write_atomic

    listing = folder / LISTING
    remove_stale_temporaries([listing])  # a kill mid-write of an earlier run's listing left one
    try:
        before = json.loads(listing.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        before = {}
    if isinstance(before, list):  # the listing of an earlier version: names alone, of some run
        before = dict.fromkeys((n for n in before if isinstance(n, str)), None)
    before = before if isinstance(before, dict) else {}
    # a scores folder an earlier version listed as given (`scores`, relative to where it ran): resolved
    before = {n: os.path.realpath(src) if isinstance(src, str) and not os.path.isabs(src) else src
              for n, src in before.items()}
    now = {p.name for p in drawn}
    kept = {name: src for name, src in before.items()
            if isinstance(name, str) and Path(name).name == name and name not in now and (folder / name).is_file()}
    formats = {p.suffix.lower() for p in drawn}
    others = sorted(name for name, src in kept.items()
                    if Path(name).suffix.lower() in formats and (src != scores_path or whole))
    if others:
        runs = sorted({str(kept[name]) if kept[name] else "scores not recorded" for name in others})
        log.warning("%s also holds %d timeline(s) of another run (%s; e.g. %s), on another y-range: plot into an "
                    "empty folder to keep runs apart", folder, len(others), ", ".join(runs[:2]), others[0])
    try:
        # ASCII, escapes for the rest: a scores folder whose name is not UTF-8 (surrogates) has no UTF-8
        # bytes, and failed the plot after every timeline was drawn; json reads the escapes back as written
        write_atomic(listing, (json.dumps({**kept, **dict.fromkeys(sorted(now), scores_path)}, ensure_ascii=True,
                                          indent=0) + "\n").encode("ascii"))
    except OSError as exc:  # the figures are written; only a later run's warning is lost
        log.debug("%s: not written (%s)", listing, exc)
