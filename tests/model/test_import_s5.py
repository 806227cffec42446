"""The S5 importer: a lindermanlab/S5 (flax) parameter tree, flattened to NPZ, gives an hwssm S5
checkpoint equal to the source model to 1e-5; every bad tree is refused in one line.

The source model is re-implemented below in numpy, line by line after ``s5/ssm.py`` (S5SSM,
discretize_zoh / discretize_bilinear, apply_ssm), ``s5/layers.py`` (SequenceLayer) and
``s5/seq_model.py`` (StackedEncoderModel, ClassificationModel with mean pooling), at inference
(dropout off, BatchNorm on its running statistics), on a random tree of the reference's shapes.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from hwssm.errors import HwssmError
from hwssm.model.checkpoint import load_checkpoint, save_checkpoint
from hwssm.model.config import Discretization
from hwssm.model.importers import NormPlacement, S5Activation, S5Import, import_s5, read_param_tree
from hwssm.model.s5_config import Glu, Norm
from hwssm.model.s5_network import forward

T, H, P, L, K = 48, 6, 5, 2, 4


def _tree(seed=0, full_glu=False, norm="batch", d_input=1) -> dict[str, np.ndarray]:
    """A random ClassificationModel variable tree, flattened with '/', float32 like flax's."""
    rng = np.random.default_rng(seed)
    u = lambda *s, a=1.0: rng.uniform(-a, a, s)  # noqa: E731
    t = {"params/encoder/encoder/kernel": u(d_input, H), "params/encoder/encoder/bias": u(H, a=0.3),
         "params/decoder/kernel": u(H, K), "params/decoder/bias": u(K, a=0.2)}
    for l in range(L):
        s = f"params/encoder/layers_{l}/"
        t |= {s + "seq/Lambda_re": -rng.uniform(0.05, 0.8, P), s + "seq/Lambda_im": u(P, a=3.0),
              s + "seq/B": u(P, H, 2, a=0.5), s + "seq/C": u(H, P, 2, a=0.5), s + "seq/D": rng.normal(0, 1, H),
              s + "seq/log_step": rng.uniform(math.log(1e-2), math.log(0.3), (P, 1)),
              s + "out2/kernel": u(H, H, a=0.6), s + "out2/bias": u(H, a=0.2)}
        if full_glu:
            t |= {s + "out1/kernel": u(H, H, a=0.6), s + "out1/bias": u(H, a=0.2)}
        if norm in ("batch", "layer"):
            t |= {s + "norm/scale": rng.uniform(0.5, 1.5, H), s + "norm/bias": u(H, a=0.3)}
        if norm == "batch":
            t |= {f"batch_stats/encoder/layers_{l}/norm/mean": u(H, a=0.5),
                  f"batch_stats/encoder/layers_{l}/norm/var": rng.uniform(0.5, 2.0, H)}
    return {k: np.asarray(v, np.float32) for k, v in t.items()}


def _gelu(x, approximate):
    """jax.nn.gelu: the tanh approximation (flax's default) or the exact x·Φ(x)."""
    if approximate:
        return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))
    return x * 0.5 * (1.0 + np.vectorize(math.erf)(x / math.sqrt(2.0)))


