"""The waveform options of ``hwssm sim``: ``--waves``, ``--waves-steps A:B``, ``--waves-limit``, ``--waves-force``.

The limits themselves are :class:`hwssm.verify.waves.WaveLimits`; this module only parses them.
"""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["add_wave_arguments", "wave_limits_from_args", "wave_files"]


def add_wave_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--waves", action="store_true",
                        help="write waveforms (FST, or VCD without liblz4-dev) per run; implies --keep")
    parser.add_argument("--waves-steps", metavar="A:B",
                        help="dump only steps A..B-1 of each simulation run (implies --waves)")
    parser.add_argument("--waves-limit-mb", type=int, default=1000, metavar="MB",
                        help="refuse waveforms estimated above MB megabytes (default 1000)")
    parser.add_argument("--waves-force", action="store_true", help="write the waveforms even above the limit")


def wave_limits_from_args(args):
    """(waves, WaveLimits) from the parsed arguments; HwssmError (one line) for a bad window or limit."""
    from ..errors import HwssmError
    from ..verify.waves import StepWindow, WaveLimits

    window = StepWindow.parse(args.waves_steps) if args.waves_steps is not None else None
    if args.waves_limit_mb < 1:
        raise HwssmError(f"--waves-limit-mb must be >= 1, not {args.waves_limit_mb}")
    waves = args.waves or window is not None
    return waves, WaveLimits(window, args.waves_limit_mb * 1_000_000, args.waves_force)


def wave_files(run_dir) -> list[Path]:
    """The waveform files under a run directory (one per simulation run)."""
    if not run_dir:
        return []
    return sorted(p for pat in ("*/waves.vcd", "*/waves.fst") for p in Path(run_dir).glob(pat))
