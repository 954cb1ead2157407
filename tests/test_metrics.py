"""Frame mapping on hand-made cases, AUROC against scikit-learn, the paper's stored ROC curves."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from videoad.metrics import (
    LengthMismatchError,
    clip_to_frames,
    curve_auc,
    evaluate_frames,
    format_evaluation,
    load_roc_mat,
    video_frames,
)

from _paths import shared  # noqa: E402


def test_non_overlapping_clips_repeat_and_pad_tail():
    # 3 clips of 4 frames over a 14-frame video: 2 tail frames
    frames = np.array([[0, 3], [4, 7], [8, 11]])
    out = clip_to_frames([1.0, 2.0, 3.0], frames, 14)
    np.testing.assert_array_equal(out, [1] * 4 + [2] * 4 + [3] * 4 + [3, 3])
    dropped = clip_to_frames([1.0, 2.0, 3.0], frames, 14, tail="drop")
    np.testing.assert_array_equal(dropped, [1] * 4 + [2] * 4 + [3] * 4)


def test_overlapping_clips_mean_and_max():
    # clip length 4, stride 2: frames 0-3, 2-5, 4-7 over 9 frames
    frames = np.array([[0, 3], [2, 5], [4, 7]])
    s = [0.0, 4.0, 2.0]
    np.testing.assert_allclose(clip_to_frames(s, frames, 9, overlap="mean"), [0, 0, 2, 2, 3, 3, 2, 2, 2])
    np.testing.assert_allclose(clip_to_frames(s, frames, 9, overlap="max"), [0, 0, 4, 4, 4, 4, 2, 2, 2])


def test_a_frame_gets_its_clips_scores_exactly_so_equal_clips_stay_tied():
    """A running sum of differences gave the second clip of [0.7, 0.1] the score
    0.09999999999999998: no longer tied with another video's 0.1, which moved pooled AUROC."""
    frames = np.array([[0, 15], [16, 31]])
    normal = clip_to_frames(np.array([0.7, 0.1]), frames, 32)
    assert normal[16] == 0.1 and normal[0] == 0.7
    rng = np.random.default_rng(0)
    scores = rng.lognormal(size=500)
    starts = np.arange(500) * 16
    assert np.array_equal(clip_to_frames(scores, np.stack([starts, starts + 15], 1), 8000), np.repeat(scores, 16))
    a = video_frames("A", "x", np.array([0.1, 0.1]), frames, 32, np.r_[np.ones(16), np.zeros(16)])
    n = video_frames("N", "x", np.array([0.7, 0.1]), frames, 32, np.zeros(32))
    truth = roc_auc_score(np.r_[a.labels, n.labels], np.r_[np.repeat([0.1, 0.1], 16), np.repeat([0.7, 0.1], 16)])
    assert evaluate_frames([a, n]).pooled.auroc == pytest.approx(truth)


def test_gaps_and_leading_frames_are_filled_from_neighbours():
    # stride larger than the clip: frames 3-4 and 8-9 uncovered; frame 0 before the first clip
    frames = np.array([[1, 2], [5, 7]])
    out = clip_to_frames([5.0, 9.0], frames, 10)
    np.testing.assert_array_equal(out, [5, 5, 5, 5, 5, 9, 9, 9, 9, 9])


def test_clip_past_the_end_is_a_length_error_naming_the_video():
    with pytest.raises(LengthMismatchError, match="video 'cam7'"):
        clip_to_frames([1.0], np.array([[0, 15]]), 10, video="cam7")


def test_labels_of_the_wrong_length_are_an_error_naming_the_video():
    with pytest.raises(LengthMismatchError, match=r"length mismatch for video 'Arson011'.*16.*17"):
        video_frames("Arson011", "Arson", [1.0], np.array([[0, 15]]), 16, np.zeros(17))


