"""``hwssm import``: bring a float model trained elsewhere into hwssm's checkpoint format.

``hwssm import s4d --state-dict FILE --out STEM [--seq-len T] [--input-scale S] [--input-offset O]
[--real-transform exp|none|softplus] [--norm pre|post] [--eval N]``
    Read the ``state-spaces/s4`` example S4D classifier (``torch.save(model.state_dict())`` as
    ``.pt``/``.pth``, read with ``weights_only=True``, or an NPZ whose array names are the state
    dict's keys) and write ``STEM.json`` + ``STEM.npz`` (:mod:`hwssm.model.importers.s4d_reference`
    says what folds and what is refused). With ``--eval N`` it prints the float accuracy on the
    first N sMNIST test digits. Then quantize as usual: ``hwssm ptq --model STEM ...``.

``hwssm import s5 --params FILE.npz --out STEM [--seq-len T] [--input-scale S] [--input-offset O]
[--discretization zoh|bilinear] [--activation half_glu1|full_glu|...] [--norm pre|post]
[--no-conj-sym] [--clip-eigs] [--step-rescale R] [--eval N]``
    Read the ``lindermanlab/S5`` (JAX/flax) ClassificationModel from an NPZ of its variables
    flattened with '/' (``np.savez(FILE, **flax.traverse_util.flatten_dict(variables, sep="/"))``:
    ``params/encoder/layers_0/seq/B``, ``batch_stats/encoder/layers_0/norm/mean``, ...;
    :mod:`hwssm.model.importers.s5_reference` lists the arrays, what folds and what is refused)
    and write the S5 checkpoint ``STEM.json`` + ``STEM.npz``. The options are the source's
    training flags that its parameters do not record.
"""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = ("import a float model trained elsewhere (state-spaces/s4 S4D state dict, lindermanlab/S5 flax tree) "
        "as an hwssm checkpoint")


