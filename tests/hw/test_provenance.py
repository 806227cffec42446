"""RTL provenance: the manifest's ``files`` SHA-256, checked by every reader (hwssm/hw/manifest.py
through hwssm/synth/rtl.load_rtl, which the simulation contract, synthesis and the flow use),
and the RTL directory committed as a set (a torn write is detected)."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from hwssm.cli import main
from hwssm.errors import HwssmError
from hwssm.hw import emit
from hwssm.hw.emit import MANIFEST_NAME, PARAMS_NAME, VERILOG_NAME, generate
from hwssm.hw.manifest import check_files, file_digests
from hwssm.hw.options import DesignPoint
from hwssm.hw.storage import ParamStorage
from hwssm.quant.plan import resolve_plan
from hwssm.quant.qmodel_io import save_qmodel
from hwssm.quant.random_qmodel import random_qmodel
from hwssm.synth.rtl import load_rtl
from hwssm.verify.contract import load_contract

PLAN = "A8x8-W8-a8-h-asym"


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """A generated tiny core (ROM storage) and its QModel."""
    out = tmp_path_factory.mktemp("rtl") / "core"
    qm = random_qmodel(3, 2, 1, resolve_plan(PLAN), seed=5)
    generate(qm, DesignPoint(3, 6), out)
    return out, qm


@pytest.fixture
def rtl(generated, tmp_path):
    """A fresh copy of the generated directory, to spoil."""
    return shutil.copytree(generated[0], tmp_path / "rtl")


def _refused(path, *fragments):
    for reader in (load_rtl, load_contract):
        with pytest.raises(HwssmError) as e:
            reader(path)
        msg = str(e.value)
        assert "\n" not in msg
        for f in fragments:
            assert f in msg, msg


def test_the_manifest_hashes_every_file_and_the_directory_loads(generated):
    out, _ = generated
    man = json.loads((out / MANIFEST_NAME).read_text())
    assert man["files"] == file_digests(out, [VERILOG_NAME])
    assert sorted(p.name for p in out.iterdir()) == [VERILOG_NAME, MANIFEST_NAME]  # no staging left behind
    assert not list(out.parent.glob(".*.tmp"))
    assert [p.name for p in load_contract(out).sources] == [VERILOG_NAME]


def test_an_edited_verilog_file_is_refused_naming_it(rtl):
    v = rtl / VERILOG_NAME
    v.write_text(v.read_text().replace("endmodule", "endmodule // edited", 1))
    _refused(rtl, str(v), "differs from the SHA-256", "regenerate")


def test_an_extra_verilog_file_is_refused_naming_it(rtl):
    (rtl / "extra.v").write_text("module extra(); endmodule\n")
    _refused(rtl, str(rtl / "extra.v"), "not named in")


@pytest.mark.parametrize("name", ["notes.txt", "params.hex", "x.sv"])
def test_any_unnamed_file_is_refused(rtl, name):
    (rtl / name).write_text("0000\n")
    _refused(rtl, str(rtl / name), "not named in")


def test_a_missing_named_file_is_refused(rtl):
    (rtl / VERILOG_NAME).unlink()
    _refused(rtl, str(rtl / VERILOG_NAME), "is missing")


def test_a_manifest_without_files_says_to_regenerate(rtl):
    man = json.loads((rtl / MANIFEST_NAME).read_text())
    del man["files"]
    (rtl / MANIFEST_NAME).write_text(json.dumps(man))
    _refused(rtl, "records no SHA-256", "regenerate")


@pytest.mark.parametrize("files, message", [
    ([], "must be a non-empty object"),
    ({}, "must be a non-empty object"),
    ({VERILOG_NAME: "abc"}, "64 lower-case hex digits"),
    ({VERILOG_NAME: 5}, "64 lower-case hex digits"),
    ({"../hwssm_core.v": "0" * 64}, "plain file name"),
    ({"/etc/passwd": "0" * 64}, "plain file name"),
    ({MANIFEST_NAME: "0" * 64}, "must not name the manifest"),
])
def test_a_malformed_files_object_is_refused(rtl, files, message):
    man = json.loads((rtl / MANIFEST_NAME).read_text())
    man["files"] = files
    (rtl / MANIFEST_NAME).write_text(json.dumps(man))
    _refused(rtl, message)


def test_io_temporary_files_and_subdirectories_are_ignored(rtl):
    (rtl / f".{VERILOG_NAME}~123~abcdefgh.tmp").write_text("partial")
    (rtl / "sub").mkdir()
    assert check_files(rtl, json.loads((rtl / MANIFEST_NAME).read_text())) == (rtl / VERILOG_NAME,)


def test_a_torn_write_is_detected(generated, tmp_path, monkeypatch):
    """A crash between the renames of a regeneration (new Verilog, old manifest) is refused."""
    out = shutil.copytree(generated[0], tmp_path / "rtl")
    other = random_qmodel(3, 2, 1, resolve_plan(PLAN), seed=6)
    real = os.replace

    def crash_on_manifest(src, dst):
        if str(dst) == str(out / MANIFEST_NAME):  # the commit's last rename (not the staging write)
            raise OSError("simulated crash before the manifest's rename")
        return real(src, dst)

    monkeypatch.setattr(emit.staged_dir.__globals__["os"], "replace", crash_on_manifest)
    with pytest.raises(OSError, match="simulated crash"):
        generate(other, DesignPoint(3, 6), out)
    monkeypatch.setattr(emit.staged_dir.__globals__["os"], "replace", real)
    assert not list(tmp_path.glob(".*.tmp"))  # the staging directory is removed
    _refused(out, str(out / VERILOG_NAME), "differs from the SHA-256")
    generate(other, DesignPoint(3, 6), out)  # regenerating repairs it
    assert load_rtl(out).manifest["model_digest"] == other.digest()


def test_a_load_design_names_its_image_and_a_stale_image_is_removed(generated, tmp_path):
    qm = generated[1]
    out = tmp_path / "rtl"
    man = generate(qm, DesignPoint(3, 6, storage=ParamStorage.LOAD), out)
    assert set(man["files"]) == {VERILOG_NAME, PARAMS_NAME}
    assert man["files"] == file_digests(out, [VERILOG_NAME, PARAMS_NAME])
    load_rtl(out)
    (out / PARAMS_NAME).write_text((out / PARAMS_NAME).read_text().replace("0", "1", 1))
    _refused(out, str(out / PARAMS_NAME), "differs from the SHA-256")
    generate(qm, DesignPoint(3, 6), out)  # ROM again: the image is gone, the directory loads
    assert not (out / PARAMS_NAME).exists() and set(load_rtl(out).manifest["files"]) == {VERILOG_NAME}


@pytest.mark.parametrize("command", ["sim", "synth"])
def test_the_cli_refuses_an_edited_directory_with_one_line(rtl, generated, tmp_path, command, capsys):
    (rtl / "extra.v").write_text("module extra(); endmodule\n")
    if command == "sim":
        model = save_qmodel(generated[1], tmp_path / "m")
        argv = ["sim", "--model", str(model), "--rtl", str(rtl), "--digits", "1"]
    else:
        argv = ["synth", "--rtl", str(rtl), "--device", "up5k"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("hwssm: error: ") and "extra.v" in err[0], err


def test_the_flow_copies_a_directory_as_a_set_dropping_stale_files(generated, tmp_path):
    from hwssm.flow import _copy_rtl

    dst = tmp_path / "out" / "rtl" / "sim_P3"
    dst.mkdir(parents=True)
    (dst / PARAMS_NAME).write_text("0000\n")  # an earlier LOAD design's image
    (dst / VERILOG_NAME).write_text("old")
    _copy_rtl(generated[0], dst)
    assert sorted(p.name for p in dst.iterdir()) == [VERILOG_NAME, MANIFEST_NAME]
    assert load_rtl(dst).manifest == load_rtl(generated[0]).manifest
    assert not list(dst.parent.glob(".*.tmp"))
