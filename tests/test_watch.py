"""`videoad watch`: a saved model scoring a file, an HTTP stream, a folder or synthetic frames as
they arrive; the events equal the batch ones, a dropped stream is reopened, memory stays flat,
a slow scorer drops clips, hooks do not block, Ctrl-C closes what is open."""
from __future__ import annotations

import contextlib
import copy
import io
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from _paths import shared
from click.testing import CliRunner

from videoad import live, synth
from videoad.cli import cli

#: the synthetic camera's rate: at the motion backbone's frame-rate cap, so every frame is a clip frame
FPS = 10.0


def _extract(videos: Path, out: Path, max_fps: float | None = None, **backbone_opts) -> None:
    from extract.backbones import get_backbone
    from extract.run import ExtractOptions, extract_videos

    summary = extract_videos(videos, out, get_backbone("motion", **backbone_opts),
                             ExtractOptions(workers=1, recursive=True, progress=False, max_fps=max_fps))
    assert summary.ok, summary.report()


@pytest.fixture(scope="module")
def cam(tmp_path_factory):
    """A camera's normal history (two synthetic corridor videos), a pooled model fitted on it
    with the defaults, and a new video with a runner in it (ground truth known)."""
    from videoad import video

    root = tmp_path_factory.mktemp("cam")
    scene = synth.SceneConfig(n_frames=200, fps=FPS)
    synth.generate(root / "history", n_normal=2, events=(), seed=11, cfg=scene)
    _extract(root / "history" / "videos", root / "history-features")
    video.detect(root / "history-features", video.DetectConfig(mode="pooled"), save_models=root / "models")
    test = synth.generate(root / "today", n_normal=0, events=("runner",), seed=7,
                          cfg=synth.SceneConfig(n_frames=240, fps=FPS))
    runner = test.root / test.videos[0].video
    truth = test.videos[0].intervals[0]  # 1-based inclusive frames
    return {"root": root, "models": root / "models", "video": runner, "truth": (truth[0] - 1, truth[1] - 1)}


def _frames(path) -> list[np.ndarray]:
    """Every frame of a video file as OpenCV reads it (BGR)."""
    import cv2

    cap = cv2.VideoCapture(str(path))
    frames = []
    while (ok_frame := cap.read())[0]:
        frames.append(ok_frame[1])
    return frames


def _records(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / live.EVENTS_FILE).read_text().splitlines()]


def _of(records, kind):
    return [r for r in records if r["type"] == kind]


def _overlaps(rec, interval) -> bool:
    return rec["start_frame"] <= interval[1] and rec["end_frame"] >= interval[0]


# ---------------------------------------------------------------------------------------------
# the model folder says how to extract


def test_models_json_records_the_extraction_and_the_backbone_rebuilds_from_it(cam):
    from extract.backbones import get_backbone

    index = json.loads((cam["models"] / "models.json").read_text())
    ex = index["extraction"]
    assert ex == index["groups"]["all"]["extraction"]
    assert (ex["backbone"], ex["clip_len"], ex["stride"], ex["tail"]) == ("motion", 16, 4, "drop")
    assert ex["target_fps"] is None
    assert ex["options"]["size"] == "auto" and ex["cell_grid"] == [4, 4]
    rebuilt = get_backbone(ex["backbone"], **ex["options"])
    assert rebuilt.describe() == ex["description"] and rebuilt.options() == ex["options"]
    # the store attribute it came from, and options given as strings resolve to the same record
    from extract.store import FeatureStore

    store = FeatureStore(cam["root"] / "history-features")
    assert json.loads(store.attrs(store.keys()[0])["backbone_options"]) == ex["options"]
    assert get_backbone("motion", size="auto", grid="4").options() == ex["options"]


def test_a_model_folder_that_cannot_say_how_it_extracted_is_refused(cam, tmp_path):
    models = tmp_path / "models"
    shutil.copytree(cam["models"], models)
    index = json.loads((models / "models.json").read_text())
    index["groups"]["all"]["extraction"]["options"]["size"] = "80x60"  # not what the description says
    index["extraction"] = None
    (models / "models.json").write_text(json.dumps(index))
    with pytest.raises(live.WatchError, match="differs from the one the models were fitted on in preprocessing"):
        live.WatchModel.load(models)
    del index["groups"]["all"]["extraction"]
    (models / "models.json").write_text(json.dumps(index))
    with pytest.raises(live.WatchError, match="does not record how its features were extracted"):
        live.WatchModel.load(models)
    with pytest.raises(live.WatchError, match="no model for group 'cam9'"):
        live.WatchModel.load(cam["models"], group="cam9")


def test_clips_laid_out_unlike_the_fitted_features_are_refused_naming_the_video_and_the_folder(cam, tmp_path):
    """A model folder whose extraction record does not describe the features its model was fitted on
    (here 10 orientation bins recorded, the model fitted on 8: 17 values per cell, not 15) passed the
    load, and scoring refused it only as "ValueError: the model was fitted on 15-d rows, these have
    17-d", with a traceback and no folder named. Now held to models.json's `fitted_layout`, or in a
    model saved before it to the width of its detectors' rows."""
    from extract.backbones import get_backbone

    index = json.loads((cam["models"] / "models.json").read_text())
    for ex in (index["extraction"], index["groups"]["all"]["extraction"]):
        ex["options"]["bins"] = 10  # the record self-consistent: the rebuilt backbone describes itself so
        ex["description"] = get_backbone("motion", **ex["options"]).describe()
    assert index["groups"]["all"]["fitted_layout"]["cell_values"] == 15
    want = {"recorded": "cells on a 4x4 grid of 17 values each, where the model was fitted on 255 values per "
                        "clip, cells on a 4x4 grid of 15 values each",
            "older": "give 17 values per cell, where the model was fitted on 15"}
    for kind in ("recorded", "older"):
        if kind == "older":  # a model saved before the record
            del index["groups"]["all"]["fitted_layout"]
        models = tmp_path / kind / "models"
        shutil.copytree(cam["models"], models)
        (models / "models.json").write_text(json.dumps(index))
        out = tmp_path / kind / "out"
        res = CliRunner().invoke(cli, ["watch", str(cam["video"]), "--model", str(models), "-o", str(out)])
        assert res.exit_code == 1 and "Traceback" not in res.output, res.output
        (lost,) = _of(_records(out), "lost")
        assert lost["source"] == "Runner001.avi"
        assert lost["reason"].startswith("scoring failed: the clips of Runner001.avi give "), lost
        assert want[kind] in lost["reason"] and f"in the model folder {models} (group 'all')" in lost["reason"]
        assert want[kind] in res.output and not _of(_records(out), "close")


def test_scoring_arrays_equals_scoring_the_stored_videos(cam):
    from extract.store import FeatureStore

    wm = live.WatchModel.load(cam["models"])
    store = FeatureStore(cam["root"] / "history-features")
    vid = store.load(store.keys()[0], cells=True)
    want_cells, want = wm.model.score([vid], smooth=False)  # a few clips alone: no neighbours in time
    got_cells, got = wm.model.score_arrays(vid.features[:7], vid.cells[:7])
    np.testing.assert_allclose(got, want[:7], rtol=1e-5)
    np.testing.assert_allclose(got_cells, want_cells[:7], rtol=1e-5)
    with pytest.raises(ValueError, match="grid"):
        wm.model.score_arrays(vid.features[:2], vid.cells[:2, :4])


# ---------------------------------------------------------------------------------------------
# a file, a stream, a folder


def test_watching_a_file_gives_the_batch_events_of_that_file(cam, tmp_path):
    """`videoad extract` + `videoad detect --model` + events on the file, against `watch` on it."""
    assert live.WatchModel.load(cam["models"]).model.smooth > 0  # the default smoothing in time, held back live
    runner = CliRunner()
    res = runner.invoke(cli, ["extract", str(cam["video"]), "-o", str(tmp_path / "f"), "--workers", "1", "-q"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(cli, ["detect", str(tmp_path / "f"), "--model", str(cam["models"]), "-o", str(tmp_path / "s")])
    assert res.exit_code == 0, res.output
    batch = json.loads((tmp_path / "s" / "events.json").read_text())["events"]
    res = runner.invoke(cli, ["watch", str(cam["video"]), "--model", str(cam["models"]), "-o", str(tmp_path / "w"),
                              "--clip-scores"])
    assert res.exit_code == 0, res.output
    records = _records(tmp_path / "w")
    closes = _of(records, "close")
    assert batch and len(closes) == len(batch)
    key = ("first_clip", "last_clip", "start_frame", "end_frame", "peak_clip", "peak_frame", "n_clips")
    for b, w in zip(sorted(batch, key=lambda e: e["start_frame"]), closes):
        assert {k: w[k] for k in key} == {k: b[k] for k in key}
        assert w["peak_score"] == pytest.approx(b["peak_score"], rel=1e-4)
        assert w["mean_score"] == pytest.approx(b["mean_score"], rel=1e-4)
        assert w["start_s"] == pytest.approx(b["start_s"]) and w["end_s"] == pytest.approx(b["end_s"])
    # every clip's score, not only the events': the same clips, the same scores
    import csv

    with open(tmp_path / "s" / "segments.csv") as fh:
        seg = [float(r["score"]) for r in csv.DictReader(fh)]
    with open(tmp_path / "w" / "clips.csv") as fh:
        live_scores = [float(r["score"]) for r in csv.DictReader(fh)]
    np.testing.assert_allclose(live_scores, seg, rtol=1e-4)
    # each event was opened before it closed, with its image
    assert [(r["type"], r["id"]) for r in records if r["type"] in ("open", "close")] == \
        [(t, c["id"]) for c in closes for t in ("open", "close")]
    for r in closes:
        assert (tmp_path / "w" / r["image"]).is_file() and r["closed_by"] in ("quiet", "end of stream")
    assert _overlaps(closes[0], cam["truth"])
    # the closed events, one row each, for a spreadsheet
    with open(tmp_path / "w" / live.EVENTS_CSV, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["id"], int(r["start_frame"]), float(r["peak_score"]), r["closed_by"]) for r in rows] == \
        [(c["id"], c["start_frame"], pytest.approx(c["peak_score"], rel=1e-6), c["closed_by"]) for c in closes]


def test_a_stream_at_another_frame_rate_is_scored_with_a_warning(cam, tmp_path):
    """The models' footage was cut into clips at 10 fps (the motion backbone's cap): the same video
    played at 5 fps is still watched (a live camera is not refused), and its session record and the
    log carry the warning; played at 20 fps the cap cuts it at 10 as well, and at 10 there is none."""
    frames = _frames(cam["video"])
    slow, fast = tmp_path / "slow.avi", tmp_path / "fast.avi"
    synth.write_video(slow, np.stack(frames), FPS / 2)
    synth.write_video(fast, np.stack(frames), 2 * FPS)
    extraction = json.loads((cam["models"] / "models.json").read_text())["extraction"]
    assert (extraction["fps"], extraction["sampled_fps"], extraction["max_fps"]) == (FPS, FPS, 10.0)
    runner = CliRunner()
    for path, out in ((slow, tmp_path / "w5"), (fast, tmp_path / "w20"), (cam["video"], tmp_path / "w10")):
        res = runner.invoke(cli, ["watch", str(path), "--model", str(cam["models"]), "-o", str(out)])
        assert res.exit_code == 0, res.output
    (v5,), (v20,), (v10,) = (_of(_records(tmp_path / name), "video") for name in ("w5", "w20", "w10"))
    assert "the stream runs at 5 fps, the models' footage was cut into clips at 10 fps" in v5["warning"]
    assert "warning" not in v20 and "warning" not in v10
    assert live.frame_rate_mismatch({"fps": 15.0, "target_fps": 10.0}, 30.0) is None  # resampled: comparable
    assert live.frame_rate_mismatch({"fps": 30.0}, 29.97) is None and live.frame_rate_mismatch({}, 30.0) is None
    # models whose footage was capped to 15 fps: a 30 fps stream is cut at 15 as well, a 10 fps one is off
    capped = {"fps": 30.0, "max_fps": 15.0, "sampled_fps": 15.0}
    assert live.frame_rate_mismatch(capped, 30.0) is None and live.frame_rate_mismatch(capped, 15.0) is None
    assert "runs at 10 fps, the models' footage was cut into clips at 15 fps" in live.frame_rate_mismatch(capped, 10.0)
    assert live.frame_rate_mismatch(capped, 60.0) is None
    # a stream the cap brings to another rate than the footage's is named with the rate it is cut at
    assert "runs at 30 fps (cut at 15), the models' footage was cut into clips at 10" in live.frame_rate_mismatch(
        {"fps": 10.0, "max_fps": 15.0, "sampled_fps": 10.0}, 30.0)


def test_a_recording_whose_clock_leaps_an_hour_is_watched_at_its_rate(cam, tmp_path):
    """A recorder's clock set an hour forward mid-file: the file was read at 0.066 fps, its `video`
    record warned that motion per frame is not comparable with the models' 10 fps (it was cut at 10
    fps all the same). Now it is read at 10 fps, with no warning; the clips and seconds are the file's."""
    from _extract_media import make_vfr_h264

    frames = [f[..., ::-1].copy() for f in _frames(cam["video"])]
    times_ms = [i * 100 + (3_600_000 if i >= 120 else 0) for i in range(len(frames))]
    path = make_vfr_h264(tmp_path / "leap.mp4", times_ms, rate=10, width=frames[0].shape[1],
                         height=frames[0].shape[0], picture=lambda i: frames[i])
    out = tmp_path / "out"
    live.watch([live.FileSource(path)], live.WatchModel.load(cam["models"]), out,
               live.WatchOptions(clip_scores=True, images=False))
    (video,) = _of(_records(out), "video")
    assert video["fps"] == pytest.approx(FPS) and "warning" not in video, video
    import csv

    with open(out / "clips.csv") as fh:
        starts = [int(r["start_frame"]) for r in csv.DictReader(fh)]
    assert starts == sorted(set(starts)) and len(starts) == (len(frames) - 16) // 4 + 1


def test_a_stream_whose_frames_repeat_unlike_the_models_footage_is_warned_of(cam, tmp_path):
    """The models' history repeats no frame; the same camera set to half its file's rate (every other
    frame the one before again) is watched with one `warning` record naming repeats=spread once ten
    seconds are in (a history without repeats then flags ordinary motion: check-halfrate); the
    footage as filmed gets none. (48%, not 50: a repeat is counted once the frame after it is in,
    and not at the video's first frame, which has no change before it.)"""
    frames = _frames(cam["video"])
    halved = np.stack(frames)
    halved[1::2] = halved[0::2][: len(halved[1::2])]
    path = tmp_path / "half.avi"
    synth.write_video(path, halved, FPS)
    assert json.loads((cam["models"] / "models.json").read_text())["extraction"]["repeat_share"] == 0.0
    runner = CliRunner()
    for video_path, out in ((path, tmp_path / "half"), (cam["video"], tmp_path / "full")):
        res = runner.invoke(cli, ["watch", str(video_path), "--model", str(cam["models"]), "-o", str(out)])
        assert res.exit_code == 0, res.output
    (warned,) = [r for r in _of(_records(tmp_path / "half"), "warning") if "repeat the one before" in r["warning"]]
    assert "0% of the fitted footage's sampled frames repeat the one before, 48% of this stream's" in warned["warning"]
    assert "--backbone-opt repeats=spread" in warned["warning"] and warned["video"] == path.name
    assert not [r for r in _of(_records(tmp_path / "full"), "warning") if "repeat" in r["warning"]]


def test_a_stream_of_another_frame_shape_is_scored_with_a_warning(cam, tmp_path):
    """The models' footage is 160x120 (4:3, worked at its native size): the same video stretched
    to 2:1, or at twice the resolution (size auto works it at 320x240: motion in other pixels), is
    watched with a `warning` record (and the log); the footage's own size gets none."""
    import cv2

    frames = _frames(cam["video"])
    height, width = frames[0].shape[:2]
    index = json.loads((cam["models"] / "models.json").read_text())["extraction"]
    assert index["aspects"] == [round(width / height, 3)] and index["working_sizes"] == [[width, height]]
    runner = CliRunner()
    for name, size in (("wide", (2 * height, height)), ("large", (2 * width, 2 * height)), ("same", (width, height))):
        path = tmp_path / f"{name}.avi"
        synth.write_video(path, np.stack([cv2.resize(f, size) for f in frames]), FPS)
        res = runner.invoke(cli, ["watch", str(path), "--model", str(cam["models"]), "-o", str(tmp_path / name)])
        assert res.exit_code == 0, res.output
    (wide,) = _of(_records(tmp_path / "wide"), "warning")
    assert wide["video"] == "wide.avi" and f"frames are {2 * height}x{height}" in wide["warning"]
    assert _of(_records(tmp_path / "wide"), "stop")[0]["sources"][0]["scored"] > 0  # scored all the same
    (large,) = _of(_records(tmp_path / "large"), "warning")
    assert f"worked at {2 * width}x{2 * height}" in large["warning"]
    assert _of(_records(tmp_path / "same"), "warning") == []
    # a fixed working size: another resolution at the same shape is the same working size
    fixed = {"aspects": [1.333], "working_sizes": [[160, 120]]}
    assert live.frame_shape_mismatch(fixed, 480, 640, (160, 120)) is None
    assert "worked at 320x240" in live.frame_shape_mismatch(fixed, 240, 320, (320, 240))
    assert live.frame_shape_mismatch({}, 100, 400, (160, 120)) is None  # an older models.json: nothing to compare


def test_no_smooth_scores_raw_against_the_raw_alarm_line_with_no_wait(cam, tmp_path):
    """`--no-smooth`: every clip's score as the model gives it alone, and the raw scores' line."""
    from extract.store import FeatureStore

    wm = live.WatchModel.load(cam["models"])
    assert wm.model.threshold_raw is not None and wm.model.threshold_raw != wm.model.threshold
    _extract(cam["video"].parent, tmp_path / "f")
    store = FeatureStore(tmp_path / "f")
    vid = store.load(store.keys()[0], cells=True)
    _, raw = wm.model.score([vid], smooth=False)
    res = CliRunner().invoke(cli, ["watch", str(cam["video"]), "--model", str(cam["models"]), "-o", str(tmp_path / "w"),
                                   "--clip-scores", "--no-smooth", "-q"])
    assert res.exit_code == 0, res.output
    import csv

    with open(tmp_path / "w" / "clips.csv") as fh:
        live_scores = [float(r["score"]) for r in csv.DictReader(fh)]
    np.testing.assert_allclose(live_scores, raw, rtol=1e-4)
    start = _of(_records(tmp_path / "w"), "watch")[0]
    assert start["threshold"] == pytest.approx(wm.model.threshold_raw) and start["smooth"] is False


class _Server:
    """An HTTP server on 127.0.0.1 that serves one video; `plan` lists how many bytes each
    connection gets before it is cut (None: all of it); connections past the plan get a 503."""

    def __init__(self, data: bytes, plan):
        self.data, self.plan, self.requests = data, list(plan), 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests += 1
                if not server.plan:
                    self.send_error(503)
                    return
                n = server.plan.pop(0)
                self.send_response(200)
                self.send_header("Content-Type", "video/x-msvideo")
                self.send_header("Content-Length", str(len(server.data)))
                self.end_headers()
                try:
                    self.wfile.write(server.data[: len(server.data) if n is None else n])
                except (BrokenPipeError, ConnectionResetError):
                    pass
                self.close_connection = True

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/cam.avi"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_an_http_stream_reports_the_injected_event(cam, tmp_path):
    server = _Server(cam["video"].read_bytes(), [None])
    try:
        res = CliRunner().invoke(cli, ["watch", server.url, "--model", str(cam["models"]), "-o", str(tmp_path),
                                       "--retries", "0", "-q"])
    finally:
        server.close()
    assert res.exit_code == 0, res.output
    records = _records(tmp_path)
    closes = _of(records, "close")
    assert any(_overlaps(r, cam["truth"]) for r in closes), closes
    assert all(r["source"] == server.url and r["lag_s"] is not None for r in closes)
    assert "240 frames" in res.output and server.requests == 1


def test_a_stream_that_drops_is_reopened_and_the_gap_recorded(cam, tmp_path):
    data = cam["video"].read_bytes()
    server = _Server(data, [int(len(data) * 0.45), None])  # cut mid-way, then whole, then 503s
    try:
        res = CliRunner().invoke(cli, ["watch", server.url, "--model", str(cam["models"]), "-o", str(tmp_path),
                                       "--retries", "1", "--backoff", "0.05", "--timeout", "5", "-q"])
    finally:
        server.close()
    records = _records(tmp_path)
    gaps = _of(records, "gap")
    assert len(gaps) == 1, records
    first_session = gaps[0]["resumes_at_frame"]
    assert 60 < first_session < 200 and gaps[0]["seconds"] >= 0.05 and gaps[0]["reason"]
    # the second session is the whole video again: its runner is found, frames counted on from the first
    truth = (first_session + cam["truth"][0], first_session + cam["truth"][1])
    closes = _of(records, "close")
    assert any(_overlaps(r, truth) for r in closes), (first_session, closes)
    # an event open at the cut was closed there, not merged across the gap
    assert all(r["end_frame"] < first_session or r["start_frame"] >= first_session for r in closes)
    # then the server only answers 503: given up after --retries 1 (two attempts), exit status 1
    lost = _of(records, "lost")
    assert len(lost) == 1 and "2 failed attempt(s)" in lost[0]["reason"]
    assert res.exit_code == 1 and "Error:" in res.output and "Traceback" not in res.output
    assert server.requests == 4


def test_a_folder_is_watched_for_new_files(cam, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    wm = live.WatchModel.load(cam["models"])
    stop = threading.Event()
    out = tmp_path / "out"
    result = {}
    thread = threading.Thread(target=lambda: result.update(
        s=live.watch([live.FolderSource(inbox, poll_s=0.2, settle_s=0)], wm, out, live.WatchOptions(), stop=stop)))
    thread.start()
    try:
        time.sleep(0.5)
        (inbox / "notes.txt").write_text("not a video")
        for name in ("0800.avi", "0815.avi"):
            tmp = inbox / ".incoming.avi"
            shutil.copyfile(cam["video"], tmp)
            tmp.rename(inbox / name)  # arrives whole, as a recorder's rename delivers it
            deadline = time.time() + 60
            while time.time() < deadline and not any(r["type"] == "close" and r["video"] == name
                                                     for r in _records(out)):
                time.sleep(0.2)
    finally:
        stop.set()
        thread.join(timeout=30)
    records = _records(out)
    assert [r["video"] for r in _of(records, "video")] == ["0800.avi", "0815.avi"]
    closes = _of(records, "close")
    assert [r["video"] for r in closes] == ["0800.avi", "0815.avi"]
    assert all(_overlaps(r, cam["truth"]) for r in closes)
    # one source: its events number on from file to file, each with its own image
    assert [r["event"] for r in closes] == [1, 2] and closes[0]["id"] != closes[1]["id"]
    assert closes[0]["closed_by"] == "end of video" or closes[0]["closed_by"] == "quiet"
    assert all((out / r["image"]).is_file() for r in closes)
    assert result["s"].sources[0].ended == "stopped"


def test_a_folder_source_forgets_the_files_deleted_since_it_took_them(tmp_path, monkeypatch):
    """Every file a folder watch had taken stayed in its memory for the watch's life, those the
    recorder's retention deleted too (43,000 a month of one-minute files). A listing that fails
    (or a share unmounted a while) shows no file at all: nothing is forgotten then, or every file
    would be scored again when it comes back."""
    from videoad.live.sources import FolderSource

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    stop = threading.Event()
    stop.wait = lambda timeout=None: False  # poll again at once
    source = FolderSource(inbox, poll_s=0.01, settle_s=0)  # one poll still is enough here
    feeds = source.feeds(stop)
    for name in ("a.avi", "b.avi"):
        (inbox / name).write_bytes(name.encode())
    assert sorted([next(feeds).name, next(feeds).name]) == ["a.avi", "b.avi"]  # seen twice unchanged, then taken
    (inbox / "a.avi").unlink()
    (inbox / "c.avi").write_bytes(b"c")
    assert next(feeds).name == "c.avi"
    assert set(p.name for p in feeds.gi_frame.f_locals["done"]) == {"b.avi", "c.avi"}
    real = source._listing
    failing = iter([{}, {}])  # two listings that failed
    monkeypatch.setattr(source, "_listing", lambda: next(failing, None) or real())
    (inbox / "d.avi").write_bytes(b"d")
    assert next(feeds).name == "d.avi"  # b and c were not taken again
    assert set(p.name for p in feeds.gi_frame.f_locals["done"]) == {"b.avi", "c.avi", "d.avi"}
    feeds.close()


def test_a_file_renamed_after_it_was_taken_is_not_taken_again(tmp_path, caplog):
    """A recorder that renames a segment once complete, or an operator tidying names, had the file
    scored again under its new name, its events raised twice. A name new to the folder holding a
    file taken before (same size, time and inode) is passed over and said to be; a copy (an inode
    of its own) and a file edited under its name are new, and taken."""
    from videoad.live.sources import FolderSource

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    stop = threading.Event()
    stop.wait = lambda timeout=None: False  # poll again at once
    feeds = FolderSource(inbox, poll_s=0.01, settle_s=0).feeds(stop)
    (inbox / "cam1_recording.avi").write_bytes(b"one")
    (inbox / "other.avi").write_bytes(b"other")
    assert sorted([next(feeds).name, next(feeds).name]) == ["cam1_recording.avi", "other.avi"]
    (inbox / "cam1_recording.avi").rename(inbox / "cam1_20261206_080000.avi")
    os.link(inbox / "other.avi", inbox / "other-link.avi")  # a hard link is the file too
    shutil.copy2(inbox / "other.avi", inbox / "other-copy.avi")  # its size and time kept, an inode of its own
    assert next(feeds).name == "other-copy.avi"
    (inbox / "cam1_20261206_080000.avi").write_bytes(b"one, edited")  # changed under its new name: new
    assert next(feeds).name == "cam1_20261206_080000.avi"
    (inbox / "z.avi").write_bytes(b"z")
    assert next(feeds).name == "z.avi"  # nothing else was taken in between
    (inbox / "other-copy.avi").replace(inbox / "z.avi")  # renamed over a file taken: still taken
    (inbox / "y.avi").write_bytes(b"y")
    assert next(feeds).name == "y.avi"
    feeds.close()
    assert "cam1_20261206_080000.avi: the file this watch took as cam1_recording.avi, renamed (or linked) since: " \
           "not scored again" in caplog.text
    assert "other-link.avi: the file this watch took as other.avi" in caplog.text


def test_a_file_renamed_since_an_earlier_watch_is_known_by_its_record(tmp_path, caplog):
    """After a restart the file under its new name is the one watched.jsonl lists under the old:
    the same size, time and inode. A record without an inode (written before they were kept)
    still stands for its name, and for a new name where the old one is gone from the folder."""
    import logging

    from videoad.live.sources import FolderSource

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    caplog.set_level(logging.INFO, logger="videoad.live.sources")
    files = {}
    for n, name in enumerate(("a.avi", "b.avi", "c.avi", "d.avi", "e.avi"), 1):
        (inbox / name).write_bytes(name.encode() * n)  # sizes apart: the content is size and time
        st = os.stat(inbox / name)
        files[name] = (st.st_size, st.st_mtime_ns, st.st_ino)
    source = FolderSource(inbox, once=True, settle_s=0)
    source.seen = {("old_a.avi", *files["a.avi"], "scored"),  # renamed since
                   ("old_b.avi", *files["b.avi"][:2], files["b.avi"][2] + 1, "scored"),  # same size and time, not inode
                   ("c.avi", *files["c.avi"][:2], None, None),  # an older record: its name
                   ("old_d.avi", *files["d.avi"][:2]),  # three fields (an older caller), the old name gone
                   ("e.avi", *files["e.avi"][:2])}
    shutil.copy2(inbox / "e.avi", inbox / "copy_of_e.avi")  # beside its original (recorded without inode): new
    taken = [f.name for f in source.feeds(threading.Event())]
    assert sorted(taken) == ["b.avi", "copy_of_e.avi"], taken
    assert source.watched_before == 4
    assert "a.avi: the file an earlier watch into this output scored as old_a.avi" in caplog.text


@contextlib.contextmanager
def _watching(source, cam, out):
    """`live.watch` of `source` with the camera's models on a thread for the block's length, then
    stopped (as Ctrl-C) and joined."""
    stop = threading.Event()
    thread = threading.Thread(target=lambda: live.watch([source], live.WatchModel.load(cam["models"]), out,
                                                        live.WatchOptions(), stop=stop))
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=60)


def _until(done, seconds: float, step: float = 0.2) -> None:
    """Wait until `done()` or `seconds` pass."""
    deadline = time.time() + seconds
    while time.time() < deadline and not done():
        time.sleep(step)


def test_a_restarted_watch_leaves_the_files_it_finished(cam, tmp_path):
    """A folder watched again into the same OUT (after a kill, a reboot) scores only what it had not
    finished: OUT/watched.jsonl lists each file scored to its end or found unreadable, with its size
    and time; a file changed since, a new file, or a line a kill cut short is scored again."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copyfile(cam["video"], inbox / "0800.avi")
    (inbox / "broken.avi").write_bytes(b"not a video at all" * 100)
    out = tmp_path / "out"

    def watch_once():
        res = CliRunner().invoke(cli, ["watch", str(inbox), "--once", "--settle", "0", "-q",
                                       "--model", str(cam["models"]), "-o", str(out)])
        assert "Traceback" not in res.output, res.output
        return res, _records(out)

    res, first = watch_once()  # exit status 1: a file could not be read (0 before, which --once in cron missed)
    assert res.exit_code == 1 and "inbox: 1 file(s) unreadable (their `failed` records in" in res.output, res.output
    assert [r["video"] for r in _of(first, "video")] == ["0800.avi"] and len(_of(first, "failed")) == 1
    n_closes = len(_of(first, "close"))
    assert n_closes >= 1
    lines = (out / live.WATCHED_FILE).read_text().splitlines()
    assert sorted((json.loads(x)["file"], json.loads(x)["outcome"]) for x in lines) == [
        ("0800.avi", "scored"), ("broken.avi", "failed")]

    res, second = watch_once()  # nothing new: nothing scored, no event or failure repeated
    assert res.exit_code == 0 and "2 file(s) watched before, not scored again" in res.output, res.output
    added = second[len(first):]
    assert [r["type"] for r in added] == ["watch", "stop"], added

    os.utime(inbox / "0800.avi", ns=(time.time_ns(), time.time_ns() + 5_000_000_000))  # changed since
    shutil.copyfile(cam["video"], inbox / "0815.avi")
    res, third = watch_once()
    added = third[len(second):]
    assert sorted(r["video"] for r in _of(added, "video")) == ["0800.avi", "0815.avi"]
    assert not _of(added, "failed") and "1 file(s) watched before" in res.output
    assert all(_overlaps(r, cam["truth"]) for r in _of(added, "close"))

    # a line a kill cut short is passed over: that file is scored again, nothing else
    lines = (out / live.WATCHED_FILE).read_text().splitlines()
    kept = [x for x in lines if json.loads(x)["file"] != "0815.avi"]
    cut = [x for x in lines if json.loads(x)["file"] == "0815.avi"][-1][:25]
    (out / live.WATCHED_FILE).write_text("\n".join(kept + [cut]) + "\n")
    res, fourth = watch_once()
    assert [r["video"] for r in _of(fourth[len(third):], "video")] == ["0815.avi"], res.output


def test_a_scored_file_renamed_is_not_scored_again_now_or_after_a_restart(cam, tmp_path, caplog):
    """The review's case: a folder's file scored, then renamed (a recorder naming a segment once
    complete, an operator tidying): it was scored again under its new name, two closes for one
    footage. watched.jsonl keeps the file's inode, so a restart knows it too; a record written
    before inodes were kept still leaves its own name alone."""
    import logging

    caplog.set_level(logging.INFO, logger="videoad.live.sources")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    out = tmp_path / "out"
    shutil.copyfile(cam["video"], inbox / "cam1_recording.avi")
    with _watching(live.FolderSource(inbox, poll_s=0.2, settle_s=0), cam, out):
        _until(lambda: (out / live.WATCHED_FILE).exists() and (out / live.WATCHED_FILE).read_text(), 60)
        (inbox / "cam1_recording.avi").rename(inbox / "cam1_20261206_080000.avi")
        time.sleep(1.0)  # five polls
        shutil.copyfile(cam["video"], inbox / "cam2.avi")  # a copy: a new file
        _until(lambda: "cam2.avi" in (out / live.WATCHED_FILE).read_text(), 60)
    records = _records(out)
    assert [r["video"] for r in _of(records, "video")] == ["cam1_recording.avi", "cam2.avi"]
    assert [r["video"] for r in _of(records, "close")] == ["cam1_recording.avi", "cam2.avi"]
    assert "the file this watch took as cam1_recording.avi, renamed (or linked) since" in caplog.text
    lines = [json.loads(x) for x in (out / live.WATCHED_FILE).read_text().splitlines()]
    assert [x["ino"] for x in lines] == [os.stat(inbox / n).st_ino for n in ("cam1_20261206_080000.avi", "cam2.avi")]

    (inbox / "cam2.avi").rename(inbox / "cam2_20261206_080000.avi")  # while the watch is down
    res = CliRunner().invoke(cli, ["watch", str(inbox), "--once", "--settle", "0",
                                   "-q", "--model", str(cam["models"]), "-o", str(out)])
    assert res.exit_code == 0 and "2 file(s) watched before, not scored again" in res.output, res.output
    assert [r["type"] for r in _records(out)[len(records):]] == ["watch", "stop"]
    assert "cam2_20261206_080000.avi: the file an earlier watch into this output scored as cam2.avi" in caplog.text

    # watched.jsonl as the version before wrote it (no inode): the file under the name it lists is left
    # alone, and a file under a new name too where the old name is gone from the folder
    old = [{k: v for k, v in x.items() if k != "ino"} for x in lines]
    old[1]["file"] = "cam2_20261206_080000.avi"
    (out / live.WATCHED_FILE).write_text("".join(json.dumps(x) + "\n" for x in old))
    before = len(_records(out))
    res = CliRunner().invoke(cli, ["watch", str(inbox), "--once", "--settle", "0",
                                   "-q", "--model", str(cam["models"]), "-o", str(out)])
    assert res.exit_code == 0 and "2 file(s) watched before" in res.output, res.output
    assert [r["type"] for r in _records(out)[before:]] == ["watch", "stop"]


def test_a_file_stopped_partway_is_not_listed_as_watched(cam, tmp_path):
    """Stopped mid-file (Ctrl-C, a service stop), the file stays off watched.jsonl: the next run scores it."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copyfile(cam["video"], inbox / "0800.avi")
    out = tmp_path / "out"
    source = live.FolderSource(inbox, poll_s=0.2, once=True, realtime=True, settle_s=0)  # 24 s at its own rate
    with _watching(source, cam, out):
        _until(lambda: _of(_records(out) if (out / live.EVENTS_FILE).exists() else [], "video"), 60, 0.1)
        time.sleep(1.0)
    assert _of(_records(out), "video") and _of(_records(out), "stop")
    assert (out / live.WATCHED_FILE).read_text() == ""


def _cut(src: Path, dst: Path, n_frames: int) -> Path:
    """The first `n_frames` frames of `src`, as an MJPG AVI at FPS."""
    import cv2

    frames = _frames(src)[:n_frames]
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(dst), cv2.VideoWriter_fourcc(*"MJPG"), FPS, (w, h))
    for f in frames:
        writer.write(f)
    writer.release()
    return dst



