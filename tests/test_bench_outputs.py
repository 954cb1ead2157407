"""`videoad bench ...`: where the results go, what they say, and what a config may name.

Each test runs in seconds: the refusals come before any data is read, the runs use a few hundred
synthetic rows and the cheapest detectors."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from videoad.cli import cli


def _bench(*args):
    return CliRunner().invoke(cli, ["bench", *map(str, args)])


def _data_tree(root: Path) -> Path:
    """A folder laid out like shared/data; the files are never read before the refusal."""
    (root / "kddcup99").mkdir(parents=True)
    (root / "kddcup99" / "kdd_cup.npz").write_bytes(b"not read")
    (root / "mnist").mkdir()
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        (root / "mnist" / name).write_bytes(b"not read")
    return root


def _scores_folder(p: Path) -> Path:
    p.mkdir()
    (p / "segments.csv").write_text("video,clip,score\n")
    (p / "run.json").write_text("{}")
    return p


def _model_folder(p: Path) -> Path:
    p.mkdir()
    (p / "models.json").write_text("{}")
    return p


@pytest.mark.parametrize("command", [
    ["kddcup", "--quick"],
    ["images", "--quick", "--datasets", "mnist", "--tables", "4"],
    ["scale", "--datasets", "kdd", "--methods", "pca", "--rows", "1000"],
])
def test_results_are_not_written_into_another_outputs_folder_or_the_data(tmp_path, command):
    """`-o SCORES` (or a model folder, or the data folder itself) wrote kddcup_quick.json and .md
    in among the scores, the models or the data files, exit 0; the other commands refuse an
    output that is an input or another kind's folder."""
    data = _data_tree(tmp_path / "data")
    dataset = data / ("mnist" if command[0] == "images" else "kddcup99")
    for out in (_scores_folder(tmp_path / "scores"), _model_folder(tmp_path / "models"), data, dataset):
        before = sorted(p.name for p in out.iterdir())
        res = _bench(*command, "--data", data, "-o", out)
        assert res.exit_code == 2, res.output  # a usage error, as in every command
        assert f"-o {out} " in res.output and "give another folder" in res.output, res.output
        assert "AUROC" not in res.output and "Traceback" not in res.output
        assert sorted(p.name for p in out.iterdir()) == before  # nothing written there
    # the data file itself given: its folder is refused too, a folder of one's own is not
    if command[0] == "kddcup":
        res = _bench(*command, "--data", dataset / "kdd_cup.npz", "-o", dataset)
        assert res.exit_code == 2 and "the folder of the data file kdd_cup.npz" in res.output, res.output
        res = _bench(*command, "--data", dataset / "kdd_cup.npz", "-o", tmp_path / "results")
        assert "give another folder" not in res.output
        assert "kdd_cup.npz" in res.output  # it went on to read the (fake) file, and named it


@pytest.mark.parametrize("row, images_row", [("DUAD", "DUAD"), ("PCA-4", "PCA"), ("IsolationForest", "kNN")])
def test_a_variant_named_as_another_row_is_refused_naming_the_file(tmp_path, row, images_row):
    """`variants: {DUAD: {lr: 0.01}}` replaced DUAD's own row by the variant (its figures reported
    as DUAD's), and `variants: {PCA-4: ...}` was replaced by the baseline: one row of the table
    fewer, in silence."""
    from videoad.bench import images, kddcup

    cfg = tmp_path / "mine.yaml"
    cfg.write_text(f"variants:\n  {row}: {{lr: 0.01}}\n")
    with pytest.raises(ValueError, match=rf"mine.yaml: variants: {row}: that is the name of"):
        kddcup.load_config(cfg)
    res = _bench("kddcup", "--config", cfg, "--print-config")
    assert res.exit_code == 1 and f"variants: {row}: that is the name of" in res.output, res.output
    # the images' configs too (here in their quick overrides), and a name of its own is taken
    mnist = images.default_config_path("mnist").read_text()
    assert "\nquick:\n" in mnist
    variant = f"\nquick:\n  variants:\n    {images_row}: {{lr: 0.01}}\n"
    (tmp_path / "m.yaml").write_text(mnist.replace("\nquick:\n", variant))
    with pytest.raises(ValueError, match=rf"m.yaml: quick: variants: {images_row}: that is the name of"):
        images.load_config(tmp_path / "m.yaml")
    cfg.write_text(f"variants:\n  {row} with lr 0.01: {{lr: 0.01}}\n")
    assert f"{row} with lr 0.01" in kddcup.load_config(cfg)["variants"]



