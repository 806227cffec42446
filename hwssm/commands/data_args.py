"""``--data NAME|PATH``: the dataset option shared by every command that reads data.

NAME is a built-in (``smnist``, the default; ``psmnist[:SEED]``; ``listops[:SEED]``), PATH an NPZ
file in the format of :mod:`hwssm.data.npz_format` (README, "Data"). The text is parsed once
here into a :class:`~hwssm.data.DataSpec` (an argparse ``type``: a bad name is a one-line usage
error, exit 2).
"""

from __future__ import annotations

import argparse

__all__ = ["add_data_argument", "data_spec"]

HELP = ("dataset: smnist (default), psmnist[:SEED], listops[:SEED], or an NPZ file of sequences "
        "(format: hwssm/data/npz_format.py)")


def data_spec(text: str):
    """argparse ``type``: ``--data`` text -> DataSpec."""
    from ..data import parse_data
    from ..errors import HwssmError

    try:
        return parse_data(text)
    except HwssmError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_data_argument(parser: argparse.ArgumentParser) -> None:
    """Add ``--data NAME|PATH`` (default smnist) to ``parser``."""
    from ..data import DEFAULT_DATA

    parser.add_argument("--data", type=data_spec, default=DEFAULT_DATA, metavar="NAME|PATH", help=HELP)
