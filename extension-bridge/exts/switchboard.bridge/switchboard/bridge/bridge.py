"""The bridge: takes the jobs the hub sends, runs them where the host says, reports how they ended.

Threads: the hub link's (all of this class's job bookkeeping runs there, so it needs no locks), the job loop
(Kit's main thread, or the bridge's job thread) and the watchdog. Nothing here blocks the job loop.
"""

from __future__ import annotations

import collections
import logging
import platform
import threading
import time

from . import capture, runner
from .client import HubClient
from .config import BridgeConfig
from .hosts import PlainHost
from .kit_log import LogBuffer, LogForwarder
from .policy import Policy
from .watchdog import Watchdog, current_owner

log = logging.getLogger(__name__)
RECENT_JOBS = 8  # ended jobs the status shows


class Bridge:
    def __init__(self, config: BridgeConfig, host=None, policy: Policy | None = None) -> None:
        self.config = config
        self.host = host or PlainHost()
        self.policy = policy or Policy(
            mode=config.policy_mode, allow=config.policy_allow, max_code_bytes=config.max_code_bytes,
            allow_modules=config.policy_allow_modules,
        )
        self.client = HubClient(config, self)
        self.watchdog = Watchdog(config.stuck_after_s, self._stuck_from_watchdog)
        self.paused = False
        self._recent: collections.deque = collections.deque(maxlen=RECENT_JOBS)
        self.forwarder: LogForwarder | None = None
        if config.forward_log != "off":
            buffer = LogBuffer(config.log_buffer_lines)
            self.forwarder = LogForwarder(config.forward_log, buffer, self.job_for_log_line)
            self.client.outbox.logs = buffer
        self.jobs_run = 0
        self._jobs: dict[str, runner.Job] = {}
        self._successors: dict[str, runner.Job] = {}  # new attempts waiting for their stopped predecessor
        self._job_loop = None
        self._stopping = False
        self._lock = threading.Lock()  # start/stop may come from any thread

    # -- life cycle ------------------------------------------------------------------------------------
    def start(self) -> None:
        with self._lock:
            capture.install()
            self.watchdog.start()
            self._job_loop = self.host.make_loop()
            self.client.start()
            if self.forwarder is not None:
                try:
                    self.forwarder.start()
                except ImportError:  # no carb.logging: not in Kit, there is no Kit log to forward
                    log.warning("forward_log is on but carb.logging is missing: Kit's log is not forwarded")
                    self.forwarder = None
            c, p = self.config, self.policy
            log.info("bridge %s started: hub %s, policy %s, rules from %s", c.name, c.hub_url, p.mode,
                     p.rules.source)

    def stop(self, timeout: float = 5.0) -> None:
        """Leaves the hub first (it re-queues or fails the running jobs per their retry budget), then stops
        the jobs, the job loop and the watchdog."""
        with self._lock:
            if self._stopping:
                return
            self._stopping = True
            if self.forwarder is not None:
                self.forwarder.stop()
            self.client.stop(timeout)
            for job in list(self._jobs.values()):
                self.watchdog.stop(job, "cancelled")
            if self._job_loop is not None:
                self._job_loop.close(timeout)
            self.watchdog.close()
            capture.uninstall()
            log.info("bridge %s stopped", self.config.name)

    @property
    def ended(self) -> bool:
        """The hub link gave up by itself (refused token, replaced by another connection)."""
        return self.client.ended.is_set() and not self._stopping

    def status(self) -> dict:
        c = self.client
        return {
            "state": c.state,
            "hub_url": c.hub_url,
            "extension_id": c.extension_id,
            "last_error": c.last_error,
            "jobs_run": self.jobs_run,
            "running": len(self._jobs),
            "stuck": [job.task_id for job in list(self._jobs.values()) if job.stuck],
            "paused": self.paused,
            "jobs": self.recent_jobs(),
        }

    def recent_jobs(self) -> list[dict]:
        """The jobs running now, then the last ended ones, newest first: id, status, duration (s)."""
        now = time.monotonic()
        jobs = []
        for job in list(self._jobs.values()):
            status = "stuck" if job.stuck else "stopping" if job.stop_reason else "running"
            duration = now - job.started_at if job.started_at else None
            jobs.append({"id": job.task_id, "status": status, "duration_s": duration})
        return jobs + list(reversed(self._recent))

    def job_for_log_line(self) -> str | None:
        """The job a log line belongs to: the one whose code runs on this thread, else the only one running."""
        owner = current_owner()
        if owner is not None:
            return owner
        jobs = list(self._jobs)
        return jobs[0] if len(jobs) == 1 else None

    # -- asked by the hub link, on its loop --------------------------------------------------------------
    def registration(self) -> dict:
        app, version = self.host.identity()
        caps = {"hostApp": app[:128], "hostVersion": version[:64], "pythonVersion": platform.python_version()}
        stage = self.host.stage_path()
        if stage:
            caps["stagePath"] = stage
        c = self.config
        reg = {"name": c.name, "labels": c.labels, "concurrency": c.concurrency, "capabilities": caps}
        if self.paused:
            reg["paused"] = True
        return reg

    def set_paused(self, paused: bool) -> None:
        """Stops (or resumes) taking jobs, from any thread; the hub is told, and sends none meanwhile."""
        self.paused = bool(paused)
        loop = self.client.loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self.client.outbox.set_paused, self.paused)

    def stage_path(self) -> str | None:
        return self.host.stage_path()

    def admit(self, payload=None) -> dict:
        """The ack of a job:run, decided at once; an accepted job starts right after the ack is sent."""
        try:
            task_id, code = payload["taskId"], payload["code"]
            timeout_ms = int(payload.get("timeoutMs") or 0)
            attempt = int(payload.get("attempt") or 0)
            if not isinstance(task_id, str) or not isinstance(code, str):
                raise TypeError("taskId and code must be strings")
        except (KeyError, TypeError, ValueError) as exc:
            return {"accepted": False, "reason": f"invalid job:run: {exc!r}"}
        if self._stopping:
            return {"accepted": False, "reason": "the bridge is stopping"}
        if self.paused and task_id not in self._jobs:
            return {"accepted": False, "reason": "paused: the user paused taking jobs"}
        # Sent again after the hub told us to stop it (it re-queued the task, e.g. after its restart): a new
        # attempt. The stopped one's result is dropped here too (hubs that predate attempts in reports would
        # let its "cancelled" end the new one); if it still runs, the new attempt starts when it has ended.
        current = self._jobs.get(task_id)
        if current is not None and current.stop_reason is not None:
            self._successors[task_id] = runner.Job(task_id, code, timeout_ms, attempt)
            return {"accepted": True}
        outbox = self.client.outbox
        finished = outbox.result_status(task_id)
        if finished in ("cancelled", "timed_out"):
            outbox.forget(task_id)
        elif finished is not None and attempt > (outbox.result_attempt(task_id) or 0):
            # A new attempt of a job that finished here while the hub could not hear it (it re-queued the task
            # after its restart): the finished run's result answers the new attempt; the code does not run twice.
            outbox.carry_over(task_id, attempt)
            return {"accepted": True}
        # Sent again (a lost ack) while it runs here, or its result is on its way: not run twice.
        elif current is not None or task_id in self.client.outbox:
            return {"accepted": True}
        if len(self._jobs) >= self.config.concurrency:
            busy = f"busy: {len(self._jobs)} of {self.config.concurrency} slots in use"
            return {"accepted": False, "reason": busy}
        job = runner.Job(task_id, code, timeout_ms, attempt)
        self._jobs[task_id] = job
        self.client.loop.call_soon(self._start, job)
        return {"accepted": True}

    def cancel(self, payload=None) -> None:
        payload = payload if isinstance(payload, dict) else {}
        task_id, reason = payload.get("taskId"), payload.get("reason")
        for job in (self._jobs.get(task_id), self._successors.get(task_id)):
            if job is not None:  # unknown or finished: nothing to stop
                self.watchdog.stop(job, reason if reason in ("cancelled", "timed_out") else "cancelled")

    def _stuck_from_watchdog(self, job: runner.Job) -> None:
        try:
            self.client.loop.call_soon_threadsafe(self._stuck, job)
        except (AttributeError, RuntimeError):  # the hub link is gone (stopping): nobody to tell
            pass

    def _stuck(self, job: runner.Job) -> None:
        if self._jobs.get(job.task_id) is job:
            log.warning("job %s is stuck: it ignores being stopped (%s)", job.task_id, job.stop_reason)
            self.client.outbox.job_stuck(job.task_id)

    # -- running ---------------------------------------------------------------------------------------
    def _start(self, job: runner.Job) -> None:
        self.client.outbox.job_started(job.task_id, job.output, job.attempt)
        if job.stop_reason is not None or self._job_loop is None:
            self._finish(job, {"status": job.stop_reason or "cancelled"})
            return
        log.info("job %s started (timeout %s ms)", job.task_id, job.timeout_ms)
        job.started_at = time.monotonic()
        self.watchdog.watch(job)

        async def run() -> dict:
            return await runner.run(job, self.policy, self.host.job_globals())

        future = self._job_loop.submit(run)
        future.add_done_callback(lambda f: self._from_job_loop(job, f))

    def _from_job_loop(self, job: runner.Job, future) -> None:
        try:
            self.client.loop.call_soon_threadsafe(self._ended, job, future)
        except RuntimeError:  # the hub link is gone (stopping): nobody to tell
            pass

    def _ended(self, job: runner.Job, future) -> None:
        if future.cancelled():
            outcome = {"status": job.stop_reason or "cancelled"}
        elif future.exception() is not None:  # the bridge failed around the job, not the job itself
            outcome = {"status": "failed", "error": runner.describe(future.exception(), job.code)}
        else:
            outcome = future.result()
        self._finish(job, outcome)

    def _finish(self, job: runner.Job, outcome: dict) -> None:
        self.watchdog.forget(job)
        self._jobs.pop(job.task_id, None)
        self.jobs_run += 1
        took = time.monotonic() - job.started_at if job.started_at else None
        self._recent.append({"id": job.task_id, "status": outcome["status"], "duration_s": took})
        error = outcome.get("error") or {}
        log.info("job %s %s%s", job.task_id, outcome["status"], f": {error['message']}" if error else "")
        successor = self._successors.pop(job.task_id, None)
        if successor is None:
            self.client.outbox.job_finished(job.task_id, outcome)
            return
        self.client.outbox.forget(job.task_id)
        self._jobs[job.task_id] = successor
        self._start(successor)
