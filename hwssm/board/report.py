"""The report and README of a board build (``report.json``, ``report.md``, ``README.md``).

Figures: utilization (Yosys cells: LUT4, FF, carry, DSP, BRAM, SPRAM; nextpnr logic cells of
the device), fmax against the build clock (MHz), cycles and latency of one sequence with the
UART (request 11 + T·C bytes, answer 4 bytes or 4 + 4K with logits, 10 bit times per byte),
bitstream and flash image sizes (bytes); the model's family and shape (S4D: H, M, L; S5: H, P, L).

Latency: the exact cycles of a CLASSIFY request from its first start bit to the answer's last
stop bit (:func:`hwssm.board.timing.classify_cycles`, ``latency_cycles``, ``latency_exact``);
where the core's step and the UART byte time are too close for an exact figure, the bounds:
the protocol engine streams samples into the core while they arrive, so a sequence takes at
least ``max(request, core) + answer`` and at most ``request + core + answer``
(``latency_min_s``, ``latency_s``). Sequences/s is ``1/latency_s`` (requests back to back).
"""

from __future__ import annotations

from ..errors import HwssmError
from ..hw import cycle_model
from ..model.config import Family
from . import protocol, timing

__all__ = ["model_json", "build_report", "report_markdown", "board_readme", "REPORT_FORMAT"]

REPORT_FORMAT = "hwssm-board-build/1"


def model_json(qm) -> dict:
    """The report's model: digest, digest4, family, shape (S4D: H, M, L; S5: H, P, L), classes, plan."""
    family = getattr(qm, "family", Family.S4D)
    shape = {"H": qm.H, "P": qm.P, "L": qm.L} if family is Family.S5 else {"H": qm.H, "M": qm.M, "L": qm.L}
    return {"digest": qm.digest(), "digest4": protocol.digest4(qm.digest()).hex(), "family": family.value,
            **shape, "n_classes": qm.n_classes, "plan": qm.plan.name}


def _shape_text(m: dict) -> str:
    """``S5, H=16, P=16, L=1`` (the model's family and shape, as in :func:`model_json`)."""
    dims = ", ".join(f"{k}={m[k]}" for k in ("H", "M", "P", "L") if k in m)
    return f"{m['family'].upper()}, {dims}"


def build_report(req, top, build, fmax: float, meets: bool, bitstream_bytes: int, image: bytes | None,
                 flash_bytes: bytes | None, work) -> dict:
    """The JSON report of a board build (see the module docstring for the figures and units)."""
    board, cfg, qm = req.board, top.config, req.qm
    dev = board.device
    util = build.pnr.utilization
    bels = dev.bels

    def used(res: str):
        return util[bels[res]].used if res in bels and bels[res] in util else 0

    def avail(res: str):
        return util[bels[res]].available if res in bels and bels[res] in util else 0

    clk = top.clk_hz
    bit_s = top.divisor / clk  # one UART bit, seconds
    baud = clk / top.divisor
    T, C, K = cfg.T, 1, cfg.n_classes
    req_bytes = protocol.CLASSIFY_HEADER_BYTES + T * C
    ans_bytes, ans_logits = 4, 4 + protocol.LOGIT_BYTES * K
    core_cycles = cycle_model.cycles_per_digit(cfg)
    core_s, in_s, out_s = core_cycles / clk, 10 * req_bytes * bit_s, 10 * ans_bytes * bit_s
    try:
        exact = timing.classify_cycles(cfg, top.divisor, False)
        exact_logits = timing.classify_cycles(cfg, top.divisor, True)
    except HwssmError:
        exact = exact_logits = None
    latency = exact / clk if exact is not None else in_s + core_s + out_s
    low = exact / clk if exact is not None else max(in_s, core_s) + out_s
    crit = build.pnr.clocked_paths
    return {
        "format": REPORT_FORMAT,
        "board": {"name": board.name, "part": board.part, "device": dev.name, "osc_mhz": board.osc_hz / 1e6,
                  "flash": None if board.flash is None else {"part": board.flash.part, "offset": board.flash.offset}},
        "model": model_json(qm),
        "design": req.design.to_json(),
        "utilization": {"lut": build.synth.lut, "ff": build.synth.ff, "carry": build.synth.carry,
                        "dsp": build.synth.dsp, "bram": build.synth.bram, "spram": build.synth.spram,
                        "lutram": build.synth.lutram, "logic_cells": used("logic"),
                        "logic_cells_available": avail("logic"), "dsp_available": avail("dsp"),
                        "bram_available": avail("bram"), "spram_available": avail("spram")},
        "timing": {"clock_mhz": round(clk / 1e6, 6), "fmax_mhz": round(fmax, 3), "meets_clock": meets,
                   "fmax_per_clock_mhz": {k: round(v, 3) for k, v in build.pnr.fmax_mhz.items()},
                   "critical_path_ns": max((p.delay_ns for p in crit), default=None),
                   "allow_slow": req.allow_slow, "seed": req.seed},
        "uart": {"baud": round(baud, 1), "requested_baud": req.baud or board.baud, "divisor": top.divisor,
                 "inter_byte_timeout_s": round(top.timeout_cycles / clk, 6), "request_bytes": req_bytes,
                 "answer_bytes": ans_bytes, "answer_bytes_with_logits": ans_logits},
        "sequence": {"T": T, "C": C, "core_cycles": core_cycles, "core_s": core_s, "uart_request_s": in_s,
                     "uart_answer_s": out_s, "latency_exact": exact is not None, "latency_cycles": exact,
                     "latency_cycles_with_logits": exact_logits, "latency_s": latency, "latency_min_s": low,
                     "sequences_per_s": 1.0 / latency},
        "bitstream": {"name": dev.family.bitstream.bitstream_name, "bytes": bitstream_bytes},
        "flash": None if image is None else {"offset": board.flash.offset, "image_bytes": len(image),
                                             "words": (len(image) - protocol.FLASH_HEADER_BYTES) // 2,
                                             "file_bytes": len(flash_bytes)},
        "tools": build.tools,
        "seconds": {k: round(v, 2) for k, v in build.seconds.items()},
        "workdir": str(work),
    }


