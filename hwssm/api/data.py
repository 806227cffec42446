"""Data: any dataset by name or file (:func:`load_dataset`), the MNIST digits as sMNIST / psMNIST
sequences, and the check of the MNIST files."""

from __future__ import annotations

import operator
from typing import Iterable

import numpy as np

from ..data import DataReport, DataSpec, SequenceDataset, Split
from ..errors import HwssmError
from ..verify.simulate import Digits

__all__ = ["parse_split", "mnist_digits", "check_data", "load_dataset"]


def parse_split(split: Split | str) -> Split:
    """A :class:`~hwssm.data.Split` from itself or its name (``"train"``, ``"val"``, ``"test"``,
    ``"train-full"``); HwssmError otherwise."""
    if isinstance(split, Split):
        return split
    try:
        return Split(split)
    except ValueError:
        names = ", ".join(s.value for s in Split)
        raise HwssmError(f"unknown MNIST split {split!r}; expected one of: {names}") from None


def mnist_digits(split: Split | str = Split.TEST, indices: Iterable[int] | None = None, *,
                 permutation_seed: int | None = None) -> Digits:
    """MNIST digits as sequences, for :func:`evaluate`, :func:`simulate` and PTQ calibration.

    Parameters
    ----------
    split : Split or str
        ``TEST`` (10,000 digits), ``TRAIN`` (55,000), ``VAL`` (5,000) or ``TRAIN_FULL`` (60,000).
    indices : iterable of int or None
        Positions within the split (``range(100)``: the first 100); None: the whole split.
    permutation_seed : int or None
        None for sMNIST (step t is pixel (t // 28, t % 28)); a seed for psMNIST, whose step
        t is row-major pixel ``permutation[t]`` of :func:`hwssm.data.psmnist_permutation`.

    Returns
    -------
    Digits
        ``pixels`` uint8 (n, 784) with intensities 0..255, ``indices`` the positions,
        ``labels`` the classes 0..9.
    """
    from ..data import load_mnist, psmnist_permutation, sequences

    s = parse_split(split)
    images, labels = load_mnist(s)
    n = images.shape[0]
    if indices is None:
        idx = np.arange(n, dtype=np.int64)
    else:
        try:
            idx = np.array([operator.index(i) for i in indices], dtype=np.int64)
        except TypeError:
            raise HwssmError("digit indices must be integers") from None
        if idx.size == 0:
            raise HwssmError("select at least one digit")
        bad = idx[(idx < 0) | (idx >= n)]
        if bad.size:
            raise HwssmError(f"index {int(bad[0])} is out of range for the {s.value} split (0..{n - 1})")
    permutation = None if permutation_seed is None else psmnist_permutation(permutation_seed)
    return Digits(sequences(images[idx], permutation), idx, labels[idx])


def check_data() -> DataReport:
    """Find, decode and SHA-256-verify the four MNIST files.

    Returns
    -------
    DataReport
        Image counts (60,000 train, 10,000 test), whether every file matched its known
        checksum, and the directory they were read from. HwssmError when they are missing
        (and cannot be downloaded) or corrupt.
    """
    from ..data import check

    return check()


def load_dataset(spec: str | DataSpec | None = None) -> SequenceDataset:
    """A dataset by name or file, as every stage reads it (the ``--data`` option of the commands).

    Parameters
    ----------
    spec : str, DataSpec or None
        ``"smnist"`` (None: the default), ``"psmnist"`` / ``"psmnist:SEED"`` (permuted sMNIST),
        ``"listops"`` / ``"listops:SEED"`` (Long Range Arena ListOps, regenerated offline and
        cached on first use, about half a minute), or the path of an NPZ file of sequences
        (format: :mod:`hwssm.data.npz_format`; README, "Data").

    Returns
    -------
    SequenceDataset
        Its splits (``ds.split("train" | "val" | "test")``: ``x`` (N, T, C) integer codes,
        read-only, and ``y`` (N,) int64 labels, loaded on first use), ``n_classes`` K, ``T``,
        ``C``, the ``input_format`` of the codes (MNIST: u8.8, code p standing for p/256),
        the ``encoding`` (samples or token ids of a ``vocab``) and an ``identity`` for caches.
        ``ds.split("test").sequences(n)`` is the input of :func:`evaluate` and of the float
        models ((n, T) when C = 1). Built once per process (a file again when it changed).

    Raises
    ------
    HwssmError
        One line: an unknown name, a missing or malformed file (naming the array and the problem).
    """
    from ..data import load_dataset as _load_dataset

    return _load_dataset(spec)
