"""The weight-free motion backbone and the backbone registry."""
from __future__ import annotations

import pickle

import cv2
import numpy as np
import pytest

from extract.backbones import (BackboneUnavailable, available_backbones, get_backbone,
                               recorded_options, register_backbone)
from extract.backbones.motion import MAGNITUDE_EDGES, MotionBackbone, camera_motion, local_light

from _paths import shared

BINS = 8


def moving_square(dx: int, dy: int = 0, n: int = 16, size: int = 128) -> np.ndarray:
    """A textured square moving (dx, dy) pixels per frame over a still background, centred."""
    rng = np.random.default_rng(0)

    def texture(side: int) -> np.ndarray:  # smooth enough to be tracked, like real surfaces
        noise = cv2.GaussianBlur(rng.integers(0, 255, (side, side), dtype=np.uint8), (0, 0), 2)
        return cv2.normalize(noise, None, 0, 255, cv2.NORM_MINMAX)

    square = texture(32)
    clip = np.repeat(texture(size)[None, :, :, None], n, axis=0).repeat(3, axis=3)
    for t in range(n):
        x, y = 48 + dx * (t - n // 2), 48 + dy * (t - n // 2)
        clip[t, y:y + 32, x:x + 32] = square[..., None]
    return clip


def global_cell(features: np.ndarray, backbone: MotionBackbone) -> dict[str, np.ndarray]:
    per_cell = features.reshape(backbone.n_cells, -1)[-1]
    n_mag = len(MAGNITUDE_EDGES)
    return {"hof": per_cell[:BINS], "speed": per_cell[BINS:BINS + n_mag],
            "energy": per_cell[BINS + n_mag:]}


@pytest.fixture(scope="module")
def backbone():
    return MotionBackbone(size="96x96", grid=4)


def test_dimension_and_dtype(backbone):
    features = backbone.preprocess(moving_square(2))
    assert features.shape == (backbone.dim,) == (17 * (BINS + len(MAGNITUDE_EDGES) + 2),)
    assert features.dtype == np.float32
    assert MotionBackbone().dim == 255


def test_a_still_clip_has_no_motion(backbone):
    still = np.repeat(moving_square(0)[:1], 16, axis=0)
    assert np.allclose(backbone.preprocess(still), 0.0, atol=1e-6)


@pytest.mark.parametrize("dx,dy,expected_bin", [(2, 0, 0), (0, 2, 2), (-2, 0, 4), (0, -2, 6)])
def test_orientation_histogram_points_where_things_move(backbone, dx, dy, expected_bin):
    # image y grows downwards, so (0, +2) is the 90 degree bin
    hof = global_cell(backbone.preprocess(moving_square(dx, dy)), backbone)["hof"]
    assert int(np.argmax(hof)) == expected_bin
    assert hof[expected_bin] > 3 * np.delete(hof, expected_bin).max()


def test_faster_motion_moves_mass_to_higher_speed_bins(backbone):
    slow = global_cell(backbone.preprocess(moving_square(1)), backbone)["speed"]
    fast = global_cell(backbone.preprocess(moving_square(4)), backbone)["speed"]
    bins = np.arange(len(MAGNITUDE_EDGES))
    assert (fast * bins).sum() / fast.sum() > (slow * bins).sum() / slow.sum() + 0.5


def test_motion_is_located_in_its_grid_cells(backbone):
    features = backbone.preprocess(moving_square(2)).reshape(backbone.n_cells, -1)
    hof_mass = features[:-1, :BINS].sum(axis=1).reshape(4, 4)
    # the square moves along rows 48..80 of 128: grid rows 1 and 2; nothing in rows 0 and 3
    assert hof_mass[[0, 3]].max() < 0.05 * hof_mass[[1, 2]].max()


def test_frame_difference_energy_rises_with_change(backbone):
    calm = global_cell(backbone.preprocess(moving_square(1)), backbone)["energy"]
    busy = global_cell(backbone.preprocess(moving_square(4)), backbone)["energy"]
    assert busy[0] > calm[0] > 0
    assert busy[1] >= busy[0]  # the peak is at least the mean


def test_deterministic_and_survives_pickling_to_a_worker(backbone):
    clip = moving_square(3, 1)
    first = backbone.preprocess(clip)
    copy = pickle.loads(pickle.dumps(backbone))
    assert copy._flow is None
    np.testing.assert_array_equal(copy.preprocess(clip), first)
    np.testing.assert_array_equal(backbone.preprocess(clip), first)


def test_forward_batch_stacks_rows(backbone):
    rows = np.stack([backbone.preprocess(moving_square(d)) for d in (1, 2, 3)])
    out = backbone.forward_batch(rows)
    assert out.shape == (3, backbone.dim) and out.dtype == np.float32
    np.testing.assert_array_equal(out, rows)


def test_options_arrive_as_strings_from_the_command_line():
    small = get_backbone("motion", size="64x48", grid="2", bins="4", preset="ultrafast")
    assert small.size == (64, 48) and small.dim == 5 * (4 + len(MAGNITUDE_EDGES) + 2)
    assert "64x48" in small.describe()["preprocessing"]
    assert small.describe()["weights_sha256"] == "none"


@pytest.mark.parametrize("kwargs", [{"grid": 0}, {"size": "8x8"}, {"preset": "slow"}, {"finest_scale": 5},
                                    {"bins": 1}, {"clip_len": 1}, {"blur": -1}, {"blur": 9}, {"cuts": "drop"},
                                    {"stabilize": "maybe"}, {"repeats": "drop"}])
def test_bad_options_are_refused(kwargs):
    (name,) = kwargs
    with pytest.raises(ValueError, match=rf"^{name}( must|:)"):  # the option named, not any ValueError
        MotionBackbone(**kwargs)


@pytest.mark.parametrize("kwargs, most", [({"grid": 100000}, 240), ({"grid": 241}, 240), ({"grid": 49, "size": "64x48"}, 48),
                                          ({"grid": 25, "size": "64x48", "travel": "on"}, 24),
                                          ({"grid": 31, "max_height": 30}, 30)])
def test_a_grid_larger_than_any_working_frame_is_refused_at_once(kwargs, most):
    """`grid: 100000` failed each video with a 74 GiB MemoryError; one beyond the working frame made
    cells of no pixel, and every video failed after decoding with "not finite" features."""
    with pytest.raises(ValueError, match=rf"^grid must be at most {most} cells a side: .*got {kwargs['grid']}$"):
        MotionBackbone(**kwargs)
    fits = {**kwargs, "grid": most}
    assert MotionBackbone(**fits).grid == most


def test_a_grid_larger_than_a_videos_working_frame_fails_that_video_at_its_first_frame(tmp_path):
    from _extract_media import make_video
    from extract.run import ExtractOptions, extract_videos
    from extract.store import FeatureStore

    make_video(tmp_path / "in" / "small.mp4", 20, width=64, height=48)
    make_video(tmp_path / "in" / "large.mp4", 20, width=128, height=96)
    summary = extract_videos(tmp_path / "in", tmp_path / "out", MotionBackbone(grid=60), ExtractOptions(workers=1))
    assert [r.key for r in summary.done] == ["large.mp4"]
    (failed,) = summary.failed
    assert failed.key == "small.mp4" and failed.reason == (
        "ValueError: grid 60 does not fit this video's 64x48 working frame: at most 48 cells a side; "
        "give a smaller grid or a larger size")
    assert np.isfinite(FeatureStore(tmp_path / "out").load("large.mp4").features).all()
    travel = MotionBackbone(size="auto", grid=30, travel="on")
    with pytest.raises(ValueError, match=r"^grid 30 does not fit this video's 64x48 working frame \(travel: at half of "
                                         r"it\): at most 24 cells a side"):
        travel.prepare_frame(np.zeros((48, 64, 3), np.uint8))
    assert travel.prepare_frame(np.zeros((96, 128, 3), np.uint8)).shape == (96, 128)


def test_blur_quiets_sensor_noise_and_keeps_motion_and_old_stores_matching():
    plain, blurred = MotionBackbone(size="96x96", grid=4), MotionBackbone(size="96x96", grid=4, blur="1.5")
    # options name the blur only when it is on: stores written before the option still match
    assert "blur" not in plain.options() and blurred.options()["blur"] == 1.5
    assert "Gaussian blur sigma 1.5" in blurred.describe()["preprocessing"]
    still = np.repeat(moving_square(0)[:1], 16, axis=0).astype(np.float32)
    noisy = np.clip(still + np.random.default_rng(1).normal(0, 8, still.shape), 0, 255).astype(np.uint8)
    energy = [global_cell(b.preprocess(noisy), b)["energy"][0] for b in (plain, blurred)]
    assert energy[1] < 0.5 * energy[0]  # frame differences of pure noise mostly gone
    hof, hof_plain = (global_cell(b.preprocess(moving_square(2)), b)["hof"] for b in (blurred, plain))
    assert int(np.argmax(hof)) == 0 and hof[0] > 0.8 * hof_plain[0]  # the moving square still seen, rightwards


def test_camera_motion_recovers_the_frame_motion_and_leaves_the_movers_out():
    height, width = 120, 160
    truth = cv2.getRotationMatrix2D((width / 2, height / 2), 0.4, 1.01)
    truth[:, 2] += (1.7, -2.2)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float64)
    flow = np.stack([truth[0, 0] * xs + truth[0, 1] * ys + truth[0, 2] - xs,
                     truth[1, 0] * xs + truth[1, 1] * ys + truth[1, 2] - ys], axis=-1).astype(np.float32)
    flow[20:70, 30:90] = (6.0, 3.0)  # a fifth of the frame moving on its own
    assert np.allclose(camera_motion(flow), truth, atol=1e-4)
    assert np.allclose(camera_motion(np.zeros((height, width, 2), np.float32)), np.eye(2, 3))


