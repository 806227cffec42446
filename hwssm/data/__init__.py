"""Data: the :class:`SequenceDataset` type every stage reads, its built-ins (smnist, psmnist,
listops: :mod:`hwssm.data.registry`), the NPZ file format (:mod:`hwssm.data.npz_format`), and the
MNIST IDX reader with the sMNIST/psMNIST sequences (:mod:`hwssm.data.mnist`)."""

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
from .dataset import MODEL_INPUT, DataSplit, Encoding, SequenceDataset, SplitData, parse_data_split
from .registry import DEFAULT_DATA, Builtin, DataSpec, load_dataset, parse_data

__all__ = [
    "MODEL_INPUT",
    "DataSplit",
    "Encoding",
    "SequenceDataset",
    "SplitData",
    "parse_data_split",
    "DEFAULT_DATA",
    "Builtin",
    "DataSpec",
    "load_dataset",
    "parse_data",
    "T",
    "DataReport",
    "Split",
    "check",
    "load_mnist",
    "psmnist_permutation",
    "sequences",
    "split_indices",
]