def test_ours_is_compared_with_the_baselines_not_with_its_own_variants(tmp_path):
    """The Markdown's "Ours against the best baseline" told variants from baselines by the name
    ("DUAD..."): a researcher's variant named `fast lr` was cited as the best baseline DUAD lost
    to, and a baseline row named `DUADish kNN` was never compared."""
    from videoad.bench.common import Record, summarise, write_results

    def records(figures):
        return [Record("10%", method, 0, auroc, auroc, 1.0) for method, auroc in figures.items()]

    config = {"variants": {"fast lr": {"lr": 0.01}, "DUAD (one fit)": {"restarts": 0}}}
    recs = records({"DUAD": 90.0, "fast lr": 95.0, "DUAD (one fit)": 96.0, "PCA-4": 80.0})
    _, md = write_results(tmp_path, "t", "protocol", "cmd", config, recs, summarise(recs))
    text = md.read_text()
    assert "- 10%: DUAD AUROC 90.00 beats best baseline PCA-4 80.00" in text, text
    assert "fast lr 95" not in text and "LOSES" not in text
    recs = records({"DUAD": 90.0, "fast lr": 95.0, "DUADish kNN": 92.0, "PCA-4": 80.0})
    _, md = write_results(tmp_path, "t", "protocol", "cmd", config, recs, summarise(recs))
    assert "- 10%: DUAD AUROC 90.00 LOSES to best baseline DUADish kNN 92.00" in md.read_text()


def test_an_interrupted_scale_ladder_keeps_what_it_measured_and_the_earlier_complete_run(tmp_path, monkeypatch):
    """`bench scale` wrote nothing until its whole ladder (hours) was done: a kill lost every
    measurement; and scale.json / .md were written in place (a kill while writing left half a
    file under the final name). The README says a stopped `videoad bench` run leaves
    NAME.partial.json / .md beside the last complete run's files."""
    import json

    from videoad.bench import scale

    calls, stop_after = [], []

    def child(spec, timeout):
        calls.append(spec["method"])
        if stop_after and len(calls) > stop_after[0]:
            raise KeyboardInterrupt  # Ctrl-C (a kill leaves the same: nothing is written after)
        return {**spec, "status": "ok", "seconds": 1.0, "peak_rss": 2 << 20, "rss_before": 1 << 20, "data_bytes": 1}

    monkeypatch.setattr(scale, "run_child", child)

    def run(methods):
        return _bench("scale", "--datasets", "mix255", "--methods", methods, "--rows", "300", "-o", tmp_path)

    res = run("PCA,kNN")
    assert res.exit_code == 0, res.output
    complete_json, complete_md = (tmp_path / "scale.json").read_text(), (tmp_path / "scale.md").read_text()
    assert not list(tmp_path.glob("*.partial.*"))
    calls.clear()
    stop_after.append(1)  # the second run is stopped at its second measurement
    res = run("kNN,PCA")
    assert res.exit_code == 130 and calls == ["kNN", "PCA"], res.output  # Ctrl-C's status
    assert (tmp_path / "scale.json").read_text() == complete_json
    assert (tmp_path / "scale.md").read_text() == complete_md
    partial = json.loads((tmp_path / "scale.partial.json").read_text())
    assert partial["complete"] is False and [r["method"] for r in partial["results"]] == ["kNN"]
    assert "**INCOMPLETE**" in (tmp_path / "scale.partial.md").read_text()
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert json.loads(complete_json)["complete"] is True


