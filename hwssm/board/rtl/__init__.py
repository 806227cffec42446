"""Amaranth units of the board tops (one Component per module)."""
