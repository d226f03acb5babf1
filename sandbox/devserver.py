"""Django's development server (runserver, and the live server of the tests) writes a
response's headers and body in separate sends. On a kept-alive connection, Nagle's
algorithm then holds the body until the client's delayed ACK — about 40 ms on every call
the official clients make through their pooled sessions. Setting TCP_NODELAY on the
server's sockets removes the stall; it changes nothing else.
"""

import contextlib
import socket

from django.core.servers import basehttp

_original_setup = basehttp.WSGIRequestHandler.setup


def _setup_without_nagle(self) -> None:
    _original_setup(self)
    with contextlib.suppress(OSError, AttributeError):  # not a TCP socket
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def install() -> None:
    basehttp.WSGIRequestHandler.setup = _setup_without_nagle
