"""MNIST loading on the real files, and every way the files can be missing or wrong.

The real files are found through the normal search order (CI sets HWSSM_DATA;
from the repository root ../shared/data/mnist is found). Bad files are built in
tmp_path and put first in the search order with HWSSM_DATA.
"""

from __future__ import annotations

import gzip
import io
import urllib.error
from pathlib import Path

import numpy as np
import pytest

from hwssm import config
from hwssm.data import T, Split, check, load_mnist, psmnist_permutation, sequences, split_indices
from hwssm.data import mnist
from hwssm.errors import HwssmError

GZ = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    """No test here touches the network: the opener fails like an offline machine."""

    def refuse(url, timeout):
        raise urllib.error.URLError("offline (test)")

    monkeypatch.setattr(mnist, "_urlopen", refuse)


@pytest.fixture(scope="module")
def real_dir() -> Path:
    return check().path


def make_dir(root: Path, real_dir: Path, files: dict[str, bytes]) -> Path:
    """A data directory: ``files`` written as given, the other MNIST .gz files linked to the real ones."""
    d = root / "mnist"
    d.mkdir()
    for name in GZ:
        if name not in files and name.removesuffix(".gz") not in files:
            (d / name).symlink_to(real_dir / name)
    for name, data in files.items():
        (d / name).write_bytes(data)
    return d


def one_line_error(excinfo) -> str:
    message = str(excinfo.value)
    assert message and "\n" not in message
    return message


# --- the real files -------------------------------------------------------------


def test_check_real():
    report = check()
    assert (report.train, report.test, report.verified) == (60000, 10000, True)
    assert all((report.path / name).is_file() for name in GZ)
    assert report.as_dict() == {"train": 60000, "test": 10000, "verified": True, "path": str(report.path)}


