"""Runs one Switchboard job for the reference host (python-runner.ts).

The job's source arrives on stdin. Its prints go to stdout/stderr untouched; the outcome is written as one
JSON line to fd 3, a channel of its own, so nothing the job prints can be mistaken for it:
  {"ok": true, "result": <value>, "repr": <bool>}     value of the last expression, else of `result`
  {"ok": false, "error": {"message", "type", "traceback"}}
Top-level `await` works; the code then runs on an asyncio loop owned by this wrapper.
"""

import ast
import builtins
import inspect
import json
import linecache
import os
import sys
import traceback
import types

FILENAME = "<job>"
COMPILE_FLAGS = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT


def open_channel():
    # The channel belongs to the host: move it off fd 3 to a non-inheritable fd so that processes
    # the job starts cannot write to it.
    fd = os.dup(3)
    os.close(3)
    return os.fdopen(fd, "w", encoding="utf-8")


def compile_job(source):
    """Compiles the code in two parts: everything but a trailing expression, and that expression."""
    tree = ast.parse(source, FILENAME, "exec")
    tail = None
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        tail = ast.Expression(body=tree.body.pop().value)
    body = compile(tree, FILENAME, "exec", flags=COMPILE_FLAGS, dont_inherit=True)
    if tail is not None:
        tail = compile(tail, FILENAME, "eval", flags=COMPILE_FLAGS, dont_inherit=True)
    return body, tail


def is_async(code):
    return code is not None and bool(code.co_flags & inspect.CO_COROUTINE)


class Runner:
    def __init__(self, namespace):
        self.namespace = namespace
        self.loop = None

    def prepare(self, *codes):
        """Sets up one event loop for the whole job if any part awaits, before any part runs: futures the
        code creates without awaiting them must belong to the loop a later top-level `await` runs on.
        (asyncio is imported only then: it is most of the wrapper's start-up time.)"""
        if any(is_async(code) for code in codes):
            import asyncio

            self.loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self.loop)

    def run(self, code):
        value = eval(code, self.namespace)
        if is_async(code):
            value = self.loop.run_until_complete(value)
        return value

    def close(self):
        if self.loop is not None:
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            self.loop.close()


def type_name(exc):
    cls = type(exc)
    if cls.__module__ in ("builtins", "__main__"):
        return cls.__qualname__
    return cls.__module__ + "." + cls.__qualname__


def describe(exc):
    # Drop the wrapper's own frames: the traceback starts at the first frame of the job.
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != FILENAME:
        tb = tb.tb_next
    name = type_name(exc)
    try:
        # A SyntaxError's str() repeats the file and line the traceback already shows.
        text = exc.msg if isinstance(exc, SyntaxError) and exc.msg else str(exc)
    except Exception:
        text = "<unprintable exception>"
    return {
        "message": name + ": " + text if text else name,
        "type": name,
        "traceback": "".join(traceback.format_exception(type(exc), exc, tb)),
    }


def encode_success(value):
    try:
        return json.dumps({"ok": True, "result": value, "repr": False}, allow_nan=False)
    except (TypeError, ValueError, OverflowError, RecursionError):
        pass
    try:
        text = repr(value)
    except Exception:
        text = "<unrepresentable " + type(value).__qualname__ + ">"
    return json.dumps({"ok": True, "result": text, "repr": True})


def execute(source):
    module = types.ModuleType("__main__")
    module.__dict__["__builtins__"] = builtins
    # User code sees a fresh __main__, so pickling and `import __main__` refer to the job, not to us.
    sys.modules["__main__"] = module
    # Lets tracebacks and inspect show the job's source lines.
    linecache.cache[FILENAME] = (len(source), None, source.splitlines(True), FILENAME)
    runner = Runner(module.__dict__)
    try:
        body, tail = compile_job(source)
        runner.prepare(body, tail)
        runner.run(body)
        value = runner.run(tail) if tail is not None else None
        if value is None:
            value = module.__dict__.get("result")
        return encode_success(value)
    except SystemExit as exc:
        if exc.code in (None, 0):
            return encode_success(None)
        return json.dumps({"ok": False, "error": describe(exc)})
    except BaseException as exc:
        return json.dumps({"ok": False, "error": describe(exc)})
    finally:
        try:
            runner.close()
        except BaseException:
            pass


def main():
    channel = open_channel()
    source = sys.stdin.buffer.read().decode("utf-8", errors="replace")
    sys.argv = [FILENAME]
    sys.path[0] = ""
    report = execute(source)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
    channel.write(report + "\n")
    channel.flush()


main()