def _fill_events_disk(monkeypatch, full: threading.Event, fills_at: str | None = None):
    """OUT/events.jsonl on a disk that is full (ENOSPC) once `full` is set; set by the first line
    holding `fills_at`, where given. Returns the opener it replaced (to give the space back)."""
    import errno

    from videoad.live import outputs

    class Disk:
        def __init__(self, fh):
            self.fh = fh

        def write(self, text):
            if fills_at is not None and fills_at in text:
                full.set()
            if full.is_set():
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return self.fh.write(text)

        def __getattr__(self, name):
            return getattr(self.fh, name)

    opened = outputs._append_lines
    monkeypatch.setattr(outputs, "_append_lines", lambda path, *a, **k: Disk(opened(path, *a, **k))
                        if Path(path).name == live.EVENTS_FILE else opened(path, *a, **k))
    return opened

def test_a_full_output_disk_stops_the_source_in_one_line_and_a_restart_takes_up_the_rest(cam, tmp_path, monkeypatch):
    """OUT's disk filled mid-run: the scorer's `lost` record failed as the write before it had, its
    thread died with two tracebacks, and `watch` raised from its stop record (no summary, the hooks
    never settled). Now the source is lost with one line naming the file and the error, the watch
    returns its summary, the file it was on stays off watched.jsonl, and a restart scores it."""
    from videoad.live import outputs

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for name in ("a.avi", "b.avi"):
        _cut(cam["video"], inbox / name, 40)
    opened = _fill_events_disk(monkeypatch, threading.Event(), '"video": "b.avi"')  # full when b.avi begins
    died = []
    monkeypatch.setattr(threading, "excepthook", died.append)
    out = tmp_path / "out"
    wm = live.WatchModel.load(cam["models"])
    summary = live.watch([live.FolderSource(inbox, once=True, settle_s=0)], wm, out,
                         live.WatchOptions(on_event="true"))
    assert not died, died
    lost = summary.sources[0].lost
    assert "cannot write" in lost and str(out / live.EVENTS_FILE) in lost and "No space left" in lost, lost
    assert [json.loads(x)["file"] for x in (out / live.WATCHED_FILE).read_text().splitlines()] == ["a.avi"]
    assert "settled" in (out / "delivered.jsonl").read_text().splitlines()[-1]

    monkeypatch.setattr(outputs, "_append_lines", opened)  # space again
    again = live.watch([live.FolderSource(inbox, once=True, settle_s=0)], wm, out, live.WatchOptions())
    assert not again.sources[0].lost and again.sources[0].watched_before == 1
    assert [r["video"] for r in _of(_records(out), "video")] == ["a.avi", "b.avi"]


def test_a_folder_file_too_short_for_one_clip_is_named_listed_as_such_and_not_retried(cam, tmp_path):
    """A 5-frame stub a recorder left was listed in watched.jsonl as `scored` with no clip, and
    nothing said so. Now a `skipped` record (to the hooks too) and the log name it and why, its
    watched.jsonl line says `too short`, the summary counts it; a restart leaves it alone, and
    once it has grown it is scored."""
    inbox, out, got = tmp_path / "inbox", tmp_path / "out", tmp_path / "got.jsonl"
    inbox.mkdir()
    _cut(cam["video"], inbox / "a.avi", 40)
    _cut(cam["video"], inbox / "stub.avi", 5)
    wm = live.WatchModel.load(cam["models"])
    summary = live.watch([live.FolderSource(inbox, once=True, settle_s=0)], wm, out,
                         live.WatchOptions(on_event=f"cat >> {got}; echo >> {got}"))
    skipped = _of(_records(out), "skipped")
    assert [(r["video"], r["frames"]) for r in skipped] == [("stub.avi", 5)]
    assert skipped[0]["reason"] == ("5 frame(s), shorter than one clip (16 frames at the models' rate): "
                                    "nothing scored")
    assert [r["video"] for r in _sent(got) if r["type"] == "skipped"] == ["stub.avi"]
    done = {x["file"]: x for x in map(json.loads, (out / live.WATCHED_FILE).read_text().splitlines())}
    assert (done["a.avi"]["outcome"], done["stub.avi"]["outcome"], done["stub.avi"]["frames"]) == \
        ("scored", "too short", 5)
    assert summary.sources[0].too_short == 1
    assert "1 file(s) shorter than one clip, not scored" in summary.report()
    again = live.watch([live.FolderSource(inbox, once=True, settle_s=0)], wm, out, live.WatchOptions())
    assert again.sources[0].watched_before == 2 and again.sources[0].too_short == 0
    assert len(_of(_records(out), "skipped")) == 1
    _cut(cam["video"], inbox / "stub.avi", 40)  # the recorder wrote on: scored, as a new file
    grown = live.watch([live.FolderSource(inbox, once=True, settle_s=0)], wm, out, live.WatchOptions())
    assert grown.sources[0].scored > 0 and grown.sources[0].too_short == 0
    assert [x["outcome"] for x in map(json.loads, (out / live.WATCHED_FILE).read_text().splitlines())
            if x["file"] == "stub.avi"] == ["too short", "scored"]


def test_a_hooked_record_whose_write_to_events_jsonl_fails_is_never_sent(tmp_path, monkeypatch):
    """A hooked record was queued for the hooks before its write to events.jsonl, so a full disk
    sent the receiver a record that OUT does not have. Now it is logged `queued` first (a kill
    between the two still leaves no record unlogged) and queued only once written: a write that
    fails logs it `dropped`, not sent, then or by a later start; a kill after the `queued` line and
    before the write leaves one the next start drops, and one after the write one it sends."""
    from videoad.live.outputs import DELIVERED_FILE, OutputError, Recorder

    got = tmp_path / "got.jsonl"
    hook = f"cat >> {got}; echo >> {got}"
    full = threading.Event()
    _fill_events_disk(monkeypatch, full)  # full on demand
    out = tmp_path / "out"
    recorder = Recorder(out, live.WatchOptions(on_event=hook))
    recorder.record({"type": "open", "id": "cam-E0001"}, hook=True)
    full.set()
    with pytest.raises(OutputError):
        recorder.record({"type": "close", "id": "cam-E0001"}, hook=True)
    recorder.close(10.0)
    assert _told(_sent(got)) == [("open", "cam-E0001")]
    assert _ledger_says(out, "dropped", "close", "cam-E0001") and not _ledger_says(out, "sent", "close", "cam-E0001")
    full.clear()
    restarted = Recorder(out, live.WatchOptions(on_event=hook))
    assert restarted.redeliver() == 0
    restarted.close(10.0)
    assert _told(_sent(got)) == [("open", "cam-E0001")]

    # a kill right after the `queued` line (before the write), then one right after the write
    killed = tmp_path / "killed"
    recorder = Recorder(killed, live.WatchOptions(on_event="true"))
    recorder.hooks.submit = lambda *a, **k: True  # the kill comes before the record is queued
    recorder.record({"type": "close", "id": "cam-E0002"}, hook=True)
    recorder.hooks.announce({"type": "close", "id": "cam-E0003"}, "0123456789abcdef")  # ... and before its write
    restarted = Recorder(killed, live.WatchOptions(on_event=hook))
    assert restarted.redeliver() == 1
    restarted.close(10.0)
    assert _told(_sent(got))[1:] == [("close", "cam-E0002")]
    ledger = [json.loads(x) for x in (killed / DELIVERED_FILE).read_text().splitlines()]
    assert [x["state"] for x in ledger if x.get("record") == "0123456789abcdef"] == ["queued", "dropped"]


