"""Papishares: risk-based trailing stops, portfolio risk, signals and alerts for Trading 212."""

__version__ = "0.1.0"
