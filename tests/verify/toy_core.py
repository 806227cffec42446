"""A tiny hand-written core that follows the simulation port contract, with a Python model.

ONLY for testing the verification infrastructure (wrapper, runner, checker); the real
tests verify the generated core against the golden engine.

Behaviour per digit: each pixel p is accepted in one cycle (state IDLE), then L·H dbg
values ``wrap(p + 3·j + t)`` (j = l·H + h) come out on L·H consecutive cycles. After the
last step, the K logits ``wrap(S ^ 37·k)`` (S = sum of the digit's pixels) come out on K
cycles, then the class (first argmax) waits for out_ready; the next digit's first pixel
can be taken in the cycle of the class handshake. So a step is L·H + 1 cycles, and at full
speed the class of a digit whose first pixel is taken at cycle a is handed over at cycle
``a + T·(L·H + 1) + K``, the cycle the next digit starts (the digit period).

Bugs to inject at run time (to see the checker catch them), as plusargs (digits count
from 0 within one simulation run): ``+toy_flip_digit=D +toy_flip_index=I`` adds 1 to the
I-th dbg value of digit D; ``+toy_drop_digit=D +toy_drop_index=I`` suppresses it;
``+toy_hang=D`` never presents digit D's class.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from hwssm.hw.manifest import file_digests

from hwssm.hw.manifest import file_digests

from hwssm.verify.stimulus import Expected

_V = r"""
module @TOP@ (
  input clk, input rst,
  input in_valid, output in_ready, input [7:0] in_data,
  output out_valid, input out_ready, output [3:0] out_class,
  output dbg_valid, output signed [@AW@-1:0] dbg_data,
  output logit_valid, output signed [@LW@-1:0] logit_data,
  input [3:0] spare_in
);
  localparam integer L = @L@, H = @H@, T = @T@, K = @K@;
  localparam [1:0] IDLE = 2'd0, EMIT = 2'd1, LOGITS = 2'd2, OUT = 2'd3;
  integer flip_d = -1, flip_i = -1, drop_d = -1, drop_i = -1, hang = -1;
  initial begin
    if (!$value$plusargs("toy_flip_digit=%d", flip_d)) flip_d = -1;
    if (!$value$plusargs("toy_flip_index=%d", flip_i)) flip_i = -1;
    if (!$value$plusargs("toy_drop_digit=%d", drop_d)) drop_d = -1;
    if (!$value$plusargs("toy_drop_index=%d", drop_i)) drop_i = -1;
    if (!$value$plusargs("toy_hang=%d", hang)) hang = -1;
  end
  reg [1:0] state;
  reg [7:0] p;
  reg [31:0] j, t, k, digit;
  reg [31:0] s;
  reg signed [@LW@-1:0] best;
  reg [3:0] best_k;
  wire signed [@LW@-1:0] logit_now = s ^ (37 * k);
  assign in_ready = state == IDLE || (out_valid && out_ready);
  wire [31:0] pos = t * L * H + j;
  assign dbg_valid = state == EMIT && !($signed(digit) == drop_d && $signed(pos) == drop_i);
  assign dbg_data = p + 3 * j + t + (($signed(digit) == flip_d && $signed(pos) == flip_i) ? 1 : 0);
  assign logit_valid = state == LOGITS;
  assign logit_data = logit_now;
  assign out_valid = state == OUT && $signed(digit) != hang;
  assign out_class = best_k;
  always @(posedge clk) begin
    if (rst) begin
      state <= IDLE; t <= 0; j <= 0; k <= 0; s <= 0; digit <= 0; best_k <= 0; best <= 0;
    end else case (state)
      IDLE: if (in_valid) begin p <= in_data; s <= s + in_data; j <= 0; state <= EMIT; end
      EMIT: if (j == L * H - 1) begin
              j <= 0;
              if (t == T - 1) begin t <= 0; k <= 0; state <= LOGITS; end
              else begin t <= t + 1; state <= IDLE; end
            end else j <= j + 1;
      LOGITS: begin
              if (k == 0 || logit_now > best) begin best <= logit_now; best_k <= k[3:0]; end
              if (k == K - 1) state <= OUT;
              k <= k + 1;
            end
      OUT: if (out_valid && out_ready) begin
             digit <= digit + 1;
             if (in_valid) begin p <= in_data; s <= in_data; j <= 0; state <= EMIT; end
             else begin s <= 0; state <= IDLE; end
           end
    endcase
  end
endmodule
"""


def _wrap(v, w):
    v = np.asarray(v, dtype=np.int64) & ((1 << w) - 1)
    return np.where(v >= 1 << (w - 1), v - (1 << w), v)


def cycles_per_digit(L, H, T, K) -> int:
    return T * (L * H + 1) + K


def write_toy(path: Path, *, L=2, H=3, T=5, K=4, act_width=7, logit_width=13, top="toy_core") -> Path:
    """Write the toy core's Verilog and manifest into ``path``; returns ``path``."""
    path.mkdir(parents=True, exist_ok=True)
    subs = {"TOP": top, "AW": act_width, "LW": logit_width, "L": L, "H": H, "T": T, "K": K}
    text = _V
    for k, v in subs.items():
        text = text.replace(f"@{k}@", str(v))
    (path / f"{top}.v").write_text(text)
    ports = [("clk", "in", 1, "clk"), ("rst", "in", 1, "rst"), ("in_valid", "in", 1, "data"),
             ("in_ready", "out", 1, "data"), ("in_data", "in", 8, "data"), ("out_valid", "out", 1, "data"),
             ("out_ready", "in", 1, "data"), ("out_class", "out", 4, "data"), ("dbg_valid", "out", 1, "debug"),
             ("dbg_data", "out", act_width, "debug"), ("logit_valid", "out", 1, "debug"),
             ("logit_data", "out", logit_width, "debug"), ("spare_in", "in", 4, "data")]
    manifest = {"top": top, "ports": [dict(name=n, dir=d, width=w, role=r) for n, d, w, r in ports],
                "lanes": 1, "seq_len": T, "act_width": act_width, "logit_width": logit_width,
                "shape": {"L": L, "H": H, "n_classes": K, "M": 1},
                "cycles_per_step": L * H + 1, "cycles_per_digit": cycles_per_digit(L, H, T, K),
                "files": file_digests(path, [f"{top}.v"])}
    (path / "manifest.json").write_text(json.dumps(manifest))
    return path


def toy_reference(L=2, H=3, K=4, act_width=7, logit_width=13):
    """``pixels -> Expected`` of the bug-free toy core."""

    def ref(pixels) -> Expected:
        pix = np.asarray(pixels, dtype=np.int64)
        n, T = pix.shape
        j = np.arange(L * H)
        t = np.arange(T)
        dbg = _wrap(pix[:, :, None] + 3 * j[None, None, :] + t[None, :, None], act_width).reshape(n, -1)
        s = pix.sum(axis=1)
        logits = _wrap(s[:, None] ^ (37 * np.arange(K))[None, :], logit_width)
        return Expected(dbg, logits, np.argmax(logits, axis=1), T, L, H)

    return ref
