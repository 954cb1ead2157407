"""Published weights by name (`extract.weights.resolve_weights`): the torch hub cache, hash checks,
the offline message, and the CLI's `--weights NAME`. Nothing here touches the network: the cache is
a tmp folder (TORCH_HOME) seeded with files the tests make, and `download_file` is replaced.
"""
from __future__ import annotations

import hashlib
import urllib.error
from pathlib import Path

import pytest
import torch

from extract import weights as W
from extract.weights import PublishedWeights, WeightsError, resolve_weights


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    """An empty torch hub cache, and a download function that fails the test if it is called."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))

    def no_network(url, dst, hash_prefix=""):
        pytest.fail(f"tried to download {url}")

    monkeypatch.setattr(W, "download_file", no_network)
    return tmp_path / "torch-home" / "hub" / "checkpoints"


def state_file(path: Path, seed: int = 0) -> str:
    """A small real state dict saved at `path`; returns its sha256."""
    torch.manual_seed(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(torch.nn.Linear(3, 2).state_dict(), path)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def torchvision_like(tmp_path: Path, seed: int = 0) -> tuple[bytes, str]:
    """Bytes of a state dict and the torchvision-style name its hash gives it."""
    digest = state_file(tmp_path / "made.pth", seed)
    return (tmp_path / "made.pth").read_bytes(), f"net-{digest[:8]}.pth"


def test_cache_folder_follows_torch_home(cache):
    assert W.cache_dir() == cache


def test_cached_file_with_matching_name_hash_loads_without_network(tmp_path, cache):
    data, name = torchvision_like(tmp_path)
    (cache).mkdir(parents=True)
    (cache / name).write_bytes(data)
    table = (PublishedWeights("KINETICS400_V1", f"https://example.invalid/models/{name}",
                              aliases=("kinetics400", "DEFAULT")),)
    for spelled in ("kinetics400", "KINETICS400_V1", "default"):
        path, digest = resolve_weights(spelled, "net", table)
        assert path == cache / name and digest == hashlib.sha256(data).hexdigest()
    state = W.load_state_dict(path)
    assert set(state) == {"weight", "bias"}


def test_cached_file_with_wrong_hash_is_refused(tmp_path, cache):
    data, _ = torchvision_like(tmp_path)
    cache.mkdir(parents=True)
    (cache / "net-0123abcd.pth").write_bytes(data)
    table = (PublishedWeights("KINETICS400_V1", "https://example.invalid/net-0123abcd.pth",
                              aliases=("kinetics400",)),)
    with pytest.raises(WeightsError, match=r"net-0123abcd\.pth: sha256 \w+\.\.\. does not match the "
                                           r"0123abcd in its published name.*delete it"):
        resolve_weights("kinetics400", "net", table)


def test_full_sha256_in_the_table_or_a_pin_is_checked(tmp_path, cache):
    digest = state_file(cache / "NET.pyth")
    good = (PublishedWeights("KINETICS400", "https://example.invalid/NET.pyth", sha256=digest),)
    assert resolve_weights("kinetics400", "net", good)[1] == digest
    bad = (PublishedWeights("KINETICS400", "https://example.invalid/NET.pyth", sha256="0" * 64),)
    with pytest.raises(WeightsError, match=f"sha256 {digest} is not the expected 0{{64}}"):
        resolve_weights("kinetics400", "net", bad)
    with pytest.raises(WeightsError, match="sha256 .* is not the expected f{64}"):
        resolve_weights("kinetics400", "net", good[:1], sha256="F" * 64)
    # a pin also holds for a file given by path
    with pytest.raises(WeightsError, match="differs from the pinned weights_sha256"):
        resolve_weights(cache / "NET.pyth", "net", sha256="a" * 64)
    with pytest.raises(WeightsError, match="64 hex digits"):
        resolve_weights(cache / "NET.pyth", "net", sha256="abc")


def test_no_published_checksum_means_trust_on_first_use(cache, caplog):
    digest = state_file(cache / "X3D_S.pyth")
    table = (PublishedWeights("KINETICS400", "https://example.invalid/X3D_S.pyth", aliases=("kinetics400",)),)
    with caplog.at_level("WARNING"):
        assert resolve_weights("kinetics400", "x3d_s", table) == (cache / "X3D_S.pyth", digest)
    record = cache / "X3D_S.pyth.sha256"
    assert record.read_text().split()[0] == digest
    assert "no published checksum" in caplog.text and digest in caplog.text
    assert resolve_weights("kinetics400", "x3d_s", table)[1] == digest  # the same file: fine
    state_file(cache / "X3D_S.pyth", seed=1)  # the cached file changed since its first use
    with pytest.raises(WeightsError, match=f"differs from {digest} recorded in .*X3D_S.pyth.sha256"):
        resolve_weights("kinetics400", "x3d_s", table)


def test_a_file_its_network_refuses_is_not_recorded_as_trusted(cache):
    """Another network's file in the cache under X3D_S's name: the strict load refused it, but its
    sha256 was already recorded as trusted, and the right file put there after was refused."""
    from extract.weights import load_into, load_state_dict

    table = (PublishedWeights("KINETICS400", "https://example.invalid/X3D_S.pyth", aliases=("kinetics400",)),)
    net = torch.nn.Linear(3, 2)
    cache.mkdir(parents=True, exist_ok=True)
    torch.save(torch.nn.Linear(5, 2).state_dict(), cache / "X3D_S.pyth")  # another network's weights

    def accept(path, _sha):
        load_into(net, load_state_dict(path), source=str(path))

    with pytest.raises(WeightsError, match="does not fit Linear: wrong shapes"):
        resolve_weights("kinetics400", "x3d_s", table, accept=accept)
    assert not (cache / "X3D_S.pyth.sha256").exists()
    digest = state_file(cache / "X3D_S.pyth")  # the right file
    assert resolve_weights("kinetics400", "x3d_s", table, accept=accept) == (cache / "X3D_S.pyth", digest)
    assert (cache / "X3D_S.pyth.sha256").read_text().split()[0] == digest


def test_a_download_that_does_not_read_is_neither_trusted_nor_kept(tmp_path, cache, monkeypatch):
    """A file with no published checksum, cut short on its way (no hash or length checked it): its
    sha256 is not recorded as trusted on first use and the download is deleted, so that the
    complete file fetched next is trusted (the cut copy's hash was recorded, and the genuine file
    refused after it)."""
    whole = tmp_path / "whole.pyth"
    state_file(whole)
    served = [whole.read_bytes()[:300], whole.read_bytes()]

    def download(url, dst, hash_prefix=""):
        Path(dst).parent.mkdir(parents=True, exist_ok=True)
        Path(dst).write_bytes(served.pop(0))

    monkeypatch.setattr(W, "download_file", download)
    table = (PublishedWeights("KINETICS400", "https://example.invalid/X3D_XS.pyth", aliases=("kinetics400",)),)
    with pytest.raises(WeightsError, match="the download does not read as torch weights, so its sha256 is not "
                                           "recorded as trusted; it was deleted"):
        resolve_weights("kinetics400", "x3d_xs", table)
    assert not (cache / "X3D_XS.pyth").exists() and not (cache / "X3D_XS.pyth.sha256").exists()
    path, digest = resolve_weights("kinetics400", "x3d_xs", table)
    assert (cache / "X3D_XS.pyth.sha256").read_text().split()[0] == digest == W.sha256_file(whole)


def test_a_file_that_is_not_torch_weights_is_named_as_such(tmp_path):
    """An HTML page saved as weights, a cut-short legacy pickle: 'not a readable torch file', never
    the advice to load objects in full (nor a traceback)."""
    page = tmp_path / "page.pth"
    page.write_text("<!DOCTYPE html><html><body>Not found</body></html>")
    with pytest.raises(WeightsError, match="not a readable torch file .*Unsupported operand 60") as err:
        W.load_state_dict(page)
    assert "allow_pickle" not in str(err.value) and "weights_only" not in str(err.value)
    legacy = tmp_path / "legacy.pickle"
    torch.save(torch.nn.Linear(3, 2).state_dict(), legacy, _use_new_zipfile_serialization=False)
    cut = tmp_path / "cut.pickle"
    cut.write_bytes(legacy.read_bytes()[:len(legacy.read_bytes()) // 2])
    with pytest.raises(WeightsError, match=r"cut.pickle: not a readable torch file"):
        W.load_state_dict(cut)
    cut.write_bytes(legacy.read_bytes()[:10])  # torch's EOFError is mute: the reason was "()"
    with pytest.raises(WeightsError, match=r"cut.pickle: not a readable torch file \(EOFError: it ends early, cut short\)"):
        W.load_state_dict(cut)


def altered(path: Path, dst: Path) -> Path:
    """A copy of torch.save's zip at `path` with one byte of its first tensor record flipped: the
    zip still reads, torch.load still loads it (it never checks the records' CRC-32)."""
    import struct
    import zipfile

    with zipfile.ZipFile(path) as archive:
        record = next(i for i in archive.infolist() if "/data/" in i.filename)
    data = bytearray(path.read_bytes())
    name_len, extra_len = struct.unpack("<HH", data[record.header_offset + 26:record.header_offset + 30])
    data[record.header_offset + 30 + name_len + extra_len + 1] ^= 0x40
    dst.write_bytes(bytes(data))
    return dst


def test_a_weights_file_with_altered_bytes_is_refused_not_loaded_as_other_weights(tmp_path, cache, monkeypatch):
    """A flipped byte in a tensor (a bad copy, a download damaged on its way) loaded as other weights
    without a word, and a download of it was trusted on first use; now the record's checksum names
    the file as damaged, and a download is deleted."""
    good = tmp_path / "good.pt"
    state_file(good)
    assert torch.load(altered(good, tmp_path / "bad.pt"), weights_only=True)  # torch alone takes it
    with pytest.raises(WeightsError, match=r"bad\.pt: damaged: its record \S+/data/0 fails its checksum"):
        W.load_state_dict(tmp_path / "bad.pt")
    assert set(W.load_state_dict(good)) == {"weight", "bias"}

    monkeypatch.setattr(W, "download_file", lambda url, dst, hash_prefix="": altered(good, Path(dst)))
    table = (PublishedWeights("KINETICS400", "https://example.invalid/X3D_XS.pyth", aliases=("kinetics400",)),)
    with pytest.raises(WeightsError, match="the download does not read as torch weights.*deleted.*damaged"):
        resolve_weights("kinetics400", "x3d_xs", table)
    assert not (cache / "X3D_XS.pyth").exists() and not (cache / "X3D_XS.pyth.sha256").exists()


def test_an_empty_weights_file_is_named_as_empty(tmp_path):
    """A zero-byte file (a failed copy) was 'not a readable torch file ()': torch's EOFError is mute."""
    empty = tmp_path / "empty.pth"
    empty.write_bytes(b"")
    for allow_pickle in (False, True):
        with pytest.raises(WeightsError, match=r"empty\.pth: the file is empty \(0 bytes\)"):
            W.load_state_dict(empty, allow_pickle=allow_pickle)


def test_offline_error_names_the_url_the_file_and_the_folder(cache, monkeypatch):
    calls = []

    def offline(url, dst, hash_prefix=""):
        calls.append((url, Path(dst), hash_prefix))
        raise urllib.error.URLError("[Errno -2] Name or service not known")

    monkeypatch.setattr(W, "download_file", offline)
    url = "https://download.pytorch.org/models/r3d_18-b3b3357e.pth"
    table = (PublishedWeights("KINETICS400_V1", url, aliases=("kinetics400",)),)
    with pytest.raises(WeightsError) as err:
        resolve_weights("kinetics400", "r3d_18", table)
    message = str(err.value)
    assert "cannot download" in message and "Name or service not known" in message
    assert url in message and "named r3d_18-b3b3357e.pth" in message and f"into {cache}/" in message
    assert "--weights /path/to/r3d_18-b3b3357e.pth" in message
    # the download was asked for the right file, checked against the prefix in its name
    assert calls == [(url, cache / "r3d_18-b3b3357e.pth", "b3b3357e")]
    calls.clear()
    with pytest.raises(WeightsError, match=r"missing and downloading is off.*named r3d_18-b3b3357e\.pth"):
        resolve_weights("kinetics400", "r3d_18", table, download=False)
    assert calls == []


def test_a_cache_folder_that_cannot_be_written_is_named_as_such_not_as_no_internet(tmp_path, cache, monkeypatch):
    """A cache under a file (TORCH_HOME mistyped), or one the user may not write: the error said
    "cannot download ... On a machine without internet, fetch the file elsewhere. Put it into <that
    very folder>", advice that cannot be followed. It names the folder and TORCH_HOME; a network
    error still gets the offline advice."""
    url = "https://download.pytorch.org/models/r3d_18-b3b3357e.pth"
    table = (PublishedWeights("KINETICS400_V1", url, aliases=("kinetics400",)),)
    (tmp_path / "a-file").write_text("not a folder")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "a-file" / "torch"))
    with pytest.raises(WeightsError, match=r"cannot write into the weights cache \S+a-file/torch/hub/checkpoints "
                                           r"\(.*Not a directory.*Set TORCH_HOME to a folder you can write") as err:
        resolve_weights("kinetics400", "r3d_18", table)
    assert "without internet" not in str(err.value) and "--weights /path/to/r3d_18-b3b3357e.pth" in str(err.value)

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))

    def refused(url, dst, hash_prefix=""):  # torch hub's temporary file in a folder one may not write
        raise PermissionError(13, "Permission denied", str(Path(dst).parent / "tmpabc123"))

    monkeypatch.setattr(W, "download_file", refused)
    with pytest.raises(WeightsError, match=rf"cannot write into the weights cache {cache} \(.*Permission denied"):
        resolve_weights("kinetics400", "r3d_18", table)

    def reset(url, dst, hash_prefix=""):
        raise ConnectionResetError(104, "Connection reset by peer")

    monkeypatch.setattr(W, "download_file", reset)
    with pytest.raises(WeightsError, match=r"cannot download .*Connection reset.*without internet"):
        resolve_weights("kinetics400", "r3d_18", table)


