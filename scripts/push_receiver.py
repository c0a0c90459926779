"""A partner's push endpoint for the crash test and the delivery benchmark (Python 3 standard library only).

HTTP/1.1 with keep-alive on 127.0.0.1 (any free port), 200 for every POST. Each Idempotency-Key's body and the time
it first arrived are kept once, as a partner that honours the key would: a resend with a known key is answered 200
and counted in `posts`, not kept again.
"""

import asyncio
import threading
import time


class PushReceiver:
    def __init__(self) -> None:
        self.bodies: dict[str, bytes] = {}
        self.first_seen: dict[str, float] = {}
        self.posts = 0
        self._ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        threading.Thread(target=self._run, daemon=True).start()
        self._ready.wait()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", 0, backlog=1024))
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    async def _handle(self, reader, writer) -> None:
        try:
            while True:
                if not await reader.readline():
                    break
                headers = {}
                while True:
                    line = await reader.readline()
                    if line in (b"\r\n", b"\n", b""):
                        break
                    name, _, value = line.decode("latin-1").partition(":")
                    headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                self.posts += 1
                key = headers.get("idempotency-key", "")
                if key not in self.bodies:
                    self.bodies[key] = body
                    self.first_seen[key] = time.time()
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        writer.close()
