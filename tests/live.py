"""The real service on a loopback port, host pages on another origin, and Debian's Chromium.

Used by the browser tests (tests/test_browser_*.py) and by scripts/screenshots.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

CHROMIUM = os.environ.get("GLOSSARY_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PAGES = Path(__file__).parent / "browser_pages"


def bound_socket(host: str = "127.0.0.1") -> socket.socket:
    """A listening-ready socket on a free port (bound now, so no other process can take the port)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    return sock


class LiveService:
    """Run an ASGI app with uvicorn in a background thread on an already bound socket."""

    def __init__(self, app, sock: socket.socket | None = None):
        import uvicorn

        self.sock = sock or bound_socket()
        host, port = self.sock.getsockname()[:2]
        self.url = f"http://{host}:{port}"
        from app.server import uvicorn_options

        # Served as `glossary serve` serves it: the same protocol, limits, timeouts and proxy handling.
        options = uvicorn_options(app.state.settings) if hasattr(app.state, "settings") else {}
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False,
                                                    **options))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True,
                                       name="glossary-live-service")

    def start(self, timeout: float = 120) -> "LiveService":
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive():
                raise RuntimeError("the service stopped while starting; see the log above")
            if time.monotonic() > deadline:
                raise TimeoutError(f"the service did not start within {timeout}s")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


class _HostHandler(BaseHTTPRequestHandler):
    def __init__(self, *args, site: "HostSite", **kwargs):
        self.site = site
        super().__init__(*args, **kwargs)

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        page = self.site.pages.get(self.path.split("?")[0])
        if page is None and self.path == "/favicon.ico":
            self.send_response(204)
            self.end_headers()
            return
        if page is None:
            self.send_error(404)
            return
        body, content_type, headers = page
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


class HostSite:
    """A stand-in intranet: serves the given pages (with their own CSP) from its own loopback origin."""

    def __init__(self, host: str = "127.0.0.1"):
        self.pages: dict[str, tuple[bytes, str, dict]] = {}
        self.httpd = ThreadingHTTPServer((host, 0), partial(_HostHandler, site=self))
        h, port = self.httpd.server_address[:2]
        self.origin = f"http://{h}:{port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True, name="glossary-host-site")

    def add(self, path: str, body: str, headers: dict | None = None, content_type: str = "text/html; charset=utf-8") -> str:
        self.pages[path] = (body.encode(), content_type, headers or {})
        return self.origin + path

    def add_intranet(self, service: str, path: str = "/", widget_attrs: str = 'data-audience="procurement"', *,
                     hostile_css: bool = False, csp: bool = True) -> str:
        """The sample intranet page (and its stylesheets) with the widget tag; returns its URL."""
        self.add("/intranet.css", (PAGES / "intranet.css").read_text(), content_type="text/css")
        self.add("/hostile.css", (PAGES / "hostile.css").read_text(), content_type="text/css")
        html = (PAGES / "intranet.html").read_text().replace("{{SERVICE}}", service)
        html = html.replace("{{WIDGET_ATTRS}}", widget_attrs)
        html = html.replace("<!--{{HOSTILE_CSS}}-->", '<link rel="stylesheet" href="/hostile.css">' if hostile_css else "")
        return self.add(path, html, {"Content-Security-Policy": host_csp(service)} if csp else {})

    def start(self) -> "HostSite":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def host_csp(service: str) -> str:
    """A strict host-page CSP plus exactly the lines the README tells hosts to add for the widget."""
    return (f"default-src 'self'; script-src 'self' {service}; frame-src {service}; style-src 'self'; "
            "img-src 'self' data:; object-src 'none'; base-uri 'none'")


def launch_chromium(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=30000)
