#!/usr/bin/env python3
"""Opens N keep-alive connections to host:port, makes one GET on each (so every connection is a real
keep-alive connection, with a pooled upstream behind it on a proxy), holds them all open until
stdin closes or HOLD seconds pass, then closes them. Prints "ready OPEN FAILED" once all are set up.
Bounded: every step has a timeout; nothing is retried."""
import asyncio
import socket
import struct
import sys

HOST, PORT, N = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
CONCURRENCY = int(sys.argv[4]) if len(sys.argv) > 4 else 64
HOLD = float(sys.argv[5]) if len(sys.argv) > 5 else 120.0
REQUEST = b"GET / HTTP/1.1\r\nHost: idle.test\r\n\r\n"


async def one(writers, failed):
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(HOST, PORT), 10)
        writer.write(REQUEST)
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        if not head.startswith(b"HTTP/1.1 200"):
            raise ValueError(head[:40])
        await asyncio.wait_for(reader.readexactly(length), 10)
        writers.append(writer)
    except Exception as e:  # counted, never retried
        failed.append(repr(e))


async def main():
    writers, failed = [], []
    gate = asyncio.Semaphore(CONCURRENCY)

    async def gated():
        async with gate:
            await one(writers, failed)

    await asyncio.gather(*(gated() for _ in range(N)))
    print(f"ready {len(writers)} {len(failed)}", flush=True)
    if failed:
        print(f"first failure: {failed[0]}", file=sys.stderr, flush=True)
    loop = asyncio.get_running_loop()
    stdin_closed = loop.run_in_executor(None, sys.stdin.read)
    try:
        await asyncio.wait_for(stdin_closed, HOLD)
    except asyncio.TimeoutError:
        pass
    for w in writers:
        # RST rather than FIN: 10k sockets in TIME_WAIT would use up the ephemeral ports of the next run.
        w.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        w.close()
    print("closed", flush=True)
    sys.stdout.flush()
    import os
    os._exit(0)  # the stdin reader thread may still block


asyncio.run(main())
