"""PCF / LPF rendering of a pin table, and the families' board-flow data."""

from __future__ import annotations

import pytest

from hwssm.errors import HwssmError
from hwssm.targets import ECP5, ICE40, ConstraintFormat, devices
from hwssm.targets.constraints import Clock, Pin, render


def test_pcf():
    text = render(ConstraintFormat.PCF, [Pin("clk", "35"), Pin("rx", "6", pull_up=True), Pin("led[0]", "11")],
                  [Clock("clk", 12)])
    assert text.splitlines()[1:] == ["set_io -nowarn clk 35", "set_io -nowarn -pullup yes rx 6",
                                     "set_io -nowarn led[0] 11", "set_frequency clk 12"]


def test_lpf():
    text = render(ConstraintFormat.LPF, [Pin("clk", "G2"), Pin("rx", "M1", pull_up=True)], [Clock("clk", 25)])
    assert text.splitlines()[1:] == ['LOCATE COMP "clk" SITE "G2";', 'IOBUF PORT "clk" IO_TYPE=LVCMOS33;',
                                     'LOCATE COMP "rx" SITE "M1";', 'IOBUF PORT "rx" IO_TYPE=LVCMOS33 PULLMODE=UP;',
                                     'FREQUENCY PORT "clk" 25 MHZ;']


@pytest.mark.parametrize("pins, clocks", [
    ([Pin("a", "1"), Pin("a", "2")], []),  # port twice
    ([Pin("a", "1"), Pin("b", "1")], []),  # site twice
    ([Pin("a", "1")], [Clock("clk", 12)]),  # clock without pin
])
def test_bad_tables(pins, clocks):
    with pytest.raises(HwssmError):
        render(ConstraintFormat.PCF, pins, clocks)


@pytest.mark.parametrize("kw", [dict(port="1x", site="3"), dict(port="a", site="G 2"), dict(port="a", site="G2", io_type="x;y")])
def test_bad_pin(kw):
    with pytest.raises(HwssmError):
        Pin(**kw)


def test_bad_clock():
    with pytest.raises(HwssmError):
        Clock("clk", 0)


def test_family_bitstream_data():
    assert ICE40.bitstream.constraints is ConstraintFormat.PCF and ICE40.bitstream.constraints_flag == "--pcf"
    assert ECP5.bitstream.constraints is ConstraintFormat.LPF and ECP5.bitstream.config_flag == "--textcfg"
    for d in devices():
        assert d.family.bitstream.pins_name.endswith("." + d.family.bitstream.constraints.value)
