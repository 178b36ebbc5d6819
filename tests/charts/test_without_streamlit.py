"""The worker draws /chart with the dashboard's figures: none of that may pull in Streamlit."""

from __future__ import annotations

import subprocess
import sys

PACKAGES = ("papishares.charts", "papishares.worker", "papishares.remote", "papishares.commands")

PROBE = """
import importlib, pkgutil, sys
loaded = []
for name in sys.argv[1:]:
    package = importlib.import_module(name)
    for info in pkgutil.iter_modules(package.__path__, name + "."):
        importlib.import_module(info.name)
        loaded.append(info.name)
print(len(loaded))
print("streamlit" in sys.modules)
"""


def test_figures_worker_and_telegram_import_without_streamlit() -> None:
    proc = subprocess.run([sys.executable, "-c", PROBE, *PACKAGES], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    count, streamlit_loaded = proc.stdout.split()
    assert int(count) >= 6  # charts' figures, entries, history, png; the worker loop; the bot; the handlers
    assert streamlit_loaded == "False"