def test_an_event_open_at_a_folder_files_end_closes_then_with_its_clock(cam, tmp_path):
    """A file ending during an event left it open until the next file came (an hourly recorder: an
    hour late) or the watch stopped ("stopped"); and a file played with --realtime lost its
    recording clock (taken for a live stream's)."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    first, last = cam["truth"]
    _cut(cam["video"], tmp_path / ".part.avi", (first + last) // 2).rename(inbox / "cam1_20261205_080000.avi")
    out = tmp_path / "out"
    source = live.FolderSource(inbox, poll_s=0.2, realtime=True, settle_s=0)  # keeps watching: no next file comes
    with _watching(source, cam, out):
        _until(lambda: (out / live.EVENTS_FILE).exists() and _of(_records(out), "close"), 90)
        closes = _of(_records(out), "close")
    assert len(closes) == 1 and closes[0]["closed_by"] == "end of video", closes
    assert closes[0]["start_clock"].startswith("2026-12-05T08:00:") and _overlaps(closes[0], cam["truth"])
    assert [json.loads(x)["outcome"] for x in (out / live.WATCHED_FILE).read_text().splitlines()] == ["scored"]


def test_a_folder_file_taken_half_written_is_taken_again_once_complete(cam, tmp_path):
    """A copy that stalled past a poll was taken half-written and failed; the file completed (or
    copied again) was never looked at again in that run."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    data = cam["video"].read_bytes()
    (inbox / "seg.avi").write_bytes(data[: len(data) // 2])
    out = tmp_path / "out"
    with _watching(live.FolderSource(inbox, poll_s=0.2, settle_s=0), cam, out):
        _until(lambda: (out / live.EVENTS_FILE).exists() and _of(_records(out), "failed"), 60)
        (inbox / "seg.avi").write_bytes(data)  # the copy completes
        _until(lambda: _of(_records(out), "close"), 60)
        records = _records(out)
    assert len(_of(records, "failed")) == 1 and _of(records, "close"), [r["type"] for r in records]
    assert [r["video"] for r in _of(records, "video")][-1] == "seg.avi"


def _write_slowly(path: Path, data: bytes, chunks: int, pause: float, until: threading.Event) -> threading.Thread:
    """A recorder writing `path`: `data` appended in `chunks` parts `pause` s apart, then its time
    touched at that pace (still being written, as far as a watch can tell) until `until` is set."""
    def write():
        step = -(-len(data) // chunks)
        for i in range(0, len(data), step):
            with open(path, "ab") as fh:
                fh.write(data[i:i + step])
            if until.wait(pause):
                return
        while not until.wait(pause):
            os.utime(path)

    path.write_bytes(b"")
    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    return thread


def test_once_leaves_a_file_still_being_written_for_the_next_run(cam, tmp_path):
    """`--once` beside a recorder (cron): a segment still being written was taken at once, scored
    in part and listed in watched.jsonl at that size; the next run scored it whole again and its
    first part's events came twice. Now a file changing through the wait (settle_s after the files
    ready at the start) is left, named, off watched.jsonl; the next run, once it has been still
    settle_s seconds, scores it whole."""
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    shutil.copyfile(cam["video"], inbox / "a.avi")
    os.utime(inbox / "a.avi", (time.time() - 3600, time.time() - 3600))  # an hour old: taken at once
    data = cam["video"].read_bytes()
    written = threading.Event()
    writer = _write_slowly(inbox / "seg.avi", data, 400, 0.05, written)
    wm = live.WatchModel.load(cam["models"])
    try:
        summary = live.watch([live.FolderSource(inbox, poll_s=0.2, once=True, settle_s=1.0)], wm, out,
                             live.WatchOptions())
    finally:
        written.set()
        writer.join(timeout=60)
    assert [r["video"] for r in _of(_records(out), "video")] == ["a.avi"]
    assert [json.loads(x)["file"] for x in (out / live.WATCHED_FILE).read_text().splitlines()] == ["a.avi"]
    assert summary.sources[0].still_writing == ["seg.avi"], summary.report()
    assert "1 file(s) still being written, left for the next run (seg.avi)" in summary.report()
    (stop,) = _of(_records(out), "stop")
    assert stop["sources"][0]["still_writing"] == ["seg.avi"]

    (inbox / "seg.avi").write_bytes(data)  # written to its end: the next run waits for it to settle
    summary = live.watch([live.FolderSource(inbox, poll_s=0.2, once=True, settle_s=1.0)], wm, out,
                         live.WatchOptions())
    assert not summary.sources[0].still_writing and summary.sources[0].watched_before == 1, summary.report()
    assert [r["video"] for r in _of(_records(out), "video")] == ["a.avi", "seg.avi"]
    lines = [json.loads(x) for x in (out / live.WATCHED_FILE).read_text().splitlines()]
    assert [(x["file"], x["size"], x["outcome"]) for x in lines] == [("a.avi", len(data), "scored"),
                                                                      ("seg.avi", len(data), "scored")]


def test_once_takes_a_copy_that_ends_as_it_starts_once_it_has_settled(cam, tmp_path):
    """A copy finishing just as `--once` starts was taken at the size it had then (half a file: a
    `failed` record, or its first part scored as the whole); now it is taken once it has kept its
    size and time settle_s seconds, whole."""
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    data = cam["video"].read_bytes()
    half = len(data) // 2
    (inbox / "seg.avi").write_bytes(data[:half])
    finished = threading.Event()

    def finish():  # the second half in ten parts over 2.5 s, the watch started
        for i in range(10):
            time.sleep(0.25)
            with open(inbox / "seg.avi", "ab") as fh:
                fh.write(data[half + i * -(-(len(data) - half) // 10):][:-(-(len(data) - half) // 10)])
        finished.set()

    wm = live.WatchModel.load(cam["models"])
    copier = threading.Thread(target=finish, daemon=True)
    copier.start()
    summary = live.watch([live.FolderSource(inbox, poll_s=0.2, once=True, settle_s=4.0)], wm, out,
                         live.WatchOptions())
    copier.join(timeout=60)
    records = _records(out)
    assert not _of(records, "failed") and [r["video"] for r in _of(records, "video")] == ["seg.avi"], records
    (line,) = (out / live.WATCHED_FILE).read_text().splitlines()
    assert json.loads(line)["size"] == len(data) and json.loads(line)["outcome"] == "scored"
    assert finished.is_set() and not summary.sources[0].still_writing, summary.report()


def test_once_takes_old_files_without_waiting_and_waits_for_fresh_ones(tmp_path):
    """`--once` over an archive must not sleep: a file whose time is settle_s old is taken at the
    first look; one written just now beside it is only taken after a wait (it was taken at once)."""
    from videoad.live.sources import FolderSource

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "old.avi").write_bytes(b"old" * 10)
    os.utime(inbox / "old.avi", (time.time() - 3600, time.time() - 3600))
    (inbox / "new.avi").write_bytes(b"new" * 10)
    waits = []

    class Stops(threading.Event):  # records each wait and stops the source at the first
        def wait(self, timeout=None):
            waits.append(timeout)
            self.set()
            return True

    taken = []
    for feed in FolderSource(inbox, poll_s=0.2, once=True, settle_s=600).feeds(Stops()):
        taken.append((feed.name, len(waits)))
    assert taken == [("old.avi", 0)], taken  # taken before any wait
    assert len(waits) == 1 and 0 < waits[0] <= 0.2, waits  # then it looked again at the poll for new.avi


def test_a_folder_file_grown_since_it_was_scored_marks_the_events_raised_before(cam, tmp_path):
    """A file scored to its end (in watched.jsonl), then grown (a segment written on: --settle 0,
    or a recorder that paused longer than --settle): it is scored again from its start, and the
    events of the part scored then came again as new ones. Its `video` record now says what it
    grew from (size, time and frames scored then), and its events that begin in that part are
    marked `rescored`, the rest not."""
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    whole = _two_events(cam, tmp_path / "two.avi")
    _cut(whole, tmp_path / "first.avi", 240)
    (inbox / "seg.avi").write_bytes((tmp_path / "first.avi").read_bytes())
    wm = live.WatchModel.load(cam["models"])
    live.watch([live.FolderSource(inbox, once=True, settle_s=0)], wm, out, live.WatchOptions())
    first = _records(out)
    assert len(_of(first, "close")) == 1 and not any("rescored" in r for r in first), first
    before = os.stat(inbox / "seg.avi")
    with open(inbox / "seg.avi", "r+b") as fh:  # written on, in place (the same inode)
        fh.write(whole.read_bytes())
    live.watch([live.FolderSource(inbox, once=True, settle_s=0)], wm, out, live.WatchOptions())
    again = _records(out)[len(first):]
    (video,) = _of(again, "video")
    assert video["grown_from"] == {"file_size": before.st_size, "file_mtime_ns": before.st_mtime_ns, "frames": 240}
    marks = [(r["start_frame"] < 240, r.get("rescored", False)) for r in _of(again, "open") + _of(again, "close")]
    assert (True, True) in marks and (False, False) in marks and all(a == b for a, b in marks), marks


def test_a_folder_file_denied_to_the_watch_is_named_and_tried_again_by_the_next_start(cam, tmp_path, monkeypatch):
    """A recorder's file the watch's user may not read (0600 under another user) was listed in
    watched.jsonl as unreadable for good: once its permissions were put right, no restart scored it.
    (Run as root here, so the refusal a plain user gets, at the open and in the decoders, is made.)"""
    import errno

    import extract.decode

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for name in ("a.avi", "b.avi"):
        _cut(cam["video"], inbox / name, 40)
    denied = os.fspath(inbox / "b.avi")
    os_open, open_video = os.open, extract.decode.open_video

    def refuse(path, *args, **kwargs):
        if os.fspath(path) == denied:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), denied)
        return os_open(path, *args, **kwargs)

    def decoders_refuse(path, *args, **kwargs):  # what PyAV, decord and OpenCV say of it
        if os.fspath(path) == denied:
            raise extract.decode.DecodeError(f"no decoder could read the file (pyav: PermissionError: [Errno 13] "
                                             f"Permission denied: '{denied}')")
        return open_video(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", refuse)
    monkeypatch.setattr(extract.decode, "open_video", decoders_refuse)
    out = tmp_path / "out"
    wm = live.WatchModel.load(cam["models"])
    live.watch([live.FolderSource(inbox, once=True, settle_s=0)], wm, out, live.WatchOptions())
    failed = _of(_records(out), "failed")
    assert [r["video"] for r in failed] == ["b.avi"] and "Permission denied" in failed[0]["reason"], failed
    monkeypatch.setattr(os, "open", os_open)  # its permissions put right
    monkeypatch.setattr(extract.decode, "open_video", open_video)
    live.watch([live.FolderSource(inbox, once=True, settle_s=0)], wm, out, live.WatchOptions())
    assert [r["video"] for r in _of(_records(out), "video")] == ["a.avi", "b.avi"]
    assert sorted(json.loads(x)["file"] for x in (out / live.WATCHED_FILE).read_text().splitlines()) == ["a.avi", "b.avi"]


def test_a_file_name_that_is_not_utf8_does_not_stop_the_folder(cam, tmp_path):
    """A Latin-1 name (an old recorder, an SMB share) raised UnicodeEncodeError on the first record:
    the folder source was lost and no other file scored."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    odd = os.path.join(os.fsencode(inbox), b"a_cam\xe9ra.avi")
    shutil.copyfile(cam["video"], odd)
    shutil.copyfile(cam["video"], inbox / "b_plain.avi")
    out = tmp_path / "out"
    for _ in range(2):  # the second run finds both in watched.jsonl
        res = CliRunner().invoke(cli, ["watch", str(inbox), "--once", "--settle", "0", "-q",
                                       "--model", str(cam["models"]), "-o", str(out)])
        assert res.exit_code == 0 and "Traceback" not in res.output, res.output
    records = _records(out)
    assert sorted(r["video"] for r in _of(records, "video")) == ["a_cam\\xe9ra.avi", "b_plain.avi"]  # as the console
    assert "2 file(s) watched before" in res.output
    assert len(_of(records, "close")) >= 2


def test_a_folder_and_file_name_holding_a_line_feed_stay_on_their_lines_in_the_summary(cam, tmp_path):
    """Linux allows a line feed in a name: the summary's line for a folder `in<LF>FAKE 9 frames...`
    printed the rest of the name as a line of its own that read as the watch's, and the error line
    saying its files were unreadable did the same; each is written `\\n`, as extract's summary writes it."""
    inbox = tmp_path / "in\nFAKE 9 frames, 9 clips scored\r"
    inbox.mkdir()
    shutil.copyfile(cam["video"], inbox / "a\nFAKE.avi")
    (inbox / "b\nFAKE.avi").write_bytes(b"not a video" * 100)
    res = CliRunner().invoke(cli, ["watch", str(inbox), "--once", "--settle", "0", "-q",
                                   "--model", str(cam["models"]), "-o", str(tmp_path / "out")])
    assert res.exit_code == 1 and "Traceback" not in res.output, res.output
    lines = res.output.splitlines()
    summary = [x for x in lines if x.startswith("in\\nFAKE 9 frames, 9 clips scored\\r: ")]
    assert len(summary) == 1 and "1 file(s) unreadable" in summary[0], res.output
    assert any(x.startswith("Error: in\\nFAKE 9 frames, 9 clips scored\\r: 1 file(s) unreadable") for x in lines)
    assert not any(x.startswith("FAKE") for x in lines) and "\r" not in res.output, res.output
    assert sorted(r["video"] for r in _of(_records(tmp_path / "out"), "video")) == ["a\nFAKE.avi"]


def test_the_progress_line_writes_a_names_line_feed_and_carriage_return_as_text():
    """A camera named `cam<CR>...` (NAME=SOURCE, or a folder's name) wrote a carriage return into the
    status line: the terminal went back to the line's start mid-name, and the next `\\r` rewrite
    left the rest; a line feed moved it down a row, where the rewrite cannot reach."""
    term = _Terminal()
    stats = [live.SourceStats("cam\rFAKE\n1", frames=150, scored=30, live=True, started=time.time() - 10)]
    live.Progress(term, every_s=0)(stats)
    shown = term.getvalue()
    assert shown.startswith("\rcam\\rFAKE\\n1: ") and shown.count("\r") == 1 and "\n" not in shown, repr(shown)


def test_a_raw_stream_stating_no_rate_is_read_at_the_models_rate_or_the_one_given_and_warned_of(cam, tmp_path, caplog):
    """A raw HEVC file whose VUI timing states no rate (a recorder's `.h265` export) was read at FFmpeg's
    25 fps in silence: a 10 fps camera's events at 2.5 times their speed, its clips cut at another rate
    than the models' footage. It is read at the models' footage's rate (models.json, 10 fps here), warned
    once naming the file and the rate; `--image-fps` gives its rate, as extract's does."""
    from _extract_media import make_raw_stream

    inbox = tmp_path / "inbox"
    make_raw_stream(inbox / "cam.hevc", 48, fps=8, hevc=True, vui_timing=False)
    for out, given in ((tmp_path / "models-rate", []), (tmp_path / "given", ["--image-fps", "8"])):
        caplog.clear()
        res = CliRunner().invoke(cli, ["watch", str(inbox), "--once", "--settle", "0", "-q", *given,
                                       "--model", str(cam["models"]), "-o", str(out)])
        assert res.exit_code == 0, res.output
        (video,) = _of(_records(out), "video")
        assumed = [r.getMessage() for r in caplog.records if "states no frame rate" in r.getMessage()]
        if not given:
            assert video["fps"] == FPS, video
            assert len(assumed) == 1 and assumed[0].startswith(
                "cam.hevc: a raw HEVC stream (no container) that states no frame rate: 10 fps assumed (the frame "
                "rate of the models' footage, models.json)") and "--image-fps R" in assumed[0], assumed
            assert "10 fps assumed" in video["warning"], video
        else:
            assert video["fps"] == 8.0 and not assumed and "changes nothing" not in res.output, (video, res.output)
    assert "Traceback" not in res.output


def test_image_fps_that_no_watched_file_takes_is_said_to_change_nothing_once(cam, tmp_path):
    """`--image-fps` is the rate of raw streams stating none; given for videos of their own rate it
    changed nothing, and `watch` said nothing (`extract` says it): said once, in extract's words, before
    the watch of a file (it is known then), after that of a folder (whose files come as they come)."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    _cut(cam["video"], inbox / "a.avi", 40)
    for source in (inbox, inbox / "a.avi"):
        res = CliRunner().invoke(cli, ["watch", str(source), "--once", "--settle", "0", "-q", "--image-fps", "8",
                                       "--model", str(cam["models"]), "-o", str(tmp_path / f"out-{source.name}")])
        assert res.exit_code == 0, res.output
        said = [line for line in res.output.splitlines() if "changes nothing" in line]
        assert said == ["warning: --image-fps 8 changes nothing here: it is the rate of raw H.264/HEVC streams "
                        "whose VUI timing states none, and none of these inputs is one (a video keeps its own "
                        "rate)"], res.output


@pytest.mark.parametrize("fps", [True, False, float("nan"), "25", 0])
def test_the_models_footage_rate_is_only_a_number_of_frames_a_second(fps):
    """A bool is an int to Python: an extraction record's `fps: True` (a library caller's WatchModel;
    models.json's is refused by read_index) read a raw stream stating no rate at 1 frame a second."""
    from videoad.live import footage_rate

    assert footage_rate({"fps": fps}) is None
    assert footage_rate({"fps": 12.5}) == (12.5, "the frame rate of the models' footage, models.json")


def test_a_stream_reporting_a_clock_rate_is_timed_by_its_frames_arrival(cam, tmp_path):
    """An RTSP camera may report 90,000 frames/s (its clock): cut at that, no clip ever formed and
    nothing said so. The rate is read from the frames' arrival, with a warning."""
    from extract.decode import FrameStream

    frames = _frames(cam["video"])[:120]

    class Clocked(live.Source):
        name = "rtsp-cam"

        def feeds(self, stop):
            def paced():
                for f in frames:
                    time.sleep(1 / 20)  # a 20 fps camera
                    yield f[..., ::-1].copy()

            yield live.Feed(self.name, lambda: FrameStream("pyav", 90000.0, -1, paced()), live=True, reconnect=True)

    out = tmp_path / "out"
    summary = live.watch([Clocked()], live.WatchModel.load(cam["models"]), out, live.WatchOptions(retries=0))
    (video_record,) = _of(_records(out), "video")
    assert 15 < video_record["fps"] < 25, video_record
    assert "reports 90000 frames/s; its frames arrive at" in video_record["warning"]
    assert summary.sources[0].scored > 10


def test_a_stream_down_for_hours_is_still_retried_and_its_password_never_written(tmp_path):
    """After 1,025 failed opens in a row (8.5 h at the 30 s cap) 2 ** 1024 overflowed and the source
    was lost though the default is to retry for ever; the library's message quoted the URL with its
    password into the records and hooks; a password in the query or holding an @ leaked in names."""
    from videoad.live.scorer import _read_feed
    from videoad.live.sources import display_url

    class Instant(threading.Event):  # waits return at once; stops after 1,100 of them
        def __init__(self):
            super().__init__()
            self.waited = []

        def wait(self, timeout=None):
            self.waited.append(timeout)
            if len(self.waited) >= 1100:
                self.set()
            return self.is_set()

    url = "rtsp://admin:S3cret@127.0.0.1:1/s"

    def refuse():
        raise ConnectionRefusedError(f"[Errno 111] Connection refused: '{url}'")

    sent, stop = [], Instant()
    feed = live.Feed(display_url(url), refuse, live=True, reconnect=True, secret=url)
    _read_feed(feed, lambda m: sent.append(m) or True, stop, live.WatchOptions())
    assert not any(m[0] == "lost" for m in sent) and len(stop.waited) >= 1100
    assert max(stop.waited) == 30.0
    sent, stop = [], Instant()
    _read_feed(feed, lambda m: sent.append(m) or True, stop, live.WatchOptions(retries=0))
    (lost,) = [m for m in sent if m[0] == "lost"]
    assert "S3cret" not in lost[1] and "rtsp://admin:***@127.0.0.1:1/s" in lost[1], lost
    assert display_url("http://10.0.0.7/videostream.cgi?user=admin&pwd=S3cret&res=1") == \
        "http://10.0.0.7/videostream.cgi?user=admin&pwd=***&res=1"
    for odd in ("p@ss", "pa#ss", "pa?ss"):  # a password may hold any of them
        assert display_url(f"rtsp://admin:{odd}@cam.local/live") == "rtsp://admin:***@cam.local/live"
    assert display_url("rtsp://cam.local/live?channel=1") == "rtsp://cam.local/live?channel=1"
    from click.testing import CliRunner as Runner

    res = Runner().invoke(cli, ["watch", "--print-config", "--backoff", "0"])
    assert res.exit_code == 2 and "--backoff" in res.output
    res = Runner().invoke(cli, ["watch", "--print-config", "--backoff", "60"])  # beyond the 30 s cap: the wait
    assert res.exit_code == 0 and "backoff_s: 60.0" in res.output and "backoff_max_s: 60.0" in res.output, res.output


def test_a_stream_address_ffmpeg_cannot_open_is_given_up_at_once(tmp_path):
    """`rstp://` (a typo of rtsp) was retried for ever, backing off to 30 s, with no `lost` record and
    nothing for the hooks: no attempt can open a protocol FFmpeg does not know."""
    from videoad.live.scorer import _read_feed
    from videoad.live.sources import make_source

    class Patient(threading.Event):  # a retry's wait returns at once; the third one stops the reader
        waits = 0

        def wait(self, timeout=None):
            self.waits += 1
            if self.waits >= 3:
                self.set()
            return self.is_set()

    source = make_source("rstp://10.0.0.5/stream1")
    (feed,) = list(source.feeds(threading.Event()))
    sent, stop = [], Patient()
    _read_feed(feed, lambda m: sent.append(m) or True, stop, live.WatchOptions())
    assert stop.waits == 0  # not one retry
    (lost,) = [m for m in sent if m[0] == "lost"]
    assert "FFmpeg knows no such protocol (a mistyped scheme?" in lost[1] and lost[1].endswith("not retried")


def test_a_stalled_streams_gap_starts_at_its_last_frame_and_says_it_stalled():
    """The gap record began when the read timeout gave up (10 s after the last frame, by default), so
    it understated the outage by the timeout, and its reason was PyAV's "Immediate exit requested"."""
    from extract.decode import FrameStream
    from videoad.live.scorer import _read_feed

    frame = np.zeros((8, 8, 3), np.uint8)
    stop = threading.Event()
    calls = []

    def opener():
        calls.append(time.time())
        if len(calls) == 1:
            def stalls():
                yield from [frame, frame, frame]
                time.sleep(0.6)  # the read timeout, shortened
                raise RuntimeError("[Errno 1414092869] Immediate exit requested: 'http://cam/x'")
            return FrameStream("pyav", 10.0, -1, stalls())
        stop.set()
        return FrameStream("pyav", 10.0, -1, iter([frame]))

    sent = []
    feed = live.Feed("http://cam/x", opener, live=True, reconnect=True)
    _read_feed(feed, lambda m: sent.append(m) or True, stop, live.WatchOptions(backoff_s=0.01))
    last_frame = max(m[2] for m in sent if m[0] == "frame" and m[2] < calls[1])
    (gap,) = [m for m in sent if m[0] == "gap"]
    assert gap[1] == pytest.approx(last_frame, abs=0.05) and gap[2] - gap[1] >= 0.6
    assert gap[3] == "no data within the read timeout (--timeout): the stream stalled"


def test_a_picture_that_changes_size_in_a_watched_file_is_warned_of(tmp_path):
    """Extraction warned of a file going from 160x120 to 320x240 part-way; watch resized it silently."""
    from _extract_media import make_size_change

    from videoad.live.scorer import _read_feed
    from videoad.live.sources import make_source

    path = make_size_change(tmp_path / "cam.ts", 30, 30)
    (feed,) = list(make_source(str(path)).feeds(threading.Event()))
    sent = []
    _read_feed(feed, lambda m: sent.append(m) or True, threading.Event(), live.WatchOptions())
    warnings = [m[1] for m in sent if m[0] == "warning"]
    assert any(w.startswith("the picture changed size part-way (128x96 at frame 30)") for w in warnings), warnings


def test_a_folder_of_frames_is_named_not_watched_idle_for_ever(cam, tmp_path, caplog):
    """Ped2's frame folders: watch read no file (it takes videos), `--once` ended "0 frames" and
    without it idled for ever, in silence. `--once` (a folder's files now, then stop) fails naming
    the folder and the commands that score frames, before any output is made (it warned, then said
    "0 frames, 0 clips scored" with exit status 0); without it a warning says so (a folder of
    snapshots beside videos that come and go is watched as before: no error)."""
    frames = shared("ucsd_ped2", "testing", "frames")
    res = CliRunner().invoke(cli, ["watch", str(frames / "01"), "--once", "--model", str(cam["models"]),
                                   "-o", str(tmp_path / "a")])
    assert res.exit_code == 1 and "Traceback" not in res.output, res.output
    assert (f"{frames / '01'} holds 180 image file(s) and no video file" in res.output
            and "videoad extract --image-fps R" in res.output and "--once" in res.output), res.output
    assert not (tmp_path / "a").exists()
    res = CliRunner().invoke(cli, ["watch", str(frames), "--once", "--model", str(cam["models"]),
                                   "-o", str(tmp_path / "b")])
    assert res.exit_code == 1 and f"{frames} holds 2 folder(s) of images and no video file" in res.output
    from videoad.live.sources import FolderSource

    stop = threading.Event()
    stop.wait = lambda timeout=None: stop.set() or True  # one poll, then stop
    assert list(FolderSource(frames / "01").feeds(stop)) == []
    assert "holds 180 image file(s) and no video file" in caplog.text and "waiting for video files" in caplog.text


def test_sources_and_models_watch_cannot_take_are_named_for_what_they_are(tmp_path):
    """A named pipe was "no such file or folder"; models of imported features (Sultani's C3D) asked
    for --weights, which watch does not have."""
    from videoad.live import build_backbone
    from videoad.live.model import WatchError
    from videoad.live.sources import make_source

    fifo = tmp_path / "cam.fifo"
    os.mkfifo(fifo)
    with pytest.raises(WatchError, match=r"cam.fifo: a named pipe: watch reads video files, folders and stream"):
        make_source(str(fifo))
    with pytest.raises(WatchError, match=r"fitted on imported features \('c3d', made by another tool\)"):
        build_backbone({"backbone": "c3d", "options": None, "description": None,
                        "weights_sha256": "unknown (imported)"})


def test_a_second_watch_into_one_output_is_refused(cam, tmp_path):
    """Two watches given one -o wrote every event twice under one id, and two sources of one name
    gave two events one id and one picture."""
    from video_helpers import holding_folder

    holder = holding_folder(tmp_path / "w", "videoad watch")
    try:
        res = CliRunner().invoke(cli, ["watch", str(cam["video"]), "--model", str(cam["models"]), "-o",
                                       str(tmp_path / "w")])
    finally:
        holder.kill()
        holder.wait()
    assert res.exit_code == 1 and f"another videoad is writing this folder now (pid {holder.pid}, videoad watch" \
        in res.output
    assert not (tmp_path / "w" / live.EVENTS_FILE).exists()


def test_event_images_go_into_a_folder_a_day_and_keep_days_clears_the_old_ones(tmp_path, monkeypatch):
    """A camera watched for months filled one folder with a picture per event open and close, and
    nothing could clear it by age. Pictures older than keep_days go (by their age, not their day),
    hourly whether events come or not; nothing else in the folders is touched."""
    from videoad.live import outputs
    from videoad.live.outputs import Recorder, WatchOptions

    day = 86400.0
    now = time.time()
    rec = Recorder(tmp_path / "w", WatchOptions(keep_days=2))
    path, relative = rec.image_path("cam-E0001.jpg", now)
    assert relative == f"events/{time.strftime('%Y-%m-%d', time.localtime(now))}/cam-E0001.jpg"
    assert path == tmp_path / "w" / relative
    pictures = {}
    for k in (0, 1, 1.9, 2.1, 3, 40):  # days old
        d = tmp_path / "w" / "events" / time.strftime("%Y-%m-%d", time.localtime(now - k * day))
        d.mkdir(parents=True, exist_ok=True)
        pictures[k] = d / f"{k}.jpg"
        pictures[k].write_bytes(b"jpg")
        os.utime(pictures[k], (now - k * day, now - k * day))
    notes = pictures[40].parent / "notes.txt"  # not a picture of the watch: stays, and its folder with it
    notes.write_text("mine")
    flat_old, flat_new = tmp_path / "w" / "events" / "before.jpg", tmp_path / "w" / "events" / "recent.jpg"
    for f in (flat_old, flat_new):  # pictures of a watch before the day folders
        f.write_bytes(b"jpg")
    os.utime(flat_old, (now - 5 * day, now - 5 * day))
    assert rec.prune(now) == 4
    assert sorted(k for k, p in pictures.items() if p.exists()) == [0, 1, 1.9]
    assert notes.exists() and not flat_old.exists() and flat_new.exists()
    assert not pictures[3].parent.exists()  # emptied: removed
    rec.close(0)
    keep_all = Recorder(tmp_path / "w", WatchOptions())
    assert keep_all.prune(now + 10 * day) == 0 and pictures[0].exists()
    keep_all.close(0)
    # hourly on its own: a quiet camera writes no record, and its pictures still go
    monkeypatch.setattr(outputs, "PRUNE_EVERY_S", 0.05)
    quiet = Recorder(tmp_path / "w", WatchOptions(keep_days=2))
    late = tmp_path / "w" / "events" / "late.jpg"
    late.write_bytes(b"jpg")
    os.utime(late, (now - 9 * day, now - 9 * day))
    deadline = time.time() + 10
    while late.exists() and time.time() < deadline:
        time.sleep(0.05)
    quiet.close(0)
    assert not late.exists()


def test_keep_days_is_a_setting_of_the_command_line_and_the_file(tmp_path):
    res = CliRunner().invoke(cli, ["watch", "--print-config", "--keep-days", "30"])
    assert res.exit_code == 0 and "keep_days: 30.0" in res.output
    (tmp_path / "w.yaml").write_text("keep_days: 0\n")
    res = CliRunner().invoke(cli, ["watch", "--print-config", "--config", str(tmp_path / "w.yaml")])
    assert res.exit_code != 0 and "keep_days" in res.output and "> 0" in res.output


def test_an_event_picture_names_its_camera_and_says_an_open_events_peak_is_so_far():
    """The pictures said "E1 peak 0.672 at 9.5 s": not which camera, nor that at opening the
    peak is only the highest so far; and "E1" where the record's id and the picture's file say E0001."""
    from types import SimpleNamespace

    from videoad.events import Event
    from videoad.live.scorer import _Scorer

    ev = Event(event=1, video="lobby.mp4", category="", first_clip=0, last_clip=1, start_frame=0, end_frame=31,
               start_s=0.0, end_s=3.2, peak_clip=1, peak_score=0.672, peak_frame=95, peak_s=9.5, mean_score=0.5,
               threshold=0.4)
    me = SimpleNamespace(source=SimpleNamespace(name="lobby-cam"))
    assert _Scorer._picture_title(me, "open", ev) == "lobby-cam E0001 peak 0.672 at 9.5 s (so far: event open)"
    assert _Scorer._picture_title(me, "close", ev) == "lobby-cam E0001 peak 0.672 at 9.5 s"
    for name, drawn in (("Küche", "Kuche"), ("入口", "\\u5165\\u53e3")):  # OpenCV's font draws ASCII alone
        me.source.name = name
        assert _Scorer._picture_title(me, "close", ev).startswith(f"{drawn} E0001 ")


def test_several_cameras_in_one_process(cam, tmp_path):
    second = tmp_path / "cam2.avi"
    shutil.copyfile(cam["video"], second)
    res = CliRunner().invoke(cli, ["watch", str(cam["video"]), str(second), "--model", str(cam["models"]),
                                   "-o", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    closes = _of(_records(tmp_path / "out"), "close")
    by_source = {s: [(r["start_frame"], r["end_frame"], r["peak_clip"]) for r in closes if r["source"] == s]
                 for s in (cam["video"].name, "cam2.avi")}
    assert by_source[cam["video"].name] and by_source[cam["video"].name] == by_source["cam2.avi"]
    res = CliRunner().invoke(cli, ["watch", str(cam["video"]), str(cam["video"]), "--model", str(cam["models"]),
                                   "-o", str(tmp_path / "o2")])
    assert res.exit_code == 1 and "are the same file: give it once" in res.output, res.output
    # names that differ only where a file name drops characters keep distinct ids and images
    third, fourth = tmp_path / "cam 1.avi", tmp_path / "cam_1.avi"
    for path in (third, fourth):
        shutil.copyfile(cam["video"], path)
    res = CliRunner().invoke(cli, ["watch", str(third), str(fourth), "--model", str(cam["models"]),
                                   "-o", str(tmp_path / "o3")])
    assert res.exit_code == 0, res.output
    closes = _of(_records(tmp_path / "o3"), "close")
    assert {r["source"] for r in closes} == {"cam 1.avi", "cam_1.avi"}
    assert len({r["id"] for r in closes}) == len(closes) and len({r["image"] for r in closes}) == len(closes)
    assert all((tmp_path / "o3" / r["image"]).is_file() for r in closes)


def test_sources_of_one_name_are_told_apart_by_the_ends_of_their_paths(cam, tmp_path):
    """Two sites' `inbox` folders, or `d1/cam.avi` and `d2/cam.avi`, were refused with no way out
    ("two sources have the same name"). Each is named by the shortest end of its path that tells it
    from the others; a source whose name no other has keeps it (an output's names and ids stay);
    the names' `/` never reaches a file name, and a restart finds each folder's files."""
    for site in ("site1", "site2"):
        (tmp_path / site / "inbox").mkdir(parents=True)
        shutil.copyfile(cam["video"], tmp_path / site / "inbox" / "0800.avi")
    for d in ("d1", "d2"):
        (tmp_path / d).mkdir()
        shutil.copyfile(cam["video"], tmp_path / d / "cam.avi")
    out = tmp_path / "out"
    folders = [str(tmp_path / "site1" / "inbox"), str(tmp_path / "site2" / "inbox")]
    res = CliRunner().invoke(cli, ["watch", *folders, str(tmp_path / "d1" / "cam.avi"), str(tmp_path / "d2" / "cam.avi"),
                                   str(cam["video"]), "--once", "--settle", "0",
                                   "-q", "--model", str(cam["models"]), "-o", str(out)])
    assert res.exit_code == 0, res.output
    names = ["site1/inbox", "site2/inbox", "d1/cam.avi", "d2/cam.avi", cam["video"].name]
    records = _records(out)
    assert _of(records, "watch")[0]["sources"] == names
    assert [(r["source"], r["video"]) for r in sorted(_of(records, "video"), key=lambda r: names.index(r["source"]))] \
        == [("site1/inbox", "0800.avi"), ("site2/inbox", "0800.avi"), ("d1/cam.avi", "cam.avi"),
            ("d2/cam.avi", "cam.avi"), (names[4], names[4])]
    closes = _of(records, "close")
    assert {r["source"] for r in closes} == set(names)
    assert len({r["id"] for r in closes}) == len(closes) and not any("/" in r["id"] for r in closes)
    assert all(re.fullmatch(r"events/\d{4}-\d{2}-\d{2}/[^/]+\.jpg", r["image"]) and (out / r["image"]).is_file()
               for r in closes)
    assert sorted(json.loads(x)["folder"] for x in (out / live.WATCHED_FILE).read_text().splitlines()) == [
        str((tmp_path / site / "inbox").resolve()) for site in ("site1", "site2")]
    res = CliRunner().invoke(cli, ["watch", *folders, "--once", "--settle", "0",
                                   "-q", "--model", str(cam["models"]), "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert all(f"{n}: 0 frames, 0 clips scored, 0 event(s), 1 file(s) watched before" in res.output
               for n in names[:2]), res.output


def test_a_source_is_named_as_name_equals_source_and_a_name_still_shared_says_so(tmp_path, monkeypatch):
    """NAME=SOURCE names a source (kept as given; the others of its old name are named apart);
    names end as far back as they must (`a/x/cam`, `b/x/cam`, `y/cam`); what no path tells apart
    (streams whose addresses differ in their password alone) is refused saying how to name them,
    without the password, and one folder given twice is named as such."""
    from videoad.live.sources import FileSource, FolderSource, StreamSource, make_source, name_apart

    monkeypatch.chdir(tmp_path)
    for d in ("a/x/cam", "b/x/cam", "c/y/cam", "site1/inbox", "site2/inbox", "date=2026"):
        (tmp_path / d).mkdir(parents=True)
    (tmp_path / "site1" / "cam.avi").write_bytes(b"x")

    def names(*texts):
        srcs = [make_source(t) for t in texts]
        name_apart(srcs)
        return [s.name for s in srcs]

    assert names("a/x/cam", "b/x/cam", "c/y/cam", "site1/inbox") == ["a/x/cam", "b/x/cam", "y/cam", "inbox"]
    assert names("inbox=site1/inbox", "site2/inbox") == ["inbox", "site2/inbox"]
    assert names("north=site1/inbox", "south=site2/inbox", "gate=rtsp://admin:s3cret@10.0.0.9/cam.avi",
                 "site1/cam.avi") == ["north", "south", "gate", "cam.avi"]
    gate = make_source("gate=rtsp://admin:s3cret@10.0.0.9/s")
    assert isinstance(gate, StreamSource) and gate.url == "rtsp://admin:s3cret@10.0.0.9/s"
    assert isinstance(make_source("door=site1/cam.avi"), FileSource)
    assert isinstance(make_source("date=2026"), FolderSource) and make_source("date=2026").name == "date=2026"
    assert make_source("d=date=2026").name == "d"  # a path that exists as written is a path; else NAME=SOURCE
    with pytest.raises(live.WatchError, match="same folder: give it once"):
        names("site1/inbox", str(tmp_path / "site1" / ".." / "site1" / "inbox"))
    with pytest.raises(live.WatchError, match="an empty name"):
        make_source("=site1/inbox")
    res = CliRunner().invoke(cli, ["watch", "rtsp://admin:pw-one@10.0.0.9/s", "rtsp://admin:pw-two@10.0.0.9/s",
                                   "--model", str(tmp_path), "-o", str(tmp_path / "out")])
    assert res.exit_code == 1 and "the same name (rtsp://admin:***@10.0.0.9/s)" in res.output, res.output
    assert "NAME=SOURCE (s-1=rtsp://admin:***@10.0.0.9/s" in res.output and "pw-" not in res.output
    res = CliRunner().invoke(cli, ["watch", "x=site1/inbox", "x=site2/inbox", "--model", str(tmp_path), "-o",
                                   str(tmp_path / "out")])
    assert res.exit_code == 1 and "2 sources have the same name (x)" in res.output, res.output
    # two streams given one name: the suggestion shows their addresses (it showed `x-1=x x-2=x`)
    res = CliRunner().invoke(cli, ["watch", "x=rtsp://10.0.0.9/s", "x=rtsp://10.0.0.8/t", "--model", str(tmp_path),
                                   "-o", str(tmp_path / "out")])
    assert res.exit_code == 1 and "(x-1=rtsp://10.0.0.9/s x-2=rtsp://10.0.0.8/t" in res.output, res.output


def test_clip_scores_are_written_as_they_come_and_an_empty_file_gets_its_header(tmp_path):
    """clips.csv was buffered (a kill lost up to 8 KB of rows) and a file left empty by a kill got
    no header on restart (its first row became the header)."""
    from videoad.live.outputs import Recorder, WatchOptions

    (tmp_path / live.CLIPS_FILE).write_text("")  # what a kill before the first flush left
    rec = Recorder(tmp_path, WatchOptions(clip_scores=True))
    rec.clip("cam", "a.mp4", 0, 0, 15, 0.25, None)
    lines = (tmp_path / live.CLIPS_FILE).read_text().splitlines()  # read before any close
    assert lines == ["source,video,clip,start_frame,end_frame,score,lag_s", "cam,a.mp4,0,0,15,0.25,"]
    rec.close(1.0)


def test_a_csv_row_a_full_disk_cut_short_is_ended_before_the_next_run_appends(tmp_path):
    """A row of events.csv or clips.csv cut short (a full disk wrote part of it, a kill) had the next
    run's first row glued onto it: one row of wrong cells, the new event's id lost in the cut one's
    video (`b.avC`), a clip row of 11 cells."""
    import csv

    from videoad.live.outputs import Recorder, WatchOptions

    rec = Recorder(tmp_path, WatchOptions(clip_scores=True))
    rec.record({"type": "close", "id": "A", "video": "a.avi"})
    rec.clip("cam", "a.avi", 0, 0, 15, 0.5, None)
    rec.close(1.0)
    with open(tmp_path / live.EVENTS_CSV, "a") as fh:
        fh.write("B,cam,b.av")  # the part of a row the disk took
    with open(tmp_path / live.CLIPS_FILE, "a") as fh:
        fh.write("cam,b.avi,1,4")
    rec = Recorder(tmp_path, WatchOptions(clip_scores=True))
    rec.record({"type": "close", "id": "C", "video": "c.avi"})
    rec.clip("cam", "c.avi", 2, 8, 23, 0.5, None)
    rec.close(1.0)
    rows = list(csv.reader((tmp_path / live.EVENTS_CSV).open(newline="")))
    assert [r[0] for r in rows] == ["id", "A", "B", "C"] and rows[-1][2] == "c.avi", rows
    assert all(len(r) == len(rows[0]) for r in rows if r[0] != "B")
    clips = (tmp_path / live.CLIPS_FILE).read_text().splitlines()
    assert clips[-2:] == ["cam,b.avi,1,4", "cam,c.avi,2,8,23,0.5,"], clips


# ---------------------------------------------------------------------------------------------
# staying up: memory, a slow scorer, hooks, Ctrl-C


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A model at a 48x36 working size and a 2x2 grid, and 300 frames of the synthetic corridor
    at that size: the same pipeline, cheap enough to run for a simulated hour in seconds."""
    import cv2

    from videoad import video

    root = tmp_path_factory.mktemp("tiny")
    synth.generate(root / "history", n_normal=2, events=(), seed=5, cfg=synth.SceneConfig(n_frames=160))
    # no frame-rate cap: the simulated cameras below deliver 4 and 40 frames/s, every frame a clip frame
    _extract(root / "history" / "videos", root / "features", max_fps=0, size="48x36", grid=2)
    video.detect(root / "features", video.DetectConfig(mode="pooled", min_clips=10), save_models=root / "models")
    frames, _ = synth.render_video("crowd", seed=3, cfg=synth.SceneConfig(n_frames=300))
    small = np.stack([cv2.resize(f[..., ::-1], (48, 36), interpolation=cv2.INTER_AREA) for f in frames])
    return live.WatchModel.load(root / "models"), small


def _rss_mb() -> float:
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) / 1024 for line in fh if line.startswith("VmRSS"))


def test_memory_stays_flat_over_a_simulated_hour(tiny, tmp_path):
    """An hour of a 4 frames/s camera (14,400 frames, 3,600 clips) read as fast as it computes,
    with events opening and closing along the way. Sampled in-process about once a second: the
    process's resident size, and the blocks Python has allocated (objects kept per frame or per
    clip would pile up there)."""
    wm, frames = tiny
    n = 3600 * 4

    def camera():
        for i in range(n):
            yield frames[i % len(frames)]

    samples = []
    summary = live.watch([live.FramesSource("cam", camera, fps=4.0)], wm, tmp_path, live.WatchOptions(cell_sample=256),
                         on_progress=lambda st: samples.append((st[0].frames, sys.getallocatedblocks(), _rss_mb())))
    stats = summary.sources[0]
    assert stats.frames == n and stats.scored == (n - 16) // 4 + 1 and stats.dropped == 0
    assert stats.events > 3  # the crowd scene, looped: events open and close all along
    warm = [s for s in samples if s[0] >= n // 4]  # after the first quarter of an hour
    assert len(warm) >= 6, samples
    third = len(warm) // 3
    early, late = warm[:third], warm[-third:]
    blocks = (np.median([s[1] for s in early]), np.median([s[1] for s in late]))
    rss = (max(s[2] for s in early), max(s[2] for s in late))
    assert blocks[1] <= 1.10 * blocks[0] and blocks[1] - blocks[0] < 20_000, blocks
    assert rss[1] <= 1.10 * rss[0], rss


def test_a_slow_scorer_drops_clips_with_a_count_and_the_lag_stays_bounded(tiny, tmp_path):
    """A camera delivering 40 frames/s (10 clips/s) to a scorer that needs 0.3 s a clip."""
    from dataclasses import replace

    from extract.backbones.motion import MotionBackbone

    class SlowMotion(MotionBackbone):
        def preprocess_prepared(self, clip, sources=None):  # what the scorer calls per clip
            time.sleep(0.3)
            return super().preprocess_prepared(clip, sources)

    wm, frames = tiny
    slow = replace(wm, backbone=SlowMotion(**wm.backbone.options()))
    n = 240
    options = live.WatchOptions(max_lag_s=0.5, warn_every_s=1.0)
    src = live.FramesSource("cam", lambda: (frames[i % len(frames)] for i in range(n)), fps=40.0, realtime=True)
    t0 = time.time()
    summary = live.watch([src], slow, tmp_path, options)
    stats = summary.sources[0]
    assert stats.frames == n and stats.clips == (n - 16) // 4 + 1
    assert stats.dropped > stats.clips // 3 and stats.scored + stats.dropped == stats.clips
    assert stats.scored >= 5
    assert stats.max_lag_s < 0.5 + 1.0, stats  # behind by at most the limit and one clip's work
    assert time.time() - t0 < n / 40.0 + 3  # it kept pace with the camera, not with its own work
    dropped = _of(_records(tmp_path), "dropped")
    assert dropped and sum(r["clips"] for r in dropped) == stats.dropped  # all counted (the last at the end)


def test_a_watched_file_of_large_frames_queues_no_more_bytes_than_its_cap(tiny, tmp_path, monkeypatch):
    """A file of 1280x720 frames (2.76 MB each) read faster than a slow scorer takes them, with
    --frame-queue-mb 10: its queue holds 3 frames (8.3 MB), not the 64 (177 MB) its count allows,
    and the file, which waits for the scorer, is scored whole."""
    from dataclasses import replace

    import cv2

    from extract.backbones.motion import MotionBackbone
    from videoad.live.scorer import MB, FrameQueue

    class SlowMotion(MotionBackbone):
        def preprocess_prepared(self, clip, sources=None):
            time.sleep(0.05)
            return super().preprocess_prepared(clip, sources)

    queues = []

    class Watched(FrameQueue):  # the most it held, read under its lock before the scorer takes any
        def __init__(self, *args):
            super().__init__(*args)
            self.peak = 0
            queues.append(self)

        def put(self, item, timeout=None):
            with self._changed:  # an RLock: put's own wait still lets the scorer in
                super().put(item, timeout)
                self.peak = max(self.peak, self.bytes)

    monkeypatch.setattr(live, "FrameQueue", Watched)
    wm, frames = tiny
    n, size = 48, (1280, 720)
    path = synth.write_video(tmp_path / "big.avi", np.stack([cv2.resize(f[..., ::-1], size) for f in frames[:n]]), 10.0)
    slow = replace(wm, backbone=SlowMotion(**wm.backbone.options()))
    summary = live.watch([live.make_source(str(path))], slow, tmp_path / "out", live.WatchOptions(frame_queue_mb=10))
    stats = summary.sources[0]
    assert stats.frames == n and stats.scored == (n - 16) // 4 + 1 and stats.dropped == 0
    frame_bytes = size[0] * size[1] * 3
    (q,) = queues
    assert 2 * frame_bytes < q.peak <= 10 * MB, q.peak / frame_bytes  # held by its bytes, not by its 64 frames


def test_hooks_get_every_event_and_a_slow_one_does_not_block(cam, tmp_path):
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    log = tmp_path / "hook.jsonl"
    try:
        res = CliRunner().invoke(cli, [
            "watch", str(cam["video"]), "--model", str(cam["models"]), "-o", str(tmp_path / "a"),
            "--on-event", f"cat >> {log}; echo >> {log}", "--post", f"http://127.0.0.1:{httpd.server_address[1]}/ev"])
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert res.exit_code == 0, res.output
    # the events, and the `view` record: the demo generator draws each video's background anew, so
    # the runner's view is none of the history's two (test_a_view_the_history_never_showed_...)
    sent = [r for r in _records(tmp_path / "a") if r["type"] in ("open", "close", "view")]
    assert [r["type"] for r in sent].count("open") > 0 and [r["type"] for r in sent].count("view") == 1

    def told(records):
        return [(r["type"], r.get("id", r.get("frame"))) for r in records]

    piped = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    assert told(piped) == told(sent)
    assert told(received) == told(sent)
    # a command that hangs is killed at its timeout; the watch goes on and says so
    t0 = time.time()
    res = CliRunner().invoke(cli, ["watch", str(cam["video"]), "--model", str(cam["models"]), "-o",
                                   str(tmp_path / "b"), "--on-event", "sleep 30", "--hook-timeout", "0.5"])
    assert res.exit_code == 0, res.output
    assert time.time() - t0 < 20
    assert _of(_records(tmp_path / "b"), "close") and "failed" in res.output


def test_hook_records_queued_at_the_end_are_sent_or_counted(tmp_path):
    """A receiver taking 0.5 s a record: the queue was given one hook timeout at exit and the daemon
    thread died with the rest, the events' closes among them, and the summary said nothing."""
    from videoad.live.outputs import Hooks

    got = tmp_path / "got.jsonl"
    hooks = Hooks(f"sleep 0.5; cat >> {got}; echo >> {got}", None, timeout_s=2.0, size=64)
    for i in range(6):
        hooks.submit({"type": "close", "id": f"E{i:04d}"})
    hooks.close(2.0)
    assert [json.loads(line)["id"] for line in got.read_text().splitlines() if line.strip()] == \
        [f"E{i:04d}" for i in range(6)]
    assert (hooks.failures, hooks.dropped) == (0, 0)
    # calls that outlast every timeout: what is not sent is counted, not lost in silence
    hooks = Hooks("true", None, timeout_s=0.2, size=64)
    hooks._command = lambda data: time.sleep(1.0)
    for i in range(3):
        hooks.submit({"type": "close", "id": f"E{i:04d}"})
    hooks.close(0.2)
    assert hooks.dropped >= 2


def test_a_receiver_that_is_down_costs_one_timeout_at_the_end_not_one_per_record(tmp_path):
    """Draining the queue at the end gave each record its timeout: with a receiver that accepts and
    never answers, 8 records took 8 timeouts (up to 17 minutes with the defaults)."""
    import socket

    from videoad.live.outputs import Hooks

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)  # accepts connections and never answers
    try:
        hooks = Hooks(None, f"http://127.0.0.1:{server.getsockname()[1]}/ev", timeout_s=0.5, size=64)
        for i in range(8):
            hooks.submit({"type": "close", "id": f"E{i:04d}"})
        t0 = time.time()
        hooks.close(0.5)
        assert time.time() - t0 < 2.5
        assert hooks.failures >= 1 and hooks.failures + hooks.dropped == 8
    finally:
        server.close()


def test_a_hook_whose_child_leaves_its_group_is_still_bounded_by_the_timeout(tmp_path):
    """After the kill, waiting for the command's output waited on a detached child holding its pipe
    (6 s against a 1 s timeout), holding up every later record."""
    from videoad.live.outputs import Hooks

    hooks = Hooks("setsid sleep 4 & cat > /dev/null; sleep 30", None, timeout_s=0.5, size=4)
    hooks.submit({"type": "open", "id": "E0001"})
    t0 = time.time()
    hooks.close(0.5)
    assert time.time() - t0 < 2.5 and hooks.failures == 1


def test_a_hook_past_its_timeout_is_stopped_with_its_children(tmp_path):
    """`--hook-timeout` killed the shell only: its child (a curl to a dead host) ran on, one orphan
    per record."""
    from videoad.live.outputs import Hooks

    marker = tmp_path / "child-still-running"
    hooks = Hooks(f"sh -c 'sleep 2; touch {marker}'; true", None, timeout_s=0.5, size=4)
    hooks.submit({"type": "open", "id": "E0001"})
    hooks.close(0.5)
    assert hooks.failures == 1
    time.sleep(2.5)
    assert not marker.exists()


def _stop_a_watch(cam, out, *signals, extra=()):
    """A file played as a camera (--realtime) in its own process, sent `signals` (a moment apart)
    once an event is open; its exit status, stderr and records. The child gets SIGINT's default
    action back: a shell that starts the tests in the background (`cmd &`) hands its children an
    ignored SIGINT, and the watch would then run to the end of its stream."""
    code = "import sys; from videoad.cli import main; sys.argv[0] = 'videoad'; main()"
    proc = subprocess.Popen([sys.executable, "-c", code, "watch", str(cam["video"]), "--model", str(cam["models"]),
                             "-o", str(out), "--realtime", *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "OMP_NUM_THREADS": "1"},
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    events = out / live.EVENTS_FILE
    try:
        _until(lambda: proc.poll() is not None or events.exists() and _of(_records(out), "open"), 60, 0.1)
        assert proc.poll() is None, proc.communicate()
        for i, sig in enumerate(signals):
            if i:
                time.sleep(0.05)
            proc.send_signal(sig)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    return proc.returncode, err.decode(), _records(out)


def test_ctrl_c_closes_open_events_and_exits_0(cam, tmp_path):
    """Ctrl-C once the runner's event is open: the event is closed as stopped, exit 0."""
    code, err, records = _stop_a_watch(cam, tmp_path, signal.SIGINT)
    assert code == 0, err
    closes = _of(records, "close")
    assert closes and closes[-1]["closed_by"] == "stopped" and closes[-1]["id"] == _of(records, "open")[-1]["id"]
    assert records[-1]["type"] == "stop" and records[-1]["interrupted"] is True
    assert "Traceback" not in err


def test_a_stop_signalled_twice_as_timeout_does_still_closes_the_open_events(cam, tmp_path):
    """`timeout N videoad watch ...` sends its SIGTERM to the watch and again to its process group:
    the second one, a moment later, broke into the stop the first had begun, so the watch exited 130
    with its open events unclosed and no stop record (the next start closed them `abandoned`). A
    SIGTERM while stopping is now one stop; SIGKILL is the hard one."""
    code, err, records = _stop_a_watch(cam, tmp_path, signal.SIGTERM, signal.SIGTERM, extra=("-q",))
    assert code == 0, err
    assert _of(records, "close") and _of(records, "close")[-1]["closed_by"] == "stopped"
    assert records[-1]["type"] == "stop" and records[-1]["interrupted"] is True


def test_a_second_stop_signal_after_the_watch_returned_does_not_kill_its_exit(cam, tmp_path, monkeypatch):
    """The twice-signalled stop above, when the first stop ends before the second TERM comes (a fast
    stop, or a loaded machine delaying `timeout`'s second signal): the handler was put back to the
    default as the watch returned, so the second TERM killed the exit (status -15, a flaky failure of
    the test above). After a stop, the watch's handler stays, and takes that TERM as the same stop."""
    import types

    from videoad import live as live_mod

    def one_stop(*args, **kwargs):  # the watch, stopped by a TERM: it returns its summary
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)
        except KeyboardInterrupt:
            pass
        return types.SimpleNamespace(report=lambda: "stopped", interrupted=True, sources=[], lost=[])

    before = signal.getsignal(signal.SIGTERM)
    monkeypatch.setattr(live_mod, "watch", one_stop)
    try:
        res = CliRunner().invoke(cli, ["watch", str(cam["video"]), "--model", str(cam["models"]),
                                       "-o", str(tmp_path / "o"), "-q"])
        assert res.exit_code == 0, res.output
        handler = signal.getsignal(signal.SIGTERM)
        assert callable(handler) and handler is not before, handler  # the default would kill the exit
        assert handler(signal.SIGTERM, None) is None  # the second TERM: the same stop, nothing raised
    finally:
        signal.signal(signal.SIGTERM, before)


@pytest.mark.parametrize("how, message", [
    ("groups-a-list", "no 'groups' object"), ("entry-a-string", "is a JSON str, not a model entry"),
    ("no-stride", "extraction record does not say how clips were cut (KeyError: 'stride')"),
    ("no-groups", "no group's model in it")])
def test_a_damaged_model_index_stops_watch_with_one_line(cam, tmp_path, how, message):
    """models.json damaged by hand: watch says which file and what is wrong (it crashed with a
    KeyError or AttributeError traceback)."""
    import shutil

    models = tmp_path / "models"
    shutil.copytree(cam["models"], models)
    index = json.loads((models / "models.json").read_text())
    (group, entry), = index["groups"].items()
    damaged = {"groups-a-list": {**index, "groups": [entry]},
               "entry-a-string": {**index, "groups": {group: "x"}},
               "no-stride": {**index, "extraction": None,
                             "groups": {group: {**entry, "extraction": {k: v for k, v in entry["extraction"].items()
                                                                       if k != "stride"}}}},
               "no-groups": {**index, "groups": {}}}[how]
    (models / "models.json").write_text(json.dumps(damaged))
    res = CliRunner().invoke(cli, ["watch", str(cam["video"]), "--model", str(models), "-o", str(tmp_path / "o")])
    assert res.exit_code == 1 and res.exception.__class__ is SystemExit, res.output
    assert f"{models / 'models.json'}" in res.output and message in res.output, res.output


def test_bad_sources_and_model_folders_are_one_line_errors(cam, tmp_path):
    runner = CliRunner()
    res = runner.invoke(cli, ["watch", str(tmp_path / "nope.mp4"), "--model", str(cam["models"]), "-o", str(tmp_path)])
    assert res.exit_code == 1 and "no such file or folder" in res.output and res.exception.__class__ is SystemExit
    res = runner.invoke(cli, ["watch", str(cam["video"]), "--model", str(tmp_path), "-o", str(tmp_path / "o")])
    assert res.exit_code == 1 and "no models.json" in res.output
    bad = tmp_path / "bad.avi"
    bad.write_bytes(b"not a video")
    res = runner.invoke(cli, ["watch", str(bad), "--model", str(cam["models"]), "-o", str(tmp_path / "o")])
    assert res.exit_code == 1 and "bad.avi" in res.output and "no decoder could read" in res.output
    res = runner.invoke(cli, ["watch", str(cam["video"]), "--model", str(cam["models"]), "-o", str(tmp_path / "o"),
                              "--post", "ftp://x"])
    assert res.exit_code == 1 and "post must be an http(s) URL, got 'ftp://x'" in res.output


def test_a_camera_moving_where_its_history_never_did_is_warned_of_once(tmp_path):
    """A model fitted with --fit-on on a history whose lower half never moves (the walkway's far
    side hidden), then a stream whose walkers cross it: one `warning` record naming the cells,
    once per video, as `videoad detect --fit-on` warns; the stream is scored all the same."""
    from videoad import video

    scene = synth.SceneConfig(n_frames=160, fps=FPS, noise_sigma=0.0)
    for i in range(2):
        frames, _ = synth.render_video(None, seed=40 + i, cfg=scene)
        frames[:, scene.height // 2:] = frames[0, scene.height // 2:]  # the lower half stands still
        synth.write_video(tmp_path / "history" / f"h{i}.avi", frames, FPS)
    _extract(tmp_path / "history", tmp_path / "history-features")
    video.fit_and_score(tmp_path / "history-features", tmp_path / "history-features",
                        video.DetectConfig(mode="pooled", min_clips=20), save_models=tmp_path / "models")
    wm = live.WatchModel.load(tmp_path / "models")
    still = wm.model.info["history_still_cells"]  # the bottom row at least (flow blurs the edge above it)
    assert set(range(12, 16)) <= set(still) <= set(range(8, 16)), still
    today, _ = synth.render_video("object", seed=3, cfg=synth.SceneConfig(n_frames=160, fps=FPS, noise_sigma=0.0))
    out = tmp_path / "live"
    summary = live.watch([live.FramesSource("cam", lambda: iter(today), fps=FPS)], wm, out, live.WatchOptions())
    assert summary.sources[0].scored > 0
    warnings = [r for r in _of(_records(out), "warning") if "history never shows moving" in r["warning"]]
    assert len(warnings) == 1, warnings
    assert re.search(r"(?<![\d:])3:0(?![\d:])", warnings[0]["warning"]) and warnings[0]["source"] == "cam"  # 0-based
    events = _of(_records(out), "close")
    # each event names its cells the history never moved in (the vehicle's lane was covered: none)
    assert events and all(e["unseen_cells"] == sorted(set(still) & set(e["cells"])) for e in events)


def test_a_camera_filming_far_busier_than_its_history_is_warned_of_once(tmp_path):
    """A model fitted with --fit-on on a day's history, then the same scene at night (a fifth of the
    light and sensor noise): one `warning` record saying the picture moves far more than any history
    clip did, once the window's median says so, and once per video; the day stream gets none."""
    from videoad import coverage, video

    scene = synth.SceneConfig(n_frames=160, fps=FPS, noise_sigma=0.0)
    for i in range(2):
        frames, _ = synth.render_video(None, seed=50 + i, cfg=scene)
        synth.write_video(tmp_path / "history" / f"h{i}.avi", frames, FPS)
    _extract(tmp_path / "history", tmp_path / "history-features")
    video.fit_and_score(tmp_path / "history-features", tmp_path / "history-features",
                        video.DetectConfig(mode="pooled", min_clips=20), save_models=tmp_path / "models")
    wm = live.WatchModel.load(tmp_path / "models")
    assert wm.model.info["history_activity_peak"] > 0
    n = 16 * (coverage.WINDOW + 4)  # a window of clips and a few more
    day, _ = synth.render_video(None, seed=52, cfg=synth.SceneConfig(n_frames=n, fps=FPS, noise_sigma=0.0))
    noise = np.random.default_rng(0).normal(0, 10, day.shape)
    night = np.clip(day * 0.2 + noise, 0, 255).astype(np.uint8)
    out = tmp_path / "live"
    live.watch([live.FramesSource("day", lambda: iter(day), fps=FPS),
                live.FramesSource("night", lambda: iter(night), fps=FPS)], wm, out, live.WatchOptions())
    warnings = [r for r in _of(_records(out), "warning") if "far more of the picture" in r["warning"]]
    assert [w["source"] for w in warnings] == ["night"], warnings
    ratio = float(re.search(r"\(night \(([0-9.]+)x\)", warnings[0]["warning"]).group(1))
    assert ratio >= coverage.BUSIER
    assert f"the last {coverage.WINDOW} clips" in warnings[0]["warning"]


def test_a_camera_whose_view_changes_at_once_gets_a_scene_cut_record(cam, tmp_path):
    """The runner's video, its view switched at frame 120 (from there upside down and at half the
    light: another picture altogether): one `scene_cut` record at that frame, to the hooks as well;
    the video as it was gets none."""
    frames = _frames(cam["video"])
    switched = np.stack(frames[:120] + [(f[::-1] // 2).astype(np.uint8) for f in frames[120:]])
    path = tmp_path / "switched.avi"
    synth.write_video(path, switched, FPS)
    log = tmp_path / "hook.jsonl"
    res = CliRunner().invoke(cli, ["watch", str(path), "--model", str(cam["models"]), "-o", str(tmp_path / "w"),
                                   "--on-event", f"cat >> {log}; echo >> {log}"])
    assert res.exit_code == 0, res.output
    (cut,) = _of(_records(tmp_path / "w"), "scene_cut")
    assert (cut["video"], cut["frame"], cut["second"]) == ("switched.avi", 120, 12.0)
    assert "1 scene cut(s)" in res.output
    piped = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    assert [r["frame"] for r in piped if r["type"] == "scene_cut"] == [120]
    res = CliRunner().invoke(cli, ["watch", str(cam["video"]), "--model", str(cam["models"]), "-o", str(tmp_path / "plain")])
    assert res.exit_code == 0 and _of(_records(tmp_path / "plain"), "scene_cut") == []


def test_a_damaged_recording_is_watched_to_its_end_with_a_warning(cam, tmp_path):
    """The runner's video as H.264 with damaged data in the middle: watched to its last frame (the
    refused frames filled in, as extraction does), one `warning` record naming them."""
    import av
    import cv2

    from _extract_media import damage_packets

    frames = [cv2.cvtColor(f, cv2.COLOR_BGR2RGB) for f in _frames(cam["video"])]
    plain = tmp_path / "plain.mp4"
    with av.open(str(plain), "w") as container:
        stream = container.add_stream("libx264", rate=int(FPS))
        stream.width, stream.height, stream.pix_fmt = frames[0].shape[1], frames[0].shape[0], "yuv420p"
        for frame in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode())
    path = damage_packets(plain, tmp_path / "damaged.mp4", [100, 101])
    res = CliRunner().invoke(cli, ["watch", str(path), "--model", str(cam["models"]), "-o", str(tmp_path / "w")])
    assert res.exit_code == 0, res.output
    records = _records(tmp_path / "w")
    (warning,) = _of(records, "warning")
    assert warning["video"] == "damaged.mp4" and warning["warning"].startswith("2 frame(s) could not be decoded")
    (source,) = _of(records, "stop")[0]["sources"]
    assert source["frames"] == len(frames) and source["scored"] > 0


def test_frames_a_recording_never_delivered_are_warned_of_once_by_watch(cam, tmp_path):
    """The runner's video as MPEG-TS at 10 fps with the packets of frames 100-104 gone (no decoder
    error): watched without a word before; now one `warning` record names the file and the count,
    as extraction warns."""
    import cv2

    from _extract_media import make_vfr_h264

    frames = [cv2.cvtColor(f, cv2.COLOR_BGR2RGB) for f in _frames(cam["video"])]
    path = make_vfr_h264(tmp_path / "lost.ts", [100 * i for i in range(len(frames)) if i not in range(100, 105)],
                         rate=int(FPS), width=frames[0].shape[1], height=frames[0].shape[0],
                         picture=lambda i: frames[[k for k in range(len(frames)) if k not in range(100, 105)][i]])
    res = CliRunner().invoke(cli, ["watch", str(path), "--model", str(cam["models"]), "-o", str(tmp_path / "w")])
    assert res.exit_code == 0, res.output
    (warning,) = _of(_records(tmp_path / "w"), "warning")
    assert warning["video"] == "lost.ts"
    assert warning["warning"].startswith(f"5 of the {len(frames)} frames from its first to its last never arrived")


def test_a_recording_whose_clock_was_set_back_is_warned_of_once_by_watch(cam, tmp_path):
    """The runner's video as two MPEG-TS recordings joined byte for byte, the second's clock an hour
    behind the first's (a recorder's clock set back): extraction's notes say its timestamps go back,
    watch said nothing of it. Now one `warning` record names the file and where."""
    import cv2

    from _extract_media import make_vfr_h264

    frames = [cv2.cvtColor(f, cv2.COLOR_BGR2RGB) for f in _frames(cam["video"])]
    half = len(frames) // 2
    size = dict(rate=int(FPS), width=frames[0].shape[1], height=frames[0].shape[0])
    first = make_vfr_h264(tmp_path / "a.ts", [3_600_000 + 100 * i for i in range(half)],
                          picture=lambda i: frames[i], **size)
    second = make_vfr_h264(tmp_path / "b.ts", [100 * i for i in range(len(frames) - half)],
                           picture=lambda i: frames[half + i], **size)
    joined = tmp_path / "joined.ts"
    joined.write_bytes(first.read_bytes() + second.read_bytes())
    res = CliRunner().invoke(cli, ["watch", str(joined), "--model", str(cam["models"]), "-o", str(tmp_path / "w")])
    assert res.exit_code == 0, res.output
    (warning,) = _of(_records(tmp_path / "w"), "warning")
    assert warning["video"] == "joined.ts"
    assert warning["warning"].startswith(f"its timestamps go back 1 time(s) (at {half / FPS:.2f} s")


def test_a_live_stream_that_stalls_and_resumes_reads_no_motion_across_the_stall(cam, tmp_path, monkeypatch):
    """A camera whose stream stalls 4 s (under --timeout: no reconnection) and resumes with the runner
    elsewhere: live frames had no times for the pause rule, so the pair across the stall counted as
    motion. Now the stream's own stamps give them: each clip's features are the ones extraction's
    rule gives for the same frame times (the pair across the pause left out), and the clip across
    the stall differs from reading that pair."""
    from extract.backbones.motion import MotionBackbone
    from extract.timing import pauses_before

    frames = _frames(cam["video"])
    shown = frames[:60] + frames[120:180]  # 6 s of the scene the stall skipped
    times = np.concatenate([np.arange(60) / FPS, 10.0 + np.arange(60) / FPS])
    assert pauses_before(times).sum() == 1
    seen: list = []
    original = MotionBackbone.preprocess_prepared

    def recording(self, clip, sources=None):
        features = original(self, clip, sources)
        seen.append((list(sources), features.copy()))
        return features

    monkeypatch.setattr(MotionBackbone, "preprocess_prepared", recording)
    wm = live.WatchModel.load(cam["models"])
    source = live.FramesSource("cam", lambda: iter(shown), fps=FPS, live=True, times=times)
    live.watch([source], wm, tmp_path / "w", live.WatchOptions(max_lag_s=600000))
    monkeypatch.setattr(MotionBackbone, "preprocess_prepared", original)
    assert len(seen) >= 5
    offline, plain = copy.copy(wm.backbone), copy.copy(wm.backbone)
    offline.start_video()
    offline.frame_times(times)
    plain.start_video()
    across = 0
    for sources, features in seen:
        clip = np.stack([offline.prepare_frame(shown[i]) for i in sources])
        np.testing.assert_array_equal(features, offline.preprocess_prepared(clip, sources))
        if sources[0] < 60 <= sources[-1]:
            across += 1
            assert not np.array_equal(features, plain.preprocess_prepared(clip, sources))
    assert across >= 1


def test_a_stream_timed_by_arrival_pauses_where_the_camera_stalls_not_where_the_watch_held_it(cam, tmp_path,
                                                                                              monkeypatch):
    """A live stream without stamps is timed for the pause rule by its frames' arrival. 5 s with no
    frame is a pause where the camera sent none (the decoder waited for it), but none where the
    reader waited on a full frame queue (the scorer behind, the camera's frames buffered meanwhile):
    that wait read as a stall before, and the real frame pair after it was left out of the motion.
    A fake clock stands for time: 0.1 s per frame from the camera, 0.2 s per timed-out put."""
    import queue

    from types import SimpleNamespace

    from extract.backbones.motion import MotionBackbone
    from videoad.live import scorer as live_scorer

    frames = _frames(cam["video"])
    shown = frames[:60] + frames[120:180]
    clock = [1.8e9]
    monkeypatch.setattr(live_scorer, "time", SimpleNamespace(time=lambda: clock[0]))
    seen: list = []
    original_features, original_put = MotionBackbone.preprocess_prepared, live_scorer.FrameQueue.put

    def recording(self, clip, sources=None):
        features = original_features(self, clip, sources)
        seen.append((list(sources), features.copy()))
        return features

    def watched(stall_in: str) -> dict:
        queued, refusals = [0], [25 if stall_in == "queue" else 0]

        def camera():
            for i, frame in enumerate(shown):
                clock[0] += 5.0 if stall_in == "camera" and i == 60 else 1 / FPS
                yield frame

        def put(self, item, timeout=None):
            if item[0] == "frame" and queued[0] == 59 and refusals[0]:  # frame 59's put: the queue full for 5 s
                refusals[0] -= 1
                clock[0] += 0.2
                raise queue.Full
            original_put(self, item, timeout)
            queued[0] += item[0] == "frame"

        seen.clear()
        with monkeypatch.context() as mp:
            mp.setattr(MotionBackbone, "preprocess_prepared", recording)
            mp.setattr(live_scorer.FrameQueue, "put", put)
            source = live.FramesSource("cam", camera, fps=FPS, live=True)
            live.watch([source], wm, tmp_path / stall_in, live.WatchOptions(max_lag_s=600000))
        assert len(seen) >= 5
        return {tuple(sources): features for sources, features in seen}

    wm = live.WatchModel.load(cam["models"])
    paused, plain = copy.copy(wm.backbone), copy.copy(wm.backbone)
    paused.start_video()
    paused.frame_times(np.concatenate([np.arange(60) / FPS, 10.0 + np.arange(60) / FPS]))
    plain.start_video()
    stalled, held = watched("camera"), watched("queue")
    assert stalled.keys() == held.keys()
    across = 0
    for sources in stalled:
        clip = np.stack([plain.prepare_frame(shown[i]) for i in sources])
        np.testing.assert_array_equal(stalled[sources], paused.preprocess_prepared(clip, list(sources)))
        np.testing.assert_array_equal(held[sources], plain.preprocess_prepared(clip, list(sources)))
        if sources[0] < 60 <= sources[-1]:
            across += 1
            assert not np.array_equal(stalled[sources], held[sources])
    assert across >= 1


def test_a_recording_whose_decoder_fails_partway_is_named_and_exits_1(cam, tmp_path, monkeypatch):
    """A file whose decoder raises partway (a decoder process dying, a tail that cannot be read):
    a `failed` record naming the error and where, the event open there closed as the stream lost,
    exit status 1 (it ended as if the file had ended, exit 0 and no word of the error)."""
    import extract.decode as decode

    frames = _frames(cam["video"])
    cut = cam["truth"][0] + 40  # inside the runner's interval: an event is open there

    def dying():
        yield from frames[:cut]
        raise RuntimeError("the decoder process died (exit code 1)")

    monkeypatch.setattr(decode, "open_video", lambda path, decoders=None, **rates: decode.FrameStream(
        "pyav", FPS, len(frames), dying()))
    res = CliRunner().invoke(cli, ["watch", str(cam["video"]), "--model", str(cam["models"]), "-o", str(tmp_path / "w")])
    assert res.exit_code == 1, res.output
    records = _records(tmp_path / "w")
    (failed,) = _of(records, "failed")
    assert failed["reason"] == f"stopped after {cut} frame(s): RuntimeError: the decoder process died (exit code 1)"
    closes = _of(records, "close")
    assert closes and closes[-1]["closed_by"] == "stream lost", closes


def test_a_view_the_history_never_showed_gets_a_view_record(cam, tmp_path):
    """models.json keeps the pictures of the views (cameras) its history shows: the demo generator
    draws each video's background anew, so the history's two videos are two views. Watched, a
    history video shows one of them (no record); the runner's video, another background, gets one
    `view` record from its start; a history video switched at frame 120 to another view (the
    runner's scene upside down at half the light) gets its `scene_cut` and a `view` record since
    that frame, to the hooks too. The summary counts them."""
    views = json.loads((cam["models"] / "models.json").read_text())["groups"]["all"]["views"]
    assert sorted(views) == ["camera-01", "camera-02"] and all(len(v["scene"]) == 768 for v in views.values())
    first = sorted((cam["root"] / "history" / "videos").rglob("*.avi"))[0]
    other_view = [(f[::-1] // 2).astype(np.uint8) for f in _frames(cam["video"])]
    switched = np.stack(_frames(first)[:120] + other_view[120:200])
    synth.write_video(tmp_path / "switched.avi", switched, FPS)
    log = tmp_path / "hook.jsonl"
    runner = CliRunner()
    outputs = {}
    for name, path in (("own", first), ("other", cam["video"]), ("switched", tmp_path / "switched.avi")):
        res = runner.invoke(cli, ["watch", str(path), "--model", str(cam["models"]), "-o", str(tmp_path / name),
                                  "--on-event", f"cat >> {log}; echo >> {log}"])
        assert res.exit_code == 0, res.output
        outputs[name] = res.output
    assert _of(_records(tmp_path / "own"), "view") == []
    (other,) = _of(_records(tmp_path / "other"), "view")
    assert other["frame"] == 0 and other["scene_correlation"] < 0.85
    assert other["note"].startswith("the view from its start is none of the 2 view(s) of the models' history")
    assert "1 view(s) the history never showed" in outputs["other"]
    (cut,) = _of(_records(tmp_path / "switched"), "scene_cut")
    (view,) = _of(_records(tmp_path / "switched"), "view")
    assert cut["frame"] == view["frame"] == 120 and "since the scene cut at frame 120" in view["note"]
    piped = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    assert [r["frame"] for r in piped if r["type"] == "view"] == [0, 120]
    # a model folder written before views were kept: no check, no record
    index = json.loads((cam["models"] / "models.json").read_text())
    del index["groups"]["all"]["views"]
    old = tmp_path / "old-models"
    old.mkdir()
    for item in cam["models"].iterdir():
        (old / item.name).write_bytes(item.read_bytes())
    (old / "models.json").write_text(json.dumps(index))
    res = runner.invoke(cli, ["watch", str(cam["video"]), "--model", str(old), "-o", str(tmp_path / "old")])
    assert res.exit_code == 0, res.output
    assert _of(_records(tmp_path / "old"), "view") == [] and _of(_records(tmp_path / "old"), "close")


def test_a_source_switched_to_another_camera_is_scored_with_that_cameras_model(tmp_path):
    """Per-camera models of two cameras (the second's picture upside down at half the light, so
    that a switch between them is a hard cut). A file that shows the first camera until frame 120
    and the second after (a switcher's output): told as the first at its start, then at the cut a
    `camera` record (to the hooks too) and the clips after it scored with the second camera's model:
    its runner caught by that model's events."""
    from dataclasses import replace

    from videoad import video

    root = tmp_path
    scene = replace(synth.SceneConfig(n_frames=200, fps=FPS), background_seed=31)
    synth.generate(root / "history" / "a", n_normal=2, events=(), seed=31, cfg=scene)
    flip = synth.generate(root / "raw-b", n_normal=2, events=(), seed=32, cfg=replace(scene, background_seed=32))
    for v in flip.videos:  # camera b: another scene, upside down at half the light
        out = root / "history" / "b" / Path(v.video).name
        out.parent.mkdir(parents=True, exist_ok=True)
        synth.write_video(out, np.stack([(f[::-1] // 2).astype(np.uint8) for f in _frames(flip.root / v.video)]), FPS)
    _extract(root / "history", root / "history-features")
    video.detect(root / "history-features", video.DetectConfig(mode="per-camera", min_clips=10),
                 save_models=root / "models")
    a_today = synth.generate(root / "today-a", n_normal=1, events=(), seed=41, cfg=replace(scene, n_frames=120))
    b_today = synth.generate(root / "today-b", n_normal=0, events=("runner",), seed=42,
                             cfg=replace(scene, background_seed=32, n_frames=240))
    b_frames = [(f[::-1] // 2).astype(np.uint8) for f in _frames(b_today.root / b_today.videos[0].video)]
    start_b, end_b = b_today.videos[0].intervals[0]  # 1-based frames of b's own video, shown from frame 120 on
    truth = (start_b + 120, end_b + 120)
    switched = np.stack(_frames(a_today.root / a_today.videos[0].video) + b_frames)
    synth.write_video(root / "switcher.avi", switched, FPS)
    log = root / "hook.jsonl"
    res = CliRunner().invoke(cli, ["watch", str(root / "switcher.avi"), "--model", str(root / "models"), "-o",
                                   str(root / "w"), "--on-event", f"cat >> {log}; echo >> {log}"])
    assert res.exit_code == 0, res.output
    records = _records(root / "w")
    (cut,) = _of(records, "scene_cut")
    (switch,) = _of(records, "camera")
    start = _of(records, "watch")[0]["models"]["switcher.avi"]["group"]
    assert cut["frame"] == switch["frame"] == 120 and switch["camera"] != start
    assert _of(records, "view") == [] and "1 switch(es) to another camera's model" in res.output
    b_events = [r for r in _of(records, "close") if r["group"] == switch["camera"]]
    assert b_events and all(r["start_frame"] >= 120 for r in b_events)
    assert any(r["start_frame"] <= truth[1] - 1 and r["end_frame"] >= truth[0] - 1 for r in b_events)  # the runner
    piped = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    assert [r["camera"] for r in piped if r["type"] == "camera"] == [switch["camera"]]
    assert _of(records, "warning") == []
    # the camera switched to was fitted on footage worked at another size: the switch says so as a
    # stream's start does (it was scored in silence, false events and all)
    index = json.loads((root / "models" / "models.json").read_text())
    index["groups"][switch["camera"]]["extraction"]["working_sizes"] = [[80, 60]]
    other = root / "models-other-size"
    shutil.copytree(root / "models", other)
    (other / "models.json").write_text(json.dumps(index))
    res = CliRunner().invoke(cli, ["watch", str(root / "switcher.avi"), "--model", str(other), "-o", str(root / "w2")])
    assert res.exit_code == 0, res.output
    records = _records(root / "w2")
    (warned,) = _of(records, "warning")
    (camera,) = _of(records, "camera")
    assert "the models' footage at 80x60" in warned["warning"] and records.index(camera) < records.index(warned)
    assert warned["warning"].startswith(f"from frame 120, as {camera['camera']}: ")
    # each event names the group whose model scored it (an Event's own empty group overwrote it)
    assert {r["group"] for r in _of(records, "close")} <= {start, switch["camera"]} and _of(records, "close")


def test_a_watched_recording_named_by_its_start_gives_clock_times(cam, tmp_path):
    """A recorder's segment named by its start (extract.clock): each event record carries its
    start, end and peak clock times, the seconds into the file added to the name's time, as
    `videoad detect` gives them; the same file under a plain name gives none."""
    from datetime import datetime, timedelta

    named = tmp_path / "cam_20261205_080000.avi"
    shutil.copy(cam["video"], named)
    runner = CliRunner()
    for path, out in ((named, tmp_path / "named"), (cam["video"], tmp_path / "plain")):
        res = runner.invoke(cli, ["watch", str(path), "--model", str(cam["models"]), "-o", str(out)])
        assert res.exit_code == 0, res.output
    closes = _of(_records(tmp_path / "named"), "close")
    assert closes
    start = datetime(2026, 12, 5, 8, 0, 0)
    for r in closes:  # to the second: the start down, the end up (the span covers the event), the peak nearest
        assert r["start_clock"] == (start + timedelta(seconds=math.floor(r["start_s"]))).isoformat()
        assert r["end_clock"] == (start + timedelta(seconds=math.ceil(r["end_s"]))).isoformat()
        assert r["peak_clock"] == (start + timedelta(seconds=math.floor(r["peak_s"] + 0.5))).isoformat()
    assert all(r.get("start_clock") is None for r in _of(_records(tmp_path / "plain"), "close"))


def test_a_watched_segment_cut_mid_gop_counts_its_clock_from_its_first_decoded_frame(cam, tmp_path):
    """A recorder's MPEG-TS segment whose keyframe is in the segment before: the decoder loses its
    first frames, so its frame 0 is that much after the start its name gives. Extraction moved the
    start by them; watch did not, and every clock time was that much early (2.2 s here), with no
    word of the lost frames."""
    from datetime import datetime, timedelta

    import av

    from extract.decode import open_video

    frames = _frames(cam["video"])
    full = tmp_path / "full.mp4"
    with av.open(str(full), "w") as container:
        stream = container.add_stream("libx264", rate=int(FPS))
        stream.width, stream.height, stream.pix_fmt = frames[0].shape[1], frames[0].shape[0], "yuv420p"
        stream.options = {"crf": "18", "bf": "2", "g": "24"}
        for f in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(f[..., ::-1]), format="rgb24")))
        container.mux(stream.encode())
    cut = tmp_path / "cam_20261205_080000.ts"
    with av.open(str(full)) as src, av.open(str(cut), "w", format="mpegts") as dst:
        out = dst.add_stream_from_template(src.streams.video[0])
        for k, packet in enumerate(p for p in src.demux(src.streams.video[0]) if p.dts is not None):
            if k >= 3:  # the keyframe and two more are in the segment before
                packet.stream = out
                dst.mux(packet)
    reader = open_video(cut, ("pyav",))
    sum(1 for _ in reader.frames)
    lost_s = reader.reader.leading_seconds
    reader.close()
    assert lost_s >= 1
    res = CliRunner().invoke(cli, ["watch", str(cut), "--model", str(cam["models"]), "-o", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    records = _records(tmp_path / "out")
    closes = _of(records, "close")
    assert closes
    start = datetime(2026, 12, 5, 8) + timedelta(seconds=lost_s)
    for r in closes:
        assert r["start_clock"] == (start + timedelta(seconds=r["start_s"])).replace(microsecond=0).isoformat()
        assert r["peak_clock"] == (start + timedelta(seconds=r["peak_s"] + 0.5)).replace(microsecond=0).isoformat()
    assert any("could not be decoded" in r["warning"] for r in _of(records, "warning"))


def test_a_watched_recording_named_off_a_clock_never_set_gives_no_clock_times_and_says_so(cam, tmp_path):
    """A recorder whose clock battery died names its segments from 2000-01-01: its events carried
    2000-01-01 clock times, an analyst might believe them; none now, and its video record says why."""
    named = tmp_path / "cam_20000101_000312.avi"
    shutil.copy(cam["video"], named)
    res = CliRunner().invoke(cli, ["watch", str(named), "--model", str(cam["models"]), "-o", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    records = _records(tmp_path / "out")
    assert _of(records, "close") and all(r.get("start_clock") is None for r in _of(records, "close"))
    warning = _of(records, "video")[0]["warning"]
    assert "its file name says 2000-01-01 00:03:12, which looks like a camera clock never set" in warning


def test_a_learned_backbones_models_are_watched_as_they_score_in_batch(cam, tmp_path):
    """Models fitted on a (small, random) C3D's features: `watch` builds the network once and each
    camera's copy shares it; its clip scores equal `detect --model` on the same file."""
    import csv

    from extract.backbones import get_backbone
    from extract.run import ExtractOptions, extract_videos
    from videoad import video

    summary = extract_videos(cam["root"] / "history" / "videos", tmp_path / "hf",
                             get_backbone("c3d", random_init=True, width=16),
                             ExtractOptions(workers=1, recursive=True, progress=False, stride=8))
    assert summary.ok, summary.report()
    video.detect(tmp_path / "hf", video.DetectConfig(mode="pooled", min_clips=1), save_models=tmp_path / "models")
    runner = CliRunner()
    res = runner.invoke(cli, ["extract", str(cam["video"]), "-o", str(tmp_path / "f"), "--workers", "1", "-q",
                              "--backbone", "c3d", "--backbone-opt", "random_init=true", "--backbone-opt", "width=16",
                              "--stride", "8"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(cli, ["detect", str(tmp_path / "f"), "--model", str(tmp_path / "models"), "-o", str(tmp_path / "s")])
    assert res.exit_code == 0, res.output
    res = runner.invoke(cli, ["watch", str(cam["video"]), "--model", str(tmp_path / "models"), "-o", str(tmp_path / "w"),
                              "--clip-scores"])
    assert res.exit_code == 0, res.output
    with open(tmp_path / "s" / "segments.csv") as fh:
        batch = [float(r["score"]) for r in csv.DictReader(fh)]
    with open(tmp_path / "w" / "clips.csv") as fh:
        watched = [float(r["score"]) for r in csv.DictReader(fh)]
    assert len(batch) > 20
    np.testing.assert_allclose(watched, batch, rtol=1e-4)


def _clip_scores(out: Path) -> dict[str, list[float]]:
    import csv

    found: dict[str, list[float]] = {}
    with open(out / live.CLIPS_FILE) as fh:
        for r in csv.DictReader(fh):
            found.setdefault(r["video"], []).append(float(r["score"]))
    return found


def test_per_camera_models_watch_each_source_with_the_camera_it_shows(tmp_path):
    """Models fitted --per-camera on two cameras' history: with no --group, watch tells each
    source's camera from its first frames, says so, and scores it with that camera's model (the
    same clip scores as naming the camera with --group); a folder's files are told one by one, and
    one of neither camera is left out with a `skipped` record; a file of neither camera is refused
    with the cameras listed."""
    from dataclasses import replace

    from videoad import video

    root = tmp_path
    for cam, background in (("road", 21), ("square", 22)):
        scene = replace(synth.SceneConfig(n_frames=200, fps=FPS), background_seed=background)
        synth.generate(root / "history" / cam, n_normal=2, events=(), seed=background, cfg=scene)
        synth.generate(root / "today" / cam, n_normal=0, events=("runner",), seed=background + 100, cfg=scene)
    _extract(root / "history", root / "history-features")
    video.detect(root / "history-features", video.DetectConfig(mode="per-camera", min_clips=10),
                 save_models=root / "models")
    road, square = (next((root / "today" / c).rglob("*.avi")) for c in ("road", "square"))
    shutil.copy(road, root / "road.avi")
    shutil.copy(square, root / "square.avi")
    runner = CliRunner()

    res = runner.invoke(cli, ["watch", str(root / "road.avi"), str(root / "square.avi"), "--model",
                              str(root / "models"), "-o", str(root / "w"), "-q", "--clip-scores"])
    assert res.exit_code == 0, res.output
    told = dict(re.findall(r"camera of (\w+\.avi): (camera-0\d) \(scene correlation (?:0\.9\d|1\.00)\)", res.output))
    assert set(told) == {"road.avi", "square.avi"} and told["road.avi"] != told["square.avi"], res.output
    records = _records(root / "w")
    start = _of(records, "watch")[0]
    assert {k: v["group"] for k, v in start["models"].items()} == told
    assert {r["source"]: r["group"] for r in _of(records, "close")} == told  # each runner caught, by its camera
    together = _clip_scores(root / "w")
    for name, camera in told.items():  # the same scores as that camera's model named with --group
        res = runner.invoke(cli, ["watch", str(root / name), "--model", str(root / "models"), "-o",
                                  str(root / f"alone-{name}"), "-q", "--clip-scores", "--group", camera])
        assert res.exit_code == 0, res.output
        alone = _clip_scores(root / f"alone-{name}")[name]
        assert len(alone) > 20
        np.testing.assert_allclose(together[name], alone, rtol=1e-5)
    wrong = {"road.avi": told["square.avi"], "square.avi": told["road.avi"]}
    res = runner.invoke(cli, ["watch", str(root / "road.avi"), "--model", str(root / "models"), "-o",
                              str(root / "wrong"), "-q", "--clip-scores", "--group", wrong["road.avi"]])
    assert res.exit_code == 0, res.output
    assert not np.allclose(_clip_scores(root / "wrong")["road.avi"], together["road.avi"], rtol=1e-3)

    inbox = root / "inbox"
    inbox.mkdir()
    shutil.copy(road, inbox / "a_road.avi")
    shutil.copy(square, inbox / "b_square.avi")
    other = synth.generate(root / "elsewhere", n_normal=1, events=(), seed=5,
                           cfg=replace(synth.SceneConfig(n_frames=60, fps=FPS), background_seed=99))
    shutil.copy(other.root / other.videos[0].video, inbox / "c_elsewhere.avi")
    (inbox / "d_torn.avi").write_bytes(b"RIFF but nothing a decoder reads" * 50)
    res = runner.invoke(cli, ["watch", str(inbox), "--model", str(root / "models"), "-o", str(root / "f"),
                              "--once", "--settle", "0", "--clip-scores"])
    assert res.exit_code == 1 and "inbox: 1 file(s) unreadable (their `failed` records" in res.output, res.output
    assert "inbox: each file's camera told as it arrives" in res.output
    assert "1 file(s) unreadable, 1 file(s) of no known camera, not scored" in res.output
    records = _records(root / "f")
    assert [r["video"] for r in _of(records, "failed")] == ["d_torn.avi"]  # the reader's record, once
    videos = {r["video"]: r for r in _of(records, "video")}
    assert {v: r["group"] for v, r in videos.items()} == {"a_road.avi": told["road.avi"],
                                                           "b_square.avi": told["square.avi"]}
    assert all(r["scene_correlation"] >= 0.9 and r["threshold"] > 0 for r in videos.values())
    skipped = _of(records, "skipped")
    assert [r["video"] for r in skipped] == ["c_elsewhere.avi"]
    assert "matches none of the models' cameras" in skipped[0]["reason"]
    # a file of no known camera was not scored: it stays off watched.jsonl (a restart with its camera's
    # model added scores it), the unreadable one is listed as failed
    listed = {json.loads(x)["file"]: json.loads(x)["outcome"] for x in (root / "f" / live.WATCHED_FILE).read_text().splitlines()}
    assert listed == {"a_road.avi": "scored", "b_square.avi": "scored", "d_torn.avi": "failed"}, listed
    per_file = _clip_scores(root / "f")
    assert set(per_file) == {"a_road.avi", "b_square.avi"}
    np.testing.assert_allclose(per_file["a_road.avi"], together["road.avi"], rtol=1e-5)
    np.testing.assert_allclose(per_file["b_square.avi"], together["square.avi"], rtol=1e-5)

    res = runner.invoke(cli, ["watch", str(inbox / "c_elsewhere.avi"), "--model", str(root / "models"),
                              "-o", str(root / "x"), "-q"])
    assert res.exit_code != 0 and "c_elsewhere.avi: its scene matches none of the models' cameras" in res.output
    assert "name one with --group (camera-01 (" in res.output

    # a stream down at start-up no longer stops every camera: it is watched with a model whose view
    # check switches it to its own camera once it shows something; its password is never printed
    from videoad.live.camera import CameraModels

    down = live.StreamSource("http://admin:S3cret@127.0.0.1:1/cam.avi", timeout=1.0)
    chosen, lines = CameraModels.of(root / "models").choose([down])
    assert isinstance(chosen[down.name], live.WatchModel) and chosen[down.name].cameras is not None
    assert "its camera cannot be told now" in lines[0] and "S3cret" not in lines[0], lines

    # every camera's model is loaded at start, from one reading of models.json: a refit into the
    # folder while watch runs (it can number the cameras anew) no longer reaches files that arrive
    # later, which were scored with whatever model now bore their camera's name
    cams = CameraModels.of(root / "models")
    assert set(cams._loaded) == {"camera-01", "camera-02"}
    kept = {c: cams.model(c) for c in ("camera-01", "camera-02")}
    for f in (root / "models").iterdir():
        f.unlink() if f.is_file() else None  # the folder mid-refit: its files gone
    assert {c: cams.model(c) for c in kept} == kept

    # a camera the fit left without a model (too little history: one video of the square against
    # min_clips): a stream of it, scored by the one model there is, is told as that camera, not
    # as a view never seen (videoad.cameras.unfitted_cameras)
    from videoad.video import open_store

    store = open_store(root / "history-features")
    clips = {k: store.attrs(k)["n_clips"] for k in store.keys()}
    keys = [k for k in clips if "road" in k] + [next(k for k in clips if "square" in k)]
    most = max(clips[k] for k in keys if "square" in k)
    video.detect(root / "history-features", video.DetectConfig(mode="per-camera", min_clips=most + 1),
                 save_models=root / "road-only", keys=keys)
    index = json.loads((root / "road-only" / "models.json").read_text())
    assert len(index["groups"]) == 1 and len(index["unfitted_cameras"]) == 1
    (unfitted,) = index["unfitted_cameras"]
    assert unfitted not in index["groups"]
    res = runner.invoke(cli, ["watch", str(root / "square.avi"), "--model", str(root / "road-only"), "-o",
                              str(root / "sq"), "-q"])  # not scored with the road's model (detect --model neither)
    assert res.exit_code != 0 and f"square.avi: it shows {unfitted} (" in res.output, res.output
    assert "which the fit left without a model (" in res.output and not (root / "sq" / live.CLIPS_FILE).exists()
    res = runner.invoke(cli, ["watch", str(root / "road.avi"), "--model", str(root / "road-only"), "-o",
                              str(root / "rd"), "-q"])  # the fitted camera's footage: scored, no view warning
    assert res.exit_code == 0 and not _of(_records(root / "rd"), "view"), res.output


def test_models_fitted_per_level_of_activity_score_a_stream_by_the_level_it_moves_at(tmp_path):
    """A history of one scene by day and at night, fitted apart per level (the default; `videoad
    cameras` says so before the fit): watch loads both levels; a day stream that turns to night is
    switched to the busier level's model once its latest clips' median is past the boundary (a
    `level` record, a crossing); a night stream is scored by the busier level from its first clip
    on (a first decision, not a crossing), with exactly the scores that level's model gives it
    alone; per-camera models of the same history load the camera as its pair."""
    import csv

    from videoad import coverage, video

    def night_of(frames, seed):
        noise = np.random.default_rng(seed).normal(0, 10, frames.shape)
        return np.clip(frames * 0.2 + noise, 0, 255).astype(np.uint8)

    scene = synth.SceneConfig(n_frames=160, fps=FPS, noise_sigma=0.0, background_seed=5)  # one camera
    for i in range(2):
        frames, _ = synth.render_video(None, seed=60 + i, cfg=scene)
        synth.write_video(tmp_path / "history" / f"day{i}.avi", frames, FPS)
        synth.write_video(tmp_path / "history" / f"night{i}.avi", night_of(frames, i), FPS)
    _extract(tmp_path / "history", tmp_path / "history-features")
    video.fit_and_score(tmp_path / "history-features", tmp_path / "history-features",
                        video.DetectConfig(mode="pooled", min_clips=20), save_models=tmp_path / "models")
    res = CliRunner().invoke(cli, ["cameras", str(tmp_path / "history-features")])  # said before any fit
    assert res.exit_code == 0 and "camera-01: its videos fall into two levels of activity: 2 (night0.avi, " \
        "night1.avi)" in res.output, res.output
    wm = live.WatchModel.load(tmp_path / "models")
    assert wm.levels is not None and wm.group == "all (quieter)"
    assert wm.levels.models["busier"].group == "all (busier)"
    n = 16 * (coverage.WINDOW + 4)
    day, _ = synth.render_video(None, seed=62, cfg=synth.SceneConfig(n_frames=n, fps=FPS, noise_sigma=0.0,
                                                                     background_seed=5))
    night = night_of(day, 9)
    out = tmp_path / "live"
    live.watch([live.FramesSource("dusk", lambda: iter(np.concatenate([day, night])), fps=FPS),
                live.FramesSource("night", lambda: iter(night), fps=FPS)], wm, out,
               live.WatchOptions(clip_scores=True))
    levels = _of(_records(out), "level")
    by_source = {r["source"]: r for r in levels}
    assert sorted(r["source"] for r in levels) == ["dusk", "night"], levels
    assert by_source["night"]["frame"] == 0 and by_source["night"]["group"] == "all (busier)"
    assert by_source["night"]["crossing"] is False and by_source["dusk"]["crossing"] is True
    assert n <= by_source["dusk"]["frame"] < n + 16 * coverage.WINDOW, by_source["dusk"]
    assert by_source["dusk"]["level"] == "busier" and "from frame" in by_source["dusk"]["note"]
    with open(out / live.CLIPS_FILE) as fh:
        live_night = [float(r["score"]) for r in csv.DictReader(fh) if r["source"] == "night"]
    alone = tmp_path / "alone"
    live.watch([live.FramesSource("night", lambda: iter(night), fps=FPS)],
               live.WatchModel.load(tmp_path / "models", "all (busier)"), alone, live.WatchOptions(clip_scores=True))
    with open(alone / live.CLIPS_FILE) as fh:
        np.testing.assert_allclose(live_night, [float(r["score"]) for r in csv.DictReader(fh)], rtol=1e-6)
    assert not _of(_records(alone), "level")
    # a source switched from one camera at night to another by day (per-camera models, each its
    # pair; here the same pair loaded twice, switched where the view check would): the new camera's
    # level is decided from its own clips, not from the night's window (a false crossing before)
    from videoad.live import scorer as live_scorer

    other = live.WatchModel.load(tmp_path / "models")
    real_clip = live_scorer._Scorer._clip

    def switch_at_the_cut(self, clip, offset):
        if not getattr(self, "_switched", False) and offset + clip.last >= len(night) + live_scorer.VIEW_FRAMES:
            self._switched = True
            self._switch(other, "camera-B", 0.99, live_scorer._View(len(night), "cut"))
        real_clip(self, clip, offset)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(live_scorer._Scorer, "_clip", switch_at_the_cut)
        live.watch([live.FramesSource("feed", lambda: iter(np.concatenate([night, day])), fps=FPS)], wm,
                   tmp_path / "switched", live.WatchOptions(clip_scores=True))
    records = _records(tmp_path / "switched")
    assert [r["camera"] for r in _of(records, "camera")] == ["camera-B"]
    assert [r["level"] for r in _of(records, "level")] == ["busier"]  # the night, from its first clip
    assert not [r for r in _of(records, "level") if r["frame"] >= len(night)]  # the day stays at camera-B's quieter
    # per-camera models of the same history: one camera, fitted as its two levels; either level's
    # picture loads the pair, and a night stream told by its picture is scored by the busier level
    video.fit_and_score(tmp_path / "history-features", tmp_path / "history-features",
                        video.DetectConfig(mode="per-camera", min_clips=20), save_models=tmp_path / "cam-models")
    from videoad.live.camera import CameraModels

    cams = CameraModels.of(tmp_path / "cam-models")
    names = sorted(cams.groups)
    assert len(names) == 2 and all(" (quieter)" in n or " (busier)" in n for n in names), names
    assert cams.model(names[0]) is cams.model(names[1]) and cams.model(names[0]).levels is not None
    synth.write_video(tmp_path / "tonight.avi", night, FPS)
    res = CliRunner().invoke(cli, ["watch", str(tmp_path / "tonight.avi"), "--model", str(tmp_path / "cam-models"),
                                   "-o", str(tmp_path / "cam-live"), "-q"])
    assert res.exit_code == 0, res.output
    (level,) = _of(_records(tmp_path / "cam-live"), "level")
    assert level["level"] == "busier" and level["frame"] == 0 and not _of(_records(tmp_path / "cam-live"), "camera")


def test_a_level_pair_leaves_its_level_only_past_a_margin():
    """From a level, the other only once the window's median is past the boundary by the fourth root
    of the split's ratio (here 2): activity hovering about the boundary keeps the current level; a
    video's first decision reads the plain boundary."""
    from videoad.live.model import LevelPair

    pair = LevelPair(1.0, {}, ratio=16.0)
    assert [pair.side(m) for m in (0.99, 1.0)] == ["quieter", "busier"]
    assert [pair.side(m, "quieter") for m in (1.5, 1.99, 2.0)] == ["quieter", "quieter", "busier"]
    assert [pair.side(m, "busier") for m in (0.7, 0.51, 0.49)] == ["busier", "busier", "quieter"]


def test_watch_reads_a_variable_rate_files_seconds_as_detect_does(tmp_path):
    """tree.avi's frames keep no one rate: detect read its seconds from each frame's time, watch
    from the average rate, and the same event had two times."""
    import csv

    runner = CliRunner()
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "tree.avi").symlink_to(shared("videos", "tree.avi"))
    for args in (["extract", tmp_path / "in", "-o", tmp_path / "f", "-q"],
                 ["detect", tmp_path / "f", "-o", tmp_path / "fit", "--pooled", "--min-clips", "5",
                  "--save-model", tmp_path / "m"],
                 ["detect", tmp_path / "f", "-o", tmp_path / "s", "--model", tmp_path / "m"],
                 ["watch", tmp_path / "in" / "tree.avi", "--model", tmp_path / "m", "-o", tmp_path / "w"]):
        res = runner.invoke(cli, [str(a) for a in args])
        assert res.exit_code == 0, res.output
    detected = list(csv.DictReader(open(tmp_path / "s" / "events.csv", encoding="utf-8")))
    closed = [r for r in map(json.loads, open(tmp_path / "w" / "events.jsonl")) if r.get("type") == "close"]
    assert detected and len(closed) == len(detected)
    for d, w in zip(detected, closed):
        assert (w["start_frame"], w["end_frame"]) == (int(d["start_frame"]), int(d["end_frame"]))
        for key in ("start_s", "end_s", "peak_s"):
            assert w[key] == pytest.approx(float(d[key]), abs=1e-3), key


def test_watch_leaves_a_burst_cameras_pause_out_as_extraction_does(tmp_path):
    """A motion-triggered camera's file: extraction made no clip inside its pause and read no motion
    across it; watch, given the same frame times, scores the same clips alike."""
    import csv

    from _extract_media import make_vfr_h264

    rng = np.random.default_rng(2)
    ground = rng.integers(40, 200, (48, 64)).astype(np.uint8)

    def picture(i: int) -> np.ndarray:  # a block walking in each burst, left to right then back
        grey = ground.copy()
        x = 4 + (i % 90) // 2
        grey[16:32, x: x + 6] = 255 if i < 90 else 0
        return np.repeat(grey[:, :, None], 3, axis=2)

    times_ms = np.concatenate([np.arange(90) * 33, 8000 + np.arange(90) * 33])
    make_vfr_h264(tmp_path / "in" / "bursts.mp4", times_ms.tolist(), rate=30, picture=picture)
    runner = CliRunner()
    for args in (["extract", tmp_path / "in", "-o", tmp_path / "f", "-q"],
                 ["detect", tmp_path / "f", "-o", tmp_path / "fit", "--pooled", "--min-clips", "5",
                  "--save-model", tmp_path / "m"],
                 ["detect", tmp_path / "f", "-o", tmp_path / "s", "--model", tmp_path / "m"],
                 ["watch", tmp_path / "in" / "bursts.mp4", "--model", tmp_path / "m", "-o", tmp_path / "w",
                  "--clip-scores"]):
        res = runner.invoke(cli, [str(a) for a in args])
        assert res.exit_code == 0, res.output
    with open(tmp_path / "s" / "segments.csv") as fh:
        seg = [(int(r["start_frame"]), float(r["score"])) for r in csv.DictReader(fh)]
    with open(tmp_path / "w" / "clips.csv") as fh:
        live_rows = [(int(r["start_frame"]), float(r["score"])) for r in csv.DictReader(fh)]
    assert len(seg) == 12 and [f for f, _ in live_rows] == [f for f, _ in seg]
    np.testing.assert_allclose([s for _, s in live_rows], [s for _, s in seg], rtol=1e-4)


@pytest.mark.parametrize("camera_fps, note", [(12, True), (25, False), (60, False)])
def test_a_stream_whose_rate_is_ffmpegs_guess_is_timed_by_its_frames_arrival(cam, tmp_path, camera_fps, note):
    """An MJPEG camera over HTTP states no rate and FFmpeg guesses 25: a 15 fps camera was cut as if
    at 6 fps, seconds 0.6x, and normal clips read as fast motion. A guess the arrival confirms stays,
    and so does one the frames outrun (what FFmpeg buffered while probing arrives in a burst)."""
    from extract.decode import FrameStream

    frames = _frames(cam["video"])[:90]

    class Guessed(live.Source):
        name = "mjpeg-cam"

        def feeds(self, stop):
            def paced():  # on a schedule, so that a slow moment does not slow the camera
                t0 = time.monotonic()
                for i, f in enumerate(frames):
                    time.sleep(max(0.0, t0 + i / camera_fps - time.monotonic()))
                    yield f[..., ::-1].copy()

            yield live.Feed(self.name, lambda: FrameStream("pyav", 25.0, -1, paced(), rate_guessed=True),
                            live=True, reconnect=True)

    out = tmp_path / "out"
    live.watch([Guessed()], live.WatchModel.load(cam["models"]), out, live.WatchOptions(retries=0))
    (video_record,) = _of(_records(out), "video")
    if note:
        assert 9 < video_record["fps"] < 14, video_record
        assert "no frame rate (FFmpeg guesses 25); its frames arrive at" in video_record["warning"]
    else:
        assert video_record["fps"] == 25.0 and "warning" not in video_record


def test_once_without_a_folder_is_said_to_change_nothing(tmp_path):
    """`watch cam.mp4 --once` (or a stream) took --once in silence: it is for folders alone."""
    clip = tmp_path / "a.avi"
    clip.write_bytes(b"")
    (tmp_path / "empty-models").mkdir()
    said = "warning: --once is for folders"
    res = CliRunner().invoke(cli, ["watch", str(clip), "rtsp://10.0.0.5/s1", "--once", "-q", "--model",
                                   str(tmp_path / "empty-models"), "-o", str(tmp_path / "live")])
    assert said in res.output and res.exit_code != 0  # the empty model folder is refused after the warning
    (tmp_path / "inbox").mkdir()
    res = CliRunner().invoke(cli, ["watch", str(clip), str(tmp_path / "inbox"), "--once", "-q", "--model",
                                   str(tmp_path / "empty-models"), "-o", str(tmp_path / "live")])
    assert said not in res.output and res.exit_code != 0


def test_a_post_to_an_address_that_moved_or_with_a_password_is_sent_or_named(tmp_path):
    """A 301 (http to https, a trailing slash) made urllib send the POST on as a GET without the
    record, and the final 200 counted it as sent; `http://user:pass@host/` never connected (urllib
    took the password for the host) and printed the password with every failure."""
    from videoad.live.outputs import Hooks, post_target

    got = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if self.path == "/old":
                self.send_response(301)
                self.send_header("Location", "/new")
                self.end_headers()
                return
            got.append((self.path, self.headers.get("Authorization"), json.loads(body) if body else None))
            self.send_response(303 if self.path == "/taken" else 200)  # 303: taken, see this page about it
            if self.path == "/taken":
                self.send_header("Location", "/page")
            self.end_headers()

        do_GET = do_POST

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    port = httpd.server_address[1]
    try:
        hooks = Hooks(None, f"http://127.0.0.1:{port}/old", timeout_s=2.0, size=8)
        hooks.submit({"type": "close", "id": "E0001"})
        hooks.close(2.0)
        assert hooks.failures == 1 and not got  # counted, not "sent" as a GET without the record
        hooks = Hooks(None, f"http://alice:s%40cret@127.0.0.1:{port}/ev", timeout_s=2.0, size=8)
        hooks.submit({"type": "close", "id": "E0002"})
        hooks.close(2.0)
        import base64

        assert hooks.failures == 0 and got == [("/ev", "Basic " + base64.b64encode(b"alice:s@cret").decode(),
                                                 {"type": "close", "id": "E0002"})]
        got.clear()
        hooks = Hooks(None, f"http://127.0.0.1:{port}/taken", timeout_s=2.0, size=8)
        hooks.submit({"type": "close", "id": "E0003"})
        hooks.close(2.0)
        assert hooks.failures == 0 and got == [("/taken", None, {"type": "close", "id": "E0003"})]  # sent, once
    finally:
        httpd.shutdown()
    for bad in ("http://", "https:///ev", "http://host:port/ev"):
        with pytest.raises(ValueError, match="not an http"):
            post_target(bad)
    with pytest.raises(ValueError) as err:
        post_target("ftp://bob:hunter2@x/ev")
    assert "hunter2" not in str(err.value) and "bob:***@" in str(err.value)


def test_a_failed_post_names_the_receiver_without_its_password(caplog):
    from videoad.live.outputs import Hooks

    hooks = Hooks(None, "http://bob:hunter2@127.0.0.1:9/ev", timeout_s=1.0, size=8)  # port 9: nothing listens
    with caplog.at_level("WARNING"):
        hooks.submit({"type": "close", "id": "E0001"})
        hooks.close(1.0)
    assert hooks.failures == 1 and "--post http://bob:***@127.0.0.1:9/ev failed" in caplog.text
    assert "hunter2" not in caplog.text


def test_events_a_killed_watch_left_open_are_closed_as_abandoned_at_the_next_start(tmp_path):
    """After a kill -9 during an event, its open record (sent to the hooks) never got a close: a
    receiver tracking open events showed it open for ever. The next watch into OUT closes it."""
    from videoad.live.outputs import Recorder, abandoned_opens

    events = tmp_path / live.EVENTS_FILE

    def lines(*recs):
        return "".join(json.dumps(r) + "\n" for r in recs)

    earlier = lines({"type": "watch", "at": "t0"}, {"type": "open", "id": "cam-A-E0001", "source": "cam"},
                    {"type": "stop", "at": "t1"})
    killed = lines({"type": "watch", "at": "t2"}, {"type": "open", "id": "cam-B-E0001", "source": "cam", "video": "v"},
                   {"type": "close", "id": "cam-B-E0001"}, {"type": "open", "id": "cam-B-E0002", "source": "cam",
                                                             "video": "v", "start_frame": 40, "peak_score": 2.5})
    events.write_text(earlier + killed + '{"type": "clip", "cut sh')  # the kill cut the last line
    assert [r["id"] for r in abandoned_opens(events, chunk=16)] == ["cam-B-E0002"]  # read back in small steps
    got = tmp_path / "got.jsonl"
    recorder = Recorder(tmp_path, live.WatchOptions(on_event=f"cat >> {got}; echo >> {got}"))
    assert recorder.retire_abandoned() == 1 and recorder.retire_abandoned() == 0
    recorder.close(5.0)
    closed = [json.loads(x) for x in events.read_text().splitlines()[-1:]]
    assert closed[0]["type"] == "close" and closed[0]["id"] == "cam-B-E0002" and closed[0]["start_frame"] == 40
    assert closed[0]["closed_by"].startswith("abandoned")
    assert [json.loads(x)["id"] for x in got.read_text().splitlines() if x.strip()] == ["cam-B-E0002"]
    assert "cam-B-E0002" in (tmp_path / live.EVENTS_CSV).read_text()
    events.write_text(earlier)  # a run that stopped as it should: nothing left open
    assert abandoned_opens(events) == [] and abandoned_opens(tmp_path / "none.jsonl") == []


def _sent(path: Path) -> list[dict]:
    """The records a hook appended to `path`, one JSON line each."""
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()] if path.exists() else []


def _ledger_says(out: Path, state: str, kind: str, event_id: str) -> bool:
    """Whether OUT/delivered.jsonl logs `event_id`'s `kind` record as `state`."""
    path = out / "delivered.jsonl"
    for line in (path.read_text().splitlines() if path.exists() else []):
        try:
            r = json.loads(line)
        except ValueError:  # the line being written as it is read
            continue
        if (r.get("state"), r.get("type"), r.get("id")) == (state, kind, event_id):
            return True
    return False


def _told(records) -> list[tuple]:
    return [(r["type"], r.get("id", r.get("frame"))) for r in records]


def test_hooked_records_a_killed_watch_had_not_sent_are_sent_at_the_next_start(cam, tmp_path):
    """After kill -9 the records written to events.jsonl and still queued for the hooks (or in a
    call) were never sent: a receiver kept an event open for ever. The next watch into OUT sends
    them first, in order (OUT/delivered.jsonl says which were sent)."""
    got, release = tmp_path / "got.jsonl", tmp_path / "release"
    out = tmp_path / "out"
    code = "import sys; from videoad.cli import main; sys.argv[0] = 'videoad'; main()"
    slow = f"cat >> {got}; echo >> {got}; while [ ! -e {release} ]; do sleep 0.1; done"  # holds the first call
    proc = subprocess.Popen([sys.executable, "-c", code, "watch", str(cam["video"]), "--model", str(cam["models"]),
                             "-o", str(out), "-q", "--hook-timeout", "300", "--on-event", slow],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})
    try:
        _until(lambda: (out / live.EVENTS_FILE).exists() and _of(_records(out), "close"), 120, 0.1)
        proc.kill()
        proc.wait(30)
        first = _records(out)
        hooked = [r for r in first if r["type"] in ("open", "close", "view")]
        assert _of(first, "close")  # killed while scoring, or while its end waited on the hook: alike
        assert _told(_sent(got)) == _told(hooked[:1])  # the rest waited behind the call the kill cut short
        res = CliRunner().invoke(cli, ["watch", str(cam["video"]), "--model", str(cam["models"]), "-o", str(out),
                                       "-q", "--on-event", f"cat >> {got}; echo >> {got}"])
    finally:
        release.touch()  # the first watch's hook, left running by the kill, ends
        if proc.poll() is None:
            proc.kill()
    assert res.exit_code == 0, res.output
    second = [r for r in _records(out)[len(first):] if r["type"] in ("open", "close", "view")]
    # the call under way at the kill is made again (the receiver may see it twice, alike), then the rest, then the new
    assert _told(_sent(got)) == _told(hooked[:1] + hooked + second)
    assert f"hooks: {len(hooked)} record(s) a killed watch into this output had not sent, sent first" in res.output
    ledger = [json.loads(x) for x in (out / live.outputs.DELIVERED_FILE).read_text().splitlines()]
    assert ledger[-1]["state"] == "settled" and [x["state"] for x in ledger].count("sent") == len(hooked + second)
    res = CliRunner().invoke(cli, ["watch", str(cam["video"]), "--model", str(cam["models"]), "-o", str(out), "-q"])
    assert res.exit_code == 0 and "sent first" not in res.output  # a watch that stopped as it should left nothing


def test_the_hooks_delivery_log_sends_what_a_kill_left_once_within_the_queue_and_never_a_failed_call(tmp_path):
    """What a kill leaves queued or in a call is sent by the next start (the newest the queue
    holds); a call that failed (exit status, timeout) is final, kill or not; a normal end settles
    everything, sent or not."""
    from videoad.live.outputs import DELIVERED_FILE, Recorder

    def killed(out, size, n, hook="true"):
        """A recorder whose hook call hangs, `n` hooked records, then left as a kill leaves it."""
        recorder = Recorder(out, live.WatchOptions(on_event=hook, hook_queue=size))
        calling, release = threading.Event(), threading.Event()
        recorder.hooks._command = lambda data: (calling.set(), release.wait(60))
        recorder.record({"type": "watch", "at": "t0"})
        for i in range(n):
            recorder.record({"type": "open" if i % 2 == 0 else "close", "id": f"cam-E{i // 2:04d}", "i": i}, hook=True)
            recorder.record({"type": "warning", "i": i})  # not for the hooks
            assert i > 0 or calling.wait(10)
        return release

    def restarted(out, size=100):
        got = out.parent / f"{out.name}-got.jsonl"
        recorder = Recorder(out, live.WatchOptions(on_event=f"cat >> {got}; echo >> {got}", hook_queue=size))
        n = recorder.redeliver()
        recorder.close(5.0)
        return n, [r.get("i") for r in _sent(got)], recorder.hooks

    releases = [killed(tmp_path / "a", 10, 3)]  # one in a call, two queued
    n, sent, hooks = restarted(tmp_path / "a")
    assert (n, sent, hooks.resent, hooks.dropped) == (3, [0, 1, 2], 3, 0)
    assert restarted(tmp_path / "a")[:2] == (0, [0, 1, 2])  # settled: never again
    # over the queue's bound: the oldest (the call under way at the kill) is dropped, logged, counted
    releases.append(killed(tmp_path / "b", 3, 4))
    n, sent, hooks = restarted(tmp_path / "b", size=3)
    assert (n, sent, hooks.dropped) == (3, [1, 2, 3], 1)
    states = [json.loads(x) for x in (tmp_path / "b" / DELIVERED_FILE).read_text().splitlines()]
    assert [x["state"] for x in states if x.get("why", "").startswith("more than the queue's 3")] == ["dropped"]
    # a call that failed is not tried again, even when the watch was killed after it
    failing = Recorder(tmp_path / "c", live.WatchOptions(on_event="cat > /dev/null; exit 3"))
    failing.record({"type": "open", "id": "cam-E0001", "i": 0}, hook=True)
    _until(lambda: failing.hooks.failures, 10, 0.05)
    assert failing.hooks.failures == 1
    assert restarted(tmp_path / "c")[:2] == (0, [])
    # no hooks, no delivery log; a watch without hooks leaves a killed one's records to the next with them
    quiet = Recorder(tmp_path / "d", live.WatchOptions())
    quiet.record({"type": "open", "id": "cam-E0001"}, hook=True)
    quiet.close(1.0)
    assert not (tmp_path / "d" / DELIVERED_FILE).exists() and restarted(tmp_path / "d")[:2] == (0, [])
    releases.append(killed(tmp_path / "e", 10, 2))
    assert Recorder(tmp_path / "e", live.WatchOptions()).redeliver() == 0
    assert restarted(tmp_path / "e")[:2] == (2, [0, 1])
    for release in releases:
        release.set()


def _two_events(cam, path: Path) -> Path:
    """The runner's video twice over, as an MJPG AVI: two events, the second 24 s after the first."""
    import cv2

    frames = _frames(cam["video"])
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), FPS, (w, h))
    for f in frames + frames:
        writer.write(f)
    writer.release()
    return path


def test_a_folder_file_scored_again_after_a_kill_raises_only_the_events_not_yet_recorded(cam, tmp_path):
    """kill -9 mid-file: the restart scored the file again from its start (not in watched.jsonl) and
    raised the events already recorded and sent again, under new ids (`inbox-<stamp>-E0001` twice).
    Those are left alone now; the events the killed watch had not reached are raised, with ids of
    the new watch's own."""
    inbox, out, got = tmp_path / "inbox", tmp_path / "out", tmp_path / "got.jsonl"
    inbox.mkdir()
    _two_events(cam, tmp_path / ".cam.avi").rename(inbox / "cam.avi")
    hook = f"cat >> {got}; echo >> {got}"
    code = "import sys; from videoad.cli import main; sys.argv[0] = 'videoad'; main()"
    proc = subprocess.Popen([sys.executable, "-c", code, "watch", str(inbox), "--realtime", "--settle", "0",
                             "--poll", "0.2", "--model", str(cam["models"]), "-o", str(out), "-q", "--on-event", hook],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})
    try:
        _until(lambda: (out / live.EVENTS_FILE).exists() and _of(_records(out), "close"), 120, 0.1)
        # killed once the delivery log says the close was sent: a kill between the call's end and that
        # line leaves the call "under way", which the next start sends again (at least once, by design)
        _until(lambda: _ledger_says(out, "sent", "close", _of(_records(out), "close")[0]["id"]), 10, 0.1)
    finally:
        proc.kill()
        proc.wait(30)
    first = _records(out)
    (e1,) = _of(first, "close")
    assert e1["video"] == "cam.avi" and e1["start_frame"] < 240 and not _of(first, "stop")
    res = CliRunner().invoke(cli, ["watch", str(inbox), "--once", "--settle", "0",
                                   "-q", "--model", str(cam["models"]), "-o", str(out),
                                   "--on-event", hook])
    assert res.exit_code == 0, res.output
    again = _records(out)[len(first):]
    later = _of(again, "close")  # the runner again, and the jump where the video starts over: not the first
    assert len(later) == 2 and all(r["start_frame"] > e1["end_frame"] for r in later)
    assert not {r["id"] for r in later} & {r.get("id") for r in first}
    assert [r["id"] for r in _of(again, "open")] == [r["id"] for r in later]
    # the receiver got each event once, opened and closed
    assert [x for x in _told(_sent(got)) if x[0] != "view"] == [("open", e1["id"]), ("close", e1["id"])] + [
        (kind, r["id"]) for r in later for kind in ("open", "close")]
    (video,) = _of(again, "video")
    assert video["recorded_before"] == [{"id": e1["id"], "start_frame": e1["start_frame"]}]
    assert "1 event(s) an earlier watch recorded, not raised again" in res.output
    res = CliRunner().invoke(cli, ["watch", str(inbox), "--once", "--settle", "0",
                                   "-q", "--model", str(cam["models"]), "-o", str(out)])
    assert "1 file(s) watched before" in res.output  # finished now: the next start carries nothing on


def test_a_watch_remembers_the_folder_files_it_may_leave_unfinished_and_their_events(tmp_path):
    """What a watch began and did not finish, and the events it recorded of it, is found at the next
    start from the last run alone: a stopped run's `stop` record lists them, a killed run's `watch`
    record (those it took over) and its sources' last `video` records with the events after them;
    a file listed in watched.jsonl since, changed or deleted is dropped. A watch restarted within
    the second of the last record waits for the next second for its ids."""
    from videoad.live.outputs import Recorder

    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    out.mkdir()
    keys = {}
    for name in ("a.avi", "b.avi", "c.avi"):
        (inbox / name).write_bytes(name.encode() * 100)
        st = (inbox / name).stat()
        keys[name] = (str(inbox), name, st.st_size, st.st_mtime_ns)

    def entry(name, *events):
        k = keys[name]
        return {"folder": k[0], "file": name, "size": k[2], "mtime_ns": k[3],
                "events": [{"id": i, "start_frame": f} for i, f in events]}

    def video(name, **more):
        k = keys[name]
        return {"type": "video", "source": "inbox", "video": name, "folder": k[0], "file_size": k[2],
                "file_mtime_ns": k[3], **more}

    def event(kind, name, event_id, start):
        return {"type": kind, "id": event_id, "source": "inbox", "video": name, "start_frame": start}

    def write(*recs, watched=()):
        (out / live.EVENTS_FILE).write_text("".join(json.dumps(r) + "\n" for r in recs))
        (out / live.WATCHED_FILE).write_text("".join(json.dumps(
            {"folder": str(inbox), "file": n, "size": keys[n][2], "mtime_ns": keys[n][3], "outcome": "scored"}) + "\n"
            for n in watched))
        return Recorder(out, live.WatchOptions())

    # killed: what its watch record took over (a.avi), its last file (c.avi: the events after its video
    # record and those it had taken over); b.avi, finished before, is in no list
    rec = write({"type": "watch", "at": "t0", "begun": [entry("a.avi", ("inbox-1-E0001", 40))]},
                video("b.avi"), event("open", "b.avi", "inbox-2-E0001", 10), event("close", "b.avi", "inbox-2-E0001", 10),
                video("c.avi", recorded_before=[{"id": "inbox-1-E0004", "start_frame": 5}]),
                event("open", "c.avi", "inbox-2-E0002", 300), event("close", "c.avi", "inbox-2-E0002", 300),
                event("open", "c.avi", "inbox-2-E0003", 900), watched=["b.avi"])
    # (a folder source's key may carry more than records name a file by: its inode). E0003, still open
    # at the kill, is not among them: retired as abandoned at this start, it is raised anew with its
    # real close when c.avi is scored again (kept, its close was never recorded: reading review)
    assert rec.file_begun("inbox", (*keys["c.avi"], 4711)) == {5: "inbox-1-E0004", 300: "inbox-2-E0002"}
    assert rec.file_begun("inbox", keys["b.avi"]) == {}
    rec.file_event("inbox", 20, "inbox-3-E0001")  # b.avi's, this watch's own
    # the stop record: a.avi (taken over, not begun) and the last file begun, with its events
    assert rec.begun() == {"begun": [entry("a.avi", ("inbox-1-E0001", 40)), entry("b.avi", ("inbox-3-E0001", 20))]}
    rec.close(1.0)
    # stopped: its stop record alone is read; a.avi since scored to its end, c.avi changed: dropped
    os.utime(inbox / "c.avi", ns=(time.time_ns(), time.time_ns()))
    rec = write({"type": "watch", "at": "t0"}, video("a.avi"), event("close", "a.avi", "inbox-9-E0009", 1),
                {"type": "stop", "at": "t1", "begun": [entry("a.avi", ("inbox-1-E0001", 40)),
                                                       entry("b.avi", ("inbox-3-E0001", 20)),
                                                       entry("c.avi", ("inbox-2-E0002", 300))]}, watched=["a.avi"])
    assert rec.begun() == {"begun": [entry("b.avi", ("inbox-3-E0001", 20))]}
    (inbox / "b.avi").unlink()  # deleted: gone too
    rec = write({"type": "stop", "at": "t1", "begun": [entry("b.avi", ("inbox-3-E0001", 20))]})
    assert rec.begun() == {}
    # ids: a restart within the second of the last record takes the next second
    t0 = time.time()
    now = live.outputs._iso(t0)
    rec = write({"type": "watch", "at": now}, {"type": "open", "id": "x", "recorded_at": now})
    assert rec.run_stamp > time.strftime("%Y%m%d-%H%M%S", time.localtime(t0)) and time.time() - t0 < 1.5


def test_a_folders_file_is_taken_once_it_kept_its_size_for_the_settle_time(tmp_path):
    """A recorder that paused 8 s while writing (one poll of stillness was the rule) had the first
    part scored as a whole file, then the whole again with its events twice (an AVI: a `failed`
    alert). A file is taken once it held still for `settle_s` (10 s by default)."""
    from videoad.live.sources import FolderSource, make_source

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    source = FolderSource(inbox, poll_s=0.05, settle_s=1.0)
    assert make_source(str(inbox)).settle_s == 10.0
    stop = threading.Event()
    taken = []
    thread = threading.Thread(target=lambda: taken.extend(f.name for f in source.feeds(stop)), daemon=True)
    (inbox / "rec.avi").write_bytes(b"part one")
    t0 = time.monotonic()
    thread.start()
    try:
        time.sleep(0.6)  # a pause shorter than the settle time, then the rest arrives
        assert taken == []
        with open(inbox / "rec.avi", "ab") as fh:
            fh.write(b" and part two")
        _until(lambda: taken, 10, step=0.05)
        assert taken == ["rec.avi"] and time.monotonic() - t0 >= 1.5  # 1 s still after the last write
    finally:
        stop.set()
        thread.join(timeout=5)


def test_a_hook_that_backgrounds_a_job_is_done_when_its_shell_exits(tmp_path):
    """A hook `... &` (the job left to run) kept the standard-error pipe open: watch waited the
    whole timeout, said the hook failed and killed the job, one timeout per record."""
    from videoad.live.outputs import Hooks

    marker = tmp_path / "delivered"
    hooks = Hooks(f"cat > /dev/null; (sleep 1.5; touch {marker}) &", None, timeout_s=1.0, size=4)
    t0 = time.time()
    hooks.submit({"type": "open", "id": "E0001"})
    hooks.close(1.0)
    assert hooks.failures == 0 and time.time() - t0 < 1.0
    deadline = time.time() + 10
    while not marker.exists() and time.time() < deadline:
        time.sleep(0.1)
    assert marker.exists()  # the job ran on to its end


def test_a_hooks_error_output_is_read_from_its_end_and_cut(tmp_path, caplog):
    """A failing hook's whole standard error was held in memory and its last line, however long,
    logged: 400 MB of errors took 3 GB. Its end alone is read, the line cut."""
    from videoad.live import outputs

    hooks = outputs.Hooks("cat > /dev/null; head -c 5000000 /dev/zero | tr '\\0' x >&2; echo >&2; "
                          "head -c 2000 /dev/zero | tr '\\0' y >&2; exit 3", None, timeout_s=20, size=4)
    with caplog.at_level("WARNING"):
        hooks.submit({"type": "open", "id": "E0001"})
        hooks.close(20)
    assert hooks.failures == 1
    (line,) = [r.getMessage() for r in caplog.records if "exit status 3" in r.getMessage()]
    assert "y" * outputs.HOOK_ERROR_LINE + "..." in line and "y" * (outputs.HOOK_ERROR_LINE + 1) not in line
    assert len(line) < 1000


def test_a_killed_watchs_half_written_event_pictures_are_cleared_at_the_next_start(tmp_path):
    """A kill while an event picture was being written left `events/<day>/.<id>-open.jpg.<pid>-<id>.tmp`
    for good (kill review); a watch still writing into the folder keeps its own."""
    from videoad.live.outputs import IMAGES, Recorder, WatchOptions

    day = tmp_path / "w" / IMAGES / "2026-12-06"
    day.mkdir(parents=True)
    dead = day / ".cam-20261206-080000-E0001-open.jpg.999999999-0badf00d.tmp"
    alive = day / f".cam-20261206-080000-E0002-open.jpg.{os.getppid()}-cafe0002.tmp"
    kept = day / "cam-20261206-080000-E0001-open.jpg"
    for f in (dead, alive, kept):
        f.write_bytes(b"\xff\xd8 half a JPEG")
    Recorder(tmp_path / "w", WatchOptions()).close(1.0)
    assert not dead.exists() and alive.exists() and kept.exists()


def test_the_library_names_sources_of_one_name_apart_as_the_command_line_does(cam, tmp_path):
    """`live.watch` with two files of one basename mixed their events under one source name and
    gave both files' events the same ids (only the command line named them apart). With one model
    they are named by their paths' ends; with models by name, a shared name is refused."""
    for d in ("d1", "d2"):
        (tmp_path / d).mkdir()
        shutil.copyfile(cam["video"], tmp_path / d / "cam.avi")
    wm = live.WatchModel.load(cam["models"])
    srcs = [live.FileSource(tmp_path / d / "cam.avi") for d in ("d1", "d2")]
    out = tmp_path / "out"
    live.watch(srcs, wm, out, live.WatchOptions())
    closes = _of(_records(out), "close")
    assert [s.name for s in srcs] == ["d1/cam.avi", "d2/cam.avi"]
    assert {r["source"] for r in closes} == {"d1/cam.avi", "d2/cam.avi"}
    assert len({r["id"] for r in closes}) == len(closes) > 1
    twins = [live.FileSource(tmp_path / d / "cam.avi") for d in ("d1", "d2")]
    with pytest.raises(live.WatchError, match="2 sources are named cam.avi, and the models are given by name"):
        live.watch(twins, {"cam.avi": wm}, tmp_path / "out2", live.WatchOptions())


def test_the_library_watches_a_source_whose_name_is_a_read_only_property(cam, tmp_path):
    """`live.watch` names sources apart (62b210c) by writing each source's name, the ones it kept
    too: a caller's Source naming itself by a property (no setter) failed with AttributeError,
    where it was watched before."""
    class Named(live.Source):
        def __init__(self, path):
            self._file = live.FileSource(path)

        @property
        def name(self):
            return "front-door"

        def feeds(self, stop):
            return self._file.feeds(stop)

    out = tmp_path / "out"
    summary = live.watch([Named(cam["video"])], live.WatchModel.load(cam["models"]), out, live.WatchOptions())
    assert [s.name for s in summary.sources] == ["front-door"] and summary.sources[0].scored > 0
    assert {r["source"] for r in _of(_records(out), "close")} <= {"front-door"}


def test_an_out_from_before_events_csv_gets_its_earlier_closed_events_there(cam, tmp_path):
    """A watch into an OUT that an older watch wrote (events.jsonl, no events.csv) began events.csv
    with the new events alone, though it is the file of every closed event: the earlier closes come
    first, once."""
    import csv

    out = tmp_path / "w"
    CliRunner().invoke(cli, ["watch", str(cam["video"]), "--model", str(cam["models"]), "-o", str(out)])
    closes = _of(_records(out), "close")
    assert closes
    (out / live.EVENTS_CSV).unlink()  # as an older watch left it
    with open(out / live.EVENTS_FILE, "ab") as fh:
        fh.write(b'{"type": "close", "id": "cut')  # the line a kill cut short is passed over
    live.Recorder(out, live.WatchOptions()).close(0)
    with open(out / live.EVENTS_CSV, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["id"] for r in rows] == [c["id"] for c in closes]
    live.Recorder(out, live.WatchOptions()).close(0)  # a second start adds nothing
    assert len((out / live.EVENTS_CSV).read_text().splitlines()) == len(closes) + 1


# ---------------------------------------------------------------------------------------------
# many sources in one watch


class _Terminal(io.StringIO):
    """A console that says it is a terminal (the status line's `\\r` rewrite, the bars)."""

    def isatty(self):
        return True

    def fileno(self):
        return 2


def test_the_progress_line_of_sixteen_sources_fits_the_terminal_and_names_the_ones_to_look_at(monkeypatch):
    """16 cameras' parts joined made a line of about 1,100 characters: wrapped over many rows, which
    the `\\r` rewrite cannot reach, so every second scrolled a new block. A line too wide for the
    terminal gives the totals and names the sources down, lost or dropping clips."""
    monkeypatch.setattr(os, "get_terminal_size", lambda fd=None: os.terminal_size((160, 24)))
    stats = [live.SourceStats(f"cam{i:02d}", frames=150, scored=30, events=i % 3, live=True,
                              lag_s=0.1 * i, started=time.time() - 10) for i in range(16)]
    stats[4].down = "down since 2026-01-01T00:00:00, 3 failed attempt(s) in a row to reopen it: refused"
    stats[9].dropped, stats[2].dropped, stats[7].open = 40, 12, True
    term = _Terminal()
    progress = live.Progress(term)
    progress(stats)
    lines = term.getvalue().split("\r")[1:]
    assert lines and all(len(line) <= 159 for line in lines), [len(line) for line in lines]
    line = lines[-1]
    assert line.startswith("16 sources: ") and "lag up to 1.50 s" in line, line
    assert "15 event(s) + 1 open, 52 dropped" in line, line
    assert "| down: cam04 | dropping: cam09 40, cam02 12 | furthest behind: cam15" in line, line
    few = _Terminal()  # two sources still get their own parts, as before
    live.Progress(few)(stats[:2])
    assert few.getvalue().startswith("\rcam00: ") and " | cam01: " in few.getvalue(), few.getvalue()
    narrow = _Terminal()  # a terminal too narrow for the totals: cut, never wrapped
    monkeypatch.setattr(os, "get_terminal_size", lambda fd=None: os.terminal_size((60, 24)))
    live.Progress(narrow)(stats)
    assert len(narrow.getvalue()) == 60 and narrow.getvalue().endswith("..."), narrow.getvalue()


def test_a_stream_down_at_the_end_is_named_in_the_summary_and_the_stop_record(tiny, tmp_path):
    """Of several cameras, one down (refused at every reopen) when the watch stops was reported as
    `0 frames, ...; stopped`, like one that was fine: the `gap` record comes only once it is back,
    and the outage was in the log alone. Its statistics, the summary line and the stop record say
    it is down, since when and why; a gap clears it."""
    wm, frames = tiny

    def refuse():
        raise ConnectionRefusedError("[Errno 111] Connection refused")

    class Dead(live.Source):
        name = "gate"

        def feeds(self, stop):
            yield live.Feed("gate", refuse, live=True, reconnect=True)

    stop, calls = threading.Event(), []

    def progress(stats):  # stop once the dead camera is seen down (or after 40 looks: the test fails)
        calls.append(1)
        if stats[0].down or len(calls) > 40:
            stop.set()

    good = live.FramesSource("hall", lambda: (frames[i % len(frames)] for i in range(10 ** 6)), fps=4.0)
    summary = live.watch([Dead(), good], wm, tmp_path, live.WatchOptions(backoff_s=0.01, backoff_max_s=0.05),
                         stop=stop, on_progress=progress)
    dead, hall = summary.sources
    assert dead.down.startswith("down since ") and "failed attempt(s) in a row to reopen it" in dead.down
    assert "Connection refused" in dead.down and not dead.lost and not hall.down and hall.frames > 0
    gate_line = summary.report().splitlines()[0]
    assert gate_line.startswith("gate: 0 frames") and "; down since " in gate_line and gate_line.endswith("; stopped")
    stop_record = _records(tmp_path)[-1]
    assert stop_record["type"] == "stop" and stop_record["sources"][0]["down"] == dead.down
    assert stop_record["sources"][1]["down"] == ""


def test_a_folder_deleted_mid_watch_is_warned_of_once_and_named_down_until_it_is_back(tmp_path, caplog):
    """A watched folder deleted (or a share unmounted) logged `cannot list the folder` at every poll,
    1,800 lines an hour at the default 2 s, beside 15 other cameras' lines, and the summary did not
    say it. Now one warning, `down` on the source while it lasts, and a line when it can be listed again."""
    import logging

    folder = tmp_path / "inbox"
    folder.mkdir()
    source = live.FolderSource(folder, poll_s=2.0)
    looks = []

    class Polls(threading.Event):  # each poll's wait returns at once; the folder goes and comes back
        def wait(self, timeout=None):
            looks.append(getattr(source, "down", ""))
            if len(looks) == 2:
                folder.rmdir()
            if len(looks) == 8:
                folder.mkdir()
            if len(looks) >= 10:
                self.set()
            return self.is_set()

    with caplog.at_level(logging.INFO, logger="videoad.live.sources"):
        assert list(source.feeds(Polls())) == []
    cannot = [r for r in caplog.records if "cannot list the folder" in r.getMessage()]
    assert len(cannot) == 1, [r.getMessage() for r in caplog.records]
    assert looks[:2] == ["", ""] and all(d.startswith("cannot list the folder since ") for d in looks[2:8])
    assert "No such file or directory" in looks[2] and looks[8:] == ["", ""]
    assert any("can be listed again" in r.getMessage() for r in caplog.records)


def test_a_password_holding_a_slash_is_not_written_in_the_streams_name():
    """A password with a `/` typed as it is (`admin:Ab3/x9@cam`, not `%2F`; FFmpeg cannot open that
    address, and says so under the stream's name) was written whole into the name, and so into the
    records, the hooks and the console: the path was taken to start at its `/`. Addresses with a
    port, an `@` in their path, or no user keep their names."""
    from videoad.live.sources import display_url

    for url in ("rtsp://admin:Ab3/x9@cam.local/live", "rtsp://admin:a/b/c@cam.local:554/live?x=1",
                "http://admin:Ab3/x9@cam.local", "rtsp://admin:Ab3/x9@p@cam.local/live"):
        shown = display_url(url)
        assert "Ab3" not in shown and "a/b" not in shown and shown.startswith(url.split(":", 1)[0] + "://admin:***@"), shown
    for url in ("rtsp://cam.local/a@b", "rtsp://[::1]:554/a@b", "rtsp://admin@cam.local/live",
                "rtsp://cam.local:554/live"):
        assert display_url(url) == url


@pytest.mark.parametrize("url, name", [
    ("rtsp://user:1234/56@cam/stream", "rtsp://user:***@cam/stream"),  # digits before `/`: read as a port
    ("rtsp://user:1234/56@cam:554/stream", "rtsp://user:***@cam:554/stream"),
    ("rtsp://user:1234/56@cam", "rtsp://user:***@cam"),
    ("rtsp://user:12/34?5@cam/s", "rtsp://user:***@cam/s"),
    ("rtsp://user:12/34@[::1]/s", "rtsp://user:***@[::1]/s"),
    ("rtsp://:1234/56@cam/s", "rtsp://:***@cam/s"),  # an empty user
    ("rtsp://:secret@cam/s", "rtsp://:***@cam/s"),
    ("rtsp://user:12/34@cam/p@th", "rtsp://user:***@cam/p@th"),
    ("rtsp://cam.local:554/users/a@b/live", "rtsp://cam.local:***@b/live"),  # told from the above by nothing
    ("rtsp://user:p:ss@cam/s", "rtsp://user:***@cam/s"),
    ("rtsp://user:p?s/s@cam/s", "rtsp://user:***@cam/s"),
    ("rtsp://user:p#s/s@cam/s", "rtsp://user:***@cam/s"),
    ("rtsp://user:p%40s%2Fs@cam/s", "rtsp://user:***@cam/s"),
    ("rtsp://user:secret@[::1]:554/s", "rtsp://user:***@[::1]:554/s"),
    ("rtsp:///user:secret@cam/s", "rtsp:///user:***@cam/s"),  # FFmpeg cannot open either: still a stream
    (" rtsp://user:secret@cam/s", " rtsp://user:***@cam/s"),
    ("http://cam/a?x=1&access_token=S3c&y=2", "http://cam/a?x=1&access_token=***&y=2"),
    ("http://cam/a?apikey=S3c", "http://cam/a?apikey=***"),
    ("http://cam/a?X-Amz-Signature=S3c", "http://cam/a?X-Amz-Signature=***"),
    ("http://cam/a?p%77d=S3c", "http://cam/a?p%77d=***"),
    ("http://cam/a#pwd=S3c", "http://cam/a#pwd=***"),
    ("srt://cam:9000?mode=caller&passphrase=S3cret1234", "srt://cam:9000?mode=caller&passphrase=***"),
    ("http://cam/a?keyframes=1&monkey=2", "http://cam/a?keyframes=1&monkey=2"),
    ("rtsp://user:a@b/c@cam/s", "rtsp://user:***@cam/s"),  # an `@`, then a `/`, in the password
    ("rtsp://user:a@b/c@cam:554/s", "rtsp://user:***@cam:554/s"),
    ("rtsp://user:pw@[::1]/p@th", "rtsp://user:***@[::1]/p@th"),
    ("rtsp://user@cam/p@th", "rtsp://user@cam/p@th"),  # no password to hide
    ("http://cam/a?pwd=a#b", "http://cam/a?pwd=***"),  # a `#`, `;` or `&` in a query's password
    ("http://cam/a?pwd=a#b&res=1", "http://cam/a?pwd=***&res=1"),
    ("http://cam/a?pwd=a;b&res=1#top", "http://cam/a?pwd=***&res=1#top"),
    ("http://cam/a?pwd=a&b&res=1", "http://cam/a?pwd=***&res=1"),
    ("rtsp://cam/s;password=xx;x=1", "rtsp://cam/s;password=***;x=1"),
    ("http://cam/a?Authorization=Basic%20eHl6", "http://cam/a?Authorization=***"),
    ("http://cam/a?credentials=xyz", "http://cam/a?credentials=***"),
])
def test_every_shape_of_a_password_is_left_out_of_a_streams_name(url, name):
    """A password of digits alone before a `/` (`user:1234/56@cam`) was taken for a port, and the name
    showed it whole; so did one after an empty user or before an IPv6 host, an address with `:///` or
    a space before its scheme, and a query's `access_token=`, `apikey=`, `p%77d=` or SRT's `passphrase=`;
    the end of one holding `@` then `/` (`user:a@b/c@cam`: `b/c` shown) or a `#` in a query's (`pwd=a#b`:
    `#b` shown), and an `Authorization=` or `credentials=` value whole."""
    from videoad.live.sources import display_url

    assert display_url(url) == name


def test_a_streams_error_quoting_its_address_with_a_backslash_keeps_the_password_out(tmp_path):
    """PyAV quotes the address in its errors as Python's `repr` writes it, a backslash doubled (and a
    control character escaped): the `lost` record, the hooks and the console showed the password."""
    from videoad.live.scorer import _read_feed
    from videoad.live.sources import make_source

    for password in ("pa\\ss", "it's\"q"):
        url = f"rtsp://admin:{password}@127.0.0.1:1/s"  # refused at once: nothing listens on port 1
        (feed,) = list(make_source(url).feeds(threading.Event()))
        sent = []
        _read_feed(feed, lambda m: sent.append(m) or True, threading.Event(), live.WatchOptions(retries=0))
        (lost,) = [m for m in sent if m[0] == "lost"]
        assert "rtsp://admin:***@127.0.0.1:1/s" in lost[1] and "ss@" not in lost[1] and "q@" not in lost[1], lost


def test_a_warning_during_a_watch_is_written_on_a_line_of_its_own(monkeypatch):
    """A hook's failure (`--on-event CMD failed: ...`) logged while the progress line was up went onto
    that line, and the next rewrite wrote over it: the console's handler wipes the line first, and
    the next update draws it again below the warning."""
    import logging

    from videoad.cli import _AroundBars

    monkeypatch.setattr(os, "get_terminal_size", lambda fd=None: os.terminal_size((120, 24)))
    term = _Terminal()
    progress = live.Progress(term, every_s=0)
    stats = [live.SourceStats("cam1", frames=150, scored=30, live=True, started=time.time() - 10)]
    progress(stats)
    logger = logging.getLogger("videoad.test_console")
    handler = _AroundBars(term)
    logger.addHandler(handler)
    try:
        logger.warning("--on-event CMD failed: exit status 1")
    finally:
        logger.removeHandler(handler)
    progress(stats)
    progress.done()
    shown = term.getvalue()
    at = shown.index("--on-event CMD failed")
    assert shown[:at].endswith("\r") and shown[:at].split("\r")[-2].strip() == "", repr(shown)  # wiped first
    assert shown[at:].split("\n", 1)[1].startswith("\rcam1: "), repr(shown)  # drawn again below it
    assert live.Progress.shown is None
