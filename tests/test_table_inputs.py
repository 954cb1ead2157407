"""`videoad table` on inputs from the wild: CSVs as Excel and other tools write them (delimiters,
decimal commas, encodings, blank lines, trailing delimiters, missing-value marks, labels not 0/1),
arrays numpy holds otherwise, folders of pictures with other things in them, and output folders
that hold what the command did not write. Each is read as meant where that is unambiguous, else
refused naming the file and the place."""
from __future__ import annotations

import csv
import json
import shutil

import numpy as np
import pytest
from click.testing import CliRunner

from videoad import table as tb
from videoad.cli import cli


def run(*args):
    return CliRunner().invoke(cli, ["table", *map(str, args)], catch_exceptions=False)


def write(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


def refused(path, *parts, **kw):
    with pytest.raises(tb.TableError) as info:
        tb.read_rows(path, **kw)
    msg = str(info.value)
    assert msg.startswith(f"{path}:"), msg
    for part in parts:
        assert part in msg, msg
    return msg


def test_decimal_commas_read_where_unambiguous(tmp_path):
    rows = tb.read_rows(write(tmp_path / "de.csv", "a;b\n1,5;2\n3,25;-4\n"))
    assert rows.X.tolist() == [[1.5, 2.0], [3.25, -4.0]]
    assert any("decimal commas" in n and "'a'" in n for n in rows.notes)
    rows = tb.read_rows(write(tmp_path / "quoted.csv", 'a,b\n"1,5",2\n"1,500",4\n'))  # "1,5" beside it: decimal
    assert rows.X[:, 0].tolist() == [1.5, 1.5]


@pytest.mark.parametrize("text, shown", [
    ('a,b\n"1,000",2\n"3,250",4\n', "'1,000'"),            # thousands or decimal: not guessed
    ("a;b\n1 000;2\n3;4\n", "'1 000'"),
    ("a;b\n1.000,5;2\n3;4\n", "'1.000,5'"),
])
def test_thousands_separators_refused_saying_how(tmp_path, text, shown):
    path = write(tmp_path / "t.csv", text)
    refused(path, f"column 'a' holds {shown} (data row 1 (line 2))", "decimal point and no thousands separator")


def test_decimal_commas_beside_points_refused(tmp_path):
    path = write(tmp_path / "mix.csv", "a;b\n1,5;2.5\n3,5;4\n")
    refused(path, "column 'a' writes a decimal comma ('1,5', data row 1 (line 2))", "column 'b' a point ('2.5'")


def test_underscored_codes_are_not_numbers(tmp_path):
    path = write(tmp_path / "u.csv", "a,b\n2023_01,2\n2023_02,4\n")  # float("2023_01") == 202301.0
    refused(path, "column 'a' holds text ('2023_01'")


def test_trailing_delimiter_column_left_out_and_blank_lines_counted(tmp_path):
    rows = tb.read_rows(write(tmp_path / "x.csv", "a;b;\r\n1;2;\r\n\r\n3;4;\r\n"))
    assert rows.columns == ["a", "b"] and rows.X.tolist() == [[1, 2], [3, 4]]
    assert any("no name and no value" in n for n in rows.notes)
    path = write(tmp_path / "named.csv", "a,\n1,2\n3,4\n")
    refused(path, "column 2 of the header has no name but holds values")
    path = write(tmp_path / "pandas.csv", ",a\n0,2\n1,4\n")
    refused(path, "column 1 of the header has no name", "index=False")
    # the line of a row after blank lines is its line in the file
    path = write(tmp_path / "gap.csv", "a,b\n\n\n1,2\n3,x\n")
    refused(path, "'x' at data row 2 (line 5)")


def test_header_of_numbers_refused(tmp_path):
    path = write(tmp_path / "nohead.csv", "5,6\n1,2\n3,4\n")  # the first row was taken as names, then lost
    refused(path, "the header (line 1) is numbers ('5', '6')", "add a header line")
    assert tb.read_rows(write(tmp_path / "idx.csv", "0,1\n1,2\n3,4\n")).columns == ["0", "1"]  # pandas' names


def test_encodings(tmp_path):
    rows = tb.read_rows(write(tmp_path / "u16.csv", "a\tb\n1\t2\n3\t4\n", "utf-16"))  # Excel's "Unicode text"
    assert rows.X.tolist() == [[1, 2], [3, 4]]
    path = write(tmp_path / "latin.csv", "name,b\nx,2\ncafé,4\n", "latin-1")
    refused(path, "line 3 is not UTF-8 text", "save the file as UTF-8", id_column="name")


def test_missing_values_named_as_missing(tmp_path):
    path = write(tmp_path / "kdd.csv", "a,b,c\n1,?,3\n2,5,NA\n3,?,4\n")
    refused(path, "data row 1 (line 2), column 'b' is missing ('?') (2 such rows); 3 rows in all")
    path = write(tmp_path / "empty.csv", "a,b\n1,\n2,NA\n")
    refused(path, "column 'b' is empty in every row", "leave the column out")


def test_labels(tmp_path):
    rows = tb.read_rows(write(tmp_path / "b.csv", "a,y\n1,True\n2,false\n"), label_column="y")
    assert rows.labels.tolist() == [1, 0]
    refused(write(tmp_path / "pm.csv", "a,y\n1,-1\n2,1\n"), "its values: '-1', '1'", "scikit-learn",
            label_column="y")
    refused(write(tmp_path / "w.csv", "a,y\n1,normal\n2,attack\n"), "its values: 'attack', 'normal'",
            "is not guessed", label_column="y")
    rows = tb.read_rows(write(tmp_path / "id.csv", "id,a\nx,1\nx,2\n"), id_column="id")
    assert any("names some rows alike (e.g. 'x')" in n for n in rows.notes)


def test_big_csv_is_not_held_as_text(tmp_path, monkeypatch):
    """Read in blocks: the rows' text is converted a block at a time (before: every cell held as a
    Python string twice, 3.2 GB to read a 500 MB CSV; benchmarks in the report)."""
    monkeypatch.setattr(tb, "CHUNK_CELLS", 8)
    X = np.random.default_rng(0).normal(size=(50, 3))
    path = tmp_path / "big.csv"
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["a", "b", "c"])
        w.writerows([repr(float(v)) for v in r] for r in X)
        fh.write("1,?,2\n")
    made = []
    real = tb._block
    monkeypatch.setattr(tb, "_block", lambda chunk, *a: made.append(len(chunk)) or real(chunk, *a))
    refused(path, "data row 51 (line 52), column 'b' is missing ('?')")
    assert max(made) <= 3 and sum(made) == 51
    path.write_text(path.read_text().replace("1,?,2\n", ""))
    assert np.array_equal(tb.read_rows(path).X, X)


