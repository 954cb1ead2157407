"""Counts have upper bounds, booleans are not numbers, and a benchmark's normal class is checked
when a settings file is read (videoad.detector.validation.check_count, MAX_*)."""
import numpy as np
import pytest

from videoad.config import ConfigError
from videoad.detector import registry
from videoad.detector.validation import MAX_REPEATS, check_count, whole_valued


def _refused(name, params, match):
    with pytest.raises(ValueError, match=match):
        registry.check_arguments(name, params, "my.yaml", "duad" if name == "duad" else name)


@pytest.mark.parametrize("name, params, match", [
    # ran for ever (epochs, restarts) or failed inside torch / scikit-learn after the data was read
    ("duad", {"r": 10**30}, r"my.yaml: duad: r \(epochs between reselections\) must be a whole number from 1 to 1,000,000"),
    ("duad", {"final_epochs": 10**30}, r"final_epochs must be a whole number from 0 to 1,000,000"),
    ("duad", {"restarts": 2**63}, r"restarts must be a whole number from 0 to 1,000,000"),
    ("duad", {"max_reselections": 10**7}, r"max_reselections must be a whole number from 0 to 1,000,000"),
    ("duad", {"hidden_dims": [2**63]}, r"hidden_dims must be 'auto' or a list of layer widths from 1 to 1,000,000"),
    ("duad", {"latent_dim": 2**63}, r"latent_dim must be a whole number from 1 to 1,000,000 \(or 'auto'\)"),
    ("duad", {"n_threads": 10**30}, r"n_threads must be None or a whole number from 1 to 4,096"),
    ("duad", {"n_components": 2**63}, r"n_components must be a whole number from 1 to 9,223,372,036,854,775,807"),
    ("duad", {"clusterer_params": {"max_iter": 10**30}}, r"clusterer_params: max_iter must be a whole number from 1 to"),
    ("dagmm", {"epochs": 10**30}, r"my.yaml: dagmm: epochs must be a whole number from 1 to 1,000,000"),
    ("dagmm", {"n_gmm": 2**63}, r"n_gmm must be a whole number from 1 to 1,000,000"),
    ("dagmm", {"n_threads": 10**30}, r"n_threads must be None or a whole number from 1 to 4,096"),
    ("iforest", {"n_estimators": 10**30}, r"n_estimators must be a whole number from 1 to 1,000,000"),
    # booleans where numbers go (Python's True is 1)
    ("duad", {"clusterer": "dc", "clusterer_params": {"thres": True}}, r"thres must be a number in \(0, 4\)"),
    ("duad", {"clusterer": "dc", "clusterer_params": {"min_size": True}}, r"min_size must be a whole number >= 1"),
    ("duad", {"clusterer": "dc", "clusterer_params": {"attach_columns": True}}, r"attach_columns must be"),
    ("dc", {"thres": 5}, r"my.yaml: dc: thres must be a number in \(0, 4\)"),
    ("ocsvm", {"gamma": True}, r"gamma .*must be a finite number > 0, got True \(or 'scale' or 'auto'\)"),
    ("dagmm", {"n_threads": True}, r"n_threads must be None"),
    ("pca", {"contamination": True}, r"my.yaml: pca: contamination must be a share in \(0, 0.5\]"),
    # a float that no longer holds every whole number: 10000000000000001 written with a dot reads 1e16
    ("duad", {"batch_size": 10000000000000001.0}, r"batch_size must be a whole number >= 1, got 1e\+16"),
])
def test_refused_when_read(name, params, match):
    _refused(name, params, match)


def test_large_values_that_can_be_meant_still_pass():
    registry.check_arguments("duad", {"max_fit_rows": 10**12, "batch_size": 10**9, "max_reselections": 1000,
                                      "r": 1e3, "hidden_dims": [4096, 1024], "n_neighbors": 10**6,
                                      "clusterer_params": {"max_fit_rows": 10**12}}, "my.yaml", "duad")
    registry.check_arguments("dagmm", {"epochs": MAX_REPEATS, "batch_size": 4.0, "latent_dim": 2.0}, "my.yaml", "dagmm")
    registry.check_arguments("duad", {"clusterer": "dc", "clusterer_params": {"max_rows": 20000.0}}, "my.yaml", "duad")
    registry.check_arguments("iforest", {"n_estimators": 1e3, "n_jobs": -1}, "my.yaml", "iforest")
    registry.check_arguments("ocsvm", {"gamma": 0.5}, "my.yaml", "ocsvm")
    assert check_count(1e3, "n") == 1000 and check_count(None, "n", words=(None,)) is None
    assert not whole_valued(np.float32(16777217.0)) and whole_valued(np.float32(4096.0))


