"""The S4D importer: equal to the source model to 1e-5, and every bad state dict refused in one line."""

from __future__ import annotations

import numpy as np
import pytest

from hwssm.errors import HwssmError
from hwssm.model.checkpoint import load_checkpoint
from hwssm.model.importers import NormPlacement, RealTransform, S4DImport, import_s4d, read_state_dict
from hwssm.model.network import Mode, forward

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.train

from .s4_reference import S4Model  # noqa: E402  (needs torch)

T = 96


def _pixels(n=4, seed=0):
    return np.random.default_rng(seed).integers(0, 256, size=(n, T), dtype=np.uint8)


def _source_logits(model, pixels, scale=1 / 255, offset=0.0):
    with torch.no_grad():
        u = torch.from_numpy(pixels.astype(np.float64) * scale + offset)[..., None]
        return model(u).numpy()


def _model(seed=0, **kw):
    torch.manual_seed(seed)
    return S4Model(**kw).double().eval()


def _state(model):
    return {k: v.detach().numpy() for k, v in model.state_dict().items()}


@pytest.mark.parametrize("mode", [Mode.CONV, Mode.RECURRENT])
def test_imported_logits_equal_the_source(tmp_path, mode):
    model = _model(H=16, N=8, L=2, K=5)
    path = tmp_path / "s4d.pt"
    torch.save(model.state_dict(), path)
    config, params = import_s4d(read_state_dict(path), S4DImport(seq_len=T))
    assert (config.H, config.N, config.L, config.n_classes) == (16, 8, 2, 5)
    pixels = _pixels()
    ours = forward(params, config, pixels, mode)
    np.testing.assert_allclose(ours, _source_logits(model, pixels), atol=1e-5, rtol=0)


@pytest.mark.parametrize("mode", [Mode.CONV, Mode.RECURRENT])
@pytest.mark.parametrize("prenorm", [False, True])
def test_imported_layernorm_logits_equal_the_source(tmp_path, mode, prenorm):
    """A LayerNorm model (the reference example's default norm), postnorm and prenorm."""
    model = _model(seed=3, H=16, N=8, L=2, K=5, norm="layer", prenorm=prenorm)
    with torch.no_grad():   # non-trivial γ, β
        for n in model.norms:
            n.weight.uniform_(0.5, 1.5)
            n.bias.uniform_(-0.3, 0.3)
    torch.save(model.state_dict(), tmp_path / "ln.pt")
    placement = NormPlacement.PRE if prenorm else NormPlacement.POST
    config, params = import_s4d(read_state_dict(tmp_path / "ln.pt"), S4DImport(seq_len=T, norm=placement))
    assert config.norm.value == "layer" and config.prenorm is prenorm and config.eps == 1e-5
    pixels = _pixels(seed=4)
    np.testing.assert_allclose(forward(params, config, pixels, mode), _source_logits(model, pixels), atol=1e-5, rtol=0)


def test_float32_checkpoint_round_trip_and_npz_source(tmp_path):
    """Through the saved (float32) checkpoint and from an NPZ of the state dict."""
    from hwssm.model.checkpoint import save_checkpoint

    model = _model(seed=1, H=8, N=4, L=3, K=10, inv_real=True, with_B=True)
    np.savez(tmp_path / "sd.npz", **_state(model))
    config, params = import_s4d(read_state_dict(tmp_path / "sd.npz"), S4DImport(seq_len=T))
    ck = load_checkpoint(save_checkpoint(tmp_path / "imp", config, params))
    pixels = _pixels(seed=2)
    np.testing.assert_allclose(forward(ck.params, ck.config, pixels), _source_logits(model, pixels), atol=1e-5)


def test_input_scaling_and_real_transform(tmp_path):
    model = _model(seed=3, H=8, N=4, L=1, K=3, inv_real=True)
    with torch.no_grad():                                  # a "none" transform: Re A = -inv_A_real
        model.s4_layers[0].kernel.inv_A_real.copy_(torch.exp(model.s4_layers[0].kernel.inv_A_real))
    state = _state(model)
    opts = S4DImport(seq_len=T, input_scale=1 / 255 / 0.3, input_offset=-0.13 / 0.3, real_transform=RealTransform.NONE)
    config, params = import_s4d(state, opts)
    # the reference's kernel always exponentiates; give it log of the values for the same A
    with torch.no_grad():
        model.s4_layers[0].kernel.inv_A_real.copy_(torch.log(model.s4_layers[0].kernel.inv_A_real))
    pixels = _pixels(seed=4)
    np.testing.assert_allclose(forward(params, config, pixels),
                               _source_logits(model, pixels, opts.input_scale, opts.input_offset), atol=1e-5)


