"""The composition root: one build per front end, and the only module that chooses the demo."""

from __future__ import annotations

import ast
from pathlib import Path

from papishares.app.build import App, build
from papishares.broker.trading212 import Trading212Client
from papishares.config import load_settings
from papishares.demo.broker import DemoBroker
from papishares.market.cache import CachedMarketData
from papishares.market.none import NoMarketData
from tests.conftest import t212_settings_for
from tests.fakes.t212_server import FakeTrading212

PACKAGE = Path(__file__).resolve().parents[2] / "papishares"


def test_build_service_on_demo_records_state(tmp_path: Path) -> None:
    settings = load_settings({"DB_PATH": str(tmp_path / "d.db")}, dotenv_path=None)
    service = build(settings).service
    snap = service.snapshot()
    states = service.store.position_states()
    assert set(states) == {p.ticker for p in snap.positions}
    assert service.last_snapshot().positions == snap.positions


def test_one_store_broker_and_market_shared_by_the_service(tmp_path: Path) -> None:
    settings = load_settings({"DB_PATH": str(tmp_path / "d.db"), "PAPISHARES_MARKET_DATA": "none"},
                             dotenv_path=None)
    app = build(settings)
    assert isinstance(app, App)
    assert isinstance(app.broker, DemoBroker) and isinstance(app.market, NoMarketData)
    assert app.service.store is app.store and app.service.broker is app.broker and app.service.market is app.market
    assert app.broker.store is app.store


def test_keys_choose_trading212_and_the_cached_market(t212_server: FakeTrading212, tmp_path: Path) -> None:
    settings = t212_settings_for(t212_server, tmp_path / "db.sqlite", market_data="demo")
    app = build(settings)
    assert isinstance(app.broker, Trading212Client) and isinstance(app.market, CachedMarketData)
    assert app.service.snapshot().environment == "t212-demo"


def _imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return names


def test_no_domain_module_imports_the_demo() -> None:
    """Only the composition root (and the demo itself) may reach papishares.demo."""
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE)
        if rel.parts[0] == "demo" or rel == Path("app/build.py"):
            continue
        if any(m == "papishares.demo" or m.startswith("papishares.demo.") for m in _imported_modules(path)):
            offenders.append(str(rel))
    assert offenders == []
