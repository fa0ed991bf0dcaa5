"""Stopping a job's code: timeouts and cancels, even of ``while True: pass``.

Code stuck in a loop never yields to asyncio, so cancelling its task does nothing; the watchdog thread
raises ``JobInterrupt`` inside the thread running it with ``PyThreadState_SetAsyncExc``. That thread may be
Kit's main thread, which runs much else between a job's steps, so the exception must only ever land while
the job's own code is on it: ``Guard`` marks those moments, and an exception still pending when a step ends
is withdrawn. While the job is suspended at an ``await``, its asyncio task is cancelled instead.

Neither reaches code blocked in a C call (``time.sleep(30)``, a socket read): the exception waits until the
call returns. The watchdog keeps trying and, once a job has ignored it for ``stuck_after_s``, escalates by
telling the bridge (``on_stuck``), which reports the job as stuck so the hub sends nothing to that slot.
"""

from __future__ import annotations

import ctypes
import threading
import time

# Time between attempts to stop a job that caught the interrupt and carried on.
RETRY_S = 0.5
# How long a job may ignore being stopped before it counts as stuck.
STUCK_AFTER_S = 3.0
_guards: dict[int, Guard] = {}


class JobInterrupt(BaseException):
    """Raised inside a job to stop it: a BaseException, which the job's ``except Exception`` lets by."""

    def __init__(self, *args) -> None:
        super().__init__(*args)
        # Python instantiates the class in the target thread when the pending exception fires: from here on
        # nothing is pending, and a later step may be interrupted again.
        guard = _guards.get(threading.get_ident())
        if guard is not None:
            guard.pending = False


def _set_async_exc(thread_id: int, exc_type) -> None:
    exc = ctypes.py_object(exc_type) if exc_type is not None else None  # None -> NULL: withdraw
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), exc)


def current_owner() -> str | None:
    """The task id of the job whose code runs on this thread right now, if any."""
    guard = _guards.get(threading.get_ident())
    return guard.owner if guard is not None else None


class Guard:
    """Knows whether a job's code is running right now, and on which thread."""

    def __init__(self, owner: str | None = None) -> None:
        self.owner = owner  # the job's task id (log lines logged from its code are tagged with it)
        self._lock = threading.Lock()
        self.thread_id: int | None = None
        self.pending = False

    def enter(self) -> None:
        with self._lock:
            self.thread_id = threading.get_ident()
            _guards[self.thread_id] = self

    def leave(self) -> None:
        # The pending exception may fire anywhere in here, even before the first line: then leave again, so
        # that the guard never stays entered, and pass the interrupt on.
        interrupted = None
        while True:
            try:
                self._leave()
                break
            except JobInterrupt as exc:
                interrupted = exc
        if interrupted is not None:
            raise interrupted

    def _leave(self) -> None:
        self.thread_id = None  # first: no new interrupt may target this thread from here
        me = threading.get_ident()  # leave() runs on the thread that entered
        with self._lock:
            if self.pending:
                _set_async_exc(me, None)
                self.pending = False
            if _guards.get(me) is self:
                del _guards[me]

    def interrupt(self) -> None:
        """Raises JobInterrupt in the job's thread if its code runs now (not while it is suspended)."""
        with self._lock:
            if self.thread_id is not None and not self.pending:
                self.pending = True
                _set_async_exc(self.thread_id, JobInterrupt)


class Guarded:
    """Awaits a coroutine step by step, with the guard entered while each step runs."""

    def __init__(self, coro, guard: Guard) -> None:
        self._coro = coro
        self._guard = guard

    def __await__(self):
        inner = self._coro.__await__()
        step, value = inner.send, None
        while True:
            self._guard.enter()
            try:
                signal = step(value)
            except StopIteration as done:
                return done.value
            finally:
                self._guard.leave()
            try:
                value, step = (yield signal), inner.send
            except GeneratorExit:
                inner.close()
                raise
            except BaseException as exc:  # thrown in by asyncio (cancel): pass it on to the job
                value, step = exc, inner.throw


class Watchdog:
    """One thread for all jobs: stops each at its deadline, or when asked to."""

    def __init__(self, stuck_after_s: float = STUCK_AFTER_S, on_stuck=None) -> None:
        self._cond = threading.Condition()
        self._jobs: dict[object, tuple[float, float]] = {}  # job -> (deadline, last attempt)
        self._first_try: dict[object, float] = {}  # job -> when the watchdog first tried to stop it
        self._stuck_after_s = stuck_after_s
        self._on_stuck = on_stuck  # called once per job, on the watchdog thread: must not block
        self._thread: threading.Thread | None = None
        self._closed = False

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="switchboard-watchdog", daemon=True)
        self._thread.start()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def watch(self, job) -> None:
        """``job`` has ``timeout_ms``, ``guard``, ``stop_reason`` and ``cancel_task()`` (see runner.Job)."""
        deadline = time.monotonic() + job.timeout_ms / 1000 if job.timeout_ms > 0 else float("inf")
        with self._cond:
            self._jobs[job] = (deadline, 0.0)
            self._cond.notify()

    def forget(self, job) -> None:
        with self._cond:
            self._jobs.pop(job, None)
            self._first_try.pop(job, None)

    def stop(self, job, reason: str) -> None:
        """Stops the job as ``reason`` ('cancelled' or 'timed_out'); the first reason given wins."""
        with self._cond:
            if job.stop_reason is None:
                job.stop_reason = reason
            if job in self._jobs:
                self._jobs[job] = (self._jobs[job][0], 0.0)
            self._cond.notify()

    def _run(self) -> None:
        with self._cond:
            while not self._closed:
                now = time.monotonic()
                wake = now + 1.0
                for job, (deadline, tried) in list(self._jobs.items()):
                    if job.stop_reason is None and now >= deadline:
                        job.stop_reason = "timed_out"
                    if job.stop_reason is None:
                        wake = min(wake, deadline)
                    elif now - tried >= RETRY_S:
                        self._jobs[job] = (deadline, now)
                        self._interrupt(job)
                        self._escalate(job, now)
                        wake = min(wake, now + RETRY_S)
                self._cond.wait(timeout=max(0.0, wake - time.monotonic()))

    def _escalate(self, job, now: float) -> None:
        first = self._first_try.setdefault(job, now)
        if now - first >= self._stuck_after_s and not getattr(job, "stuck", False):
            job.stuck = True
            if self._on_stuck is not None:
                try:
                    self._on_stuck(job)
                except Exception:  # the watchdog thread must survive whatever the callback does
                    pass

    @staticmethod
    def _interrupt(job) -> None:
        # Both: the interrupt stops code that is running, the cancel code suspended at an await; each is a
        # no-op in the other case.
        job.guard.interrupt()
        job.cancel_task()
