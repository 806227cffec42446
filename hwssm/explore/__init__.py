"""Design-space exploration: sweeps over precision plans, lanes and devices."""
