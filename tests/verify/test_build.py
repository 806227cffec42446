"""Build recipes and options (hwssm/verify/build.py) without running Verilator."""

from __future__ import annotations

import pytest

from hwssm.verify.build import PGO_MIN_CYCLES, BuildOptions, _build_args, _make_overrides, build_key, uses_pgo
from hwssm.verify.pgo import _fast_objects, pgo_pixels
from hwssm.verify.contract import load_contract
from hwssm.verify.wrapper import Clock
from tests.verify.toy_core import write_toy


@pytest.fixture
def toy(tmp_path):
    return load_contract(write_toy(tmp_path, L=2, H=3, T=5, K=4))


def test_options_are_checked():
    with pytest.raises(ValueError, match="recipe"):
        BuildOptions(recipe="turbo")
    with pytest.raises(ValueError, match="pgo"):
        BuildOptions(pgo=1)
    assert BuildOptions().clock is Clock.PULSE and BuildOptions(recipe="baseline").clock is Clock.TOGGLE
    assert BuildOptions(waves=True).clock is Clock.TOGGLE  # a waveform shows the clock


def test_pgo_is_automatic_for_large_cores_only(toy):
    import dataclasses

    big = dataclasses.replace(toy, cycles_per_digit=PGO_MIN_CYCLES)
    assert not uses_pgo(toy, BuildOptions()) and uses_pgo(big, BuildOptions())
    assert uses_pgo(toy, BuildOptions(pgo=True)) and not uses_pgo(big, BuildOptions(pgo=False))
    assert not uses_pgo(big, BuildOptions(recipe="baseline")) and not uses_pgo(big, BuildOptions(waves=True))


def test_recipes_have_different_keys(toy):
    fast, _ = build_key(toy, BuildOptions())
    base, wrapper = build_key(toy, BuildOptions(recipe="baseline"))
    assert fast != base and "always #5 clk = ~clk;" in wrapper
    assert build_key(toy, BuildOptions(pgo=True))[0] not in (fast, base)
    assert _build_args(BuildOptions()) == _build_args(BuildOptions(recipe="baseline"))


def test_make_overrides_escape_spaces():
    words = _make_overrides("-fprofile-use -Wno-missing-profile", "-fprofile-generate")
    assert words.startswith("OPT_FAST=-O2\\ -fprofile-use\\ -Wno-missing-profile OPT_GLOBAL=-O2 ")
    assert " USER_LDFLAGS=-fprofile-generate" in words
    assert "OPT_FAST=-O2" in _make_overrides().split(" ")


def test_fast_objects_from_the_makefiles(tmp_path):
    (tmp_path / "Vtop_classes.mk").write_text(
        "VM_CLASSES_FAST += \\\n  Vtop \\\n  Vtop___024root__0 \\\n\nVM_CLASSES_SLOW += \\\n  Vtop__Slow \\\n\n"
        "VM_SUPPORT_FAST += \\\n  Vtop__Dpi \\\n\n")
    (tmp_path / "Vtop.mk").write_text("VM_USER_CLASSES = \\\n  verilator \\\n\n# User .cpp directories\n")
    assert [p.name for p in _fast_objects(tmp_path)] == ["Vtop.o", "Vtop___024root__0.o", "Vtop__Dpi.o", "verilator.o"]


def test_pgo_pixels_are_deterministic_sparse_digits():
    a, b = pgo_pixels(784, 2), pgo_pixels(784, 2)
    assert a.shape == (2, 784) and a.dtype.name == "uint8" and (a == b).all()
    assert 0.1 < (a > 0).mean() < 0.3
