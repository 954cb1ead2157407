"""Scene cuts for every backbone: where they are recorded, and what a learned backbone does at one."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from extract.backbones.c3d import C3DBackbone
from extract.cuts import CutLog, clip_cuts, cut_signs, frame_sign, hold_longest_shot, is_cut_pair


def shot(seed: int, n: int, size: int = 96, level: tuple[int, int] = (0, 255)) -> np.ndarray:
    """n RGB frames of one camera: a smooth texture with a bar drifting across it."""
    rng = np.random.default_rng(seed)
    background = cv2.GaussianBlur(rng.integers(0, 255, (size, size), dtype=np.uint8), (0, 0), 3)
    background = cv2.normalize(background, None, *level, cv2.NORM_MINMAX)
    frames = np.repeat(background[None, :, :, None], n, axis=0).repeat(3, axis=3)
    for t in range(n):
        frames[t, 30:50, 5 + 2 * t:15 + 2 * t] = 20
    return frames


def edited(before: int, after: int) -> np.ndarray:
    """A clip cut from one camera to another after `before` frames."""
    return np.concatenate([shot(0, before), shot(7, after, level=(140, 250))])


def test_the_rule_reads_rgb_and_grey_frames_alike():
    clip = edited(3, 3)
    grey = np.stack([cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in clip])
    assert cut_signs(clip[2], clip[3]) == cut_signs(grey[2], grey[3])
    assert is_cut_pair(cut_signs(clip[2], clip[3])) and not is_cut_pair(cut_signs(clip[0], clip[1]))
    assert clip_cuts(clip) == [False, False, True, False, False]
    assert frame_sign(np.full((40, 40, 3), 128, np.uint8)) is None  # a blank frame is never a cut


def test_holding_the_longest_shot_keeps_the_length_and_shows_no_other_shot():
    clip = np.arange(8)[:, None]  # frame t holds the value t
    assert hold_longest_shot(clip, [False, True] + [False] * 5).ravel().tolist() == [2, 2, 2, 3, 4, 5, 6, 7]
    assert hold_longest_shot(clip, [False] * 5 + [True, False]).ravel().tolist() == [0, 1, 2, 3, 4, 5, 5, 5]
    # two cuts: the middle shot is the longest; its edge frames hold on either side
    assert hold_longest_shot(clip, [True, False, False, False, True, False, False]).ravel().tolist() == \
        [1, 1, 2, 3, 4, 4, 4, 4]
    # equal shots: the earlier one; no cut: the clip unchanged
    assert hold_longest_shot(clip, [False] * 3 + [True] + [False] * 3).ravel().tolist() == [0, 1, 2, 3, 3, 3, 3, 3]
    assert hold_longest_shot(clip, [False] * 7).ravel().tolist() == list(range(8))


def test_the_cut_log_places_each_cut_once_and_counts_unplaced_ones():
    log = CutLog("kept")
    log.add([False, True, False], sources=[10, 12, 14, 16])
    log.add([True, False, False], sources=[12, 14, 16, 18])  # the same cut, seen by an overlapping clip
    log.add([False, False, True], sources=[30, 32, 34, 36])
    assert log.summary() == {"scene_cuts": 2, "scene_cut_handling": "kept", "scene_cut_frames": [14, 36]}
    log.start()
    log.add([True, False], sources=None)  # `videoad watch`: no source positions
    assert log.summary() == {"scene_cuts": 1, "scene_cut_handling": "kept"}


def test_a_learned_backbone_keeps_a_cut_clip_by_default_and_holds_its_longest_shot_when_asked():
    clip = edited(5, 11)
    keep = C3DBackbone(random_init=True, width=16)
    hold = C3DBackbone(random_init=True, width=16, cuts="hold")
    # the default changes nothing a store or a model records: older stores stay current
    assert "cuts" not in keep.describe() and "cuts" in hold.describe()
    # the workers send uint8 (extract.backbones.torch_base, "the wire"); finish() is preprocess's input
    assert keep.finish(keep.preprocess_prepared(clip, range(16))).tobytes() == keep.preprocess(clip).tobytes()
    held = np.concatenate([clip[5:6].repeat(5, axis=0), clip[5:]])
    np.testing.assert_array_equal(hold.finish(hold.preprocess_prepared(clip, range(16))), hold.preprocess(held))
    assert not np.array_equal(hold.finish(hold.preprocess_prepared(clip)), keep.preprocess(clip))
    # a clip without a cut is the same either way
    plain = shot(0, 16)
    np.testing.assert_array_equal(hold.preprocess_prepared(plain), keep.preprocess_prepared(plain))
    # both record where the cut is, and what they did at it
    for backbone, handling in ((keep, "kept"), (hold, "held")):
        backbone.start_video()
        backbone.preprocess_prepared(clip, range(100, 116))
        assert backbone.video_summary() == {"scene_cuts": 1, "scene_cut_handling": handling,
                                            "scene_cut_frames": [105]}
    with pytest.raises(ValueError, match="cuts must be one of"):
        C3DBackbone(random_init=True, width=16, cuts="skip")


def test_options_name_cuts_only_when_they_change_the_features():
    from extract.backbones import get_backbone

    assert "cuts" not in get_backbone("c3d", random_init=True, width=16, cuts="keep").options()
    assert get_backbone("c3d", random_init=True, width=16, cuts="hold").options()["cuts"] == "hold"


def test_learned_features_record_their_cuts_through_to_the_report(tmp_path):
    from extract.backbones import get_backbone
    from extract.run import ExtractOptions, extract_videos
    from extract.store import FeatureStore
    from videoad import video
    from videoad.report import build_report

    folder = tmp_path / "videos" / "edited"
    folder.mkdir(parents=True)
    for i, frame in enumerate(edited(20, 28)):
        cv2.imwrite(str(folder / f"{i:03d}.png"), frame[..., ::-1])
    summary = extract_videos(tmp_path / "videos", tmp_path / "features",
                             get_backbone("c3d", random_init=True, width=16),
                             ExtractOptions(workers=1, recursive=True, progress=False, image_fps=10.0))
    assert summary.ok, summary.failed
    attrs = FeatureStore(tmp_path / "features").attrs("edited")
    assert attrs["scene_cuts"] == 1 and attrs["scene_cut_handling"] == "kept"
    assert "1 scene cut(s) found (at frames 20); a clip across one holds both shots" in attrs["decode_notes"]
    cfg = video.DetectConfig(detector="knn", params={}, mode="pooled", min_clips=1)
    scores = video.detect(tmp_path / "features", cfg)
    (v,) = scores.videos
    assert (v.scene_cuts, v.scene_cut_frames, v.scene_cut_handling) == (1, [20], "kept")
    text = build_report(scores, tmp_path / "report", clips=False).read_text()
    assert "1 scene cut at 2.0 s (a clip across one holds both shots" in text and "cuts=hold" in text


def test_the_learned_path_finds_the_edited_videos_cuts_and_none_in_a_fixed_camera():
    """C3D reads cuts on its 128x171 frames (the size it resizes to anyway): bikes.mp4's five, at
    every frame of its 25 fps, and none in vtest.avi (768x576, a fixed camera)."""
    from extract.clips import ClipSpec, iter_clips
    from extract.decode import open_video

    from _paths import shared

    found = {}
    for name in ("bikes.mp4", "vtest.avi"):
        stream = open_video(shared("videos", name))
        backbone = C3DBackbone(random_init=True, width=16)
        backbone.start_video()
        for clip in iter_clips(stream.frames, ClipSpec(stride=15, tail="pad"), stream.fps):  # every pair, once
            backbone.preprocess_prepared(clip.frames, clip.sources)
        found[name] = backbone.video_summary().get("scene_cut_frames", [])
    # the data README's cuts near 30, 76, 137, 187 and 242
    assert len(found["bikes.mp4"]) == 5
    assert all(abs(c - k) <= 2 for c, k in zip(found["bikes.mp4"], (30, 76, 137, 187, 242)))
    assert found["vtest.avi"] == []
