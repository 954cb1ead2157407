"""Cell scores in the scores folder: written beside the clip scores, read back with their grid."""
import h5py
import numpy as np
import pytest

from videoad.scores import CELLS_FILE, ScoresError, ScoreSet, VideoScores, read_scores, write_scores


def _video(name, n, cells=None):
    frames = np.stack([np.arange(n) * 16, np.arange(n) * 16 + 15], axis=1)
    return VideoScores(name, np.linspace(0, 1, n), frames, n * 16, 10.0, "c", "all", "", 0.5, cells)


def test_cells_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    cells = rng.random((5, 6))
    s = ScoreSet([_video("cam/a.avi", 5, cells), _video("b.avi", 3, rng.random((3, 6)))], {"cell_grid": [2, 3]})
    write_scores(tmp_path / "s", s)
    back = read_scores(tmp_path / "s")
    assert back.cell_grid == (2, 3)
    np.testing.assert_allclose(back.videos[0].cells, cells, rtol=1e-6)
    assert back.videos[1].cells.shape == (3, 6)


def test_no_cells_no_file_and_stale_file_removed(tmp_path):
    write_scores(tmp_path / "s", ScoreSet([_video("a.avi", 4, np.ones((4, 4)))], {"cell_grid": [2, 2]}))
    assert (tmp_path / "s" / CELLS_FILE).is_file()
    write_scores(tmp_path / "s", ScoreSet([_video("a.avi", 4)], {}))
    assert not (tmp_path / "s" / CELLS_FILE).exists()
    back = read_scores(tmp_path / "s")
    assert back.cell_grid is None and back.videos[0].cells is None


def test_cells_of_wrong_shape_are_refused(tmp_path):
    with pytest.raises(ScoresError, match="a.avi.*2x2 grid"):
        write_scores(tmp_path / "s", ScoreSet([_video("a.avi", 4, np.ones((4, 3)))], {"cell_grid": [2, 2]}))


def test_cells_row_count_must_match_segments(tmp_path):
    write_scores(tmp_path / "s", ScoreSet([_video("a.avi", 4, np.ones((4, 4)))], {"cell_grid": [2, 2]}))
    with h5py.File(tmp_path / "s" / CELLS_FILE, "r+") as f:
        del f["v0"]
        f.create_dataset("v0", data=np.ones((3, 4), np.float32)).attrs["video"] = "a.avi"
    with pytest.raises(ScoresError, match="3 rows of cell scores for 4 segments"):
        read_scores(tmp_path / "s")


def _replace_cells(folder, data):
    with h5py.File(folder / CELLS_FILE, "r+") as f:
        del f["v0"]
        f.create_dataset("v0", data=data).attrs["video"] = "a.avi"


@pytest.mark.parametrize("data, says", [
    (np.ones((4, 8)), r"'a\.avi'.*shape \(4, 8\), expected \(4, 4\) for a 2x2 grid"),
    (np.ones(4), r"'a\.avi'.*shape \(4,\), expected \(4, 4\) for a 2x2 grid"),
    (np.where(np.arange(16).reshape(4, 4) == 7, np.nan, 1.0), r"'a\.avi', clip 1: the score of cell 1:1 is nan"),
])
def test_cells_of_another_grid_or_not_finite_are_refused_naming_file_and_video(tmp_path, data, says):
    """A cells.h5 edited or from elsewhere: the report crashed in numpy's reshape naming nothing, or
    (NaN) drew an empty heat map under a meaningless colour bar."""
    write_scores(tmp_path / "s", ScoreSet([_video("a.avi", 4, np.ones((4, 4)))], {"cell_grid": [2, 2]}))
    _replace_cells(tmp_path / "s", data)
    with pytest.raises(ScoresError, match=f"cells.h5: video {says}"):
        read_scores(tmp_path / "s")
    assert [d["video"] for d in read_scores(tmp_path / "s", damaged="leave").damaged] == ["a.avi"]


