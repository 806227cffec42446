"""A generated top module that fits the core to the device's pins.

The wrapper instantiates the core (the manifest's ``top``) and:

* **debug ports** (role ``debug``, simulation only). With :attr:`DebugPolicy.DROP`, the
  default, debug outputs are left unconnected and debug inputs tied to 0, so Yosys removes
  the logic that exists only to feed them: the numbers then describe the core as it would be
  deployed, which is what a resource/bit-width trade-off wants. :attr:`DebugPolicy.FOLD`
  XOR-reduces every debug output bit into one pin ``hwssm_debug_xor`` so that nothing behind
  them can be removed (cost: about one LUT4 per 3 debug bits, plus the debug-only logic);
  use it to measure the simulation build as it is.
* **clock and reset** ports become pins of the same name.
* **data ports** become pins of the same name when they fit the pin budget (ECP5 is placed
  out of context, so always). When they do not (e.g. iCE40 UP5K SG48: 39 IO): inputs stay
  direct if at least one pin is left for outputs, and the data outputs are XOR-folded onto
  the remaining pins ``hwssm_fold[k]`` (bit ``i`` of the concatenated outputs goes to
  pin ``i mod K``), which keeps every output bit observable; if even the inputs do not fit,
  they are fed from one pin ``hwssm_sin`` through a shift register (one FF per input bit,
  counted in :attr:`WrapperInfo.overhead_ff`).
"""

from __future__ import annotations

import dataclasses
import enum

from ..errors import HwssmError
from ..targets import Device
from .rtl import Dir, Port, Role, RtlDesign


class DebugPolicy(enum.Enum):
    """What the wrapper does with debug outputs (see the module docstring)."""

    DROP = "drop"
    FOLD = "fold"


@dataclasses.dataclass(frozen=True)
class WrapperInfo:
    """How the core was wrapped.

    Attributes
    ----------
    top : str
        Name of the wrapper module (``hwssm_ice40_top`` or ``hwssm_ecp5_top``).
    pins : int
        Top-level port bits of the wrapper (package pins used on iCE40).
    serialized_input_bits : int
        Data input bits fed through the shift register (0 when inputs are direct).
    folded_output_bits : int
        Data output bits XOR-folded onto ``hwssm_fold`` (0 when outputs are direct).
    fold_pins : int
        Width of ``hwssm_fold`` (0 when outputs are direct).
    debug : str
        The :class:`DebugPolicy` value used.
    overhead_ff : int
        Flip-flops the wrapper adds (the input shift register), counts.
    """

    top: str
    pins: int
    serialized_input_bits: int
    folded_output_bits: int
    fold_pins: int
    debug: str
    overhead_ff: int

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def wrapper_name(device: Device) -> str:
    """``hwssm_<family>_top``."""
    return f"hwssm_{device.family.name}_top"