def _reference(tree, pixels, *, scale=1 / 255, offset=0.0, discretization="zoh", activation="half_glu1",
               prenorm=True, batchnorm=True, conj_sym=True, clip_eigs=False, step_rescale=1.0, eps=1e-5,
               approximate=False):
    """log_softmax outputs (B, K) of the S5 ClassificationModel, float64."""
    p = {k: np.asarray(v, np.float64) for k, v in tree.items()}
    dense = lambda x, name: x @ p[name + "/kernel"] + p[name + "/bias"]  # noqa: E731
    sig = lambda x: 1.0 / (1.0 + np.exp(-x))  # noqa: E731

    def norm(x, l):
        s = f"encoder/layers_{l}/norm/"
        if batchnorm is None:                       # a tree without norms (not the reference's own choice)
            return x
        if batchnorm:
            y = (x - p["batch_stats/" + s + "mean"]) / np.sqrt(p["batch_stats/" + s + "var"] + eps)
        else:
            mu = x.mean(-1, keepdims=True)
            y = (x - mu) / np.sqrt(((x - mu) ** 2).mean(-1, keepdims=True) + 1e-6)
        return y * p["params/" + s + "scale"] + p["params/" + s + "bias"]

    x = (pixels.astype(np.float64) * scale + offset)[..., None]                  # (B, T, d_input)
    x = dense(x, "params/encoder/encoder")
    for l in range(L):
        s = f"params/encoder/layers_{l}/seq/"
        skip = x
        if prenorm:
            x = norm(x, l)
        lam_re = np.minimum(p[s + "Lambda_re"], -1e-4) if clip_eigs else p[s + "Lambda_re"]
        Lam = lam_re + 1j * p[s + "Lambda_im"]
        B_tilde = p[s + "B"][..., 0] + 1j * p[s + "B"][..., 1]
        C_tilde = p[s + "C"][..., 0] + 1j * p[s + "C"][..., 1]
        step = step_rescale * np.exp(p[s + "log_step"][:, 0])
        if discretization == "zoh":
            Lam_bar = np.exp(Lam * step)
            B_bar = (1 / Lam * (Lam_bar - 1.0))[..., None] * B_tilde
        else:
            BL = 1 / (1.0 - (step / 2.0) * Lam)
            Lam_bar = BL * (1.0 + (step / 2.0) * Lam)
            B_bar = (BL * step)[..., None] * B_tilde
        Bu = x @ B_bar.T                                                         # (B, T, P)
        xs = np.zeros_like(Bu)
        state = np.zeros(Bu[:, 0].shape, np.complex128)
        for t in range(Bu.shape[1]):
            state = Lam_bar * state + Bu[:, t]
            xs[:, t] = state
        ys = (2 if conj_sym else 1) * (xs @ C_tilde.T).real
        y = ys + p[s + "D"] * x
        g = _gelu(y, approximate)
        pre = f"params/encoder/layers_{l}/"
        if activation == "full_glu":
            x = dense(g, pre + "out1") * sig(dense(g, pre + "out2"))
        else:
            x = g * sig(dense(g, pre + "out2"))
        x = skip + x
        if not prenorm:
            x = norm(x, l)
    return _log_softmax(dense(x.mean(axis=1), "params/decoder"))                 # mode "pool", then log_softmax


def _log_softmax(z):
    m = z.max(-1, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(-1, keepdims=True))


def _pixels(n=3, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, T), dtype=np.uint8)


