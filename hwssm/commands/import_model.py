"""``hwssm import``: bring a float model trained elsewhere into hwssm's checkpoint format.

``hwssm import s4d --state-dict FILE --out STEM [--seq-len T] [--input-scale S] [--input-offset O]
[--real-transform exp|none|softplus] [--norm pre|post] [--eval N]``
    Read the ``state-spaces/s4`` example S4D classifier (``torch.save(model.state_dict())`` as
    ``.pt``/``.pth``, read with ``weights_only=True``, or an NPZ whose array names are the state
    dict's keys) and write ``STEM.json`` + ``STEM.npz`` (:mod:`hwssm.model.importers.s4d_reference`
    says what folds and what is refused). With ``--eval N`` it prints the float accuracy on the
    first N sMNIST test digits. Then quantize as usual: ``hwssm ptq --model STEM ...``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "import a float model trained elsewhere (state-spaces/s4 S4D state dict) as an hwssm checkpoint"


def register(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="import_command", metavar="FAMILY")
    s = sub.add_parser("s4d", help="the state-spaces/s4 example S4D classifier (S4Model with S4D layers)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    s.add_argument("--state-dict", required=True, metavar="FILE", help="state dict: .pt/.pth (torch) or .npz")
    s.add_argument("--out", required=True, metavar="STEM", help="writes STEM.json and STEM.npz")
    s.add_argument("--seq-len", type=int, default=784, metavar="T",
                   help="sequence length the source averages over (mean pooling becomes a sum; default 784)")
    s.add_argument("--input-scale", type=float, default=1.0 / 255.0, metavar="S",
                   help="the source's input is pixel*S + O (default 1/255, torchvision's ToTensor)")
    s.add_argument("--input-offset", type=float, default=0.0, metavar="O", help="see --input-scale (default 0)")
    s.add_argument("--real-transform", choices=("exp", "none", "softplus"), default="exp",
                   help="how kernel.inv_A_real gives Re A, when the state dict has it (default exp)")
    s.add_argument("--norm", choices=("pre", "post"), default="post",
                   help="where the source applies norms.{l} (example.py: post unless --prenorm; default post)")
    s.add_argument("--eval", type=int, default=0, metavar="N",
                   help="also print the float accuracy on the first N sMNIST test digits")
    s.set_defaults(func=_s4d)

    def _usage(args) -> int:
        parser.print_help()
        return 2

    parser.set_defaults(func=_usage)


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