def test_a_measuring_child_ends_when_bench_scale_is_killed(tmp_path):
    """A `bench scale` stopped by a kill left its measuring child (`--child SPEC`) fitting on,
    up to --timeout (30 min by default). Here the parent starts a child that would sleep for
    minutes, says its pid and is SIGKILLed; the child must be gone soon after."""
    import os
    import signal
    import subprocess
    import sys
    import time

    # the child's own entry point (`--child SPEC`), its measurement a long sleep
    child = ("import time; from videoad.bench import scale; "
             "scale.measure = lambda spec: (print('ready', flush=True), time.sleep(300)); "
             "scale.scale_cmd(['--child', '{}'])")
    parent = ("import subprocess, sys, time; "
              f"p = subprocess.Popen([sys.executable, '-c', {child!r}], stdout=subprocess.PIPE, text=True); "
              "p.stdout.readline(); print(p.pid, flush=True); time.sleep(300)")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(Path(__file__).resolve().parents[1]),
                                                                      os.environ.get("PYTHONPATH")]))}
    proc = subprocess.Popen([sys.executable, "-c", parent], stdout=subprocess.PIPE, text=True, env=env)
    try:
        pid = int(proc.stdout.readline())
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    deadline = time.monotonic() + 30  # a bound on a hang, not a measurement
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        try:
            os.waitpid(pid, os.WNOHANG)  # not ours: ChildProcessError; the kernel's init reaps it
        except ChildProcessError:
            pass
        time.sleep(0.05)
    else:
        os.kill(pid, signal.SIGKILL)
        pytest.fail("the measuring child outlived its killed parent")


def test_an_interrupted_images_table_keeps_its_finished_seeds_and_the_earlier_table(tmp_path, monkeypatch):
    """`bench images` wrote a table only when all its seeds were done: Ctrl-C or a kill in the
    fifth seed of Table 4 (hours in) lost the four before. The README says a stopped `videoad
    bench` run leaves NAME.partial.json / .md beside the last complete run's files."""
    import json

    from videoad.bench import images

    cfg = images.load_config(images.default_config_path("mnist"))
    cfg["dataset"] = {"name": "digits", "normal_class": 0, "anomaly_ratio": 0.1}  # scikit-learn's, no file
    monkeypatch.setattr(images, "_warm_up", lambda: None)
    monkeypatch.setattr(images, "method_factories", lambda cfg, seed: {"PCA": images._make("pca", {}, seed)})
    out = tmp_path / "out"
    images.run_dataset(cfg, ["4"], 2, out, "first")
    complete = (out / "images_digits_table4.json").read_text()
    fits = []
    real = images.timed_fit

    def interrupted(make, X):
        fits.append(1)
        if len(fits) == 3:  # the third seed's fit
            raise KeyboardInterrupt
        return real(make, X)

    monkeypatch.setattr(images, "timed_fit", interrupted)
    with pytest.raises(KeyboardInterrupt):
        images.run_dataset(cfg, ["4"], 3, out, "second")
    assert (out / "images_digits_table4.json").read_text() == complete
    partial = json.loads((out / "images_digits_table4.partial.json").read_text())
    assert partial["complete"] is False and partial["command"] == "second"
    assert [r["seed"] for r in partial["records"]] == [0, 1]
    assert "**INCOMPLETE**" in (out / "images_digits_table4.partial.md").read_text()
    # the rerun completes, and its complete table replaces the partial
    monkeypatch.setattr(images, "timed_fit", real)
    images.run_dataset(cfg, ["4"], 3, out, "third")
    assert not list(out.glob("*.partial.*"))
    assert json.loads((out / "images_digits_table4.json").read_text())["command"] == "third"


