"""The design-point options shared by ``hwssm rtl generate`` and ``hwssm sim``.

:func:`add_design_arguments` adds ``--mul-stages``, ``--mem-stages``, ``--requant-stages``,
``--acc-stages``, ``--mix-cols``, ``--storage``, ``--soft-mul-bits`` and ``--profile DEVICE``
(the build profile of a device, :attr:`hwssm.targets.Device.profile`); every option
defaults to None, so that :func:`design_from_args` can tell which were given. An option given
explicitly overrides the profile's value; without a profile the defaults are those of
:class:`~hwssm.hw.options.DesignPoint` (ROM storage, no soft multipliers, ``Pipeline()``).
"""

from __future__ import annotations

import argparse
import dataclasses

from ..targets import all_names, device

#: The command-line options of the group (argparse destinations) that shape a design.
DESIGN_OPTIONS = ("mul_stages", "mem_stages", "requant_stages", "acc_stages", "mix_cols", "storage",
                  "soft_mul_bits", "profile")
#: Device names of ``--profile``: every registered device (:mod:`hwssm.targets`), priced or not.
PROFILES = all_names()


def add_design_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the design-point options (see the module docstring) to ``parser``."""
    g = parser.add_argument_group("design point (default: ROM storage, Pipeline() defaults, or the --profile's)")
    g.add_argument("--profile", choices=PROFILES, metavar="DEVICE",
                   help=f"start from the build profile of a device ({', '.join(PROFILES)}); "
                        "the options below override it")
    g.add_argument("--mul-stages", type=int, metavar="N", help="registers after each multiplier (default: 1)")
    g.add_argument("--mem-stages", type=int, choices=(0, 1, 2),
                   help="registers after every memory read (for block RAM without output registers, e.g. ECP5; default: 0)")
    g.add_argument("--requant-stages", type=int, choices=(0, 1),
                   help="registers inside every requantization, between shift and rounding (default: 0)")
    g.add_argument("--acc-stages", type=int, choices=(0, 1),
                   help="registers between the lanes' mixing accumulator and the row finish (default: 0)")
    g.add_argument("--mix-cols", type=int, choices=(4, 6, 8),
                   help="g columns a lane multiplies per mixing cycle: 4, 6 (also the B̄·u multipliers) or 8 "
                        "(also the readout multipliers); more is faster for a few multiplexers (default: 4)")
    g.add_argument("--storage", choices=("rom", "load"),
                   help="coefficients in ROMs (default) or in RAMs filled through a load port (iCE40 SPRAM)")
    g.add_argument("--soft-mul-bits", type=int, metavar="N",
                   help="build multiplies with an operand of at most N bits from LUTs, not DSPs (default: 0)")


def given_design_options(args) -> list[str]:
    """The design options given on the command line, as ``--option`` names."""
    return [f"--{name.replace('_', '-')}" for name in DESIGN_OPTIONS if getattr(args, name, None) is not None]


def design_from_args(args, lanes: int, seq_len: int):
    """The :class:`~hwssm.hw.options.DesignPoint` of ``lanes`` P and ``seq_len`` T that the
    options in ``args`` describe; HwssmError (one line) for an invalid combination."""
    from ..hw.options import DesignPoint, ParamStorage, Pipeline

    pipeline, storage, soft = Pipeline(), ParamStorage.ROM, 0
    if args.profile is not None:
        prof = device(args.profile).profile
        pipeline, storage, soft = prof.pipeline, prof.storage, prof.soft_mul_bits
    stages = {name: getattr(args, name) for name in ("mul_stages", "mem_stages", "requant_stages", "acc_stages",
                                                     "mix_cols") if getattr(args, name) is not None}
    pipeline = dataclasses.replace(pipeline, **stages)
    if args.storage is not None:
        storage = ParamStorage(args.storage)
    if args.soft_mul_bits is not None:
        soft = args.soft_mul_bits
    return DesignPoint(lanes, seq_len, pipeline, storage, soft)
