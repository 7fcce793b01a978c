"""uvicorn's HTTP protocol, each connection with TCP_NODELAY: what `immat serve` answers on.

With `--workers`, uvicorn binds the listening socket itself, without naming TCP as its protocol, and asyncio then
leaves Nagle's algorithm on for the connections it accepts: an answer's headers and body, two writes, wait for
the client's delayed acknowledgement, 40 ms a request on Linux. Imported by name in each worker (uvicorn's
`http` setting), so that only `immat serve` loads uvicorn.
"""

from __future__ import annotations

import socket

from uvicorn.protocols.http.auto import AutoHTTPProtocol


class Protocol(AutoHTTPProtocol):
    def connection_made(self, transport) -> None:
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)
