"""The simulation top ``sim_top``: SystemVerilog text wrapped around the core.

Everything per cycle happens in HDL, so Python never touches the clock:

- the clock is generated in HDL (Verilator ``--timing``). The default :data:`Clock.PULSE`
  makes one time slot per cycle: the rising edge at every 10 ns, and the falling edge as a
  non-blocking assignment in the same time slot, so the simulator's event loop (and
  cocotb's per-time-slot VPI work) runs once per cycle instead of twice.
  :data:`Clock.TOGGLE` is the older ``always #5 clk = ~clk`` (two time slots per cycle),
  kept as the benchmark baseline and used for waveforms (a trace samples once per time
  slot, so it would never see the pulse high);
- reset is held for :data:`RESET_CYCLES` cycles, then released;
- the pixels of all digits are loaded with ``$readmemh`` (one byte per line) and fed to
  ``in_*`` back to back; optional pseudo-random valid gaps on the input and ready
  stalls on the output exercise the handshakes (deterministic: xorshift32 seeded by a
  plusarg);
- with LOAD storage (:attr:`~hwssm.verify.contract.CoreContract.load`) the load image (file
  ``+hwssm_params=FILE``, ``$readmemh``) is offered on the load port from the first cycle of
  reset, one word per cycle while the core takes them (valid/ready), as the core's
  integration contract asks (all words after every reset, before any pixel); the pixel source
  runs meanwhile and the core keeps ``in_ready`` low until the image is in. ``load_cycles``
  (public) is the cycle after the last word's handshake: the load time, reported apart from
  the digits' cycles (which count from the first pixel handshake as for ROM cores);
- every ``logit`` value is written as fixed-width hex, one per line, with ``$fwrite``;
  the ``dbg`` values (L·H per step, the bulk of the output) are packed
  :data:`DBG_WORD_BITS` bits at a time, ``64 // act_width`` values per word from the
  LSB up, and each word is written as one line: two hex digits of value count, then
  the word in 16 hex digits (the last word of a run may be partial; unused bits are 0).
  On the 16-lane reference core this took 10.9k → 10.7k instructions per cycle
  (callgrind, standalone build) against one ``$fwrite`` per value. Per digit, the input
  timing (first/last pixel handshake, smallest and largest interval between pixel
  handshakes), the step timing (cycle of the first dbg
  value of the first and last step, smallest and largest interval between the first dbg
  values of consecutive steps; needs L·H from the manifest) and the output (class,
  handshake cycle, running dbg/logit counts) go to three small text files;
- ``done`` rises after the last class handshake plus a drain of ``hwssm_drain`` cycles
  (so stray late outputs are caught), or with ``timed_out`` when nothing moved for
  ``hwssm_stall_limit`` cycles, or with ``truncated`` after ``hwssm_max_cycles`` cycles
  when that plusarg is given (a partial run: profile training, benchmarks). A cocotb test awaits ``RisingEdge(done)``; runs without
  cocotb pass ``+hwssm_finish`` to end with ``$finish``.

Run-time knobs are plusargs (no rebuild): see :class:`~hwssm.verify.sim.RunFiles` and
:func:`plusargs`.

Cycle numbering: ``cyc`` counts rising edges after reset is released, from 0; an event
"at cycle c" is a handshake sampled at that edge.
"""

from __future__ import annotations

import dataclasses
import enum

from .contract import CoreContract

__all__ = ["WRAPPER_VERSION", "DBG_WORD_BITS", "RESET_CYCLES", "Clock", "Traffic", "wrapper_text", "load_plusargs"]

#: Bumped whenever the wrapper text changes meaning (part of the build key).
WRAPPER_VERSION = 4
#: Bits per packed dbg word (see the module docstring and :func:`hwssm.verify.outputs.parse_packed`).
DBG_WORD_BITS = 64


class Clock(enum.Enum):
    """How ``sim_top`` makes the clock (both: period 10 ns, identical cycle numbering)."""

    #: One time slot per cycle: ``#10 clk = 1`` then ``clk <= 0`` in the same slot.
    PULSE = "pulse"
    #: Two time slots per cycle: ``always #5 clk = ~clk``.
    TOGGLE = "toggle"


