"""MNIST data: the IDX reader and the sMNIST/psMNIST sequences (see :mod:`hwssm.data.mnist`)."""

from .mnist import (
    T,
    DataReport,
    Split,
    check,
    load_mnist,
    psmnist_permutation,
    sequences,
    split_indices,
)

__all__ = [
    "T",
    "DataReport",
    "Split",
    "check",
    "load_mnist",
    "psmnist_permutation",
    "sequences",
    "split_indices",
]
