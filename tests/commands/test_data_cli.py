"""``hwssm data check`` and ``hwssm data show`` through :func:`hwssm.cli.main`."""

from __future__ import annotations

import gzip
import json
import urllib.error
from pathlib import Path

import pytest

from hwssm import config
from hwssm.cli import main
from hwssm.data import check, mnist

GZ = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    def refuse(url, timeout):
        raise urllib.error.URLError("offline (test)")

    monkeypatch.setattr(mnist, "_urlopen", refuse)


@pytest.fixture(scope="module")
def real_dir() -> Path:
    return check().path


def one_error_line(capsys) -> str:
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert captured.out == "" and len(lines) == 1 and lines[0].startswith("hwssm: error: ")
    return lines[0]


def test_check_json(capsys):
    assert main(["data", "check", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report) == {"train", "test", "verified", "path"}
    assert (report["train"], report["test"], report["verified"]) == (60000, 10000, True)
    assert all((Path(report["path"]) / name).is_file() for name in GZ)


def test_check_text(capsys):
    assert main(["data", "check"]) == 0
    out = capsys.readouterr().out.strip()
    assert len(out.splitlines()) == 1
    assert "60000 train" in out and "10000 test" in out and "SHA-256 verified" in out


def _bad(case: str, real_dir: Path) -> bytes:
    gz = (real_dir / "t10k-labels-idx1-ubyte.gz").read_bytes()
    labels = gzip.decompress(gz)
    return {
        "truncated-gz": gz[:-100],
        "wrong-magic": gzip.compress(b"\0\0\x08\x03" + labels[4:]),
        "checksum": gzip.compress(labels, mtime=0),
        "wrong-size": gzip.compress(labels + b"\0\0\0"),
    }[case]


@pytest.mark.parametrize(
    "case, text",
    [
        ("truncated-gz", "truncated gzip"),
        ("wrong-magic", "magic number"),
        ("checksum", "SHA-256 mismatch"),
        ("wrong-size", "trailing data"),
    ],
)
def test_check_bad_file_exits_2(case, text, tmp_path, monkeypatch, capsys, real_dir):
    d = tmp_path / "mnist"
    d.mkdir()
    for name in GZ[:3]:
        (d / name).symlink_to(real_dir / name)
    (d / GZ[3]).write_bytes(_bad(case, real_dir))
    monkeypatch.setenv("HWSSM_DATA", str(d))
    assert main(["data", "check", "--json"]) == 2
    line = one_error_line(capsys)
    assert str(d / GZ[3]) in line and text in line


def test_check_missing_everywhere_exits_2(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(config, "data_dirs", lambda: [tmp_path / "nothing"])
    monkeypatch.setenv("HWSSM_CACHE", str(tmp_path / "cache"))
    assert main(["data", "check"]) == 2
    line = one_error_line(capsys)
    assert "HWSSM_DATA" in line and all(name in line for name in GZ)


def test_show_writes_png(tmp_path, capsys):
    out = tmp_path / "digit.png"
    assert main(["data", "show", "--index", "0", "--out", str(out)]) == 0
    data = out.read_bytes()
    assert data.startswith(PNG_SIGNATURE) and len(data) > 10_000
    assert str(out) in capsys.readouterr().out
    assert [p.name for p in tmp_path.iterdir()] == ["digit.png"]  # no temporary file left


def test_show_permuted_train(tmp_path):
    out = tmp_path / "p.png"
    assert main(["data", "show", "--index", "3", "--split", "val", "--permuted-seed", "1", "--out", str(out)]) == 0
    assert out.read_bytes().startswith(PNG_SIGNATURE)


@pytest.mark.parametrize("argv", [["--index", "10000"], ["--index", "-1"], ["--index", "0", "--permuted-seed", "-3"]])
def test_show_bad_arguments_exit_2(argv, tmp_path, capsys):
    out = tmp_path / "x.png"
    assert main(["data", "show", *argv, "--out", str(out)]) == 2
    one_error_line(capsys)
    assert not out.exists()


def test_data_without_action(capsys):
    assert main(["data"]) == 2
    assert "check" in capsys.readouterr().out
