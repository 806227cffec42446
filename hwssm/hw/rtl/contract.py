"""The integration contract of a generated core: what someone holding only ``rtl/<design>/``
needs to drive it (the manifest's ``integration`` object and the Verilog header comment).

:func:`integration` states, from the core and its cycle model: the reset rule, the stream
rules of every port group, the debug stream's layout, the class tie rule, the output
backpressure and the latencies. :func:`header` renders a manifest as the comment block at the
top of ``hwssm_core.v``. The rules stated here are checked by ``tests/hw/rtl/test_framer.py``,
``tests/verify/test_testbench.py`` (the generated plain-Verilog testbench checks the latency,
reset and tie rules on Icarus and Verilator) and the cycle-model tests.
"""

from __future__ import annotations

from .. import cycle_model

__all__ = ["PORT_NOTES", "RESET_CYCLES", "latencies", "integration", "header"]

#: Cycles ``rst`` must be high (with ``clk`` running) to reset the core. The reset is
#: synchronous: every register takes its reset value at the first rising edge of ``clk``
#: with ``rst`` high.
RESET_CYCLES = 1

#: What each top-level port carries (the manifest's ``integration.ports[].desc``).
PORT_NOTES = {
    "clk": "clock; every register samples on its rising edge",
    "rst": "synchronous reset, active high, at least 1 cycle; in_ready and load_ready are low while it is high",
    "in_valid": "input stream: a pixel is offered",
    "in_ready": "input stream: the core takes the offered pixel at this rising edge (low during reset)",
    "in_data": "input stream: pixel, unsigned 8 bits; T per sequence, sequences back to back",
    "in_last": "input stream: high with the last (T-th) pixel of every sequence",
    "frame_error": "one-cycle pulse: in_last disagreed with the pixel count; the core resynchronises",
    "out_valid": "output stream: a class is offered; stays high with out_class stable until taken",
    "out_ready": "output stream: the class is taken at this rising edge",
    "out_class": "output stream: class of a sequence, unsigned 4 bits (argmax of the logits, smallest index on ties)",
    "dbg_valid": "debug stream: one-cycle pulse per value, no backpressure",
    "dbg_data": "debug stream: r_{l+1}[h] (signed activation) for every step t, block l, channel h, in that order",
    "logit_valid": "logit stream: one-cycle pulse per logit, no backpressure",
    "logit_data": "logit stream: n_classes signed logits (logit_frac fractional bits) in class order, before the class",
    "load_valid": "load stream: a word of the load image is offered",
    "load_ready": "load stream: the word is taken at this rising edge (low during reset and once the image is complete)",
    "load_data": "load stream: 16-bit word of params.hex, in file order",
}


def latencies(cfg) -> dict:
    """Latencies of a core (CoreConfig ``cfg``), in clock cycles, from the cycle model.

    ``last_to_class``: from the rising edge that takes the last pixel of a sequence to the
    first rising edge with ``out_valid`` high, when the pixels come back to back (every
    pixel offered as soon as ``in_ready`` allows) and ``out_ready`` is high: the last pixel
    then waits in the input buffer while step T-2 runs, so this is the largest value.
    ``last_to_class_min``: the same when the last pixel comes after the core has gone idle.
    ``first_to_class``: first pixel taken → class (``cycles_per_digit``)."""
    period = cycle_model.cycles_per_step(cfg)
    tail = cycle_model.digit_tail(cfg)
    return {"last_to_class": cycle_model.last_to_class(cfg), "last_to_class_min": tail,
            "first_to_class": cycle_model.cycles_per_digit(cfg), "cycles_per_step": period}