def shaken(clip: np.ndarray, seed: int = 3) -> np.ndarray:
    """`clip` as a camera swaying by up to 2 px and rolling by up to 0.3 degrees would film it."""
    rng = np.random.default_rng(seed)
    height, width = clip.shape[1:3]
    out = []
    for frame in clip:
        m = cv2.getRotationMatrix2D((width / 2, height / 2), float(rng.uniform(-0.3, 0.3)), 1.0)
        m[:, 2] += rng.uniform(-2, 2, 2)
        out.append(cv2.warpAffine(frame, m, (width, height), flags=cv2.INTER_LINEAR,
                                  borderMode=cv2.BORDER_REFLECT101))
    return np.stack(out)


def test_stabilize_takes_the_cameras_motion_out_and_keeps_still_cameras_as_they_were():
    plain, steady = MotionBackbone(size="128x128", grid=4, stabilize="off"), MotionBackbone(size="128x128", grid=4)
    assert plain.options()["stabilize"] is False and steady.options()["stabilize"] is True  # on by default
    assert "camera motion" in steady.describe()["preprocessing"]
    assert "camera motion" not in plain.describe()["preprocessing"]  # stores written before the option match off
    # a store or model recorded before the option was made without it
    old = {k: v for k, v in steady.options().items() if k != "stabilize"}
    assert recorded_options("motion", old)["stabilize"] is False
    assert pickle.loads(pickle.dumps(steady)).stabilize is True
    clip = moving_square(2)
    # a still camera: the same features, bit for bit (stores written without the option still hold)
    assert np.array_equal(plain.preprocess(clip), steady.preprocess(clip))
    still = plain.preprocess(clip)
    shaky = {name: b.preprocess(shaken(clip)) for name, b in (("plain", plain), ("steady", steady))}
    assert np.linalg.norm(shaky["steady"] - still) < 0.2 * np.linalg.norm(shaky["plain"] - still)
    # the square still moves rightwards, as fast as before, in the whole frame's statistics
    hof, hof_still = global_cell(shaky["steady"], steady)["hof"], global_cell(still, plain)["hof"]
    assert int(np.argmax(hof)) == 0 and abs(hof[0] - hof_still[0]) < 0.2 * hof_still[0]


