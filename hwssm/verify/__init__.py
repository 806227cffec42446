"""Proof that the generated RTL equals the golden engine: cocotb + Verilator on real digits.

- :mod:`.contract`: the core's port contract, read from an RTL directory's manifest.
- :mod:`.wrapper`: ``sim_top``, the SystemVerilog around the core (clock, reset, stimulus
  from a memory file, every output to text files, cycle counting, a stall watchdog).
- :mod:`.build`: the Verilator build through cocotb's runner, cached by a hash of the
  Verilog, the wrapper and the options; :mod:`.cxx` is its compiler launcher (object cache).
- :mod:`.stimulus`: pixel files and the expected stream from the golden engine (the S5
  golden engine for an S5 model: the same residual-stream trace, logits and classes).
- :mod:`.outputs`: parsing what the simulation wrote.
- :mod:`.check`: the exact comparison and the first mismatch (digit, step, layer, channel).
- :mod:`.runner`: digits split into batches, one simulation process each, J at once.
- :mod:`.rtlgen`: the generated RTL of a model, cached by model digest, lanes, T, generator.
- :mod:`.bench`: ``hwssm bench sim``, the simulation speed against the previous build recipe.

- :mod:`.testbench`: ``hwssm rtl testbench``, a standalone plain-Verilog testbench of a core
  (stimulus and expected outputs as ``.hex`` files) that any simulator runs (PASS/FAIL).

- :mod:`.simulate`: :func:`~hwssm.verify.simulate.simulate`, all of the above as one call
  (what ``hwssm sim`` and ``hwssm flow`` run).

The cocotb testbench itself is ``hwssm/verify/tb/tb_core.py`` (:data:`hwssm.verify.build.TB_DIR`).
Importing this package is light; the submodules import numpy, cocotb or amaranth as needed.
"""