def test_cells_not_finite_are_not_written(tmp_path):
    cells = np.ones((4, 4))
    cells[2, 3] = np.inf
    with pytest.raises(ScoresError, match=r"video 'a.avi', clip 2: the score of cell 1:1 is inf"):
        write_scores(tmp_path / "s", ScoreSet([_video("a.avi", 4, cells)], {"cell_grid": [2, 2]}))


def test_scene_cuts_round_trip_and_stay_absent_where_not_recorded(tmp_path):
    edited, plain = _video("edited.mp4", 4), _video("plain.avi", 3)
    edited.scene_cuts, edited.scene_cut_frames = 2, [17, 40]
    write_scores(tmp_path / "s", ScoreSet([edited, plain], {}))
    back = {v.video: v for v in read_scores(tmp_path / "s")}
    assert back["edited.mp4"].scene_cuts == 2 and back["plain.avi"].scene_cuts is None
    assert back["edited.mp4"].scene_cut_frames == [17, 40] and back["plain.avi"].scene_cut_frames is None


@pytest.mark.parametrize("ignored", [[99], [-1], ["0:0"], "3", [1.5]])
def test_a_groups_ignored_cells_outside_the_grid_are_refused_naming_the_group(tmp_path, ignored):
    """A hand-edited `ignored_cells` (hatched on the report's heat maps) stopped the report in an
    IndexError of the heat map, or took "0:0" for a cell number."""
    import json

    write_scores(tmp_path / "s", ScoreSet([_video("a.avi", 4, np.ones((4, 4)))],
                                          {"cell_grid": [2, 2], "groups": [{"group": "all", "ignored_cells": [3]}]}))
    assert read_scores(tmp_path / "s").groups[0]["ignored_cells"] == [3]
    run = tmp_path / "s" / "run.json"
    meta = json.loads(run.read_text())
    meta["groups"][0]["ignored_cells"] = ignored
    run.write_text(json.dumps(meta))
    with pytest.raises(ScoresError, match=r"run\.json: group 'all': 'ignored_cells' must be a list of "
                                          r"cell numbers 0-3 of its 2x2 grid, got"):
        read_scores(tmp_path / "s")


@pytest.mark.parametrize("region", ["x", [0, 0, 2, 1], [0.5, 0, 0.2, 1], [0, 0, 1], [False, False, True, True],
                                    ["0", "0", "1", "1"]])
def test_a_run_cell_region_that_is_no_part_of_the_frame_is_refused_naming_the_file(tmp_path, region):
    """A hand-edited run-wide cell_region (where the heat maps go for a video without its own) stopped
    the report in "could not convert string to float" naming nothing, or drew the grid off the frame."""
    import json

    write_scores(tmp_path / "s", ScoreSet([_video("a.avi", 4, np.ones((4, 4)))],
                                          {"cell_grid": [2, 2], "cell_region": [0.1, 0, 0.9, 1]}))
    assert read_scores(tmp_path / "s").meta["cell_region"] == [0.1, 0, 0.9, 1]
    run = tmp_path / "s" / "run.json"
    meta = json.loads(run.read_text())
    meta["cell_region"] = region
    run.write_text(json.dumps(meta))
    with pytest.raises(ScoresError, match=r"run\.json: 'cell_region' must be \[x0, y0, x1, y1\] in fractions"):
        read_scores(tmp_path / "s")


@pytest.mark.parametrize("grid", [[4], "x", [0, 4], [2, 2.5], [True, 2]])
def test_a_run_cell_grid_that_is_no_grid_is_refused_naming_the_file(tmp_path, grid):
    """A hand-edited cell_grid stopped every reader in an IndexError or int()'s words, naming nothing
    (with no cells.h5 to compare it with), or was taken as a grid of no rows."""
    import json

    write_scores(tmp_path / "s", ScoreSet([_video("a.avi", 4)], {"cell_grid": [2, 2]}))
    run = tmp_path / "s" / "run.json"
    meta = json.loads(run.read_text())
    meta["cell_grid"] = grid
    run.write_text(json.dumps(meta))
    with pytest.raises(ScoresError, match=r"run\.json: 'cell_grid' must be \[rows, columns\]"):
        read_scores(tmp_path / "s").cell_grid

