"""KDDCUP99: the DAGMM preprocessing against the shared npz, the split protocol, the benchmark."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from videoad.bench import kddcup as bench
from videoad.datasets.kddcup import contamination_split, load_kddcup, load_kddcup_npz, load_kddcup_raw
from _paths import shared  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def npz():
    return load_kddcup_npz(shared("kddcup99", "kdd_cup.npz"))


def test_raw_preprocessing_matches_the_dagmm_npz(npz):
    X_npz, y_npz = npz
    X, y = load_kddcup_raw(shared("kddcup99", "kddcup.data_10_percent.gz"))
    assert X.shape == X_npz.shape == (494021, 118)
    np.testing.assert_allclose(X, X_npz, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(y, y_npz)
    assert y.sum() == 97278  # `normal.` rows: the anomaly class


def test_loader_dispatch_and_errors(tmp_path, npz):
    X, y = load_kddcup(shared("kddcup99", "kdd_cup.npz"))
    assert X.shape[1] == 118 and set(np.unique(y)) == {0, 1}
    bad = tmp_path / "short.csv"
    bad.write_text("0,tcp,http,SF,1,2\n")
    with pytest.raises(ValueError, match=r"short.csv:1: expected 42"):
        load_kddcup_raw(bad)
    with pytest.raises(ValueError, match="no such file"):
        load_kddcup(tmp_path / "missing.npz")


def test_damaged_inputs_are_named_errors_not_aborts(tmp_path):
    """A download cut short made Click print a bare "Aborted!" (gzip's EOFError); a cut .npz, a
    1-D array, an upper-case suffix, a file of 'normal.' records alone and a non-number gave
    tracebacks or named no record."""
    import gzip

    from click.testing import CliRunner

    from videoad.cli import cli

    raw = shared("kddcup99", "kddcup.data_10_percent.gz").read_bytes()
    (tmp_path / "cut.gz").write_bytes(raw[:3000])
    with pytest.raises(ValueError, match=r"cut.gz: truncated or corrupt gzip"):
        load_kddcup(tmp_path / "cut.gz")
    res = CliRunner().invoke(cli, ["bench", "kddcup", "--quick", "--data", str(tmp_path / "cut.gz"),
                                   "-o", str(tmp_path / "bk")])
    assert res.exit_code != 0 and "cut.gz: truncated or corrupt gzip" in res.output and "Aborted" not in res.output
    (tmp_path / "cut.npz").write_bytes(shared("kddcup99", "kdd_cup.npz").read_bytes()[:5000])
    with pytest.raises(ValueError, match=r"cut.npz: not a readable .npz file"):
        load_kddcup(tmp_path / "cut.npz")
    np.savez(tmp_path / "flat.npz", kdd=np.arange(5.0))
    with pytest.raises(ValueError, match=r"flat.npz: 'kdd' must be a table"):
        load_kddcup(tmp_path / "flat.npz")
    np.savez(tmp_path / "upper.npz", kdd=np.c_[np.ones((4, 3)), [0, 1, 0, 1]])
    (tmp_path / "upper.npz").rename(tmp_path / "UPPER.NPZ")
    X, y = load_kddcup(tmp_path / "UPPER.NPZ")
    assert X.shape == (4, 3) and y.tolist() == [0, 1, 0, 1]
    lines = gzip.decompress(raw).decode().splitlines()[:2000]
    normal_only = [x for x in lines if x.endswith("normal.")][:20]
    (tmp_path / "normal.csv").write_text("\n".join(normal_only) + "\n")
    with pytest.raises(ValueError, match=r"normal.csv: no attack records"):
        load_kddcup(tmp_path / "normal.csv")
    fields = lines[5].split(",")
    fields[4] = "lots"
    (tmp_path / "word.csv").write_text("\n".join(lines[:5] + [",".join(fields)]) + "\n")
    with pytest.raises(ValueError, match=r"word.csv: record 6, column 5: 'lots' is not a number"):
        load_kddcup(tmp_path / "word.csv")
    with pytest.raises(ValueError, match="no majority-class"):
        contamination_split(np.ones((10, 2)), np.ones(10, np.int64), 0.2, 0)
    fields[4] = "nan"
    (tmp_path / "nan.csv").write_text("\n".join(lines[:5] + [",".join(fields)]) + "\n")
    with pytest.raises(ValueError, match=r"nan.csv: record 6, column 5: 'nan' is not a finite number"):
        load_kddcup(tmp_path / "nan.csv")


def test_an_npz_whose_label_column_or_values_are_wrong_is_named(tmp_path):
    """Labels 0/2, fractions or NaN were cast to integers in silence (0.25 -> 0), then the split
    said there was no label-0 row when label-1 rows were missing; NaN features surfaced as the
    detector's error about a training split row; a pickled or text file quoted numpy's advice to
    load it unsafely, without the file's name."""
    rng = np.random.default_rng(0)
    X = rng.random((40, 3))
    cases = {"two": np.r_[np.zeros(30), np.full(10, 2.0)], "frac": np.r_[np.zeros(30), np.full(10, 0.25)],
             "nanlabel": np.r_[np.zeros(39), np.nan]}
    for name, label in cases.items():
        np.savez(tmp_path / f"{name}.npz", kdd=np.c_[X, label])
        with pytest.raises(ValueError, match=rf"{name}.npz: the last column of 'kdd' is the label, 0 .* or 1"):
            load_kddcup(tmp_path / f"{name}.npz")
    bad = np.c_[X, np.r_[np.zeros(30), np.ones(10)]]
    bad[7, 2] = np.inf
    np.savez(tmp_path / "inf.npz", kdd=bad)
    with pytest.raises(ValueError, match=r"inf.npz: 'kdd' has 1 values that are NaN or infinite .*row 7, column 2"):
        load_kddcup(tmp_path / "inf.npz")
    np.savez(tmp_path / "objects.npz", kdd=np.array([[1, "a"]], dtype=object))
    with pytest.raises(ValueError, match=r"objects.npz: it holds pickled objects, which are never loaded") as err:
        load_kddcup(tmp_path / "objects.npz")
    assert "unsafely" not in str(err.value)
    (tmp_path / "text.npz").write_text("not an archive\n")
    with pytest.raises(ValueError, match=r"text.npz: not an .npz archive"):
        load_kddcup(tmp_path / "text.npz")
    np.savez(tmp_path / "attacks.npz", kdd=np.c_[X, np.zeros(40)])
    X0, y0 = load_kddcup(tmp_path / "attacks.npz")
    with pytest.raises(ValueError, match=r"no anomaly \(label 1\) row in the training half"):
        contamination_split(X0, y0, 0.2, 0)


@pytest.mark.parametrize("c", [0.05, 0.10, 0.20])
def test_contamination_split(npz, c):
    X, y = npz
    s = contamination_split(X, y, c, seed=0)
    assert abs(s.y_train.mean() - c) < 1e-3
    assert s.X_test.shape[0] == X.shape[0] // 2
    assert abs(s.y_test.mean() - y.mean()) < 0.01  # the test half keeps the natural ratio
    again = contamination_split(X, y, c, seed=0)
    np.testing.assert_array_equal(s.y_train, again.y_train)


def test_config_file_equals_the_builtin_defaults():
    with open(REPO / "configs" / "kddcup.yaml") as fh:
        assert yaml.safe_load(fh) == bench.DEFAULT_CONFIG == bench.load_config(None)


def test_bench_runs_every_method_and_writes_results(tmp_path, npz):
    X, y = npz
    idx = np.random.default_rng(0).choice(X.shape[0], 6000, replace=False)
    small = tmp_path / "small.npz"
    np.savez(small, kdd=np.concatenate([X[idx], y[idx, None]], axis=1))
    cfg = bench.load_config(None)
    cfg["contaminations"] = [0.1]
    cfg["variants"] = {"DUAD (paper rule: components)": {"selection": "component", "reselection": "component"}}
    cfg["quick"]["fraction"] = 1.0
    cfg["quick"]["baselines"]["DAGMM"]["epochs"] = 2
    rows = bench.run(small, seeds=1, quick=True, cfg=cfg, out=tmp_path, command="test")
    methods = {r["method"] for r in rows}
    assert methods == {"DUAD", "DUAD (paper rule: components)", "PCA-4", "IsolationForest", "OC-SVM", "DAGMM"}
    payload = json.loads((tmp_path / "kddcup_quick.json").read_text())
    assert payload["protocol"].startswith("KDDCUP99")
    # the libraries a fit's arithmetic depends on are recorded beside the numbers
    import sklearn
    assert payload["env"]["scikit-learn"] == sklearn.__version__ and payload["env"]["numpy"] == np.__version__
    duad = [r for r in payload["records"] if r["method"] == "DUAD"][0]
    assert 0 <= duad["extra"]["purity"][0]["anomaly_share"] <= 1
    # the shipped settings restart a fit that did not settle, and the record lists both attempts
    assert cfg["duad"]["restarts"] == 1
    attempts = duad["extra"].get("attempts")
    if attempts is None:
        assert duad["extra"]["stop_reason"] == "converged"
    else:
        assert len(attempts) == 2 and attempts[0]["stop_reason"] == "max_reselections"
        assert attempts[1]["seed"] == attempts[0]["seed"] + 1000
        assert any(a["kept"] for a in attempts)
    assert all(50 < r["auroc_mean"] <= 100 for r in rows if r["method"] == "PCA-4")
    assert "| 10% | DUAD |" in (tmp_path / "kddcup_quick.md").read_text()
    # what a number needs to be reproduced: the source's version and commit, the data file read
    assert payload["complete"] is True and not list(tmp_path.glob("*.partial.*"))
    assert payload["env"]["videoad"] and "videoad_commit" in payload["env"]
    # and the processor, which a fit's rounding follows (the same libraries gave another seed's fit on another)
    assert payload["env"]["cpu"] and payload["env"]["cpu"].split(",")[0] in Path("/proc/cpuinfo").read_text()
    (data,) = payload["data"]
    assert data["path"] == str(small.resolve()) and len(data["sha256"]) == 64


def test_an_interrupted_bench_keeps_the_earlier_complete_results(tmp_path, npz, monkeypatch):
    """Ctrl-C after the first split replaced a complete earlier kddcup_quick.json / .md with the
    split it finished, unmarked."""
    from videoad.baselines.sklearn_baselines import PCARecon

    X, y = npz
    idx = np.random.default_rng(0).choice(X.shape[0], 4000, replace=False)
    small = tmp_path / "small.npz"
    np.savez(small, kdd=np.concatenate([X[idx], y[idx, None]], axis=1))
    cfg = bench.load_config(None)
    cfg["contaminations"] = [0.1, 0.2]
    cfg["quick"]["fraction"] = 1.0
    monkeypatch.setattr(bench, "method_factories", lambda cfg, seed: {"PCA-4": lambda: PCARecon(4)})
    out = tmp_path / "out"
    bench.run(small, seeds=1, quick=True, cfg=cfg, out=out, command="first")
    complete = (out / "kddcup_quick.json").read_text()
    fits = []
    real = bench.timed_fit

    def interrupted(make, X):
        fits.append(1)
        if len(fits) == 2:
            raise KeyboardInterrupt
        return real(make, X)

    monkeypatch.setattr(bench, "timed_fit", interrupted)
    with pytest.raises(KeyboardInterrupt):
        bench.run(small, seeds=1, quick=True, cfg=cfg, out=out, command="second")
    assert (out / "kddcup_quick.json").read_text() == complete
    partial = json.loads((out / "kddcup_quick.partial.json").read_text())
    assert partial["complete"] is False and partial["command"] == "second" and len(partial["records"]) == 1
    assert "**INCOMPLETE**" in (out / "kddcup_quick.partial.md").read_text()


def test_the_recorded_commit_is_videoads_own_never_another_projects(tmp_path):
    """An install inside another project's work tree (a .venv in the user's repo) recorded that
    project's HEAD as videoad's commit."""
    import shutil
    import subprocess
    import sys

    proj = tmp_path / "proj"
    site = proj / ".venv" / "site-packages"
    shutil.copytree(REPO / "videoad", site / "videoad", ignore=shutil.ignore_patterns("__pycache__"))
    (proj / ".gitignore").write_text(".venv/\n")
    for args in (["init", "-q"], ["add", ".gitignore"],
                 ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "theirs"]):
        subprocess.run(["git", "-C", str(proj), *args], check=True, capture_output=True)
    code = "from videoad.bench.common import _commit; print(repr(_commit()))"
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                         env={**__import__("os").environ, "PYTHONPATH": str(site)})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "None"


