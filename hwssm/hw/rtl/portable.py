"""Text rewrites that make the generated Verilog behave the same on every simulator.

Time zero
---------
Amaranth converts its designs with ``proc -nomux`` and Yosys' ``write_verilog``, which
writes every combinational process (every register's next-value and reset multiplexer, every
``m.d.comb`` with ``If``/``Switch``) as an ``always @*`` block. Such a block runs only when
one of the signals it reads changes, so Yosys adds to each module a trigger that every block
reads, ``reg \\$auto$verilog_backend...$N = 0;`` (Yosys PR 2273, its Verilog-2001 mode):

- in Verilog-2001/2005 semantics the initializer is an assignment at time 0: an event, which
  runs every block once;
- in SystemVerilog semantics (``iverilog -g2012``, Questa, Xcelium, VCS, xsim) a declaration's
  initializer is applied before time 0 and is *no event*: a block whose inputs keep their
  values never runs. With ``rst`` high from time 0 the reset multiplexers stay X, the
  registers load X at the first edge and the sequencer locks up (issue 20: two pixels taken,
  then ``in_ready`` low forever).

:func:`trigger_at_time_zero` adds ``initial #0 <trigger> = 1'b1;`` after each trigger. The
``#0`` puts the assignment in the inactive region of time 0, after every ``always`` process
has reached its event control, so the 0 → 1 change runs every combinational block once in
every language mode, race-free (an ``always_comb`` in effect; Verilog-2005 has none). It is
``ifndef VERILATOR`` (Verilator evaluates all combinational logic at time 0 by itself, and a
delay would need ``--timing``) and ``ifndef SYNTHESIS`` (the trigger reads nothing anywhere;
a synthesis tool that ignores the guard sees a dead register).

Lint
----
:func:`lint_waivers` brackets the text with ``verilator lint_off``/``lint_on`` for the two
width warnings that Yosys' Verilog always raises (operand extension is left to Verilog's
context-determined sizing, which implements Amaranth's exact-width semantics), so that
``verilator --lint-only`` passes without ``-Wno-WIDTH``.
"""

from __future__ import annotations

import re

__all__ = ["trigger_at_time_zero", "lint_waivers", "LINT_OFF"]

#: Yosys' time-0 trigger of a module's ``always @*`` blocks.
_TRIGGER = re.compile(r"^([ \t]*)reg (\\\$auto\$verilog_backend\.cc:\d+:dump_module\$\d+) += 0;\n", re.M)

#: Verilator warnings waived inside the generated file (see the module docstring).
LINT_OFF = ("WIDTHEXPAND", "WIDTHTRUNC")


def _kick(mo: re.Match) -> str:
    ind, name = mo.group(1), mo.group(2)
    return (f"{mo.group(0)}{ind}`ifndef SYNTHESIS\n{ind}`ifndef VERILATOR\n"
            f"{ind}initial #0 {name} = 1'b1;  // runs every always @* once at time 0 (Verilog and SV modes)\n"
            f"{ind}`endif\n{ind}`endif\n")


def trigger_at_time_zero(text: str) -> str:
    """``text`` with a race-free time-0 event on every Yosys ``always @*`` trigger (see the
    module docstring). AssertionError when a module has ``always @*`` blocks but no trigger
    (Yosys changed how it writes them)."""
    out, n = _TRIGGER.subn(_kick, text)
    modules = [m for m in re.split(r"^module ", text, flags=re.M)[1:] if "always @*" in m]
    if n != len(modules):  # pragma: no cover - Yosys changed its Verilog backend
        raise AssertionError(f"{len(modules)} modules with always @* but {n} time-0 triggers")
    return out


def lint_waivers(text: str) -> str:
    """``text`` between ``/* verilator lint_off W */`` and ``lint_on`` for each W of :data:`LINT_OFF`."""
    off = "".join(f"/* verilator lint_off {w} */\n" for w in LINT_OFF)
    on = "".join(f"/* verilator lint_on {w} */\n" for w in LINT_OFF)
    return off + text + ("" if text.endswith("\n") else "\n") + on
