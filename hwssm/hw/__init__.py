"""Amaranth RTL of the quantized S4D classifier: a parallel complex-MAC core.

- :mod:`.config`: everything derived from a QModel (widths, shift tables, ROM contents);
  unsupported plans fail here with a one-line HwssmError.
- :mod:`.lane` (one complex-MAC lane), :mod:`.tree` (cross-lane adder tree),
  :mod:`.datapath` (P lanes + memories + row finish + GELU), :mod:`.sequencer`,
  :mod:`.encoder`, :mod:`.glu` (GLU, residual, pool), :mod:`.decoder` (decoder, argmax),
  :mod:`.core` (the whole core; ``HwssmCore`` has the flat ``hwssm_core`` ports).
- :mod:`.storage`: the parameter storage option (ROM, or LOAD: SPRAM-mappable RAMs filled
  through a load port) and the load image; :mod:`.loader` writes the image into the lanes.
- :mod:`.cycle_model`: cycles per step / digit and utilization (tested exact against RTL).
- :mod:`.emit`: Verilog + manifest.

Amaranth is imported by the component modules only; ``import hwssm.hw`` stays light.
"""
