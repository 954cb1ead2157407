"""`videoad table`'s work: a user's own table or folder of pictures through the detector core.

Rows come from a CSV with a header, a 2-D `.npy`, an array of an `.npz`, or a folder of pictures
(one row each, raw pixels in [0, 1]). Table columns are min-max scaled over the fitted rows, as the
KDDCUP99 protocol scales its numeric columns (`videoad.datasets.kddcup`; a column of one value
becomes 0); pictures are not scaled again. DUAD is fitted with `videoad/defaults/table.yaml` (chosen
by docs/defaults.md's protocol, "The table defaults") on a table, with the packaged image settings (`videoad/defaults/mnist.yaml` for
grey pictures, `cifar10.yaml` for colour ones, their `duad` sections) on pictures. A row is flagged
above the alarm line of the fitted rows' scores: median + 4 robust standard deviations (the video
alarm line, `group_model.alarm_line`), or the (1 - contamination) quantile; where that spread is no
spread (most rows tie, as repeated records do: `threshold`), the 95th percentile, said so.

A model folder (`save_model`) holds `table_model.json` (the columns, the scaling, the threshold),
`duad.pt` (the detector) and `fit_scores.npy` (the fitted rows' scores, for a later
`--contamination`); the JSON is removed first and written last, so a folder a kill cut short is
refused, not read half old.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from videoad.detector.validation import check_matrix, check_not_all_constant

#: what run.json and table_model.json say they are
FORMAT = "videoad-table/1"
MODEL_FORMAT = "videoad-table-model/1"
MODEL_INDEX = "table_model.json"
#: what scoring with a saved model reads of its table_model.json
MODEL_KEYS = ("kind", "columns_in", "columns", "one_hot", "picture", "scaling", "threshold", "settings", "seed")
#: written into an output folder before anything else (`output_kinds` knows the folder by it)
MARK = ".videoad-table"
PICTURE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")
#: the alarm rule of the video alarm line (videoad/defaults/detect.yaml: alarm mad, alarm_level 4)
ALARM_RULE, ALARM_LEVEL = "mad", 4.0
#: a robust spread at most this share of the scores' 1st-99th percentile range is no spread: the
#: line is then the (1 - FALLBACK_SHARE) quantile (`threshold`)
TINY_SPREAD, FALLBACK_SHARE = 0.01, 0.05
#: cells read as missing in a CSV
MISSING = ("", "na", "n/a", "nan", "null", "none", "?")
BASELINES = (("PCA", "pca"), ("kNN", "knn"), ("IsolationForest", "iforest"))
#: the kNN baseline compares with at most this many fitted rows (seeded), the reference DUAD's knn
#: score keeps under max_reference "auto": exact kNN grows with the square of the rows (100,000 KDDCUP99
#: rows: 56 s against 12 s capped, benchmarks/bench_table_knn.py); all 494,021 capped: 4 min 50 s
KNN_REFERENCE = 20_000


class TableError(ValueError):
    """An input that cannot be used as asked; the message names the file and the problem."""


@dataclass
class Rows:
    """Rows read from one input, before scaling."""

    X: np.ndarray  # (n, d) float64
    columns: list[str]  # the fitted columns' names (one-hot: "COL=value")
    source: Path
    kind: str  # "table" or "pictures"
    ids: list[str] | None = None
    labels: np.ndarray | None = None
    one_hot: dict = field(default_factory=dict)  # column -> its categories, in order
    picture: dict | None = None  # {"size": [w, h], "channels": 1 | 3, "resized": n}
    notes: list[str] = field(default_factory=list)
    columns_in: list[str] = field(default_factory=list)  # the input's columns fitted, before one-hot


# ---------------------------------------------------------------------------------------------
# reading
def is_pictures(path) -> bool:
    return Path(path).is_dir()


def read_rows(path, *, key=None, id_column=None, label_column=None, one_hot=(), size=None,
              like: dict | None = None, optional=False) -> Rows:
    """The rows of `path`. `like`: the encoding of the rows a model was fitted on (`encoding`):
    the same columns are required, a one-hot column keeps the fitted categories (a value not among
    them sets none of its columns), pictures are brought to the fitted size and channels.
    `optional`: an id or label column the file does not have is no error (a history without labels);
    True for both, or the names of those ("id_column", "label_column")."""
    p = Path(path)
    if p.is_dir():
        return _read_pictures(p, size, like)
    if not p.is_file():
        raise TableError(f"{p}: no such file or folder")
    name = p.name.lower()
    if name.endswith(".npy") or name.endswith(".npz"):
        names, numbers, text = _read_array(p, key)
        cells = None
    elif name.endswith(".csv") or name.endswith(".txt") or name.endswith(".tsv"):
        keep = {c for c in (id_column, label_column, *one_hot) if c is not None} | set((like or {}).get("one_hot") or ())
        names, numbers, text, cells = _read_csv(p, keep)
    else:
        raise TableError(f"{p}: not a table this command reads (a .csv with a header, a .npy, an .npz) nor a "
                         "folder of pictures")
    optional = ("id_column", "label_column") if optional is True else optional or ()
    if "id_column" in optional and id_column not in names:
        id_column = None
    if "label_column" in optional and label_column not in names:
        label_column = None
    return _encode(p, names, numbers, text, id_column, label_column, tuple(one_hot), like,
                   csv_file=not name.endswith((".npy", ".npz")), cells=cells)


def _read_array(p: Path, key) -> tuple[list[str], np.ndarray, None]:
    import zipfile
    import zlib

    try:
        if p.name.lower().endswith(".npz"):
            with np.load(p, allow_pickle=False) as data:
                keys = list(data.keys())
                if key is None:
                    if len(keys) != 1:
                        raise TableError(f"{p}: holds {len(keys)} arrays ({', '.join(keys[:10]) or 'none'}); name one "
                                         "with --key")
                    key = keys[0]
                elif key not in keys:
                    raise TableError(f"{p}: no array {key!r} (it holds: {', '.join(keys[:10]) or 'none'})")
                arr = data[key]
        else:
            if key is not None:
                raise TableError(f"{p}: --key names an array of an .npz; a .npy holds one")
            with open(p, "rb") as fh:
                if fh.read(6) != b"\x93NUMPY":
                    raise TableError(f"{p}: not a .npy file (it does not begin as numpy writes one); a CSV is read "
                                     "under the name .csv")
            arr = np.load(p, mmap_mode="r", allow_pickle=False)  # converted once below, not read twice
    except TableError:
        raise
    except (zipfile.BadZipFile, EOFError, OSError, zlib.error) as exc:
        raise TableError(f"{p}: not a readable numpy file, truncated or corrupt ({exc})") from None
    except ValueError as exc:  # pickled objects, a text file under the name
        raise TableError(f"{p}: not an array of numbers numpy reads without pickle ({exc})") from None
    where = f"{p}" + (f" ({key!r})" if key is not None else "")
    if arr.dtype.names:
        raise TableError(f"{where}: a structured array (fields {_listed(arr.dtype.names, 6)}); save a plain 2-D "
                         "array of numbers, e.g. np.column_stack of its fields, or a CSV with a header")
    if arr.ndim != 2:
        raise TableError(f"{where}: a table is a 2-D array (rows, columns), got shape {arr.shape}")
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool) or np.iscomplexobj(arr):
        raise TableError(f"{where}: holds {arr.dtype}, not real numbers")
    return [str(j) for j in range(arr.shape[1])], np.array(arr, dtype=np.float64), None


#: a number written with a decimal comma ("2,5"); of these, one that may be a thousands separator ("1,000")
_DECIMAL_COMMA = re.compile(r"[+-]?\d*,\d+")
_THOUSANDS_COMMA = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+")
#: a number with a thousands separator of another kind, or both separators ("1 000", "1.000,5", "1,000.5", "1'000")
_SEPARATED = re.compile(r"[+-]?\d{1,3}(?:[ .,'\u00a0\u202f]\d{3})+(?:[.,]\d+)?")
#: cells converted at once: a CSV is read in blocks of rows, never whole as text
CHUNK_CELLS = 1 << 20
_SEPARATOR_HELP = ("write numbers with a decimal point and no thousands separator (1234.5); a file of decimal "
                   "commas (1234,5) is read as such where no cell has a thousands separator or a point")


@dataclass
class CsvCells:
    """What reading a CSV learned beyond its numbers: each data row's line, and per column the first
    cell of each kind that is not a plain number (kind -> [count, row, text])."""

    lines: "np.ndarray"
    issues: dict
    notes: list


def _encoding_of(p: Path) -> str:
    with open(p, "rb") as fh:
        head = fh.read(4)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode text": UTF-16 with a byte order mark
        return "utf-16"
    return "utf-8-sig"


def _file_delimiter(fh) -> str:
    """`_delimiter` of an open CSV's first line that is not blank (the header); the file rewound."""
    first = ""
    for first in fh:
        if first.strip():
            break
    fh.seek(0)
    return _delimiter(first)


