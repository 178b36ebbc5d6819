"""`papishares dashboard`: the Streamlit pages and the JSON API on one server, one port.

Streamlit's `st.App` serves Home.py as an ASGI app (uvicorn) and takes extra routes: the API's paths
are routed to the FastAPI app of `routes.py`, everything else to Streamlit. Run in-process, so the
API reads the very caches the dashboard's sessions share (`papishares.ui.data`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

from starlette.routing import BaseRoute, Route

API_PREFIX = "/api"


def api_routes() -> list[BaseRoute]:
    """The seed's paths and everything under /api/, each handed whole to the FastAPI app (which answers
    404 and 405 itself, as JSON); Streamlit keeps every other path."""
    from papishares.remote.api.routes import SEED_PATHS, create_api

    api = create_api()
    return [*(Route(path, endpoint=api) for path in SEED_PATHS),
            Route(API_PREFIX + "/{rest:path}", endpoint=api)]


def listening_sockets_nodelay() -> int:
    """Set TCP_NODELAY on this process's listening TCP sockets (accepted ones inherit it); how many.

    Streamlit binds its socket itself (protocol 0), so asyncio never sets TCP_NODELAY on the
    connections: a small JSON answer on a kept-alive connection then waits ~40 ms for the client's
    delayed ACK (Nagle). Found through /proc/self/fd: no private Streamlit API is touched."""
    done = 0
    for name in os.listdir("/proc/self/fd") if os.path.isdir("/proc/self/fd") else ():
        try:
            fd = os.dup(int(name))
        except OSError:
            continue
        try:
            sock = socket.socket(fileno=fd)
        except OSError:  # not a socket
            os.close(fd)
            continue
        with sock:
            try:
                if (sock.type == socket.SOCK_STREAM and sock.family in (socket.AF_INET, socket.AF_INET6)
                        and sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN)):
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    done += 1
            except OSError:
                continue
    return done


@contextlib.asynccontextmanager
async def lifespan(_app: object) -> AsyncIterator[None]:
    listening_sockets_nodelay()
    yield


def build_app(home: Path):  # noqa: ANN201 - streamlit.App, imported lazily
    import streamlit as st

    return st.App(str(home), routes=api_routes(), lifespan=lifespan)


def serve(home: Path, port: int | None = None, address: str | None = None) -> int:
    """Serve until SIGINT/SIGTERM (uvicorn stops cleanly); 0 afterwards, 2 without Home.py."""
    if not home.is_file():
        print(f"papishares: the dashboard's {home.name} is missing ({home})", file=sys.stderr)
        return 2
    # The API reads the dashboard's caches from its own threads, outside any page run: Streamlit's
    # "missing ScriptRunContext" warning is about exactly that and means nothing here.
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").setLevel(logging.ERROR)
    app = build_app(home)
    config: dict[str, object] = {"server.headless": True}
    if port is not None:
        config["server.port"] = port
    if address is not None:
        config["server.address"] = address
    # App.run takes sys.argv[0] as the launcher: Home.py, as `streamlit run Home.py` would, so the
    # checkout's .streamlit/config.toml applies and no CLI words reach the pages' sys.argv.
    sys.argv = [str(home)]
    app.run(config=config)
    return 0
