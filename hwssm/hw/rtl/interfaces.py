"""Signatures shared by the core's components, and the ROM/RAM helpers (no Components here)."""

from __future__ import annotations

from amaranth.hdl import Module, Signal
from amaranth.lib import memory, wiring
from amaranth.lib.wiring import Out

from ..core_config import CoreConfig, ceil_log2
from ..rom_table import Table

__all__ = ["awidth", "issue_signature", "rom", "table_rom", "mem_depth"]


def awidth(n: int) -> int:
    """Width of a counter/address over ``n`` values (at least 1 bit)."""
    return max(1, ceil_log2(n))


def mem_depth(n: int) -> int:
    """Memory depth for ``n`` entries: at least 2, so that every address has >= 1 bit."""
    return max(2, int(n))


def issue_signature(cfg: CoreConfig) -> wiring.Signature:
    """One issue slot, as the sequencer drives it (all members Out on the sequencer side).

    Members (valid in the issue cycle τ)
    -------
    ssm, mix : 1
        An S4D slot or a mixing slot issues now.
    first_step : 1
        The step is the digit's first (the state reads as zero).
    l, h : layer and channel of the slot (h only for S4D slots).
    coef_addr : lane coefficient ROM address (one per slot, in issue order).
    ssm_idx : state RAM / C̄ ROM address (l·H + h)·Cs + c.
    row : S4D row-constant ROM address l·H + h.
    c_first, c_last : first / last mode chunk of the channel.
    q, q_first, q_last : mixing column chunk (g buffer address) and its ends.
    mixrow : per-lane mixing-constant ROM address l·2KP + kk.
    kslot, gate, pairs : value/gate buffer address kk div 2, gate pass (kk odd), and the
        number of channels (<= P) whose value and gate rows this pass completes.

    An S5 core (``cfg.s5``) adds ``upd`` (a state update issues), ``bu`` (the real-mode slot is
    a B̄u pass), ``xidx`` (state RAM address l·Cs + c) and ``crow`` (per-lane update table
    row: l·Cs + c, or L·Cs for a readout slot); ``ssm`` is then a readout slot, ``mix`` a B̄u
    or GLU slot, ``kslot`` also the bu buffer address (B̄u passes: kk div 2, updates: c) and
    ``gate`` the part of a B̄u pass (1: im).
    """
    H, L = cfg.H, cfg.L
    if cfg.s5 is not None:
        Cs = cfg.Cs
        return wiring.Signature({
            "ssm": Out(1), "mix": Out(1), "upd": Out(1), "bu": Out(1), "first_step": Out(1),
            "l": Out(awidth(L)), "h": Out(awidth(H)),
            "coef_addr": Out(awidth(mem_depth(cfg.coef_depth))),
            "ssm_idx": Out(awidth(mem_depth(L * H * Cs))),
            "xidx": Out(awidth(mem_depth(L * Cs))), "crow": Out(awidth(mem_depth(L * Cs + 1))),
            "row": Out(awidth(mem_depth(L * H))),
            "c_first": Out(1), "c_last": Out(1),
            "q": Out(awidth(mem_depth(cfg.Q))), "q_first": Out(1), "q_last": Out(1),
            "mixrow": Out(awidth(mem_depth(L * cfg.s5.passes(Cs)))),
            "kslot": Out(awidth(mem_depth(max(cfg.KP, Cs)))), "gate": Out(1),
            "pairs": Out(awidth(cfg.P + 1)),
        })
    return wiring.Signature({
        "ssm": Out(1), "mix": Out(1), "first_step": Out(1),
        "l": Out(awidth(L)), "h": Out(awidth(H)),
        "coef_addr": Out(awidth(mem_depth(cfg.coef_depth))),
        "ssm_idx": Out(awidth(mem_depth(L * H * cfg.Cs))),
        "row": Out(awidth(mem_depth(L * H))),
        "c_first": Out(1), "c_last": Out(1),
        "q": Out(awidth(mem_depth(cfg.Q))), "q_first": Out(1), "q_last": Out(1),
        "mixrow": Out(awidth(mem_depth(L * 2 * cfg.KP))),
        "kslot": Out(awidth(mem_depth(cfg.KP))), "gate": Out(1),
        "pairs": Out(awidth(cfg.P + 1)),
    })


def rom(m: Module, name: str, words: list[int], width: int, addr) -> Signal:
    """A ROM with a synchronous read port (block RAM), or a constant when ``width == 0``.

    Returns the read data (valid one cycle after ``addr``).
    """
    if width == 0:
        return Signal(0, name=f"{name}_data")
    depth = mem_depth(len(words))
    init = list(words) + [0] * (depth - len(words))
    mem = memory.Memory(shape=width, depth=depth, init=init)
    m.submodules[name] = mem
    rd = mem.read_port()
    m.d.comb += rd.addr.eq(addr)
    return rd.data


def table_rom(m: Module, name: str, table: Table, addr) -> dict:
    """:meth:`Table.unpack` of a ROM holding ``table`` (one-cycle read latency)."""
    return table.unpack(rom(m, name, table.words(), table.width, addr))