def test_registry_knows_the_learned_backbones_without_importing_them():
    names = available_backbones()
    for name in ("motion", "c3d", "r3d_18", "mc3_18", "r2plus1d_18", "s3d", "x3d_s"):
        assert name in names
    from extract import backbones
    assert backbones._REGISTRY["r2plus1d_18"] == (
        "extract.backbones.torchvision_nets:TorchvisionBackbone", {"arch": "r2plus1d_18"})
    assert backbones._REGISTRY["x3d_s"] == ("extract.backbones.ptv_nets:PTVBackbone", {"arch": "x3d_s"})
    assert backbones._REGISTRY["c3d"][0] == "extract.backbones.c3d:C3DBackbone"
    # every pytorchvideo name listed is one its backbone builds (x3d_l was listed and refused)
    from extract.backbones.ptv_nets import ARCHS

    listed = {n for n, (target, _) in backbones._REGISTRY.items() if target == "extract.backbones.ptv_nets:PTVBackbone"}
    assert listed == set(ARCHS)


def test_a_missing_module_fails_only_when_its_name_is_requested():
    register_backbone("not_written_yet", "extract.backbones.not_written_yet:Nope")
    assert isinstance(get_backbone("motion"), MotionBackbone)
    with pytest.raises(BackboneUnavailable, match="not_written_yet"):
        get_backbone("not_written_yet")
    with pytest.raises(ValueError, match="unknown backbone"):
        get_backbone("no_such_backbone")


def test_unexpected_keyword_reaches_the_caller_as_type_error():
    with pytest.raises(TypeError, match="weights"):
        get_backbone("motion", weights="x.pth")


def test_cells_are_the_grid_blocks_of_the_clip_vector():
    from extract.backbones.motion import MotionBackbone

    bb = MotionBackbone(size="64x48", grid=4, cuts="keep")  # noise frames: every pair a "cut"
    rng = np.random.default_rng(0)
    clip = rng.integers(0, 255, (16, 48, 64, 3), dtype=np.uint8)
    batch = np.stack([bb.preprocess(clip), bb.preprocess(clip[::-1].copy())])
    features, cells = bb.forward_cells(batch)
    assert bb.cell_grid == (4, 4) and cells.shape == (2, 16, bb.cell_dim)
    np.testing.assert_array_equal(features, bb.forward_batch(batch))
    # cell k of clip i is block k of its vector; the whole-frame block (last) is not a cell
    np.testing.assert_array_equal(cells[1, 5], features[1, 5 * bb.cell_dim:6 * bb.cell_dim])
    assert not np.array_equal(cells[0], cells[1])


def test_overlapping_clips_reuse_frame_pairs_and_give_the_same_features():
    rng = np.random.default_rng(1)
    video = np.concatenate([moving_square(2, n=24), moving_square(-1, 1, n=24)])
    video = np.clip(video.astype(np.int16) + rng.integers(-3, 4, video.shape), 0, 255).astype(np.uint8)
    cached = MotionBackbone(size="64x48")
    clips = [video[s:s + 16] for s in range(0, len(video) - 15, 4)]
    with_cache = np.stack([cached.preprocess(c) for c in clips])
    fresh = np.stack([MotionBackbone(size="64x48").preprocess(c) for c in clips])
    np.testing.assert_allclose(with_cache, fresh, rtol=1e-6, atol=1e-7)
    # 15 pairs for the first clip, then 4 new pairs per clip at stride 4
    assert len(cached._pair_cache) == min(15 + 4 * (len(clips) - 1), 64)


def test_the_per_frame_stage_gives_the_per_clip_features_preparing_each_frame_once():
    """What the decode workers and `videoad watch` run (prepare_frame per decoded frame, then
    preprocess_prepared per clip) equals `preprocess` on each raw clip, byte for byte."""
    from extract.clips import ClipSpec, iter_clips

    rng = np.random.default_rng(2)
    video = np.concatenate([moving_square(2, n=24), moving_square(-1, 1, n=24)])
    video = np.clip(video.astype(np.int16) + rng.integers(-3, 4, video.shape), 0, 255).astype(np.uint8)
    for size in ("64x48", "auto"):
        staged, counted = MotionBackbone(size=size), []

        def prepare(frame, bb=staged):
            counted.append(1)
            return bb.prepare_frame(frame)

        clips = list(iter_clips(iter(video), ClipSpec(stride=4), prepare=prepare, keep_frames=False))
        assert len(counted) == len(video)  # not 16 per clip
        assert clips[0].prepared.shape == (16, *staged.working_size(128, 128)[::-1])
        per_frame = np.stack([staged.preprocess_prepared(c.prepared) for c in clips])
        per_clip = np.stack([MotionBackbone(size=size).preprocess(video[4 * i:4 * i + 16]) for i in range(len(clips))])
        np.testing.assert_array_equal(per_frame, per_clip)


def test_auto_size_keeps_small_videos_native_and_scales_large_ones_to_240_lines():
    auto = MotionBackbone(size="auto")
    assert auto.working_size(360, 240) == (360, 240)
    assert auto.working_size(160, 120) == (160, 120)
    assert auto.working_size(768, 576) == (320, 240)
    assert auto.working_size(1920, 1080) == (427, 240)
    assert "auto" in auto.describe()["preprocessing"]
    features = auto.preprocess(moving_square(3))
    assert features.shape == (auto.dim,) and np.isfinite(features).all()
    # a grid that does not divide the size: every pixel still falls in exactly one cell
    odd = MotionBackbone(size="auto", grid=7)
    cells, pixels, _ = odd._layout((100, 75))
    assert pixels[:-1].sum() == pixels[-1] == 7500 and cells.max() == 48