def test_dc_fits_with_counts_written_as_floats():
    from videoad.detector.clustering import make_clusterer

    X = np.random.default_rng(0).normal(size=(40, 3)).astype(np.float32)
    out = make_clusterer("dc", thres=0.5, min_size=2.0, max_rows=20.0, attach_columns=10.0)(X, 0)
    assert out.labels.shape == (40,)


def test_kddcup_config_names_file_and_key(tmp_path):
    from videoad.bench.kddcup import load_config

    f = tmp_path / "k.yaml"
    f.write_text("duad:\n  r: 1e30\n")
    with pytest.raises(ValueError, match=r"k.yaml: duad: r \(epochs between reselections\) must be a whole number "
                                         r"from 1 to 1,000,000, got 1e\+30"):
        load_config(f)
    f.write_text("quick:\n  seeds: 1000000000\n")
    with pytest.raises(ConfigError, match=r"k.yaml: quick.fraction .* quick.seeds from 1 to 1,000,000"):
        load_config(f)
    f.write_text("baselines:\n  DAGMM:\n    epochs: 100000000\n")
    with pytest.raises(ValueError, match=r"k.yaml: .*DAGMM.*epochs must be a whole number from 1 to 1,000,000"):
        load_config(f)


def _images_config(tmp_path, dataset: str, **changes):
    import yaml

    from videoad.config import defaults

    cfg = defaults(dataset)
    for key, value in changes.items():
        section, _, leaf = key.rpartition(".")
        node = cfg
        for part in section.split("."):
            node = node.setdefault(part, {})
        node[leaf] = value
    f = tmp_path / f"{dataset}.yaml"
    f.write_text(yaml.safe_dump(cfg))
    return f


@pytest.mark.parametrize("dataset, key, value, match", [
    ("mnist", "dataset.normal_class", 99, r"dataset.normal_class must be a class from 0 to 9 \(mnist has 10\), got 99"),
    ("cifar10", "dataset.normal_class", -1, r"dataset.normal_class must be a class from 0 to 9"),
    ("mnist", "dataset.normal_class", "12", r"dataset.normal_class must be a class from 0 to 9 \(mnist has 10\), got '12'"),
    ("mnist", "dataset.normal_class", "four", r"dataset.normal_class must be a class from 0 to 9 of mnist, got 'four'"),
    ("mnist", "quick.dataset.normal_class", 10, r"quick.dataset.normal_class must be a class from 0 to 9"),
    ("mnist", "quick.dataset.anomaly_ratio", 2.0, r"quick.dataset.anomaly_ratio must be in \(0, 1\)"),
    ("mnist", "quick.seeds", 10**9, r"quick.seeds must be from 1 to 1,000,000"),
])
def test_images_protocol_checked_when_read(tmp_path, dataset, key, value, match):
    from videoad.bench.images import load_config

    f = _images_config(tmp_path, dataset, **{key: value})
    with pytest.raises(ConfigError, match=f"{f.name}: {match}"):
        load_config(f)


@pytest.mark.parametrize("dataset, value", [("mnist", "4"), ("mnist", 0), ("cifar10", 9), ("cifar10", "cat")])
def test_images_normal_classes_that_exist_pass(tmp_path, dataset, value):
    from videoad.bench.images import load_config

    assert load_config(_images_config(tmp_path, dataset, **{"dataset.normal_class": value}))["dataset"]


def test_contamination_that_rounds_to_no_anomaly_is_refused():
    from videoad.datasets.kddcup import contamination_split

    y = np.r_[np.zeros(2000, np.int64), np.ones(200, np.int64)]
    X = np.random.default_rng(0).normal(size=(y.size, 2))
    with pytest.raises(ValueError, match=r"contamination 1e-05 of the training half's \d+ majority-class rows rounds "
                                         r"to no anomaly row; give a share of at least"):
        contamination_split(X, y, 1e-5, 0)
    assert contamination_split(X, y, 0.01, 0).y_train.sum() > 0
