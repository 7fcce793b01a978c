"""Benchmark: `immat serve` on loopback, one dossier per request: requests per second and p50/p99 latency.

Run with `python bench/serve.py [--requests N] [--seconds S] [--clients C] [--workers 1 2] [DOSSIER]` from the
repository root (`pip install '.[serve]'`). For each worker count it starts `immat serve` on a free port (its
cache in a temporary folder), waits for /health, then C clients, each on one kept-alive connection, POST the
dossier to /v1/validate until N requests are answered or S seconds have passed; a first 100 requests warm up
and are not counted. The clients are plain asyncio (no HTTP library to slow them) in this one process, on the
same machine: on 2 cores, they take some of the time the server would use.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(port: int, deadline: float) -> None:
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5).read()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def request_bytes(port: int, body: bytes) -> bytes:
    head = (f"POST /v1/validate HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n")
    return head.encode() + body


async def one(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> int:
    """Sends the request on the open connection and reads the whole answer; its status."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:"))
    await reader.readexactly(length)
    return int(head.split(b" ", 2)[1])


async def client(port: int, request: bytes, stop: dict, latencies: list[float], statuses: dict) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while stop["left"] > 0 and time.perf_counter() < stop["until"]:
            stop["left"] -= 1
            started = time.perf_counter()
            status = await one(reader, writer, request)
            latencies.append(time.perf_counter() - started)
            statuses[status] = statuses.get(status, 0) + 1
    finally:
        writer.close()


async def load(port: int, request: bytes, clients: int, count: int, seconds: float) -> tuple[list[float], dict, float]:
    warm: list[float] = []
    await asyncio.gather(*(client(port, request, {"left": 100 // clients, "until": time.perf_counter() + seconds},
                                  warm, {}) for _ in range(clients)))
    latencies: list[float] = []
    statuses: dict = {}
    stop = {"left": count, "until": time.perf_counter() + seconds}
    started = time.perf_counter()
    await asyncio.gather(*(client(port, request, stop, latencies, statuses) for _ in range(clients)))
    return latencies, statuses, time.perf_counter() - started


def run(workers: int, body: bytes, args, cache: str) -> str:
    port = free_port()
    server = subprocess.Popen(["immat", "serve", "--port", str(port), "--workers", str(workers)],
                              env={**os.environ, "IMMAT_CACHE_DIR": cache}, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        wait_ready(port, time.monotonic() + 120)
        latencies, statuses, took = asyncio.run(load(port, request_bytes(port, body), args.clients, args.requests,
                                                     args.seconds))
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    cuts = statistics.quantiles(latencies, n=100)
    return (f"--workers {workers}: {len(latencies)} requests in {took:.1f} s, {len(latencies) / took:,.0f} requests/s, "
            f"p50 {cuts[49] * 1000:.1f} ms, p99 {cuts[98] * 1000:.1f} ms, statuses {statuses}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dossier", nargs="?", default="fixtures/exemple/dossier.json")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    body = Path(args.dossier).read_bytes()
    print(f"{args.clients} clients, one dossier ({args.dossier}, {len(body)} bytes) per request, "
          f"at most {args.requests} requests or {args.seconds:g} s per run")
    with tempfile.TemporaryDirectory() as cache:
        for workers in args.workers:
            print(run(workers, body, args, cache), flush=True)


if __name__ == "__main__":
    main()
