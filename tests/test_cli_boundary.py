"""The CLI error boundary: every bad input or bad environment is one line and exit 2, nothing written;
a bug shows its traceback and says so (exit 1); HWSSM_DEBUG=1 shows every traceback.

Each row of CASES is one bad input found by an adversarial run of the CLI (issue 17)."""

from __future__ import annotations

import hashlib
import io
import json
import os
from pathlib import Path

import numpy as np
import pytest

from hwssm import cli
from hwssm.cli import main
from hwssm.model.checkpoint import init_params, save_checkpoint
from hwssm.model.config import S4DConfig
from hwssm.quant.plan import parse_code
from hwssm.quant.qmodel_io import qmodel_paths, save_qmodel
from hwssm.quant.random_qmodel import random_qmodel

TINY = S4DConfig(H=4, N=4, L=1)
UNWRITABLE = Path("/sys/hwssm-test")  # sysfs: no new files, not even for root


@pytest.fixture
def env(tmp_path, monkeypatch):
    """cwd = tmp_path with models/tiny (checkpoint), models/q (QModel), a file 'afile', a directory 'adir'."""
    monkeypatch.setenv("HWSSM_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("HWSSM_DEBUG", raising=False)
    monkeypatch.chdir(tmp_path)
    save_checkpoint(tmp_path / "models" / "tiny", TINY, init_params(TINY, 1))
    save_qmodel(random_qmodel(4, 2, 1, parse_code("A8x8-W8-a6"), seed=3), tmp_path / "models" / "q")
    (tmp_path / "afile").write_text("x")
    (tmp_path / "adir").mkdir()
    (tmp_path / "adir.qmodel.json").mkdir()
    return tmp_path


def _edit_json(path: Path, fn) -> None:
    d = json.loads(path.read_text())
    fn(d)
    path.write_text(json.dumps(d))


def _extra_array(npz: Path, jpath: Path) -> None:
    with np.load(npz) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["smuggled"] = np.zeros(3, dtype=np.int64 if "qmodel" in npz.name else np.float32)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    npz.write_bytes(buf.getvalue())
    _edit_json(jpath, lambda d: d.update(arrays_sha256=hashlib.sha256(buf.getvalue()).hexdigest()))


def _q(env):
    return qmodel_paths(env / "models" / "q")


def _plan_file(env, body) -> str:
    (env / "plan.json").write_text(body if isinstance(body, str) else json.dumps(body))
    return "plan.json"


GOOD_PLAN = {c: 8 for c in ("A_re", "A_im", "x_re", "x_im", "B", "C", "D", "act", "weight", "bias")}
PTQ = ["ptq", "--model", "models/tiny.json", "--calib-digits", "2"]
EVAL_Q = ["golden", "eval", "--model", "models/q.qmodel.json", "--limit", "1"]
EVAL_CK = ["golden", "eval", "--model", "models/tiny.json", "--plan", "uniform8", "--limit", "1", "--calib-digits", "2"]
SWEEP = ["sweep", "--model", "models/tiny.json", "--plans", "uniform8", "--limit", "2", "--calib-digits", "2",
         "--jobs", "1"]


def _results(env, edit):
    d = {"format": "hwssm-sweep-results", "version": 1, "hwssm": "0", "sweep_version": 1, "spec": {}, "source": {},
         "stats": {}, "errors": [], "points": [{"plan": "u8", "plan_code": "A8x8-W8-a8", "memory_bits": 10,
                                                "compression": 2.0, "accuracy": 0.5, "digits": 2,
                                                "memory_breakdown": {"A": 10}, "component_bits": {"A_re": 8}}]}
    edit(d)
    (env / "res.json").write_text(json.dumps(d))
    return ["report", "--sweep", "res.json", "--name", "r"]


# (id, setup(env) -> argv, path that must not exist afterwards or None, words the message must hold)
CASES = [
    # output paths
    ("out-parent-is-a-file", lambda e: PTQ + ["--plan", "uniform8", "--out", "afile/m"], "afile", "afile"),
    ("out-unwritable-fs", lambda e: PTQ + ["--plan", "uniform8", "--out", str(UNWRITABLE / "m")], None, "hwssm-test"),
    ("out-is-a-directory", lambda e: SWEEP + ["--out", "adir"], None, "adir"),
    ("report-root-unwritable", lambda e: _results(e, lambda d: None)[:-2] + ["--name", "r", "--root", str(UNWRITABLE)],
     None, "hwssm-test"),
    ("data-show-out-unwritable", lambda e: ["data", "show", "--index", "0", "--out", str(UNWRITABLE / "d.png")], None,
     "hwssm-test"),
    # the cache
    ("cache-is-a-file", lambda e: (os.environ.__setitem__("HWSSM_CACHE", str(e / "afile")), SWEEP)[1], None, "afile"),
    ("cache-unwritable", lambda e: (os.environ.__setitem__("HWSSM_CACHE", str(UNWRITABLE)), SWEEP)[1], None,
     "hwssm-test"),
    ("threads-not-a-number", lambda e: (os.environ.__setitem__("HWSSM_THREADS", "abc"), EVAL_Q)[1], None, "HWSSM_THREADS"),
    # plans
    ("plan-empty", lambda e: PTQ + ["--plan", "", "--out", "m"], "m.qmodel.json", "empty"),
    ("plan-blank", lambda e: PTQ + ["--plan", "   ", "--out", "m"], "m.qmodel.json", "empty"),
    ("plan-is-a-directory", lambda e: PTQ + ["--plan", "adir", "--out", "m"], "m.qmodel.json", "directory"),
    ("plan-missing-file", lambda e: PTQ + ["--plan", "nope.json", "--out", "m"], "m.qmodel.json", "does not exist"),
    ("plan-bad-code", lambda e: PTQ + ["--plan", "A8x8-W8-a99", "--out", "m"], "m.qmodel.json", "a99"),
    ("plan-name-is-a-list", lambda e: PTQ + ["--plan", _plan_file(e, {**GOOD_PLAN, "name": ["x"]}), "--out", "m"],
     "m.qmodel.json", "name"),
    ("plan-unknown-field", lambda e: PTQ + ["--plan", _plan_file(e, {**GOOD_PLAN, "colour": 1}), "--out", "m"],
     "m.qmodel.json", "colour"),
    ("plan-bits-a-string", lambda e: PTQ + ["--plan", _plan_file(e, {**GOOD_PLAN, "B": "8"}), "--out", "m"],
     "m.qmodel.json", "plan"),
    ("plan-rounding-a-list", lambda e: PTQ + ["--plan", _plan_file(e, {**GOOD_PLAN, "rounding": []}), "--out", "m"],
     "m.qmodel.json", "rounding"),
    ("plan-not-json", lambda e: PTQ + ["--plan", _plan_file(e, "{"), "--out", "m"], "m.qmodel.json", "JSON"),
    ("plan-nan", lambda e: PTQ + ["--plan", _plan_file(e, '{"A_re": NaN}'), "--out", "m"], "m.qmodel.json", "JSON"),
    ("plan-not-utf8", lambda e: ((e / "bin.json").write_bytes(b"\xff\xfe\x00"), PTQ + ["--plan", "bin.json", "--out", "m"])[1],
     "m.qmodel.json", "UTF-8"),
    ("plan-version-true", lambda e: PTQ + ["--plan", _plan_file(e, {**GOOD_PLAN, "version": True}), "--out", "m"],
     "m.qmodel.json", "version"),
    # QModel files
    ("qmodel-is-a-directory", lambda e: ["golden", "eval", "--model", "adir.qmodel.json"], None, "directory"),
    ("qmodel-params-list", lambda e: (_edit_json(_q(e)[0], lambda d: d.update(params=[])), EVAL_Q)[1], None, "params"),
    ("qmodel-arrays-dotdot", lambda e: (_edit_json(_q(e)[0], lambda d: d.update(arrays="../../x")), EVAL_Q)[1], None,
     "arrays"),
    ("qmodel-arrays-absolute", lambda e: (_edit_json(_q(e)[0], lambda d: d.update(arrays="/etc/passwd")), EVAL_Q)[1],
     None, "arrays"),
    ("qmodel-arrays-empty", lambda e: (_edit_json(_q(e)[0], lambda d: d.update(arrays="")), EVAL_Q)[1], None, "arrays"),
    ("qmodel-arrays-int", lambda e: (_edit_json(_q(e)[0], lambda d: d.update(arrays=5)), EVAL_Q)[1], None, "arrays"),
    ("qmodel-digest-removed", lambda e: (_edit_json(_q(e)[0], lambda d: d.pop("digest")), EVAL_Q)[1], None, "digest"),
    ("qmodel-unknown-field", lambda e: (_edit_json(_q(e)[0], lambda d: d.update(note=1)), EVAL_Q)[1], None, "note"),
    ("qmodel-extra-array", lambda e: (_extra_array(_q(e)[1], _q(e)[0]), EVAL_Q)[1], None, "smuggled"),
    ("qmodel-H-absurd", lambda e: (_edit_json(_q(e)[0], lambda d: d.update(H=10 ** 30)), EVAL_Q)[1], None, "H"),
    ("qmodel-width-absurd", lambda e: (_edit_json(_q(e)[0], lambda d: d["r0"].update(width=2 ** 70)), EVAL_Q)[1], None,
     "width"),
    ("qmodel-frac-bool", lambda e: (_edit_json(_q(e)[0], lambda d: d["params"]["enc_W"].update(frac=[True] * 4)),
                                    EVAL_Q)[1], None, "frac"),
    ("qmodel-layers-missing", lambda e: (_edit_json(_q(e)[0], lambda d: d.update(layers=[])), EVAL_Q)[1], None, "layers"),
    ("qmodel-npz-truncated", lambda e: (_q(e)[1].write_bytes(_q(e)[1].read_bytes()[:50]), EVAL_Q)[1], None, "SHA-256"),
    ("qmodel-not-json", lambda e: (_q(e)[0].write_text("[1,"), EVAL_Q)[1], None, "JSON"),
    ("qmodel-json-a-list", lambda e: (_q(e)[0].write_text("[]"), EVAL_Q)[1], None, "QModel"),
    # float checkpoints
    ("ckpt-arrays-dotdot", lambda e: (_edit_json(e / "models/tiny.json", lambda d: d.update(arrays="../afile")),
                                      EVAL_CK)[1], None, "arrays"),
    ("ckpt-arrays-absolute", lambda e: (_edit_json(e / "models/tiny.json", lambda d: d.update(arrays=str(e / "afile"))),
                                        EVAL_CK)[1], None, "arrays"),
    ("ckpt-unknown-field", lambda e: (_edit_json(e / "models/tiny.json", lambda d: d.update(extra=1)), EVAL_CK)[1], None,
     "extra"),
    ("ckpt-config-unknown-field", lambda e: (_edit_json(e / "models/tiny.json", lambda d: d["config"].update(Q=1)),
                                             EVAL_CK)[1], None, "Q"),
    ("ckpt-extra-array", lambda e: (_extra_array(e / "models/tiny.npz", e / "models/tiny.json"), EVAL_CK)[1], None,
     "smuggled"),
    # sweep specs and flags
    ("spec-unknown-field", lambda e: ((e / "s.json").write_text('{"model": "models/tiny.json", "plans": ["uniform8"], '
                                                                '"colour": 1}'), ["sweep", "--spec", "s.json"])[1],
     None, "colour"),
    ("spec-lanes-absurd", lambda e: ((e / "s.json").write_text(json.dumps(
        {"model": "models/tiny.json", "plans": ["uniform8"], "lanes": [2 ** 70], "devices": ["up5k"]})),
        ["sweep", "--spec", "s.json"])[1], None, "lanes"),
    ("spec-model-empty", lambda e: ((e / "s.json").write_text('{"model": "", "plans": ["uniform8"]}'),
                                    ["sweep", "--spec", "s.json"])[1], None, "model"),
    ("spec-is-a-directory", lambda e: ["sweep", "--spec", "adir"], None, "directory"),
    ("sweep-limit-absurd", lambda e: SWEEP[:-2] + ["--limit", str(2 ** 70)], None, "limit"),
    ("sweep-lanes-absurd", lambda e: SWEEP + ["--lanes", str(2 ** 70), "--devices", "up5k"], None, "lanes"),
    # sweep results read by hwssm report: no partial report
    ("results-point-missing-plan", lambda e: _results(e, lambda d: d["points"][0].pop("plan")), "reports/r", "plan"),
    ("results-point-bad-type", lambda e: _results(e, lambda d: d["points"][0].update(memory_bits="x")), "reports/r",
     "memory_bits"),
    ("results-point-not-object", lambda e: _results(e, lambda d: d["points"].append(5)), "reports/r", "point 1"),
    ("results-point-unknown", lambda e: _results(e, lambda d: d["points"][0].update(bogus=1)), "reports/r", "bogus"),
    ("results-hw-point-no-lanes", lambda e: _results(e, lambda d: d["points"][0].update(device="up5k")), "reports/r",
     "lanes"),
    ("results-accuracy-out-of-range", lambda e: _results(e, lambda d: d["points"][0].update(accuracy=7)), "reports/r",
     "accuracy"),
    ("results-a-list", lambda e: ((e / "res.json").write_text("[]"), ["report", "--sweep", "res.json", "--name", "r"])[1],
     "reports/r", "res.json"),
    # absurd numbers on the command line
    ("indices-huge", lambda e: ["sim", "--model", "models/q.qmodel.json", "--lanes", "1", "--indices",
                                str(2 ** 70)], None, "out of range"),
    ("indices-power", lambda e: ["sim", "--model", "models/q.qmodel.json", "--lanes", "1", "--indices", "2^70"], None,
     "indices"),
]


@pytest.mark.parametrize("setup, never, words", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_exit_2(env, monkeypatch, capsys, setup, never, words):
    monkeypatch.setenv("HWSSM_CACHE", os.environ["HWSSM_CACHE"])  # restored after the test
    monkeypatch.setenv("HWSSM_THREADS", os.environ.get("HWSSM_THREADS", "1"))
    argv = setup(env)
    try:
        rc = main(argv)
    except SystemExit as exc:  # argparse rejects the value itself (also exit 2, one usage line + one error)
        rc = exc.code
        err = capsys.readouterr().err.strip().splitlines()
        assert rc == 2 and err[-1].startswith("hwssm ") and words in err[-1], err
        return
    full = capsys.readouterr().err
    assert "Traceback" not in full, full
    # progress bars share stderr; the messages are the lines hwssm prints itself
    err = [ln for ln in full.strip().splitlines() if ln.startswith("hwssm") and not ln.startswith("hwssm: warning:")]
    assert rc == 2, full
    assert len(err) == 1 and err[0].startswith("hwssm: error: "), err
    assert words in err[0], err
    if never is not None:
        assert not (env / never).exists() or (env / never).is_file() and never == "afile"
    assert not list(env.glob("**/.*.tmp")), "a temporary file was left behind"


def test_table_size():
    assert len(CASES) == len({c[0] for c in CASES}) >= 50


def _bug(args):
    raise TypeError("an unexpected bug")


def test_a_bug_shows_its_traceback_and_says_so(capsys, monkeypatch):
    monkeypatch.delenv("HWSSM_DEBUG", raising=False)
    assert cli.run(_bug, None) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and "TypeError: an unexpected bug" in err
    assert "internal error" in err.strip().splitlines()[-1] and "bug in hwssm" in err


@pytest.mark.parametrize("exc", [KeyError("x"), AttributeError("y"), IndexError("z"), AssertionError()])
def test_unexpected_types_are_bugs(exc, capsys):
    def f(args):
        raise exc
    assert cli.run(f, None) == 1
    assert "Traceback" in capsys.readouterr().err


def test_debug_flag_shows_every_traceback(env, capsys, monkeypatch):
    monkeypatch.setenv("HWSSM_DEBUG", "1")
    assert main(PTQ + ["--plan", "", "--out", "m"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" in err and err.strip().splitlines()[-1].startswith("hwssm: error: ")
    monkeypatch.setenv("HWSSM_DEBUG", "0")
    assert main(PTQ + ["--plan", "", "--out", "m"]) == 2
    assert "Traceback" not in capsys.readouterr().err


@pytest.mark.parametrize("exc, words", [
    (PermissionError(13, "Permission denied", "/x/y"), "/x/y: Permission denied"),
    (OSError(30, "Read-only file system", "/ro"), "read-only"),
    (NotADirectoryError(20, "Not a directory", "f/m"), "a part of the path is a file"),
    (FileExistsError(17, "File exists", "/c"), "a file stands where a directory is needed"),
    (OSError(28, "No space left on device", "/d"), "disk is full"),
    (ValueError("bad\nsecond line"), "invalid value: bad; check the input"),
    (OverflowError("Python int too large to convert to C long"), "out of range"),
    (UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"), "UTF-8"),
    (EOFError(), "ended early"),
])
def test_expected_failures_describe_path_and_remedy(exc, words, capsys):
    def f(args):
        raise exc
    assert cli.run(f, None) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and words in err[0], err


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only directories")
def test_read_only_output_directory(env, capsys):
    ro = env / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        assert main(PTQ + ["--plan", "uniform8", "--out", str(ro / "m")]) == 2
    finally:
        ro.chmod(0o755)
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "ro" in err[0] and not list(ro.iterdir())


def test_a_closed_pipe_ends_quietly_with_141():
    """``hwssm ... | head -c 1``: the reader goes away; no error message, no traceback, status 141."""
    import subprocess
    import sys

    code = ("import sys; from hwssm import cli\n"
            "def loud(args):\n"
            "    for _ in range(10000): print('x' * 100)\n"
            "sys.exit(cli.run(loud, None))")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.read(1)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == cli.EXIT_PIPE == 141, err
    assert err == "", err
