"""Board tops: the generated core behind a UART request/answer protocol (``BOARD_PROTOCOL``),
its parameters streamed from SPI flash at power-up (LOAD storage), a PLL to the build clock.

- :mod:`.rtl`: the Amaranth units (UART receiver and transmitter, protocol engine, answer
  serializer, SPI-flash loader, PLL, the board top);
- :mod:`.pll`: PLL divider settings for a requested clock (iCE40 ``SB_PLL40``, ECP5 ``EHXPLLL``);
- :mod:`.top`: the builder functions (:func:`~hwssm.board.top.build_board_top`,
  :func:`~hwssm.board.top.write_board_verilog`, pin constraints);
- :mod:`.sim`: the board-level Verilator simulation (SPI-flash model, UART host).

Board facts (pins, oscillator, flash offset) are data in :mod:`hwssm.targets.boards`.
"""
