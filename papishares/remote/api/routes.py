"""The JSON API (INTERFACE.md, "The JSON API, on the dashboard's own server") as a FastAPI app.

A thin adapter: every answer comes from `sources` (the dashboard's caches, the store) rendered by
`papishares.commands.api_queries`; no endpoint asks the broker or computes a stop. Blocking work runs
in threads of its own limiter, so API clients never take the threads the dashboard's files need.
Every error is `{"error": "sentence"}`: never a traceback, never a secret.
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Callable
from functools import partial
from typing import Annotated, Any, TypeVar

import anyio
from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException as StarletteHTTPException

from papishares.config import ConfigError, Settings
from papishares.remote.api import access, schemas, several

log = logging.getLogger(__name__)

API = "/api/v1"
MAX_BODY = 4096  # bytes: the largest body any endpoint takes ({"auto_sell": false} is 19)
THREADS = 8  # concurrent blocking calls for API clients (Streamlit keeps its own for the dashboard)
SEED_PATHS = ("/healthz", "/readyz", "/positions", "/orders", "/entries", "/autosell")
T = TypeVar("T")

_limiter: anyio.CapacityLimiter | None = None
_penalty_lock: anyio.Lock | None = None
_bearer = HTTPBearer(auto_error=False, scheme_name="PAPISHARES_API_TOKEN",
                     description="Authorization: Bearer <PAPISHARES_API_TOKEN>")


def _sources() -> Any:
    """Imported at the first request, once Streamlit's runtime runs: its caches then live in the
    runtime's cache storage (an import before it would only warn "no runtime")."""
    from papishares.remote.api import sources

    return sources


class ApiError(Exception):
    def __init__(self, status: int, error: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(error)
        self.status, self.error, self.headers = status, error, headers or {}


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(data, separators=(",", ":"), default=str, allow_nan=False)
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def sentence(text: str) -> str:
    text = text.strip() or "Something went wrong"
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def _error(status: int, error: str, headers: dict[str, str] | None = None) -> Response:
    return _json({"error": sentence(error)}, status, headers)


async def _run(fn: Callable[..., T], *args: Any) -> T:
    global _limiter
    if _limiter is None:
        _limiter = anyio.CapacityLimiter(THREADS)
    return await anyio.to_thread.run_sync(partial(fn, *args), limiter=_limiter)


def _penalty() -> anyio.Lock:
    global _penalty_lock
    if _penalty_lock is None:
        _penalty_lock = anyio.Lock()
    return _penalty_lock


def _accounts() -> tuple[Settings, ...]:
    try:
        return tuple(_sources().accounts())
    except ConfigError as err:  # the sentence names the variable, never a secret's value
        raise ApiError(503, str(err)) from None


def _authorise(write: bool, header: str | None, client: str) -> tuple[tuple[Settings, ...], access.Verdict]:
    """Every account's configuration (the first holds what they share: token, sign-in) and the access
    verdict for one request, in one trip to a worker thread."""
    accs = _accounts()
    s = accs[0]
    expected = s.api_token.reveal() if s.api_token else None
    presented = access.bearer_token(header)
    signin = False if expected or write else _sources().signin_configured(s)
    v = access.verdict(write=write, token_configured=expected is not None, presented=presented is not None,
                       signin_configured=signin)
    if v.compare and expected is not None and presented is not None:
        v = access.check_token(access.Throttle(_sources().store(s)), presented, expected, client)
    return accs, v


def _guarded(write: bool) -> Callable[..., Any]:
    async def guard(request: Request, cred: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
                    ) -> tuple[Settings, ...]:
        client = request.client.host if request.client else "an unknown address"
        s, v = await _run(_authorise, write, request.headers.get("authorization"), client)
        if v.status:
            headers = {"WWW-Authenticate": "Bearer"} if v.challenge else {}
            if v.delay:
                async with _penalty():  # one held answer at a time: parallel guessing gains nothing
                    await anyio.sleep(v.delay)
            raise ApiError(v.status, v.error or "Not allowed.", headers)
        return s

    return guard


Reader = Annotated[tuple[Settings, ...], Depends(_guarded(write=False))]
Writer = Annotated[tuple[Settings, ...], Depends(_guarded(write=True))]
AccountName = Annotated[str | None, Query(description="One account by its name (PAPISHARES_ACCOUNTS); without "
                                                      "it every account (the answer joins them)")]


def _pick(accs: tuple[Settings, ...], name: str | None) -> Settings | None:
    """The account `?account=` names; None for every account (several, none named). A 400 naming the
    accounts for an unknown name."""
    try:
        return several.pick(accs, name)
    except several.UnknownAccount as err:
        raise ApiError(400, str(err)) from None

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": schemas.Error, "description": what} for code, what in (
        (400, "Malformed request (a sentence says what)"),
        (401, "No token, or a wrong one (WWW-Authenticate: Bearer)"),
        (503, "No snapshot at all yet, or the configuration or database is unusable"),
    )
}
WRITE_ERRORS = {**ERRORS, 403: {"model": schemas.Error, "description": "No PAPISHARES_API_TOKEN configured"},
                413: {"model": schemas.Error, "description": f"Body larger than {MAX_BODY} bytes"}}


