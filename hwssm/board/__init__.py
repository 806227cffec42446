"""The model on a development board: the UART protocol codec, the board build, the host tool.

:mod:`hwssm.board.protocol` is the wire format (``PROTOCOL.md`` beside it documents it).
"""
