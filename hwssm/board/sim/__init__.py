"""Board-level Verilator simulation: the whole board top (no PLL), a behavioural SPI flash
preloaded with the parameter image, and a UART host (cocotb, one await per bit).

- ``flash_model.v``: the flash (READ 0x03, release from deep power-down 0xAB, which it
  needs first: it starts powered down, as the iCE40 may leave it);
- ``sim_board.v``: the simulation top: clock, board top, flash;
- :mod:`.tb_board`: the cocotb host (sends a script of requests, records the answers);
- :mod:`.runner`: build (cached per Verilog text) and run;
- :mod:`.timing`: the cycles a request takes, from the core's cycle model and the UART.
"""
