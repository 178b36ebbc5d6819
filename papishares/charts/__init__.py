"""Plotly figures, importable without Streamlit (the worker draws /chart with them)."""
