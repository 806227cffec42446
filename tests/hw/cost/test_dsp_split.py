"""The estimator's hard-multiplier count equals what Yosys maps (``mul2dsp`` slicing).

The table is Yosys 0.70 (yowasp) on one registered signed a×b product per module
(``synth_ice40 -dsp -noflatten`` / ``synth_ecp5 -noflatten``, ``stat``), measured on 110 operand
pairs per family; the slow test re-runs Yosys on a few of them.
"""

from __future__ import annotations

import pytest

from hwssm.hw.cost.price import dsp_split
from hwssm.synth.yosys import YosysOptions, run_yosys
from hwssm.targets import device, family

ICE40 = family("ice40").coefficients
ECP5 = family("ecp5").coefficients

#: (a, b): SB_MAC16 count measured with synth_ice40 -dsp.
ICE40_MEASURED = {
    (2, 2): 0, (2, 8): 0, (3, 6): 0, (5, 5): 0, (4, 6): 0, (5, 6): 1, (3, 8): 1, (2, 9): 1,
    (8, 8): 1, (16, 16): 1, (2, 17): 1, (8, 17): 1, (8, 18): 1, (8, 19): 2, (9, 18): 2,
    (3, 24): 2, (2, 24): 1, (16, 17): 1, (16, 18): 2, (17, 17): 1, (17, 18): 2, (18, 18): 3,
    (18, 24): 3, (10, 17): 1, (12, 18): 2,
}
#: (a, b): MULT18X18D count measured with synth_ecp5.
ECP5_MEASURED = {
    (2, 2): 1, (5, 5): 1, (8, 8): 1, (18, 18): 1, (2, 19): 1, (8, 19): 1, (18, 19): 1,
    (10, 24): 2, (16, 24): 2, (17, 24): 2, (18, 24): 2,
}


@pytest.mark.parametrize("pair,n", sorted(ICE40_MEASURED.items()))
def test_ice40_table(pair, n):
    assert dsp_split(*pair, ICE40)[0] == n
    assert dsp_split(*reversed(pair), ICE40)[0] == n


@pytest.mark.parametrize("pair,n", sorted(ECP5_MEASURED.items()))
def test_ecp5_table(pair, n):
    assert dsp_split(*pair, ECP5)[0] == n


def test_lut_slices():
    # 8×18 on iCE40: one 8×16 block and the 2×8 top slice in LUTs (too narrow a product)
    assert dsp_split(8, 18, ICE40) == (1, [(8, 2)])
    assert dsp_split(5, 5, ICE40) == (0, [(5, 5)])
    assert dsp_split(18, 18, ECP5) == (1, [])


def _products(pairs) -> str:
    mods, inst = [], []
    for i, (a, b) in enumerate(pairs):
        mods.append(f"module m{i}(input clk, input signed [{a - 1}:0] x, input signed [{b - 1}:0] y, "
                    f"output reg signed [{a + b - 1}:0] z);\n  always @(posedge clk) z <= x * y;\nendmodule\n")
        inst.append(f"  m{i} u{i}(.clk(clk), .x(xin[{a - 1}:0]), .y(xin[{a + b - 1}:{a}]), "
                    f".z(zout[{64 * i + a + b - 1}:{64 * i}]));\n")
    top = f"module top(input clk, input [63:0] xin, output [{64 * len(pairs) - 1}:0] zout);\n{''.join(inst)}endmodule\n"
    return "".join(mods) + top


@pytest.mark.parametrize("dev,pairs", [
    ("up5k", [(8, 18), (18, 18), (3, 24), (5, 5), (2, 17), (6, 6)]),
    ("ecp5-25k", [(8, 19), (18, 24), (2, 2)]),
])
def test_yosys_counts(tmp_path, dev, pairs):
    """Real Yosys: the total over a few products equals the sum of dsp_split."""
    d = device(dev)
    (tmp_path / "m.v").write_text(_products(pairs))
    result, _ = run_yosys(tmp_path, ["m.v"], d, "top", YosysOptions(dsp=True))
    assert result.dsp == sum(dsp_split(a, b, d.family.coefficients)[0] for a, b in pairs)
