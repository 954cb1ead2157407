"""Image loaders (MNIST IDX, CIFAR-10 batches / folders / zip, digits) and the one-class
protocols, on hand-made files and on the real copies in shared/data."""
from __future__ import annotations

import gzip
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from videoad.datasets.images import (
    CIFAR10_CLASSES,
    ImageSet,
    load_cifar10,
    load_digits_images,
    load_mnist,
    load_protocol,
    one_class_protocol,
    read_idx,
)

from _paths import shared  # noqa: E402


def _idx_bytes(arr: np.ndarray) -> bytes:
    code = {np.uint8: 0x08, np.int32: 0x0C}[arr.dtype.type]
    head = bytes([0, 0, code, arr.ndim]) + b"".join(int(s).to_bytes(4, "big") for s in arr.shape)
    return head + arr.astype(arr.dtype.newbyteorder(">")).tobytes()


def _write_mnist(root: Path, prefix: str, n: int, seed: int, gz: bool) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    y = rng.integers(0, 10, size=n).astype(np.uint8)
    for kind, arr, nd in (("images", x, 3), ("labels", y, 1)):
        data = _idx_bytes(arr)
        name = f"{prefix}-{kind}-idx{nd}-ubyte"
        if gz:
            (root / (name + ".gz")).write_bytes(gzip.compress(data))
        else:
            (root / name).write_bytes(data)
    return x, y


def test_idx_round_trip_gz_and_raw(tmp_path):
    x_te, y_te = _write_mnist(tmp_path, "t10k", 7, 0, gz=True)
    x_tr, y_tr = _write_mnist(tmp_path, "train", 5, 1, gz=False)
    te = load_mnist(tmp_path, split="test")
    assert np.array_equal(te.images, x_te) and np.array_equal(te.labels, y_te)
    both = load_mnist(tmp_path, split="all")
    assert np.array_equal(both.images, np.concatenate([x_tr, x_te]))
    arr = np.arange(12, dtype=np.int32).reshape(3, 4) - 5
    (tmp_path / "ints.idx").write_bytes(_idx_bytes(arr))
    assert np.array_equal(read_idx(tmp_path / "ints.idx"), arr)


def test_idx_errors_name_the_problem(tmp_path):
    (tmp_path / "bad.idx").write_bytes(b"\x01\x02\x03\x04rest")
    with pytest.raises(ValueError, match="not an IDX file"):
        read_idx(tmp_path / "bad.idx")
    arr = np.zeros((2, 3), dtype=np.uint8)
    (tmp_path / "short.idx").write_bytes(_idx_bytes(arr)[:-1])
    with pytest.raises(ValueError, match="bytes follow"):
        read_idx(tmp_path / "short.idx")
    _write_mnist(tmp_path, "t10k", 3, 0, gz=False)
    with pytest.raises(ValueError, match="train-images"):
        load_mnist(tmp_path, split="train")
    with pytest.raises(ValueError, match="split"):
        load_mnist(tmp_path, split="validation")
    with pytest.raises(ValueError, match="does not exist"):
        load_mnist(tmp_path / "nowhere")


def test_real_mnist_test_split():
    m = load_mnist(shared("mnist"))
    assert m.images.shape == (10000, 28, 28) and m.images.dtype == np.uint8
    assert np.bincount(m.labels).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert abs(m.images.mean() / 255 - 0.1325) < 1e-3


def _fake_cifar(n_per_class=3, seed=0):
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(10), n_per_class)
    x = rng.integers(0, 256, size=(y.size, 32, 32, 3), dtype=np.uint8)
    return x, y


