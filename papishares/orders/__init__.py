"""The exit path: the order journal, auto-sell, managed stops, manual sells, quantities."""
