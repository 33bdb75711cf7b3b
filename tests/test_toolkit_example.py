"""The toolkit page's whole program (docs/toolkit.md), run as written against a
local HTTPS server: on every hub, compiled and pure, with the compiled and
the pure queues and locks.  tests/test_typing.py type-checks it."""

from __future__ import annotations

import hashlib
import importlib.util
import re
import ssl
import threading
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Iterator

import pytest
from test_tls import OPENSSL, make_certificate

from eventhub import Event, Timeout, hubs, net, spawn

pytestmark = pytest.mark.needs_system("openssl")

TOOLKIT_PAGE = Path(__file__).parent.parent / "docs" / "toolkit.md"
SLOW = 20.0
CONCURRENCY = 3
#: path -> the body the server sends for it (one large enough to take several reads).
BODIES = {f"/page/{n}": f"page {n}\n".encode() * (1 + n * 2000) for n in range(7)}
NOT_FOUND = b"no such page\n"


def example_source() -> str:
    """The one Python block of the toolkit page that is a whole program."""
    blocks: list[str] = re.findall(r"```python\n(.*?)```", TOOLKIT_PAGE.read_text(), re.S)
    (source,) = [b for b in blocks if "def fetch_all" in b]
    return source


@pytest.fixture
def example(tmp_path: Path) -> ModuleType:
    path = tmp_path / "toolkit_example.py"
    path.write_text(example_source())
    spec = importlib.util.spec_from_file_location("toolkit_example", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return make_certificate(tmp_path_factory.mktemp("certs"), "localhost", "DNS:localhost,IP:127.0.0.1,IP:::1")


class HTTPSServer:
    """HTTP/1.0 over TLS on 127.0.0.1: BODIES, 404 for any other path.

    It counts the connections open at once, and holds its first replies
    until ``hold`` connections are open together (or SLOW seconds pass), so
    a client that opens that many at once is seen doing it.
    """

    def __init__(self, certificate: tuple[Path, Path], hold: int) -> None:
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(*certificate)
        self.hold = hold
        self.enough: Event[None] = Event()
        self.open = 0
        self.most_open = 0
        self.hubs: set[type] = set()
        self.listener = net.listen(("127.0.0.1", 0))
        self.port: int = self.listener.getsockname()[1]
        self.thread = spawn(net.serve, self.listener, self.handle, tls=self.context)

    def handle(self, conn: net.GreenSocket, address: Any) -> None:
        self.hubs.add(type(hubs.get_hub()))
        self.open += 1
        self.most_open = max(self.most_open, self.open)
        try:
            request = b""
            while b"\r\n\r\n" not in request:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                request += chunk
            if self.open >= self.hold and not self.enough.ready():
                self.enough.send(None)
            if not self.enough.ready():
                self.enough.wait(SLOW)
            path = request.split()[1].decode()
            body = BODIES.get(path)
            head = b"HTTP/1.0 200 OK\r\n\r\n" if body is not None else b"HTTP/1.0 404 Not Found\r\n\r\n"
            conn.sendall(head + (NOT_FOUND if body is None else body))
        finally:
            self.open -= 1
            conn.close()

    def url(self, path: str) -> str:
        return f"https://localhost:{self.port}{path}"

    def close(self) -> None:
        self.listener.close()
        self.thread.wait()


@pytest.fixture
def server(hub: Any, certificate: tuple[Path, Path]) -> Iterator[HTTPSServer]:
    https = HTTPSServer(certificate, hold=CONCURRENCY)
    try:
        yield https
    finally:
        https.close()


def closed_port() -> int:
    listener = net.listen(("127.0.0.1", 0))
    port: int = listener.getsockname()[1]
    listener.close()
    return port


def digests_in_threads(example: ModuleType, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Record the thread each of the example's SHA-256 runs in."""
    threads: list[int] = []
    sha256: Callable[[bytes], str] = example.sha256

    def recorded(data: bytes) -> str:
        threads.append(threading.get_ident())
        return sha256(data)

    monkeypatch.setattr(example, "sha256", recorded)
    return threads


def test_fetches_every_page_a_few_at_a_time(
    example: ModuleType,
    server: HTTPSServer,
    hub_class: Any,
    toolkit_variant: str,
    certificate: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hashed_in = digests_in_threads(example, monkeypatch)
    refused = f"https://127.0.0.1:{closed_port()}/"
    urls = [server.url(path) for path in BODIES] + [server.url("/missing"), refused]
    context = ssl.create_default_context(cafile=str(certificate[0]))
    with Timeout(SLOW * 2):
        pages = example.fetch_all(urls, context, concurrency=CONCURRENCY)

    by_url = {page.url: page for page in pages}
    assert len(pages) == len(urls) and set(by_url) == set(urls)
    for path, body in BODIES.items():
        assert by_url[server.url(path)] == (server.url(path), 200, hashlib.sha256(body).hexdigest())
    assert by_url[server.url("/missing")][:2] == (server.url("/missing"), 404)
    assert by_url[refused].status is None and by_url[refused].outcome.startswith("ConnectionRefusedError")
    assert server.most_open == CONCURRENCY  # the pool bounded the fetches, and they did run together
    assert server.hubs == {hub_class}
    assert len(hashed_in) == len(urls) - 1 and threading.get_ident() not in hashed_in


def test_main_prints_each_page_and_fails_on_a_bad_one(
    example: ModuleType,
    server: HTTPSServer,
    certificate: tuple[Path, Path],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))  # what ssl.create_default_context() trusts
    server.enough.send(None)  # nothing to hold for: main fetches at most 10 at once
    with Timeout(SLOW):
        assert example.main([server.url("/page/1")]) == 0
        assert capsys.readouterr().out == f"200 {hashlib.sha256(BODIES['/page/1']).hexdigest()} {server.url('/page/1')}\n"
        assert example.main([server.url("/page/2"), server.url("/nothing")]) == 1
    lines = sorted(capsys.readouterr().out.splitlines())
    assert lines == sorted(
        [
            f"200 {hashlib.sha256(BODIES['/page/2']).hexdigest()} {server.url('/page/2')}",
            f"404 {hashlib.sha256(NOT_FOUND).hexdigest()} {server.url('/nothing')}",
        ]
    )
