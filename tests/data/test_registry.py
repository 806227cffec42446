"""Built-in datasets and the --data parser: smnist is exactly today's MNIST sequences; psmnist is a
seeded permutation whose seed is part of the identity; names and paths parse into DataSpecs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hwssm.data import (MODEL_INPUT, Builtin, DataSpec, DataSplit, Split, load_dataset, load_mnist, parse_data,
                        psmnist_permutation, sequences)
from hwssm.errors import HwssmError


def test_smnist_is_the_mnist_sequences_bit_for_bit():
    ds = load_dataset("smnist")
    assert (ds.n_classes, ds.T, ds.C, ds.input_format, ds.identity, ds.mnist) == (10, 784, 1, MODEL_INPUT, "smnist", True)
    for split, msplit in ((DataSplit.TEST, Split.TEST), (DataSplit.VAL, Split.VAL)):
        images, labels = load_mnist(msplit)
        part = ds.split(split)
        seq = part.sequences()
        assert seq.dtype == np.uint8 and seq.flags.c_contiguous and not seq.flags.writeable
        np.testing.assert_array_equal(seq, sequences(images))
        np.testing.assert_array_equal(part.y, labels)
    assert load_dataset(None) is ds and load_dataset(DataSpec(Builtin.SMNIST)) is ds


def test_psmnist_is_deterministic_and_its_seed_is_its_identity():
    a, b, c = load_dataset("psmnist"), load_dataset("psmnist:0"), load_dataset("psmnist:7")
    assert a.identity == b.identity == "psmnist:seed=0" and c.identity == "psmnist:seed=7"
    assert len({a.digest(), c.digest(), load_dataset("smnist").digest()}) == 3
    images, _ = load_mnist(Split.TEST)
    perm = np.random.default_rng(7).permutation(784)
    np.testing.assert_array_equal(c.split("test").sequences(), sequences(images)[:, perm])
    np.testing.assert_array_equal(perm, psmnist_permutation(7))
    assert not np.array_equal(a.split("test").sequences()[:5], c.split("test").sequences()[:5])
    np.testing.assert_array_equal(np.sort(c.split("test").sequences()[:5], axis=1),
                                  np.sort(sequences(images[:5]), axis=1))


@pytest.mark.parametrize("text,spec", [
    ("smnist", DataSpec(Builtin.SMNIST)),
    ("psmnist", DataSpec(Builtin.PSMNIST)),
    ("psmnist:12", DataSpec(Builtin.PSMNIST, 12)),
    ("listops", DataSpec(Builtin.LISTOPS)),
    ("listops:3", DataSpec(Builtin.LISTOPS, 3)),
    ("my/data.npz", DataSpec(path=Path("my/data.npz"))),
    ("data.npz", DataSpec(path=Path("data.npz"))),
])
def test_parse(text, spec):
    assert parse_data(text) == spec and parse_data(spec.text()) == spec


@pytest.mark.parametrize("text,message", [
    ("mnist", "unknown dataset 'mnist'"),
    ("smnist:3", "smnist takes no seed"),
    ("psmnist:x", "unknown dataset"),
])
def test_parse_refuses(text, message):
    with pytest.raises(HwssmError, match=message):
        parse_data(text)


def test_model_checks():
    ds = load_dataset("smnist")
    ds.check_model(10)
    with pytest.raises(HwssmError, match="the model has 2 classes, dataset smnist has 10"):
        ds.check_model(2)
