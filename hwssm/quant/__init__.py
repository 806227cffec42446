"""Quantization: precision plans, PTQ, and the QModel (the integer network contract)."""
