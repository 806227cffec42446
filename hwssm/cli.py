"""The ``hwssm`` command: one subcommand per module in :mod:`hwssm.commands`.

Each command module defines ``HELP`` (one line for ``hwssm --help``) and
``register(parser)``, which adds its arguments and sets ``func(args) -> int``.
Command modules import heavy dependencies (numba, amaranth, torch) inside their
handlers, so that ``hwssm --help`` stays fast.

Errors of type :class:`hwssm.errors.HwssmError` print ``hwssm: error: ...`` on
one line and exit with status 2; nothing is written in that case.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from .errors import HwssmError

#: Subcommands in the order ``hwssm --help`` lists them (modules under hwssm.commands).
COMMANDS = (
    "flow",
    "data",
    "ptq",
    "golden",
    "bench",
    "train",
    "qat",
    "rtl",
    "sim",
    "synth",
    "sweep",
    "estimate",
    "report",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hwssm",
        description="Quantize S4D models, prove the integer network bit-exact in RTL, and measure its hardware cost.",
    )
    from . import __version__

    parser.add_argument("--version", action="version", version=f"hwssm {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f"hwssm.commands.{name}")
        cmd = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.register(cmd)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0 if args.command is None else 2
    try:
        return int(args.func(args) or 0)
    except HwssmError as exc:
        print(f"hwssm: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("hwssm: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
