"""The model on a development board: board tops, the UART protocol, the board build, the host tool.

- :mod:`.protocol`: the wire format of ``BOARD_PROTOCOL`` (``PROTOCOL.md`` beside it documents it)
  and the flash parameter image;
- :mod:`.rtl`: the Amaranth units (UART receiver and transmitter, protocol engine, answer
  serializer, SPI-flash loader, PLL, the board top);
- :mod:`.pll`: PLL divider settings for a requested clock (iCE40 ``SB_PLL40``, ECP5 ``EHXPLLL``,
  Gowin ``rPLL``);
- :mod:`.top`: the builder functions (:func:`~hwssm.board.top.build_board_top`,
  :func:`~hwssm.board.top.write_board_verilog`);
- :mod:`.build`: ``hwssm board build`` (bitstream, flash image, pins, report, README);
- :mod:`.host`, :mod:`.serial`: ``hwssm board run`` (the host side over a serial port);
- :mod:`.sim`: the board-level Verilator simulation (SPI-flash model, UART host).

Board facts (pins, oscillator, flash offset) are data in :mod:`hwssm.targets.boards`.
"""
