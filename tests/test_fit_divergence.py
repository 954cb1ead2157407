"""A fit whose training loss stops being finite stops there with an error naming the setting at
fault (`TorchDetector._run_epochs`, `_diverged`), and a seed that is no whole number is refused
when a settings file is read (`registry.check_arguments`)."""
import re

import numpy as np
import pytest

from videoad.detector import registry

X = np.random.default_rng(0).normal(size=(300, 6)).astype(np.float32)


@pytest.mark.parametrize("name, params, match", [
    # failed inside scikit-learn's GaussianMixture as "Input X contains NaN", after the training
    ("duad", {"r": 2, "max_reselections": 1, "lr": 1e30},
     r"DUAD: training loss became (nan|inf) in epoch \d+ of 2 \(lr 1e\+30\): lower lr \(the default is 0.0001\)"),
    # was reported as rows too large for the mixture: "rescale X"
    ("dagmm", {"epochs": 3, "lr": 1e30},
     r"DAGMM: training loss became (nan|inf) in epoch \d+ of 3 \(lr 1e\+30, lambda_energy 0.1, lambda_cov 0.005\); "
     r"every term of the loss was finite until a step made the weights non-finite .*: lower lr \(the default is "
     r"0.0001\), lambda_energy \(the default is 0.1\) or lambda_cov \(the default is 0.005\)"),
])
def test_diverged_training_names_the_setting(name, params, match, monkeypatch):
    # lr 1e30 is refused before the fit now (validation.MAX_LR); the check after a diverged training
    # stays for what the range cannot foresee, and is driven past that range here
    monkeypatch.setattr(f"videoad.{'detector.duad' if name == 'duad' else 'baselines.dagmm'}.MAX_LR", 1e31)
    det = registry.make(name, params, seed=0)
    with pytest.raises(ValueError, match=match) as err:
        det.fit(X)
    assert "rescale X" not in str(err.value)
    assert not hasattr(det, "decision_scores_")


@pytest.mark.parametrize("key, term, others", [
    # was "... (lr 0.001, lambda_energy 0.1, lambda_cov 1e+38): lower lr (the default is 0.0001)": the
    # setting at fault named only among the values, and lr, which was fine, to be lowered
    ("lambda_cov", r"the covariance penalty \(lambda_cov x the sum of 1/variance\), inf",
     r"lower lambda_cov \(the default is 0.005\), lr \(the default is 0.0001\) or lambda_energy"),
    ("lambda_energy", r"the energy term \(lambda_energy x the mean sample energy\), -?inf",
     r"lower lambda_energy \(the default is 0.1\), lr \(the default is 0.0001\) or lambda_cov"),
])
def test_dagmm_divergence_names_the_term_and_its_weight_first(key, term, others, monkeypatch):
    # 1e38 is refused before the fit now (DAGMM.MAX_LAMBDA); driven past that range here
    monkeypatch.setattr("videoad.baselines.dagmm.DAGMM.MAX_LAMBDA", 1e300)
    det = registry.make("dagmm", {"epochs": 2, "lr": 1e-3, key: 1e38}, seed=0)
    with pytest.raises(ValueError, match=rf"in epoch 1 of 2 \(.*\); first not finite: {term}: {others}") as err:
        det.fit(X)
    assert "first not finite: the reconstruction" not in str(err.value)
    assert det._first_terms is not None and not hasattr(det, "decision_scores_")


@pytest.mark.parametrize("key, value", [("lambda_energy", 1e30), ("lambda_cov", 1e38), ("lambda_energy", 2e6),
                                        ("lambda_cov", 1e14)])
def test_dagmm_weights_beyond_the_measured_range_are_refused_before_the_fit(key, value):
    # lambda_energy 1e30 fitted in silence with no weight moved (the gradient's norm overflowed and the
    # clipping scaled every step to 0); lambda_cov 1e38 made a NaN loss blamed on lr
    det = registry.make("dagmm", {"epochs": 1, key: value}, seed=0)
    with pytest.raises(ValueError, match=rf"^{key} must be a finite number >= 0 and <= 1e\+06, got {re.escape(repr(value))}$"):
        det.fit(X)
    assert not hasattr(det, "decision_scores_") and not hasattr(det, "model_")