def other_shot(n: int = 16, size: int = 128) -> np.ndarray:
    """Another camera's view: an unrelated, brighter texture with its own moving square."""
    rng = np.random.default_rng(7)
    background = cv2.GaussianBlur(rng.integers(0, 255, (size, size), dtype=np.uint8), (0, 0), 3)
    background = cv2.normalize(background, None, 140, 250, cv2.NORM_MINMAX)
    clip = np.repeat(background[None, :, :, None], n, axis=0).repeat(3, axis=3)
    for t in range(n):
        clip[t, 20:40, 10 + 3 * t:30 + 3 * t] = 30
    return clip


def test_a_frame_pair_across_a_scene_cut_adds_no_motion():
    skip, keep = MotionBackbone(size="96x96", grid=4), MotionBackbone(size="96x96", grid=4, cuts="keep")
    assert skip.options()["cuts"] == "skip" and keep.options()["cuts"] == "keep"
    assert "scene cut" in skip.describe()["preprocessing"] and "scene cut" not in keep.describe()["preprocessing"]
    a, b = moving_square(2), other_shot()
    grey = [skip.prepare_frame(f) for f in (a[7], a[8], b[0])]
    assert not skip.is_cut(grey[0], grey[1]) and skip.is_cut(grey[1], grey[2])
    # a flicker (the same view, 40% brighter) and a frame gone dark are not cuts
    brighter = np.clip(a[8].astype(np.float32) * 1.4, 0, 255).astype(np.uint8)
    assert not skip.is_cut(grey[1], skip.prepare_frame(brighter))
    assert not skip.is_cut(grey[1], skip.prepare_frame(np.full_like(a[8], 3)))
    # a clip across the cut: 7 pairs of shot A, the cut, 7 pairs of shot B
    across = np.concatenate([a[:8], b[:8]])
    with_cut, without = keep.preprocess(across), skip.preprocess(across)
    assert global_cell(with_cut, keep)["energy"][1] > 5 * global_cell(without, skip)["energy"][1]
    # left out, the clip is the mean of its two halves' 7 pairs each (every statistic is a mean
    # over pairs; the energy's peak is the larger of the halves' peaks)
    halves = [global_cell(skip.preprocess(part), skip) for part in (a[:8], b[:8])]
    whole = global_cell(without, skip)
    for key in ("hof", "speed"):
        np.testing.assert_allclose(whole[key], (halves[0][key] + halves[1][key]) / 2, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(whole["energy"], [(halves[0]["energy"][0] + halves[1]["energy"][0]) / 2,
                                                 max(h["energy"][1] for h in halves)], rtol=1e-5)
    # without a cut, the two settings give the same features
    np.testing.assert_array_equal(keep.preprocess(a), skip.preprocess(a))


def test_the_cut_rule_finds_the_five_cuts_of_an_edited_video_at_the_default_rate():
    from extract.clips import ClipSpec, resample
    from extract.decode import open_video

    backbone = MotionBackbone()
    stream = open_video(shared("videos", "bikes.mp4"))
    spec = ClipSpec(max_fps=backbone.default_max_fps)
    sampled = [(i, backbone.prepare_frame(f)) for i, f in resample(stream.frames, stream.fps, spec.rate_for(stream.fps))]
    cuts = [j for (_, g), (j, h) in zip(sampled, sampled[1:]) if backbone.is_cut(g, h)]
    # the data README: hard cuts near frames 30, 76, 137, 187 and 242 (sampled frames at 10 of 25 fps)
    assert len(cuts) == 5 and all(abs(c - k) <= 2 for c, k in zip(cuts, (30, 76, 137, 187, 242)))


def test_the_clips_of_an_edited_video_place_its_cuts_as_the_pairs_found_them():
    from extract.clips import ClipSpec, iter_clips
    from extract.decode import open_video

    backbone = MotionBackbone()
    stream = open_video(shared("videos", "bikes.mp4"))
    backbone.start_video()
    for clip in iter_clips(stream.frames, ClipSpec(stride=4, max_fps=backbone.default_max_fps), stream.fps,
                           prepare=backbone.prepare_frame, keep_frames=False):
        backbone.preprocess_prepared(clip.prepared, clip.sources)
    summary = backbone.video_summary()
    # each cut once, however many overlapping clips hold it, at the first sampled frame after it
    assert summary["scene_cuts"] == 5 and len(summary["scene_cut_frames"]) == 5
    assert all(0 <= c - k <= 3 for c, k in zip(summary["scene_cut_frames"], (30, 76, 137, 187, 242)))
    backbone.start_video()
    assert backbone.video_summary() == {"scene_cuts": 0, "scene_cut_handling": "left out", "repeated_frames": 0,
                                        "repeat_handling": "kept as pairs"}


def test_extraction_records_the_scene_cuts_it_left_out(tmp_path):
    from extract.run import ExtractOptions, extract_videos
    from extract.store import FeatureStore

    edited, plain = tmp_path / "videos" / "edited", tmp_path / "videos" / "plain"
    for folder, frames in ((edited, np.concatenate([moving_square(2, n=24), other_shot(n=24)])),
                           (plain, moving_square(2, n=24))):
        folder.mkdir(parents=True)
        for i, frame in enumerate(frames):
            cv2.imwrite(str(folder / f"{i:03d}.png"), frame[..., ::-1])
    summary = extract_videos(tmp_path / "videos", tmp_path / "features", MotionBackbone(size="96x96"),
                             ExtractOptions(workers=1, recursive=True, progress=False))
    assert summary.ok, summary.failed
    store = FeatureStore(tmp_path / "features")
    assert store.attrs("edited")["scene_cuts"] == 1 and store.attrs("plain")["scene_cuts"] == 0
    # where: the first frame of the second shot (an image folder: every frame sampled)
    assert "1 scene cut(s) found (at frames 24); the frame pairs across them add no motion" in store.attrs("edited")["decode_notes"]
    assert "scene_cut_frames" not in store.attrs("plain")
    assert "scene cut" not in store.attrs("plain")["decode_notes"]
    kept = extract_videos(tmp_path / "videos", tmp_path / "kept", MotionBackbone(size="96x96", cuts="keep"),
                          ExtractOptions(workers=1, recursive=True, progress=False))
    assert kept.ok and "scene_cuts" not in FeatureStore(tmp_path / "kept").attrs("edited")
    # the scores carry it to the report (test_report: the fact beside the timeline)
    from videoad import video

    cfg = video.DetectConfig(detector="knn", params={}, mode="pooled", min_clips=1)
    cuts = {v.video: (v.scene_cuts, v.scene_cut_frames) for v in video.detect(tmp_path / "features", cfg)}
    assert cuts == {"edited": (1, [24]), "plain": (0, None)}
    assert {v.scene_cuts for v in video.detect(tmp_path / "kept", cfg)} == {None}


def test_a_mask_leaves_its_pixels_out_of_every_cell_and_keeps_the_rest_as_they_were():
    """`mask` (rectangles in fractions of the frame, the command line's "x0,y0,x1,y1;...") is an
    exclusion zone: motion inside it adds nothing to any cell or the whole frame, a cell outside it
    keeps its features bit for bit, a cell it covers whole sums to zeros; the option is named only
    when set (stores written before it still match) and a malformed one is refused."""
    plain = MotionBackbone(size="96x96", grid=4)
    masked = MotionBackbone(size="96x96", grid=4, mask="0.25,0.25,0.75,0.75")  # the middle four cells
    clip = moving_square(2)  # the square moves through the middle of the frame
    a, b = (m.preprocess(clip).reshape(m.n_cells, -1) for m in (plain, masked))
    assert a[[5, 6, 9, 10], :BINS].sum() > 0 and np.all(b[[5, 6, 9, 10]] == 0)  # covered whole: nothing
    outside = [0, 1, 2, 3, 4, 7, 8, 11, 12, 13, 14, 15]
    np.testing.assert_array_equal(a[outside], b[outside])
    assert b[-1, :BINS].sum() < 0.2 * a[-1, :BINS].sum()  # the whole frame no longer sees the square
    assert "mask" not in plain.options() and masked.options()["mask"] == "0.25,0.25,0.75,0.75"
    assert "left out" in masked.describe()["preprocessing"]
    two = get_backbone("motion", size="96x96", mask="0,0,0.2,1; 0.9,0,1,0.5")
    assert two.options()["mask"] == "0,0,0.2,1;0.9,0,1,0.5"
    for bad in ("0.5,0,0.2,1", "0,0,1", "a,b,c,d", "0,0,1.5,1"):
        with pytest.raises(ValueError, match="mask: .* is not a rectangle"):
            MotionBackbone(mask=bad)


@pytest.mark.parametrize("bad, named", [(5, "5"), (True, "True"), (0.5, "0.5"), ([0, 0, 0.5], r"\[0, 0, 0.5\]"),
                                        ([[0, 0, 0.5, 1], 7], "7")])
def test_a_mask_from_yaml_that_is_no_rectangle_is_named_whole(bad, named):
    """YAML's `mask: 5` or `mask: true` stopped `extract --config` in a TypeError traceback; `[0, 0, 0.5]`
    was refused as "mask: 0 is not a rectangle", a number the user did not write as one."""
    with pytest.raises(ValueError, match=f"^mask: {named} is not a rectangle"):
        MotionBackbone(mask=bad)



def test_a_mask_over_the_whole_frame_is_refused():
    """`mask=0,0,1,1` (or halves that meet) made every feature zero, so every clip looked as normal as
    the next, and nothing said so; slivers thinner than a pixel at the working size are refused
    where the size is known."""
    for whole in ("0,0,1,1", "0,0,0.5,1;0.5,0,1,1", "0,0,0.6,1;0.4,0,1,1", "0,0,1,0.5;0,0.5,0.5,1;0.5,0.5,1,1"):
        with pytest.raises(ValueError, match="covers the whole frame: nothing is left to watch"):
            MotionBackbone(mask=whole)
    for partial in ("0,0,0.5,1;0.5,0,1,0.5", "0,0,1,0.99"):  # a corner or a strip left
        MotionBackbone(mask=partial)
    sliver = MotionBackbone(size="96x96", mask="0,0,0.5,1;0.5,0,1,0.999")  # 0.1 px left at 96 lines
    with pytest.raises(ValueError, match="leaves no pixel of the 96x96 working frame"):
        sliver.preprocess(moving_square(2))
    assert MotionBackbone(size="96x96", mask="0,0,1,0.95").preprocess(moving_square(2)).shape

def stuttered(clip: np.ndarray, lost=(5, 11, 12)) -> np.ndarray:
    """`clip` as a recorder that lost frames `lost` and showed the one before again in their place."""
    out = clip.copy()
    for t in lost:
        out[t] = out[t - 1]
    return out


def test_a_lost_frame_shown_again_is_not_a_stop_and_a_jump():
    """A repeated frame makes one pair with no motion and the next with the motion of two or three
    intervals: kept as decoded (the default), a walker at 3 px/frame shows up at 6 and 9 (the fast
    bins, where anomalies live). Spread (an option), the next pair's motion is divided over the
    intervals it spans, and the clip reads as the walker it is."""
    spread, keep = MotionBackbone(size="128x128", repeats="spread"), MotionBackbone(size="128x128")
    clean, lost = moving_square(3), stuttered(moving_square(3))
    # a clip without repeats is the same under both, bit for bit (every clean set: docs/extract.md)
    np.testing.assert_array_equal(spread.preprocess(clean), keep.preprocess(clean))
    fast = len(MAGNITUDE_EDGES) - 1  # at least 4 px/frame
    as_filmed = global_cell(spread.preprocess(clean), spread)["speed"]
    kept = global_cell(keep.preprocess(lost), keep)["speed"]
    spread_out = global_cell(spread.preprocess(lost), spread)["speed"]
    assert as_filmed[fast] == 0  # 3 px/frame: nothing at 4 and above
    assert kept[fast] > 0.1 * as_filmed.max()  # the jumps: pixels moving 6 and 9 px per pair
    assert spread_out[fast] == 0
    assert np.abs(spread_out - as_filmed).sum() < 0.6 * np.abs(kept - as_filmed).sum()
    # the magnitude-weighted orientation sums and the mean difference are linear in the motion: the
    # same either way; the peak difference is a pair's, the jump's when kept
    cells = [global_cell(b.preprocess(c), b) for b, c in ((spread, clean), (spread, lost), (keep, lost))]
    np.testing.assert_allclose(cells[1]["hof"], cells[2]["hof"], rtol=1e-5, atol=1e-9)
    assert cells[1]["energy"][0] == pytest.approx(cells[2]["energy"][0], rel=1e-5)
    assert cells[1]["energy"][1] == pytest.approx(cells[0]["energy"][1], rel=0.05)
    assert cells[2]["energy"][1] > 1.5 * cells[0]["energy"][1]
    # named only when set: stores and models written before the option still match the default
    assert "repeats" not in keep.options() and spread.options()["repeats"] == "spread"
    assert "repeating the one before adds no pair" in spread.describe()["preprocessing"]
    assert "repeat" not in keep.describe()["preprocessing"]


def test_repeats_in_overlapping_clips_are_counted_once_and_cached_pairs_agree():
    from extract.clips import ClipSpec, iter_clips

    rng = np.random.default_rng(4)
    video = np.concatenate([moving_square(2, n=24), moving_square(-1, 1, n=24)])
    video = np.clip(video.astype(np.int16) + rng.integers(-3, 4, video.shape), 0, 255).astype(np.uint8)
    lost = (3, 9, 10, 17, 30, 41)
    video = stuttered(video, lost)
    for mode in ("spread", "keep"):
        cached = MotionBackbone(size="64x48", repeats=mode)
        cached.start_video()
        clips = list(iter_clips(iter(video), ClipSpec(stride=4), prepare=cached.prepare_frame, keep_frames=False))
        with_cache = np.stack([cached.preprocess_prepared(c.prepared, c.sources) for c in clips])
        fresh = np.stack([MotionBackbone(size="64x48", repeats=mode).preprocess(video[4 * i:4 * i + 16])
                          for i in range(len(clips))])
        np.testing.assert_array_equal(with_cache, fresh)  # a pair spanning a gap is cached with its span
        # each repeated frame once, however many clips hold it (the clips cover frames 0-47), either way
        assert cached.video_summary()["repeated_frames"] == len(lost)
        frozen = np.repeat(video[:1], 16, axis=0)  # a frozen picture: every pair a repeat, or no motion
        np.testing.assert_allclose(cached.preprocess(frozen), 0.0, atol=1e-6)


def _repeats_counted(video: np.ndarray) -> int:
    from extract.clips import ClipSpec, iter_clips

    backbone = MotionBackbone(size="64x48")
    backbone.start_video()
    for clip in iter_clips(iter(video), ClipSpec(stride=4), prepare=backbone.prepare_frame, keep_frames=False):
        backbone.preprocess_prepared(clip.prepared, clip.sources)
    return backbone.video_summary()["repeated_frames"]


def test_a_still_scene_is_not_counted_as_lost_frames():
    """Exact repeats count as lost frames (or a slower camera) only in short runs between frames
    that change: a scene holding still (heavily compressed still footage repeats exactly, until a
    keyframe refreshes it) is not a frame-rate problem, and its count stays 0 (it was every frame)."""
    moving = moving_square(2, n=48)
    assert _repeats_counted(np.repeat(moving[:1], 48, axis=0)) == 0  # a frozen picture
    refreshed = np.repeat(moving[:1], 48, axis=0).astype(np.int16)
    refreshed[20:] += 2  # a keyframe every 20 frames changes the still picture a little
    refreshed[40:] -= 1
    assert _repeats_counted(refreshed.astype(np.uint8)) == 0
    # a camera at half its file's rate: 24 repeats, those at either end of the video have no change around them
    assert _repeats_counted(np.repeat(moving[:24], 2, axis=0)) == 22
    assert _repeats_counted(stuttered(moving, (10, 11, 12, 13))) == 0  # a 4-frame freeze: held still, not lost
    assert _repeats_counted(stuttered(moving, (10, 11, 12))) == 3


def test_extraction_records_the_repeated_frames(tmp_path):
    from extract.run import ExtractOptions, extract_videos
    from extract.store import FeatureStore

    for name, frames in (("stutter", stuttered(moving_square(2, n=24), (4, 9, 10))), ("plain", moving_square(2, n=24))):
        folder = tmp_path / "videos" / name
        folder.mkdir(parents=True)
        for i, frame in enumerate(frames):
            cv2.imwrite(str(folder / f"{i:03d}.png"), frame[..., ::-1])
    for mode, told in (("keep", "--backbone-opt repeats=spread divides it"), ("spread", "no pair there")):
        out = tmp_path / f"features-{mode}"
        summary = extract_videos(tmp_path / "videos", out, MotionBackbone(size="96x96", repeats=mode),
                                 ExtractOptions(workers=1, recursive=True, progress=False))
        assert summary.ok, summary.failed
        store = FeatureStore(out)
        assert store.attrs("stutter")["repeated_frames"] == 3 and store.attrs("plain")["repeated_frames"] == 0
        notes = store.attrs("stutter")["decode_notes"]
        assert "3 sampled frame(s) repeat the one before exactly" in notes and told in notes
        # the run's summary says it too, once for all such videos (3 of 24 frames)
        assert "1 video(s) repeat sampled frames exactly (up to 12%" in summary.report()
        assert summary.results["stutter"].repeat_share == 0.125 and summary.results["plain"].repeat_share is None
        assert "repeat" not in store.attrs("plain")["decode_notes"]
    # the scores carry the count to run.json and the report (each video's facts)
    from videoad import video
    from videoad.report import build_report
    from videoad.scores import read_scores, write_scores

    cfg = video.DetectConfig(detector="knn", params={}, mode="pooled", min_clips=1)
    scored = video.detect(tmp_path / "features-keep", cfg)
    assert {v.video: v.repeated_frames for v in scored} == {"stutter": 3, "plain": 0}
    write_scores(tmp_path / "scores", scored)
    assert {v.video: v.repeated_frames for v in read_scores(tmp_path / "scores")} == {"stutter": 3, "plain": 0}
    page = build_report(scored, tmp_path / "report", clips=False).read_text()
    assert page.count("sampled frames repeat the one before (each makes a pair without motion") == 1
    spread = video.detect(tmp_path / "features-spread", cfg)  # the report says what the features did
    assert {v.repeat_handling for v in spread} == {"spread over the gap"}
    assert {v.repeat_handling for v in read_scores(tmp_path / "scores")} == {"kept as pairs"}
    page = build_report(spread, tmp_path / "report-spread", clips=False).read_text()
    assert "3 sampled frames repeat the one before (their motion spread over the gap)" in page


def test_deinterlace_field_reads_one_instant_of_an_interlaced_frame():
    """An analogue camera's interlaced frames take their odd lines a field later, so every moving edge
    is combed. `deinterlace=field` reads the top field alone: the interlaced clip then gives exactly
    the progressive clip's features (its even lines are the same), where every line counted they
    differ; named only when set."""
    clean = moving_square(3)
    combed = clean.copy()
    combed[1:, 1::2] = clean[:-1, 1::2]  # the odd lines from the frame before
    field, plain = MotionBackbone(size="128x128", deinterlace="field"), MotionBackbone(size="128x128")
    np.testing.assert_array_equal(field.preprocess(combed), field.preprocess(clean))
    assert not np.allclose(plain.preprocess(combed), plain.preprocess(clean), rtol=0.05, atol=1e-4)
    # the field is stretched back to the working size: the motion keeps its units (3 px/frame: 2-4)
    speed = global_cell(field.preprocess(clean), field)["speed"]
    assert int(np.argmax(speed)) == 3 and speed[4] == 0
    assert "deinterlace" not in plain.options() and field.options()["deinterlace"] == "field"
    assert "top field alone" in field.describe()["preprocessing"]
    with pytest.raises(ValueError, match="deinterlace"):
        MotionBackbone(deinterlace="bob")


def swaying_square(amplitude: int = 3, period: int = 8, n: int = 16, size: int = 128) -> np.ndarray:
    """`moving_square`'s square swaying left and right in place (a branch in the wind): it moves
    every frame, as fast as a walker, and is back where it was every `period` frames."""
    still = moving_square(0, n=1, size=size)[0]
    rng = np.random.default_rng(0)
    square = cv2.normalize(cv2.GaussianBlur(rng.integers(0, 255, (32, 32), dtype=np.uint8), (0, 0), 2),
                           None, 0, 255, cv2.NORM_MINMAX)
    clip = np.repeat(still[None], n, axis=0)
    for t in range(n):
        x = 48 + int(round(amplitude * np.sin(2 * np.pi * t / period)))
        clip[t, 48:80, x:x + 32] = square[..., None]
    return clip


def test_travel_tells_motion_that_goes_somewhere_from_motion_that_sways_in_place():
    """`travel` adds, per cell, the share of pixels whose flow summed over the clip averages at least
    each magnitude edge per interval: a square crossing the frame at 1.5 px/frame fills the upper bins
    of its cells, the same square swaying as fast in place almost none of them, while both move
    alike frame by frame (the speed histogram). Off by default: 255 values and options without it,
    so stores written before the option still match; the first 15 values of each cell are the same
    with it on."""
    plain, travel = MotionBackbone(size="96x96", grid=4), MotionBackbone(size="96x96", grid=4, travel="on")
    n_mag = len(MAGNITUDE_EDGES)
    assert plain.dim == 255 and "travel" not in plain.options() and plain.cell_dim == BINS + n_mag + 2
    assert travel.cell_dim == BINS + 2 * n_mag + 2 and travel.dim == 17 * travel.cell_dim
    assert travel.options()["travel"] is True and "net displacement" in travel.describe()["preprocessing"]
    crossing, swaying = moving_square(2), swaying_square()
    for clip in (crossing, swaying):  # the original values untouched by the option
        a, b = plain.preprocess(clip).reshape(17, -1), travel.preprocess(clip).reshape(17, -1)
        np.testing.assert_array_equal(a, b[:, :plain.cell_dim])
    go, sway = (travel.preprocess(c).reshape(17, -1)[-1] for c in (crossing, swaying))
    speed, net = slice(BINS, BINS + n_mag), slice(BINS + n_mag + 2, None)
    # frame by frame both move: their pixels above the second edge (0.5 px/frame) are alike in number
    assert sway[speed][1:].sum() > 0.5 * go[speed][1:].sum() > 0
    # over the clip the crossing square went somewhere (net at or above 0.5 px/frame), the swaying one did not
    assert go[net][1:].sum() > 0.02 and sway[net][1:].sum() < 0.1 * go[net][1:].sum()
    still = np.repeat(crossing[:1], 16, axis=0)
    assert np.allclose(travel.preprocess(still), 0.0, atol=1e-6)
    masked = MotionBackbone(size="96x96", grid=4, travel=True, mask="0.25,0.25,0.75,0.75")
    assert np.all(masked.preprocess(crossing).reshape(17, -1)[[5, 6, 9, 10], -n_mag:] == 0)  # the mask holds


def test_travel_from_the_command_line_and_in_overlapping_clips():
    """`--backbone-opt travel=on` reaches the option; overlapping clips that share frame pairs through
    the cache get the features each clip computes on its own."""
    bb = get_backbone("motion", size="96x96", travel="on")
    assert bb.travel and get_backbone("motion", travel="off").dim == 255
    with pytest.raises(ValueError):
        MotionBackbone(travel="maybe")
    video = np.concatenate([moving_square(2, n=12), swaying_square(n=12)])
    frames = np.stack([bb.prepare_frame(f) for f in video])
    shared_cache = [bb.preprocess_prepared(frames[s:s + 16]) for s in range(0, 9, 4)]
    alone = [MotionBackbone(size="96x96", travel=True).preprocess_prepared(frames[s:s + 16]) for s in range(0, 9, 4)]
    np.testing.assert_array_equal(np.stack(shared_cache), np.stack(alone))


def test_light_local_reads_a_passing_shadow_as_no_motion_and_keeps_the_movers():
    """`light=local` divides each frame by its local mean brightness before the flow and the frame
    differences: a soft shadow sweeping over a still textured scene moves most of the frame
    difference and the flow as filmed and little of either with the option, while a square that
    moves keeps its direction. Off by default (options without it: stores written before it still
    match); refused when unknown."""
    plain, local = MotionBackbone(size="96x96", grid=4), MotionBackbone(size="96x96", grid=4, light="local")
    assert "light" not in plain.options() and local.options()["light"] == "local"
    assert "local mean brightness" in local.describe()["preprocessing"]
    with pytest.raises(ValueError, match="light must be one of"):
        MotionBackbone(light="retinex")
    still = moving_square(0).astype(np.float32)
    x = np.arange(still.shape[2], dtype=np.float32)
    shadowed = np.stack([f * (1 - 0.4 / (1 + np.exp(-(x - 8 * t) / 12)))[None, :, None]
                         for t, f in enumerate(still)])  # a soft edge crossing at 8 px/frame
    clip = np.clip(shadowed, 0, 255).astype(np.uint8)
    as_filmed, normalised = (global_cell(b.preprocess(clip), b) for b in (plain, local))
    assert normalised["energy"][0] < 0.35 * as_filmed["energy"][0]
    assert normalised["hof"].sum() < 0.35 * as_filmed["hof"].sum()
    moving = global_cell(local.preprocess(moving_square(2)), local)["hof"]
    assert int(np.argmax(moving)) == 0 and moving[0] > 0
    # each frame is normalised once for the pairs and clips that share it: the features are those of the
    # frames normalised beforehand, overlapping clips and a fresh backbone alike
    frames = np.stack([local.prepare_frame(f) for f in np.concatenate([clip, moving_square(2)])])
    normalised_first = np.stack([local_light(f) for f in frames])
    for start in (0, 8, 16):
        np.testing.assert_array_equal(local.preprocess_prepared(frames[start:start + 16]),
                                      MotionBackbone(size="96x96", grid=4).preprocess_prepared(normalised_first[start:start + 16]))


def test_a_misspelt_or_malformed_backbone_option_names_the_good_ones():
    """`--backbone-opt stabilise=off` gave Python's "__init__() got an unexpected keyword argument";
    `size=320` gave "invalid literal for int() with base 10: ''"."""
    import pytest

    from extract.backbones import get_backbone

    with pytest.raises(ValueError, match=r"backbone 'motion' has no option 'stabilise'; its options: .*stabilize"):
        get_backbone("motion", stabilise="off")
    with pytest.raises(ValueError, match=r"size must be auto or WIDTHxHEIGHT in pixels \(e.g. 320x240\), got '320'"):
        get_backbone("motion", size="320")


@pytest.mark.parametrize("name, value", [("grid", 4.7), ("bins", "8.5"), ("max_height", 240.5), ("finest_scale", 0.5),
                                         ("clip_len", "sixteen")])
def test_a_count_that_is_not_a_whole_number_is_refused_naming_it(name, value):
    """int() cut a --config file's `backbone: options: {grid: 4.7}` to a 4x4 grid in silence (and took
    240.5 rows for 240): a count must be a whole number; 4.0 and "4" still read as 4."""
    from extract.backbones import get_backbone

    with pytest.raises(ValueError, match=f"{name}: expected an integer, got {value!r}"):
        get_backbone("motion", **{name: value})
    assert get_backbone("motion", grid=4.0).grid == 4 and get_backbone("motion", grid="3").grid == 3


@pytest.mark.parametrize("name", ["grid", "bins", "max_height", "finest_scale", "clip_len", "blur"])
def test_a_boolean_where_a_motion_option_takes_a_number_is_refused_naming_it(name):
    """int() and float() read a --config file's `backbone: options: {grid: true}` as a 1x1 grid (a
    `blur: true` as a sigma of 1, `finest_scale: false` as 0): the features were made so in silence."""
    from extract.backbones import get_backbone
    from extract.backbones.torch_base import as_int

    with pytest.raises(ValueError, match=f"{name}: true is not a number"):
        get_backbone("motion", **{name: True})
    with pytest.raises(ValueError, match="layer: false is not a number"):
        as_int(False, "layer", minimum=0)


@pytest.mark.parametrize("value", [[1, 2], {"sigma": 1}])
def test_a_blur_that_is_no_number_is_refused_naming_it(tmp_path, value):
    """float() of a --config file's `blur: [1, 2]` stopped `videoad extract` in a TypeError traceback."""
    import yaml
    from click.testing import CliRunner

    from extract.backbones import get_backbone
    from videoad.cli import cli

    with pytest.raises(ValueError, match="blur: expected a number"):
        get_backbone("motion", blur=value)
    path = tmp_path / "x.yaml"
    path.write_text(yaml.safe_dump({"backbone": {"options": {"blur": value}}}))
    res = CliRunner().invoke(cli, ["extract", "--config", str(path), "--print-config"])
    assert res.exit_code == 2 and not isinstance(res.exception, TypeError)
    assert "blur: expected a number" in res.output and "x.yaml" in res.output
