"""``--indices I,J,...``: the parser of a list of MNIST test indices (an argparse ``type``).

Every entry must be a decimal integer in [0, :data:`MAX_INDEX`); an absurd number such as
``2^70`` or ``1180591620717411303424`` is refused here, as a one-line argparse error (exit 2),
instead of overflowing an int64 array later. The command checks the range against the data
it loads (10,000 test digits).
"""

from __future__ import annotations

import argparse
import re

__all__ = ["parse_indices", "MAX_INDEX", "MAX_COUNT"]

#: Exclusive bound on an index (the MNIST test split has 10,000 digits).
MAX_INDEX = 1 << 31
#: Most indices one list may hold.
MAX_COUNT = 100_000
_INT = re.compile(r"^[0-9]{1,12}$", re.ASCII)


def parse_indices(text: str) -> list[int]:
    """``"3,17,42"`` -> ``[3, 17, 42]``; ``argparse.ArgumentTypeError`` (one line) on anything else."""
    parts = [t.strip() for t in str(text).split(",") if t.strip()]
    if not parts:
        raise argparse.ArgumentTypeError("--indices needs at least one index")
    if len(parts) > MAX_COUNT:
        raise argparse.ArgumentTypeError(f"--indices lists {len(parts)} indices; at most {MAX_COUNT}")
    out = []
    for t in parts:
        if not _INT.match(t) or int(t) >= MAX_INDEX:
            raise argparse.ArgumentTypeError(
                f"--indices entry {t[:40]!r} is not a test index: out of range or not a number "
                "(comma-separated integers in [0, 10000))")
        out.append(int(t))
    return out
