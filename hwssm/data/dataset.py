"""SequenceDataset: the one data type every stage reads (training, PTQ, golden, simulation, flow).

A dataset is three splits (train, val, test) of integer sequences with class labels:

``x``
    (N, T, C) integer codes, read-only: N sequences of T steps with C channels (samples) per step.
``y``
    (N,) int64 class indices in [0, K).

and the facts a model needs to accept it:

``n_classes``
    K.
``T``, ``C``
    Steps per sequence and channels per step (the same in every split).
``input_format``
    The :class:`~hwssm.fixed.QFormat` of the codes: the real input of step t is
    ``x[t] * 2**-frac``. MNIST pixels are ``u8.8`` (code p stands for p/256), exactly the
    encoder input ``u0`` of the float model and of the QModel (:data:`MODEL_INPUT`).
``encoding``
    :class:`Encoding`: SAMPLES go through the linear encoder (a map from C samples to H
    channels); TOKENS are symbol ids in [0, ``vocab``) for an embedding encoder.
``identity``
    A string that names the contents exactly (a built-in's name and parameters, or an NPZ
    file's SHA-256); :meth:`SequenceDataset.digest` hashes it for cache keys.

Splits are loaded on first use and kept (a golden evaluation on the test split never reads
the training images).
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import threading
from collections.abc import Callable, Mapping

import numpy as np

from ..errors import HwssmError
from ..fixed import QFormat

__all__ = ["DataSplit", "Encoding", "SplitData", "SequenceDataset", "MODEL_INPUT", "parse_data_split"]

#: The input the S4D models take today: one unsigned 8-bit sample per step, code p standing for
#: p / 256 (``QModel.u0``; the float model's ``pixel / 256``).
MODEL_INPUT = QFormat(8, 8, signed=False)


class DataSplit(enum.Enum):
    """One of the three splits of a :class:`SequenceDataset`."""

    TRAIN = "train"
    VAL = "val"
    TEST = "test"


def parse_data_split(split: DataSplit | str) -> DataSplit:
    """A :class:`DataSplit` from itself or its name (``train``, ``val``, ``test``); HwssmError otherwise."""
    if isinstance(split, DataSplit):
        return split
    try:
        return DataSplit(split)
    except ValueError:
        raise HwssmError(f"unknown split {split!r}; expected one of: {', '.join(s.value for s in DataSplit)}") from None


class Encoding(enum.Enum):
    """How the model's encoder reads a step: linear map of C samples, or embedding of a token id."""

    SAMPLES = "samples"
    TOKENS = "tokens"


@dataclasses.dataclass(frozen=True, eq=False)
class SplitData:
    """One split: ``x`` (N, T, C) integer codes and ``y`` (N,) int64 labels, both read-only."""

    x: np.ndarray
    y: np.ndarray

    @property
    def n(self) -> int:
        return int(self.x.shape[0])

    def sequences(self, limit: int | None = None) -> np.ndarray:
        """The sequences of the first ``limit`` entries (a view): (n, T) when C = 1 (samples or
        token ids), else (n, T, C): the engine's and the float model's input."""
        if self.x.shape[2] != 1:
            return self.x[:limit]
        return self.x[:limit, :, 0]

    def labels(self, limit: int | None = None) -> np.ndarray:
        return self.y[:limit]