def test_pooled_auroc_equals_sklearn_on_the_same_vectors():
    rng = np.random.default_rng(0)
    items, all_s, all_y, drop_s, drop_y = [], [], [], [], []
    for v in range(5):
        n = int(rng.integers(40, 90))
        n_clips = n // 16
        frames = np.stack([np.arange(n_clips) * 16, np.arange(n_clips) * 16 + 15], 1)
        s = rng.random(n_clips)
        y = np.zeros(n, np.int8)
        if v % 2:
            a = int(rng.integers(0, n - 10))
            y[a : a + 10] = 1
            s[a // 16] += 1.0  # make it informative
        # the expected vectors, built by hand: repeat 16x, pad with the last clip's score
        expected = np.concatenate([np.repeat(s, 16), np.full(n - 16 * n_clips, s[-1])])
        all_s.append(expected), all_y.append(y)
        drop_s.append(np.repeat(s, 16)), drop_y.append(y[: 16 * n_clips])
        items.append(video_frames(f"v{v}", "A" if v < 3 else "B", s, frames, n, y))
    ev = evaluate_frames(items)
    s_cat, y_cat = np.concatenate(all_s), np.concatenate(all_y)
    assert ev.pooled.auroc == pytest.approx(roc_auc_score(y_cat, s_cat), abs=1e-12)
    assert ev.pooled.ap == pytest.approx(average_precision_score(y_cat, s_cat), abs=1e-12)
    assert ev.pooled.n_frames == s_cat.size and ev.pooled.n_anomalous == int(y_cat.sum())
    assert ev.pooled_tail_dropped.auroc == pytest.approx(
        roc_auc_score(np.concatenate(drop_y), np.concatenate(drop_s)), abs=1e-12
    )
    # anomalous-only pools videos 1 and 3
    ya = np.concatenate([all_y[1], all_y[3]])
    sa = np.concatenate([all_s[1], all_s[3]])
    assert ev.anomalous_only.auroc == pytest.approx(roc_auc_score(ya, sa), abs=1e-12)
    # per category: A = videos 0..2
    cat_a = next(c for c in ev.per_category if c.name == "A")
    assert cat_a.auroc == pytest.approx(roc_auc_score(np.concatenate(all_y[:3]), np.concatenate(all_s[:3])))
    # a normal video has no AUROC, and says why
    v0 = ev.per_video[0]
    assert np.isnan(v0.auroc) and "no anomalous frames" in v0.note
    assert v0.as_dict()["auroc"] is None
    text = format_evaluation(ev)
    assert "all videos" in text and "n/a" in text


def test_the_evaluation_tables_keep_a_names_line_feed_on_its_row():
    """Linux allows a line feed in a file or folder name: `evaluate`'s per-category and per-video
    tables printed it as it is, the rest of the name a row of its own that read as a result."""
    frames = np.array([[0, 3], [4, 7]])
    items = [video_frames(f"cam\nFAKE 0.9999  1.0000\r/v{i}.avi", "cat\nFAKE", np.array([0.1, 0.9 + i]), frames, 8,
                          np.array([0, 0, 0, 0, 1, 1, 1, 1], bool)) for i in range(2)]
    lines = format_evaluation(evaluate_frames(items)).splitlines()
    assert not any(x.startswith("FAKE") for x in lines) and not any("\r" in x for x in lines), lines
    assert any(x.startswith("cat\\nFAKE  ") for x in lines), lines
    rows = [x for x in lines if x.startswith("cam\\nFAKE 0.9999  1.0000\\r/v")]
    assert len(rows) == 2 and len({x.index("  1.0000  ", 30) for x in rows}) == 1, lines  # one column


@pytest.mark.parametrize(
    "name, stored",
    [
        ("1_Binary_Abnormal_Normal.mat", 0.4999),
        ("2_Cei_lui.mat", 0.6551),
        ("3_CV16_TemporalRegularity.mat", 0.5066),
        ("6_C3D_Final_L1L2.mat", 0.7541),
    ],
)
def test_paper_roc_curves_integrate_to_their_stored_auc(name, stored):
    fpr, tpr, auc_stored = load_roc_mat(shared("ucf_crime", "sultani_paper_roc", name))
    assert auc_stored == pytest.approx(stored, abs=5e-5)
    assert curve_auc(fpr, tpr) == pytest.approx(auc_stored, abs=1e-4)


def _loop_reference(scores, frames, n_frames, overlap):
    """The frame mapping written as a loop over clips (what clip_to_frames computes at once)."""
    if overlap == "mean":
        total, count = np.zeros(n_frames), np.zeros(n_frames, dtype=np.int64)
        for (a, b), s in zip(frames, scores):
            total[a : b + 1] += s
            count[a : b + 1] += 1
        out = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    else:
        out = np.full(n_frames, -np.inf)
        for (a, b), s in zip(frames, scores):
            out[a : b + 1] = np.maximum(out[a : b + 1], s)
        out[~np.isfinite(out)] = np.nan
    covered = ~np.isnan(out)
    idx = np.where(covered, np.arange(n_frames), -1)
    np.maximum.accumulate(idx, out=idx)
    idx[idx < 0] = int(np.argmax(covered))
    return out[idx]


def test_the_frame_mapping_equals_a_loop_over_clips_bit_for_bit():
    """clip_to_frames works on every (clip, frame) pair at once (not a Python loop over clips); its
    sums must add in the loop's order, so that equal clips stay tied."""
    from videoad.metrics import video_frames

    rng = np.random.default_rng(0)
    for _ in range(100):
        n, length, stride = (int(v) for v in rng.integers(1, [60, 20, 20]))
        starts = np.arange(n) * stride + int(rng.integers(0, 5))
        frames = np.stack([starts, starts + length - 1], 1)
        n_frames = int(frames[:, 1].max()) + int(rng.integers(1, 30))
        scores = np.round(rng.random(n), int(rng.integers(1, 4)))  # ties between clips
        for overlap in ("mean", "max"):
            want = _loop_reference(scores, frames, n_frames, overlap)
            got = clip_to_frames(scores, frames, n_frames, overlap=overlap)
            np.testing.assert_array_equal(got, want)
            v = video_frames("v", "", scores, frames, n_frames, np.zeros(n_frames), overlap=overlap)
            np.testing.assert_array_equal(v.scores_drop, clip_to_frames(scores, frames, n_frames, overlap=overlap,
                                                                        tail="drop"))


def test_frames_pooled_as_runs_give_the_figures_of_every_frame():
    """Frames are pooled as runs of one score and label (weighted rows): the ROC and precision-recall
    curves, so AUROC and AP, are those of the frames one by one, ties across videos included."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    from videoad.metrics import _runs, evaluate_frames

    rng = np.random.default_rng(3)
    items, all_s, all_y = [], [], []
    for v in range(6):
        n_clips = int(rng.integers(5, 30))
        frames = np.stack([np.arange(n_clips) * 4, np.arange(n_clips) * 4 + 15], axis=1)  # overlapping clips
        n = int(frames[-1, 1]) + 1 + int(rng.integers(0, 9))
        s = np.round(rng.random(n_clips), 1)  # few distinct values: ties within and across videos
        y = np.zeros(n)
        a = int(rng.integers(0, n - 10))
        y[a:a + int(rng.integers(1, 10))] = 1
        item = video_frames(f"v{v}", "AB"[v % 2], s, frames, n, y)
        items.append(item)
        all_s.append(item.scores)
        all_y.append(item.labels)
    ev = evaluate_frames(items)
    s, y = np.concatenate(all_s), np.concatenate(all_y)
    assert ev.pooled.auroc == pytest.approx(roc_auc_score(y, s), abs=1e-12)
    assert ev.pooled.ap == pytest.approx(average_precision_score(y, s), abs=1e-12)
    assert ev.pooled.n_frames == y.size and ev.pooled.n_anomalous == int(y.sum())
    values, labels, counts = _runs(items[0].scores, items[0].labels)
    assert counts.sum() == items[0].scores.size and len(values) < items[0].scores.size
    np.testing.assert_array_equal(np.repeat(values, counts), items[0].scores)
    np.testing.assert_array_equal(np.repeat(labels, counts), items[0].labels)


def test_videos_at_the_top_of_the_folder_are_a_named_category():
    """The store's group of the videos at the top of the input folder is "."; the per-category table
    listed a category named "."."""
    frames = np.array([[0, 15], [16, 31]])
    items = [video_frames("a", ".", np.array([0.9, 0.1]), frames, 32, np.r_[np.ones(16), np.zeros(16)]),
             video_frames("b", "", np.array([0.1, 0.2]), frames, 32, np.zeros(32))]
    assert [s.name for s in evaluate_frames(items).per_category] == ["(none)", "(top folder)"]


def test_a_run_with_no_scored_video_is_nothing_to_evaluate():
    """Every group skipped (min_clips past them all): the check for annotations of another set took
    the first scored video of none (StopIteration)."""
    from videoad.datasets.annotations import Annotations, VideoAnnotation
    from videoad.metrics import evaluate_scores
    from videoad.scores import ScoreSet

    ann = Annotations({"a": VideoAnnotation("a", "X", ((1, 5),), None, "gt")}, "gt.txt")
    for unlabelled in ("error", "leave"):
        with pytest.raises(ValueError, match="nothing to evaluate: no videos"):
            evaluate_scores(ScoreSet([], {}), ann, unlabelled=unlabelled)


def test_overlapping_clips_of_stride_8_score_each_frame_by_the_clips_over_it():
    """16-frame clips every 8 frames over 48 frames: frames 8-39 lie in two clips (their mean, or
    their max), frames 0-7 and 40-47 in one; worked out by hand."""
    frames = np.array([[0, 15], [8, 23], [16, 31], [24, 39], [32, 47]])
    s = [1.0, 2.0, 4.0, 8.0, 16.0]
    np.testing.assert_array_equal(clip_to_frames(s, frames, 48), np.repeat([1, 1.5, 3, 6, 12, 16], 8))
    np.testing.assert_array_equal(clip_to_frames(s, frames, 48, overlap="max"), np.repeat([1, 2, 4, 8, 16, 16], 8))


def test_clips_cut_at_a_capped_frame_rate_score_the_source_frames_they_hold():
    """--max-fps 10 on a 30 fps and a 29.97 fps source of 100 frames: the clips' ranges are source
    frame numbers (the ones annotations count), so each source frame takes the score of the clip
    whose sampled frames hold it in time: the source frames after a clip's last sampled frame and
    before the next clip's first go with that clip, and the padded last clip covers the end."""
    from extract.clips import ClipSpec, iter_clips

    for fps, ranges, sizes in ((30.0, [[0, 45], [48, 93], [96, 99]], [48, 48, 4]),
                               (29.97, [[0, 44], [47, 92], [95, 98]], [47, 48, 5])):
        frames = (np.zeros((2, 2, 3), np.uint8) for _ in range(100))
        got = [[c.first, c.last] for c in iter_clips(frames, ClipSpec(16, 16, "pad", max_fps=10), fps)]
        assert got == ranges
        np.testing.assert_array_equal(clip_to_frames([1.0, 2.0, 3.0], np.array(got), 100),
                                      np.repeat([1.0, 2.0, 3.0], sizes))


def _authors_32_shots(n_frames: int, predictions: np.ndarray) -> np.ndarray:
    """Sultani et al.'s Evaluate_Anomaly_Detector.m, 0-based: a score vector of zeros over
    16 x n_clips frames, segment s written over clips b_s .. b_{s+1} - 1 (just b_s where that is
    empty, a later segment over an earlier), the tail padded with the vector's last value."""
    n_clips = n_frames // 16
    det = np.zeros(n_clips * 16)
    b = np.floor(np.linspace(1, n_clips, 33) + 0.5).astype(int)
    for i in range(32):
        ss, ee = b[i], b[i + 1] - 1
        det[(ss - 1) * 16:(max(ee, ss) - 1) * 16 + 16] = predictions[i]
    return np.r_[det, np.full(n_frames - det.size, det[-1])]


def test_sultani_segments_score_the_frames_the_authors_script_gives_them():
    """The six shared videos' frame counts (and 33 clips, one clip a segment): every frame up to the
    last clip takes the segment score the authors' script gives it. The last clip, in no segment,
    and the tail after it are 0 in the script (its vector starts at zeros): here they take the last
    segment's score (docs/video.md, "Conventions")."""
    from extract.importers import sultani_segments

    rng = np.random.default_rng(0)
    for n in (1748, 716, 1005, 1625, 1357, 1076, 530):
        p = rng.random(32)
        ours, theirs = clip_to_frames(p, sultani_segments(n)[1], n), _authors_32_shots(n, p)
        last_clip = (n // 16 - 1) * 16
        np.testing.assert_array_equal(ours[:last_clip], theirs[:last_clip])
        assert (theirs[last_clip:] == 0).all() and (ours[last_clip:] == p[-1]).all()
