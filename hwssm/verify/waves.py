"""Waveforms that cannot fill the disk: a step window, a size estimate and a limit.

``hwssm sim --waves`` builds the simulation with tracing. Three things keep the files small:

- **a step window** (:class:`StepWindow`, ``--waves-steps A:B``): only steps A..B-1 are
  dumped. Verilator ignores ``$dumpoff``/``$dumpon``, so the window is applied in the
  simulation's C++ main: cocotb's ``verilator.cpp`` with its per-time-slot ``tfp->dump``
  guarded by the plusargs ``+hwssm_trace_from=PS +hwssm_trace_to=PS``
  (:func:`windowed_main`). The cycle model gives the times: at full speed, step ``s`` of a
  simulation run (digit ``k = s // T``, step ``t = s % T`` of it) starts at cycle
  ``1 + k·cycles_per_digit + t·cycles_per_step`` (its pixel's handshake), and cycle ``c`` (counted from the release of
  reset, as the wrapper's ``cyc``) is the rising edge at ``(RESET_CYCLES + 1 + c)·10 ns +
  5 ns`` of the waveform clock (:data:`~hwssm.verify.wrapper.Clock.TOGGLE`); the window
  opens half a period before the edge of its first cycle.
- **an estimate before the run** (:func:`estimate`): bytes ≈ cycles in the window ×
  (:data:`SLOT_BYTES` + :data:`ACTIVITY` × bytes of one change of every traced signal),
  the signals counted in the core's Verilog (:func:`count_signals`). :data:`ACTIVITY` (the
  fraction of the signal bytes that change per cycle) was measured once on a real design
  (see its comment).
- **a limit** (:data:`DEFAULT_LIMIT_BYTES`): above it ``simulate`` refuses with one line
  (HwssmError) unless forced.

The format is FST when Verilator's FST writer compiles here (:func:`fst_available` builds a
tiny traced model once and caches the answer), else VCD. The estimate is of the VCD; it
bounds an FST file from above (FST compresses).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import re
import subprocess
from pathlib import Path

from .. import config, procs
from ..errors import HwssmError
from ..io import write_json, write_text
from .contract import CoreContract
from .wrapper import RESET_CYCLES

__all__ = ["StepWindow", "WaveLimits", "WaveEstimate", "DEFAULT_LIMIT_BYTES", "ACTIVITY", "SLOT_BYTES",
           "fst_available", "wave_format", "count_signals", "estimate", "window_plusargs", "windowed_main",
           "FST_PACKAGE"]

#: Refuse waveforms estimated above this many bytes (1 GB) unless forced.
DEFAULT_LIMIT_BYTES = 1_000_000_000
#: Fraction of the bytes of one change of every traced signal written per cycle (the mean
#: activity), measured on ``hwssm sim --model s4d_hetero --rtl rtl/hetero_P4 --indices 0``
#: (P=4, 3089 cycles per step). :func:`count_signals` finds 2096 signals of 19,792 bits there
#: (the VCD declares 1855); one change of all of them is 30,272 VCD bytes, the header and first
#: full dump about 114,112. ``--waves-steps 400:401`` (mid-digit, on the stroke: 3089 cycles)
#: wrote 24,803,259 bytes: ACTIVITY = (24,803,259 - 114,112 - 24·3089) / (3089 · 30,272) =
#: 0.263, the value used. ``--waves-steps 10:12`` (blank top rows: 6178 cycles) wrote
#: 30,345,729 bytes, activity 0.161: there the estimate (49.5 MB) is 1.6x high. The busier
#: window sets the constant so that the estimate errs high (the limit guards the disk).
ACTIVITY = 0.263
#: Bytes per cycle for the two time stamps (``#<ps>``) of the waveform clock's two time slots.
SLOT_BYTES = 24
#: Picoseconds per cycle of the waveform clock (10 ns; the simulation's precision is 1 ps).
CYCLE_PS = 10_000
#: The cycle of the first pixel handshake at full speed (the wrapper raises ``in_valid`` at the
#: edge of cycle 0, the first after reset).
FIRST_PIXEL_CYCLE = 1
#: The system package whose header Verilator's FST writer needs.
FST_PACKAGE = "liblz4-dev"
#: Arrays with more entries than this are not traced (Verilator's ``--trace-max-array``).
TRACE_MAX_ARRAY = 32


@dataclasses.dataclass(frozen=True)
class StepWindow:
    """Steps ``first`` .. ``stop - 1`` of a simulation run (steps of its digits one after the other)."""

    first: int
    stop: int

    def __post_init__(self):
        for v in (self.first, self.stop):
            if isinstance(v, bool) or not isinstance(v, int):
                raise HwssmError(f"a step window needs integer steps, not {v!r}")
        if not 0 <= self.first < self.stop:
            raise HwssmError(f"a step window needs 0 <= A < B, not {self.first}:{self.stop}")

    @classmethod
    def parse(cls, text: str) -> "StepWindow":
        """``"A:B"`` -> StepWindow(A, B); HwssmError (one line) for anything else."""
        m = re.fullmatch(r"\s*(\d+)\s*:\s*(\d+)\s*", str(text))
        if not m:
            raise HwssmError(f"--waves-steps must be A:B (steps A..B-1, 0 <= A < B), not {text!r}")
        a, b = int(m[1]), int(m[2])
        if a >= b:
            raise HwssmError(f"--waves-steps must be A:B with A < B, not {text!r}")
        return cls(a, b)

    @property
    def steps(self) -> int:
        return self.stop - self.first


@dataclasses.dataclass(frozen=True)
class WaveLimits:
    """How much waveform a simulation may write.

    Parameters
    ----------
    window : StepWindow or None
        Dump only these steps of each simulation run (None: the whole run).
    limit_bytes : int
        Refuse when the estimate of all files together exceeds this (bytes).
    force : bool
        Write even above the limit.
    """

    window: StepWindow | None = None
    limit_bytes: int = DEFAULT_LIMIT_BYTES
    force: bool = False

    def __post_init__(self):
        if self.window is not None and not isinstance(self.window, StepWindow):
            raise HwssmError(f"window must be a StepWindow, not {type(self.window).__name__}")
        if isinstance(self.limit_bytes, bool) or not isinstance(self.limit_bytes, int) or self.limit_bytes < 1:
            raise HwssmError(f"the waveform limit must be a positive number of bytes, not {self.limit_bytes!r}")


@dataclasses.dataclass(frozen=True)
class WaveEstimate:
    """The predicted size of the waveforms of one simulation call.

    Attributes
    ----------
    signals, bits : int
        Traced signals and their bits, counted in the Verilog (one instance per module).
    cycles : int
        Cycles dumped per simulation run.
    runs : int
        Simulation runs (one file each).
    bytes : int
        Predicted VCD bytes of all files together.
    """

    signals: int
    bits: int
    cycles: int
    runs: int
    bytes: int

    def describe(self) -> str:
        return (f"about {_size(self.bytes)} of waveforms ({self.runs} file(s), {self.cycles:,} cycles each, "
                f"{self.signals:,} signals of {self.bits:,} bits)")


def _size(n: float) -> str:
    for unit, f in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= f:
            return f"{n / f:.1f} {unit}"
    return f"{int(n)} B"


_DECL = re.compile(r"^\s*(input|output|inout|reg|wire|logic|integer)\b(?:\s+(?:reg|wire|logic|signed))*"
                   r"\s*(?:\[([^\]:]+):([^\]]+)\])?\s*(?:\\\S+|[A-Za-z_][\w$]*)\s*(?:\[([^\]:]+):([^\]]+)\])?")
_PARAM = re.compile(r"^\s*localparam\s+(?:integer\s+)?([A-Za-z_]\w*)\s*=\s*(\d+)\s*[;,]")


def _value(expr: str, params: dict[str, int]) -> int | None:
    """An integer range bound: digits, parameter names and + - * ( ); None when not that."""
    text = re.sub(r"[A-Za-z_]\w*", lambda m: str(params.get(m[0], "?")), expr)
    if not re.fullmatch(r"[\d\s+\-*()]+", text):
        return None
    try:
        return int(eval(text, {"__builtins__": {}}))  # noqa: S307  (digits and + - * ( ) only)
    except (SyntaxError, ValueError, ZeroDivisionError):
        return None


def _top_level_commas(text: str) -> int:
    """Commas outside brackets, braces and parentheses (names in one declaration)."""
    depth = n = 0
    for ch in text:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            n += 1
    return n


def count_signals(texts) -> tuple[int, int]:
    """(signals, bits) declared in the Verilog ``texts`` (ports, regs, wires, integers; range
    bounds may use ``localparam`` integers; arrays of at most :data:`TRACE_MAX_ARRAY` entries
    count per entry, larger ones not at all, as Verilator does not trace them)."""
    signals = bits = 0
    for text in texts:
        params: dict[str, int] = {}
        for line in text.splitlines():
            pm = _PARAM.match(line)
            if pm:  # traced too (32 bits), constant
                params[pm[1]] = int(pm[2])
                signals += 1
                bits += 32
                continue
            m = _DECL.match(line)
            if not m:
                continue
            width = 32 if m[1] == "integer" else 1
            if m[2] is not None:
                hi, lo = _value(m[2], params), _value(m[3], params)
                width = abs(hi - lo) + 1 if hi is not None and lo is not None else 32
            entries = 1
            if m[4] is not None:
                a, b = _value(m[4], params), _value(m[5], params)
                entries = abs(a - b) + 1 if a is not None and b is not None else TRACE_MAX_ARRAY + 1
            if entries > TRACE_MAX_ARRAY:
                continue
            names = 1 + _top_level_commas(line[m.end():].split(";")[0]) if not m[1] in ("input", "output", "inout") else 1
            signals += names * entries
            bits += names * entries * width
    return signals, bits


def design_texts(contract: CoreContract) -> list[str]:
    """The Verilog that a waveform traces: the core's sources and the waveform build's wrapper."""
    from .wrapper import Clock, wrapper_text

    return [Path(s).read_text(errors="replace") for s in contract.sources] + [
        wrapper_text(contract, 1 << 20, Clock.TOGGLE)]


def _change_bytes(signals: int, bits: int) -> int:
    """VCD bytes when every signal changes once: the value (a ``b`` and a space for buses) and
    the identifier code (printable characters, about log94 of the count) and a newline."""
    id_len = max(1, math.ceil(math.log(max(signals, 2), 94)))
    return bits + signals * (id_len + 3)


def run_cycles(contract: CoreContract, digits: int) -> int:
    """Cycles of a simulation run of ``digits`` digits at full speed (cycle model; 0 unknown)."""
    return digits * (contract.cycles_per_digit or 0)


def window_cycles(contract: CoreContract, window: StepWindow | None, digits: int) -> tuple[int, int]:
    """(first, stop) cycles of ``window`` in a run of ``digits`` digits (the whole run for None)."""
    total = run_cycles(contract, digits)
    if window is None:
        return 0, total
    cpd, cps, T = contract.cycles_per_digit, contract.cycles_per_step, contract.seq_len
    if cpd is None or cps is None:
        raise HwssmError(f"--waves-steps needs the cycle model (cycles_per_step, cycles_per_digit) in "
                         f"{contract.rtl.path / 'manifest.json'}")

    def start(s: int) -> int:
        k, t = divmod(s, T)
        return k * cpd + t * cps

    return min(start(window.first), total), min(start(window.stop), total)


def window_plusargs(contract: CoreContract, window: StepWindow | None) -> tuple[str, ...]:
    """The plusargs of :func:`windowed_main` for ``window`` (none for the whole run)."""
    if window is None:
        return ()
    a, b = window_cycles(contract, window, 1 + window.stop // contract.seq_len)
    return (f"+hwssm_trace_from={edge_ps(FIRST_PIXEL_CYCLE + a) - CYCLE_PS // 2}",
            f"+hwssm_trace_to={edge_ps(FIRST_PIXEL_CYCLE + b) - CYCLE_PS // 2}")


def edge_ps(cycle: int) -> int:
    """Time (ps) of the rising edge of ``cycle`` (the wrapper's ``cyc`` at that edge) under the waveform clock."""
    return (RESET_CYCLES + 1 + cycle) * CYCLE_PS + CYCLE_PS // 2


def estimate(contract: CoreContract, window: StepWindow | None, runs: list[int]) -> WaveEstimate:
    """The waveform size of simulation runs of ``runs[i]`` digits each, dumping ``window``."""
    signals, bits = count_signals(design_texts(contract))
    per_cycle = SLOT_BYTES + ACTIVITY * _change_bytes(signals, bits)
    total, longest = 0.0, 0
    for n in runs:
        a, b = window_cycles(contract, window, n)
        total += (b - a) * per_cycle + _change_bytes(signals, bits) + 40 * signals  # + header, first full dump
        longest = max(longest, b - a)
    return WaveEstimate(signals, bits, longest, len(runs), int(total))


def check_limits(est: WaveEstimate, limits: WaveLimits) -> None:
    """HwssmError (one line) when ``est`` is above the limit and not forced."""
    if est.bytes > limits.limit_bytes and not limits.force:
        raise HwssmError(f"refusing to write {est.describe()}: over the limit of {_size(limits.limit_bytes)}; "
                         "narrow it with --waves-steps A:B or pass --waves-force")


# ---- the windowed main --------------------------------------------------------------------

_PARSE = r"""
// hwssm: dump only time slots in [hwssm_trace_from, hwssm_trace_to) (plusargs, picoseconds)
#include <cstdlib>
#include <cstring>
static vluint64_t hwssm_trace_from = 0, hwssm_trace_to = ~0ULL;
static void hwssm_trace_window() {
    const char *a = Verilated::commandArgsPlusMatch("hwssm_trace_from=");
    if (a && *a) hwssm_trace_from = std::strtoull(a + std::strlen("+hwssm_trace_from="), nullptr, 10);
    const char *b = Verilated::commandArgsPlusMatch("hwssm_trace_to=");
    if (b && *b) hwssm_trace_to = std::strtoull(b + std::strlen("+hwssm_trace_to="), nullptr, 10);
}
"""
_ANCHORS = ("double sc_time_stamp()", "Verilated::commandArgs(argc, argv);", "tfp->dump(main_time);")


def windowed_main(dest: Path) -> Path:
    """Write cocotb's Verilator main with the trace window (see the module docstring) to
    ``dest``; HwssmError when cocotb's main no longer has the lines it patches."""
    import cocotb_tools.config

    src = Path(cocotb_tools.config.share_dir) / "lib" / "verilator" / "verilator.cpp"
    text = src.read_text()
    if any(text.count(a) != 1 for a in _ANCHORS):
        raise HwssmError(f"cannot add the waveform window to {src} (an unknown cocotb version): simulate without "
                         "--waves-steps")
    first, args, dump = _ANCHORS
    text = text.replace(first, _PARSE + "\n" + first)
    text = text.replace(args, args + "\n    hwssm_trace_window();")
    text = text.replace(dump, "if (main_time >= hwssm_trace_from && main_time < hwssm_trace_to) " + dump)
    write_text(dest, text)
    return dest


# ---- FST support ---------------------------------------------------------------------------

_PROBE = "module probe; reg clk = 0; always #5 clk = ~clk; initial #20 $finish; endmodule\n"
_fst_cache: dict[str, bool] = {}


def fst_available() -> bool:
    """Whether Verilator's FST writer builds here: a tiny model traced with ``--trace-fst`` is
    built once per Verilator installation (about 10 s) and the answer cached in the cache
    directory (``sim/fst-probe-<hash>.json``)."""
    v = config.find_verilator()
    ver = v.root / "include" / "verilated_config.h"
    key = hashlib.sha256(str(v.root).encode() + (ver.read_bytes() if ver.is_file() else b"")).hexdigest()[:16]
    if key in _fst_cache:
        return _fst_cache[key]
    root = config.cache_dir() / "sim"
    stamp = root / f"fst-probe-{key}.json"
    try:
        ok = json.loads(stamp.read_text())["fst"]
        if isinstance(ok, bool):
            _fst_cache[key] = ok
            return ok
    except (OSError, ValueError, KeyError, TypeError):
        pass
    import tempfile

    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="fst-probe-", dir=root) as tmp:
        (Path(tmp) / "probe.sv").write_text(_PROBE)
        try:
            rc = procs.run([str(v.executable), "--binary", "--timing", "--trace-fst", "-CFLAGS",
                            "-std=c++20 -fcoroutines", "-Wno-fatal", "probe.sv"], cwd=tmp, env=v.env(),
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        except OSError:
            rc = 1
    ok = rc == 0
    write_json(stamp, {"fst": ok, "verilator": str(v.root)})
    _fst_cache[key] = ok
    return ok


def wave_format(waves: bool) -> str | None:
    """``"fst"`` (when :func:`fst_available`), ``"vcd"``, or None without waves."""
    if not waves:
        return None
    return "fst" if fst_available() else "vcd"


def run_sizes(n: int, jobs: int, per_run: int) -> list[int]:
    """Digits of each simulation run when :func:`~hwssm.verify.runner.run_digits` splits ``n``
    digits over ``jobs`` processes (at most ``per_run`` digits per run; its default batches)."""
    from .runner import MAX_BATCH

    waves = math.ceil(n / (jobs * MAX_BATCH))
    size = max(1, min(math.ceil(n / (jobs * waves)), per_run))
    return [min(size, n - lo) for lo in range(0, n, size)]
