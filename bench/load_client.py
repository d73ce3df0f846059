"""A light HTTP load client for the read benchmarks (issue 14): keep-alive HTTP/1.1 GETs over plain asyncio
sockets, spread over a few processes so that the client is not what limits the rate on a 2-core machine.

`requests` with a thread per client tops out at a few hundred requests a second on one core (the GIL, and
its own parsing), which is below the 500/s the API reads must reach; this client sends a request, reads the
head and the Content-Length body, and goes on, with a fraction of that CPU. Its ceiling is measured against a
trivial route in the same run (`bench_scale.measure_http`).

    drive("http://127.0.0.1:8000", ["/api/v1/cases/1", …], headers={"Authorization": "Bearer …"},
          connections=16, total=4000)  → Result(requests, seconds, latencies, failures)
"""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass
class Result:
    requests: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)  # seconds, one per answered request
    failures: list[str] = field(default_factory=list)    # answers other than 200 and 201 (status, start of body)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


async def _read_answer(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length = 0
    chunked = False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if chunked:
        body = b""
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip().split(b";")[0], 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                break
            body += chunk[:-2]
        return status, body
    return status, await reader.readexactly(length)


async def _connection(host: str, port: int, requests: list[bytes], start: int, step: int, count: int,
                      result: Result) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        for n in range(count):
            request = requests[(start + n * step) % len(requests)]
            started = time.perf_counter()
            writer.write(request)
            status, body = await _read_answer(reader)
            result.latencies.append(time.perf_counter() - started)
            result.requests += 1
            if status not in (200, 201):
                result.failures.append(f"{status} {body[:200]!r}")
    finally:
        writer.close()


def _requests(base: str, paths: list, headers: dict[str, str]) -> tuple[str, int, list[bytes]]:
    """Each path a GET, or a (path, JSON body bytes) pair: a POST of that body."""
    parts = urlsplit(base)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    extra = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    prefix = parts.path.rstrip("/")
    made = []
    for path in paths:
        if isinstance(path, str):
            made.append(f"GET {prefix}{path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: keep-alive\r\n{extra}\r\n"
                        .encode())
        else:
            path, body = path
            made.append(f"POST {prefix}{path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: keep-alive\r\n{extra}"
                        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body)
    return host, port, made


async def _run(base: str, paths: list[str], headers: dict[str, str], connections: int, per_connection: int,
               offset: int, step: int) -> Result:
    host, port, made = _requests(base, paths, headers)
    result = Result()
    started = time.perf_counter()
    await asyncio.gather(*(_connection(host, port, made, offset + i, step, per_connection, result)
                           for i in range(connections)))
    result.seconds = time.perf_counter() - started
    return result


def _process(args) -> Result:
    return asyncio.run(_run(*args))


def drive(base: str, paths: list, *, headers: dict[str, str] | None = None, connections: int = 16,
          total: int = 2000, processes: int = 2) -> Result:
    """`total` GETs of `paths` (in turn) over `connections` keep-alive connections split across `processes`;
    the rate counts from the first process's start to the last one's end (after one warm-up request each)."""
    processes = max(1, min(processes, connections))
    per_process = [connections // processes + (1 if i < connections % processes else 0) for i in range(processes)]
    per_connection = max(1, total // connections)
    headers = headers or {}
    # warm-up: every connection's first request (worker start-up, first queries) is not timed
    warm = [(base, paths, headers, c, 1, i, processes) for i, c in enumerate(per_process)]
    timed = [(base, paths, headers, c, per_connection, i, processes) for i, c in enumerate(per_process)]
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        pool.map(_process, warm)
        started = time.perf_counter()
        parts = pool.map(_process, timed)
        seconds = time.perf_counter() - started
    merged = Result(seconds=seconds)
    for part in parts:
        merged.requests += part.requests
        merged.latencies += part.latencies
        merged.failures += part.failures
    return merged
