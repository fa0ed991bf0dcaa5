"""The bridge's link to the hub: a python-socketio ``AsyncClient`` on a thread and asyncio loop of its own.

The thread keeps the network off Kit's main loop, and keeps heartbeats and output flowing while a job holds
the job thread. Reconnecting is ours, with backoff: python-socketio 5.x does not reconnect when the server
closes the namespace, which is what a hub restart looks like. Every connection registers again, reporting
the jobs still running here (or whose result the hub has not acknowledged), so the hub keeps them.

Given several hubs (processes of one scaled-out hub), a lost connection or a failed dial moves on to the
next hub at once; the backoff (doubling, with jitter) applies between rounds in which every hub failed. The
next hub gets the same registration (id, secret, running jobs), then the output and results held meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
import random
import threading

import socketio

from .identity import HostIdentity
from .outbox import Outbox, wait_event

log = logging.getLogger(__name__)
NAMESPACE = "/extension"
FIRST_RETRY_S = 0.25


class HubClient:
    def __init__(self, config, bridge) -> None:
        self.config = config
        self.bridge = bridge  # registration(), stage_path(), admit(payload) -> ack, cancel(payload)
        self.outbox = Outbox(config.ack_timeout_s)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.state = "stopped"
        # One identity for the whole set of hubs: whichever process it reaches, the bridge is the same host.
        hubs = ",".join(sorted(config.hub_urls))
        self.identity = HostIdentity(config.secrets_dir, hubs, config.id or f"name:{config.name}")
        self._hub = 0  # index in config.hub_urls of the hub in use (or being dialled)
        self._failed_in_round = 0
        self.extension_id = config.id or self.identity.extension_id
        self.last_error: str | None = None
        self.ended = threading.Event()  # the thread is gone: stopped, or gave up (refused, replaced)
        self._thread: threading.Thread | None = None
        self._heartbeat_s = 10.0
        self._registered_once = False
        self._refused: str | None = None
        self._replaced: str | None = None

    @property
    def hub_url(self) -> str:
        """The hub in use, or being dialled."""
        return self.config.hub_urls[self._hub]

    def _next_hub(self) -> bool:
        """On to the next hub; True when every hub has now failed in a row (a round: back off)."""
        self._hub = (self._hub + 1) % len(self.config.hub_urls)
        self._failed_in_round += 1
        if self._failed_in_round < len(self.config.hub_urls):
            return False
        self._failed_in_round = 0
        return True

    # -- the thread ------------------------------------------------------------------------------------
    def start(self) -> None:
        ready = threading.Event()
        self._thread = threading.Thread(target=self._main, args=(ready,), name="switchboard-hub", daemon=True)
        self._thread.start()
        ready.wait()

    def stop(self, timeout: float = 5.0) -> None:
        try:
            self.loop.call_soon_threadsafe(self._stop.set)
        except (AttributeError, RuntimeError):  # never started, or its loop is closed: already over
            pass
        if self._thread is not None:
            self._thread.join(timeout)

    def _main(self, ready: threading.Event) -> None:
        self.loop = loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._stop, self._gone, self._refusal = asyncio.Event(), asyncio.Event(), asyncio.Event()
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

    # -- connection ------------------------------------------------------------------------------------
    async def _supervise(self) -> None:
        delay = FIRST_RETRY_S
        while not self._stop.is_set():
            self._gone.clear()
            self.state = "connecting"
            sio = self._make_client()
            try:
                if await self._connect(sio) and await self._session(sio):
                    delay, self._failed_in_round = FIRST_RETRY_S, 0
            finally:
                await _close(sio)
            refused = self._refused and self.config.give_up_when_refused and not self._registered_once
            if self._replaced or refused:
                self.state = "replaced" if self._replaced else "refused"
                log.error("not reconnecting: %s", self.last_error)
                return
            if not self._stop.is_set():
                self.state = "disconnected"
                if self._next_hub():
                    # Every hub failed in a row: wait, with jitter so bridges do not come back in step.
                    await wait_event(self._stop, delay * random.uniform(0.5, 1.5))
                    delay = min(delay * 2, self.config.reconnect_max_s)

    def _make_client(self) -> socketio.AsyncClient:
        sio = socketio.AsyncClient(reconnection=False, handle_sigint=False, logger=False)
        sio.on("disconnect", self._gone.set, namespace=NAMESPACE)
        sio.on("connect_error", self._on_connect_error, namespace=NAMESPACE)
        sio.on("job:run", self.bridge.admit, namespace=NAMESPACE)  # its return value is the ack
        sio.on("job:cancel", self.bridge.cancel, namespace=NAMESPACE)
        sio.on("hub:error", self._on_hub_error, namespace=NAMESPACE)
        return sio

    async def _connect(self, sio: socketio.AsyncClient) -> bool:
        self._refused = None
        self._refusal.clear()
        url, auth, timeout = self.hub_url, {"token": self.config.token}, self.config.ack_timeout_s
        options = {"namespaces": [NAMESPACE], "transports": ["websocket"], "wait_timeout": timeout}
        connect = asyncio.ensure_future(sio.connect(url, auth=auth, **options))
        # python-socketio 5.7 sits out its whole wait_timeout after a refusal: the refusal ends the wait here.
        others = [asyncio.ensure_future(self._stop.wait()), asyncio.ensure_future(self._refusal.wait())]
        await asyncio.wait([connect, *others], return_when=asyncio.FIRST_COMPLETED)
        for task in others:
            task.cancel()
        while not connect.done():
            # Again until it takes: Python 3.11's wait_for drops a cancel that lands as its wait ends, which
            # is just what happens here (the refusal also ends python-socketio's wait).
            connect.cancel()
            await asyncio.wait([connect], timeout=0.1)
        (outcome,) = await asyncio.gather(connect, return_exceptions=True)
        if isinstance(outcome, BaseException):
            if not self._stop.is_set():
                reason = f"hub refused the connection: {self._refused}" if self._refused else repr(outcome)
                self._error(f"cannot connect to {url}: {reason}")
            return False
        self.state = "connected"
        return True

    async def _session(self, sio: socketio.AsyncClient) -> bool:
        """Registers, then heartbeats and sends until the connection ends; True if it registered."""
        if not await self._register(sio):
            return False

        async def emit(event: str, body: dict, on_ack) -> None:
            def callback(ack=None) -> None:
                if on_ack is not None:
                    on_ack(ack)
                elif isinstance(ack, dict) and not ack.get("ok"):  # e.g. late output of a task that ended
                    log.debug("%s not taken: %s", event, ack.get("error"))

            await sio.emit(event, body, namespace=NAMESPACE, callback=callback)

        workers = [asyncio.ensure_future(w) for w in (self.outbox.pump(emit), self._heartbeats(emit))]
        ends = [asyncio.ensure_future(self._stop.wait()), asyncio.ensure_future(self._gone.wait())]
        done, _ = await asyncio.wait(workers + ends, return_when=asyncio.FIRST_COMPLETED)
        for task in workers + ends:
            task.cancel()
        await asyncio.gather(*workers, *ends, return_exceptions=True)
        for task in done & set(workers):
            if not task.cancelled() and task.exception() is not None:
                self._error(f"connection lost: {task.exception()!r}")
        self.outbox.connection_lost()
        return True

    async def _register(self, sio: socketio.AsyncClient) -> bool:
        while not self._gone.is_set() and not self._stop.is_set():
            payload = dict(self.bridge.registration(), running=self.outbox.running_ids())
            if self.extension_id:
                payload["id"] = self.extension_id
            if self.identity.secret:
                payload["secret"] = self.identity.secret
            try:
                timeout = self.config.ack_timeout_s
                ack = await sio.call("register", payload, namespace=NAMESPACE, timeout=timeout)
            except (socketio.exceptions.SocketIOError, OSError) as exc:
                self._error(f"register: {exc!r}")
                return False
            if isinstance(ack, dict) and ack.get("ok"):
                again = self._registered_once
                self.extension_id = ack["data"]["extensionId"]
                if ack["data"].get("hostSecret"):
                    self.identity.issued(self.extension_id, ack["data"]["hostSecret"])
                self._heartbeat_s = max(0.5, ack["data"].get("heartbeatMs", 10_000) / 1000)
                self.outbox.fold = "result-report" in (ack["data"].get("features") or [])
                self._registered_once, self.state, self.last_error = True, "registered", None
                verb = "re-registered" if again else "registered"
                log.info("%s as %s on %s", verb, self.extension_id, self.hub_url)
                return True
            error = ack.get("error") if isinstance(ack, dict) else ack
            self._error(f"hub rejected register: {error}")
            if isinstance(error, dict) and error.get("code") == "forbidden":
                # Another host owns this id (we lack its secret): asking again will not change that.
                self._refused = error.get("message")
                return False
            await wait_event(self._stop, 2.0)
        return False

    async def _heartbeats(self, emit) -> None:
        while True:
            await asyncio.sleep(self._heartbeat_s)
            body = {"running": self.outbox.running_ids(), "stagePath": self.bridge.stage_path()}
            await emit("heartbeat", body, None)

    def _on_connect_error(self, data=None) -> None:
        self._refused = data.get("message", str(data)) if isinstance(data, dict) else str(data)
        self._refusal.set()

    def _on_hub_error(self, body=None) -> None:
        body = body if isinstance(body, dict) else {}
        log.warning("hub error: %s: %s", body.get("code"), body.get("message"))
        if body.get("code") == "conflict":  # another connection registered our id: coming back would drop it
            self._replaced = body.get("message")
            self._error(f"replaced: {self._replaced}")

    def _error(self, message: str) -> None:
        if message != self.last_error:
            log.warning("%s", message)
        self.last_error = message


async def _close(sio: socketio.AsyncClient) -> None:
    try:
        await sio.disconnect()
    except Exception as exc:
        log.debug("disconnect: %r", exc)
    http = getattr(sio.eio, "http", None)  # engineio leaves its aiohttp session open after a failed connect
    if http is not None and not http.closed:
        await http.close()