def test_dagmm_weights_at_the_range_end_train():
    before = registry.make("dagmm", {"epochs": 1, "lr": 1e-10}, seed=0).fit(X).decision_scores_
    for key in ("lambda_energy", "lambda_cov"):
        scores = registry.make("dagmm", {"epochs": 1, key: 1e6}, seed=0).fit(X).decision_scores_
        assert np.isfinite(scores).all() and not np.allclose(scores, before)  # the weights moved


def test_dagmm_weights_out_of_range_in_a_kddcup_config_name_the_file(tmp_path):
    from click.testing import CliRunner

    from videoad.bench.kddcup import kddcup_cmd

    cfg = tmp_path / "mine.yaml"
    cfg.write_text("baselines:\n  DAGMM:\n    lambda_energy: 1.0e+30\n")
    res = CliRunner().invoke(kddcup_cmd, ["--config", str(cfg), "--print-config"])
    # was read, printed and run: 1e30 trained nothing
    assert res.exit_code == 1, res.output
    assert f"{cfg}: baselines: DAGMM: lambda_energy must be a finite number >= 0 and <= 1e+06, got 1e+30" in res.output


def test_dagmm_weights_out_of_range_in_a_detect_config_name_the_file(tmp_path):
    from videoad.video.config import load_config

    cfg = tmp_path / "detect.yaml"
    cfg.write_text("detector:\n  name: dagmm\n  params:\n    lambda_cov: 1.0e+38\n")
    with pytest.raises(ValueError, match=rf"^{re.escape(str(cfg))}: detector: params: lambda_cov must be a finite number >= 0 and "
                                         r"<= 1e\+06, got 1e\+38$"):
        load_config(cfg)


def test_large_but_workable_lr_still_fits():
    det = registry.make("dagmm", {"epochs": 2, "lr": 1e-2}, seed=0).fit(X)
    assert np.isfinite(det.decision_scores_).all()


@pytest.mark.parametrize("name", ["duad", "dagmm", "iforest", "pca", "dc"])
@pytest.mark.parametrize("seed", [True, False, 1.5, 1.0, -1, 2**40, "7"])
def test_seed_that_is_no_whole_number_is_refused_when_read(name, seed):
    # passed the read and failed at the fit, after the features were read
    with pytest.raises(ValueError, match=r"^my.yaml: det: random_state must be .*a seed is a whole number"):
        registry.check_arguments(name, {"random_state": seed}, "my.yaml", "det")


@pytest.mark.parametrize("seed", [None, 0, 7, 2**31 - 1])
def test_whole_seeds_and_null_pass_the_read(seed):
    registry.check_arguments("duad", {"random_state": seed}, "my.yaml", "det")


@pytest.mark.parametrize("option, value", [("--max-seconds", "nan"), ("--timeout", "inf")])
def test_scale_option_not_finite_is_named_as_the_command_lines(option, value):
    from click.testing import CliRunner

    from videoad.bench.scale import scale_cmd

    res = CliRunner().invoke(scale_cmd, [option, value, "--print-config"])
    # was "videoad/defaults/scale.yaml: max_seconds must be ...": the file had no such value; now a
    # usage error naming the option itself (the options' own types, tests/test_cli_bounds.py)
    assert res.exit_code == 2 and f"Invalid value for '{option}'" in res.output
    assert "scale.yaml" not in res.output


def test_kddcup_seeds_beyond_the_most_repeats_is_refused(tmp_path):
    from click.testing import CliRunner

    from videoad.bench.kddcup import kddcup_cmd

    # 10**22 seeds passed and the run went on, seed after seed, for ever
    res = CliRunner().invoke(kddcup_cmd, ["--seeds", str(10**22), "--data", str(tmp_path / "none.gz"), "-o",
                                          str(tmp_path / "out")])
    assert res.exit_code == 2 and "--seeds" in res.output and "1<=x<=1000000" in res.output
