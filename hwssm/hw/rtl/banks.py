"""Banked memories of the datapath (``Pipeline.bank_words``): a deep coefficient ROM or state RAM
split into banks of :func:`~hwssm.hw.storage.bank_depth` words, each bank's read data registered
before the bank selection (ECP5 timing closure: the multiplexer over a deep memory's blocks then
follows flip-flops, not the block RAM's 5.6 ns clock-to-out). Same values, same cycles as one
memory read through the same number of registers; the estimator prices them the same way
(:mod:`hwssm.hw.cost.lanes`)."""

from __future__ import annotations

from amaranth.hdl import Array, Module
from amaranth.lib import memory

from ..core_config import ceil_log2
from ..storage import bank_depth
from .interfaces import rom
from .ops import delay

__all__ = ["rom_q", "banked_ram"]


def rom_q(m: Module, name: str, words: list[int], width: int, addr, stages: int, qname: str, bank_words: int):
    """``rom(...)`` read data registered ``stages`` times (``stages + 1`` cycles after ``addr``).

    With ``bank_words`` (``Pipeline.bank_words``), ``stages >= 1`` and more words than a bank
    (:func:`~hwssm.hw.storage.bank_depth`), the ROM is split into banks whose read data are registered
    ``stages`` times each, and the bank is selected after those registers: the multiplexer
    over the blocks of a deep ROM then follows flip-flops, not the block RAM's slow
    clock-to-out (ECP5 DP16KD without its output register: 5.6 ns), and the first register
    has nothing else to be near. Same values, same cycle.
    """
    depth = bank_depth(width, bank_words)
    if not depth or stages < 1 or width == 0 or len(words) <= depth:
        return delay(m, rom(m, name, words, width, addr), stages, qname, reset_less=True)
    lo = ceil_log2(depth)
    banks = [delay(m, rom(m, f"{name}_b{b}", words[i:i + depth], width, addr[:lo]), stages, f"{qname}_b{b}",
                   reset_less=True) for b, i in enumerate(range(0, len(words), depth))]
    sel = delay(m, addr[lo:], 1 + stages, f"{qname}_bank", reset_less=True)  # address → read data → bank registers
    return Array(banks)[sel]


def banked_ram(m: Module, name: str, width: int, depth: int, bank_words: int, raddr, waddr, wen, wdata, stages: int):
    """A RAM (one write port, one synchronous read port) split into banks as :func:`rom_q`
    (``depth`` words of ``bank`` = :func:`~hwssm.hw.storage.bank_depth` each): each bank's read data registered
    ``stages`` times, the bank selected after those registers (read data ``stages + 1``
    cycles after ``raddr``)."""
    bank = bank_depth(width, bank_words)
    lo = ceil_log2(bank)
    banks = []
    for b in range(-(-depth // bank)):
        # no_rw_check: Yosys need not emulate a read and a write of one address in one cycle (a
        # bypass multiplexer after the block RAM); the schedule never has one (a state read in
        # the cycle of its own write would already miss that write)
        mem = memory.Memory(shape=width, depth=bank, init=[], attrs={"no_rw_check": 1})
        m.submodules[f"{name}_b{b}"] = mem
        rp, wp = mem.read_port(), mem.write_port()
        m.d.comb += [rp.addr.eq(raddr[:lo]), wp.addr.eq(waddr[:lo]), wp.en.eq(wen & (waddr[lo:] == b)), wp.data.eq(wdata)]
        banks.append(delay(m, rp.data, stages, f"{name}_q_b{b}", reset_less=True))
    sel = delay(m, raddr[lo:], 1 + stages, f"{name}_q_bank", reset_less=True)
    return Array(banks)[sel]