def report_markdown(r: dict) -> str:
    """``report.md``: the report as tables."""
    u, t, s, ua = r["utilization"], r["timing"], r["sequence"], r["uart"]

    def of(a, b):
        return f"{a} / {b}" if b else str(a)

    rows = [("LUT4", str(u["lut"])), ("FF", str(u["ff"])), ("carry", str(u["carry"])),
            ("DSP", of(u["dsp"], u["dsp_available"])), ("BRAM", of(u["bram"], u["bram_available"])),
            ("SPRAM", of(u["spram"], u["spram_available"])),
            ("logic cells", of(u["logic_cells"], u["logic_cells_available"])),
            ("fmax", f"{t['fmax_mhz']:.2f} MHz (build clock {t['clock_mhz']:g} MHz"
                     + (")" if t["meets_clock"] else ", NOT MET: built with --allow-slow)")),
            ("core cycles / sequence", f"{s['core_cycles']:,} ({1e3 * s['core_s']:.2f} ms)"),
            ("UART", f"{ua['baud']:g} baud, request {ua['request_bytes']} bytes ({1e3 * s['uart_request_s']:.1f} ms), "
                     f"answer {ua['answer_bytes']} bytes ({ua['answer_bytes_with_logits']} with logits)"),
            ("latency / sequence", (f"{s['latency_cycles']:,} cycles = {1e3 * s['latency_s']:.2f} ms incl. UART "
                                    f"({s['latency_cycles_with_logits']:,} cycles with logits)" if s["latency_exact"] else
                                    f"{1e3 * s['latency_min_s']:.1f} .. {1e3 * s['latency_s']:.1f} ms incl. UART")
                                   + f"; {s['sequences_per_s']:.2f} sequences/s"),
            ("bitstream", f"{r['bitstream']['name']}, {r['bitstream']['bytes']:,} bytes")]
    if r["flash"]:
        f = r["flash"]
        rows.append(("flash image", f"{f['image_bytes']:,} bytes ({f['words']:,} words) at 0x{f['offset']:x}; "
                                    f"flash.bin {f['file_bytes']:,} bytes"))
    b, m = r["board"], r["model"]
    head = [f"# {b['name']} build of model {m['digest4']} ({_shape_text(m)}, plan {m['plan']})", "",
            f"Device {b['part']} ({b['device']}), P = {r['design']['lanes']} lanes, "
            f"{r['design']['storage']} storage, T = {s['T']}.", "", "| figure | value |", "|---|---|"]
    tail = ["", f"Tools: {', '.join(r['tools'].values())}. Logs: `{r['workdir']}`.", ""]
    return "\n".join(head + [f"| {k} | {v} |" for k, v in rows] + tail)


def board_readme(r: dict) -> str:
    """``README.md``: how to program the board and run the model on it."""
    b, ua, m = r["board"], r["uart"], r["model"]
    bit = r["bitstream"]["name"]
    if r["flash"]:
        program = ["iceprog flash.bin      # bitstream at 0, parameter image at "
                   f"0x{r['flash']['offset']:x} (one write)"]
    elif bit.endswith(".fs"):  # Gowin (Tang Nano 9K): openFPGALoader's -b name of the board is the hwssm one
        program = [f"openFPGALoader -b {b['name']} {bit}       # into SRAM (lost at power-off)",
                   f"openFPGALoader -b {b['name']} -f {bit}    # into the FPGA's internal configuration flash"]
    elif bit.endswith(".bit"):
        program = [f"openFPGALoader -b {b['name']} {bit}       # into SRAM (lost at power-off)",
                   f"openFPGALoader -b {b['name']} -f {bit}    # into the configuration flash"]
    else:
        program = [f"iceprog {bit}"]
    lines = [
        f"# hwssm on {b['name']} ({b['part']})", "",
        f"Model digest `{m['digest']}` (digest4 `{m['digest4']}`), built by `hwssm board build`.", "",
        "## Program the board", "",
        "Install the programmer yourself (`iceprog` from Project IceStorm, or `openFPGALoader`), then:", "",
        "```", *program, "```", "",
    ]
    if r["flash"]:
        lines += [f"The parameters are read from the SPI flash at power-up (offset 0x{r['flash']['offset']:x}, "
                  f"{r['flash']['image_bytes']:,} bytes); the ready LED lights when they are loaded, the error LED "
                  "when the image header is bad (every request is then answered NOT_LOADED).", ""]
    lines += [
        "## Run", "",
        f"UART 8N1 at {ua['requested_baud']} baud (actual {ua['baud']:g}), inter-byte timeout "
        f"{1e3 * ua['inter_byte_timeout_s']:g} ms; protocol: hwssm/board/PROTOCOL.md.", "",
        "```",
        f"hwssm board run --port /dev/ttyUSB1 --model MODEL --data smnist --digits 100 --baud {ua['requested_baud']}",
        "```", "",
        f"Build clock {r['timing']['clock_mhz']:g} MHz (fmax {r['timing']['fmax_mhz']:.2f} MHz); see report.md.", "",
    ]
    return "\n".join(lines)