def test_prenorm_batchnorm_scale_folds():
    model = _model(seed=5, H=8, N=4, L=2, K=4, norm="batch", prenorm=True)
    with torch.no_grad():
        for n in model.norms:                               # scale only: shift β − μ·s = 0
            n.running_var.uniform_(0.5, 2.0)
            n.weight.uniform_(0.5, 1.5)
            n.running_mean.uniform_(-1, 1)
            n.bias.copy_(n.running_mean * n.weight / torch.sqrt(n.running_var + n.eps))
    config, params = import_s4d(_state(model), S4DImport(seq_len=T, norm=NormPlacement.PRE))
    pixels = _pixels(seed=6)
    np.testing.assert_allclose(forward(params, config, pixels), _source_logits(model, pixels), atol=1e-5)


def _refusal(state, opts=S4DImport(seq_len=T)):
    with pytest.raises(HwssmError) as info:
        import_s4d(state, opts)
    msg = str(info.value)
    assert "\n" not in msg
    return msg


def test_refusals_name_the_tensor_and_the_reason():
    state = _state(_model(H=8, N=4, L=2, K=3))
    assert "'s4_layers.1.kernel.A_imag'" in _refusal({k: v for k, v in state.items() if k != "s4_layers.1.kernel.A_imag"})
    assert "'extra.thing'" in _refusal({**state, "extra.thing": np.zeros(3)})
    bad = dict(state, **{"s4_layers.0.D": np.zeros(7)})
    assert "'s4_layers.0.D'" in _refusal(bad) and "(8,)" in _refusal(bad)
    assert "NaN" in _refusal(dict(state, **{"decoder.bias": np.array([0.0, np.nan, 0.0])}))
    assert "input channels" in _refusal(dict(state, **{"encoder.weight": np.zeros((8, 3))}))
    ln = _state(_model(H=8, N=4, L=2, K=3, norm="layer"))
    bn = _state(_model(H=8, N=4, L=2, K=3, norm="batch"))
    mixed = {k: v for k, v in ln.items() if not k.startswith("norms.1.")} | {
        k: v for k, v in bn.items() if k.startswith("norms.1.")}
    assert "LayerNorm" in _refusal(mixed, S4DImport(seq_len=T, norm=NormPlacement.PRE))
    assert "'norms.0.weight'" in _refusal(dict(ln, **{"norms.0.weight": np.ones(7)}))
    bn = _state(_model(H=8, N=4, L=2, K=3, norm="batch"))
    assert "postnorm" in _refusal(bn)
    bn["norms.0.running_mean"] = np.full(8, 0.5)
    assert "nonzero shift" in _refusal(bn, S4DImport(seq_len=T, norm=NormPlacement.PRE))


def test_read_state_dict_refuses_bad_files(tmp_path):
    (tmp_path / "x.bin").write_bytes(b"abc")
    for path in (tmp_path / "missing.pt", tmp_path / "x.bin"):
        with pytest.raises(HwssmError):
            read_state_dict(path)
    (tmp_path / "junk.pt").write_bytes(b"not a torch file")
    with pytest.raises(HwssmError, match="weights_only"):
        read_state_dict(tmp_path / "junk.pt")
    np.save(tmp_path / "obj.npy", np.array([object()], dtype=object), allow_pickle=True)
    np.savez(tmp_path / "obj.npz", a=np.array([{"x": 1}], dtype=object))
    with pytest.raises(HwssmError, match="pickle"):
        read_state_dict(tmp_path / "obj.npz")
    torch.save({"model": {"w": torch.zeros(2)}, "acc": 1.0}, tmp_path / "ck.pt")
    assert list(read_state_dict(tmp_path / "ck.pt")) == ["w"]


def test_cli_import_writes_a_checkpoint_and_refuses_in_one_line(tmp_path, capsys):
    from hwssm.cli import main

    model = _model(H=8, N=4, L=1, K=10)
    torch.save(model.state_dict(), tmp_path / "m.pt")
    assert main(["import", "s4d", "--state-dict", str(tmp_path / "m.pt"), "--out", str(tmp_path / "m"),
                 "--seq-len", str(T), "--eval", "4"]) == 0
    assert "float accuracy on 4 sMNIST test digits" in capsys.readouterr().out
    ck = load_checkpoint(tmp_path / "m")
    assert ck.meta["imported_from"]["options"]["seq_len"] == T
    ln = _model(H=8, N=4, L=1, K=10, norm="layer")
    torch.save(ln.state_dict(), tmp_path / "ln.pt")
    assert main(["import", "s4d", "--state-dict", str(tmp_path / "ln.pt"), "--out", str(tmp_path / "ln")]) == 0
    assert load_checkpoint(tmp_path / "ln").config.norm.value == "layer"
    bn = _model(H=8, N=4, L=1, K=10, norm="batch")     # a BatchNorm after the residual: refused
    torch.save(bn.state_dict(), tmp_path / "bn.pt")
    capsys.readouterr()
    assert main(["import", "s4d", "--state-dict", str(tmp_path / "bn.pt"), "--out", str(tmp_path / "bn")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "postnorm" in err[0]
    assert not (tmp_path / "bn.json").exists() and not (tmp_path / "bn.npz").exists()
