"""ListOps (Long Range Arena), regenerated offline by the LRA generator's rules.

The rules (those of ``lra_benchmarks/data/listops.py`` in google-research/long-range-arena,
re-implemented here, not copied):

- an expression is a tree; a node at depth d < ``max_depth`` (the root has depth 1) is an
  operator with probability ``VALUE_P`` = 0.25, else a digit 0..9 (uniform); a node at depth
  ``max_depth`` is always a digit, so depth <= 10;
- an operator is MIN, MAX, MED (median, rounded down: ``int(np.median)``) or SM (sum modulo
  10), uniform, over 2..``max_args`` (10) arguments (uniform), each a subtree;
- written in prefix form: ``[MAX 2 9 [MIN 4 7 ] 0 ]``: the operator token (the opening
  bracket is part of it, as in LRA), its arguments, a closing ``]``. LRA's text also wraps
  every pair of the binary tree in parentheses, which its input pipeline deletes; they are
  never produced here. The length is the token count;
- only expressions of ``min_length < length < max_length`` tokens (500 < length < 2000) are
  kept, and each at most once (LRA draws into a set); the label is the expression's value
  (10 classes);
- LRA's split sizes: 96,000 train / 2,000 val / 2,000 test.

Tokens (uint8): 0 padding, 1..10 the digits 0..9, 11 ``[MIN``, 12 ``[MAX``, 13 ``[MED``,
14 ``[SM``, 15 ``]`` (vocabulary 16). Sequences are padded with 0 at the end to T =
``max_length`` steps.

A regenerated split is statistically, not literally, the released one: the same generator
rules, a different random stream (numpy's ``default_rng(seed)``, drawn in fixed blocks, so a
seed gives the same data on every machine and numpy version with the same PCG64 stream).

Generation runs in a numba kernel; the default sizes (100,000 expressions) took 25.8 s on one
core of the 2-core dev machine (27.6 s with the compressed NPZ written, 60 MB; reading it back
1.9 s) and are cached as an NPZ of
:mod:`hwssm.data.npz_format` (with its sidecar) under ``<cache>/datasets/``, so a seed is
generated once per machine.
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import numpy as np

from ..errors import HwssmError
from .dataset import SequenceDataset

__all__ = ["ListOpsSpec", "generate", "listops_dataset", "TOKENS", "VOCAB", "PAD", "DIGIT0", "OPS", "END",
           "to_text", "evaluate_tokens"]

#: Generator version: part of the identity and the cache file name (bump on any change of output).
GENERATOR = 1
#: Probability that a node above the depth limit is an operator (LRA ``VALUE_P``).
VALUE_P = 0.25
PAD = 0
DIGIT0 = 1
MIN, MAX, MED, SM = 11, 12, 13, 14
OPS = (MIN, MAX, MED, SM)
END = 15
VOCAB = 16
#: Token id -> text.
TOKENS = ("<pad>", *(str(d) for d in range(10)), "[MIN", "[MAX", "[MED", "[SM", "]")
CLASSES = 10
#: Uniform draws per block handed to the kernel.
_BLOCK = 1 << 22


@dataclasses.dataclass(frozen=True)
class ListOpsSpec:
    """Parameters of a generated ListOps dataset (defaults: LRA's)."""

    seed: int = 0
    n_train: int = 96_000
    n_val: int = 2_000
    n_test: int = 2_000
    max_depth: int = 10
    max_args: int = 10
    min_length: int = 500
    max_length: int = 2000

    def __post_init__(self):
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise HwssmError(f"ListOps {f.name} must be a non-negative integer, not {v!r}")
        if self.max_depth < 1 or self.max_args < 2 or self.n_train + self.n_val + self.n_test < 1:
            raise HwssmError("ListOps needs max_depth >= 1, max_args >= 2 and at least one sequence")
        if not 0 <= self.min_length < self.max_length - 1 or self.max_length > 1 << 16:
            raise HwssmError(f"ListOps lengths must satisfy min_length + 1 < max_length <= 65536, not "
                             f"{self.min_length}, {self.max_length}")

    @property
    def n(self) -> int:
        return self.n_train + self.n_val + self.n_test

    def identity(self) -> str:
        d = dataclasses.asdict(self)
        return "listops:" + ",".join(f"{k}={v}" for k, v in d.items()) + f",generator={GENERATOR}"


def _kernel():
    import numba

    from ..config import JIT_FLAGS

    flags = {k: JIT_FLAGS[k] for k in ("nopython", "cache")}

    @numba.jit(**flags)
    def gen(u, ops, max_depth, max_args, min_length, max_length, out, lengths, labels, start, stop):
        """Draw expressions from the uniforms ``u`` into rows ``start..stop`` of ``out`` (tokens),
        ``lengths`` and ``labels`` (the value, computed on the fly), until the rows are filled or
        ``u`` runs out (the expression in progress is then dropped). Returns the rows filled.

        Draws per node: an operator-or-digit draw (not at ``max_depth``), then the digit, or the
        argument count and the operator."""
        pos = 0
        row = start
        nu = u.shape[0]
        rem = np.zeros(max_depth + 2, np.int64)    # arguments still to draw, per open operator
        fop = np.zeros(max_depth + 2, np.int64)    # its operator token
        fstart = np.zeros(max_depth + 2, np.int64)  # where its arguments start on the value stack
        vals = np.zeros(max_length + 1, np.int64)
        buf = np.zeros(max_length, np.uint8)
        while row < stop:
            p = pos
            n = 0
            top = 0
            vtop = 0
            depth = 1
            while True:
                if p + 3 > nu:
                    return row
                r = 1.0
                if depth < max_depth:
                    r = u[p]
                    p += 1
                if r > VALUE_P:
                    d = min(int(u[p] * 10.0), 9)
                    p += 1
                    if n < max_length:
                        buf[n] = DIGIT0 + d
                    n += 1
                    vals[vtop] = d
                    vtop += 1
                else:
                    nargs = 2 + min(int(u[p] * (max_args - 1)), max_args - 2)
                    op = ops[min(int(u[p + 1] * 4.0), 3)]
                    p += 2
                    if n < max_length:
                        buf[n] = op
                    n += 1
                    top += 1
                    rem[top] = nargs
                    fop[top] = op
                    fstart[top] = vtop
                while top > 0 and rem[top] == 0:   # close finished operators, computing their value
                    if n < max_length:
                        buf[n] = END
                    n += 1
                    a = np.sort(vals[fstart[top]:vtop])
                    k = a.shape[0]
                    o = fop[top]
                    if o == MIN:
                        v = a[0]
                    elif o == MAX:
                        v = a[k - 1]
                    elif o == MED:
                        v = (a[(k - 1) // 2] + a[k // 2]) // 2
                    else:
                        v = a.sum() % 10
                    vtop = fstart[top]
                    vals[vtop] = v
                    vtop += 1
                    top -= 1
                if top == 0 or n >= max_length:
                    break
                rem[top] -= 1
                depth = top + 1
            pos = p
            if min_length < n < max_length:
                out[row, :n] = buf[:n]
                out[row, n:] = PAD
                lengths[row] = n
                labels[row] = vals[0]
                row += 1
        return row

    return gen


_GEN = None


def _gen():
    global _GEN
    if _GEN is None:
        _GEN = _kernel()
    return _GEN


def evaluate_tokens(tokens) -> int:
    """Value of one token sequence (padding ignored): MIN, MAX, MED (``int(median)``), SM (sum mod 10)."""
    stack: list[list] = []
    result = None
    for t in (int(v) for v in tokens):
        if t == PAD:
            continue
        if t in OPS:
            stack.append([t])
        elif t == END:
            op, *args = stack.pop()
            s = sorted(args)
            v = {MIN: s[0], MAX: s[-1], MED: (s[(len(s) - 1) // 2] + s[len(s) // 2]) // 2, SM: sum(s) % 10}[op]
            if stack:
                stack[-1].append(v)
            else:
                result = v
        else:
            v = t - DIGIT0
            if stack:
                stack[-1].append(v)
            else:
                result = v
    if result is None or stack:
        raise HwssmError("not a complete ListOps expression")
    return result


def to_text(tokens) -> str:
    """The expression as text (``[MAX 2 9 ]``), padding dropped."""
    return " ".join(TOKENS[int(t)] for t in tokens if int(t) != PAD)


def generate(spec: ListOpsSpec = ListOpsSpec()) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(tokens uint8 (n, max_length), labels int64 (n,), lengths int64 (n,)) of ``spec.n``
    distinct expressions in generation order (the splits take them in the order train, val, test)."""
    rng = np.random.default_rng(spec.seed)
    gen = _gen()
    ops = np.array(OPS, dtype=np.int64)
    out = np.zeros((spec.n, spec.max_length), np.uint8)
    lengths = np.zeros(spec.n, np.int64)
    labels = np.zeros(spec.n, np.int64)
    filled = 0
    seen: set[bytes] = set()
    while filled < spec.n:
        got = gen(rng.random(_BLOCK), ops, spec.max_depth, spec.max_args, spec.min_length, spec.max_length,
                  out, lengths, labels, filled, spec.n)
        keep = filled
        for i in range(filled, got):  # each expression once, as LRA's set
            key = out[i, :lengths[i]].tobytes()
            if key in seen:
                continue
            seen.add(key)
            if keep != i:
                out[keep], lengths[keep], labels[keep] = out[i], lengths[i], labels[i]
            keep += 1
        out[keep:got] = PAD
        filled = keep
    return out, labels, lengths


def listops_dataset(spec: ListOpsSpec = ListOpsSpec()) -> SequenceDataset:
    """The ListOps dataset of ``spec``. Its facts (K = 10, T = max_length, C = 1, tokens of a
    vocabulary of 16) are known at once; the sequences are generated on first use of a split,
    once per machine, into ``<cache>/datasets/`` (NPZ + sidecar of :mod:`hwssm.data.npz_format`)."""
    import functools

    from ..fixed import QFormat
    from .dataset import DataSplit, Encoding

    @functools.cache
    def stored() -> SequenceDataset:
        from .npz_format import load_npz

        return load_npz(cache_file(spec))

    def loader(split):
        return lambda: stored().split(split)

    return SequenceDataset(name=_name(spec), identity=spec.identity(), n_classes=CLASSES, T=spec.max_length, C=1,
                           input_format=QFormat(8, 0, False), loaders={d: loader(d) for d in DataSplit},
                           encoding=Encoding.TOKENS, vocab=VOCAB)


def cache_file(spec: ListOpsSpec = ListOpsSpec()) -> Path:
    """The NPZ of ``spec`` under ``<cache>/datasets/``, generated (:func:`generate`) when absent."""
    from ..config import cache_dir
    from .npz_format import save_npz

    tag = hashlib.sha256(spec.identity().encode()).hexdigest()[:16]
    path = cache_dir() / "datasets" / f"listops-s{spec.seed}-{tag}.npz"
    if path.is_file() and path.with_suffix(".json").is_file():
        return path
    a, b = spec.n_train, spec.n_train + spec.n_val
    if not (a and spec.n_val and spec.n_test):
        raise HwssmError("ListOps: give each split (train, val, test) at least one sequence")
    path.parent.mkdir(parents=True, exist_ok=True)
    tokens, labels, _ = generate(spec)
    splits = {"train": (tokens[:a], labels[:a]), "val": (tokens[a:b], labels[a:b]), "test": (tokens[b:], labels[b:])}
    save_npz(path, splits, {"format": "hwssm-sequence-data", "version": 1, "name": _name(spec),
                            "classes": CLASSES, "encoding": "tokens", "vocab": VOCAB})
    return path


def _name(spec: ListOpsSpec) -> str:
    return "listops" if spec == ListOpsSpec() else f"listops:{spec.seed}"
