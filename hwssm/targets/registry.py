"""Every device hwssm knows, by name (the family modules list theirs in ``DEVICES``).

Two lists: the devices the estimator prices (:data:`DEVICES`, :func:`devices`, :func:`names`:
every family with coefficients and a measured error band; sweeps, ``--device all`` and the
profiles iterate them) and the devices known without a price model (:data:`UNPRICED`: Gowin,
synthesized and built for boards but not estimated). :func:`device` and :func:`family` find both.
"""

from __future__ import annotations

from ..errors import HwssmError
from . import ecp5, gowin, ice40
from .device import Device, Family

__all__ = ["DEVICES", "FAMILIES", "UNPRICED", "UNPRICED_FAMILIES", "all_names", "device", "devices", "family", "names"]

#: The families the estimator prices, in the order help texts list them.
FAMILIES: tuple[Family, ...] = (ice40.ICE40, ecp5.ECP5)
#: Families without a price model (synthesis and board builds only).
UNPRICED_FAMILIES: tuple[Family, ...] = (gowin.GOWIN,)

#: name -> Device the estimator prices, in the order help texts list them.
DEVICES: dict[str, Device] = {d.name: d for d in (*ice40.DEVICES, *ecp5.DEVICES)}
#: name -> Device of a family without a price model.
UNPRICED: dict[str, Device] = {d.name: d for d in gowin.DEVICES}


def names() -> tuple[str, ...]:
    """The names of the priced devices, in registry order (``("up5k", "hx8k", "ecp5-25k", ...)``)."""
    return tuple(DEVICES)


def all_names() -> tuple[str, ...]:
    """Every device name: the priced ones, then those without a price model (``"gw1nr-9"``)."""
    return (*DEVICES, *UNPRICED)


def devices() -> tuple[Device, ...]:
    """Every device the estimator prices, in registry order."""
    return tuple(DEVICES.values())


def device(name: str | Device) -> Device:
    """The device called ``name`` (a Device is returned as it is); HwssmError listing the known names."""
    if isinstance(name, Device):
        return name
    try:
        return DEVICES.get(name) or UNPRICED[name]
    except (KeyError, TypeError):
        raise HwssmError(f"unknown device {name!r}; expected one of: {', '.join(all_names())}") from None


def family(name: str | Family) -> Family:
    """The family called ``name`` (``"ice40"``; a Family is returned as it is); HwssmError otherwise."""
    if isinstance(name, Family):
        return name
    for f in (*FAMILIES, *UNPRICED_FAMILIES):
        if f.name == name:
            return f
    known = ", ".join(f.name for f in (*FAMILIES, *UNPRICED_FAMILIES))
    raise HwssmError(f"unknown FPGA family {name!r}; expected one of: {known}")
