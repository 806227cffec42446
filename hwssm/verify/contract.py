"""The port contract of the generated core, read from an RTL directory's manifest.

The core (module ``hwssm_core`` unless the manifest says otherwise) has:

==============  ====  ==========  ===============================================
port            dir   width       meaning
==============  ====  ==========  ===============================================
clk             in    1           clock
rst             in    1           synchronous reset, active high
in_valid        in    1           pixel stream: T pixels per digit, back to back
in_ready        out   1
in_data         in    8           pixel (unsigned, 0..255)
out_valid       out   1           class stream: one class per digit
out_ready       in    1
out_class       out   >= 1        argmax of the logits
dbg_valid       out   1           r_{l+1}[h] for every step t, block l, channel h,
dbg_data        out   act_width   in the order (t, l, h); signed; no backpressure
logit_valid     out   1           the n_classes logits in class order after the
logit_data      out   logit_w     last step; signed; no backpressure
==============  ====  ==========  ===============================================

With LOAD storage (manifest field ``load``) the core also has the load port named there
(``load_valid`` in, ``load_ready`` out, ``load_data`` in, ``word_width`` bits): after reset the
wrapper streams the ``words`` words of the load image (``params.hex``, one hex word a line,
its SHA-256 in ``load.sha256``) through it, valid/ready, before the pixels are taken
(:class:`LoadPort`). Other input ports are tied to zero by the simulation wrapper; other
outputs are left open.
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

from ..errors import HwssmError
from ..io import confined
from ..synth.rtl import Dir, RtlDesign, load_rtl

__all__ = ["CONTRACT_PORTS", "CoreContract", "LoadPort", "load_contract"]

#: name -> (direction, width or None when the manifest decides)
CONTRACT_PORTS: dict[str, tuple[Dir, int | None]] = {
    "clk": (Dir.IN, 1),
    "rst": (Dir.IN, 1),
    "in_valid": (Dir.IN, 1),
    "in_ready": (Dir.OUT, 1),
    "in_data": (Dir.IN, None),   # 8·C bits: C samples per step (8 for one sample or a token id)
    "out_valid": (Dir.OUT, 1),
    "out_ready": (Dir.IN, 1),
    "out_class": (Dir.OUT, None),
    "dbg_valid": (Dir.OUT, 1),
    "dbg_data": (Dir.OUT, None),
    "logit_valid": (Dir.OUT, 1),
    "logit_data": (Dir.OUT, None),
}


@dataclasses.dataclass(frozen=True)
class LoadPort:
    """The load port of a LOAD-storage core and its image (manifest field ``load``).

    Attributes
    ----------
    valid, ready, data : str
        Port names (``valid``, ``data`` inputs; ``ready`` output); a word transfers on a
        rising edge with valid and ready high; ready is low in reset and after the last word.
    width : int
        Bits of ``data`` (16: one SPRAM word).
    words : int
        Words of the image, streamed in address order after every reset, before any pixel.
    image : Path
        The image file (``params.hex``: one ``width``-bit hex word a line), its SHA-256 checked.
    """

    valid: str
    ready: str
    data: str
    width: int
    words: int
    image: Path


def _load_port(rtl: RtlDesign, ports: dict, where: Path) -> LoadPort | None:
    """The checked :class:`LoadPort` of ``rtl`` (None without a manifest ``load`` field)."""
    ld = rtl.manifest.get("load")
    if ld is None:
        return None
    names = ld.get("ports") if isinstance(ld, dict) else None
    if not isinstance(names, dict) or not all(isinstance(names.get(k), str) for k in ("valid", "ready", "data")):
        raise HwssmError(f"{where}: manifest field 'load' must name the load port (load.ports.valid/ready/data)")
    for key, dir_ in (("valid", Dir.IN), ("ready", Dir.OUT), ("data", Dir.IN)):
        p = ports.get(names[key])
        if p is None or p.dir is not dir_ or (key != "data" and p.width != 1):
            raise HwssmError(f"{where}: the load port's {key} signal {names[key]!r} must be a "
                             f"{'' if key == 'data' else '1-bit '}{dir_.value}put of the core")
    width = ports[names["data"]].width
    words = _int_field(ld, "words", where, True)
    image = confined(rtl.path, ld.get("image"), f"{where}: load image")
    try:
        text = image.read_text().split()
        vals = [int(w, 16) for w in text]
    except OSError:
        raise HwssmError(f"{where}: the load image {image.name} is missing") from None
    except ValueError:
        raise HwssmError(f"{image}: not one hex word a line") from None
    if len(vals) != words:
        raise HwssmError(f"{image}: {len(vals)} words, the manifest says {words}")
    if width != 16 or any(v >> 16 for v in vals):
        raise HwssmError(f"{image}: load words must be 16 bits wide (port {names['data']!r}: {width} bits)")
    # the manifest's digest: SHA-256 of the words as little-endian 16-bit integers (hwssm.hw.emit)
    digest = hashlib.sha256(b"".join(v.to_bytes(2, "little") for v in vals)).hexdigest()
    if ld.get("sha256") is not None and digest != ld["sha256"]:
        raise HwssmError(f"{image}: the load image does not match the manifest's sha256 (edited or truncated)")
    return LoadPort(names["valid"], names["ready"], names["data"], width, words, image.resolve())


@dataclasses.dataclass(frozen=True)
class CoreContract:
    """A checked RTL directory and the numbers the simulation needs from its manifest.

    Attributes
    ----------
    rtl : RtlDesign
        The directory (sources, ports, raw manifest).
    act_width, logit_width, class_width : int
        Widths of ``dbg_data``, ``logit_data`` and ``out_class`` in bits.
    seq_len : int
        T, the pixels per digit the core was generated for.
    lanes : int or None
        P, when the manifest states it.
    cycles_per_step, cycles_per_digit : int or None
        The generator's cycle model, when the manifest states it.
    model_digest : str or None
        SHA-256 digest of the QModel the core was generated from.
    extra_inputs : tuple[tuple[str, int], ...]
        Input ports outside the contract (name, width); the wrapper ties them to 0.
    dbg_per_step : int or None
        L·H, the dbg values of one step, when the manifest's ``shape`` gives L and H.
    in_width : int
        Bits of ``in_data``: 8·C (sample c in bits [8c, 8c+8)).
    load : LoadPort or None
        The load port and image of a LOAD-storage core (None with ROM storage).
    """

    rtl: RtlDesign
    act_width: int
    logit_width: int
    class_width: int
    seq_len: int
    lanes: int | None
    cycles_per_step: int | None
    cycles_per_digit: int | None
    model_digest: str | None
    extra_inputs: tuple[tuple[str, int], ...]
    dbg_per_step: int | None = None
    in_width: int = 8
    load: LoadPort | None = None

    @property
    def C(self) -> int:
        """Samples per step of the input stream."""
        return self.in_width // 8

    @property
    def top(self) -> str:
        return self.rtl.top

    @property
    def sources(self) -> tuple[Path, ...]:
        return self.rtl.sources

    @property
    def manifest(self) -> dict:
        return self.rtl.manifest


def _int_field(manifest: dict, key: str, where: Path, required: bool) -> int | None:
    v = manifest.get(key)
    if v is None and not required:
        return None
    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
        raise HwssmError(f"{where}: manifest field {key!r} must be a positive integer, not {v!r}")
    return v


def load_contract(path: str | Path) -> CoreContract:
    """Read ``path/manifest.json`` and check the ports against the contract; HwssmError on any problem."""
    rtl = load_rtl(path)
    where = rtl.path / "manifest.json"
    ports = {p.name: p for p in rtl.ports}
    for name, (dir_, width) in CONTRACT_PORTS.items():
        p = ports.get(name)
        if p is None:
            raise HwssmError(f"{where}: the core has no port {name!r} (the simulation contract needs it)")
        if p.dir is not dir_:
            raise HwssmError(f"{where}: port {name!r} must be an {dir_.value}put, not an {p.dir.value}put")
        if width is not None and p.width != width:
            raise HwssmError(f"{where}: port {name!r} must be {width} bit(s) wide, not {p.width}")
    if ports["in_data"].width % 8 or not 8 <= ports["in_data"].width <= 64:
        raise HwssmError(f"{where}: port 'in_data' must be 8 bits wide, or 8·C bits for C <= 8 samples per step, "
                           f"not {ports['in_data'].width}")
    m = rtl.manifest
    act_width = _int_field(m, "act_width", where, False) or ports["dbg_data"].width
    logit_width = _int_field(m, "logit_width", where, False) or ports["logit_data"].width
    if act_width != ports["dbg_data"].width:
        raise HwssmError(f"{where}: act_width {act_width} differs from the dbg_data port width {ports['dbg_data'].width}")
    if logit_width != ports["logit_data"].width:
        raise HwssmError(f"{where}: logit_width {logit_width} differs from the logit_data port width {ports['logit_data'].width}")
    digest = m.get("model_digest")
    if digest is not None and not isinstance(digest, str):
        raise HwssmError(f"{where}: model_digest must be a string, not {digest!r}")
    if "in_last" in ports:  # the sim_top wrapper ties extra inputs to 0: the framer would drop every pixel
        raise HwssmError(f"{where}: a core generated with --last (in_last) is not simulated by hwssm sim; "
                         "use hwssm rtl testbench")
    load = _load_port(rtl, ports, where)
    driven = set(CONTRACT_PORTS) | ({load.valid, load.data} if load is not None else set())
    extra = tuple((p.name, p.width) for p in rtl.ports if p.name not in driven and p.dir is Dir.IN)
    shape = m.get("shape")
    dbg_per_step = None
    if shape is not None:
        if not isinstance(shape, dict):
            raise HwssmError(f"{where}: manifest field 'shape' must be an object, not {shape!r}")
        dbg_per_step = _int_field(shape, "L", where, True) * _int_field(shape, "H", where, True)
    return CoreContract(
        rtl=rtl,
        act_width=act_width,
        logit_width=logit_width,
        class_width=ports["out_class"].width,
        seq_len=_int_field(m, "seq_len", where, True),
        lanes=_int_field(m, "lanes", where, False),
        cycles_per_step=_int_field(m, "cycles_per_step", where, False),
        cycles_per_digit=_int_field(m, "cycles_per_digit", where, False),
        model_digest=digest,
        extra_inputs=extra,
        dbg_per_step=dbg_per_step,
        in_width=ports["in_data"].width,
        load=load,
    )