def test_cifar_batch_files(tmp_path):
    x, y = _fake_cifar()
    flat = x.transpose(0, 3, 1, 2).reshape(len(x), -1)  # the batch layout: R, G, B planes
    with open(tmp_path / "test_batch", "wb") as fh:
        pickle.dump({b"data": flat, b"labels": y.tolist()}, fh)
    with open(tmp_path / "batches.meta", "wb") as fh:
        pickle.dump({b"label_names": [c.encode() for c in CIFAR10_CLASSES]}, fh)
    s = load_cifar10(tmp_path, split="test")
    assert np.array_equal(s.images, x) and np.array_equal(s.labels, y) and s.classes == CIFAR10_CLASSES
    with pytest.raises(ValueError, match="data_batch_1"):
        load_cifar10(tmp_path, split="train")
    # a swapped batch file ran its code under pickle.load: only containers and arrays are rebuilt
    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self):
            return (Path.touch, (marker,))

    for proto in (2, pickle.HIGHEST_PROTOCOL):
        with open(tmp_path / "test_batch", "wb") as fh:
            pickle.dump({b"data": flat, b"labels": y.tolist(), b"x": Payload()}, fh, protocol=proto)
        with pytest.raises(ValueError, match=r"test_batch: not a CIFAR-10 python batch file \(it holds the Python "
                                             r"object [\w.]+, not only arrays\)"):
            load_cifar10(tmp_path, split="test")
    assert not marker.exists()
    for proto in (2, 5):  # the release's protocol, and a copy saved again by Python 3
        with open(tmp_path / "test_batch", "wb") as fh:
            pickle.dump({b"data": flat, b"labels": y.tolist()}, fh, protocol=proto)
        assert np.array_equal(load_cifar10(tmp_path, split="test").images, x)


def _write_folders(root: Path, x, y, split: str | None):
    for i, (img, lab) in enumerate(zip(x, y)):
        d = root / (split or "") / CIFAR10_CLASSES[lab]
        d.mkdir(parents=True, exist_ok=True)
        Image.fromarray(img).save(d / f"{i:04d}.png")  # lossless, so pixels can be compared


def test_cifar_image_folders_and_zip(tmp_path):
    x, y = _fake_cifar()
    _write_folders(tmp_path / "ds", x[:20], y[:20], "train")
    _write_folders(tmp_path / "ds", x[20:], y[20:], "test")
    te = load_cifar10(tmp_path / "ds", split="test")
    assert set(te.classes) == {CIFAR10_CLASSES[k] for k in np.unique(y[20:])}
    names = np.array(te.classes)[te.labels]
    for img, name in zip(te.images, names):  # every image sits under its own class
        match = [i for i in range(20, 30) if np.array_equal(x[i], img)]
        assert len(match) == 1 and CIFAR10_CLASSES[y[match[0]]] == name
    assert load_cifar10(tmp_path / "ds", split="all").images.shape[0] == 30
    zpath = tmp_path / "ds.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        for f in sorted((tmp_path / "ds").rglob("*.png")):
            zf.write(f, "wrapper/" + f.relative_to(tmp_path / "ds").as_posix())
    z = load_cifar10(zpath, split="train")
    tr = load_cifar10(tmp_path / "ds", split="train")
    assert np.array_equal(z.images, tr.images) and np.array_equal(z.labels, tr.labels)
    with pytest.raises(ValueError, match="neither"):
        load_cifar10(tmp_path / "missing.bin")


def test_damaged_image_sets_name_the_file(tmp_path):
    """A Mac's zip (__MACOSX/, ._name resource forks ending in .png) gave a traceback naming no file;
    so did one unreadable picture; a cut-short MNIST download gave Click's bare "Aborted!"."""
    from click.testing import CliRunner

    from videoad.cli import cli

    x, y = _fake_cifar()
    _write_folders(tmp_path / "ds", x, y, "test")
    zpath = tmp_path / "mac.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        for f in sorted((tmp_path / "ds").rglob("*.png")):
            rel = f.relative_to(tmp_path / "ds").as_posix()
            zf.write(f, "set/" + rel)
            zf.writestr("__MACOSX/set/" + rel.rsplit("/", 1)[0] + "/._" + f.name, b"\x00\x05\x16\x07 resource fork")
    clean = load_cifar10(tmp_path / "ds", split="test")
    mac = load_cifar10(zpath, split="test")
    assert np.array_equal(mac.images, clean.images) and np.array_equal(mac.labels, clean.labels)
    bad = next((tmp_path / "ds").rglob("*.png"))
    bad.write_bytes(b"not a picture")
    with pytest.raises(ValueError, match=rf"{bad.name}: not a readable image"):
        load_cifar10(tmp_path / "ds", split="test")
    mn = tmp_path / "mn"
    mn.mkdir()
    _write_mnist(mn, "t10k", 50, 0, gz=True)
    images = mn / "t10k-images-idx3-ubyte.gz"
    images.write_bytes(images.read_bytes()[:2000])
    with pytest.raises(ValueError, match="t10k-images-idx3-ubyte.gz: truncated or corrupt gzip"):
        read_idx(images)
    res = CliRunner().invoke(cli, ["bench", "images", "--datasets", "mnist", "--tables", "4", "--seeds", "1",
                                   "--quick", "--data", str(mn), "-o", str(tmp_path / "bi")])
    assert res.exit_code != 0 and "truncated or corrupt gzip" in res.output and "Aborted" not in res.output
    assert load_protocol("digits", normal_class=0).info["split"] == "all"  # digits has no split to record


