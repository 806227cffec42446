"""Where the core keeps its large parameter memories: ROMs, or RAMs filled through a load port.

:class:`ParamStorage` is the generation option; :class:`LoadLayout` describes the load image
of :attr:`ParamStorage.LOAD` (the exact 16-bit words, in order) and how a lane unpacks a
coefficient word. Pure Python (no Amaranth): :mod:`hwssm.hw.derive` builds the layout, the
datapath and the loader read it, :mod:`hwssm.hw.emit` writes the image next to the Verilog.

LOAD memory map, per lane p (SPRAM-mappable: single port, 16 bits wide, no init)
-------------------------------------------------------------------------------
- ``coef{p}_s{s}``, s = 0..S-1: bits ``[16s, 16s+16)`` of the lane's coefficient word, one
  word per issue slot (the ROM mode's ``coef{p}`` address order). An S4D slot's word packs
  ``Ār | Āi | B̄r | B̄i | C̄r | C̄i`` (C̄ travels with Ā and B̄ and is delayed to the readout
  stage, so there is no separate C̄ memory); a mixing slot's word packs the weights of its
  ``Pipeline.mix_cols`` columns ``W0 | W1 | ...`` in coefficient-field order
  (:func:`hwssm.hw.options.mix_field`).
  Fields are effective integers (code - zero), two's complement, LSB first.
  An S5 core (:mod:`hwssm.hw.derive_s5`) has three kinds of word, per block in issue order:
  its B̄u passes' and GLU passes' real-mode words (``W0 | W1 | ...``: rows of B̄ or W), its
  updates' ``Lr | Li`` (Λ̄ of mode c·P+p) and, where the ROM design reads one identity word and
  a C̄ ROM, one word per readout slot (h, c): ``Cr | Ci``, the row-aligned C̃' of mode c·P+p
  (the lane then takes Λ̄ = 1 and B̄u = 0 as constants). Its state RAM is small (L·Cs words a
  lane) and stays the ROM design's two-port RAM; its small tables (D, δ, biases, shifts, GELU,
  sigmoid) stay ROMs, as S4D's D and biases do.
- ``x{p}_b0``, ``x{p}_b1`` (S4D): the state ``{xr, xi}``, ping-ponged by step parity: step t reads
  bank ``t mod 2`` and writes the other, so each bank is read or written, never both, in a
  cycle (the cycle model's ``P_min`` keeps the tail of step t's writes before the head of
  step t+1's reads).

Load image
----------
Segments in the order lane p = 0..P-1, slice s = 0..S-1; each segment is ``depth`` words,
address 0 first. Word ``16s..16s+15`` bits of the lane's coefficient word at that address
(a slice narrower than 16 bits leaves the upper bits 0). ``P · S · depth`` words in all.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .options import ParamStorage

__all__ = ["ParamStorage", "LoadLayout", "WordKind", "LOAD_WORD_BITS", "S4D_FIELDS", "S5_UPDATE_FIELDS",
           "S5_READOUT_FIELDS", "MIX_FIELDS", "bank_depth"]

#: Width of one load word and of one SPRAM-friendly memory slice (iCE40 SB_SPRAM256KA: 16K × 16).
LOAD_WORD_BITS = 16


def bank_depth(width: int, bank_words: int) -> int:
    """Words per bank of a ``width``-bit ROM or state RAM split by ``Pipeline.bank_words`` (0: not
    split): ``bank_words``, or half of it where blocks of 9 and 18 bits (18-kbit block RAM:
    2048 × 9, 1024 × 18) cost the same for this width, so that the mapper, which then splits the
    depth, finds a bank of one block depth either way. The datapath and the estimator both use it."""
    if not bank_words:
        return 0
    return bank_words // 2 if -(-width // 9) >= 2 * -(-width // 18) else bank_words
#: Field order of an S4D slot's coefficient word (LSB first).
S4D_FIELDS = ("Ar", "Ai", "Br", "Bi", "Cr", "Ci")
#: Field names of a mixing slot's coefficient word (LSB first; the first ``mix_cols``).
MIX_FIELDS = ("W0", "W1", "W2", "W3", "W4", "W5", "W6", "W7")
#: Field order of an S5 update slot's word (Λ̄) and of a readout slot's word (C̃ aligned to its row).
S5_UPDATE_FIELDS = ("Lr", "Li")
S5_READOUT_FIELDS = ("Cr", "Ci")


def _pack(values, fields) -> int:
    word = 0
    for v, (pos, w) in zip(values, fields):
        word |= (int(v) & ((1 << w) - 1)) << pos
    return word


def _fields(widths) -> tuple:
    out, pos = [], 0
    for w in widths:
        out.append((pos, int(w)))
        pos += int(w)
    return tuple(out)


@dataclasses.dataclass(frozen=True)
class WordKind:
    """One kind of coefficient word: the fields it packs, LSB first, from bit 0.

    Attributes
    ----------
    key : str
        Its name in the manifest (``<key>_fields``): ``s4d`` and ``mix`` (S4D), ``update``,
        ``readout`` and ``mix`` (S5).
    names : tuple[str, ...]
        The fields' names.
    fields : tuple[(int, int), ...]
        ``(bit position, width)`` of each field.
    """

    key: str
    names: tuple
    fields: tuple


@dataclasses.dataclass(frozen=True, eq=False)
class LoadLayout:
    """The coefficient words of :attr:`ParamStorage.LOAD` and their load image.

    Attributes
    ----------
    kinds : tuple[WordKind, ...]
        The kinds of word in the coefficient memory (each packed from bit 0, so they overlap).
    coef_width : int
        Bits of a coefficient word (the widest packing).
    slices : tuple[int, ...]
        Widths of the 16-bit memory slices of a coefficient word (all 16 but maybe the last).
    depth : int
        Words per slice (S4D: the issue slots of a step, ``L·(H·Cs + 2·KP·Q)``; S5:
        :meth:`~hwssm.hw.core_config.S5Layout.coef_words` with LOAD).
    words : tuple[tuple[int, ...], ...]
        Per lane, the coefficient words in address order.
    """

    kinds: tuple
    coef_width: int
    slices: tuple
    depth: int
    words: tuple

    @classmethod
    def of(cls, kinds, lanes) -> "LoadLayout":
        """From the word kinds, ``(key, names, widths)`` each, and, per lane, a dict mapping each
        address (0 .. depth-1, all present) to ``(kind index, field values)`` (effective integers)."""
        kinds = tuple(WordKind(key, tuple(names), _fields(widths)) for key, names, widths in kinds)
        width = max(sum(w for _, w in k.fields) for k in kinds)
        n = -(-width // LOAD_WORD_BITS)
        slices = tuple(min(LOAD_WORD_BITS, width - LOAD_WORD_BITS * s) for s in range(n))
        depth = len(lanes[0])
        words = []
        for lane in lanes:
            packed = [0] * depth
            for a, (kind, vals) in lane.items():
                packed[a] = _pack(vals, kinds[kind].fields)
            words.append(tuple(packed))
        return cls(kinds, width, slices, depth, tuple(words))

    @classmethod
    def build(cls, s4d_widths, mix_widths, s4d_words, mix_words) -> "LoadLayout":
        """An S4D core's layout, from field widths and, per lane, the slots' field values in address order.

        ``s4d_words[p]`` / ``mix_words[p]`` map an address to its 6 / ``mix_cols`` effective integers
        (dicts, so that the two slot kinds interleave in issue order).
        """
        lanes = [{**{a: (0, v) for a, v in s4d.items()}, **{a: (1, v) for a, v in mix.items()}}
                 for s4d, mix in zip(s4d_words, mix_words)]
        return cls.of((("s4d", S4D_FIELDS, s4d_widths), ("mix", MIX_FIELDS[:len(mix_widths)], mix_widths)), lanes)

    def fields(self, key: str) -> tuple:
        """``(bit position, width)`` of the fields of the word kind ``key``."""
        return next(k.fields for k in self.kinds if k.key == key)

    @property
    def s4d_fields(self) -> tuple:
        """``(bit position, width)`` of Ār, Āi, B̄r, B̄i, C̄r, C̄i in an S4D slot's word."""
        return self.fields("s4d")

    @property
    def mix_fields(self) -> tuple:
        """``(bit position, width)`` of the weight fields (``mix_cols`` of them) in a real-mode slot's word."""
        return self.fields("mix")

    @property
    def lanes(self) -> int:
        return len(self.words)

    @property
    def segments(self) -> list[tuple[int, int]]:
        """``(lane, slice)`` of each image segment, in image order."""
        return [(p, s) for p in range(self.lanes) for s in range(len(self.slices))]

    def segment(self, lane: int, slice_: int) -> int:
        """Index of the segment of ``(lane, slice_)``."""
        return lane * len(self.slices) + slice_

    @property
    def image_words(self) -> int:
        """Words in the load image: ``P · S · depth``."""
        return self.lanes * len(self.slices) * self.depth

    def slice_words(self, lane: int, slice_: int) -> list[int]:
        """Contents of memory ``coef{lane}_s{slice_}`` (address order)."""
        sh, mask = LOAD_WORD_BITS * slice_, (1 << self.slices[slice_]) - 1
        return [(w >> sh) & mask for w in self.words[lane]]

    def image(self) -> np.ndarray:
        """The load image: uint16 words in load order (see the module docstring)."""
        out = np.empty(self.image_words, dtype=np.uint16)
        k = 0
        for p, s in self.segments:
            out[k:k + self.depth] = self.slice_words(p, s)
            k += self.depth
        return out

    def describe(self) -> dict:
        """JSON-able description of the image (for the manifest)."""
        return {
            "word_width": LOAD_WORD_BITS,
            "words": self.image_words,
            "coef_width": self.coef_width,
            **{f"{k.key}_fields": {n: {"pos": p, "width": w} for n, (p, w) in zip(k.names, k.fields)}
               for k in self.kinds},
            "segments": [{"lane": p, "slice": s, "bits": [LOAD_WORD_BITS * s, LOAD_WORD_BITS * s + self.slices[s]],
                          "offset": self.segment(p, s) * self.depth, "depth": self.depth}
                         for p, s in self.segments],
        }