_CLOCK_TEXT = {
    Clock.PULSE: "always begin #10 clk = 1'b1; clk <= 1'b0; end",
    Clock.TOGGLE: "always #5 clk = ~clk;",
}
#: Cycles of reset at the start of a simulation.
RESET_CYCLES = 4


@dataclasses.dataclass(frozen=True)
class Traffic:
    """Deterministic handshake stress: each cycle, with probability ``in_gap``/256 the
    wrapper withholds the next pixel, and with probability ``out_stall``/256 it holds
    ``out_ready`` low. (0, 0) is the full-speed stream the cycle model describes."""

    in_gap: int = 0
    out_stall: int = 0
    seed: int = 1

    def __post_init__(self):
        for name in ("in_gap", "out_stall"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 255:
                raise ValueError(f"Traffic.{name} must be an integer in [0, 255], not {v!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or not 0 <= self.seed < 2**31:
            raise ValueError(f"Traffic.seed must be an integer in [0, 2^31), not {self.seed!r}")

    @property
    def full_speed(self) -> bool:
        return self.in_gap == 0 and self.out_stall == 0


_TEMPLATE = r"""// Generated by hwssm.verify.wrapper (version @VERSION@). Do not edit.
// Simulation top for @CORE@: clock, reset, stimulus from a memory file, outputs to text files.
`timescale 1ns/1ps
module sim_top;
  localparam integer ACT_W = @ACT_W@;
  localparam integer LOGIT_W = @LOGIT_W@;
  localparam integer CLASS_W = @CLASS_W@;
  localparam integer SEQ_LEN = @SEQ_LEN@;
  localparam integer MAX_PIX = @MAX_PIX@;
  localparam integer RESET_CYCLES = @RESET_CYCLES@;
  localparam integer DBG_PER_STEP = @DBG_PER_STEP@;  // L*H dbg values per step (0: unknown)
  localparam integer DBG_PACK = @DBG_WORD_BITS@ / ACT_W;  // dbg values per packed word

  // ---- status read by cocotb (the only signals visible through VPI) ----
  reg done /*verilator public_flat_rd*/ = 1'b0;
  reg timed_out /*verilator public_flat_rd*/ = 1'b0;
  reg [31:0] n_out /*verilator public_flat_rd*/ = 32'd0;
  reg [63:0] cyc /*verilator public_flat_rd*/ = 64'd0;
  reg truncated /*verilator public_flat_rd*/ = 1'b0;

  // ---- clock and reset ----
  reg clk = 1'b0;
  @CLOCK@
  reg rst = 1'b1;
  integer rst_count = 0;
  always @(posedge clk) begin
    if (rst_count < RESET_CYCLES) rst_count <= rst_count + 1;
    else rst <= 1'b0;
  end

  // ---- run parameters (plusargs) ----
  string pix_file, dbg_file, logit_file, in_file, out_file, step_file;
  integer n_digits, total_pix, in_gap, out_stall, stall_limit, drain, finish_at_done, max_cycles;
  reg [31:0] rnd = 32'd1;
  integer fd_dbg, fd_logit, fd_in, fd_out, fd_step;
  reg [@IN_HI@:0] pixels [0:MAX_PIX-1];@LOAD_DECL@

  initial begin
    integer seed;
    if (!$value$plusargs("hwssm_pixels=%s", pix_file)) $fatal(1, "sim_top: +hwssm_pixels=FILE is required");
    if (!$value$plusargs("hwssm_n_digits=%d", n_digits)) $fatal(1, "sim_top: +hwssm_n_digits=N is required");
    if (!$value$plusargs("hwssm_dbg=%s", dbg_file)) $fatal(1, "sim_top: +hwssm_dbg=FILE is required");
    if (!$value$plusargs("hwssm_logit=%s", logit_file)) $fatal(1, "sim_top: +hwssm_logit=FILE is required");
    if (!$value$plusargs("hwssm_in=%s", in_file)) $fatal(1, "sim_top: +hwssm_in=FILE is required");
    if (!$value$plusargs("hwssm_out=%s", out_file)) $fatal(1, "sim_top: +hwssm_out=FILE is required");
    if (!$value$plusargs("hwssm_step=%s", step_file)) $fatal(1, "sim_top: +hwssm_step=FILE is required");
    if (!$value$plusargs("hwssm_in_gap=%d", in_gap)) in_gap = 0;
    if (!$value$plusargs("hwssm_out_stall=%d", out_stall)) out_stall = 0;
    if (!$value$plusargs("hwssm_seed=%d", seed)) seed = 1;
    if (!$value$plusargs("hwssm_stall_limit=%d", stall_limit)) stall_limit = 1000000;
    if (!$value$plusargs("hwssm_drain=%d", drain)) drain = 64;
    if (!$value$plusargs("hwssm_max_cycles=%d", max_cycles)) max_cycles = 0;
    finish_at_done = $test$plusargs("hwssm_finish") ? 1 : 0;
    if (n_digits < 1 || n_digits * SEQ_LEN > MAX_PIX) $fatal(1, "sim_top: %0d digits do not fit the pixel memory", n_digits);
    total_pix = n_digits * SEQ_LEN;
    rnd = (seed == 0) ? 32'd1 : seed;
    $readmemh(pix_file, pixels, 0, total_pix - 1);@LOAD_INIT@
    fd_dbg = $fopen(dbg_file, "w");
    fd_logit = $fopen(logit_file, "w");
    fd_in = $fopen(in_file, "w");
    fd_out = $fopen(out_file, "w");
    fd_step = $fopen(step_file, "w");
    if (fd_dbg == 0 || fd_logit == 0 || fd_in == 0 || fd_out == 0 || fd_step == 0) $fatal(1, "sim_top: cannot open the output files");
  end

  // xorshift32: one step per cycle
  function automatic [31:0] xorshift32(input [31:0] x);
    reg [31:0] y;
    begin
      y = x ^ (x << 13);
      y = y ^ (y >> 17);
      xorshift32 = y ^ (y << 5);
    end
  endfunction
  always @(posedge clk) rnd <= xorshift32(rnd);

  // ---- the core ----
  wire in_ready, out_valid, dbg_valid, logit_valid;
  wire [CLASS_W-1:0] out_class;
  wire [ACT_W-1:0] dbg_data;
  wire [LOGIT_W-1:0] logit_data;
  reg in_valid = 1'b0;
  reg out_ready = 1'b0;
  integer pix_idx = 0;
  wire [@IN_HI@:0] in_data = (pix_idx < total_pix) ? pixels[pix_idx] : @IN_W@'d0;
  wire in_fire = in_valid & in_ready;
  wire out_fire = out_valid & out_ready;@LOAD_PORT@

  @CORE@ dut (
@CONNECTIONS@
  );

  // ---- stimulus ----
  always @(posedge clk) begin
    if (rst) begin
      in_valid <= 1'b0;
      out_ready <= 1'b0;
      pix_idx <= 0;
    end else begin
      if (in_fire) pix_idx <= pix_idx + 1;
      if (!in_valid || in_fire)
        in_valid <= (pix_idx + (in_fire ? 1 : 0) < total_pix) && !({24'd0, rnd[7:0]} < in_gap);
      out_ready <= !({24'd0, rnd[15:8]} < out_stall);
    end
  end

  // ---- monitor: every output to a file, per-digit timing ----
  integer n_dbg = 0, n_logit = 0, pix_in_digit = 0, idle = 0, drained = 0, dbg_in_step = 0, step_in_digit = 0;
  reg [63:0] t_first = 64'd0, t_prev = 64'd0, gap_min = 64'd0, gap_max = 64'd0;
  reg [63:0] s_first = 64'd0, s_prev = 64'd0, s_min = 64'd0, s_max = 64'd0;
  reg [@DBG_WORD_BITS@-1:0] dbg_word = 0;  // packed dbg values, first at the LSB
  reg [7:0] dbg_fill = 8'd0;     // values in dbg_word
  always @(posedge clk) begin
    if (!rst && !done) begin
      if (dbg_valid) begin
        dbg_word[dbg_fill * ACT_W +: ACT_W] = dbg_data;
        dbg_fill = dbg_fill + 8'd1;
        if (dbg_fill == DBG_PACK) begin
          $fwrite(fd_dbg, "%h%h\n", dbg_fill, dbg_word);
          dbg_word = 0;
          dbg_fill = 8'd0;
        end
        n_dbg = n_dbg + 1;
        // step timing: the cycle of the first dbg value of every step
        if (DBG_PER_STEP > 0) begin
          if (dbg_in_step == 0) begin
            if (step_in_digit == 0) begin
              s_first = cyc;
              s_min = 64'hFFFFFFFFFFFFFFFF;
              s_max = 64'd0;
            end else begin
              if (cyc - s_prev < s_min) s_min = cyc - s_prev;
              if (cyc - s_prev > s_max) s_max = cyc - s_prev;
            end
            s_prev = cyc;
          end
          dbg_in_step = dbg_in_step + 1;
          if (dbg_in_step == DBG_PER_STEP) begin
            dbg_in_step = 0;
            step_in_digit = step_in_digit + 1;
            if (step_in_digit == SEQ_LEN) begin
              if (SEQ_LEN == 1) s_min = 64'd0;
              $fwrite(fd_step, "%0d %0d %0d %0d\n", s_first, s_prev, s_min, s_max);
              step_in_digit = 0;
            end
          end
        end
      end
      if (logit_valid) begin
        $fwrite(fd_logit, "%h\n", logit_data);
        n_logit = n_logit + 1;
      end
      if (in_fire) begin
        if (pix_in_digit == 0) begin
          t_first = cyc;
          gap_min = 64'hFFFFFFFFFFFFFFFF;
          gap_max = 64'd0;
        end else begin
          if (cyc - t_prev < gap_min) gap_min = cyc - t_prev;
          if (cyc - t_prev > gap_max) gap_max = cyc - t_prev;
        end
        t_prev = cyc;
        pix_in_digit = pix_in_digit + 1;
        if (pix_in_digit == SEQ_LEN) begin
          if (SEQ_LEN == 1) gap_min = 64'd0;
          $fwrite(fd_in, "%0d %0d %0d %0d\n", t_first, cyc, gap_min, gap_max);
          pix_in_digit = 0;
        end
      end
      if (out_fire) begin
        $fwrite(fd_out, "%0d %0d %0d %0d\n", out_class, cyc, n_dbg, n_logit);
        n_out <= n_out + 1;
      end
      if (in_fire || out_fire || dbg_valid || logit_valid@LOAD_ACTIVE@) idle = 0;
      else idle = idle + 1;
      if (n_out == n_digits && drained < drain) drained = drained + 1;
      if ((n_out == n_digits && drained >= drain) || idle > stall_limit || (max_cycles > 0 && cyc + 1 >= max_cycles)) begin
        if (max_cycles > 0 && cyc + 1 >= max_cycles) truncated <= 1'b1;
        if (idle > stall_limit) begin
          timed_out <= 1'b1;
          $display("sim_top: no progress for %0d cycles at cycle %0d (%0d of %0d classes out)", idle, cyc, n_out, n_digits);
        end
        if (dbg_fill != 8'd0) $fwrite(fd_dbg, "%h%h\n", dbg_fill, dbg_word);
        $fclose(fd_dbg);
        $fclose(fd_logit);
        $fclose(fd_in);
        $fclose(fd_out);
        $fclose(fd_step);
        done <= 1'b1;
      end
      cyc <= cyc + 64'd1;
    end
  end

  always @(posedge clk) if (done && finish_at_done != 0) $finish;
endmodule
"""


def _connections(contract: CoreContract) -> str:
    names = ["clk", "rst", "in_valid", "in_ready", "in_data", "out_valid", "out_ready", "out_class",
             "dbg_valid", "dbg_data", "logit_valid", "logit_data"]
    lines = [f"    .{n}({n})" for n in names]
    ld = contract.load
    if ld is not None:
        lines += [f"    .{ld.valid}(ld_valid)", f"    .{ld.ready}(ld_ready)", f"    .{ld.data}(ld_data)"]
    lines += [f"    .{n}({w}'d0)" for n, w in contract.extra_inputs]
    return ",\n".join(lines)


def load_plusargs(contract: CoreContract) -> list[str]:
    """The plusargs every run of ``contract``'s ``sim_top`` needs besides the stimulus: the load
    image ``+hwssm_params=FILE`` of a LOAD-storage core (none for a ROM core)."""
    return [f"+hwssm_params={contract.load.image}"] if contract.load is not None else []


def _load_subs(contract: CoreContract) -> dict[str, str]:
    """The load-port pieces of the template (all empty for a ROM core: its text is unchanged)."""
    ld = contract.load
    if ld is None:
        return {"LOAD_DECL": "", "LOAD_INIT": "", "LOAD_PORT": "", "LOAD_ACTIVE": ""}
    w, n = ld.width, ld.words
    decl = f"""
  // ---- load image (LOAD storage): {n} words of {w} bits, streamed after reset ----
  localparam integer LOAD_WORDS = {n};
  string load_file;
  reg [{w - 1}:0] load_image [0:LOAD_WORDS-1];
  reg [63:0] load_cycles /*verilator public_flat_rd*/ = 64'd0;  // cycles until the last word went in
  reg loaded /*verilator public_flat_rd*/ = 1'b0;"""
    init = """
    if (!$value$plusargs("hwssm_params=%s", load_file)) $fatal(1, "sim_top: +hwssm_params=FILE (the load image) is required");
    $readmemh(load_file, load_image);"""
    port = f"""
  integer load_idx = 0;
  wire ld_ready;
  wire ld_valid = (load_idx < LOAD_WORDS);
  wire [{w - 1}:0] ld_data = (load_idx < LOAD_WORDS) ? load_image[load_idx] : {w}'d0;
  wire ld_fire = ld_valid & ld_ready;
  always @(posedge clk) begin
    if (rst) load_idx <= 0;
    else if (ld_fire) begin
      load_idx <= load_idx + 1;
      if (load_idx + 1 == LOAD_WORDS) begin
        load_cycles <= cyc + 64'd1;
        loaded <= 1'b1;
      end
    end
  end"""
    return {"LOAD_DECL": decl, "LOAD_INIT": init, "LOAD_PORT": port, "LOAD_ACTIVE": " || ld_fire"}


def wrapper_text(contract: CoreContract, max_pixels: int, clock: Clock = Clock.PULSE) -> str:
    """The ``sim_top`` SystemVerilog source for ``contract``'s core, with a pixel memory of
    ``max_pixels`` bytes (the most pixels one simulation run can feed) and ``clock``."""
    clock = Clock(clock)
    if max_pixels < contract.seq_len:
        raise ValueError(f"max_pixels {max_pixels} is less than one digit ({contract.seq_len} pixels)")
    subs = {
        "VERSION": WRAPPER_VERSION,
        "CORE": contract.top,
        "ACT_W": contract.act_width,
        "LOGIT_W": contract.logit_width,
        "CLASS_W": contract.class_width,
        "SEQ_LEN": contract.seq_len,
        "MAX_PIX": max_pixels,
        "IN_HI": contract.in_width - 1,
        "IN_W": contract.in_width,
        "RESET_CYCLES": RESET_CYCLES,
        "DBG_PER_STEP": contract.dbg_per_step or 0,
        "DBG_WORD_BITS": DBG_WORD_BITS,
        "CONNECTIONS": _connections(contract),
        "CLOCK": _CLOCK_TEXT[clock],
        **_load_subs(contract),
    }
    text = _TEMPLATE
    for k, v in subs.items():
        text = text.replace(f"@{k}@", str(v))
    return text