def register(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="import_command", metavar="FAMILY")
    s = sub.add_parser("s4d", help="the state-spaces/s4 example S4D classifier (S4Model with S4D layers)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    s.add_argument("--state-dict", required=True, metavar="FILE", help="state dict: .pt/.pth (torch) or .npz")
    _source_args(s)
    s.add_argument("--real-transform", choices=("exp", "none", "softplus"), default="exp",
                   help="how kernel.inv_A_real gives Re A, when the state dict has it (default exp)")
    s.add_argument("--norm", choices=("pre", "post"), default="post",
                   help="where the source applies norms.{l} (example.py: post unless --prenorm; default post)")
    s.add_argument("--eval", type=int, default=0, metavar="N",
                   help="also print the float accuracy on the first N sMNIST test digits")
    s.set_defaults(func=_s4d)
    _register_s5(sub)

    def _usage(args) -> int:
        parser.print_help()
        return 2

    parser.set_defaults(func=_usage)


def _source_args(s: argparse.ArgumentParser) -> None:
    """The options every importer has: the output stem, the source's sequence length and input scaling."""
    s.add_argument("--out", required=True, metavar="STEM", help="writes STEM.json and STEM.npz")
    s.add_argument("--seq-len", type=int, default=784, metavar="T",
                   help="sequence length the source averages over (mean pooling becomes a sum; default 784)")
    s.add_argument("--input-scale", type=float, default=1.0 / 255.0, metavar="S",
                   help="the source's input is pixel*S + O (default 1/255, torchvision's ToTensor)")
    s.add_argument("--input-offset", type=float, default=0.0, metavar="O", help="see --input-scale (default 0)")


def _register_s5(sub) -> None:
    s = sub.add_parser("s5", help="the lindermanlab/S5 (JAX/flax) ClassificationModel, variables flattened to NPZ",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    s.add_argument("--params", required=True, metavar="FILE", help="NPZ of the flax variables flattened with '/'")
    _source_args(s)
    s.add_argument("--discretization", choices=("zoh", "bilinear"), default="zoh", help="the source's (default zoh)")
    s.add_argument("--activation", choices=("half_glu1", "half_glu2", "full_glu", "gelu"), default=None,
                   help="the source's activation_fn (default: full_glu when out1 is present, else half_glu1)")
    s.add_argument("--norm", choices=("pre", "post"), default="pre",
                   help="the source's prenorm True (pre, its default) or False (post)")
    s.add_argument("--no-conj-sym", action="store_true", help="the source ran with conj_sym False")
    s.add_argument("--clip-eigs", action="store_true", help="the source ran with clip_eigs True")
    s.add_argument("--step-rescale", type=float, default=1.0, metavar="R", help="the source's step_rescale (default 1)")
    s.add_argument("--bn-eps", type=float, default=1e-5, metavar="EPS", help="BatchNorm epsilon (default 1e-5)")
    s.add_argument("--eval", type=int, default=0, metavar="N",
                   help="also print the float accuracy on the first N sMNIST test digits")
    s.set_defaults(func=_s5)


def _s5(args) -> int:
    from ..api.importers import import_s5
    from ..errors import HwssmError
    from ..model.checkpoint import save_checkpoint
    from ..model.config import Discretization
    from ..model.importers import NormPlacement, S5Activation, S5Import

    if args.eval < 0:
        raise HwssmError(f"--eval must be >= 0, not {args.eval}")
    options = S5Import(seq_len=args.seq_len, input_scale=args.input_scale, input_offset=args.input_offset,
                       discretization=Discretization(args.discretization),
                       activation=None if args.activation is None else S5Activation(args.activation),
                       norm=NormPlacement(args.norm), conj_sym=not args.no_conj_sym, clip_eigs=args.clip_eigs,
                       step_rescale=args.step_rescale, bn_eps=args.bn_eps)
    source = Path(args.params)
    ckpt = import_s5(source, options)
    config = ckpt.config
    path = save_checkpoint(args.out, config, ckpt.params, ckpt.meta)
    print(f"imported {source.name}: S5 H={config.H} P={config.P} L={config.L} classes={config.n_classes}, "
          f"{config.norm.value} norm, {config.glu.value} GLU, {config.n_params():,} parameters -> {path}")
    if args.eval:
        _eval(args.eval, lambda pixels: _s5_predict(ckpt, pixels))
    print(f"next: hwssm ptq --model {path} --plan uniform8 --out STEM")
    return 0


def _s5_predict(ckpt, pixels):
    from ..model.s5_network import S5Classifier

    return S5Classifier(ckpt.config, ckpt.params).predict(pixels)


def _eval(n: int, predict) -> None:
    from ..data.mnist import Split, load_mnist, sequences

    images, labels = load_mnist(Split.TEST)
    pixels, labels = sequences(images[:n]), labels[:n]
    print(f"float accuracy on {len(labels)} sMNIST test digits: {100.0 * (predict(pixels) == labels).mean():.2f}%")


def _s4d(args) -> int:
    from ..api.importers import import_s4d
    from ..errors import HwssmError
    from ..model.checkpoint import save_checkpoint
    from ..model.importers import NormPlacement, RealTransform, S4DImport

    if args.eval < 0:
        raise HwssmError(f"--eval must be >= 0, not {args.eval}")
    options = S4DImport(seq_len=args.seq_len, input_scale=args.input_scale, input_offset=args.input_offset,
                        real_transform=RealTransform(args.real_transform), norm=NormPlacement(args.norm))
    source = Path(args.state_dict)
    ckpt = import_s4d(source, options)
    config, params = ckpt.config, ckpt.params
    path = save_checkpoint(args.out, config, params, ckpt.meta)
    print(f"imported {source.name}: H={config.H} N={config.N} L={config.L} classes={config.n_classes}, "
          f"{config.n_params():,} parameters -> {path}")
    if args.eval:
        from ..data.mnist import Split, load_mnist, sequences
        from ..model.network import S4DClassifier

        images, labels = load_mnist(Split.TEST)
        pixels, labels = sequences(images[:args.eval]), labels[:args.eval]
        pred = S4DClassifier(config, params, T=pixels.shape[1]).predict(pixels)
        print(f"float accuracy on {len(labels)} sMNIST test digits: {100.0 * (pred == labels).mean():.2f}%")
    print(f"next: hwssm ptq --model {path} --plan hetero --out STEM")
    return 0
