"""The numba golden engine: the bit-exact reference implementation of a QModel."""
