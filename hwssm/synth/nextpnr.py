"""nextpnr place-and-route and the parsers of its ``--report`` JSON and log.

The device selection arguments are the target's (:attr:`hwssm.targets.Device.nextpnr_args`).
iCE40 devices are placed as whole chips: the netlist's top must be the narrow wrapper of
:mod:`hwssm.synth.wrapper`, and nextpnr places the pins itself (``--pcf-allow-unconstrained``,
so no PCF is written; it only uses bonded pins of the package). ECP5 devices are placed
``--out-of-context`` (no IO buffers, no pins). Gowin devices (nextpnr-himbaechel) are whole
chips whose every pin must be constrained: the wrapper's pins go on the device's free pins
(:mod:`~hwssm.synth.free_pins`).

A board build (:class:`Pinned`) places the whole chip instead: the board's die and package
arguments (:attr:`hwssm.targets.boards.Board.nextpnr_args`), the pin file, and the textual
configuration written for the packer, with the family's flags
(:attr:`~hwssm.targets.Family.bitstream`: iCE40 ``--pcf``/``--asc``, ECP5 ``--lpf``/``--textcfg``).

Every run uses ``--timing-allow-fail``: missing the target frequency is reported
(``fmax_mhz`` below ``target_mhz``), not an error. A design that needs more of any
resource than the device has raises :class:`DesignDoesNotFit`.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

from ..config import find_nextpnr
from ..errors import HwssmError
from ._run import Progress, fail, run_tool
from .free_pins import assign_pins
from ..targets import Device
from .results import CriticalPath, PnrResult, Utilization

REPORT = "report.json"

_UTIL_LINE = re.compile(r"^Info:\s+([A-Za-z0-9_]+):\s+(\d+)/\s*(\d+)\s+\d+%")
# nextpnr names a clock after its (promoted) net: "clk$SB_IO_IN_$glb_clk" for the iCE40 pin "clk",
# "$glbnet$clk$TRELLIS_IO_IN" for the ECP5 pin "clk" of a pinned (board) build, "clk_IBUF_I_O" on Gowin.
_CLOCK_SUFFIX = re.compile(r"(\$SB_IO_IN_?)?(\$glb_clk)?(\$TRELLIS_IO_IN)?(_IBUF_I_O)?$")
_CLOCK_PREFIX = re.compile(r"^\$glbnet\$")


class DesignDoesNotFit(HwssmError):
    """The design needs more of some resource than the device has.

    Attributes
    ----------
    device : str
        The device name (``"up5k"``).
    utilization : dict[str, Utilization]
        Everything nextpnr counted before it gave up.
    """

    def __init__(self, device: str, utilization: dict[str, Utilization]):
        self.device = device
        self.utilization = utilization
        over = ", ".join(f"{k} {u.used}/{u.available} (+{u.overflow})" for k, u in utilization.items() if u.overflow)
        super().__init__(f"design does not fit {device}: {over}")


@dataclasses.dataclass(frozen=True)
class Pinned:
    """A whole-chip placement with pin constraints (a board build).

    Attributes
    ----------
    device_args : tuple[str, ...]
        nextpnr's die, package (and speed grade) arguments of the board, e.g.
        ``("--up5k", "--package", "sg48")``; no placement mode (not out of context).
    pins : str
        The pin constraint file, relative to the work directory (``pins.pcf``).
    """

    device_args: tuple[str, ...]
    pins: str


def placement_args(device: Device, pinned: Pinned | None) -> list[str]:
    """nextpnr's device and placement arguments: the device's own (out of context, or free
    pins), or with ``pinned`` the board's die and package, the pin file and the configuration output."""
    if pinned is None:
        return list(device.nextpnr_args)
    bs = device.family.bitstream
    if bs is None:
        raise HwssmError(f"device {device.name} has no board flow (no pin constraints / bitstream packer known)")
    return [*pinned.device_args, *bs.pnr_args(pinned.pins)]