def test_cifar_flat_class_folders_are_the_test_split(tmp_path):
    x, y = _fake_cifar(2)
    _write_folders(tmp_path, x, y, None)
    s = load_cifar10(tmp_path)
    assert s.images.shape == (20, 32, 32, 3) and s.classes == CIFAR10_CLASSES
    with pytest.raises(ValueError, match="no train/test folders"):
        load_cifar10(tmp_path, split="train")


@pytest.fixture(scope="module")
def cifar_test():
    return load_cifar10(shared("cifar10", "cifar10_test_jpg.zip"))


def test_real_cifar_zip(cifar_test):
    s = cifar_test
    assert s.images.shape == (10000, 32, 32, 3) and s.classes == CIFAR10_CLASSES
    assert np.bincount(s.labels).tolist() == [1000] * 10


def test_digits():
    s = load_digits_images()
    assert s.images.shape == (1797, 8, 8) and s.images.max() == 16


def test_mnist_protocol_digit_4_with_5_percent():
    m = load_mnist(shared("mnist"))
    a = load_protocol("mnist", images=m, normal_class=4, anomaly_ratio=0.05, random_state=0)
    assert a.X.shape == (1034, 784) and a.X.dtype == np.float32 and 0.0 <= a.X.min() and a.X.max() <= 1.0
    assert a.info["n_normal"] == 982 and a.y.sum() == 52 and abs(a.y.mean() - 0.05) < 0.001
    per = np.bincount(m.labels[a.source_index[a.y == 1]], minlength=10)
    assert per[4] == 0 and set(per[np.arange(10) != 4].tolist()) <= {5, 6}  # evenly from the others
    assert (m.labels[a.source_index[a.y == 0]] == 4).all()
    assert np.array_equal(a.X, m.images[a.source_index].reshape(-1, 784) / np.float32(255))
    b = load_protocol("mnist", images=m, normal_class=4, anomaly_ratio=0.05, random_state=0)
    c = load_protocol("mnist", images=m, normal_class=4, anomaly_ratio=0.05, random_state=1)
    assert np.array_equal(a.source_index, b.source_index)
    assert set(a.source_index[a.y == 1]) != set(c.source_index[c.y == 1])


def test_cifar_protocol_airplane_with_8_percent(cifar_test):
    x, y = _fake_cifar(40)
    s = ImageSet(x, y, CIFAR10_CLASSES)
    a = one_class_protocol(s, "airplane", 0.08, random_state=3)
    assert a.info["n_normal"] == 40 and a.y.sum() == 3  # round(40 * 0.08 / 0.92)
    real = load_protocol("cifar10", images=cifar_test, normal_class="airplane", anomaly_ratio=0.08, random_state=0)
    assert real.X.shape == (1087, 3072) and real.y.sum() == 87
    assert set(real.info["anomalies_per_class"].values()) <= {9, 10} and "airplane" not in real.info["anomalies_per_class"]


def test_protocol_errors():
    x, y = _fake_cifar(4)
    s = ImageSet(x, y, CIFAR10_CLASSES)
    with pytest.raises(ValueError, match="anomaly_ratio"):
        one_class_protocol(s, 0, 1.5, 0)
    with pytest.raises(ValueError, match="not one of"):
        one_class_protocol(s, "zebra", 0.05, 0)
    with pytest.raises(ValueError, match="anomalies needed"):
        one_class_protocol(s, 0, 0.95, 0)  # 76 anomalies from 9 classes of 4 images
    with pytest.raises(ValueError, match=r"anomaly_ratio 0.001 of 4 normal images rounds to no anomaly"):
        one_class_protocol(s, 0, 0.001, 0)  # NaN tables written, exit 0
    with pytest.raises(ValueError, match="dataset"):
        load_protocol("imagenet", "x", normal_class=0)
    with pytest.raises(ValueError, match="needs a path"):
        load_protocol("mnist", normal_class=0)


