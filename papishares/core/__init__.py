"""Pure rules and shapes: models, units, data quality, indicators, risk, money. No clock, no I/O."""
