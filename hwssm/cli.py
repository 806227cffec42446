"""The ``hwssm`` command: one subcommand per module in :mod:`hwssm.commands`.

Each command module defines ``HELP`` (one line for ``hwssm --help``) and
``register(parser)``, which adds its arguments and sets ``func(args) -> int``.
Command modules import heavy dependencies (numba, amaranth, torch) inside their
handlers, so that ``hwssm --help`` stays fast.

The error boundary (:func:`main`)
---------------------------------
* :class:`hwssm.errors.HwssmError`, and the expected failures of bad input or a bad
  environment (:data:`EXPECTED`: ``OSError`` such as a read-only or missing directory,
  ``ValueError`` including JSON and UTF-8 decoding errors, ``OverflowError`` from an absurd
  number, a corrupt zip/NPZ, a truncated file, ``MemoryError``) print ``hwssm: error: ...``
  on one line naming the path or value and what to do, and exit with status 2.
* Any other exception is a bug: its traceback is printed, then one line saying so; exit 1.
* ``HWSSM_DEBUG=1`` (:func:`hwssm.config.debug`) prints the traceback of every error.
* SIGINT and SIGTERM unwind the command (``finally`` blocks shut pools and tool
  subprocesses down; completed work is kept) and exit with 130 / 143.
* A reader that closes standard output early (``hwssm ... | head``) ends the command quietly with
  status 141 (128 + SIGPIPE, as a shell tool killed by SIGPIPE): no message, nothing half-written.
"""

from __future__ import annotations

import argparse
import errno
import importlib
import signal
import sys
import traceback
import zipfile

from .errors import HwssmError

#: Exception types that mean bad input or a bad environment, never a bug in hwssm.
EXPECTED = (HwssmError, OSError, ValueError, OverflowError, zipfile.BadZipFile, EOFError, MemoryError)
#: Exit status of bad input (as argparse uses), of a bug, of SIGINT and of SIGTERM.
EXIT_BAD_INPUT, EXIT_BUG, EXIT_SIGINT, EXIT_SIGTERM = 2, 1, 130, 143
#: Exit status when the reader of standard output went away (128 + SIGPIPE).
EXIT_PIPE = 141


class Terminated(BaseException):
    """Raised in the main thread by SIGTERM, so that ``finally`` blocks run (like KeyboardInterrupt)."""


def _on_sigterm(signum, frame):  # noqa: ARG001 - signal handler signature
    raise Terminated()


#: What to do about an OSError, by errno.
_OS_HINTS = {
    errno.EACCES: "check its permissions, or choose another path (--out, --root, HWSSM_CACHE)",
    errno.EPERM: "check its permissions, or choose another path (--out, --root, HWSSM_CACHE)",
    errno.EROFS: "the file system is read-only: choose another path (--out, --root, HWSSM_CACHE)",
    errno.ENOENT: "check the path",
    errno.EEXIST: "a file stands where a directory is needed: move it or choose another path",
    errno.ENOTDIR: "a part of the path is a file, not a directory: choose another path",
    errno.EISDIR: "it is a directory: give a file",
    errno.ENOSPC: "the disk is full: free space or choose another path",
    errno.EDQUOT: "the disk quota is exhausted: free space or choose another path",
    errno.ENAMETOOLONG: "shorten the path",
}


def _first_line(text: str) -> str:
    lines = [ln.strip() for ln in str(text).splitlines() if ln.strip()]
    return lines[0] if lines else ""


def describe(exc: BaseException) -> str:
    """One line for an :data:`EXPECTED` exception: what went wrong, on which path or value, what to do."""
    if isinstance(exc, HwssmError):
        return _first_line(str(exc)) or type(exc).__name__
    if isinstance(exc, OSError):
        what = exc.strerror or _first_line(str(exc)) or type(exc).__name__
        # a rename names (temporary file, target): the target is the path the user gave
        target = exc.filename2 if exc.filename2 is not None else exc.filename
        where = "" if target is None else str(target)
        hint = _OS_HINTS.get(exc.errno, "check the path and its permissions")
        return f"{where + ': ' if where else ''}{what}; {hint}"
    if isinstance(exc, UnicodeDecodeError):
        return f"a file is not UTF-8 text ({_first_line(str(exc))}); check that the path names the right file"
    if isinstance(exc, OverflowError):
        return f"a number is out of range ({_first_line(str(exc))}); check the numbers given"
    if isinstance(exc, MemoryError):
        return "out of memory; check sizes and counts given (--limit, --digits, lanes)"
    if isinstance(exc, zipfile.BadZipFile):
        return f"a file is not a valid zip/NPZ archive ({_first_line(str(exc))}); regenerate it"
    if isinstance(exc, EOFError):
        return f"a file ended early ({_first_line(str(exc)) or 'truncated'}); regenerate it"
    return f"invalid value: {_first_line(str(exc)) or type(exc).__name__}; check the input"

#: Subcommands in the order ``hwssm --help`` lists them (modules under hwssm.commands).
COMMANDS = (
    "flow",
    "data",
    "ptq",
    "plan",
    "golden",
    "bench",
    "train",
    "qat",
    "rtl",
    "sim",
    "synth",
    "sweep",
    "estimate",
    "search",
    "report",
    "import",
    "board",
)

#: Subcommands whose module is not named as the command (``import`` is a Python keyword).
MODULES = {"import": "import_model"}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hwssm",
        description="Quantize S4D and S5 models, prove the integer network bit-exact in RTL, and measure its hardware cost.",
    )
    from . import __version__

    parser.add_argument("--version", action="version", version=f"hwssm {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f"hwssm.commands.{MODULES.get(name, name)}")
        cmd = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.register(cmd)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0 if args.command is None else 2
    return run(args.func, args)


def _silence_stdout() -> None:
    """Point standard output at /dev/null, so that the interpreter's final flush of a closed pipe is silent."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # stdout replaced by a non-file object (tests): nothing to silence
        pass


def run(func, args) -> int:
    """Run a command handler behind the error boundary (module docstring); returns the exit status."""
    from .config import debug

    import threading

    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _on_sigterm) if main_thread else None
    try:
        return int(func(args) or 0)
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_PIPE
    except EXPECTED as exc:
        if debug():
            traceback.print_exc()
        print(f"hwssm: error: {describe(exc)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("hwssm: interrupted (completed work is kept; rerun to resume)", file=sys.stderr)
        return EXIT_SIGINT
    except Terminated:
        print("hwssm: terminated (completed work is kept; rerun to resume)", file=sys.stderr)
        return EXIT_SIGTERM
    except Exception as exc:  # noqa: BLE001 - the boundary: a bug shows its traceback
        traceback.print_exc()
        print(f"hwssm: internal error: {type(exc).__name__}: {_first_line(str(exc))} -- this is a bug in hwssm, "
              "not bad input; please report it with the traceback above", file=sys.stderr)
        return EXIT_BUG
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
