"""The one Snapshot build: broker + market data + store + risk + indicators."""
