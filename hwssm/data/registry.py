"""Built-in datasets and the ``--data NAME|PATH`` parser.

Built-ins (each a :class:`~hwssm.data.dataset.SequenceDataset`):

``smnist``
    Sequential MNIST: each 28x28 digit as 784 steps of one pixel, row-major; u8.8 samples
    (pixel p stands for p/256); train 55,000 / val 5,000 (the fixed split of
    :func:`hwssm.data.mnist.split_indices`) / test 10,000; 10 classes. Exactly the arrays of
    :func:`hwssm.data.mnist.load_mnist` + :func:`~hwssm.data.mnist.sequences`.
``psmnist`` / ``psmnist:SEED``
    Permuted sMNIST: step t is row-major pixel ``permutation[t]`` of
    :func:`hwssm.data.mnist.psmnist_permutation` (``default_rng(SEED).permutation(784)``);
    ``psmnist`` is seed 0. The seed is part of the identity (``psmnist:seed=S``).
``listops`` / ``listops:SEED``
    Long Range Arena ListOps, regenerated offline (:mod:`hwssm.data.listops`; seed 0 by
    default); token sequences, 10 classes.

Anything else is a path to an NPZ file in the format of :mod:`hwssm.data.npz_format`.
"""

from __future__ import annotations

import dataclasses
import enum
import re
from pathlib import Path

import numpy as np

from ..errors import HwssmError
from .dataset import MODEL_INPUT, DataSplit, SequenceDataset, SplitData, read_only

__all__ = ["Builtin", "DataSpec", "parse_data", "load_dataset", "BUILTINS", "DEFAULT_DATA"]


class Builtin(enum.Enum):
    """The built-in datasets."""

    SMNIST = "smnist"
    PSMNIST = "psmnist"
    LISTOPS = "listops"


#: Names accepted by ``--data`` (a seed may follow psmnist and listops: ``psmnist:3``).
BUILTINS = tuple(b.value for b in Builtin)
#: What every command reads unless given ``--data``.
DEFAULT_DATA = "smnist"
_NAME = re.compile(r"^(smnist|psmnist|listops)(?::([0-9]{1,9}))?$")


@dataclasses.dataclass(frozen=True)
class DataSpec:
    """A parsed ``--data``: a built-in (with its seed) or an NPZ path."""

    builtin: Builtin | None = None
    seed: int | None = None
    path: Path | None = None

    def __post_init__(self):
        if (self.builtin is None) == (self.path is None):
            raise HwssmError("a data spec is a built-in name or a path, exactly one of them")
        if self.seed is not None and self.builtin not in (Builtin.PSMNIST, Builtin.LISTOPS):
            raise HwssmError(f"{self.builtin.value if self.builtin else 'a file'} takes no seed")

    def text(self) -> str:
        """The ``--data`` text that gives this spec back."""
        if self.path is not None:
            return str(self.path)
        return self.builtin.value + ("" if self.seed is None else f":{self.seed}")

    @property
    def is_default(self) -> bool:
        return self.builtin is Builtin.SMNIST


def parse_data(text: str | DataSpec | None) -> DataSpec:
    """``smnist``, ``psmnist[:SEED]``, ``listops[:SEED]`` or an NPZ path -> DataSpec; None: smnist."""
    if isinstance(text, DataSpec):
        return text
    if text is None:
        return DataSpec(Builtin.SMNIST)
    text = str(text)
    m = _NAME.match(text)
    if m:
        if m.group(2) is not None and m.group(1) == "smnist":
            raise HwssmError("smnist takes no seed (psmnist:SEED is the permuted one)")
        return DataSpec(Builtin(m.group(1)), None if m.group(2) is None else int(m.group(2)))
    path = Path(text)
    if path.suffix == ".npz" or path.exists() or "/" in text:
        return DataSpec(path=path)
    raise HwssmError(f"unknown dataset {text!r}: give one of {', '.join(BUILTINS)} (psmnist:SEED, listops:SEED) "
                     "or the path of an NPZ file (see hwssm/data/npz_format.py)")


