"""How uvicorn serves the app: proxy headers only behind a configured proxy, bounded headers, slow-client timeouts.

uvicorn's default HTTP parser (httptools) reads request headers of any size (two 128 MB headers
took 30 s and half a gigabyte), and neither parser limits how long a client may take to send its
request. So the service runs on uvicorn's h11 protocol with `h11_max_incomplete_event_size` as
the header limit, and a timer that closes a connection whose request (head and body) has not
arrived within `GLOSSARY_REQUEST_READ_TIMEOUT_SECONDS`; idle keep-alive connections close after
`GLOSSARY_KEEP_ALIVE_SECONDS`.

With `GLOSSARY_WORKERS` > 1, uvicorn's own supervisor spawns that many worker processes on one
listening socket. Spawned processes re-import everything, so they get the app from the import-string
factory `worker_app` and the protocol by name (`WorkerH11Protocol`), both reading the settings from
the environment, which `glossary serve` fills from its options before it starts them.
"""

from __future__ import annotations

import asyncio
from functools import lru_cache
from typing import TYPE_CHECKING

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from app.config import Settings

if TYPE_CHECKING:
    from fastapi import FastAPI


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, closing a connection that is too slow to send its request."""

    read_timeout: float = 10.0  # set per server by `protocol_for`

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]  # as uvicorn narrows it
        super().connection_made(transport)
        self._arm_read_timer()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE and self.conn.their_state is not h11.SEND_BODY:
            self._disarm_read_timer()  # the whole request is in (or the connection is done)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm_read_timer()  # the next request on this connection gets the same time

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_read_timer()
        super().connection_lost(exc)

    def _arm_read_timer(self) -> None:
        self._disarm_read_timer()
        self._read_timer: asyncio.TimerHandle | None = self.loop.call_later(self.read_timeout, self._read_timed_out)

    def _disarm_read_timer(self) -> None:
        timer = getattr(self, "_read_timer", None)
        if timer is not None:
            timer.cancel()
            self._read_timer = None

    def _read_timed_out(self) -> None:
        self._read_timer = None
        if self.conn.their_state in (h11.IDLE, h11.SEND_BODY) and not self.transport.is_closing():
            self.transport.close()


def protocol_for(settings: Settings) -> type[GuardedH11Protocol]:
    """The protocol class for one server, carrying its read timeout."""
    return type("GuardedH11Protocol", (GuardedH11Protocol,), {"read_timeout": settings.request_read_timeout_seconds})


@lru_cache(maxsize=1)
def environment_settings() -> Settings:
    """The settings of a worker process, read once from its environment."""
    return Settings()


class WorkerH11Protocol(GuardedH11Protocol):
    """The guarded protocol of a spawned worker: importable by name, its timeout from the environment."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.read_timeout = environment_settings().request_read_timeout_seconds


def worker_app() -> FastAPI:
    """The app of one worker process (uvicorn calls this factory in each spawned worker)."""
    from app.main import create_app
    from app.observability import configure_logging

    configure_logging()
    return create_app(environment_settings())


def uvicorn_options(settings: Settings, *, workers: int = 1) -> dict:
    """Keyword arguments for uvicorn.run / uvicorn.Config from the settings.

    With `workers` > 1 the protocol is named, not built, since spawned workers import it.
    """
    behind_proxy = bool(settings.rate_limit_client_header)
    return {
        "http": "app.server:WorkerH11Protocol" if workers > 1 else protocol_for(settings),
        "h11_max_incomplete_event_size": settings.max_header_bytes,
        "timeout_keep_alive": settings.keep_alive_seconds,
        # uvicorn trusts X-Forwarded-For/-Proto from 127.0.0.1 by default, which let any client behind a
        # same-host proxy, or on the host itself, choose its address: only with a configured proxy.
        "proxy_headers": behind_proxy,
        "forwarded_allow_ips": list(settings.trusted_proxies) if behind_proxy else [],
        "server_header": False,
    }
