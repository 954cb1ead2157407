"""Timelines and the HTML report: files exist, the page parses, one timeline per video by peak."""
from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from videoad.datasets.annotations import Annotations, VideoAnnotation
from videoad.metrics import evaluate_scores
from videoad.plots import top_clips, timeline
from videoad.report import build_report
from videoad.scores import ScoreSet, VideoScores
from videoad.synth import SceneConfig, render_video, write_video


class _Page(HTMLParser):
    """Collects timeline images, section headings and table rows; fails on unbalanced sections."""

    def __init__(self):
        super().__init__()
        self.timelines, self.headings, self.rows, self.depth, self._h3 = [], [], 0, 0, False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "img" and a.get("class") == "timeline":
            self.timelines.append(a["src"])
        if tag == "section":
            self.depth += 1
        if tag == "h3":
            self._h3 = True
        if tag == "tr":
            self.rows += 1

    def handle_endtag(self, tag):
        if tag == "section":
            self.depth -= 1
            assert self.depth >= 0
        if tag == "h3":
            self._h3 = False

    def handle_data(self, data):
        if self._h3:
            self.headings.append(data)


def _video(name, peak_at, n_clips=20, source="", fps=10.0, category="X"):
    scores = np.full(n_clips, 0.1)
    scores[peak_at] = 0.5 + 0.01 * n_clips
    starts = np.arange(n_clips) * 8  # overlapping clips: length 16, stride 8
    frames = np.stack([starts, starts + 15], 1)
    return VideoScores(name, scores, frames, int(frames[-1, 1]) + 4, fps, category, "all", source, 0.3)


@pytest.fixture()
def scoreset(tmp_path):
    frames, _ = render_video(None, seed=0, cfg=SceneConfig(n_frames=180))
    src = write_video(tmp_path / "cam" / "v2.avi", frames, 10.0)
    vids = [_video("cam/v1.avi", 3, n_clips=12), _video("cam/v2.avi", 7, n_clips=20, source=str(src)),
            _video("cam/v3.avi", 1, n_clips=15, fps=0.0)]
    meta = {"protocol": "transductive", "protocol_note": "fitted on the clips it scores",
            "config": {"detector": "duad", "mode": "pooled", "overlap": "mean", "threshold_quantile": 0.9},
            "groups": [{"group": "all", "status": "fitted", "n_clips": 47, "videos": [v.video for v in vids]},
                       {"group": "tiny", "status": "skipped", "reason": "3 clips < min_clips=65", "videos": ["t"]}]}
    return ScoreSet(vids, meta)


def test_report_has_one_timeline_per_video_ordered_by_peak(scoreset, tmp_path):
    ann = Annotations({
        "cam/v1": VideoAnnotation("cam/v1", "X", ((20, 40),), None, "gt"),
        "cam/v2": VideoAnnotation("cam/v2", "X", (), None, "gt"),
        "cam/v3": VideoAnnotation("cam/v3", "Y", ((1, 30),), None, "gt"),
    }, "gt.txt")
    ev = evaluate_scores(scoreset, ann)
    page = build_report(scoreset, tmp_path / "report", annotations=ann, evaluation=ev)
    parser = _Page()
    parser.feed(page.read_text())
    parser.close()
    assert parser.depth == 0
    assert len(parser.timelines) == len(scoreset) == 3
    for src in parser.timelines:
        f = page.parent / src
        assert f.is_file() and f.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # highest peak first: v2 (20 clips) > v3 (15) > v1 (12)
    assert [h.split(". ", 1)[1] for h in parser.headings] == ["cam/v2.avi", "cam/v3.avi", "cam/v1.avi"]
    text = page.read_text()
    assert "3 clips &lt; min_clips=65" in text  # the skipped group and its reason
    assert "Per category" in text and parser.rows >= 3 + 2


def test_timeline_formats_thumbnails_and_missing_source(scoreset, tmp_path, caplog):
    v1, v2, v3 = scoreset.videos
    ann = VideoAnnotation("cam/v2", "X", ((30, 60),), None, "gt")
    png = timeline(v2, tmp_path / "v2.png", annotation=ann, thumbnails=3)
    assert png.stat().st_size > 10_000
    svg = timeline(v3, tmp_path / "v3.svg", thumbnails=0)
    assert svg.read_text().lstrip().startswith("<?xml") and "<svg" in svg.read_text()
    # a source that cannot be read: the figure is still written, and the log says why
    missing = VideoScores(**{**v1.__dict__, "source": str(tmp_path / "gone.avi")})
    out = timeline(missing, tmp_path / "gone.png", thumbnails=2)
    assert out.is_file() and "thumbnails unavailable" in caplog.text
    with pytest.raises(ValueError, match="format must be one of"):
        timeline(v1, tmp_path / "v1.jpg")


def test_top_clips_do_not_overlap():
    v = _video("x", 5, n_clips=10)
    v.scores[4] = v.scores[5] - 0.01  # overlaps clip 5 (stride 8 < length 16)
    v.scores[8] = 0.4
    assert top_clips(v, 2) == [5, 8]
