"""One module per ``hwssm`` subcommand (see :mod:`hwssm.cli`)."""
