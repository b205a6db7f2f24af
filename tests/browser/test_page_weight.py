"""A voter's phone on a weak link: what its page costs on the wire (issue 15, item 4).

The budget: the phone page's first load under 60 KB, a repeat load (the same phone opening
its link again) under 5 KB. Measured as the bytes the server sends to Chromium, headers,
compressed bodies, the service worker's own requests and the websocket included: Chromium
talks to Daphne through a TCP relay that counts them. The server runs as in production: its
static files collected, hashed and compressed (``STATIC_MANIFEST=1``).

Each load is measured until the page is live (its connection's state) and, on the first,
until the page has put itself in its worker's cache (offline-page.js), which is part of what a
first visit costs. The figures are printed; the budget is asserted.
"""

import contextlib
import socket
import threading
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.browser.conftest import serve_demo
from tests.browser.test_phone import MOBILE, wait_live, wait_offline_ready

FIRST_LOAD_BUDGET = 60 * 1024
REPEAT_LOAD_BUDGET = 5 * 1024


class CountingRelay:
    """A TCP relay on 127.0.0.1 to the server, counting the bytes it sends back to the client
    by what they answer: the page and its files, or live data (``/api/`` and the ``/ws/``
    websocket). Chromium sends one request at a time on a connection (HTTP/1.1, no
    pipelining), so what comes back answers the connection's last request."""

    LIVE = ("/api/", "/ws/")

    def __init__(self, target_port: int):
        self.target_port = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.lock = threading.Lock()
        self.page = 0
        self.live = 0
        self.paths: list[str] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _address = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            last = {"path": ""}
            for step, ends in (
                (self._requests, (client, upstream)),
                (self._answers, (upstream, client)),
            ):
                threading.Thread(target=step, args=(*ends, last), daemon=True).start()

    def _requests(self, source, sink, last) -> None:
        self._pipe(source, sink, lambda chunk: self._request(chunk, last))

    def _answers(self, source, sink, last) -> None:
        self._pipe(source, sink, lambda chunk: self._answer(chunk, last))

    def _request(self, chunk: bytes, last: dict) -> None:
        line = chunk.split(b"\r\n", 1)[0]
        if line.endswith(b" HTTP/1.1"):
            path = line.split(b" ")[1].decode("ascii", "replace")
            with self.lock:
                last["path"] = path
                self.paths.append(path)

    def _answer(self, chunk: bytes, last: dict) -> None:
        with self.lock:
            if last["path"].startswith(self.LIVE):
                self.live += len(chunk)
            else:
                self.page += len(chunk)

    @staticmethod
    def _pipe(source, sink, count) -> None:
        try:
            while chunk := source.recv(65536):
                count(chunk)
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)

    def read(self) -> tuple[int, int, int]:
        """The page's bytes, the live data's, and how many requests so far."""
        with self.lock:
            return self.page, self.live, len(self.paths)

    def close(self) -> None:
        self.listener.close()


@pytest.fixture(scope="module")
def production_server(chromium_path, tmp_path_factory):
    with serve_demo(tmp_path_factory, {"STATIC_MANIFEST": "1"}) as server:
        yield server


def test_a_phone_page_loads_within_its_budget_and_again_from_its_cache(production_server, browser):
    server_port = urlsplit(production_server.base_url).port
    relay = CountingRelay(server_port)
    phone_link = urlsplit(production_server.halls[1]["phone"])
    through_relay = urlunsplit(phone_link._replace(netloc=f"127.0.0.1:{relay.port}"))
    context = browser.new_context(
        locale="vi-VN",
        viewport={"width": MOBILE["viewport"][0], "height": MOBILE["viewport"][1]},
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
    )
    errors: list[str] = []
    try:
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(through_relay)
        wait_live(page)
        wait_offline_ready(page)
        first = relay.read()
        page.close()

        again = context.new_page()
        again.on("pageerror", lambda error: errors.append(str(error)))
        again.goto(through_relay)
        wait_live(again)
        wait_offline_ready(again)
        total = relay.read()
        repeat = tuple(after - before for after, before in zip(total, first, strict=True))
    finally:
        context.close()
        relay.close()
    for name, (page_bytes, live_bytes, requests) in (("first", first), ("repeat", repeat)):
        print(
            f"phone page, {name} load: the page and its files {page_bytes} bytes, "
            f"live data (API and websocket) {live_bytes} bytes, {requests} requests"
        )
    print("requests:", *relay.paths, sep="\n  ")
    assert not errors, errors
    assert first[0] < FIRST_LOAD_BUDGET, f"first load: {first[0]} bytes"
    assert repeat[0] < REPEAT_LOAD_BUDGET, f"repeat load: {repeat[0]} bytes"