_LOADED: dict = {}


def load_dataset(spec: str | DataSpec | None = None) -> SequenceDataset:
    """The dataset of ``spec`` (see :func:`parse_data`); each is built once per process (a file
    again when its size or modification time changed; an MNIST-based one again when the MNIST
    files found change, e.g. another ``HWSSM_DATA``)."""
    spec = parse_data(spec)
    key = spec
    if spec.path is not None:  # a file is read again when it changed (size, mtime)
        from .npz_format import load_npz

        try:
            st = spec.path.stat()
            key = (spec.path.resolve(), st.st_size, st.st_mtime_ns)
        except OSError:
            return load_npz(spec.path)  # its one-line error
        if key not in _LOADED:
            _LOADED[key] = load_npz(spec.path)
        return _LOADED[key]
    if spec.builtin is not Builtin.LISTOPS:   # MNIST-based: built again when the files found change
        key = (spec, _mnist_files())
    if key in _LOADED:
        return _LOADED[key]
    if spec.builtin is Builtin.LISTOPS:
        from .listops import ListOpsSpec, listops_dataset

        ds = listops_dataset(ListOpsSpec(seed=spec.seed or 0))
    else:
        ds = mnist_dataset(None if spec.builtin is Builtin.SMNIST else (spec.seed or 0))
    _LOADED[key] = ds
    return ds


def _mnist_files():
    """The MNIST files' key (:func:`hwssm.data.mnist.files_key`), None while they are missing
    (the split's load then says so, when a split is read)."""
    from .mnist import files_key

    try:
        return files_key()
    except HwssmError:
        return None


def mnist_dataset(permutation_seed: int | None = None) -> SequenceDataset:
    """sMNIST (``permutation_seed`` None) or psMNIST with that seed, as a SequenceDataset."""
    from .mnist import CLASSES, T, Split, load_mnist, psmnist_permutation, sequences

    perm = None if permutation_seed is None else psmnist_permutation(permutation_seed)
    where = {DataSplit.TRAIN: Split.TRAIN, DataSplit.VAL: Split.VAL, DataSplit.TEST: Split.TEST}

    def loader(split: Split):
        def load() -> SplitData:
            images, labels = load_mnist(split)
            seq = sequences(images, perm)
            return SplitData(read_only(seq.reshape(seq.shape[0], T, 1)),
                             read_only(np.asarray(labels, dtype=np.int64)))
        return load

    name = "smnist" if perm is None else f"psmnist:{permutation_seed}"
    identity = "smnist" if perm is None else f"psmnist:seed={permutation_seed}"
    return SequenceDataset(name=name, identity=identity, n_classes=CLASSES, T=T, C=1, input_format=MODEL_INPUT,
                           loaders={d: loader(s) for d, s in where.items()}, mnist=True)


def mnist_split(split: DataSplit):
    """The :class:`hwssm.data.mnist.Split` a DataSplit of an MNIST dataset is read from."""
    from .mnist import Split

    return {DataSplit.TRAIN: Split.TRAIN, DataSplit.VAL: Split.VAL, DataSplit.TEST: Split.TEST}[split]


def split_sequences(spec: DataSpec | None, split: DataSplit | str, limit: int | None = None
                    ) -> tuple[np.ndarray, np.ndarray]:
    """(sequences, int64 labels (n,)) of the first ``limit`` entries of one split of ``spec``'s
    dataset: uint8 samples (n, T) or (n, T, C), or token ids (n, T) (:meth:`SequenceDataset.sequences`)."""
    ds = load_dataset(spec)
    ds.check_inputs()
    part = ds.split(split)
    return part.sequences(limit), part.labels(limit)


def data_identity(spec: DataSpec | None) -> str | None:
    """The identity of ``spec``'s dataset, or None for smnist (the default, which older records
    and resume states do not name)."""
    if spec is None or parse_data(spec).is_default:
        return None
    return load_dataset(spec).identity
