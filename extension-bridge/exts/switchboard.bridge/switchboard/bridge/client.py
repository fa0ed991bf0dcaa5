"""The bridge's link to the hub: a python-socketio ``AsyncClient`` on a thread and asyncio loop of its own.

The thread keeps the network off Kit's main loop, and keeps heartbeats and output flowing while a job holds
the job thread. Reconnecting is ours, with backoff: python-socketio 5.x does not reconnect when the server
closes the namespace, which is what a hub restart looks like. Every connection registers again, with the
jobs still running here (or whose result the hub has not acknowledged) in ``running``, so the hub keeps them.

What goes out per job (started, output, result) is state, not a queue: while registered, a pump sends it
in order every ``TICK_S``; while not, it waits, so nothing is sent before ``register`` on a new connection.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from dataclasses import dataclass

import socketio

from .capture import OutputBuffer

log = logging.getLogger(__name__)
NAMESPACE = "/extension"
TICK_S = 0.05  # output reaches the hub at most this long after it was written
MAX_RUNNING = 64  # the contract's cap on `running`


@dataclass(eq=False)
class Outgoing:
    task_id: str
    output: OutputBuffer
    started_sent: bool = False
    result: dict | None = None
    result_sent_at: float | None = None


class HubClient:
    def __init__(self, config, bridge) -> None:
        self.config = config
        # registration(), stage_path(), admit(payload) -> ack, cancel(payload)
        self.bridge = bridge
        self.loop: asyncio.AbstractEventLoop | None = None
        self.state = "stopped"
        self.extension_id = config.id
        self.last_error: str | None = None
        self.ended = threading.Event()  # the thread is gone: stopped, or gave up (refused, replaced)
        self._thread: threading.Thread | None = None
        self._outgoing: dict[str, Outgoing] = {}
        self._heartbeat_s = 10.0
        self._registered_once = False
        self._refused: str | None = None
        self._replaced: str | None = None

    # -- the thread ------------------------------------------------------------------------------------
    def start(self) -> None:
        ready = threading.Event()
        self._thread = threading.Thread(target=self._thread_main, args=(ready,), name="switchboard-hub", daemon=True)
        self._thread.start()
        ready.wait()

    def stop(self, timeout: float = 5.0) -> None:
        loop = self.loop
        if loop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(self._stop.set)
            except RuntimeError:  # closed in between: already stopping
                pass
        if self._thread is not None:
            self._thread.join(timeout)

    def _thread_main(self, ready: threading.Event) -> None:
        self.loop = loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._stop, self._wake, self._gone, self._refusal = (asyncio.Event() for _ in range(4))
        ready.set()
        try:
            loop.run_until_complete(self._supervise())
        except Exception:
            log.exception("the hub link failed")
        finally:
            for task in asyncio.all_tasks(loop):
                task.cancel()
            loop.run_until_complete(asyncio.sleep(0))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())  # aiohttp's resolver threads
            loop.close()
            if self.state not in ("refused", "replaced"):
                self.state = "stopped"
            self.ended.set()

    # -- job reports, called on the hub loop -------------------------------------------------------------
    def job_started(self, task_id: str, output: OutputBuffer) -> None:
        self._outgoing[task_id] = Outgoing(task_id, output)
        self._wake.set()

    def job_finished(self, task_id: str, result: dict) -> None:
        outgoing = self._outgoing.get(task_id)
        if outgoing is not None:
            outgoing.result = result
            self._wake.set()

    def knows(self, task_id: str) -> bool:
        return task_id in self._outgoing

    def running_ids(self) -> list[str]:
        return list(self._outgoing)[:MAX_RUNNING]

    # -- connection ------------------------------------------------------------------------------------
    async def _supervise(self) -> None:
        delay = 0.25
        while not self._stop.is_set():
            self._gone.clear()
            self.state = "connecting"
            sio = self._make_client()
            try:
                if await self._connect(sio):
                    if await self._session(sio):
                        delay = 0.25
            finally:
                await self._close(sio)
            if self._replaced or (self._refused and self.config.give_up_when_refused and not self._registered_once):
                self.state = "replaced" if self._replaced else "refused"
                log.error("not reconnecting: %s", self.last_error)
                return
            if not self._stop.is_set():
                self.state = "disconnected"
                await self._pause(delay)
                delay = min(delay * 2, self.config.reconnect_max_s)

    def _make_client(self) -> socketio.AsyncClient:
        sio = socketio.AsyncClient(reconnection=False, handle_sigint=False, logger=False, engineio_logger=False)
        sio.on("disconnect", self._gone.set, namespace=NAMESPACE)
        sio.on("connect_error", self._on_connect_error, namespace=NAMESPACE)
        sio.on("job:run", self.bridge.admit, namespace=NAMESPACE)  # the return value is the ack
        sio.on("job:cancel", self.bridge.cancel, namespace=NAMESPACE)
        sio.on("hub:error", self._on_hub_error, namespace=NAMESPACE)
        return sio

    async def _connect(self, sio: socketio.AsyncClient) -> bool:
        self._refused = None
        self._refusal.clear()
        connect = asyncio.ensure_future(
            sio.connect(self.config.hub_url, auth={"token": self.config.token}, namespaces=[NAMESPACE],
                        transports=["websocket"], wait_timeout=self.config.ack_timeout_s)
        )  # fmt: skip
        # python-socketio 5.7 sits out its whole wait_timeout after a refusal; the refusal itself ends the wait.
        others = [asyncio.ensure_future(self._stop.wait()), asyncio.ensure_future(self._refusal.wait())]
        await asyncio.wait([connect, *others], return_when=asyncio.FIRST_COMPLETED)
        for task in others:
            task.cancel()
        while not connect.done():
            # Again until it takes: Python 3.11's wait_for drops a cancel that lands as its wait ends, which is
            # just what happens here (the refusal also ends python-socketio's wait).
            connect.cancel()
            await asyncio.wait([connect], timeout=0.1)
        (outcome,) = await asyncio.gather(connect, return_exceptions=True)
        if isinstance(outcome, BaseException):
            if not self._stop.is_set():
                reason = f"hub refused the connection: {self._refused}" if self._refused else repr(outcome)
                self._error(f"cannot connect to {self.config.hub_url}: {reason}")
            return False
        self.state = "connected"
        return True

    async def _session(self, sio: socketio.AsyncClient) -> bool:
        """Registers, then heartbeats and sends until the connection ends; True if it registered."""
        if not await self._register(sio):
            return False
        workers = [asyncio.ensure_future(self._pump(sio)), asyncio.ensure_future(self._heartbeats(sio))]
        ends = [asyncio.ensure_future(self._stop.wait()), asyncio.ensure_future(self._gone.wait())]
        done, _ = await asyncio.wait(workers + ends, return_when=asyncio.FIRST_COMPLETED)
        for task in workers + ends:
            task.cancel()
        await asyncio.gather(*workers, *ends, return_exceptions=True)
        for task in done & set(workers):
            if not task.cancelled() and task.exception() is not None:
                self._error(f"connection lost: {task.exception()!r}")
        for outgoing in self._outgoing.values():
            outgoing.result_sent_at = None  # unacknowledged: send again after the next registration
        return True

    async def _register(self, sio: socketio.AsyncClient) -> bool:
        while not self._gone.is_set() and not self._stop.is_set():
            payload = dict(self.bridge.registration(), running=self.running_ids())
            if self.extension_id:
                payload["id"] = self.extension_id
            try:
                ack = await sio.call("register", payload, namespace=NAMESPACE, timeout=self.config.ack_timeout_s)
            except (socketio.exceptions.SocketIOError, OSError) as exc:
                self._error(f"register: {exc!r}")
                return False
            if isinstance(ack, dict) and ack.get("ok"):
                again = self._registered_once
                self.extension_id = ack["data"]["extensionId"]
                self._heartbeat_s = max(0.5, ack["data"].get("heartbeatMs", 10_000) / 1000)
                self._registered_once, self.state, self.last_error = True, "registered", None
                log.info("%s as %s on %s", "re-registered" if again else "registered", self.extension_id, self.config.hub_url)
                return True
            self._error(f"hub rejected register: {_ack_error(ack)}")
            await self._pause(2.0)
        return False

    async def _pump(self, sio: socketio.AsyncClient) -> None:
        while True:
            await _wait(self._wake, TICK_S)
            self._wake.clear()
            for out in list(self._outgoing.values()):
                if not out.started_sent:
                    await self._emit(sio, "job:started", {"taskId": out.task_id})
                    out.started_sent = True
                for stream, text in out.output.drain():
                    await self._emit(sio, "job:output", {"taskId": out.task_id, "stream": stream, "text": text})
                stale = out.result_sent_at is None or time.monotonic() - out.result_sent_at > self.config.ack_timeout_s
                if out.result is not None and stale and not out.output:
                    out.result_sent_at = time.monotonic()
                    body = dict(out.result, taskId=out.task_id)
                    await sio.emit("job:result", body, namespace=NAMESPACE, callback=lambda ack, o=out: self._acked(o, ack))

    async def _heartbeats(self, sio: socketio.AsyncClient) -> None:
        while True:
            await asyncio.sleep(self._heartbeat_s)
            body = {"running": self.running_ids(), "stagePath": self.bridge.stage_path()}
            await self._emit(sio, "heartbeat", body)

    async def _emit(self, sio: socketio.AsyncClient, event: str, body: dict) -> None:
        def check(ack=None) -> None:
            if isinstance(ack, dict) and not ack.get("ok"):
                # e.g. output of a task the hub already ended: dropped there on purpose
                log.debug("%s not taken: %s", event, _ack_error(ack))

        await sio.emit(event, body, namespace=NAMESPACE, callback=check)

    def _acked(self, out: Outgoing, ack) -> None:
        if self._outgoing.get(out.task_id) is out:
            del self._outgoing[out.task_id]
        if isinstance(ack, dict) and not ack.get("ok"):
            log.warning("job:result %s not taken: %s", out.task_id, _ack_error(ack))

    def _on_connect_error(self, data=None) -> None:
        self._refused = data.get("message", str(data)) if isinstance(data, dict) else str(data)
        self._refusal.set()

    def _on_hub_error(self, body=None) -> None:
        body = body if isinstance(body, dict) else {}
        log.warning("hub error: %s: %s", body.get("code"), body.get("message"))
        if body.get("code") == "conflict":  # another connection registered our id: coming back would drop it
            self._replaced = body.get("message")
            self._error(f"replaced: {self._replaced}")

    # -- helpers ---------------------------------------------------------------------------------------
    def _error(self, message: str) -> None:
        if message != self.last_error:
            log.warning("%s", message)
        self.last_error = message

    async def _pause(self, seconds: float) -> None:
        await _wait(self._stop, seconds)

    @staticmethod
    async def _close(sio: socketio.AsyncClient) -> None:
        try:
            await sio.disconnect()
        except Exception as exc:
            log.debug("disconnect: %r", exc)
        http = getattr(sio.eio, "http", None)  # engineio leaves its aiohttp session open after a failed connect
        if http is not None and not http.closed:
            await http.close()


async def _wait(event: asyncio.Event, timeout: float) -> None:
    """Waits for the event or the timeout. Not wait_for: Python 3.11's drops a cancel that lands as it ends."""
    waiter = asyncio.ensure_future(event.wait())
    try:
        await asyncio.wait([waiter], timeout=timeout)
    finally:
        waiter.cancel()


def _ack_error(ack) -> str:
    error = ack.get("error", {}) if isinstance(ack, dict) else {}
    return f"{error.get('code', '?')}: {error.get('message', ack)}"
