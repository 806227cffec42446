"""Amaranth RTL of the S4D core: one wiring.Component per file."""