def test_a_download_cut_short_by_the_server_is_a_weights_error_and_leaves_nothing(tmp_path, monkeypatch):
    """A server (here a local socket, no network) that sends a chunked reply and closes half way:
    torch hub's download raised http.client.IncompleteRead, no OSError, and `videoad extract`
    showed its traceback. Now it is the download error, and nothing is left in the cache."""
    import socket
    import threading

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))
    for name in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    state_file(tmp_path / "whole.pyth")
    data = (tmp_path / "whole.pyth").read_bytes()
    server = socket.create_server(("127.0.0.1", 0))

    def serve_half():
        conn, _ = server.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                         + b"%x\r\n" % len(data) + data[: len(data) // 2])

    thread = threading.Thread(target=serve_half, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.getsockname()[1]}/X3D_XS.pyth"
    table = (PublishedWeights("KINETICS400", url, aliases=("kinetics400",)),)
    try:
        with pytest.raises(WeightsError, match=rf"x3d_xs weights KINETICS400: cannot download {url} "
                                               r"\(IncompleteRead.*Put .* into "):
            resolve_weights("kinetics400", "x3d_xs", table)
    finally:
        thread.join(10)
        server.close()
    assert list(W.cache_dir().iterdir()) == []


def test_download_lands_once_in_the_cache(tmp_path, cache, monkeypatch):
    data, name = torchvision_like(tmp_path)
    calls = []

    def fake_download(url, dst, hash_prefix=""):
        calls.append(url)
        Path(dst).write_bytes(data)

    monkeypatch.setattr(W, "download_file", fake_download)
    table = (PublishedWeights("KINETICS400_V1", f"https://example.invalid/{name}", aliases=("kinetics400",)),)
    first = resolve_weights("kinetics400", "net", table)
    second = resolve_weights("KINETICS400_V1", "net", table)
    assert first == second and first[0] == cache / name and len(calls) == 1


def test_a_failed_hash_during_download_is_reported(cache, monkeypatch):
    def corrupt(url, dst, hash_prefix=""):
        raise RuntimeError(f'invalid hash value (expected "{hash_prefix}", got "ffff")')

    monkeypatch.setattr(W, "download_file", corrupt)
    table = (PublishedWeights("KINETICS400_V1", "https://example.invalid/net-0123abcd.pth"),)
    with pytest.raises(WeightsError, match="failed its hash check.*0123abcd.*nothing was kept"):
        resolve_weights("KINETICS400_V1", "net", table)
    assert not (cache / "net-0123abcd.pth").exists()


def test_files_win_and_unknown_names_list_the_known_ones(tmp_path, cache):
    table = (PublishedWeights("KINETICS400_V1", "https://example.invalid/net-0123abcd.pth",
                              aliases=("kinetics400", "DEFAULT")),)
    digest = state_file(tmp_path / "mine.pth")
    assert resolve_weights(tmp_path / "mine.pth", "net", table) == (tmp_path / "mine.pth", digest)
    with pytest.raises(WeightsError, match=r"'kinetics700' is neither an existing file nor a "
                                           r"published name; give a published name "
                                           r"\(KINETICS400_V1, kinetics400, DEFAULT\)"):
        resolve_weights("kinetics700", "net", table)
    with pytest.raises(WeightsError, match="c3d has no published weights"):
        resolve_weights("sports1m", "c3d", ())
    with pytest.raises(WeightsError, match=r"missing\.pth: weights file not found"):
        resolve_weights(tmp_path / "missing.pth", "net", table)
    with pytest.raises(WeightsError, match="not a file"):
        resolve_weights(tmp_path, "net", table)


def test_c3d_takes_a_pinned_file_and_refuses_names(tmp_path, cache):
    from extract.backbones.c3d import C3DBackbone
    from test_c3d import small_weights

    path = small_weights(tmp_path)
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    assert C3DBackbone(weights=path, width=16, weights_sha256=digest).describe()["weights_sha256"] == digest
    with pytest.raises(WeightsError, match="c3d has no published weights that videoad can fetch"):
        C3DBackbone(weights="sports1m", width=16)


def test_cli_weights_takes_names_and_checks_paths(tmp_path, cache):
    from click.testing import CliRunner

    from test_c3d import tiny_video
    from videoad.cli import cli

    video = tiny_video(tmp_path / "v.avi")
    base = ["extract", str(video), "-o", str(tmp_path / "f"), "--backbone", "c3d", "-q",
            "--backbone-opt", "width=16"]
    result = CliRunner().invoke(cli, base + ["--weights", str(tmp_path / "nope.pickle")])
    assert result.exit_code == 2 and "does not exist" in result.output
    result = CliRunner().invoke(cli, base + ["--weights", str(tmp_path)])
    assert result.exit_code == 2 and "is a folder" in result.output
    # a bare name passes the option and reaches the backbone, whose refusal says what it takes
    result = CliRunner().invoke(cli, base + ["--weights", "sports1m"])
    assert result.exit_code == 2 and "neither an existing file nor a published name" in result.output


@pytest.mark.parametrize("module, cls, arch, hidden", [
    ("extract.backbones.torchvision_nets", "TorchvisionBackbone", "r3d_18", "torchvision.models.video"),
    ("extract.backbones.ptv_nets", "PTVBackbone", "x3d_s", "pytorchvideo.models.hub"),
])
def test_a_network_whose_library_is_missing_says_so_before_asking_for_weights(monkeypatch, module, cls, arch,
                                                                               hidden):
    """Without torchvision (pytorchvideo) the first error is the missing library and how to install
    it: asking for weights first sent a user to fetch a file they could not use."""
    import importlib
    import sys

    backbone = getattr(importlib.import_module(module), cls)
    monkeypatch.setitem(sys.modules, hidden, None)  # `import` of it raises ImportError
    with pytest.raises(ImportError, match="unavailable.*extra"):
        backbone(arch)


def test_an_empty_trust_record_is_no_record_and_a_new_one_is_written_whole(cache, monkeypatch):
    """The trust-on-first-use record beside a file with no published checksum was written in place:
    a first use killed mid-write (or another process's first use at the same moment: shards, Ray
    actors) left it empty, and the good file was then refused as "differs from  recorded"."""
    from extract import store

    digest = state_file(cache / "X3D_S.pyth")
    table = (PublishedWeights("KINETICS400", "https://example.invalid/X3D_S.pyth", aliases=("kinetics400",)),)
    record = cache / "X3D_S.pyth.sha256"
    record.write_text("")
    written = []
    real = store.write_atomic
    monkeypatch.setattr(store, "write_atomic", lambda path, data: written.append(Path(path).name) or real(path, data))
    assert resolve_weights("kinetics400", "x3d_s", table) == (cache / "X3D_S.pyth", digest)
    assert record.read_text().split()[0] == digest and written == ["X3D_S.pyth.sha256"]
    record.write_text("not a digest\n")  # nor does a record holding no sha256 refuse the file
    assert resolve_weights("kinetics400", "x3d_s", table)[1] == digest