def make_wrapper(rtl: RtlDesign, device: Device, debug: DebugPolicy = DebugPolicy.DROP) -> tuple[str, WrapperInfo]:
    """Verilog text of the wrapper module for ``rtl`` on ``device``, and what it did.

    Raises HwssmError when even the narrowest wrapper needs more pins than the package has.
    """
    top = wrapper_name(device)
    names = {p.name for p in rtl.ports}
    for reserved in ("hwssm_sin", "hwssm_sreg", "hwssm_fold", "hwssm_debug_xor", "u_core", top):
        if reserved in names or rtl.top == reserved:
            raise HwssmError(f"RTL port or module name {reserved!r} clashes with the hwssm wrapper; rename it")

    ctrl = rtl.ports_with(Role.CLK) + rtl.ports_with(Role.RST)
    d_in = rtl.ports_with(Role.DATA, Dir.IN)
    d_out = rtl.ports_with(Role.DATA, Dir.OUT)
    g_in = rtl.ports_with(Role.DEBUG, Dir.IN)
    g_out = rtl.ports_with(Role.DEBUG, Dir.OUT)
    debug_pin = 1 if (debug is DebugPolicy.FOLD and g_out) else 0
    n_in = sum(p.width for p in d_in)
    n_out = sum(p.width for p in d_out)

    serial, fold_pins = False, 0
    if device.io_pins is not None:
        budget = device.io_pins - len(ctrl) - debug_pin
        if n_in + n_out > budget:
            if n_in + min(n_out, 1) > budget:
                serial = True
                budget -= 1 if n_in else 0
            else:
                budget -= n_in
            if n_out > budget:
                fold_pins = budget
            if budget < (1 if n_out else 0):
                raise HwssmError(
                    f"{rtl.top} does not fit {device.name}'s {device.io_pins} IO: "
                    f"{len(ctrl)} clock/reset pins leave no room for data"
                )

    ports: list[str] = [f"input wire {p.name}" for p in ctrl]
    body: list[str] = []
    conns: list[str] = [f".{p.name}({p.name})" for p in ctrl]

    # data inputs
    if serial and n_in:
        ports.append("input wire hwssm_sin")
        body.append(f"reg [{n_in - 1}:0] hwssm_sreg;")
        src = "hwssm_sin" if n_in == 1 else f"{{hwssm_sreg[{n_in - 2}:0], hwssm_sin}}"
        body.append(f"always @(posedge {rtl.clock}) hwssm_sreg <= {src};")
        lo = 0
        for p in d_in:
            conns.append(f".{p.name}(hwssm_sreg[{lo + p.width - 1}:{lo}])")
            lo += p.width
    else:
        for p in d_in:
            ports.append(f"input wire {_range(p)}{p.name}")
            conns.append(f".{p.name}({p.name})")

    # data outputs
    if fold_pins:
        ports.append(f"output wire [{fold_pins - 1}:0] hwssm_fold")
        bits: list[str] = []
        for p in d_out:
            body.append(f"wire {_range(p)}{p.name};")
            conns.append(f".{p.name}({p.name})")
            bits += [f"{p.name}[{i}]" if p.width > 1 else p.name for i in range(p.width)]
        for k in range(fold_pins):
            body.append(f"assign hwssm_fold[{k}] = ^{{{', '.join(bits[k::fold_pins])}}};")
    else:
        for p in d_out:
            ports.append(f"output wire {_range(p)}{p.name}")
            conns.append(f".{p.name}({p.name})")

    # debug
    for p in g_in:
        conns.append(f".{p.name}({p.width}'d0)")
    if debug is DebugPolicy.FOLD and g_out:
        ports.append("output wire hwssm_debug_xor")
        for p in g_out:
            body.append(f"wire {_range(p)}{p.name};")
            conns.append(f".{p.name}({p.name})")
        body.append(f"assign hwssm_debug_xor = ^{{{', '.join(p.name for p in g_out)}}};")
    else:
        conns += [f".{p.name}()" for p in g_out]

    pins = len(ctrl) + (1 if serial and n_in else n_in) + (fold_pins or n_out) + debug_pin
    info = WrapperInfo(
        top=top,
        pins=pins,
        serialized_input_bits=n_in if serial else 0,
        folded_output_bits=n_out if fold_pins else 0,
        fold_pins=fold_pins,
        debug=debug.value,
        overhead_ff=n_in if serial else 0,
    )
    text = "\n".join(
        [
            f"// Generated by hwssm.synth.wrapper for {rtl.top} on {device.name}; do not edit.",
            f"module {top} (",
            ",\n".join(f"    {p}" for p in ports),
            ");",
            *(f"    {b}" for b in body),
            f"    {rtl.top} u_core (",
            ",\n".join(f"        {c}" for c in conns),
            "    );",
            "endmodule",
            "",
        ]
    )
    return text, info


def _range(p: Port) -> str:
    return f"[{p.width - 1}:0] " if p.width > 1 else ""