async def _data(fn: Callable[..., Any], *args: Any) -> Response:
    try:
        return _json(await _run(fn, *args))
    except _sources().Unavailable as err:
        raise ApiError(503, str(err)) from None


def create_api() -> FastAPI:
    app = FastAPI(title="Papishares", version="1", description=(
        "Portfolio, stops, risk and the auto-sell flag, as the dashboard shows them. Every endpoint but "
        "/healthz and /readyz needs `Authorization: Bearer <PAPISHARES_API_TOKEN>` when that is set."),
        openapi_url=None, docs_url=None, redoc_url=None, swagger_ui_oauth2_redirect_url=None)

    @app.get(f"{API}/openapi.json", include_in_schema=False)
    async def openapi(accs: Reader) -> Response:
        """The OpenAPI 3 document (generated by FastAPI from the routes below); it needs the token like
        every endpoint but the probes. `account` lists the names configured now."""
        return _json(with_account_names(app.openapi(), [a.account_name for a in accs]))

    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> Response:
        return _error(exc.status, exc.error, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def bad_request(_: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(x) for x in first.get("loc", ()) if x not in ("query", "body"))
        return _error(400, f"Bad request: {where or 'input'}: {first.get('msg', 'invalid')}.")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            return _error(404, f"No such endpoint: {request.url.path}.")
        if exc.status_code == 405:
            return _error(405, f"{request.method} is not allowed on {request.url.path}.", dict(exc.headers or {}))
        return _error(exc.status_code, str(exc.detail), dict(exc.headers or {}))

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> Response:
        log.error("API request failed (%s)", type(exc).__name__, exc_info=True)
        return _error(500, f"Unexpected error ({type(exc).__name__}); the dashboard log has the details.")

    # -- probes: never need a token ------------------------------------------------------------
    @app.get("/healthz", response_model=schemas.Health, tags=["probes"])
    async def healthz() -> Response:
        """200 while the server runs."""
        return _json({"status": "ok"})

    @app.get("/readyz", response_model=schemas.Ready, tags=["probes"],
             responses={503: {"model": schemas.Ready, "description": "Not ready: `reason` says why"}})
    async def readyz() -> Response:
        """200 when the configuration is valid and the database opens; else 503 with the reason."""
        try:
            s = await _run(_sources().settings)
        except ConfigError as err:
            return _json({"status": "not ready", "reason": str(err)}, 503)
        reason = await _run(_sources().ready, s)
        if reason:
            return _json({"status": "not ready", "reason": reason}, 503)
        return _json({"status": "ready"})

    # -- the seed's endpoints -------------------------------------------------------------------
    @app.get("/positions", response_model=schemas.Positions, responses=ERRORS, tags=["seed"])
    async def positions(accs: Reader, account: AccountName = None) -> Response:
        """The positions (highest profit first), total risk and the auto-sell flag; the last good snapshot
        with `stale: true` while the broker cannot be reached. With several accounts and no `account`:
        every account's positions, each with `account_name`, and the combined total risk."""
        one = _pick(accs, account)
        if one is None:
            return await _data(_sources().positions_all, accs)
        return await _data(_sources().positions, one, account is not None)

    @app.get("/orders", response_model=list[schemas.PendingOrder], responses=ERRORS, tags=["seed"])
    async def orders(accs: Reader, account: AccountName = None) -> Response:
        """The pending orders at the broker, `managed` true for those Papishares keeps (with several
        accounts and no `account`: every account's, each with `account_name`)."""
        one = _pick(accs, account)
        if one is None:
            return await _data(_sources().orders_all, accs)
        return await _data(_sources().orders, one)

    @app.get("/entries", response_model=schemas.Entries, responses=ERRORS, tags=["seed"])
    async def entries(accs: Reader, account: AccountName = None) -> Response:
        """Turtle entry candidates, as `papishares entries --json` (sized for the account named, else
        the first account)."""
        return await _data(_sources().entries, _pick(accs, account) or accs[0])

    @app.post("/autosell", response_model=schemas.AutoSellAnswer, responses=WRITE_ERRORS, tags=["seed"],
              openapi_extra={"requestBody": {"required": False, "content": {"application/json": {
                  "schema": schemas.AutoSell.model_json_schema()}}}})
    async def autosell(request: Request, accs: Writer, account: AccountName = None) -> Response:
        """No body: toggle the auto-sell flag. `{"auto_sell": true|false}`: set it. Journalled. With
        several accounts and no `account`: every account's flag (toggling: all off when all are on,
        else all on), answered with each account's in `accounts`."""
        one = _pick(accs, account)
        wanted = _wanted(await _body(request))
        if one is None:
            return _json(await _run(_sources().set_autosell_all, accs, wanted))
        answer: dict[str, Any] = {"auto_sell": await _run(_sources().set_autosell, one, wanted)}
        return _json({**answer, "account_name": one.account_name} if account is not None else answer)

    # -- /api/v1 ----------------------------------------------------------------------------------
    @app.get(f"{API}/snapshot", response_model=schemas.Snapshot | schemas.SnapshotAll, responses=ERRORS, tags=["v1"])
    async def snapshot(accs: Reader, account: AccountName = None) -> Response:
        """The snapshot JSON (`papishares snapshot --json`), plus `stale` and `age_seconds`; with several
        accounts and no `account`: `{"generated_at", "accounts": [...], "combined": {...}}`."""
        one = _pick(accs, account)
        if one is None:
            return await _data(_sources().snapshot_all, accs)
        return await _data(_sources().snapshot, one, account is not None)

    @app.get(f"{API}/history/trades", response_model=schemas.Trades, responses=ERRORS, tags=["v1"])
    async def trades(accs: Reader, account: AccountName = None) -> Response:
        """Closed trades and their summary (`papishares history trades --json`); with several accounts
        and no `account`: every account's trades, each with `account`, the summary over all."""
        one = _pick(accs, account)
        if one is None:
            return await _data(_sources().trades_all, accs)
        return await _data(_sources().trades, one)

    @app.get(f"{API}/journal", response_model=schemas.Journal, responses=ERRORS, tags=["v1"])
    async def journal(accs: Reader, limit: Annotated[int, Query(ge=1, le=1000, description="How many entries, "
                                                                    "newest first")] = 50,
                      account: AccountName = None) -> Response:
        """Alerts and order decisions, newest first (with several accounts and no `account`: every
        account's, each with `account_name`)."""
        one = _pick(accs, account)
        if one is None:
            return await _data(_sources().journal_all, accs, limit)
        return await _data(_sources().journal, one, limit)

    @app.get(f"{API}/worker", response_model=schemas.Worker, tags=["v1"],
             responses={**ERRORS, 503: {"model": schemas.Worker,
                                        "description": "The worker's heartbeat is not fresh"}})
    async def worker(accs: Reader, account: AccountName = None) -> Response:
        """The worker's status as `papishares health` prints it: 200 when its heartbeat is fresh, else 503
        (one worker serves every account)."""
        status = await _run(_sources().worker, _pick(accs, account) or accs[0])
        return _json(status, 200 if status.get("healthy") else 503)

    return app


def with_account_names(document: dict[str, Any], names: list[str]) -> dict[str, Any]:
    """The document with the `account` parameter's accepted values: the accounts configured now (the
    generated document is shared, so it is copied, never changed)."""
    doc = copy.deepcopy(document)
    for methods in doc.get("paths", {}).values():
        for operation in methods.values():
            for param in operation.get("parameters", []):
                if param.get("name") == "account" and param.get("in") == "query":
                    param["schema"] = {"type": "string", "enum": names}
    return doc


async def _body(request: Request) -> bytes:
    """The request body, refused past MAX_BODY bytes whatever Content-Length claims."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise ApiError(413, f"The body is larger than {MAX_BODY} bytes.")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise ApiError(413, f"The body is larger than {MAX_BODY} bytes.")
    return body


def _wanted(body: bytes) -> bool | None:
    """None (toggle) for an empty body; else the `auto_sell` boolean of a JSON object, or a 400."""
    if not body.strip():
        return None
    usage = 'send no body to toggle it, or {"auto_sell": true} or {"auto_sell": false}'
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, f"The body is not valid JSON: {usage}.") from None
    if not isinstance(data, dict):
        raise ApiError(400, f"The body must be a JSON object: {usage}.")
    extra = sorted(set(data) - {"auto_sell"})
    if extra:
        raise ApiError(400, f"Unknown field {extra[0]!r}: {usage}.")
    if not isinstance(data.get("auto_sell"), bool):
        raise ApiError(400, f"auto_sell must be true or false: {usage}.")
    return bool(data["auto_sell"])
