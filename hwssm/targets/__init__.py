"""FPGA targets as data: one module per family, a neutral core of records, a registry.

- :mod:`.device`: the records (:class:`Family`, :class:`Device`, :class:`Profile`,
  :class:`Coefficients`, :class:`CellTypes`);
- :mod:`.ice40`, :mod:`.ecp5`, :mod:`.gowin`: each family's tool arguments, cell and bel names, cost
  coefficients, and its devices with their facts and build profiles;
- :mod:`.registry`: the devices by name (:func:`device`, :func:`devices`, :func:`names`).

Adding a device of a known family is one :class:`Device` in its family module (and the
family's ``DEVICES`` tuple). Pure Python: no tools, no Amaranth.
"""

from .device import Bitstream, CellTypes, Coefficients, ConstraintFormat, Device, ErrorBand, Family, Profile
from .ecp5 import ECP5, ECP5_25K, ECP5_45K, ECP5_85K
from .gowin import GOWIN, GW1NR_9
from .ice40 import HX8K, ICE40, UP5K
from .registry import DEVICES, FAMILIES, UNPRICED, UNPRICED_FAMILIES, all_names, device, devices, family, names

__all__ = [
    "Bitstream",
    "ConstraintFormat",
    "CellTypes", "Coefficients", "Device", "ErrorBand", "Family", "Profile",
    "DEVICES", "FAMILIES", "UNPRICED", "UNPRICED_FAMILIES", "all_names", "device", "devices", "family", "names",
    "ICE40", "ECP5", "GOWIN", "UP5K", "HX8K", "ECP5_25K", "ECP5_45K", "ECP5_85K", "GW1NR_9",
]
