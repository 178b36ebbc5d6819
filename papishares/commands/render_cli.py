"""The command results as the CLI prints them (INTERFACE.md): one word, a sentence or lines."""

from __future__ import annotations

from papishares.commands.autosell import AutoSellChanged, AutoSellState, RearmResult
from papishares.commands.brokerstops import BrokerStopsStatus, PositionSwitched


def autosell_word(result: AutoSellState | AutoSellChanged) -> str:
    """`autosell on|off|status`: the flag as one word."""
    return "on" if result.enabled else "off"


def rearm_line(result: RearmResult) -> str:
    """The sentence for stdout when re-armed, else for stderr."""
    if result.rearmed:
        return f"{result.ticker} re-armed for auto-sell"
    return f"nothing is held back from auto-sell for {result.ticker}"


def brokerstops_lines(s: BrokerStopsStatus) -> list[str]:
    """`brokerstops status`: the setting first (`on` / `off`), then what is managed, left out, refused."""
    lines = [("on" if s.on else "off") + (" (set on the dashboard)" if s.set_on_dashboard else "")]
    lines += [f"managed: {m.ticker} {m.quantity:g} at {m.stop_price:g} (order {m.order_id})" for m in s.managed]
    lines += [f"left out: {x.ticker} ({x.reason})" for x in s.left_out]
    if s.refused_for_account is not None:
        lines.append(f"refused for the account: {s.refused_for_account} (tried again in a day)")
    lines += [f"refused: {x.ticker}: {x.reason} (tried again in a day)" for x in s.refused]
    return lines


def position_switched_line(result: PositionSwitched) -> str:
    if not result.kept:
        return f"{result.ticker} left out of the stops kept at the broker (its stop is cancelled by the worker)"
    if result.changed:
        return f"{result.ticker} taken back into the stops kept at the broker"
    return f"{result.ticker} was not left out"
