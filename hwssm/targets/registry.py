"""Every device hwssm knows, by name (the family modules list theirs in ``DEVICES``)."""

from __future__ import annotations

from ..errors import HwssmError
from . import ecp5, ice40
from .device import Device, Family

__all__ = ["DEVICES", "FAMILIES", "device", "devices", "family", "names"]

#: The families, in the order help texts list them.
FAMILIES: tuple[Family, ...] = (ice40.ICE40, ecp5.ECP5)

#: name -> Device, in the order help texts list them.
DEVICES: dict[str, Device] = {d.name: d for d in (*ice40.DEVICES, *ecp5.DEVICES)}


def names() -> tuple[str, ...]:
    """The device names, in registry order (``("up5k", "hx8k", "ecp5-25k", ...)``)."""
    return tuple(DEVICES)


def devices() -> tuple[Device, ...]:
    """Every registered device, in registry order."""
    return tuple(DEVICES.values())


def device(name: str | Device) -> Device:
    """The device called ``name`` (a Device is returned as it is); HwssmError listing the known names."""
    if isinstance(name, Device):
        return name
    try:
        return DEVICES[name]
    except (KeyError, TypeError):
        raise HwssmError(f"unknown device {name!r}; expected one of: {', '.join(DEVICES)}") from None


def family(name: str | Family) -> Family:
    """The family called ``name`` (``"ice40"``; a Family is returned as it is); HwssmError otherwise."""
    if isinstance(name, Family):
        return name
    for f in FAMILIES:
        if f.name == name:
            return f
    raise HwssmError(f"unknown FPGA family {name!r}; expected one of: {', '.join(f.name for f in FAMILIES)}")
