"""Amaranth RTL of the quantized S4D and S5 classifiers: a parallel complex-MAC core.

- :mod:`.options`: the design point (:class:`~hwssm.hw.options.DesignPoint`: lanes, T,
  pipeline, parameter storage, soft multipliers); pure Python.
- :mod:`.derive`: everything derived from a QModel built as a design point (widths, shift
  tables, ROM contents), from the contract's lowering (:mod:`hwssm.quant.lowering`) plus the
  RTL's rewrites (:mod:`.row_constants`) and ROM packing (:mod:`.rom_table`), into a
  :class:`~hwssm.hw.core_config.CoreConfig` (:mod:`.core_config`); unsupported plans fail
  here with a one-line HwssmError. An S5 QModel dispatches to :mod:`.derive_s5` (the same
  lanes, four slot kinds per block: B̄u, state update, readout, GLU).
- :mod:`.rtl`: the Amaranth units (lane, tree, datapath, sequencer, encoder, GLU, decoder,
  loader, the whole core ``HwssmCore`` with the flat ``hwssm_core`` ports).
- :mod:`.storage`: the parameter storage option (ROM, or LOAD: SPRAM-mappable RAMs filled
  through a load port) and the load image.
- :mod:`.cycle_model`: cycles per step / digit and utilization (tested exact against RTL);
  :mod:`.cycle_s5` the S5 schedule.
- :mod:`.emit`: Verilog + manifest, and the generator version (a hash of exactly the code
  that determines the Verilog: :func:`~hwssm.hw.emit.generator_sources`).
- :mod:`.estimate`: the resource estimator; :mod:`.references`: the committed reference designs.

Amaranth is imported by the units of :mod:`.rtl` (and by :mod:`.emit`, which builds them);
``import hwssm.hw`` and :mod:`.options` stay light.
"""
