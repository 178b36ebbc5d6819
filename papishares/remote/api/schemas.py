"""The API's bodies as pydantic models: they write the OpenAPI document (responses are rendered from the
command layer's dicts, which these describe; `extra="allow"` because the contract lets fields be added)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class Error(BaseModel):
    error: str = Field(description="What went wrong, in a sentence")


class Health(BaseModel):
    status: str = Field(examples=["ok"])


class Ready(Open):
    status: str = Field(description="`ready` or `not ready`")
    reason: str | None = Field(None, description="Why it is not ready")


class Account(Open):
    currency: str
    total_value: float
    cash: float


class Position(Open):
    ticker: str
    short_name: str
    name: str
    currency: str
    quantity: float
    average_price: float
    current_price: float
    profit_pct: float | None
    max_price: float | None
    stop_loss_price: float | None
    stop_loss_percentage: float | None
    stop_loss_note: str | None = None
    manual_stop_loss_price: float | None
    manual_stop_loss_quantity: float
    macd_signal: str | None
    macd_crossover: str | None
    sma_17: float | None


class Freshness(Open):
    stale: bool = Field(description="True: the broker could not be asked; this is the last good snapshot")
    age_seconds: float | None = Field(description="How old the broker data shown is")
    stale_reason: str | None = None


class Positions(Freshness):
    positions: list[Position] = Field(description="Highest profit_pct first")
    total_risk: float = Field(description="The snapshot's total_risk_pct")
    auto_sell: bool


class Snapshot(Freshness):
    generated_at: str
    environment: str
    account: Account
    total_risk_pct: float
    total_risk_threshold_pct: float
    positions: list[Position]


class PendingOrder(Open):
    ticker: str
    name: str
    currency: str | None
    type: str
    side: str
    quantity: float = Field(description="As Trading 212 gives it: negative for sells")
    limit_price: float | None
    stop_price: float | None
    status: str
    managed: bool = Field(description="True for the orders Papishares keeps (its stops at the broker)")


class Candidate(Open):
    symbol: str
    system: int | None


class Entries(Open):
    generated_at: str
    candidates: list[Candidate]


class Trade(Open):
    ticker: str
    quantity: float
    currency: str | None
    r_multiple: float | None


class Trades(Open):
    trades: list[Trade]
    summary: Open


class JournalEntry(BaseModel):
    at: str
    kind: str
    ticker: str | None
    action: str
    message: str | None


class Journal(BaseModel):
    entries: list[JournalEntry] = Field(description="Newest first")


class Worker(Open):
    healthy: bool
    heartbeat_age_s: float | None
    state: str
    autosell: str


class AutoSell(BaseModel):
    model_config = ConfigDict(extra="forbid")

    auto_sell: bool


class AutoSellAnswer(Open):
    auto_sell: bool = Field(description="The flag now; with several accounts and no `account`: on in every account")
    accounts: dict[str, bool] | None = Field(None, description="Each account's flag (several accounts, none named)")


class Combined(Open):
    currency: str | None = Field(description="The first account's currency: every amount here is in it")
    total_value: float
    cash: float
    total_risk_pct: float


class SnapshotAll(Open):
    """`snapshot --json` with several accounts and no `account`."""

    generated_at: str
    accounts: list[Snapshot] = Field(description="Each account's snapshot, with its `account_name`")
    combined: Combined