def test_load_test_split():
    images, labels = load_mnist(Split.TEST)
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (10000,) and labels.dtype == np.uint8
    assert labels[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert np.bincount(labels).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert images.max() == 255 and images.min() == 0
    assert not images.flags.writeable and not labels.flags.writeable
    again = load_mnist(Split.TEST)
    assert again[0] is images and again[1] is labels  # decoded once per process


def test_splits():
    full_images, full_labels = load_mnist(Split.TRAIN_FULL)
    assert full_images.shape == (60000, 28, 28)
    assert full_labels[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    train, val = split_indices(Split.TRAIN), split_indices(Split.VAL)
    assert (len(train), len(val)) == (55000, 5000)
    assert np.intersect1d(train, val).size == 0
    np.testing.assert_array_equal(np.union1d(train, val), np.arange(60000))
    np.testing.assert_array_equal(split_indices(Split.VAL), val)  # deterministic
    assert val[:8].tolist() == [0, 11, 33, 43, 45, 47, 91, 97]  # pinned: the split never moves
    for split, idx in ((Split.TRAIN, train), (Split.VAL, val)):
        images, labels = load_mnist(split)
        np.testing.assert_array_equal(images, full_images[idx])
        np.testing.assert_array_equal(labels, full_labels[idx])
        assert not images.flags.writeable
    assert np.bincount(load_mnist(Split.VAL)[1], minlength=10).min() > 400  # every class in VAL


def test_sequences_row_major():
    images, _ = load_mnist(Split.TEST)
    seq = sequences(images[:5])
    assert seq.shape == (5, T) and T == 784 and seq.dtype == np.uint8
    for t in (0, 27, 28, 29, 300, 783):
        np.testing.assert_array_equal(seq[:, t], images[:5, t // 28, t % 28])
    synthetic = np.arange(784, dtype=np.int64).reshape(1, 28, 28)
    assert sequences((synthetic % 256).astype(np.uint8))[0, 28 * 3 + 5] == (28 * 3 + 5) % 256


def test_psmnist_permutation():
    p0 = psmnist_permutation(0)
    assert p0.shape == (784,) and p0.dtype == np.int64
    np.testing.assert_array_equal(np.sort(p0), np.arange(784))
    np.testing.assert_array_equal(psmnist_permutation(0), p0)
    assert not np.array_equal(psmnist_permutation(1), p0)
    assert p0[:8].tolist() == [318, 2, 606, 446, 758, 13, 98, 539]  # pinned: trained models depend on it
    images, _ = load_mnist(Split.TEST)
    plain, permuted = sequences(images[:3]), sequences(images[:3], p0)
    np.testing.assert_array_equal(permuted, plain[:, p0])
    np.testing.assert_array_equal(np.sort(permuted, axis=1), np.sort(plain, axis=1))


@pytest.mark.parametrize(
    "call",
    [
        lambda: psmnist_permutation(-1),
        lambda: psmnist_permutation(1.5),
        lambda: sequences(np.zeros((2, 28, 28), np.uint8), np.zeros(784, np.int64)),
        lambda: sequences(np.zeros((2, 28, 28), np.uint8), np.arange(783)),
        lambda: sequences(np.zeros((2, 784), np.uint8)),
        lambda: sequences(np.zeros((2, 28, 28), np.float32)),
        lambda: load_mnist("test"),
    ],
)
def test_bad_arguments(call):
    with pytest.raises(HwssmError) as excinfo:
        call()
    one_line_error(excinfo)


# --- bad files: an error, never a fall-back to the good shared copy ---------------------


def _real(real_dir: Path, name: str) -> bytes:
    return gzip.decompress((real_dir / (name + ".gz")).read_bytes())


def _bad_files(case: str, real_dir: Path) -> tuple[dict[str, bytes], str, str]:
    """(files to write, the file the error must name, text it must contain)."""
    labels = _real(real_dir, "t10k-labels-idx1-ubyte")
    gz = (real_dir / "t10k-labels-idx1-ubyte.gz").read_bytes()
    name = "t10k-labels-idx1-ubyte"
    if case == "truncated-gz":
        return {name + ".gz": gz[: len(gz) // 2]}, name + ".gz", "truncated gzip"
    if case == "wrong-magic":
        return {name + ".gz": gzip.compress(b"\0\0\x08\x03" + labels[4:])}, name + ".gz", "magic number is 2051"
    if case == "checksum":  # the right content, re-compressed: not the original file
        return {name + ".gz": gzip.compress(labels, mtime=0)}, name + ".gz", "SHA-256 mismatch"
    if case == "trailing-raw":
        return {name: labels + b"\0"}, name, "trailing data"
    if case == "truncated-raw":
        return {name: labels[:-10]}, name, "truncated"
    if case == "wrong-count-raw":
        return {name: labels[:4] + (9999).to_bytes(4, "big") + labels[8:-1]}, name, "dimensions are 9999, expected 10000"
    if case == "bad-label-raw":
        return {name: labels[:-1] + b"\x0a"}, name, "label 10 is out of range"
    raise AssertionError(case)


BAD = ["truncated-gz", "wrong-magic", "checksum", "trailing-raw", "truncated-raw", "wrong-count-raw", "bad-label-raw"]


@pytest.mark.parametrize("case", BAD)
def test_bad_file_is_an_error(case, tmp_path, monkeypatch, real_dir):
    files, culprit, text = _bad_files(case, real_dir)
    bad = make_dir(tmp_path, real_dir, files)
    monkeypatch.setenv("HWSSM_DATA", str(bad))
    # From the repository root the good copy (../shared/data/mnist) is still in the
    # search order after HWSSM_DATA; it must not be fallen back to.
    with pytest.raises(HwssmError) as excinfo:
        load_mnist(Split.TEST)
    message = one_line_error(excinfo)
    assert str(bad / culprit) in message and text in message
    with pytest.raises(HwssmError):
        check()


def test_incomplete_directory_is_an_error(tmp_path, monkeypatch, real_dir):
    d = tmp_path / "partial"
    d.mkdir()
    for name in GZ[:3]:
        (d / name).symlink_to(real_dir / name)
    monkeypatch.setenv("HWSSM_DATA", str(d))
    with pytest.raises(HwssmError) as excinfo:
        load_mnist(Split.TRAIN)
    message = one_line_error(excinfo)
    assert str(d) in message and "only 3 of the 4" in message and "t10k-labels-idx1-ubyte.gz" in message


def test_raw_files_accepted_unverified(tmp_path, monkeypatch, real_dir):
    files = {stem: _real(real_dir, stem) for stem in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}
    d = make_dir(tmp_path, real_dir, files)
    monkeypatch.setenv("HWSSM_DATA", str(d))
    report = check()
    assert (report.train, report.test, report.verified, report.path) == (60000, 10000, False, d)
    images, labels = load_mnist(Split.TEST)
    np.testing.assert_array_equal(labels[:3], [7, 2, 1])


# --- nothing anywhere: the cache and the download ------------------------------------


@pytest.fixture
def nowhere(tmp_path, monkeypatch) -> Path:
    """No data directory holds MNIST; the cache is empty; returns the cache's mnist folder."""
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setattr(config, "data_dirs", lambda: [empty])
    monkeypatch.setenv("HWSSM_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache" / "mnist"


def test_missing_everywhere_offline(nowhere):
    with pytest.raises(HwssmError) as excinfo:
        load_mnist(Split.TEST)
    message = one_line_error(excinfo)
    assert "HWSSM_DATA" in message and "offline (test)" in message and mnist.MIRROR in message
    assert all(name in message for name in GZ)
    assert not nowhere.exists() or not any(nowhere.iterdir())  # nothing partial left


def _serve(real_dir: Path, requests: list[str], *, break_after: int | None = None, corrupt: bool = False):
    def opener(url, timeout):
        assert url.startswith(mnist.MIRROR) and 0 < timeout <= 60
        requests.append(url.rsplit("/", 1)[1])
        data = (real_dir / requests[-1]).read_bytes()
        if corrupt:
            data = data[:-1] + bytes([data[-1] ^ 1])
        if break_after is None:
            return io.BytesIO(data)

        class Broken(io.BytesIO):
            def read(self, n=-1):
                if self.tell() >= break_after:
                    raise TimeoutError("the read operation timed out")
                return super().read(min(n, break_after))

        return Broken(data)

    return opener


def test_download_into_cache(nowhere, monkeypatch, real_dir):
    nowhere.mkdir(parents=True)
    (nowhere / GZ[1]).symlink_to(real_dir / GZ[1])  # already cached: not fetched again
    requests: list[str] = []
    monkeypatch.setattr(mnist, "_urlopen", _serve(real_dir, requests))
    report = check()
    assert (report.train, report.test, report.verified, report.path) == (60000, 10000, True, nowhere)
    assert requests == [GZ[0], GZ[2], GZ[3]]
    assert sorted(p.name for p in nowhere.iterdir()) == sorted(GZ)  # no temporary files left
    check()
    assert len(requests) == 3


def test_interrupted_download_leaves_nothing(nowhere, monkeypatch, real_dir):
    requests: list[str] = []
    monkeypatch.setattr(mnist, "_urlopen", _serve(real_dir, requests, break_after=1000))
    with pytest.raises(HwssmError) as excinfo:
        load_mnist(Split.TEST)
    message = one_line_error(excinfo)
    assert "timed out" in message and "HWSSM_DATA" in message
    assert requests == [GZ[0]]  # gives up at the first failure
    assert list(nowhere.iterdir()) == []


def test_download_checksum_mismatch(nowhere, monkeypatch, real_dir):
    requests: list[str] = []
    monkeypatch.setattr(mnist, "_urlopen", _serve(real_dir, requests, corrupt=True))
    with pytest.raises(HwssmError) as excinfo:
        load_mnist(Split.TEST)
    assert "SHA-256" in one_line_error(excinfo)
    assert list(nowhere.iterdir()) == []
