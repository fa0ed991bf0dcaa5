"""Runs one job's code: policy check, compile, execute, and the outcome the hub is told.

The code runs in a fresh namespace, as a coroutine on whatever loop awaits ``run`` (Kit's main loop, or the
bridge's job loop), so top-level ``await`` works and a job that awaits lets Kit (and other jobs) carry on.
"""

from __future__ import annotations

import ast
import asyncio
import builtins
import inspect
import json
import linecache
import threading
import traceback
from dataclasses import dataclass, field

from . import capture
from .policy import Policy
from .watchdog import Guard, Guarded

FILENAME = "<job>"
FLAGS = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
# Past these a message would outgrow what the hub takes in one Socket.IO packet, and it would drop the link.
MAX_RESULT_CHARS = 1_000_000
MAX_TEXT_CHARS = 200_000
_linecache_lock = threading.Lock()


@dataclass(eq=False)
class Job:
    """A job as the runner and the watchdog see it."""

    task_id: str
    code: str
    timeout_ms: int = 0
    attempt: int = 0  # from job:run; sent back on every report so the hub can drop a replaced attempt's
    output: capture.OutputBuffer = field(default_factory=capture.OutputBuffer)
    guard: Guard = field(default_factory=Guard)
    stop_reason: str | None = None
    stuck: bool = False  # ignored being stopped for the watchdog's stuck_after_s (see watchdog.py)
    started_at: float = 0.0  # time.monotonic() when it started; 0 until then
    _task: asyncio.Task | None = None
    _loop: asyncio.AbstractEventLoop | None = None

    def __post_init__(self) -> None:
        self.guard.owner = self.task_id

    def cancel_task(self) -> None:
        """Cancels the job's asyncio task from any thread (the watchdog's)."""
        task, loop = self._task, self._loop
        if task is not None and loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(task.cancel)


def split_tail(tree: ast.Module) -> tuple[ast.Module, ast.Expression | None]:
    """The code without its trailing expression, and that expression, whose value is the job's result."""
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        return tree, ast.Expression(body=tree.body.pop().value)
    return tree, None


def namespace(extras: dict | None = None) -> dict:
    ns = {"__name__": "__main__", "__builtins__": builtins}
    ns.update(extras or {})
    return ns


async def _evaluate(code, ns: dict):
    value = eval(code, ns)
    if code.co_flags & inspect.CO_COROUTINE:  # the code awaits at top level: eval made it a coroutine
        value = await value
    return value


async def _execute(tree: ast.Module, ns: dict):
    body, tail = split_tail(tree)
    await _evaluate(compile(body, FILENAME, "exec", flags=FLAGS, dont_inherit=True), ns)
    value = None
    if tail is not None:
        value = await _evaluate(compile(tail, FILENAME, "eval", flags=FLAGS, dont_inherit=True), ns)
    return ns.get("result") if value is None else value


def json_safe(value):
    """The value itself when it survives JSON, else its repr."""
    try:
        json.dumps(value, allow_nan=False)
        return value
    except (TypeError, ValueError, OverflowError, RecursionError):
        pass
    try:
        return repr(value)
    except Exception:
        return "<unrepresentable " + type(value).__qualname__ + ">"


def success(value) -> dict:
    value = json_safe(value)
    size = len(json.dumps(value))
    if size > MAX_RESULT_CHARS:
        message = f"ResultTooLarge: the result is {size} characters of JSON; the limit is {MAX_RESULT_CHARS}"
        return {"status": "failed", "error": {"message": message, "type": "ResultTooLarge"}}
    return {"status": "succeeded", "result": value}


def clip(text: str) -> str:
    if len(text) <= MAX_TEXT_CHARS:
        return text
    half = MAX_TEXT_CHARS // 2
    return f"{text[:half]}\n[... {len(text) - 2 * half} characters left out ...]\n{text[-half:]}"


def type_name(exc: BaseException) -> str:
    cls = type(exc)
    if cls.__module__ in ("builtins", "__main__"):
        return cls.__qualname__
    return f"{cls.__module__}.{cls.__qualname__}"


def describe(exc: BaseException, source: str) -> dict:
    """message, type and a traceback from the job's first frame on (the bridge's are not the user's)."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != FILENAME:
        tb = tb.tb_next
    name = type_name(exc)
    try:
        text = exc.msg if isinstance(exc, SyntaxError) and exc.msg else str(exc)
    except Exception:
        text = "<unprintable exception>"
    # Concurrent jobs share the name "<job>": put this job's lines in the cache just while formatting.
    with _linecache_lock:
        saved = linecache.cache.get(FILENAME)
        linecache.cache[FILENAME] = (len(source), None, source.splitlines(True), FILENAME)
        try:
            formatted = "".join(traceback.format_exception(type(exc), exc, tb))
        finally:
            if saved is None:
                linecache.cache.pop(FILENAME, None)
            else:
                linecache.cache[FILENAME] = saved
    message = f"{name}: {text}" if text else name
    return {"message": clip(message), "type": name[:256], "traceback": clip(formatted)}


def _refusal(verdict) -> dict:
    first = verdict.violations[0]
    lines = [f"line {v.line}, column {v.column}: {v.message} [{v.rule}]" for v in verdict.violations]
    where = f"[{first.rule}] at line {first.line}, column {first.column}"
    message = f"refused by the bridge's safety policy: {first.message} {where}"
    listing = "PolicyError:\n" + "".join(f"  {line}\n" for line in lines)
    return {"message": message, "type": "PolicyError", "traceback": listing}


async def run(job: Job, policy: Policy | None = None, extras: dict | None = None) -> dict:
    """Runs the job on the current loop; returns ``{status, result?, error?}`` as job:result wants it."""
    job._task, job._loop = asyncio.current_task(), asyncio.get_running_loop()
    if job.stop_reason:  # stopped while it waited for its turn
        return {"status": job.stop_reason}
    token = capture.redirect_to(job.output)
    try:
        tree = ast.parse(job.code, FILENAME, "exec")
        if policy is not None:
            verdict = policy.check_tree(tree, job.code)
            if verdict.refused:
                return {"status": "failed", "error": _refusal(verdict)}
            for v in verdict.violations:  # permissive: say so, then run
                warning = f"[switchboard policy warning] line {v.line}: {v.message} [{v.rule}]\n"
                job.output.write("stderr", warning)
        value = await Guarded(_execute(tree, namespace(extras)), job.guard)
        if job.stop_reason:
            return {"status": job.stop_reason}
        return success(value)
    except BaseException as exc:  # the job's own errors, and our interrupt: all are the job's outcome
        if job.stop_reason:
            return {"status": job.stop_reason}
        if isinstance(exc, SystemExit) and exc.code in (None, 0):
            return {"status": "succeeded", "result": None}
        return {"status": "failed", "error": describe(exc, job.code)}
    finally:
        capture.restore(token)
        job._task = None