CASES = {
    "default": ({}, {}, {}),
    "full_glu_bilinear": ({"full_glu": True}, {"discretization": Discretization.BILINEAR},
                          {"discretization": "bilinear", "activation": "full_glu"}),
    "flags": ({}, {"conj_sym": False, "clip_eigs": True, "step_rescale": 0.5, "input_scale": 1 / 255 / 0.3,
                   "input_offset": -0.4}, {"conj_sym": False, "clip_eigs": True, "step_rescale": 0.5,
                                           "scale": 1 / 255 / 0.3, "offset": -0.4}),
    "no_norm": ({"norm": None}, {}, {"batchnorm": None}),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_imported_logits_equal_the_reference(case):
    tree_kw, opts_kw, ref_kw = CASES[case]
    tree = _tree(seed=1, **tree_kw)
    if case == "flags":   # an eigenvalue on the wrong side, for clip_eigs to act on
        tree["params/encoder/layers_0/seq/Lambda_re"][0] = 0.02
    config, params = import_s5(tree, S5Import(seq_len=T, **opts_kw))
    assert (config.H, config.P, config.L, config.n_classes) == (H, P, L, K)
    assert config.glu is (Glu.FULL if tree_kw.get("full_glu") else Glu.HALF)
    assert config.norm is (Norm.NONE if case == "no_norm" else Norm.BATCH)
    pixels = _pixels()
    want = _reference(tree, pixels, **ref_kw)
    np.testing.assert_allclose(_log_softmax(forward(params, config, pixels)), want, atol=1e-5, rtol=0)
    if config.norm is Norm.BATCH:                  # the integer path's view: BatchNorm folded into B̄, D
        np.testing.assert_allclose(_log_softmax(forward(params, config, pixels, folded=True)), want, atol=1e-5)


def test_flax_default_tanh_gelu_is_close_not_equal():
    """flax's nn.gelu defaults to the tanh approximation; hwssm's GELU is exact: measured here."""
    tree = _tree(seed=2)
    config, params = import_s5(tree, S5Import(seq_len=T))
    pixels = _pixels(seed=3)
    ours = _log_softmax(forward(params, config, pixels))
    diff = np.abs(ours - _reference(tree, pixels, approximate=True)).max()
    assert 1e-7 < diff < 1e-3, diff   # 3.6e-5 here; GELU itself differs by <= 4.7e-4


def test_npz_round_trip_through_the_api_and_a_float32_checkpoint(tmp_path):
    from hwssm.api import import_s5 as api_import_s5

    tree = _tree(seed=4, full_glu=True)
    flat = {k[len("params/"):] if k.startswith("params/") else k: v for k, v in tree.items()}
    np.savez(tmp_path / "s5.npz", **flat)            # params without the prefix, batch_stats with it
    assert set(read_param_tree(tmp_path / "s5.npz")) == set(tree)
    ck = api_import_s5(tmp_path / "s5.npz", S5Import(seq_len=T))
    assert ck.meta["imported_from"]["file"] == "s5.npz" and ck.meta["imported_from"]["options"]["seq_len"] == T
    back = load_checkpoint(save_checkpoint(tmp_path / "imp", ck.config, ck.params, ck.meta))
    pixels = _pixels(seed=5)
    np.testing.assert_allclose(_log_softmax(forward(back.params, back.config, pixels)),
                               _reference(tree, pixels, activation="full_glu"), atol=1e-5, rtol=0)


def _refusal(tree, opts=S5Import(seq_len=T)):
    with pytest.raises(HwssmError) as info:
        import_s5(tree, opts)
    msg = str(info.value)
    assert "\n" not in msg
    return msg


def test_refusals_name_the_array_and_the_reason():
    tree = _tree()
    drop = lambda name: {k: v for k, v in tree.items() if k != name}  # noqa: E731
    assert "'params/encoder/layers_1/seq/D'" in _refusal(drop("params/encoder/layers_1/seq/D"))
    assert "'params/extra/thing'" in _refusal({**tree, "params/extra/thing": np.zeros(3)})
    bad = _refusal(dict(tree, **{"params/encoder/layers_0/seq/B": np.zeros((P, H))}))
    assert "'params/encoder/layers_0/seq/B'" in bad and f"({P}, {H}, 2)" in bad
    assert "NaN" in _refusal(dict(tree, **{"params/decoder/bias": np.array([0.0, np.nan, 0.0, 0.0])}))
    assert "input features" in _refusal(_tree(d_input=3))
    ln = _refusal(_tree(norm="layer"))
    assert "LayerNorm" in ln and "layers_0" in ln
    assert "prenorm False" in _refusal(tree, S5Import(seq_len=T, norm=NormPlacement.POST))
    assert "half_glu2" in _refusal(tree, S5Import(seq_len=T, activation=S5Activation.HALF_GLU2))
    no_glu = {k: v for k, v in tree.items() if "/out2/" not in k}
    assert "no GLU" in _refusal(no_glu)
    assert "out1 and out2" in _refusal(tree, S5Import(seq_len=T, activation=S5Activation.FULL_GLU))
    assert "bidirectional" in _refusal({**tree, "params/encoder/layers_0/seq/C1": np.zeros((H, P, 2))})
    assert "layers_ indices" in _refusal({k.replace("layers_1", "layers_2"): v for k, v in tree.items()})


def test_read_param_tree_refuses_bad_files(tmp_path):
    for path in (tmp_path / "missing.npz", tmp_path / "x.pt"):
        if path.suffix == ".pt":
            path.write_bytes(b"abc")
        with pytest.raises(HwssmError):
            read_param_tree(path)
    np.savez(tmp_path / "twice.npz", **{"decoder/bias": np.zeros(2), "params/decoder/bias": np.zeros(2)})
    with pytest.raises(HwssmError, match="twice"):
        read_param_tree(tmp_path / "twice.npz")


def test_cli_import_writes_a_checkpoint_and_refuses_in_one_line(tmp_path, capsys):
    from hwssm.cli import main

    np.savez(tmp_path / "m.npz", **_tree(seed=6))
    assert main(["import", "s5", "--params", str(tmp_path / "m.npz"), "--out", str(tmp_path / "m"), "--eval", "2"]) == 0
    out = capsys.readouterr().out
    assert "S5 H=6 P=5 L=2" in out and "float accuracy on 2 sMNIST test digits" in out
    ck = load_checkpoint(tmp_path / "m")
    assert ck.config.norm is Norm.BATCH and ck.meta["imported_from"]["options"]["seq_len"] == 784
    np.savez(tmp_path / "src_ln.npz", **_tree(norm="layer"))
    assert main(["import", "s5", "--params", str(tmp_path / "src_ln.npz"), "--out", str(tmp_path / "ln")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "LayerNorm" in err[0]
    assert not (tmp_path / "ln.json").exists() and not (tmp_path / "ln.npz").exists()