def test_an_output_folder_under_a_file_is_refused_before_any_fit(tmp_path):
    """`-o afile/sub` failed with a NotADirectoryError traceback after the first split's fits
    (bench kddcup) or the images' fits; now refused first, named."""
    from click.testing import CliRunner

    from videoad.cli import cli

    (tmp_path / "afile").write_text("")
    for args in (["kddcup", "--quick", "--data", str(shared("kddcup99", "kdd_cup.npz"))],
                 ["images", "--datasets", "mnist", "--tables", "4", "--quick", "--data", str(shared("mnist"))]):
        res = CliRunner().invoke(cli, ["bench", *args, "-o", str(tmp_path / "afile" / "sub")])
        assert res.exit_code == 2 and "afile' is a file, not a folder" in res.output, res.output
        assert "Traceback" not in res.output and "AUROC" not in res.output


def test_a_full_disk_at_the_results_write_is_named_not_a_traceback(tmp_path, npz, monkeypatch):
    """A disk that filled while the results were written gave OutputError's traceback (the bench
    commands turned only ValueError into a message); now the file and the problem, exit 1."""
    import errno
    import os

    from click.testing import CliRunner

    from videoad.baselines.sklearn_baselines import PCARecon
    from videoad.cli import cli

    X, y = npz
    idx = np.random.default_rng(0).choice(X.shape[0], 3000, replace=False)
    small = tmp_path / "small.npz"
    np.savez(small, kdd=np.concatenate([X[idx], y[idx, None]], axis=1))
    monkeypatch.setattr(bench, "method_factories", lambda cfg, seed: {"PCA-4": lambda: PCARecon(4)})

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    res = CliRunner().invoke(cli, ["bench", "kddcup", "--quick", "--data", str(small), "-o", str(tmp_path / "out")])
    assert res.exit_code == 1 and not isinstance(res.exception, OSError), res.output
    assert "kddcup_quick.partial.json: no space left" in res.output.lower().replace("\n", " "), res.output


