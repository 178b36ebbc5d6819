"""The offline world: the simulated broker, its market data and its past year."""
