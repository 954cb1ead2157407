"""What a videoad folder holds, so that a command never writes its outputs over another kind.

`detect FEATURES -o FEATURES` wrote the scores into the feature store (later reads of it as a
store then failed, pointing at itself), `detect -o REPORT` replaced a report's events files under
a page that still showed the old ones, `extract -o SCORES` put features into a scores folder: each
exited 0. `check_output` refuses an output that is one of the command's inputs, or that holds
another kind of videoad output; an empty folder, a new one or one of the user's own files is
taken as before.
"""
from __future__ import annotations

import os
from pathlib import Path

#: what each kind is called in a refusal (TIMELINES: `plot`'s folder, which holds no kind to tell)
FEATURES, SCORES, REPORT, MODELS, RUN = ("a feature store", "a scores folder", "a report",
                                          "a model folder", "a `videoad run` output folder")
TIMELINES = "a folder of timelines"
#: what `videoad import` leaves in a store it writes (an extraction's store has its manifest)
STORE_MARK = ".videoad-store"
WATCH = "a `videoad watch` output folder"
#: `videoad table`'s output folder (known by its mark, written first) and its --save-model folder
TABLE, TABLE_MODEL = "a `videoad table` output folder", "a `videoad table` model folder"


def folder_kind(path, files: bool = True) -> str | None:
    """The kind of videoad output the folder `path` holds (FEATURES, SCORES, REPORT, MODELS,
    RUN, WATCH, TABLE, TABLE_MODEL), or None (no folder, an empty one, or none of videoad's). `files=False`: a
    feature store by its manifest alone, not by feature files within it (a footage folder may
    hold a store)."""
    try:
        return _kind(Path(path), files)
    except OSError:  # a folder this user may not read (`run videos/*` with one locked): none of videoad's as far
        return None  # as can be told; its listing or its writer names the problem (a traceback did)


def _kind(p: Path, files: bool) -> str | None:
    from extract.manifest import shard_manifests
    from extract.sources import is_videoad_output

    if not p.is_dir():
        return None
    if (p / "models.json").is_file():
        return MODELS
    if (p / ".videoad-table").is_file():  # videoad.table.MARK (not imported: that module reads numpy)
        return TABLE
    if (p / "table_model.json").is_file() or (p / "duad.pt").is_file() and (p / "fit_scores.npy").is_file():
        return TABLE_MODEL
    if (p / "segments.csv").is_file():  # run.json too, or a rewrite a kill cut short (run.json goes first)
        return SCORES
    # a report or watch written into a project folder beside its features/ stays what it is (a run
    # folder holds neither at its top)
    if is_videoad_output(p) and (p / "index.html").is_file():
        return REPORT
    if is_videoad_output(p) and (p / "events.jsonl").is_file():
        return WATCH
    if (p / "features").is_dir() and (is_videoad_output(p) or (p / "scores").is_dir() or (p / "report").is_dir()):
        return RUN  # older runs' folders carry no mark
    if _our_manifest(p) or (p / STORE_MARK).is_file() or shard_manifests(p) or (files and _holds_features(p)):
        return FEATURES
    return None


def _our_manifest(p: Path) -> bool:
    """Whether `p` holds an extraction's manifest.json (another tool's file of that name is not one)."""
    import json

    from extract.manifest import FORMAT, MANIFEST

    try:
        with open(p / MANIFEST, encoding="utf-8") as fh:
            return json.load(fh).get("format") == FORMAT
    except (OSError, ValueError, AttributeError):
        return False


def _holds_features(p: Path, depth: int = 2, look: int = 256) -> bool:
    """Whether a feature file lies within `depth` folders of `p` (imported stores keep no manifest;
    keys nest a folder per category): a `.h5` whose attributes a feature file has, not a folder
    that is a store of its own (a project folder beside its features/); at most `look` entries read
    per folder."""
    from extract.store import SUFFIX, read_attrs

    try:
        with os.scandir(p) as entries:
            for i, entry in enumerate(entries):
                if i >= look:
                    break
                if entry.name.endswith(SUFFIX) and entry.is_file():
                    try:
                        attrs = read_attrs(Path(entry.path))
                    except (OSError, ValueError):
                        continue
                    if "n_frames" in attrs and ("backbone" in attrs or "backbone_name" in attrs):
                        return True
                elif depth > 1 and entry.is_dir() and not entry.name.startswith(".") and \
                        not _our_manifest(Path(entry.path)) and not (Path(entry.path) / STORE_MARK).is_file() \
                        and _holds_features(Path(entry.path), depth - 1, look):
                    return True
    except OSError:
        return False
    return False


def _same(a, b) -> bool:
    """Whether `a` and `b` name one folder: the same file where both exist, else the same path once
    resolved (`detect -o X --save-model X`, neither made yet, wrote scores and models into one folder)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


def check_output(output, writes: str, inputs: dict[str, object], option: str = "-o") -> None:
    """A ValueError when `output` is one of `inputs` (what names it -> a path, None where not
    given) or holds another kind of videoad output than `writes` (one of the kinds above). The
    commands give it as a usage error (`videoad.cli.settings.check_output_folder`)."""
    for name, path in inputs.items():
        if path is not None and _same(output, path):  # both paths named: they may be spelled apart
            raise ValueError(f"{option} {output} is {name} itself ({path}): {writes[2:]} written into it would "
                             "mix with what it holds; give another folder")
    kind = folder_kind(output)
    if kind is not None and kind != writes:
        raise ValueError(f"{option} {output} holds {kind}, not {writes}: writing {writes[2:]} there would mix "
                         "the two; give another folder")


def run_part(path, part: str) -> str | None:
    """Where `path` is a `videoad run` output folder given for the part of it another command reads
    (`scores`, `models`): the words that name that part (`runs/x: a ... folder: give its scores folder,
    runs/x/scores`), else None. `run` prints the folder's name; a reader told "not a scores folder,
    write one with `videoad detect`" was sent to redo what the run had done."""
    p = Path(path)
    if folder_kind(p, files=False) != RUN:
        return None
    if (p / part).is_dir():
        return f"{p}: {RUN}: give its {part} folder, {p / part}"
    return f"{p}: {RUN}, with no {part} folder"
