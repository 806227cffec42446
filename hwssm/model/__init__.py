"""Float S4D classifier (numpy) and checkpoint I/O: config, s4d kernel, network, checkpoint."""
