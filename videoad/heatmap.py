"""Where in the frame: a clip's grid-cell scores drawn over a frame, the hottest cells boxed.

The grid covers the part of the frame the backbone saw, `cell_region` = [x0, y0, x1, y1] as
fractions of the frame's width and height (the whole frame for the motion backbone; a centre
crop for a learned one); cell k is row k // cols, column k % cols, from the top-left.

Colour: from the video's typical cell score (`vmin`, transparent) to the event's hottest cell
(`vmax`, opaque), so a calm cell never looks alarming and the colour bar reads in the score's
own unit. The box (or boxes, one per connected group) surrounds the hottest cells of the clip.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

CMAP = "YlOrRd"
BOX_RGB = (0, 229, 255)  # cyan: stands out against the heat colours
MAX_ALPHA = 0.6


def cell_rects(grid: tuple[int, int], region, width: int, height: int) -> np.ndarray:
    """(n_cells, 4) pixel rectangles x0, y0, x1, y1 of the grid's cells, row-major."""
    rows, cols = grid
    x0, y0, x1, y1 = (float(r) for r in region)
    xs = np.linspace(x0 * width, x1 * width, cols + 1)
    ys = np.linspace(y0 * height, y1 * height, rows + 1)
    return np.array([[xs[c], ys[r], xs[c + 1], ys[r + 1]] for r in range(rows) for c in range(cols)])


def hot_boxes(cells: list[int], grid: tuple[int, int]) -> list[tuple[int, int, int, int]]:
    """Bounding boxes (row0, col0, row1, col1, inclusive) of the 4-connected groups of `cells`."""
    rows, cols = grid
    left = set(int(c) for c in cells)
    boxes = []
    while left:
        stack, group = [left.pop()], []
        while stack:
            c = stack.pop()
            group.append(c)
            r, k = divmod(c, cols)
            for rr, kk in ((r - 1, k), (r + 1, k), (r, k - 1), (r, k + 1)):
                n = rr * cols + kk
                if 0 <= rr < rows and 0 <= kk < cols and n in left:
                    left.remove(n)
                    stack.append(n)
        rs, ks = [g // cols for g in group], [g % cols for g in group]
        boxes.append((min(rs), min(ks), max(rs), max(ks)))
    return sorted(boxes)


def _levels(cells: np.ndarray, vmin: float, vmax: float) -> np.ndarray:
    span = vmax - vmin
    return np.clip((np.asarray(cells, float) - vmin) / span, 0.0, 1.0) if span > 0 else np.zeros(len(cells))


def _lut(name: str = CMAP) -> np.ndarray:
    from matplotlib import colormaps

    return (colormaps[name](np.linspace(0, 1, 256))[:, :3] * 255).astype(np.uint8)


def burn(frame: np.ndarray, cells: np.ndarray, grid: tuple[int, int], region, vmin: float, vmax: float,
         hot: list[int] | None = None) -> np.ndarray:
    """The frame with the heat map blended in and the hot cells boxed (for clips), RGB uint8."""
    import cv2

    h, w = frame.shape[:2]
    t = _levels(cells, vmin, vmax)
    colours = _lut()[(t * 255).astype(int)]
    heat = np.zeros((h, w, 3), np.float32)
    alpha = np.zeros((h, w, 1), np.float32)
    for (x0, y0, x1, y1), c, a in zip(cell_rects(grid, region, w, h), colours, t):
        ys, xs = slice(int(round(y0)), int(round(y1))), slice(int(round(x0)), int(round(x1)))
        heat[ys, xs] = c
        alpha[ys, xs] = MAX_ALPHA * a
    out = (frame.astype(np.float32) * (1 - alpha) + heat * alpha).astype(np.uint8)
    thick = max(1, round(min(w, h) / 160))
    rects = cell_rects(grid, region, w, h)
    for r0, c0, r1, c1 in hot_boxes(hot or [], grid):
        a, b = rects[r0 * grid[1] + c0], rects[r1 * grid[1] + c1]
        cv2.rectangle(out, (int(a[0]), int(a[1])), (int(b[2]) - 1, int(b[3]) - 1), BOX_RGB, thick)
    return out


def heat_figure(frame: np.ndarray | None, out_path, *, cells: np.ndarray | None = None,
                grid: tuple[int, int] | None = None, region=(0, 0, 1, 1), vmin: float = 0.0, vmax: float = 1.0,
                hot: list[int] | None = None, title: str = "", unit: str = "score", note: str = "",
                ignored: list[int] | None = None) -> Path:
    """Write the peak frame with its heat map, boxes and colour bar to a PNG (or SVG).

    Without cell scores: the frame alone, saying so; without a frame: the note in its place.
    `ignored`: cells the run left out (`ignore_cells`), hatched grey: nothing there is watched.
    """
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    from videoad.plots import safe_text

    has_heat = frame is not None and cells is not None and grid is not None
    fig = Figure(figsize=(5.6, 4.4), layout="constrained")
    ax = fig.add_subplot(1, 1, 1)
    ax.set_xticks([]), ax.set_yticks([])
    if frame is None:
        ax.text(0.5, 0.5, safe_text(note or "frame not available"), ha="center", va="center", wrap=True, fontsize=9,
                transform=ax.transAxes)
    else:
        h, w = frame.shape[:2]
        ax.imshow(frame, interpolation="bilinear")
        if has_heat:
            rows, cols = grid
            t = _levels(cells, vmin, vmax).reshape(rows, cols)
            x0, y0, x1, y1 = (float(r) for r in region)
            extent = (x0 * w, x1 * w, y1 * h, y0 * h)
            im = ax.imshow(np.asarray(cells, float).reshape(rows, cols), cmap=CMAP, vmin=vmin, vmax=vmax,
                           alpha=MAX_ALPHA * t, extent=extent, interpolation="nearest")
            rects = cell_rects(grid, region, w, h)
            for r0, c0, r1, c1 in hot_boxes(hot or [], grid):
                a, b = rects[r0 * cols + c0], rects[r1 * cols + c1]
                ax.add_patch(Rectangle((a[0], a[1]), b[2] - a[0], b[3] - a[1], fill=False,
                                       ec=np.array(BOX_RGB) / 255, lw=2.2))
            for c in ignored or ():
                a = rects[c]
                ax.add_patch(Rectangle((a[0], a[1]), a[2] - a[0], a[3] - a[1], fc=(0.5, 0.5, 0.5, 0.45),
                                       ec="0.3", hatch="//", lw=0.8))
            if ignored:
                ax.set_xlabel("hatched: cells left out (ignore_cells)", fontsize=8)
            ax.set_xlim(0, w), ax.set_ylim(h, 0)
            bar = fig.colorbar(im, ax=ax, shrink=0.85, pad=0.01)
            bar.set_label(f"cell score, {unit}" if unit != "score" else "cell score", fontsize=8)
            bar.ax.tick_params(labelsize=7)
        elif note:
            ax.set_xlabel(safe_text(note), fontsize=8)
    if title:  # over the figure, from its left edge: an axes title started mid-figure over a narrow upright frame
        fig.suptitle(safe_text(title), fontsize=9, x=0.01, ha="left")
    from videoad.plots import save_figure

    return save_figure(fig, out_path, dpi=100)
