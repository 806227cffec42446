"""Cost section of the encoder (:mod:`hwssm.hw.encoder`) and the decoder with argmax
(:mod:`hwssm.hw.decoder`).
"""

from __future__ import annotations

from .blocks import Block, Kind, addr_width, merge_blocks, pipe_block, rom_block, rq_bits

__all__ = ["encoder_decoder_blocks"]


def encoder_decoder_blocks(c) -> list[Block]:
    """Encoder (:class:`hwssm.hw.encoder.Encoder`) and decoder with argmax (:class:`hwssm.hw.decoder.Decoder`)."""
    H, a, nc = c.H, c.a, c.n_classes
    s, q = c.pipe.mem_stages, c.pipe.requant_stages
    hb = addr_width(H)
    dt = c.dec_table
    B: list[Block] = []
    add = B.append
    if c.enc_rom is not None:   # token model: the embedding ROM and the delay to the linear encoder's timing
        add(rom_block("encoder embedding ROM", "weight", list(c.enc_rom), a))
        x = c.pipe.encdec_stages
        add(Block("encoder registers", "control", Kind.REG, hb + 10 + 2 * (hb + 2)))
        add(pipe_block("encoder pipeline registers", "control", a * (s + 2 + q + x) + (3 + s + q + x) * (hb + 2)))
    else:
        B += _linear_encoder_blocks(c)
    add(rom_block("decoder weight ROM", "weight", c.dec["W_words"], c.dec["W_width"]))
    add(Block("decoder multiplier", "weight", Kind.MUL, c.dec["W_width"], c.pool_width))
    add(Block("decoder accumulator", "weight", Kind.ADD, c.dec["acc_width"], 2))
    add(Block("decoder first mux", "weight", Kind.MUX, c.dec["acc_width"], 2))
    if dt.width:
        add(rom_block("decoder class ROM", "bias", dt.words(), dt.width))
    sh = dt.shifts.get("w")
    if sh is not None and sh.width:
        add(Block("decoder shift", "weight", Kind.SHIFT, c.dec["acc_width"], sh.width))
    add(Block("logit add", "bias", Kind.ADD, c.logit_width, 2))
    add(Block("argmax compare", "control", Kind.COMPARE, c.logit_width))
    add(Block("decoder registers", "control", Kind.REG, 2 * c.dec["acc_width"] + 2 * c.logit_width + hb + 4 + addr_width(nc * H) + 16))
    if s:
        add(pipe_block("decoder pipeline registers", "control", (c.dec["W_width"] + c.pool_width + dt.width + 7) * s))
    if c.pipe.encdec_stages:
        # the class-constant word one cycle longer, valid/class of the finish, and the registered
        # argmax comparison with its logit, valid and class
        add(pipe_block("decoder finish / argmax registers (encdec_stages)", "control",
                       dt.width + 5 + c.logit_width + 6))
    return B


def _linear_encoder_blocks(c) -> list[Block]:
    """The linear encoder's ROM, multiplier, adder, requantization and registers."""
    H, a = c.H, c.a
    s, q = c.pipe.mem_stages, c.pipe.requant_stages
    hb = addr_width(H)
    et = c.enc_table
    B: list[Block] = []
    add = B.append
    if et.width:
        add(rom_block("encoder ROM", "weight", et.words(), et.width))
    if c.C == 1:
        add(Block("encoder multiplier W·p", "weight", Kind.MUL, et.value_widths.get("W", 2), 9))
    else:   # C samples per step: C multipliers and their sum
        for ch in range(c.C):
            add(Block(f"encoder multiplier W{ch}·p{ch}", "weight", Kind.MUL, et.value_widths.get(f"W{ch}", 2), 9))
        add(Block("encoder product sum", "weight", Kind.ADD, c.enc["prod_width"], c.C))
    add(Block("encoder add", "bias", Kind.ADD, c.enc["fin_width"], 2))
    add(Block("encoder requant", "act", Kind.REQUANT, c.enc["fin_width"], a))
    for name, w in (("w", c.enc["prod_width"]), ("s", c.enc["fin_width"])):
        sh = et.shifts.get(name)
        if sh is not None and sh.width:
            add(Block(f"encoder shift {name}", "act", Kind.SHIFT, w, sh.width))
    add(Block("encoder registers", "control", Kind.REG,
              hb + 10 + 8 * (c.C - 1) + c.enc["prod_width"] + et.width + a + 3 * (hb + 2)))
    extra = et.width * s + (s + q) * (hb + 2)
    if extra:
        add(pipe_block("encoder pipeline registers", "control", extra))
    x = c.pipe.encdec_stages
    if x:
        # the finish register, the shift field s one cycle longer, write valid/address
        sw = et.shifts["s"].width if "s" in et.shifts else 0
        add(pipe_block("encoder finish register (encdec_stages)", "act", (c.enc["fin_width"] + sw + hb + 2) * x))
    sh = et.shifts.get("s")
    B.extend(merge_blocks("encoder requant", "act", sh.width if sh is not None else 0, c.enc.get("width", a), q))
    if q:
        add(pipe_block("encoder requant split register", "act", rq_bits(c.enc["fin_width"], c.enc["rounding"]) * q,
                  kind="requant"))
    return B
