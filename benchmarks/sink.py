"""A webhook receiver for the benchmarks, in its own process.

    python -m benchmarks.sink --port 9100

Answers every POST with 200 and records (webhook-id, paymentRequestId, arrival time);
`GET /arrivals` returns them as JSON. Raw asyncio streams: cheap, keep-alive.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"

arrivals: list[tuple[str, str, float]] = []


async def _serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            at = time.time()
            headers: dict[bytes, bytes] = {}
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                headers[name.strip().lower()] = value.strip()
            length = int(headers.get(b"content-length", b"0"))
            body = await reader.readexactly(length) if length else b""
            if head.startswith(b"GET /arrivals"):
                payload = json.dumps(arrivals).encode()
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    + f"Content-Length: {len(payload)}\r\n\r\n".encode()
                    + payload
                )
            else:
                try:
                    payment = str(json.loads(body).get("paymentRequestId", ""))
                except ValueError:
                    payment = ""
                arrivals.append((headers.get(b"webhook-id", b"").decode(), payment, at))
                writer.write(OK)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def main(port: int) -> None:
    server = await asyncio.start_server(_serve, "127.0.0.1", port, backlog=512)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    asyncio.run(main(parser.parse_args().port))
