"""The Amaranth units of the core, one Component per module; every file of this folder is
generator code (:func:`hwssm.hw.emit.generator_sources` hashes all of it).

- :mod:`.lane` (one complex-MAC lane), :mod:`.tree` (cross-lane adder tree),
  :mod:`.datapath` (P lanes + memories + row finish + GELU), :mod:`.sequencer`,
  :mod:`.encoder`, :mod:`.glu` (GLU, residual, pool), :mod:`.decoder` (decoder, argmax),
  :mod:`.loader` (writes the load image of LOAD storage into the lanes),
  :mod:`.core` (the whole core; ``HwssmCore`` has the flat ``hwssm_core`` ports).
- :mod:`.ops` (shared arithmetic: requantization, shifts, LUT-adder multiplies, delays),
  :mod:`.act_width` (per-layer activation widths: a code fitted to its block's own width) and
  :mod:`.interfaces` (issue signature, ROMs, address widths).
- :mod:`.replicate`: the Verilog text rewrite that spells repeated concatenation items as
  replications; :mod:`.portable`: the rewrites that make the Verilog run the same on every
  simulator (a race-free time-0 event for Yosys' ``always @*`` blocks, lint waivers).
- :mod:`.framer` (the optional ``in_last`` check and resynchronisation), :mod:`.integration`
  (:class:`~.integration.CoreInterface`: module prefix, ``last``), :mod:`.contract` (the
  integration contract: manifest ``integration`` object and the Verilog header comment).

Each unit is built from a :class:`~hwssm.hw.core_config.CoreConfig` (:func:`hwssm.hw.derive.derive`).
Importing this package imports Amaranth.
"""
