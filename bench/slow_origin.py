#!/usr/bin/env python3
"""A keep-alive HTTP/1.1 origin that answers every request after DELAY seconds (asyncio, one thread).

Usage: slow_origin.py PORT DELAY_SECONDS NAME. Body: 1 KiB. Only what the balancer benchmark needs:
GET/HEAD without a request body. GET /count answers at once with the number of other requests
served so far (the benchmark reads it to compute the slow origin's share).
"""
import asyncio
import sys

PORT = int(sys.argv[1])
DELAY = float(sys.argv[2])
NAME = sys.argv[3] if len(sys.argv) > 3 else "slow"
BODY = b"x" * 1024
served = 0
HEAD = (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nX-Upstream: %s\r\n\r\n"
        % (len(BODY), NAME.encode()))


async def handle(reader, writer):
    global served
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            if not head:
                break
            if head.startswith(b"GET /count "):
                text = str(served).encode()
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(text), text))
                await writer.drain()
                continue
            served += 1
            await asyncio.sleep(DELAY)
            writer.write(HEAD + (b"" if head.startswith(b"HEAD ") else BODY))
            await writer.drain()
            if b"connection: close" in head.lower():
                break
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", PORT, backlog=4096)
    async with server:
        await server.serve_forever()


asyncio.run(main())