def test_arrays(tmp_path):
    s = tmp_path / "s.npy"
    np.save(s, np.zeros(3, dtype=[("a", "f8"), ("b", "i4")]))
    refused(s, "a structured array (fields 'a', 'b')")
    t = write(tmp_path / "t.npy", "a,b\n1,2\n")
    refused(t, "not a .npy file")
    for arr in (np.ones((4, 2), np.float16), np.arange(8).reshape(4, 2), np.eye(3, dtype=bool)):
        np.save(tmp_path / "a.npy", arr)
        assert np.array_equal(tb.read_rows(tmp_path / "a.npy").X, arr.astype(np.float64))
    np.savez(tmp_path / "p.npz", x=np.array([{"a": 1}, None], dtype=object))
    refused(tmp_path / "p.npz", "without pickle")


def test_pictures_say_what_they_leave_out(tmp_path):
    from PIL import Image

    folder = tmp_path / "pics"
    (folder / "sub").mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(3):
        Image.fromarray(rng.integers(0, 255, (5, 5, 4)).astype(np.uint8), "RGBA").save(folder / f"p{i}.png")
    Image.new("L", (5, 5)).save(folder / "sub" / "deep.png")
    (folder / "notes.txt").write_text("x")
    (folder / "x.tif").write_bytes(b"II*\0")
    (folder / ".DS_Store").write_bytes(b"\0")
    rows = tb.read_rows(folder)
    assert rows.ids == ["p0.png", "p1.png", "p2.png"]
    notes = " | ".join(rows.notes)
    assert "2 file(s) not read" in notes and "'notes.txt', 'x.tif'" in notes and ".DS_Store" not in notes
    assert "1 subfolder(s) not read" in notes and "3 picture(s) with transparency" in notes


def small(path, n=40):
    X = np.random.default_rng(0).normal(size=(n, 3))
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["a", "b", "c"])
        w.writerows(X.round(4).tolist())
    return path


def test_output_never_overwrites_what_it_did_not_write(tmp_path):
    t = small(tmp_path / "t.csv")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "scores.csv").write_text("my own\n")
    res = run(t, "-o", mine)
    assert res.exit_code == 2 and "holds scores.csv that `videoad table` did not write" in res.output
    assert (mine / "scores.csv").read_text() == "my own\n"
    data = tmp_path / "data"
    data.mkdir()
    inp = small(data / "scores.csv")
    before = inp.read_bytes()
    res = run(inp, "-o", data)
    assert res.exit_code == 2 and f"INPUT {inp} is one of the files written there" in res.output
    assert inp.read_bytes() == before


def test_damaged_model_and_other_columns_named(tmp_path):
    t = small(tmp_path / "t.csv")
    assert run(t, "-o", tmp_path / "o", "--save-model", tmp_path / "m").exit_code == 0
    shutil.copytree(tmp_path / "m", tmp_path / "m2")
    index = json.loads((tmp_path / "m2" / "table_model.json").read_text())
    del index["columns_in"]
    (tmp_path / "m2" / "table_model.json").write_text(json.dumps(index))
    res = run(t, "-o", tmp_path / "o2", "--model", tmp_path / "m2")
    assert res.exit_code == 1 and "table_model.json: damaged, without 'columns_in'" in res.output
    other = write(tmp_path / "other.csv", "a,b,d\n" + "".join(f"{i},{i % 7},{i % 3}\n" for i in range(40)))
    res = run(t, "-o", tmp_path / "o3", "--fit-on", other)
    assert res.exit_code == 1
    assert f"its columns are not those the model was fitted on: missing 'd'; not fitted 'c' (the fitted rows: {other})" \
        in res.output
