"""Does a normal history cover the footage it scores? Grid cells it never shows moving.

Why: on the one real scene no setting was chosen on (vtest-fresh, docs/defaults.md), the highest
scores went to people crossing a lawn the 39-second history never showed anyone on; the detector
was right that it had not seen that, and the analyst needs to know it is that, not an incident.
Motion features say it directly: each cell records the share of its pixels that moved. A cell in
which the history never moved (`STILL`, at most 2% of its pixels in any history clip) and a scored
clip does (`MOVING`, over 10%) is motion the history cannot vouch for. Both levels were read off
vtest-fresh's history and the development sets' (none of which trips them); they only raise a
warning and change no score.
"""
from __future__ import annotations

import json
from typing import Mapping

import numpy as np

#: a history cell is "still" when no history clip moved more than this share of its pixels
STILL = 0.02
#: a scored clip moves in a cell when more than this share of its pixels moved
MOVING = 0.10


def moving_share(cells: np.ndarray, attrs: Mapping) -> np.ndarray | None:
    """(n_clips, n_cells) share of each cell's pixels that moved, for motion features (their
    magnitude histogram follows the `bins` orientation values); None for any other backbone."""
    if str(attrs.get("backbone", "")) != "motion" or cells is None:
        return None
    from extract.backbones.motion import MAGNITUDE_EDGES

    options = attrs.get("backbone_options")
    options = json.loads(options) if isinstance(options, str) and options.startswith("{") else (options or {})
    bins = int(options.get("bins", 8))
    cells = np.asarray(cells)
    if cells.ndim != 3 or cells.shape[2] < bins + len(MAGNITUDE_EDGES):
        return None
    return cells[:, :, bins:bins + len(MAGNITUDE_EDGES)].sum(axis=2)


def still_cells(vids) -> list[int] | None:
    """Cells (row-major indices) in which no clip of the history `vids` moved; None when the
    features do not say (not motion, no cells)."""
    shares = [moving_share(v.cells, v.attrs) for v in vids]
    if not shares or any(s is None for s in shares):
        return None
    peak = np.concatenate(shares).max(axis=0)
    return [int(i) for i in np.flatnonzero(peak <= STILL)]


def moving_where_still(vids, still: list[int]) -> dict[str, int]:
    """Per scored video, its clips that move in a cell the history never moved in (videos with
    none left out)."""
    out = {}
    for v in vids:
        share = moving_share(v.cells, v.attrs)
        if share is None or not still:
            continue
        n = int((share[:, still] > MOVING).any(axis=1).sum())
        if n:
            out[v.key] = n
    return out


def cell_names(cells: list[int], cols: int) -> str:
    """Row-major cell indices as "(row r, col c)" (1-based), comma-separated."""
    cols = max(1, int(cols))
    return ", ".join(f"(row {i // cols + 1}, col {i % cols + 1})" for i in cells)


def warnings(groups) -> list[str]:
    """One line per group whose scored clips move where its history never did (from run.json's
    groups: `history_still_cells`, `moving_where_history_still`)."""
    lines = []
    for g in groups:
        videos = g.get("moving_where_history_still") or {}
        if not videos:
            continue
        where = cell_names(g.get("history_still_cells", []), (g.get("cell_grid") or [0, 1])[1])
        lines.append(f"group {g['group']}: the history never shows motion in grid cell(s) {where}; "
                     f"{sum(videos.values())} scored clip(s) of {len(videos)} video(s) do: their scores and events "
                     "there may be ordinary activity the history did not cover (fit on footage that shows it)")
    return lines