def run_nextpnr(
    workdir: Path,
    netlist: str,
    device: Device,
    *,
    freq_mhz: float,
    seed: int = 1,
    progress: Progress | None = None,
    pinned: Pinned | None = None,
) -> tuple[PnrResult, float]:
    """Place and route ``workdir/netlist`` on ``device``; returns the parsed result and wall time (s).

    Writes ``nextpnr.log`` and ``report.json`` in ``workdir`` (with ``pinned``, also the
    family's textual configuration, ``Family.bitstream.config_name``). Raises
    :class:`DesignDoesNotFit` when a resource overflows, HwssmError (first ERROR line
    and log path) on any other failure.
    """
    tool = find_nextpnr(device.family.name)
    if pinned is None and device.pin_sites:  # Gowin: every IO must be constrained
        pinned = Pinned(device.nextpnr_args, assign_pins(workdir, netlist, device))
    args = [
        *placement_args(device, pinned),
        "--json", netlist,
        "--report", REPORT,
        "--freq", f"{freq_mhz:g}",
        "--timing-allow-fail",
        "--seed", str(seed),
        "-q", "-l", "nextpnr.log",
    ]  # fmt: skip
    label = f"{tool.name} {device.name}"  # nextpnr-ice40, nextpnr-ecp5, nextpnr-himbaechel (gowin)
    report_path = workdir / REPORT
    report_path.unlink(missing_ok=True)
    run = run_tool(tool, args, cwd=workdir, log_name="nextpnr", label=label, progress=progress)
    if run.returncode != 0 or not report_path.is_file():
        util = parse_log_utilization(run.log_text())
        if any(u.overflow for u in util.values()):
            raise DesignDoesNotFit(device.name, util)
        raise fail(label, run)
    try:
        report = json.loads(report_path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise HwssmError(f"cannot read nextpnr report {report_path}: {exc}") from None
    return parse_report(report, device.name), run.seconds


def parse_log_utilization(log: str) -> dict[str, Utilization]:
    """The last ``Device utilisation:`` table of a nextpnr log (empty when there is none)."""
    util: dict[str, Utilization] = {}
    inside = False
    for line in log.splitlines():
        if "Device utilisation:" in line:
            util, inside = {}, True
            continue
        if inside:
            m = _UTIL_LINE.match(line)
            if m:
                util[m.group(1)] = Utilization(int(m.group(2)), int(m.group(3)))
            else:
                inside = False
    return util


def parse_report(report: dict, device: str) -> PnrResult:
    """A :class:`PnrResult` from nextpnr's ``--report`` JSON (``utilization``, ``fmax``, ``critical_paths``)."""
    try:
        util = {str(k): Utilization(int(v["used"]), int(v["available"])) for k, v in report["utilization"].items()}
        fmax_section = report.get("fmax", {})
        fmax = {clock_name(k): float(v["achieved"]) for k, v in fmax_section.items()}
        target = {clock_name(k): float(v["constraint"]) for k, v in fmax_section.items() if "constraint" in v}
        paths = [_critical_path(p) for p in report.get("critical_paths", [])]
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise HwssmError(f"unexpected nextpnr report JSON ({type(exc).__name__}: {exc})") from None
    # a bel type the device has none of but nextpnr placed anyway is its own bookkeeping
    # (nextpnr-himbaechel gowin: DUMMY_CELL 1/0), not an overflow
    fits = not any(u.overflow for u in util.values() if u.available)
    return PnrResult(device=device, utilization=util, fmax_mhz=fmax, target_mhz=target, critical_paths=paths, fits=fits)


def clock_name(net: str) -> str:
    """The clock as the design names it: nextpnr's net name without IO/global-buffer suffixes."""
    return _CLOCK_SUFFIX.sub("", _CLOCK_PREFIX.sub("", str(net))) or str(net)


def _edge(text: str) -> str:
    """``"posedge clk$SB_IO_IN_$glb_clk"`` -> ``"posedge clk"``; ``"<async>"`` stays."""
    edge, _, net = str(text).partition(" ")
    return f"{edge} {clock_name(net)}" if net else edge


def _critical_path(p: dict) -> CriticalPath:
    segs = p.get("path", [])
    logic = sum(float(s["delay"]) for s in segs if s.get("type") != "routing")
    routing = sum(float(s["delay"]) for s in segs if s.get("type") == "routing")
    levels = sum(1 for s in segs if s.get("type") == "logic")

    def end(s: dict, key: str) -> str:
        e = s.get(key, {})
        return f"{e.get('cell', '?')}.{e.get('port', '?')}"

    return CriticalPath(
        from_clock=_edge(p.get("from", "")),
        to_clock=_edge(p.get("to", "")),
        delay_ns=round(logic + routing, 4),
        logic_ns=round(logic, 4),
        routing_ns=round(routing, 4),
        levels=levels,
        start=end(segs[0], "from") if segs else "",
        end=end(segs[-1], "to") if segs else "",
    )
