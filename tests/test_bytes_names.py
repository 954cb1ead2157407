"""File and folder names that are not UTF-8 (Linux bytes names: an old recorder's Latin-1 `café.avi`,
which Python reads as surrogates): extract, detect, plot and report take them end to end, with
keys that map back to the files on disk and names shown as `caf\\xe9`."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from click.testing import CliRunner
from video_helpers import FAST_DUAD

from extract.store import FeatureStore, read_attrs
from videoad.cli import cli
from videoad.scores import ScoresError, read_scores
from videoad.synth import SceneConfig, render_video, write_video

ROOT = Path(__file__).resolve().parents[1]
LATIN = os.fsdecode(b"lat\xe9")  # "lat" + the surrogate of byte 0xe9
CAFE = os.fsdecode(b"caf\xe9.avi")
# one xdist worker runs the module (`--dist loadgroup`), building `latin_run` (a whole run, ~1 min) once
pytestmark = pytest.mark.xdist_group("bytes_names")


def _bytes_folder(parent: Path) -> Path:
    try:
        os.makedirs(os.path.join(os.fsencode(parent), b"lat\xe9"))
    except (OSError, UnicodeError) as exc:
        pytest.skip(f"this file system refuses a name that is not UTF-8 ({exc})")
    return parent / LATIN


@pytest.fixture(scope="module")
def latin_run(tmp_path_factory):
    base = tmp_path_factory.mktemp("bytes")
    folder = _bytes_folder(base / "footage")
    for name, event, seed in (("a.avi", "runner", 0), ("b.avi", None, 1), (CAFE, None, 2)):
        frames, _ = render_video(event, seed=seed, cfg=SceneConfig(n_frames=140))
        # written under an ASCII name, then renamed: OpenCV's writer crashes on a path that is not UTF-8
        os.replace(write_video(base / "tmp.avi", frames, 15.0), folder / name)
    cfg = base / "fast.yaml"
    cfg.write_text(yaml.safe_dump({"mode": "pooled", "min_clips": 10, "preprocess": "sqrt-rms", "alarm": "quantile",
                                   "alarm_level": 0.8, "detector": {"name": "duad", "params": FAST_DUAD}}))
    out = base / "out"
    # the command as a user runs it: its own console streams (CliRunner's refuse any surrogate)
    res = subprocess.run([sys.executable, "-m", "videoad", "run", str(base / "footage"), "-o", str(out), "--config",
                          str(cfg)], cwd=ROOT, capture_output=True, text=True, timeout=600,
                         env={**os.environ, "PYTHONPATH": str(ROOT), "PYTHONIOENCODING": "utf-8:strict"})
    return base, out, cfg, res


def test_a_folder_and_a_file_named_in_latin1_run_end_to_end(latin_run):
    """Every video of such a folder failed ("writing features failed: UnicodeEncodeError ...
    '\\udce9'": the key and source path as HDF5 attributes), and `caf\\xe9.avi` was left out."""
    base, out, _, res = latin_run
    assert res.returncode == 0 and "E001 lat\\xe9/a.avi" in res.stdout, res.stdout + res.stderr[-3000:]
    key = f"{LATIN}/{CAFE}"
    store = FeatureStore(out / "features")
    assert sorted(store.keys()) == sorted([f"{LATIN}/a.avi", f"{LATIN}/b.avi", key])
    h5 = os.path.join(os.fsencode(out / "features"), b"lat\xe9", b"caf\xe9.avi.h5")
    assert os.path.isfile(h5)  # the feature file carries the video's own bytes
    attrs = read_attrs(store.path(key))
    assert attrs["key"] == key and os.fsencode(attrs["source_path"]) == os.path.join(
        os.fsencode(base / "footage"), b"lat\xe9", b"caf\xe9.avi")
    scores = read_scores(out / "scores")
    assert sorted(v.video for v in scores.videos) == sorted(store.keys())
    segments = (out / "scores" / "segments.csv").read_text(encoding="utf-8")  # UTF-8 text, the name escaped
    assert "lat\\xe9/caf\\xe9.avi," in segments
    page = (out / "report" / "index.html").read_text(encoding="utf-8")
    assert "lat\\xe9/caf\\xe9.avi" in page and "not extracted" not in page
    json.loads((out / "scores" / "events.json").read_text(encoding="utf-8"))
    again = CliRunner().invoke(cli, ["plot", str(out / "scores"), "-o", str(base / "plots")])
    assert again.exit_code == 0 and len(list((base / "plots").glob("*.png"))) == 3, again.output


def test_opencv_decodes_a_video_in_a_folder_named_in_latin1(tmp_path):
    """OpenCV took the path as UTF-8 text and crashed (SIGSEGV) on a surrogate: with `--decoders
    opencv`, or as the last fallback, every video of such a folder was lost."""
    base = tmp_path
    frames, _ = render_video(None, seed=3, cfg=SceneConfig(n_frames=140))
    os.replace(write_video(base / "tmp.avi", frames, 15.0), _bytes_folder(base / "footage") / CAFE)
    code = ("import sys; from extract.decode import open_video; v = open_video(sys.argv[1], ('opencv',)); "
            "print(sum(1 for _ in v.frames))")
    path = os.path.join(os.fsencode(base / "footage"), b"lat\xe9", b"caf\xe9.avi")
    res = subprocess.run([sys.executable, "-c", code, path], cwd=ROOT, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert res.returncode == 0 and res.stdout.split()[-1] == "140", (res.returncode, res.stderr[-2000:])


def test_a_latin1_name_on_a_strict_console_is_shown_escaped(latin_run):
    """Under a UTF-8 locale other than C's, stdout refuses surrogates: `videoad cameras` died with a
    UnicodeEncodeError traceback naming no file; the name is written as `caf\\xe9`."""
    out = latin_run[1]
    res = subprocess.run([sys.executable, "-m", "videoad", "cameras", str(out / "features")], cwd=ROOT,
                         capture_output=True, text=True, timeout=300,
                         env={**os.environ, "PYTHONPATH": str(ROOT), "PYTHONIOENCODING": "utf-8:strict"})
    assert res.returncode == 0 and "lat\\xe9/caf\\xe9.avi" in res.stdout, res.stdout + res.stderr[-2000:]


def test_a_run_json_group_whose_videos_is_not_a_list_is_named(latin_run, tmp_path):
    """`"videos": 5` in a hand-edited group gave the report a TypeError traceback in `_not_scored`."""
    out = latin_run[1]
    scores = tmp_path / "scores"
    scores.mkdir()
    for f in ("segments.csv", "run.json"):
        (scores / f).write_bytes((out / "scores" / f).read_bytes())
    meta = json.loads((scores / "run.json").read_text())
    meta["groups"][0]["videos"] = 5
    (scores / "run.json").write_text(json.dumps(meta))
    with pytest.raises(ScoresError, match=r"groups\[0\] \('all'\): 'videos' must be a JSON list of video names, got '5'"):
        read_scores(scores)


def _videoad(*args):
    """The command as a user runs it, on a console that refuses surrogates (CliRunner's refuse any)."""
    return subprocess.run([sys.executable, "-m", "videoad", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=600,
                          env={**os.environ, "PYTHONPATH": str(ROOT), "PYTHONIOENCODING": "utf-8:strict"})


def test_a_category_named_in_latin1_is_fitted_saved_and_scored_again(latin_run):
    """Per category, the folder `lat\\xe9` is a group's name: its seed (`group.encode()`) raised
    UnicodeEncodeError and the run ended "no group could be scored"."""
    base, out, cfg, _ = latin_run
    per_cat = base / "per_category.yaml"
    per_cat.write_text(cfg.read_text().replace("mode: pooled", "mode: per-category"))
    res = _videoad("detect", out / "features", "--config", per_cat, "-o", base / "cat", "--save-model",
                   base / "models")
    assert res.returncode == 0, res.stdout + res.stderr[-3000:]
    fitted = read_scores(base / "cat")
    assert [(g["group"], g["status"]) for g in fitted.meta["groups"]] == [(LATIN, "fitted")]
    assert sorted(v.video for v in fitted.videos) == sorted(FeatureStore(out / "features").keys())
    again = _videoad("detect", out / "features", "--model", base / "models", "-o", base / "again")
    assert again.returncode == 0, again.stdout + again.stderr[-3000:]
    rescored = read_scores(base / "again")
    assert [g["group"] for g in rescored.meta["groups"]] == [LATIN]
    by_name = {v.video: v.scores for v in rescored.videos}
    for v in fitted.videos:  # a fitted row scored again counts itself (DUAD docstring): a little lower
        assert len(by_name[v.video]) == len(v.scores) and np.isfinite(by_name[v.video]).all()


def test_synthetic_video_is_written_into_a_folder_named_in_latin1(tmp_path):
    """`synth.write_video` handed OpenCV's writer the path as text: a folder (or file) name that is not
    UTF-8 crashed the process (SIGSEGV). It is written, under its own bytes, and nothing else is left."""
    folder = _bytes_folder(tmp_path)
    code = ("import sys, os; from videoad.synth import SceneConfig, render_video, write_video; "
            "f, _ = render_video(None, seed=4, cfg=SceneConfig(n_frames=20)); "
            "write_video(os.fsdecode(sys.argv[1]), f, 15.0)")
    target = os.path.join(os.fsencode(folder), b"caf\xe9.avi")
    res = subprocess.run([sys.executable, "-c", code, target], cwd=ROOT, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert res.returncode == 0, (res.returncode, res.stderr[-2000:])
    assert os.listdir(os.fsencode(folder)) == [b"caf\xe9.avi"]  # no temporary name left beside it
    from extract.decode import open_video

    video = open_video(os.fsdecode(target), ("pyav",))  # a whole video: its frames decode
    assert sum(1 for _ in video.frames) == 20


def test_the_demo_runs_in_a_workdir_named_in_latin1(tmp_path):
    """`videoad demo --workdir lat\\xe9/work` died at its first step (SIGSEGV in OpenCV's video writer,
    exit -11 with nothing said): the whole demo now runs there, its videos, features and report inside."""
    work = _bytes_folder(tmp_path) / "work"
    res = _videoad("demo", "--workdir", work, "--workers", "1")
    assert res.returncode == 0, (res.returncode, res.stdout[-3000:], res.stderr[-3000:])
    assert "[1/5] 8 synthetic videos in" in res.stdout and "report: " in res.stdout
    assert "lat\\xe9/work/report/index.html" in res.stdout  # the console shows the name escaped
    raw = os.path.join(os.fsencode(tmp_path), b"lat\xe9", b"work")
    assert len(os.listdir(os.path.join(raw, b"data", b"videos", b"Normal"))) == 4
    assert os.path.isfile(os.path.join(raw, b"report", b"index.html"))
    assert any(n.endswith(b".mp4") for n in os.listdir(os.path.join(raw, b"report", b"events")))


def test_watch_writes_a_latin1_name_in_its_files_as_the_console_shows_it(latin_run, tmp_path):
    """events.jsonl, watched.jsonl, the hooks' JSON and the delivery log held `"caf\\udce9.avi"` (a lone
    surrogate, an error or U+FFFD to other JSON readers), events.csv and clips.csv `caf\\udce9.avi`,
    while the console says `caf\\xe9.avi`: every file of OUT now names it as the console does, is
    UTF-8 throughout, and a second watch still finds the files in watched.jsonl."""
    base, out, cfg, _ = latin_run
    res = _videoad("detect", out / "features", "--config", cfg, "-o", tmp_path / "scores", "--save-model",
                   tmp_path / "models")
    assert res.returncode == 0, res.stdout + res.stderr[-3000:]
    inbox = _bytes_folder(tmp_path / "in")
    os.link(base / "footage" / LATIN / CAFE, inbox / CAFE)
    (inbox / os.fsdecode(b"b\xe9d.avi")).write_bytes(b"not a video" * 100)
    watch = tmp_path / "watch"
    hooks = tmp_path / "hooks.jsonl"
    args = ("watch", inbox, "--once", "--settle", "0", "-q", "--clip-scores", "--model", tmp_path / "models",
            "-o", watch, "--on-event", f"cat >> {hooks}; echo >> {hooks}")
    res = _videoad(*args)
    assert res.returncode == 1 and "lat\\xe9: 140 frames" in res.stdout and "Traceback" not in res.stderr, \
        res.stdout + res.stderr[-3000:]
    files = [watch / n for n in ("events.jsonl", "events.csv", "watched.jsonl", "clips.csv", "delivered.jsonl")]
    for path in files + [hooks]:
        text = path.read_bytes().decode("utf-8")  # strict: valid UTF-8
        assert "\\udc" not in text, (path, text[:2000])  # a decoder's reason too (it quoted Python's repr)
    records = [json.loads(x) for x in files[0].read_text(encoding="utf-8").splitlines()]
    failed = next(r for r in records if r["type"] == "failed")
    assert "b\\xe9d.avi'" in failed["reason"] and "\\udc" not in failed["reason"], failed
    assert {(r["type"], r["video"]) for r in records if r["type"] in ("video", "failed")} == {
        ("video", "caf\\xe9.avi"), ("failed", "b\\xe9d.avi")}
    assert {r["source"] for r in records if "source" in r} == {"lat\\xe9"}
    assert "caf\\xe9.avi," in files[3].read_text(encoding="utf-8")  # clips.csv: source, video, ...
    hooked = [json.loads(x) for x in hooks.read_text(encoding="utf-8").split("\n") if x.strip()]
    assert hooked and {r["source"] for r in hooked} == {"lat\\xe9"}
    watched = [json.loads(x) for x in files[2].read_text(encoding="utf-8").splitlines()]
    assert sorted(r["file"] for r in watched) == ["b\\xe9d.avi", "caf\\xe9.avi"]
    again = _videoad(*args)  # both found in watched.jsonl by their names on disk: neither scored again
    assert "Traceback" not in again.stderr and "2 file(s) watched before" in again.stdout, again.stdout + again.stderr
    assert len([r for r in (json.loads(x) for x in files[0].read_text(encoding="utf-8").splitlines())
                if r["type"] == "video"]) == 1


def test_an_unreadable_latin1_file_is_named_in_its_reason_as_the_console_shows_it(tmp_path):
    """The decoders quote a path as Python's repr does: a `failed` video's reason in the manifest and the
    console's summary said `'.../b\\udce9d.avi'` where every other line says `b\\xe9d.avi`."""
    folder = _bytes_folder(tmp_path / "in")
    (folder / os.fsdecode(b"b\xe9d.avi")).write_bytes(b"not a video" * 100)
    res = _videoad("extract", folder, "-o", tmp_path / "features", "--workers", "1")
    said = res.stdout + res.stderr  # the summary of a run with failures: on stderr, exit 1
    assert res.returncode == 1 and "1 failed" in said, said
    manifest = json.loads((tmp_path / "features" / "manifest.json").read_text(encoding="utf-8"))
    [entry] = manifest["videos"].values()
    assert entry["status"] == "failed" and "lat\\xe9/b\\xe9d.avi'" in entry["reason"], entry
    assert "\\udc" not in entry["reason"]
    assert "lat\\xe9/b\\xe9d.avi'" in said and "\\udc" not in said, said