def test_a_second_run_writing_the_same_results_into_one_folder_is_refused(tmp_path, monkeypatch):
    """Two `bench` runs into one -o wrote over each other's partial files in turn, and the pair
    they left could be one run's JSON beside the other's Markdown; the other commands hold their
    output folder. Another benchmark's results in the same folder (the default
    benchmarks/results) are not held up."""
    import subprocess
    import sys

    from videoad.bench import scale

    monkeypatch.setattr(scale, "run_child", lambda spec, timeout: {
        **spec, "status": "ok", "seconds": 1.0, "peak_rss": 2 << 20, "rss_before": 1 << 20, "data_bytes": 1})
    holder = ("import sys, time; from pathlib import Path; from videoad.bench.common import results_lock\n"
              "with results_lock(Path(sys.argv[1]), ['scale'], 'videoad bench scale (the first)'):\n"
              "    print('held', flush=True); sys.stdin.read()")
    first = subprocess.Popen([sys.executable, "-c", holder, str(tmp_path)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    try:
        assert first.stdout.readline().strip() == "held"
        res = _bench("scale", "--datasets", "mix255", "--methods", "PCA", "--rows", "300", "-o", tmp_path)
        assert res.exit_code == 1, res.output
        assert "another videoad bench is writing scale.json / .md there now" in res.output
        assert f"pid {first.pid}, videoad bench scale (the first)" in res.output
        assert not (tmp_path / "scale.json").exists() and not list(tmp_path.glob("*.partial.*"))
        res = _bench("scale", "--datasets", "mix255", "--methods", "PCA", "--rows", "300", "--name", "other",
                     "-o", tmp_path)
        assert res.exit_code == 0 and (tmp_path / "other.json").is_file(), res.output
    finally:
        first.communicate("")
    res = _bench("scale", "--datasets", "mix255", "--methods", "PCA", "--rows", "300", "-o", tmp_path)
    assert res.exit_code == 0 and (tmp_path / "scale.json").is_file(), res.output


@pytest.mark.parametrize("command", ["kddcup", "images", "scale"])
def test_bench_help_says_the_exit_statuses_and_the_partial_files(command):
    """The bench commands' --help said nothing of their exit statuses (scale exits 1 when no
    measurement finished) nor of the partial files a stopped run leaves; detect, run and merge
    say theirs."""
    res = _bench(command, "--help")
    assert res.exit_code == 0
    text = " ".join(res.output.split())
    assert "Exit status: 0 done; 1 an error" in text and "2 a wrong option" in text and "130" in text
    assert ".partial.json" in text


def test_a_killed_runs_temporaries_are_cleared_and_a_living_writers_kept(tmp_path, monkeypatch):
    """A bench killed during an atomic write left its hidden `.NAME.<pid>-<id>.tmp` in the results
    folder for good (benchmarks/results gathered them); the next run clears those whose writer is
    gone, and leaves alone one a benchmark running beside it is writing."""
    import subprocess
    import sys

    from videoad.bench import scale

    monkeypatch.setattr(scale, "run_child", lambda spec, timeout: {
        **spec, "status": "ok", "seconds": 1.0, "peak_rss": 2 << 20, "rss_before": 1 << 20, "data_bytes": 1})
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    gone = tmp_path / f".scale.md.{int(dead.stdout)}-0123abcd.tmp"
    alive = tmp_path / f".kddcup.json.{os.getppid()}-89abcdef.tmp"
    for path in (gone, alive):
        path.write_text("half")
    res = _bench("scale", "--datasets", "mix255", "--methods", "PCA", "--rows", "300", "-o", tmp_path)
    assert res.exit_code == 0, res.output
    assert not gone.exists() and alive.read_text() == "half"


def test_a_data_folder_without_the_dataset_says_where_its_files_may_go(tmp_path):
    """`bench images --data EMPTY` said only that EMPTY lacks MNIST's t10k files, as if it had to be
    MNIST's own folder; a data folder holding mnist/ is the other way, and it went unsaid."""
    (tmp_path / "data").mkdir()
    res = _bench("images", "--quick", "--datasets", "mnist", "--tables", "4", "--data", tmp_path / "data",
                 "-o", tmp_path / "out")
    assert res.exit_code != 0
    assert "lacks t10k-images-idx3-ubyte" in res.output and "a data folder holding mnist/" in res.output


def test_kddcup_quick_print_config_shows_the_settings_the_quick_run_fits_with():
    """`kddcup --quick --print-config` printed the full run's duad and baselines (the quick section
    listed beside them, unapplied), while the run itself fits with the quick ones."""
    import yaml

    full = yaml.safe_load(_bench("kddcup", "--print-config").output)
    res = _bench("kddcup", "--quick", "--print-config")
    assert res.exit_code == 0, res.output
    quick = yaml.safe_load(res.output)
    assert full["duad"]["max_reselections"] == 6 and quick["duad"]["max_reselections"] == 2
    assert quick["duad"]["batch_size"] == 256 and quick["duad"]["p0"] == full["duad"]["p0"]
    assert quick["baselines"]["DAGMM"]["epochs"] == 10 and full["baselines"]["DAGMM"]["epochs"] == 20


@pytest.mark.parametrize("section", ["duad:\n  random_state: 7\n",
                                     "baselines:\n  IsolationForest:\n    random_state: 7\n",
                                     "variants:\n  lr 0.01:\n    lr: 0.01\n    random_state: 7\n",
                                     "quick:\n  duad:\n    random_state: 7\n"])
def test_a_random_state_in_a_bench_config_is_refused_not_replaced_by_the_seed(tmp_path, section):
    """Each fit of a benchmark is seeded by its split's seed (0..N-1, --seeds): a `random_state`
    among a detector's arguments was accepted, replaced by that seed in silence, and written into
    the results' config as if it had been used (the images' timing table failed on it instead)."""
    from videoad.bench import images, kddcup

    cfg = tmp_path / "mine.yaml"
    cfg.write_text(section)
    with pytest.raises(ValueError, match=r"mine.yaml: .*random_state is not used: each fit is seeded"):
        kddcup.load_config(cfg)
    res = _bench("kddcup", "--config", cfg, "--print-config")
    assert res.exit_code == 1 and "random_state is not used" in res.output, res.output
    def laid_over(base: dict, over: dict) -> dict:
        return {**base, **{k: laid_over(base.get(k) or {}, v) if isinstance(v, dict) else v for k, v in over.items()}}

    mnist = yaml.safe_load(images.default_config_path("mnist").read_text())
    (tmp_path / "m.yaml").write_text(yaml.safe_dump(laid_over(mnist, yaml.safe_load(section))))
    with pytest.raises(ValueError, match=r"m.yaml: .*random_state is not used: each fit is seeded"):
        images.load_config(tmp_path / "m.yaml")


def test_images_names_are_taken_in_any_case():
    """`bench images --datasets MNIST` was refused ("must be a comma-separated subset of
    mnist,cifar10") without saying which name was wrong."""
    res = _bench("images", "--datasets", "MNIST", "--print-config")
    assert res.exit_code == 0, res.output
    assert yaml.safe_load(res.output) == yaml.safe_load(_bench("images", "--datasets", "mnist", "--print-config").output)
    res = _bench("images", "--datasets", "mnist,svhn", "--print-config")
    assert res.exit_code == 2 and "('svhn' is not one)" in res.output, res.output


def _laid_over(base: dict, over: dict) -> dict:
    return {**base, **{k: _laid_over(base.get(k) or {}, v) if isinstance(v, dict) else v for k, v in over.items()}}


@pytest.mark.parametrize("section, said", [
    ({"duad": {"clusterer_params": {"n_components": "abc"}}},
     "duad: clusterer_params: n_components must be a whole number >= 1, got 'abc'"),
    ({"duad": {"clusterer_params": {"covariance_type": 0}}}, "duad: clusterer_params: covariance_type must be one of"),
    ({"baselines": {"IsolationForest": {"n_estimators": -1}}},
     "baselines: IsolationForest: IForest: n_estimators must be a whole number >= 1, got -1"),
    ({"baselines": {"DAGMM": {"device": "abc"}}}, "baselines: DAGMM: device 'abc' not understood"),
    # a --quick run's settings, checked with or without --quick
    ({"quick": {"duad": {"batch_size": -1}}}, "quick: duad: batch_size must be a whole number >= 1, got -1"),
    ({"quick": {"baselines": {"DAGMM": {"epochs": 0}}}},
     "quick: baselines: DAGMM (over baselines: DAGMM): epochs must be a whole number >= 1, got 0"),
    ({"variants": {"one fit": {"restarts": -1}}}, "variants: one fit (over duad): restarts must be a whole number"),
])
def test_a_kddcup_configs_detector_arguments_are_checked_by_their_rules_when_read(tmp_path, section, said):
    """Each of these passed `bench kddcup --print-config` and failed at its fit (the clusterer's inside
    scikit-learn after the autoencoder's training), or, for the quick section, was read unchecked
    until a --quick run."""
    from videoad.bench import kddcup

    cfg = tmp_path / "k.yaml"
    cfg.write_text(yaml.safe_dump(section))
    with pytest.raises(ValueError, match="^" + re.escape(f"{cfg}: {said}")):
        kddcup.load_config(cfg)
    res = _bench("kddcup", "--config", cfg, "--print-config")
    assert res.exit_code == 1 and said in res.output, res.output
    assert kddcup.load_config(None)["duad"]["clusterer_params"] == {"n_components": 20, "covariance_type": "diag"}


@pytest.mark.parametrize("section, said", [
    ({"table8": {"initialisers": {"kmeans": {"n_clusters": "abc"}}}},
     "table8: initialisers: kmeans (over duad): clusterer_params: n_clusters must be a whole number >= 1"),
    ({"table8": {"initialisers": {"dc": {"thres": -1}}}}, "table8: initialisers: dc (over duad): clusterer_params: "
                                                          "thres must be a number in (0, 4)"),
    ({"table8": {"initialisers": {"kmeans": {"n_clustrs": 4}}}}, "n_clustrs"),
    ({"table7": {"p0_minus_p": -5}}, "table7.p0_minus_p must be a finite number >= 0, got -5"),
    ({"table7": {"p": [5, 150]}}, "table7.p must be a list of percentages in (0, 99]"),
    ({"timing": {"dc_rows": -1}}, "timing.dc_rows must be a number of rows >= 0"),
    ({"timing": {"dc_budget_seconds": 0}}, "timing.dc_budget_seconds must be a finite number of seconds > 0"),
    ({"quick": {"seeds": 0}}, "quick.seeds must be from 1 to 1,000,000, got 0"),
])
def test_an_images_configs_tables_are_checked_when_read(tmp_path, section, said):
    """Table 8's initialisers (the clusterer and its arguments of each row), Table 7's sweep and the
    timing table's sizes passed the read and failed, or ran wrong, at their table."""
    from videoad.bench import images

    mnist = yaml.safe_load(images.default_config_path("mnist").read_text())
    assert images.load_config(images.default_config_path("mnist"))  # the packaged settings still pass
    cfg = tmp_path / "m.yaml"
    cfg.write_text(yaml.safe_dump(_laid_over(mnist, section)))
    with pytest.raises(ValueError, match=re.escape(said)) as err:
        images.load_config(cfg)
    assert str(err.value).startswith(f"{cfg}: ")


def test_a_scale_threads_count_beyond_any_machine_is_refused(tmp_path):
    """`threads: 10^30` passed the read and overflowed torch.set_num_threads at the first measurement."""
    from videoad.bench import scale

    cfg = tmp_path / "s.yaml"
    cfg.write_text(f"threads: {10**30}\n")
    res = _bench("scale", "--config", cfg, "--print-config")
    assert res.exit_code == 1 and f"{cfg}: threads must be >= 1, at most 1024" in res.output, res.output
    cfg.write_text("threads: 1024\n")
    assert scale.load_config(cfg)["threads"] == 1024