def test_bench_images_cli_writes_tables(tmp_path):
    """One small run of `videoad bench images` on scikit-learn's digits: every table lands in
    JSON and Markdown with the methods and settings asked for."""
    import json

    import yaml
    from click.testing import CliRunner

    from videoad.bench.images import images_cmd

    cfg = {
        "dataset": {"name": "digits", "label": "digits", "normal_class": 4, "anomaly_ratio": 0.05},
        "duad": {"p0": 25, "p": 20, "r": 2, "clusterer": "dc", "clusterer_params": {"thres": 0.1},
                 "selection": "row", "reselection": "angle", "hidden_dims": [16], "latent_dim": 4,
                 "lr": 1e-3, "batch_size": 64, "max_reselections": 1, "n_components": 4, "device": "cpu"},
        "baselines": {"PCA": {"n_components": 4}, "kNN": {"n_neighbors": 5}, "DC alone": {"thres": 0.1}},
        "table7": {"p": [5, 10], "p0_minus_p": 5},
        "table8": {"initialisers": {"dc": {"thres": 0.1}, "kmeans": {"n_clusters": 4}}},
        "timing": {"duad_rows": 300, "dc_rows": 300, "dc_budget_seconds": 60},
    }
    path = tmp_path / "digits.yaml"
    path.write_text(yaml.safe_dump(cfg))
    out = tmp_path / "res"
    res = CliRunner().invoke(images_cmd, ["--config", str(path), "--seeds", "1", "--threads", "1", "--out", str(out)])
    assert res.exit_code == 0, res.output
    t4 = json.loads((out / "images_digits_table4.json").read_text())
    assert {r["method"] for r in t4["summary"]} == {"DUAD", "PCA", "kNN", "DC alone"}
    assert all(0 <= r["auroc_mean"] <= 100 for r in t4["summary"]) and "digits" in t4["protocol"]
    duad = [r for r in t4["records"] if r["method"] == "DUAD"][0]
    assert duad["extra"]["purity"][0]["selected"] > 0
    t7 = json.loads((out / "images_digits_table7.json").read_text())
    assert [r["setting"] for r in t7["summary"]] == ["digits raw pixels, p=5", "digits raw pixels, p=10"]
    t8 = json.loads((out / "images_digits_table8.json").read_text())
    assert [r["setting"].split("init=")[1] for r in t8["summary"]] == ["dc", "kmeans"]
    timing_file = json.loads((out / "images_digits_timing.json").read_text())
    timing = timing_file["rows"]
    assert [r["rows"] for r in timing] == [300, 300] and all(r["seconds"] > 0 for r in timing)
    # timings depend on the versions and the settings: the files say which (they held the command alone)
    assert timing_file["environment"]["numpy"] and timing_file["config"]["dataset"]["name"] == "digits"
    assert "Versions: python" in (out / "images_digits_timing.md").read_text()
    assert "| DUAD |" in (out / "images_digits_table4.md").read_text()
    bad = CliRunner().invoke(images_cmd, ["--tables", "4,9"])
    assert bad.exit_code != 0 and "--tables" in bad.output
    # a smoke run beside the full one writes its own files, marked, and leaves the full run's alone
    cfg["quick"] = {"seeds": 1, "duad": {"r": 1}}
    path.write_text(yaml.safe_dump(cfg))
    full = (out / "images_digits_table4.json").read_bytes(), (out / "images_digits_timing.json").read_bytes()
    res = CliRunner().invoke(images_cmd, ["--config", str(path), "--tables", "4,timing", "--quick", "--threads", "1",
                                          "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert ((out / "images_digits_table4.json").read_bytes(), (out / "images_digits_timing.json").read_bytes()) == full
    quick = json.loads((out / "images_digits_table4_quick.json").read_text())
    assert "QUICK" in quick["protocol"] and quick["config"]["duad"]["r"] == 1
    assert "QUICK" in json.loads((out / "images_digits_timing_quick.json").read_text())["protocol"]
    assert "images_digits_table4_quick.json" in res.output


@pytest.mark.parametrize("name, paper", [("mnist", (25, 20, 5)), ("cifar10", (15, 10, 5))])
def test_shipped_configs_hold_the_paper_settings_and_build_a_detector(name, paper):
    from videoad.bench.images import default_config_path, load_config
    from videoad.detector.duad import DUAD

    cfg = load_config(default_config_path(name))
    d = cfg["duad"]
    assert (d["p0"], d["p"], d["r"]) == paper and d["clusterer"] == "dc"
    det = DUAD(**d)  # every key is a constructor argument
    assert det.get_params()["clusterer_params"] == d["clusterer_params"]
    assert cfg["dataset"]["normal_class"] in (4, "airplane")


def test_bench_config_errors(tmp_path):
    from videoad.bench.images import load_config

    p = tmp_path / "c.yaml"
    p.write_text("duad: {}\n")
    with pytest.raises(ValueError, match="missing"):
        load_config(p)
    p.write_text("dataset: {name: svhn}\nduad: {}\n")
    with pytest.raises(ValueError, match="dataset.name"):
        load_config(p)
    p.write_text("dataset: {name: digits, normal_class: 4, anomaly_ratio: 0.05}\nduad: {}\nbaselines: {LOF: {}}\n")
    with pytest.raises(ValueError, match="unknown baseline"):
        load_config(p)
    with pytest.raises(ValueError, match="no such config file"):
        load_config(tmp_path / "none.yaml")


def test_seed_count_below_one_is_refused_before_the_output_folder_is_made(tmp_path):
    """`--seeds 0` (or a config's quick.seeds 0) is refused before -o exists: a refused run leaves
    no empty results folder with lock files behind."""
    import yaml
    from click.testing import CliRunner

    from videoad.cli import cli

    res = CliRunner().invoke(cli, ["bench", "images", "--datasets", "mnist", "--seeds", "0",
                                   "-o", str(tmp_path / "out")])
    assert res.exit_code == 2 and "--seeds" in res.output and not (tmp_path / "out").exists()
    cfg = tmp_path / "mnist.yaml"
    settings = yaml.safe_load(CliRunner().invoke(cli, ["bench", "images", "--datasets", "mnist",
                                                       "--print-config"]).output)
    settings["quick"]["seeds"] = 0
    cfg.write_text(yaml.safe_dump(settings))
    res = CliRunner().invoke(cli, ["bench", "images", "--config", str(cfg), "--quick", "-o", str(tmp_path / "q")])
    assert res.exit_code == 1 and "quick.seeds must be from 1 to 1,000,000, got 0" in res.output, res.output
    assert not (tmp_path / "q").exists()


def _batch(path: Path, d, protocol: int = 2) -> None:
    with open(path, "wb") as fh:
        pickle.dump(d, fh, protocol=protocol)


def test_damaged_cifar_batches_are_refused_naming_the_file(tmp_path):
    """A batch of another shape, float or object pixels, fewer labels than images or labels that are
    no class were read in silence (reshaped, cast, paired with the wrong images), or failed with
    numpy's or Python's message naming no file (`label_names` not a list: a TypeError traceback)."""
    x, y = _fake_cifar(2)
    flat = x.transpose(0, 3, 1, 2).reshape(len(x), -1)
    batch = tmp_path / "test_batch"
    cases = [
        ({b"data": flat[:, :100], b"labels": y.tolist()}, r"is \(n, 3072\).*this is \(20, 100\)"),
        ({b"data": x, b"labels": y.tolist()}, r"this is \(20, 32, 32, 3\)"),  # reshaped into scrambled planes
        ({b"data": flat.astype(np.float64) * 2.0, b"labels": y.tolist()}, "holds bytes 0..255, this holds float64"),
        ({b"data": flat.astype(object), b"labels": y.tolist()}, "this holds object"),
        ({b"data": flat, b"labels": y[:5].tolist()}, "20 images but 5 labels"),
        ({b"data": flat, b"labels": (y + 10).tolist()}, r"label 19 is not a class \(0..9\)"),
        ({b"data": flat, b"labels": [-1] * len(y)}, "label -1 is not a class"),
        ({b"data": flat, b"labels": ["cat"] * len(y)}, "labels are not a list of class numbers"),
    ]
    for content, problem in cases:
        _batch(batch, content)
        with pytest.raises(ValueError, match=rf"{batch}: .*{problem}"):
            load_cifar10(tmp_path)
    _batch(batch, {b"data": flat, b"labels": y.tolist()})
    meta = tmp_path / "batches.meta"
    _batch(meta, {b"label_names": 10})
    with pytest.raises(ValueError, match=rf"{meta}: label_names is not a list of class names"):
        load_cifar10(tmp_path)
    _batch(meta, {b"label_names": [b"a", b"b"]})  # labels 2..9 had no name: IndexError in the protocol
    with pytest.raises(ValueError, match=rf"{batch}: label 9 is not a class \(0..1, batches.meta's label_names\)"):
        load_cifar10(tmp_path)
    # a copy saved again by Python 3 (str keys and names) is the same batch
    _batch(meta, {"label_names": list(CIFAR10_CLASSES)}, protocol=4)
    _batch(batch, {"data": flat, "labels": y.tolist()}, protocol=4)
    s = load_cifar10(tmp_path)
    assert np.array_equal(s.images, x) and np.array_equal(s.labels, y) and s.classes == CIFAR10_CLASSES


def _png(size=(32, 32)) -> bytes:
    import io

    buf = io.BytesIO()
    Image.fromarray(np.zeros((*size, 3), dtype=np.uint8)).save(buf, "PNG")
    return buf.getvalue()


def test_zips_it_cannot_read_and_huge_pictures_are_named(tmp_path):
    """A zip whose central directory is damaged (zipfile.is_zipfile reads only its end record), an
    encrypted member, a compression method zipfile lacks, and a picture whose header claims
    400 megapixels (PIL's DecompressionBombError) each ended in a traceback naming no file."""
    import struct
    import zlib

    zpath = tmp_path / "set.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        for c in ("airplane", "bird"):
            for i in range(2):
                zf.writestr(f"test/{c}/{i}.png", _png())
    raw = zpath.read_bytes()
    central, local = raw.find(b"PK\x01\x02"), raw.find(b"PK\x03\x04")

    def damaged(name: str, *edits) -> Path:
        b = bytearray(raw)
        for at, value in edits:
            b[at:at + len(value)] = value
        (tmp_path / name).write_bytes(bytes(b))
        return tmp_path / name

    flag = bytes([raw[central + 8] | 1])
    for path, problem in (
            (damaged("cd.zip", (central, b"XXXX")), "a damaged zip"),
            (damaged("enc.zip", (central + 8, flag), (local + 6, bytes([raw[local + 6] | 1]))), "encrypted"),
            (damaged("method.zip", (central + 10, b"\x63")), "compression method is not supported")):
        with pytest.raises(ValueError, match=rf"{path}: .*{problem}"):
            load_cifar10(path)
    png = bytearray(_png((1, 1)))
    ihdr = png.find(b"IHDR")
    png[ihdr + 4:ihdr + 12] = struct.pack(">II", 20000, 20000)
    png[ihdr + 17:ihdr + 21] = struct.pack(">I", zlib.crc32(bytes(png[ihdr:ihdr + 17])))
    folder = tmp_path / "huge" / "test" / "cat"
    folder.mkdir(parents=True)
    (folder / "0.png").write_bytes(bytes(png))
    with pytest.raises(ValueError, match=rf"{folder / '0.png'}: not a readable image \(Image size"):
        load_cifar10(tmp_path / "huge")


def test_idx_headers_cut_short_or_overflowing_name_the_file(tmp_path):
    """Dimensions whose product passes 2**64 wrapped to 0 in np.prod (numpy's "cannot reshape"
    named no file); a header naming more dimensions than the file holds read the missing ones
    as 0 and said "-792 bytes follow"."""
    p = tmp_path / "t10k-images-idx3-ubyte"
    p.write_bytes(bytes([0, 0, 8, 4]) + (65536).to_bytes(4, "big") * 4)
    with pytest.raises(ValueError, match=rf"{p}: header says shape \(65536, 65536, 65536, 65536\)"):
        read_idx(p)
    p.write_bytes(bytes([0, 0, 8, 200]) + bytes(8))
    with pytest.raises(ValueError, match=rf"{p}: its header names 200 dimensions \(804 bytes\) but the file holds 12"):
        read_idx(p)


def _bench_images(*args):
    from click.testing import CliRunner

    from videoad.cli import cli

    return CliRunner().invoke(cli, ["bench", "images", *map(str, args)])


def test_a_dataset_named_twice_is_a_usage_error(tmp_path):
    """`--datasets mnist,mnist` (or two configs of one dataset) ran into its own lock: "another
    videoad bench is writing images_mnist_quick ... (pid <its own>)", exit 1, -o left behind."""
    res = _bench_images("--datasets", "mnist,mnist", "--tables", "4", "--quick", "-o", tmp_path / "out")
    assert res.exit_code == 2 and "dataset mnist named more than once" in res.output, res.output
    assert "another videoad bench" not in res.output and not (tmp_path / "out").exists()
    cfg = tmp_path / "m.yaml"
    cfg.write_text(_bench_images("--datasets", "mnist", "--print-config").output)
    res = _bench_images("--config", cfg, "--config", cfg, "--print-config")
    assert res.exit_code == 2 and "dataset mnist named more than once" in res.output, res.output


def test_every_dataset_and_its_protocol_is_checked_before_the_first_fit(tmp_path, monkeypatch):
    """A damaged CIFAR-10 beside a good MNIST was found only after MNIST's tables had run, and a
    normal_class the split lacks (`normal_class: 11`) after the warm-up fit, named by no file."""
    import yaml

    from videoad.bench import images

    def no_fit(*args, **kwargs):
        raise AssertionError("a fit ran before every dataset was checked")

    monkeypatch.setattr(images, "_warm_up", no_fit)
    monkeypatch.setattr(images, "timed_fit", no_fit)
    data = tmp_path / "data"
    (data / "mnist").mkdir(parents=True)
    _write_mnist(data / "mnist", "t10k", 200, 0, gz=True)
    (data / "cifar10").mkdir()
    zpath = data / "cifar10" / "cifar10_test_jpg.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        zf.writestr("test/airplane/0000.png", _png())
        zf.writestr("test/bird/0000.png", _png())
    zpath.write_bytes(zpath.read_bytes()[:200])  # a download cut short
    res = _bench_images("--datasets", "mnist,cifar10", "--tables", "4", "--quick", "--data", data,
                        "-o", tmp_path / "out")
    assert res.exit_code == 1 and f"{zpath}: a zip file that cannot be read" in res.output, res.output
    assert "== mnist" not in res.output and "Traceback" not in res.output
    cfg = tmp_path / "m11.yaml"
    settings = yaml.safe_load(_bench_images("--datasets", "mnist", "--print-config").output)
    settings["dataset"]["normal_class"] = 11
    cfg.write_text(yaml.safe_dump(settings))
    res = _bench_images("--config", cfg, "--tables", "4", "--quick", "--data", data, "-o", tmp_path / "out")
    assert res.exit_code == 1 and not isinstance(res.exception, AssertionError), res.output
    assert f"{cfg}: dataset.normal_class must be a class from 0 to 9 (mnist has 10), got 11" in res.output, res.output
    assert not (tmp_path / "out").exists()  # nothing made for a run that cannot start


def test_16_bit_grayscale_pictures_keep_their_scale(tmp_path):
    """A 16-bit grayscale PNG was read with `convert("RGB")`, which clips every value above 255 to
    255: the picture came out nearly all white, in silence. It is read as its high byte, as Pillow
    reads a 16-bit RGB PNG; 8-bit pictures beside it read as before."""
    ramp = (np.arange(32 * 32, dtype=np.uint32).reshape(32, 32) * 64).astype(np.uint16)  # 0 .. 65472
    eight = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    for cls in ("airplane", "cat"):
        (tmp_path / cls).mkdir()
        Image.fromarray(ramp).save(tmp_path / cls / "a16.png")
        Image.fromarray(eight).save(tmp_path / cls / "b8.png")
    assert Image.open(tmp_path / "cat" / "a16.png").mode.startswith("I")  # written as 16 bits
    s = load_cifar10(tmp_path)
    sixteen, rgb = s.images[0], s.images[1]
    assert np.array_equal(sixteen, np.repeat((ramp >> 8).astype(np.uint8)[..., None], 3, axis=2))
    assert np.array_equal(rgb, eight)


def test_a_file_that_is_no_picture_is_named_without_python_internals(tmp_path):
    """Pillow's message named an `io.BytesIO object at 0x...` rather than what is wrong."""
    for cls in ("airplane", "cat"):
        (tmp_path / cls).mkdir()
        Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / cls / "a.png")
    (tmp_path / "cat" / "b.png").write_text("a text file named .png")
    with pytest.raises(ValueError, match=r"b\.png: not a readable image") as err:
        load_cifar10(tmp_path)
    assert "BytesIO" not in str(err.value) and "not a picture format" in str(err.value)
