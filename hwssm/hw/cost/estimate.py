"""The public estimate: the core's blocks for a QModel and a design point, priced on a device.

:func:`inventory` lists the blocks unit by unit (one section per RTL unit: :mod:`.lanes`,
:mod:`.datapath`, :mod:`.glu`, :mod:`.encoder_decoder`, :mod:`.sequencer`, :mod:`.loader`)
from the generator's own derived description (:func:`hwssm.hw.derive.derive`);
:func:`estimate` prices them with :func:`.price.cost` and the device family's coefficients
(:mod:`hwssm.targets`) and adds the fixed control logic.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable

from ...errors import HwssmError
from ...quant.qmodel import QModel
from ...targets import Coefficients, Device
from ..options import DesignPoint, ParamStorage
from .blocks import COMPONENTS, Block, Resources
from .datapath import datapath_blocks
from .encoder_decoder import encoder_decoder_blocks
from .glu import glu_blocks
from .layernorm import layernorm_blocks
from .lanes import lanes_blocks
from .loader import loader_blocks
from .price import cost
from .s5 import s5_blocks
from .sequencer import sequencer_blocks

__all__ = ["ESTIMATOR_VERSION", "Estimate", "estimate", "inventory", "lut_error", "memory_breakdown"]

#: Bump when the model or its coefficients change (results record it beside the estimate).
ESTIMATOR_VERSION = 3


def memory_breakdown(qm: QModel) -> dict[str, int]:
    """Stored bits per component: Ā, B̄, C̄ (both parts), D, weights, biases (encoder, mixing,
    decoder, with zero points) and the state x of one sequence. Sums to ``qm.footprint_bits``.
    The GELU/sigmoid tables are ``qm.lut_bits`` (not part of the footprint)."""
    out = {"A": 0, "x": qm.state_bits, "B": 0, "C": 0, "D": 0, "weight": 0, "bias": 0}
    for name, p in qm.params():
        leaf = name.rsplit(".", 1)[-1]
        key = {"A_re": "A", "A_im": "A", "B_re": "B", "B_im": "B", "C_re": "C", "C_im": "C", "D": "D",
               "W": "weight", "enc_W": "weight", "dec_W": "weight", "b": "bias", "enc_b": "bias", "dec_b": "bias",
               "beta_re": "bias", "beta_im": "bias", "delta": "bias"}[leaf]   # (the last three: S5)
        out[key] += p.n_bits
    return out


def inventory(qm: QModel, design: DesignPoint) -> list[Block]:
    """The core's blocks for ``qm`` at ``design``, unit by unit as :mod:`hwssm.hw.core` builds
    them (from :func:`hwssm.hw.derive.derive`, the generator's own description)."""
    from ..derive import derive

    d = design
    c = derive(qm, d)
    B = lanes_blocks(c) + datapath_blocks(c) + glu_blocks(c) + encoder_decoder_blocks(c) + sequencer_blocks(c)
    if c.storage is ParamStorage.LOAD:
        B += loader_blocks(c)
    if c.s5 is not None:
        B += s5_blocks(c)
    if c.norm is not None:
        B += layernorm_blocks(c)
    return B


@dataclasses.dataclass(frozen=True)
class Estimate:
    """An estimate for one (QModel, design point, device, synthesis switches).

    Attributes
    ----------
    device : Device
    design : DesignPoint
        The core priced (lanes P, sequence length, pipeline, storage, soft multipliers).
    dsp_enabled : bool
        Multipliers priced on hard DSPs (off when asked or when the device has none).
    spram : bool
        LOAD memories priced in SPRAM (as ``hwssm synth --spram`` forces them).
    total : Resources
        Sum over the blocks plus the fixed control logic.
    by_component : dict[str, Resources]
        The same, split over :data:`COMPONENTS`.
    blocks : tuple[tuple[Block, Resources], ...]
    """

    device: Device
    design: DesignPoint
    dsp_enabled: bool
    spram: bool
    total: Resources
    by_component: dict
    blocks: tuple

    @property
    def lanes(self) -> int:
        """P, the design point's lane count."""
        return self.design.lanes

    def summary(self) -> dict:
        """Flat JSON record: totals (rounded), per-component LUTs, options, estimator version."""
        t = self.total.rounded()
        d = self.design
        options = {"pipeline": dataclasses.asdict(d.pipeline), "storage": d.storage.value,
                   "soft_mul_bits": d.soft_mul_bits, "dsp": self.dsp_enabled, "spram": self.spram}
        return {"lut": t["lut"], "ff": t["ff"], "dsp": t["dsp"], "bram": t["bram"], "spram": t["spram"],
                "lutram": t["lutram"], "ram_bits": t["ram_bits"],
                "lut_by_component": {k: int(round(v.lut)) for k, v in self.by_component.items()},
                "ff_by_component": {k: int(round(v.ff)) for k, v in self.by_component.items()},
                "options": options,
                "version": ESTIMATOR_VERSION}


def estimate(qm: QModel, design: DesignPoint, device: Device, *, dsp: bool = True, spram: bool = True,
             coefficients: Coefficients | None = None, blocks: Iterable[Block] | None = None) -> Estimate:
    """Estimate the resources (LUT4, FF, DSP, block RAM, SPRAM) of the core for ``qm`` built at
    ``design`` on ``device``.

    The core is priced as the generator builds it at ``design`` and as Yosys maps it with
    ``dsp`` (hard multipliers; always off on a device without them) and ``spram`` (LOAD
    memories forced into iCE40 SPRAM, as ``hwssm synth --spram``; only on a device with
    SPRAM coefficients). A device's build profile gives all three::

        p = device.profile
        estimate(qm, p.design(lanes), device, dsp=p.dsp, spram=p.spram)

    ``coefficients`` replaces the family's; ``blocks`` the inventory (for tests and fits).
    Raises HwssmError (from :func:`hwssm.hw.derive.derive`) for a model or P the RTL cannot build,
    and for a device whose family has no price model (``Family.coefficients`` None: Gowin).
    """
    k = coefficients or device.family.coefficients
    if k is None or (coefficients is None and device.family.error_band is None):
        raise HwssmError(f"no estimate for {device.name} ({device.part}): the estimator has no price model of the "
                         f"{device.family.name} family yet (no measured designs); synthesize it instead "
                         f"(hwssm synth --device {device.name})")
    use_dsp = bool(dsp) and device.dsp > 0
    if blocks is None:
        blocks = inventory(qm, design)
    priced = tuple((b, cost(b, device.family, use_dsp, k, spram)) for b in blocks)
    control = Resources(lut=k.control_fixed + k.control * design.lanes, ff=k.ff_fixed)
    by_comp = {c: Resources() for c in COMPONENTS}
    by_comp["control"] = control
    total = control
    for b, r in priced:
        by_comp[b.component] = by_comp[b.component] + r
        total = total + r
    return Estimate(device, design, use_dsp, bool(spram), total, by_comp, priced)


def lut_error(estimated: float, measured: float) -> float:
    """Relative error of an estimate: (estimated - measured) / measured (0.1 = 10 % high)."""
    if measured <= 0:
        return math.inf if estimated > 0 else 0.0
    return (estimated - measured) / measured
