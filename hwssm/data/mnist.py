"""MNIST: finding, verifying and loading the four IDX files; sMNIST/psMNIST sequences.

Where the files are looked for
------------------------------
The directories of :func:`hwssm.config.data_dirs` in order ($HWSSM_DATA,
./data/mnist, ../shared/data/mnist, then the same two relative to the
repository), then the cache ``hwssm.config.cache_dir()/mnist``; if the cache
lacks files they are downloaded there from :data:`MIRROR`.

Each of the four files may be gzip-compressed (``<name>.gz``, preferred) or
raw (``<name>``). A ``.gz`` file must match its known SHA-256 sum; a raw file
cannot be checked against those sums, so it is accepted after the IDX checks
and reported as not verified.

The first directory of the search order that holds *any* of the four files
is the one used. If it lacks some of them, or one of them is corrupt,
truncated or wrong, that is an error (:class:`hwssm.errors.HwssmError`, one
line naming the file and the problem), never a silent fall back to a later
directory: a bad copy that someone pointed us at should be fixed, not
shadowed. Only the cache may be incomplete: its missing files are downloaded.

Loaded arrays are cached in-process (keyed by file path, size and mtime) and
are read-only; copy them before modifying.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import hashlib
import operator
import urllib.request
from pathlib import Path

import numpy as np

from .. import config
from ..errors import HwssmError
from ..io import atomic_path
from .idx import IMAGES_MAGIC, LABELS_MAGIC, gunzip, parse_idx, read_bytes

#: Image side in pixels.
ROWS = COLS = 28
#: sMNIST sequence length: one pixel per time step.
T = ROWS * COLS
#: Number of classes.
CLASSES = 10
#: Size of the validation split carved out of the 60,000 training images.
VAL_SIZE = 5000
#: Seed of the permutation that picks the validation split (fixed forever).
SPLIT_SEED = 0x5EED
#: Canonical mirror of the original distribution files.
MIRROR = "https://storage.googleapis.com/cvdf-datasets/mnist/"
#: Seconds before a download attempt gives up.
DOWNLOAD_TIMEOUT_S = 10.0

# The URL opener; tests replace it so that they never touch the network.
_urlopen = urllib.request.urlopen


@dataclasses.dataclass(frozen=True)
class _Part:
    stem: str  # file name without .gz
    magic: int
    shape: tuple[int, ...]
    sha256: str  # of the .gz file

    @property
    def gz(self) -> str:
        return self.stem + ".gz"


_TRAIN_IMAGES = _Part(
    "train-images-idx3-ubyte", IMAGES_MAGIC, (60000, ROWS, COLS),
    "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
)
_TRAIN_LABELS = _Part(
    "train-labels-idx1-ubyte", LABELS_MAGIC, (60000,),
    "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
)
_TEST_IMAGES = _Part(
    "t10k-images-idx3-ubyte", IMAGES_MAGIC, (10000, ROWS, COLS),
    "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
)
_TEST_LABELS = _Part(
    "t10k-labels-idx1-ubyte", LABELS_MAGIC, (10000,),
    "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
)
_PARTS = (_TRAIN_IMAGES, _TRAIN_LABELS, _TEST_IMAGES, _TEST_LABELS)


class Split(enum.Enum):
    """A subset of MNIST.

    TRAIN and VAL partition the 60,000 training images (55,000 / 5,000, chosen by
    a permutation seeded with :data:`SPLIT_SEED`); TRAIN_FULL is all 60,000;
    TEST is the 10,000 t10k images.
    """

    TRAIN = "train"
    VAL = "val"
    TEST = "test"
    TRAIN_FULL = "train-full"


@dataclasses.dataclass(frozen=True)
class DataReport:
    """What :func:`check` found.

    Attributes
    ----------
    train, test
        Number of training and test images (60000 and 10000).
    verified
        True when all four files are ``.gz`` files matching the known SHA-256 sums.
    path
        The directory the files were read from.
    """

    train: int
    test: int
    verified: bool
    path: Path

    def as_dict(self) -> dict:
        """JSON-ready form: ``{"train", "test", "verified", "path"}``."""
        return {"train": self.train, "test": self.test, "verified": self.verified, "path": str(self.path)}


def load_mnist(split: Split) -> tuple[np.ndarray, np.ndarray]:
    """Images and labels of one split.

    Parameters
    ----------
    split
        Which subset (see :class:`Split`).

    Returns
    -------
    images : numpy.ndarray
        uint8, shape (n, 28, 28), pixel intensity 0 (background) to 255, read-only.
    labels : numpy.ndarray
        uint8, shape (n,), digit 0 to 9, read-only.

    Raises
    ------
    HwssmError
        The files are missing everywhere (and cannot be downloaded), or a file is
        corrupt, truncated or fails its checksum.
    """
    if not isinstance(split, Split):
        raise HwssmError(f"unknown MNIST split {split!r}; expected one of {', '.join(s.value for s in Split)}")
    files = _locate()
    key = tuple(_file_key(files[stem]) for stem in _stems(split))
    return _load_split(split, key)


def check() -> DataReport:
    """Find, decode and verify all four files.

    Returns
    -------
    DataReport
        Counts, whether every file passed its SHA-256 check, and the directory.

    Raises
    ------
    HwssmError
        As for :func:`load_mnist`.
    """
    files = _locate()
    loaded = {p.stem: _read_part(*_file_key(files[p.stem]), p.stem) for p in _PARTS}
    return DataReport(
        train=len(loaded[_TRAIN_IMAGES.stem][0]),
        test=len(loaded[_TEST_IMAGES.stem][0]),
        verified=all(verified for _, verified in loaded.values()),
        path=files[_TRAIN_IMAGES.stem].parent,
    )


def is_verified(split: Split) -> bool:
    """True when both files ``split`` is read from passed their SHA-256 check (``.gz`` files);
    False for raw files, whose contents nothing vouches for (shuffled labels would go unnoticed).

    Raises
    ------
    HwssmError
        As for :func:`load_mnist`.
    """
    if not isinstance(split, Split):
        raise HwssmError(f"unknown MNIST split {split!r}; expected one of {', '.join(s.value for s in Split)}")
    files = _locate()
    return all(_read_part(*_file_key(files[stem]), stem)[1] for stem in _stems(split))


def data_path(split: Split) -> Path:
    """The directory the files of ``split`` are read from."""
    return _locate()[_stems(split)[0]].parent


def split_indices(split: Split) -> np.ndarray:
    """Indices of ``split`` into its source file, ascending, int64.

    TRAIN and VAL index the 60,000 training images: VAL is the last
    :data:`VAL_SIZE` entries of ``default_rng(SPLIT_SEED).permutation(60000)``
    and TRAIN the rest, both sorted so that file order is kept. TRAIN_FULL and
    TEST are all of their file.
    """
    n_train = _TRAIN_IMAGES.shape[0]
    if split is Split.TEST:
        return np.arange(_TEST_IMAGES.shape[0], dtype=np.int64)
    if split is Split.TRAIN_FULL:
        return np.arange(n_train, dtype=np.int64)
    perm = np.random.default_rng(SPLIT_SEED).permutation(n_train).astype(np.int64)
    chosen = perm[n_train - VAL_SIZE :] if split is Split.VAL else perm[: n_train - VAL_SIZE]
    return np.sort(chosen)


def sequences(images: np.ndarray, permutation: np.ndarray | None = None) -> np.ndarray:
    """Flatten images into pixel sequences: sMNIST, or psMNIST with a permutation.

    Parameters
    ----------
    images
        uint8, shape (n, 28, 28).
    permutation
        None for sMNIST (row-major order: step ``t`` is pixel ``(t // 28, t % 28)``),
        or an integer permutation of ``range(784)`` for psMNIST, where step ``t``
        is row-major pixel ``permutation[t]``.

    Returns
    -------
    numpy.ndarray
        uint8, shape (n, T) with T = 784, one pixel per time step. Without a
        permutation this is a view of ``images`` when possible.
    """
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (ROWS, COLS):
        raise HwssmError(
            f"sequences() needs uint8 images of shape (n, {ROWS}, {COLS}), not {images.dtype} {images.shape}"
        )
    seq = images.reshape(images.shape[0], T)
    if permutation is None:
        return seq
    return seq[:, _check_permutation(permutation)]


def psmnist_permutation(seed: int) -> np.ndarray:
    """The psMNIST pixel permutation for ``seed``: ``default_rng(seed).permutation(784)``, int64 (784,)."""
    try:
        seed = operator.index(seed)
    except TypeError:
        raise HwssmError(f"psMNIST seed must be an integer, not {seed!r}") from None
    if seed < 0:
        raise HwssmError(f"psMNIST seed must be >= 0, not {seed}")
    return np.random.default_rng(seed).permutation(T).astype(np.int64)


# --- internals ---------------------------------------------------------------


def _check_permutation(permutation) -> np.ndarray:
    perm = np.asarray(permutation)
    if perm.shape != (T,) or perm.dtype.kind not in "iu":
        raise HwssmError(f"a psMNIST permutation must be {T} integers, not {perm.dtype} {perm.shape}")
    perm = perm.astype(np.int64)
    if not np.array_equal(np.sort(perm), np.arange(T)):
        raise HwssmError(f"the psMNIST permutation is not a permutation of 0..{T - 1}")
    return perm


def _present(directory: Path) -> dict[str, Path]:
    """The files of the four that ``directory`` holds (stem -> path; .gz preferred)."""
    found = {}
    for part in _PARTS:
        for name in (part.gz, part.stem):
            path = directory / name
            if path.is_file():
                found[part.stem] = path
                break
    return found


def _locate() -> dict[str, Path]:
    """Stem -> path of each of the four files, by the rule in the module docstring."""
    searched = config.data_dirs()
    for directory in searched:
        found = _present(directory)
        if not found:
            continue
        missing = [p.gz for p in _PARTS if p.stem not in found]
        if missing:
            raise HwssmError(
                f"{directory} holds only {len(found)} of the 4 MNIST files (missing {', '.join(missing)}); "
                "add the missing ones there (it is searched before the other places)"
            )
        return found
    cache = config.cache_dir() / "mnist"
    found = _present(cache)
    for part in _PARTS:
        if part.stem in found:
            continue
        try:
            found[part.stem] = _download(part, cache)
        except _DownloadFailed as exc:
            missing = ", ".join(p.gz for p in _PARTS if p.stem not in found)
            places = ", ".join(str(d) for d in [*searched, cache])
            raise HwssmError(
                f"MNIST files missing ({missing}) and the download from {MIRROR} failed ({exc}); "
                f"put the four .gz files in a directory and point HWSSM_DATA at it (searched: {places})"
            ) from None
    return found


class _DownloadFailed(Exception):
    pass


def _download(part: _Part, directory: Path) -> Path:
    """Fetch ``part`` from the mirror into ``directory`` atomically, checking its SHA-256."""
    url = MIRROR + part.gz
    target = directory / part.gz
    digest = hashlib.sha256()
    try:
        with atomic_path(target) as tmp:
            with _urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response, open(tmp, "wb") as out:
                while chunk := response.read(1 << 16):
                    digest.update(chunk)
                    out.write(chunk)
            if digest.hexdigest() != part.sha256:
                raise _DownloadFailed(f"{part.gz}: SHA-256 {digest.hexdigest()}, expected {part.sha256}")
    except _DownloadFailed:
        raise
    except Exception as exc:  # URLError, HTTPError, timeouts, IncompleteRead, disk errors
        reason = getattr(exc, "reason", None) or exc
        text = " ".join(str(reason).split()) or type(exc).__name__
        raise _DownloadFailed(f"{part.gz}: {text}") from None
    return target


def files_key() -> tuple[tuple[str, int, int], ...]:
    """(path, size, mtime_ns) of the four files where they are found now: what a cache of
    anything derived from MNIST keys on (raises HwssmError when they are missing)."""
    files = _locate()
    return tuple(_file_key(files[p.stem]) for p in _PARTS)


def _file_key(path: Path) -> tuple[str, int, int]:
    """(path, size, mtime_ns): the cache key, so that a changed file is read again."""
    try:
        st = path.stat()
    except OSError as exc:
        raise HwssmError(f"{path}: cannot read: {exc.strerror or exc}") from None
    return str(path), st.st_size, st.st_mtime_ns


_BY_STEM = {p.stem: p for p in _PARTS}


@functools.lru_cache(maxsize=8)
def _read_part(path: str, size: int, mtime_ns: int, stem: str) -> tuple[np.ndarray, bool]:
    """Decode and validate one file; returns (read-only array, SHA-256 verified)."""
    part = _BY_STEM[stem]
    raw = read_bytes(Path(path))
    gz = path.endswith(".gz")
    # Decode first: a structural problem (truncation, bad magic) is a more useful
    # message than the checksum mismatch it also causes.
    array = parse_idx(gunzip(raw, name=path) if gz else raw, name=path, magic=part.magic, shape=part.shape)
    if part.magic == LABELS_MAGIC and array.size and int(array.max()) >= CLASSES:
        raise HwssmError(f"{path}: label {int(array.max())} is out of range 0..{CLASSES - 1}")
    if gz:
        got = hashlib.sha256(raw).hexdigest()
        if got != part.sha256:
            raise HwssmError(
                f"{path}: SHA-256 mismatch (got {got}, expected {part.sha256}); "
                "the file is not the original MNIST distribution file"
            )
    return array, gz


@functools.lru_cache(maxsize=8)
def _load_split(split: Split, key: tuple[tuple[str, int, int], ...]) -> tuple[np.ndarray, np.ndarray]:
    (images, _), (labels, _) = (_read_part(*k, stem) for k, stem in zip(key, _stems(split)))
    if split in (Split.TRAIN, Split.VAL):
        idx = split_indices(split)
        images, labels = images[idx], labels[idx]
        images.flags.writeable = False
        labels.flags.writeable = False
    return images, labels


def _stems(split: Split) -> tuple[str, str]:
    if split is Split.TEST:
        return _TEST_IMAGES.stem, _TEST_LABELS.stem
    return _TRAIN_IMAGES.stem, _TRAIN_LABELS.stem