def test_spreadsheet_exports_of_the_records_read_as_the_file_itself(tmp_path):
    """A CSV saved by a spreadsheet (a byte-order mark, ", " between fields) failed as "'\\ufeff0' is
    not a number", or read every label as " normal.", none an anomaly, and failed at the split with
    an error naming no file; a header line and a file of attacks alone are named as such."""
    import gzip

    lines = gzip.decompress(shared("kddcup99", "kddcup.data_10_percent.gz").read_bytes()).decode().splitlines()
    lines = lines[:300] + [x for x in lines[300:3000] if not x.endswith("normal.")][:60]
    (tmp_path / "plain.csv").write_text("\n".join(lines) + "\n")
    X, y = load_kddcup(tmp_path / "plain.csv")
    assert 0 < y.sum() < len(y)
    (tmp_path / "bom.csv").write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    (tmp_path / "spaced.csv").write_text("\n".join(x.replace(",", ", ") for x in lines) + "\n")
    for name in ("bom.csv", "spaced.csv"):
        X2, y2 = load_kddcup(tmp_path / name)
        assert np.array_equal(X2, X) and np.array_equal(y2, y), name
    (tmp_path / "header.csv").write_text(",".join(f"c{i}" for i in range(42)) + "\n" + "\n".join(lines) + "\n")
    with pytest.raises(ValueError, match=r"header.csv: record 1, column 1: 'c0' is not a number \(a header line"):
        load_kddcup(tmp_path / "header.csv")
    (tmp_path / "attacks.csv").write_text("\n".join(x for x in lines if not x.endswith("normal.")) + "\n")
    with pytest.raises(ValueError, match=r"attacks.csv: no record is labelled 'normal.'"):
        load_kddcup(tmp_path / "attacks.csv")