def _delimiter(line: str) -> str:
    """The delimiter of the header line: the most frequent of comma, semicolon (Excel where the decimal
    mark is a comma) and tab outside double quotes; a comma when there is none."""
    counts, quoted = dict.fromkeys(",;\t", 0), False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _not_utf8(p: Path) -> TableError:
    """Where a file that is not UTF-8 stops being so: its line and the bytes there."""
    with open(p, "rb") as fh:
        for number, raw in enumerate(fh, 1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                bad = raw[max(0, exc.start - 10):exc.end + 10]
                return TableError(f"{p}: line {number} is not UTF-8 text ({bad!r}); save the file as UTF-8 (Excel: "
                                  "'CSV UTF-8'), or convert it, e.g. iconv -f latin1 -t utf-8")
    return TableError(f"{p}: not UTF-8 text; save the file as UTF-8")


def _note(issues: dict, j: int, kind: str, i: int, cell: str) -> None:
    got = issues.setdefault(j, {}).get(kind)
    if got is None:
        issues[j][kind] = [1, i, cell]
    else:
        got[0] += 1


def _cells_slowly(cells, j: int, base: int, out: np.ndarray, issues: dict) -> None:
    """One column of a block, cell by cell: its numbers into `out`, what is not one noted."""
    for k, cell in enumerate(cells):
        s = cell.strip()
        try:
            if "_" in s:  # Python's float reads "2023_01" as 202301
                raise ValueError
            v = float(s)
        except ValueError:
            if s.lower() in MISSING:
                kind, v = ("blank" if not s else "missing"), np.nan
            elif _DECIMAL_COMMA.fullmatch(s):
                kind, v = ("comma3" if _THOUSANDS_COMMA.fullmatch(s) else "comma"), float(s.replace(",", "."))
            elif _SEPARATED.fullmatch(s):
                kind, v = "separated", np.nan
            else:
                kind, v = "text", np.nan
            _note(issues, j, kind, base + k, s)
        else:
            if not np.isfinite(v):
                _note(issues, j, "nonfinite", base + k, s)
        out[k] = v


def _read_csv(p: Path, keep=()) -> tuple[list[str], np.ndarray, dict, CsvCells]:
    """Header names, the cells as numbers (NaN where not a number), the text of the columns `keep`
    names (id, label, one-hot) and what else reading learned (`CsvCells`). Read in blocks: the text
    of other columns is never held whole."""
    from array import array

    encoding = _encoding_of(p)
    underscore = [False]

    def lines_of(fh):  # notes whether a block's lines hold "_" (the one case the fast conversion reads wrong)
        for line in fh:
            if "_" in line:
                underscore[0] = True
            yield line

    try:
        with open(p, encoding=encoding, newline="") as fh:
            reader = csv.reader(lines_of(fh), delimiter=_file_delimiter(fh), quotechar='"', doublequote=True,
                                strict=False)
            header, header_line, last_line = None, 0, 0
            for r in reader:
                start, last_line = last_line + 1, reader.line_num
                if any(cell.strip() for cell in r):
                    header, header_line = [h.strip() for h in r], start
                    break
            if header is None:
                raise TableError(f"{p}: empty; a CSV with a header line and rows under it is expected")
            d = len(header)
            _check_header(p, header, header_line)
            kept = [(j, h) for j, h in enumerate(header) if h in keep]
            text = {h: [] for _, h in kept}
            lines, issues, blocks = array("q"), {}, []
            n = 0
            per_block = max(1, CHUNK_CELLS // max(d, 1))
            underscore[0] = False
            while True:
                chunk = []
                for r in reader:
                    start, last_line = last_line + 1, reader.line_num
                    if not any(cell.strip() for cell in r):
                        continue
                    if len(r) != d:
                        extra = len(r) > d and not any(c.strip() for c in r[d:])
                        raise TableError(f"{p}: data row {n + len(chunk) + 1} (line {start}) has {len(r)} fields, the "
                                         f"header {d}" + (" (a delimiter at the end of the line?)" if extra else ""))
                    chunk.append(r)
                    lines.append(start)
                    if len(chunk) == per_block:
                        break
                if not chunk:
                    break
                blocks.append(_block(chunk, d, n, issues, underscore[0]))
                underscore[0] = False
                for j, h in kept:
                    text[h].extend(r[j].strip() for r in chunk)
                n += len(chunk)
    except UnicodeDecodeError:
        raise _not_utf8(p) from None
    except csv.Error as exc:
        raise TableError(f"{p}: not a readable CSV ({exc})") from None
    except OSError as exc:
        raise TableError(f"{p}: cannot be read ({exc.strerror or exc})") from None
    numbers = np.concatenate(blocks) if len(blocks) > 1 else blocks[0] if blocks else np.empty((0, d))
    del blocks
    cells = CsvCells(np.frombuffer(lines, dtype=np.int64), issues, [])
    _decimal_commas(p, header, cells, keep, encoding)
    header, numbers = _unnamed(p, header, numbers, cells)
    return header, numbers, text, cells


def _block(chunk, d: int, base: int, issues: dict, underscore: bool) -> np.ndarray:
    try:
        if underscore:
            raise ValueError
        block = np.array(chunk, dtype=np.float64)
        slow = ()
    except ValueError:
        block = np.empty((len(chunk), d))
        slow = set()
        for j in range(d):
            cells = [r[j] for r in chunk]
            try:
                if underscore and any("_" in c for c in cells):
                    raise ValueError
                block[:, j] = np.array(cells, dtype=np.float64)
            except ValueError:
                slow.add(j)
                _cells_slowly(cells, j, base, block[:, j], issues)
    bad = ~np.isfinite(block)
    if bad.any():  # "nan", "inf" read as numbers
        for j in np.flatnonzero(bad.any(axis=0)):
            if j not in slow:
                rows = np.flatnonzero(bad[:, j])
                _note(issues, int(j), "nonfinite", base + int(rows[0]), chunk[rows[0]][j].strip())
                issues[int(j)]["nonfinite"][0] += rows.size - 1
    return block


def _check_header(p: Path, header: list[str], line: int) -> None:
    where = f"the header (line {line})"
    seen = {}
    for j, h in enumerate(header):
        if h and h in seen:
            raise TableError(f"{p}: {where} names column {h!r} twice (columns {seen[h] + 1} and {j + 1}); give each "
                             "column its own name")
        seen[h] = j
    if header and all(h and _is_number(h) for h in header) and header != [str(j) for j in range(len(header))]:
        raise TableError(f"{p}: {where} is numbers ({_listed(header, 4)}), not column names: the first line of the "
                         "CSV must name the columns; add a header line")


def _unnamed(p: Path, header: list[str], numbers: np.ndarray, cells: CsvCells):
    """A column without a name in the header is dropped where every cell of it is empty (the
    delimiter Excel leaves at the end of each line), else refused."""
    n = numbers.shape[0]
    drop = []
    for j, h in enumerate(header):
        if h:
            continue
        blank = cells.issues.get(j, {}).get("blank", [0])[0]
        if blank == n:
            drop.append(j)
            continue
        pandas = " (pandas writes its index so: save with index=False)" if j == 0 else ""
        raise TableError(f"{p}: column {j + 1} of the header has no name but holds values{pandas}; name it")
    if not drop:
        return header, numbers
    cells.notes.append(f"{len(drop)} column(s) with no name and no value left out (a delimiter at the end of the lines)")
    keep = [j for j in range(len(header)) if j not in drop]
    cells.issues = {keep.index(j): v for j, v in cells.issues.items() if j in keep}
    return [header[j] for j in keep], numbers[:, keep]


def _decimal_commas(p: Path, header: list[str], cells: CsvCells, keep, encoding: str) -> None:
    """A column of numbers written with decimal commas ("2,5") is read so where nothing says otherwise;
    a cell that may hold a thousands separator ("1,000", "1 000", "1.000,5"), or a file that writes
    points as well, is refused: which is meant cannot be told."""
    def place(i):
        return f"data row {i + 1} (line {int(cells.lines[i])})"

    commas = []
    for j, iss in cells.issues.items():
        h = header[j]
        if h in keep or "text" in iss:
            continue  # a text column: refused or encoded as such
        if "separated" in iss or ("comma3" in iss and "comma" not in iss):
            _, i, s = iss.get("separated") or iss["comma3"]
            raise TableError(f"{p}: column {h!r} holds {s!r} ({place(i)}): a number with a thousands separator or a "
                             f"decimal comma, which is not guessed; {_SEPARATOR_HELP}")
        if "comma" in iss:
            commas.append(j)
    if not commas:
        return
    # a second look for points: in the columns of commas (1.000,5 written as "1.000,5" is refused above;
    # "1.5" beside "2,5") and in the other columns of numbers
    numeric = [j for j, h in enumerate(header) if h and h not in keep and "text" not in cells.issues.get(j, {})]
    with open(p, encoding=encoding, newline="") as fh:
        rows = (r for r in csv.reader(fh, delimiter=_file_delimiter(fh), quotechar='"') if any(c.strip() for c in r))
        next(rows, None)
        for i, r in enumerate(rows):
            for j in numeric:
                if j < len(r) and "." in r[j]:
                    c = commas[0]
                    _, ci, cs = cells.issues[c]["comma"]
                    raise TableError(f"{p}: column {header[c]!r} writes a decimal comma ({cs!r}, {place(ci)}) and "
                                     f"column {header[j]!r} a point ({r[j].strip()!r}, {place(i)}): which is the "
                                     f"decimal mark and which a thousands separator cannot be told; {_SEPARATOR_HELP}")
    cells.notes.append(f"read with decimal commas: {_listed(header[j] for j in commas)} "
                       f"(e.g. {cells.issues[commas[0]]['comma'][2]!r})")


def _encode(p: Path, names, numbers, text, id_column, label_column, one_hot, like, csv_file, cells=None) -> Rows:
    what = "column" if csv_file else "column (index)"
    for option, col in (("--id-column", id_column), ("--label-column", label_column)):
        if col is not None and col not in names:
            raise TableError(f"{p}: no {what} {col!r} for {option} (columns: {_listed(names)})")
    for col in one_hot:
        if col not in names:
            raise TableError(f"{p}: no {what} {col!r} for --one-hot (columns: {_listed(names)})")
        if col in (id_column, label_column):
            raise TableError(f"{p}: column {col!r} is given to --one-hot and as the id or label column")
    if id_column is not None and id_column == label_column:
        raise TableError(f"{p}: column {id_column!r} is given as both the id and the label column")
    n = numbers.shape[0]
    if n == 0:
        raise TableError(f"{p}: no rows" + (" under the header" if csv_file else ""))
    index = {h: j for j, h in enumerate(names)}
    issues = cells.issues if cells is not None else {}

    def place(i):  # where a row is, in a message
        return f"data row {i + 1} (line {int(cells.lines[i])})" if csv_file else f"row {i}"

    def cell(col, i):  # the same, with its column
        return f"{place(i)}, column {col!r}" if csv_file else f"row {i}, column {col}"

    ids = labels = None
    notes = list(cells.notes) if cells is not None else []
    if id_column is not None:
        ids = list(text[id_column]) if text is not None else [_number_text(v) for v in numbers[:, index[id_column]]]
        if len(set(ids)) < len(ids):
            seen, twice = set(), None
            for v in ids:
                if v in seen:
                    twice = v
                    break
                seen.add(v)
            notes.append(f"the id column {id_column!r} names some rows alike (e.g. {twice!r}); scores.csv's `row` "
                         "tells them apart")
    if label_column is not None:
        raw = numbers[:, index[label_column]].copy()
        if text is not None:  # true/false, as pandas writes a boolean column
            for i in np.flatnonzero(np.isnan(raw)):
                raw[i] = {"true": 1.0, "false": 0.0}.get(text[label_column][i].lower(), np.nan)
        bad = np.flatnonzero(~np.isin(raw, (0.0, 1.0)))
        if bad.size:
            i = int(bad[0])
            values = text[label_column] if text is not None else [_number_text(v) for v in raw]
            found = sorted({values[k] for k in range(n)}, key=str)
            hint = ("; which value is the anomaly is not guessed: recode the column as 1 for anomalies, 0 for the rest")
            if {float(v) for v in found if _is_number(v)} == {-1.0, 1.0} and all(_is_number(v) for v in found):
                hint = ("; -1/1 is read two ways (scikit-learn marks outliers -1, other tools anomalies 1): recode the "
                        "column as 1 for anomalies, 0 for the rest")
            raise TableError(f"{p}: the label column {label_column!r} holds 0 (normal) or 1 (anomaly); "
                             f"{cell(label_column, i)} is {values[i]!r} ({bad.size} such row{'s' if bad.size > 1 else ''}; "
                             f"its values: {_listed(found, 6)}){hint} (true/false are read as 1/0)")
        labels = raw.astype(np.int64)
    blocks, columns, categories = [], [], {}
    fitted = like["columns_in"] if like else None
    used = [h for h in names if h not in (id_column, label_column)]
    if fitted is not None:
        missing = [h for h in fitted if h not in used]
        extra = [h for h in used if h not in fitted]
        if missing or extra:
            source = (like.get("fitted_on") or {}).get("path")
            raise TableError(f"{p}: its columns are not those the model was fitted on: "
                             + "; ".join(s for s in (f"missing {_listed(missing)}" if missing else "",
                                                     f"not fitted {_listed(extra)}" if extra else "") if s)
                             + (f" (the fitted rows: {source})" if source else ""))
        used = list(fitted)
    for h in used:
        j = index[h]
        if h in one_hot or (like and h in like["one_hot"]):
            values = text[h] if text is not None else [_number_text(v) for v in numbers[:, j]]
            cats = like["one_hot"][h] if like and h in like["one_hot"] else sorted(set(values))
            categories[h] = list(cats)
            values = np.asarray(values, dtype=object)
            block = (values[:, None] == np.asarray(cats, dtype=object)[None, :]).astype(np.float64)
            unseen = int((block.sum(axis=1) == 0).sum())
            if unseen:  # only where the categories are the fitted rows'
                notes.append(f"{unseen} row(s) hold a value of {h!r} the fitted rows did not: none of its columns is set")
            blocks.append(block)
            columns.extend(f"{h}={c}" for c in cats)
            continue
        col = numbers[:, j]
        bad = np.flatnonzero(~np.isfinite(col))
        if bad.size:
            i = int(bad[0])
            count = f" ({bad.size} such rows)" if bad.size > 1 else ""
            if not csv_file:
                raise TableError(f"{p}: {cell(h, i)} is {float(col[i])!r}, not a finite number{count}; fill or drop "
                                 "such rows")
            iss = issues.get(j, {})
            if "text" in iss:
                k, i, shown = iss["text"]
                count = f" ({k} such rows)" if k > 1 else ""
                raise TableError(f"{p}: column {h!r} holds text ({shown!r:.40} at {place(i)}){count}; give "
                                 f"--one-hot {h} to encode it as one 0/1 column per value, --id-column {h} if it "
                                 "names the rows, or leave the column out")
            gone = sum(iss.get(kind, [0])[0] for kind in ("blank", "missing"))
            if gone == n:
                raise TableError(f"{p}: column {h!r} is empty in every row (blank or a missing-value mark such as "
                                 "NA or ?); leave the column out")
            kind, (_, i, shown) = min(((kind, v) for kind, v in iss.items()
                                       if kind in ("blank", "missing", "nonfinite")), key=lambda kv: kv[1][1])
            why = {"blank": "is missing", "missing": f"is missing ({shown!r})"}.get(
                kind, f"is {shown!r}, not a finite number")
            rows_with = int((~np.isfinite(numbers[:, [index[c] for c in used if c not in categories
                                                     and c not in one_hot and not (like and c in like["one_hot"])]]))
                            .any(axis=1).sum())
            also = f"; {rows_with} rows in all have such a value" if rows_with > bad.size else ""
            raise TableError(f"{p}: {cell(h, i)} {why}{count}{also}; fill or drop such rows")
        blocks.append(col[:, None])
        columns.append(h)
    if not blocks:
        raise TableError(f"{p}: no column left to fit (every column is the id or the label column)")
    X = np.concatenate(blocks, axis=1)
    rows = Rows(X, columns, p, "table", ids, labels, categories)
    rows.notes.extend(notes)
    rows.columns_in = used  # the input columns, before one-hot
    return rows


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _number_text(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else repr(float(v))


def _listed(names, most: int = 8) -> str:
    names = list(names)
    return ", ".join(map(repr, names[:most])) + (f" and {len(names) - most} more" if len(names) > most else "")


def _read_pictures(folder: Path, size, like: dict | None) -> Rows:
    from PIL import Image

    from videoad.datasets.images import _decode

    entries = sorted(f for f in folder.iterdir() if not f.name.startswith("."))
    files = [f for f in entries if f.is_file() and f.suffix.lower() in PICTURE_SUFFIXES]
    others = [f.name for f in entries if f.is_file() and f not in files]
    folders = [f.name for f in entries if f.is_dir()]
    if not files:
        raise TableError(f"{folder}: holds no pictures ({'/'.join(PICTURE_SUFFIXES)}) and is not a table"
                         + (f" (subfolders are not read: {_listed(folders, 4)})" if folders else ""))
    pictures, alpha = [], 0
    for f in files:
        data = f.read_bytes()
        pictures.append(_decode(data, str(f)))  # (h, w, 3) uint8, grey repeated
        alpha += _has_alpha(data)
    notes = []
    if others:
        notes.append(f"{len(others)} file(s) not read, not {'/'.join(PICTURE_SUFFIXES)}: {_listed(others, 4)}")
    if folders:
        notes.append(f"{len(folders)} subfolder(s) not read (only the folder's own pictures are): {_listed(folders, 4)}")
    if alpha:
        notes.append(f"{alpha} picture(s) with transparency: read without it (the colour under a transparent pixel "
                     "as it is stored)")
    grey = all(map(_is_grey, pictures))
    channels = 1 if grey else 3
    if like is not None:
        want = tuple(like["picture"]["size"])
        if like["picture"]["channels"] == 1 and not grey:
            odd = next(f for f, a in zip(files, pictures) if not _is_grey(a))
            raise TableError(f"{folder}: the model was fitted on grey pictures; {odd.name} is in colour")
        channels = like["picture"]["channels"]
    else:
        sizes = {(a.shape[1], a.shape[0]) for a in pictures}
        if size is None and len(sizes) > 1:
            first = pictures[0].shape
            odd = next(i for i, a in enumerate(pictures) if a.shape != first)
            raise TableError(f"{folder}: the pictures differ in size (e.g. {files[0].name} {first[1]}x{first[0]}, "
                             f"{files[odd].name} {pictures[odd].shape[1]}x{pictures[odd].shape[0]}); give --size WxH "
                             "to resize them all")
        want = tuple(size) if size is not None else sizes.pop()
    resized = 0
    rows = []
    for a in pictures:
        if (a.shape[1], a.shape[0]) != want:
            a = np.asarray(Image.fromarray(a).resize(want, Image.BILINEAR))
            resized += 1
        rows.append((a[..., :1] if channels == 1 else a).reshape(-1))
    X = np.stack(rows).astype(np.float64) / 255.0
    out = Rows(X, [f"pixel{j}" for j in range(X.shape[1])], folder, "pictures", [f.name for f in files],
               picture={"size": list(want), "channels": channels, "resized": resized})
    out.notes.extend(notes)
    if resized:
        out.notes.append(f"{resized} of {len(files)} pictures resized to {want[0]}x{want[1]}")
    out.columns_in = list(out.columns)
    return out


def _is_grey(a: np.ndarray) -> bool:
    """An (h, w, 3) picture whose three channels are one (`_decode` repeats a grey one's)."""
    return np.array_equal(a[..., 0], a[..., 1]) and np.array_equal(a[..., 0], a[..., 2])


def _has_alpha(data: bytes) -> bool:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as im:
        return im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info)


def checked(rows: Rows, fit: bool) -> np.ndarray:
    """The rows through the detectors' own checks (validation.py), the file named."""
    try:
        X = check_matrix(rows.X, name=str(rows.source), min_rows=2 if fit else 1)
        if fit:
            check_not_all_constant(X, name=str(rows.source))
    except ValueError as exc:
        msg = str(exc)
        if "rows; at least" in msg:
            what = "picture" if rows.kind == "pictures" else "row"
            msg = f"{rows.source}: {rows.X.shape[0]} {what}; a fit needs at least 2 (and DUAD many more)"
        raise TableError(msg) from None
    return rows.X


def digest(path) -> str:
    """sha256 of a file; of a folder of pictures, of its pictures' names and digests in name order."""
    p = Path(path)
    if p.is_dir():
        h = hashlib.sha256()
        for f in sorted(f for f in p.iterdir() if f.is_file() and f.suffix.lower() in PICTURE_SUFFIXES
                        and not f.name.startswith(".")):
            h.update(f.name.encode("utf-8", "surrogateescape") + b"\0" + bytes.fromhex(digest(f)))
        return h.hexdigest()
    from extract.weights import sha256_file

    return sha256_file(p)


# ---------------------------------------------------------------------------------------------
# scaling, settings, thresholds
def fit_scaling(rows: Rows) -> dict:
    if rows.kind == "pictures":
        return {"how": "none (pixels in [0, 1])"}
    lo, hi = rows.X.min(axis=0), rows.X.max(axis=0)
    return {"how": "min-max over the fitted rows (a column of one value becomes 0)", "min": lo.tolist(),
            "max": hi.tolist()}


def apply_scaling(X: np.ndarray, scaling: dict) -> np.ndarray:
    if "min" not in scaling:
        return X
    lo, hi = np.asarray(scaling["min"]), np.asarray(scaling["max"])
    span = hi - lo
    return np.where(span > 0, (X - lo) / np.where(span > 0, span, 1.0), 0.0)


def default_settings(rows: Rows) -> tuple[dict, str]:
    """DUAD's arguments for these rows and where they come from."""
    from videoad.config import defaults

    if rows.kind == "table":
        return dict(defaults("table")["duad"]), "videoad/defaults/table.yaml, its duad section"

    name = "mnist" if rows.picture["channels"] == 1 else "cifar10"
    return dict(defaults(name)["duad"]), f"videoad/defaults/{name}.yaml, its duad section"


def read_settings(path) -> dict:
    """The `duad:` section of a --config file, checked as the other configs are (file and key named)."""
    from videoad.config import ARGS, check, read_yaml
    from videoad.detector.registry import check_arguments

    user = read_yaml(path)
    check(user, {"duad": ARGS}, str(path))
    duad = dict(user.get("duad") or {})
    for key in ("contamination", "random_state"):
        if key in duad:
            option = "--contamination" if key == "contamination" else "--seed"
            raise TableError(f"{path}: duad.{key}: give it with {option}, not in the file")
    check_arguments("duad", duad, str(path), "duad")
    return duad


def threshold(fit_scores: np.ndarray, contamination: float | None) -> dict:
    """The line a row is flagged above, from the fitted rows' scores, and which rule set it.

    `contamination` given: that quantile. Otherwise the video alarm line, median + 4 robust
    standard deviations (1.4826 x the median absolute deviation), unless that spread is under
    `TINY_SPREAD` of the scores' 1st-99th percentile range: then most rows tie, or nearly, around
    the median (a table of repeated records: a 50,000-row KDDCUP99 sample has 45% of its rows on one
    score), the line would sit just above the tie and flag most of the other rows (47% of that
    sample), so the line is the (1 - `FALLBACK_SHARE`) quantile instead, and `said` says why."""
    s = np.asarray(fit_scores, dtype=np.float64).ravel()
    s = s[np.isfinite(s)]
    if contamination is not None:
        value = float(np.quantile(s, 1.0 - contamination))
        return {"rule": "contamination", "contamination": contamination, "value": value,
                "said": f"the {100 * (1 - contamination):g}th percentile of the fitted rows' scores (--contamination)"}
    from videoad.group_model import alarm_line

    centre = float(np.median(s))
    spread = 1.4826 * float(np.median(np.abs(s - centre)))
    low, high = (float(v) for v in np.quantile(s, [0.01, 0.99]))
    if spread <= TINY_SPREAD * (high - low):
        tied = float(np.unique(s, return_counts=True)[1].max()) / s.size  # the most common score's share
        value = float(np.quantile(s, 1.0 - FALLBACK_SHARE))
        return {"rule": "share", "share": FALLBACK_SHARE, "value": value, "tied": tied, "spread": spread,
                "range_1_99": high - low,
                "said": (f"the {100 * (1 - FALLBACK_SHARE):g}th percentile of the fitted rows' scores: "
                         f"{100 * tied:.0f}% of them share one score and their robust spread ({spread:.3g}) "
                         f"is under {100 * TINY_SPREAD:g}% of their 1st-99th percentile range ({high - low:.3g}), "
                         "too narrow for median + 4 robust sd (mostly repeated rows); --contamination sets the share")}
    value = alarm_line(s, ALARM_RULE, ALARM_LEVEL)
    return {"rule": ALARM_RULE, "level": ALARM_LEVEL, "value": value,
            "said": "median + 4 robust standard deviations of the fitted rows' scores (the video alarm line)"}


def fit_duad(X: np.ndarray, params: dict, seed: int):
    from videoad.detector import registry

    return registry.make("duad", params, seed).fit(X)


def baselines(X_fit: np.ndarray, X_score: np.ndarray | None, seed: int) -> dict:
    """Each baseline's scores of the scored rows (the fitted rows' own when `X_score` is None),
    or the reason it could not run."""
    from videoad.detector import registry

    out = {}
    d = X_fit.shape[1]
    for label, name in BASELINES:
        params = ({"n_components": min(4, d - 1)} if name == "pca" else
                  {"max_reference": KNN_REFERENCE} if name == "knn" else {})
        if name == "pca" and d < 2:
            out[label] = "needs two columns or more"
            continue
        try:
            det = registry.make(name, params, seed).fit(X_fit)
        except ValueError as exc:
            out[label] = str(exc)
            continue
        out[label] = det.decision_scores_ if X_score is None else det.decision_function(X_score)
    return out


def metrics(labels: np.ndarray, scores: np.ndarray) -> tuple[float, float]:
    from videoad.metrics import average_precision, roc_auc

    return roc_auc(labels, scores), average_precision(labels, scores)


# ---------------------------------------------------------------------------------------------
# writing
def encoding(rows: Rows) -> dict:
    """What reading another input the same way needs (`read_rows(like=...)`)."""
    return {"kind": rows.kind, "columns_in": list(rows.columns_in), "columns": list(rows.columns),
            "one_hot": {k: list(v) for k, v in rows.one_hot.items()}, "picture": rows.picture}


def scores_csv(rows: Rows, scores: np.ndarray, flagged: np.ndarray) -> bytes:
    from videoad.names import cell_text

    buf = io.StringIO(newline="")
    w = csv.writer(buf)
    w.writerow(["row", "id", "score", "flagged"] if rows.ids is not None else ["row", "score", "flagged"])
    for i, (s, f) in enumerate(zip(scores, flagged)):
        w.writerow([i, cell_text(rows.ids[i]), repr(float(s)), int(f)] if rows.ids is not None
                   else [i, repr(float(s)), int(f)])
    return buf.getvalue().encode()


OUTPUT_FILES = ("scores.csv", "run.json")


def check_output_files(out: Path, inputs: dict) -> None:
    """-o's scores.csv and run.json are this command's to replace only in a folder it wrote (its mark)
    and where no input is one of them: a user's own file under either name is never overwritten."""
    for name, path in inputs.items():
        if path is not None and any(Path(path).resolve() == (out / f).resolve() for f in OUTPUT_FILES):
            raise TableError(f"-o {out}: {name} {path} is one of the files written there ({', '.join(OUTPUT_FILES)}); "
                             "give another folder")
    if (out / MARK).is_file():
        return
    there = [f for f in OUTPUT_FILES if (out / f).exists()]
    if there:
        raise TableError(f"-o {out}: holds {' and '.join(there)} that `videoad table` did not write, which would be "
                         "overwritten: give another folder")


def write_output(out: Path, rows: Rows, scores: np.ndarray, flagged: np.ndarray, run: dict) -> None:
    """OUT/scores.csv and OUT/run.json; run.json removed first and written last."""
    from extract.store import remove_stale_temporaries, write_atomic

    out.mkdir(parents=True, exist_ok=True)
    (out / MARK).write_bytes(b"")
    remove_stale_temporaries([out / "scores.csv", out / "run.json"])
    (out / "run.json").unlink(missing_ok=True)
    write_atomic(out / "scores.csv", scores_csv(rows, scores, flagged))
    write_atomic(out / "run.json", (json.dumps(run, indent=2, allow_nan=False) + "\n").encode())


def save_model(folder: Path, det, rows: Rows, scaling: dict, line: dict, fit_scores: np.ndarray, meta: dict) -> None:
    from extract.store import write_atomic

    folder.mkdir(parents=True, exist_ok=True)
    (folder / MODEL_INDEX).unlink(missing_ok=True)
    det.save(folder / "duad.pt")
    buf = io.BytesIO()
    np.save(buf, np.asarray(fit_scores, dtype=np.float64), allow_pickle=False)
    write_atomic(folder / "fit_scores.npy", buf.getvalue())
    index = {"format": MODEL_FORMAT, **encoding(rows), "scaling": scaling, "threshold": line, **meta}
    write_atomic(folder / MODEL_INDEX, (json.dumps(index, indent=2, allow_nan=False) + "\n").encode())


def load_model(folder: Path) -> tuple[dict, object, np.ndarray]:
    from videoad.detector.duad import DUAD
    from videoad.output_lock import read_whole

    def read():
        index_path = folder / MODEL_INDEX
        if not index_path.is_file():
            raise TableError(f"{folder}: no {MODEL_INDEX}; not a model folder of `videoad table --save-model` "
                             "(or one whose saving was cut short: save it again)")
        try:
            index = json.loads(index_path.read_text())
        except (OSError, ValueError) as exc:
            raise TableError(f"{index_path}: unreadable ({exc})") from None
        if not isinstance(index, dict) or index.get("format") != MODEL_FORMAT:
            raise TableError(f"{index_path}: not a `videoad table` model (format {index.get('format') if isinstance(index, dict) else None!r})")
        lacking = [k for k in MODEL_KEYS if k not in index]
        if lacking:
            raise TableError(f"{index_path}: damaged, without {_listed(lacking)}; save the model again")
        try:
            det = DUAD.load(folder / "duad.pt")
            fit_scores = np.load(folder / "fit_scores.npy", allow_pickle=False)
        except (OSError, ValueError, RuntimeError) as exc:
            raise TableError(f"{folder}: its model cannot be read ({exc})") from None
        return index, det, fit_scores

    return read_whole(folder, folder / MODEL_INDEX, read, TableError)
