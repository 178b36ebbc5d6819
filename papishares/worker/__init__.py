"""The sidecar worker: the loop, its lease, its schedule."""
