"""hwssm: hardware/software co-design simulator for quantized S4D state-space models."""

__version__ = "0.1.0"