@dataclasses.dataclass(frozen=True, eq=False)
class SequenceDataset:
    """A sequence-classification dataset (see the module docstring).

    Parameters
    ----------
    name : str
        What to call it in messages (``smnist``, ``psmnist:3``, a file name).
    identity : str
        Exact name of the contents, for caches (built-in name + parameters, or a file SHA-256).
    n_classes, T, C : int
        K classes, steps per sequence, channels per step.
    input_format : QFormat
        Format of the codes in ``x``.
    loaders : mapping DataSplit -> callable returning SplitData
        How to load each split (called once, on first use).
    encoding : Encoding
        SAMPLES (linear encoder) or TOKENS (ids in [0, vocab)).
    vocab : int or None
        Token vocabulary size (TOKENS only).
    mnist : bool
        True when the splits are the MNIST files (the commands then report whether they are
        SHA-256-verified).
    """

    name: str
    identity: str
    n_classes: int
    T: int
    C: int
    input_format: QFormat
    loaders: Mapping[DataSplit, Callable[[], SplitData]]
    encoding: Encoding = Encoding.SAMPLES
    vocab: int | None = None
    mnist: bool = False
    _cache: dict = dataclasses.field(init=False, repr=False)
    _lock: threading.Lock = dataclasses.field(init=False, repr=False)

    def __post_init__(self):
        object.__setattr__(self, "_cache", {})
        object.__setattr__(self, "_lock", threading.Lock())
        for f in ("n_classes", "T", "C"):
            v = getattr(self, f)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise HwssmError(f"dataset {self.name}: {f} must be a positive integer, not {v!r}")
        if set(self.loaders) != set(DataSplit):
            raise HwssmError(f"dataset {self.name}: needs a loader for each of train, val, test")
        if (self.encoding is Encoding.TOKENS) != (self.vocab is not None):
            raise HwssmError(f"dataset {self.name}: a vocabulary size goes with token encoding, and only with it")

    def split(self, which: DataSplit | str) -> SplitData:
        """The split ``which`` (loaded on first use, then kept); shapes checked against T, C."""
        which = parse_data_split(which)
        with self._lock:
            if which not in self._cache:
                data = self.loaders[which]()
                if data.x.ndim != 3 or data.x.shape[1:] != (self.T, self.C) or data.y.shape != (data.x.shape[0],):
                    raise HwssmError(f"dataset {self.name}: {which.value} split has x {data.x.shape}, y {data.y.shape}; "
                                     f"expected (N, {self.T}, {self.C}) and (N,)")
                self._cache[which] = data
            return self._cache[which]

    def digest(self) -> str:
        """SHA-256 (hex) of :attr:`identity`: the dataset's key in caches."""
        return hashlib.sha256(self.identity.encode()).hexdigest()

    def describe(self) -> str:
        """One line: name, K, T, C and the input format or vocabulary."""
        what = (f"tokens (vocabulary {self.vocab})" if self.encoding is Encoding.TOKENS
                else f"{self.input_format.name} samples")
        return f"{self.name}: {self.n_classes} classes, T={self.T}, C={self.C}, {what}"

    def check_inputs(self, what: str = "the model") -> None:
        """Refuse (HwssmError, one line) samples the models cannot read: an input format other
        than :data:`MODEL_INPUT` (every channel of a step is a u8.8 sample). Token data (ids for
        an embedding encoder) and any C pass here; :meth:`check_model` matches them to a model."""
        if self.encoding is Encoding.TOKENS:
            return
        f, m = self.input_format, MODEL_INPUT
        if (f.width, f.frac, f.signed) != (m.width, m.frac, m.signed):
            raise HwssmError(f"dataset {self.name} has input format {f.name}; {what} takes {m.name} "
                             "(unsigned 8-bit codes standing for code/256)")

    def check_model(self, n_classes: int, what: str = "the model", *, C: int = 1, vocab: int | None = None) -> None:
        """:meth:`check_inputs`, and refuse a model with another number of classes than K, another
        number of input channels C, or another encoding (a token model's vocabulary V must be
        the data's; a linear encoder cannot read tokens)."""
        self.check_inputs(what)
        if int(n_classes) != self.n_classes:
            raise HwssmError(f"{what} has {n_classes} classes, dataset {self.name} has {self.n_classes}")
        if self.encoding is Encoding.TOKENS and vocab is None:
            raise HwssmError(f"dataset {self.name} holds token sequences (vocabulary {self.vocab}); {what} has a "
                             "linear encoder, not a token embedding")
        if self.encoding is Encoding.SAMPLES and vocab is not None:
            raise HwssmError(f"{what} has a token embedding (vocabulary {vocab}); dataset {self.name} holds samples")
        if vocab is not None and int(vocab) != self.vocab:
            raise HwssmError(f"{what} has a vocabulary of {vocab} tokens, dataset {self.name} has {self.vocab}")
        if int(C) != self.C:
            raise HwssmError(f"{what} takes C={C} channels per step; dataset {self.name} has C={self.C} channels per step")

    def check_model_of(self, model, what: str = "the model") -> None:
        """:meth:`check_model` for a model object with ``n_classes`` and optionally ``C`` and
        ``vocab`` (a QModel, an S4DConfig; S5 models have C = 1)."""
        self.check_model(model.n_classes, what, C=getattr(model, "C", 1), vocab=getattr(model, "vocab", None))

    def model_shape(self) -> dict:
        """The encoder a model for this data needs: ``{"C": C}`` or ``{"vocab": V}`` (token data),
        as :class:`~hwssm.model.config.S4DConfig` keyword arguments."""
        return {"vocab": self.vocab} if self.encoding is Encoding.TOKENS else {"C": self.C}


def read_only(a: np.ndarray) -> np.ndarray:
    """``a`` marked read-only (a view when ``a`` is writeable, so the caller's array is untouched)."""
    if a.flags.writeable:
        a = a.view()
        a.flags.writeable = False
    return a
