"""`papishares doctor`: read-only checks of an account and its set-up."""
