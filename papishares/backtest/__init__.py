"""Backtests: the closed trades replayed under every stop mode, and the Turtle entries over a period."""
