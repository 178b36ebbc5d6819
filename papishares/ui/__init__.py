"""Streamlit helpers for the dashboard: cached service access, sidebar, banners, tables, figures.

Pages (`Home.py`, `pages/*.py`) import only from here; nothing in this package talks to the broker
except through `papishares.snapshot.service.Service`, and only `data.py` caches.
"""