def integration(core) -> dict:
    """The manifest's ``integration`` object of ``core`` (a :class:`~hwssm.hw.rtl.core.HwssmCore`)."""
    cfg = core.config
    T, L, H, K = cfg.T, cfg.L, cfg.H, cfg.n_classes
    last = core.interface.last
    return {
        "ports": core.port_notes(),
        "reset": {"kind": "synchronous, active high", "min_cycles": RESET_CYCLES,
                  "rule": "hold rst high for at least min_cycles rising edges of clk before the first pixel "
                          "(and the load image); in_ready and load_ready are low while rst is high, so a source "
                          "may run during reset; registers also have power-up values, but only a reset is a contract"},
        "input": {"protocol": "valid/ready: a transfer happens at a rising edge with valid and ready high; "
                              "the payload must be stable while valid is high and not taken",
                  "sequence": (f"T = {T} pixels per sequence, unsigned 8 bits, sequences back to back; the state "
                               "restarts at zero with every sequence" if cfg.enc_rom is None and cfg.C == 1 else
                               f"T = {T} steps per sequence, each one transfer of C = {cfg.C} unsigned 8-bit samples "
                               f"in the {cfg.in_width}-bit in_data (sample c in bits [8c, 8c+8)), sequences back to "
                               "back; the state restarts at zero with every sequence" if cfg.enc_rom is None else
                               f"T = {T} token ids per sequence (token model: in_data is the step's token id "
                               f"k < {cfg.qm.vocab}, unsigned 8 bits, the address of the embedding ROM), sequences "
                               "back to back; the state restarts at zero with every sequence"),
                  "framing": ("in_last marks the T-th pixel; a mismatch pulses frame_error and the core "
                              "resynchronises: an early in_last completes the sequence with zero pixels, a "
                              "missing one drops pixels up to and including the next in_last"
                              if last else
                              "no marker: the core counts T pixels per sequence from reset; a lost or extra "
                              "pixel shifts every later sequence until the next reset (generate with --last to "
                              "get in_last/frame_error)"),
                  "gaps": "in_valid may drop at any time; gaps only delay the result"},
        "output": {"class": "out_class, unsigned, held with out_valid high until out_ready",
                   "tie_rule": "argmax of the logits; on equal logits the smallest class index",
                   "backpressure": "while a class is not taken the core finishes the next sequence's steps, "
                                   "then waits before its decoder (in_ready goes low); no result is lost",
                   "order": "one class per sequence, in input order"},
        "logit_stream": {"count_per_sequence": K, "order": "class 0 .. n_classes-1, then the class on out",
                         "format": f"signed {cfg.logit_width} bits, {cfg.logit_frac} fractional bits (not rescaled)",
                         "backpressure": "none: logit_valid is a one-cycle pulse; sample it every cycle"},
        "dbg_stream": {"count_per_sequence": T * L * H,
                       "order": "for t in 0..T-1, for l in 0..L-1, for h in 0..H-1: r_{l+1}[h], the residual "
                                "stream after block l (the golden engine's trace r[:, l+1, t, h])",
                       "format": f"signed {cfg.a} bits",
                       "backpressure": "none: dbg_valid is a one-cycle pulse; sample it every cycle (or leave "
                                       "dbg_* unconnected: synthesis removes the debug logic)"},
        "latency_cycles": latencies(cfg),
        "simulators": "plain Verilog-2005; identical on event-driven simulators in Verilog and SystemVerilog "
                      "modes and on Verilator; no `timescale (give Verilator --timescale when the testbench "
                      "has one)",
    }


def header(man: dict) -> str:
    """The comment block at the top of the Verilog file, from the manifest ``man``."""
    it = man["integration"]
    lat = it["latency_cycles"]
    s5 = man.get("family") == "s5"
    lines = [
        # the package version only: the generator's code hash (manifest "generator_version")
        # would change this text, and every cache keyed on it, with any edit of the generator
        f"{man['top']}: {'S5' if s5 else 'S4D'} sequence classifier generated by hwssm "
        f"{man['generator_version'].split('+')[0]}",
        f"model {man['model_digest'][:16]}, plan {man['plan'].get('name', '?')}, design {man['design_key']}; "
        f"H={man['shape']['H']} {'P' if s5 else 'M'}={man['shape']['P' if s5 else 'M']} L={man['shape']['L']} "
        f"classes={man['shape']['n_classes']} T={man['seq_len']}",
        "The manifest.json next to this file states the same contract as JSON.",
        "",
        "Ports (dir, width, signedness: meaning):",
    ]
    for p, note in zip(man["ports"], it["ports"]):
        lines.append(f"  {p['name']:<12} {p['dir']:<3} {p['width']:>2} {'s' if note['signed'] else 'u'}  {note['desc']}")
    lines += ["", f"Reset: {it['reset']['kind']}; {it['reset']['rule']}.",
              f"Input: {it['input']['protocol']}. {it['input']['sequence']}. {it['input']['framing']}.",
              f"Output: {it['output']['class']}; {it['output']['tie_rule']}; {it['output']['backpressure']}.",
              f"Logits: {it['logit_stream']['count_per_sequence']} per sequence, {it['logit_stream']['format']}, "
              f"{it['logit_stream']['backpressure']}.",
              f"Debug: {it['dbg_stream']['count_per_sequence']} per sequence, {it['dbg_stream']['order']}; "
              f"{it['dbg_stream']['format']}; {it['dbg_stream']['backpressure']}.",
              f"Latency (cycles): last pixel taken -> out_valid {lat['last_to_class']} with pixels back to back "
              f"({lat['last_to_class_min']} when the last pixel comes late); first pixel -> class "
              f"{lat['first_to_class']}; one step {lat['cycles_per_step']}.",
              f"Simulation: {it['simulators']}."]
    if "load" in man:
        lines.append(f"Load: stream the {man['load']['words']} words of {man['load']['image']} into load_* after "
                     "every reset, before the pixels are taken.")
    body = []
    for ln in lines:
        while len(ln) > 110:
            cut = ln.rfind(" ", 0, 110)
            cut = cut if cut > 20 else 110
            body.append(ln[:cut])
            ln = "    " + ln[cut:].lstrip()
        body.append(ln)
    return "".join(f"// {ln}".rstrip() + "\n" for ln in body) + "\n"
