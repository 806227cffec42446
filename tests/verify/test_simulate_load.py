"""``hwssm sim`` on LOAD-storage cores (the UP5K profile's): the wrapper streams ``params.hex``
through the load port after reset, then the real MNIST digits run and every block output of
every step, every logit and class is compared with the golden engine, the cycles per digit with
the cycle model, the load time reported apart. A tiny random S4D and the tiny trained S5 of the
UP5K cost tests; a corrupted image word makes the run fail; an image that does not match its
manifest digest is refused in one line."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from hwssm.cli import main
from hwssm.hw.emit import read_image, write_image
from hwssm.hw.options import DesignPoint, ParamStorage
from hwssm.quant.qmodel_io import save_qmodel
from hwssm.quant.random_qmodel import random_qmodel

S5_TINY = Path(__file__).resolve().parents[1] / "hw" / "cost" / "data" / "s5_tiny_up5k.qmodel.json"


@pytest.fixture(scope="module")
def s4d_model(tmp_path_factory):
    return save_qmodel(random_qmodel(3, 2, 1, seed=21), tmp_path_factory.mktemp("m") / "s4d_small")


def _sim(capsys, argv) -> tuple[int, dict]:
    rc = main(["sim", *argv, "--jobs", "1", "--json"])
    cap = capsys.readouterr()
    assert cap.out.strip(), cap.err
    return rc, json.loads(cap.out)


def _load_ok(out: dict) -> None:
    assert out["ok"] and out["mismatches"] == 0 and out["errors"] == [] and out["first_mismatch"] is None
    assert out["cycles_per_digit"] == out["model_cycles_per_digit"]
    assert out["cycles_per_step"] == out["model_cycles_per_step"]
    # one word a cycle: the core takes the image as fast as it is offered
    assert out["load_words"] > 0 and out["load_cycles"] == out["load_words"]


@pytest.mark.verilator
def test_s4d_load_design_is_bit_exact(s4d_model, capsys):
    rc, out = _sim(capsys, ["--model", str(s4d_model), "--lanes", "2", "--storage", "load", "--indices", "0,5"])
    assert rc == 0, out
    _load_ok(out)
    assert out["digits"] == 2
    assert json.loads((Path(out["rtl"]) / "manifest.json").read_text())["storage"] == "load"


@pytest.mark.verilator
def test_s5_load_design_on_the_up5k_profile_is_bit_exact(capsys):
    rc, out = _sim(capsys, ["--model", str(S5_TINY), "--lanes", "1", "--profile", "up5k", "--indices", "3"])
    assert rc == 0, out
    _load_ok(out)
    man = json.loads((Path(out["rtl"]) / "manifest.json").read_text())
    assert man["storage"] == "load" and man["family"] == "s5"


def _corrupt(rtl: Path, index: int, flip: int, *, keep_digest: bool) -> None:
    """XOR word ``index`` of the load image with ``flip``; with ``keep_digest`` False the
    manifest's digests (``files`` and ``load.sha256``) are updated to the edited image (so only
    the simulation can tell)."""
    man_path, img = rtl / "manifest.json", rtl / "params.hex"
    words = read_image(img)
    words[index] ^= flip
    write_image(img, words)
    if not keep_digest:
        man = json.loads(man_path.read_text())
        man["load"]["sha256"] = hashlib.sha256(np.asarray(words, dtype="<u2").tobytes()).hexdigest()
        man["files"][img.name] = hashlib.sha256(img.read_bytes()).hexdigest()
        man_path.write_text(json.dumps(man))


@pytest.mark.verilator
def test_a_corrupted_image_word_fails(s4d_model, capsys, tmp_path):
    from hwssm.quant.qmodel_io import load_qmodel
    from hwssm.verify.rtlgen import rtl_dir

    qm = load_qmodel(s4d_model)
    rtl = Path(shutil.copytree(rtl_dir(qm, DesignPoint(2, storage=ParamStorage.LOAD)), tmp_path / "rtl"))
    _corrupt(rtl, 0, 0xFFFF, keep_digest=False)  # lane 0, slot 0: every bit of Ar and Ai
    rc, out = _sim(capsys, ["--model", str(s4d_model), "--rtl", str(rtl), "--indices", "0"])
    assert rc == 1 and not out["ok"] and out["mismatches"] == 1
    assert out["first_mismatch"] is not None and out["reproduce"].endswith("--indices 0")


def test_an_image_unlike_its_manifest_is_refused(s4d_model, capsys, tmp_path):
    from hwssm.quant.qmodel_io import load_qmodel
    from hwssm.verify.rtlgen import rtl_dir

    qm = load_qmodel(s4d_model)
    rtl = Path(shutil.copytree(rtl_dir(qm, DesignPoint(2, storage=ParamStorage.LOAD)), tmp_path / "rtl"))
    _corrupt(rtl, 3, 1, keep_digest=True)
    assert main(["sim", "--model", str(s4d_model), "--rtl", str(rtl), "--indices", "0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("hwssm: error: ") and "params.hex" in err[-1] and "SHA-256" in err[-1]


@pytest.mark.verilator
def test_the_profile_guided_build_of_a_load_design_trains(s4d_model, tmp_path, monkeypatch):
    """The PGO training run also streams the image in (without it the wrapper stops at once
    and the build falls back to no profile)."""
    from hwssm.quant.qmodel_io import load_qmodel
    from hwssm.verify.build import STAMP, BuildOptions, build
    from hwssm.verify.contract import load_contract
    from hwssm.verify.rtlgen import rtl_dir

    monkeypatch.setenv("HWSSM_CACHE", str(tmp_path / "cache"))  # a fresh build, not a cached one
    contract = load_contract(rtl_dir(load_qmodel(s4d_model), DesignPoint(2, storage=ParamStorage.LOAD)))
    assert contract.load is not None and contract.load.words > 0
    b = build(contract, BuildOptions(pgo=True))
    assert b.pgo and not b.cached
    assert json.loads((b.dir / STAMP).read_text())["pgo_error"] is None


def test_the_wrapper_drives_the_load_port(s4d_model):
    """A LOAD core's contract names its load port and image; the wrapper connects the port
    (not tied to 0 as an extra input) and reads the image named by a plusarg."""
    from hwssm.quant.qmodel_io import load_qmodel
    from hwssm.verify.contract import load_contract
    from hwssm.verify.rtlgen import rtl_dir
    from hwssm.verify.wrapper import load_plusargs, wrapper_text

    c = load_contract(rtl_dir(load_qmodel(s4d_model), DesignPoint(2, storage=ParamStorage.LOAD)))
    ld = c.load
    assert (ld.valid, ld.ready, ld.data, ld.width) == ("load_valid", "load_ready", "load_data", 16)
    assert ld.words == len(read_image(ld.image)) and not any(n.startswith("load_") for n, _ in c.extra_inputs)
    text = wrapper_text(c, 784)
    assert ".load_valid(ld_valid)" in text and ".load_data(ld_data)" in text and ".load_ready(ld_ready)" in text
    assert f"localparam integer LOAD_WORDS = {ld.words};" in text and "hwssm_params=%s" in text
    assert load_plusargs(c) == [f"+hwssm_params={ld.image}"]
    rom = load_contract(Path(__file__).resolve().parents[2] / "rtl" / "hetero_P4")
    assert rom.load is None and load_plusargs(rom) == [] and "ld_valid" not in wrapper_text(rom, 784)
