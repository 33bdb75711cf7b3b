"""Types of eventhub/_net.pyx: the compiled fast path of GreenSocket's recv/send."""

import socket

from typing_extensions import Buffer, disjoint_base

from eventhub.net import GreenSocket

@disjoint_base
class SocketState:
    """GreenSocket's per-socket state as C fields: its base class when built."""

    _sock: socket.socket
    _timeout: float | None
    _closed: bool
    _stream: bool
    _expect_dry: bool

def recv(gsock: GreenSocket, bufsize: int, flags: int = 0) -> bytes: ...
def recv_into(gsock: GreenSocket, buffer: Buffer, nbytes: int = 0, flags: int = 0) -> int: ...
def send(gsock: GreenSocket, data: Buffer, flags: int = 0) -> int: ...
def sendall(gsock: GreenSocket, data: Buffer, flags: int = 0) -> None: ...
