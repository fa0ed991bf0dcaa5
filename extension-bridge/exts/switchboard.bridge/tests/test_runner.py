"""The job runner alone: results, output, errors, await, and the watchdog stopping code."""

import asyncio
import sys
import threading
import time
import unittest

from tests.support import run_job

from switchboard.bridge import capture, runner
from switchboard.bridge.policy import Policy


class Results(unittest.TestCase):
    def test_last_expression(self):
        outcome, _ = run_job("x = 6\n{'answer': x * 7, 'items': [1, None]}")
        self.assertEqual(outcome, {"status": "succeeded", "result": {"answer": 42, "items": [1, None]}})

    def test_result_variable_when_no_trailing_expression(self):
        self.assertEqual(run_job("result = [1, 2]\nx = 3")[0]["result"], [1, 2])
        self.assertIsNone(run_job("x = 3")[0]["result"])

    def test_what_json_cannot_hold_comes_back_as_repr(self):
        self.assertEqual(run_job("object")[0]["result"], "<class 'object'>")
        self.assertEqual(run_job("float('nan')")[0]["result"], "nan")

    def test_a_result_too_large_for_the_hub_fails_the_job(self):
        outcome, _ = run_job("list(range(300_000))")
        self.assertEqual(outcome["error"]["type"], "ResultTooLarge")

    def test_each_job_has_a_fresh_namespace(self):
        run_job("leaked = 1")
        outcome, _ = run_job("leaked")
        self.assertEqual(outcome["error"]["type"], "NameError")

    def test_sys_exit_zero_is_success(self):
        self.assertEqual(run_job("import sys\nsys.exit(0)")[0]["status"], "succeeded")
        self.assertEqual(run_job("import sys\nsys.exit(3)")[0]["error"]["type"], "SystemExit")


class Output(unittest.TestCase):
    def test_stdout_and_stderr_are_captured_in_order(self):
        outcome, text = run_job("import sys\nprint('a')\nprint('b', file=sys.stderr)\nprint('c')")
        self.assertEqual(outcome["status"], "succeeded")
        self.assertEqual(text, "a\nb\nc\n")

    def test_streams_are_told_apart(self):
        job = runner.Job("t", "import sys\nprint('out')\nsys.stderr.write('err')")
        capture.install()
        try:
            asyncio.run(runner.run(job))
        finally:
            capture.uninstall()
        self.assertEqual(job.output.drain(), [("stdout", "out\n"), ("stderr", "err")])

    def test_concurrent_jobs_do_not_mix_their_output(self):
        code = "import asyncio\nfor i in range(3):\n    print('{name}', i)\n    await asyncio.sleep(0.01)"
        jobs = [runner.Job(name, code.format(name=name)) for name in ("a", "b")]

        async def both():
            await asyncio.gather(*(runner.run(job) for job in jobs))

        capture.install()
        try:
            asyncio.run(both())
        finally:
            capture.uninstall()
        for job in jobs:
            text = "".join(t for _, t in job.output.drain())
            self.assertEqual(text, "".join(f"{job.task_id} {i}\n" for i in range(3)))

    def test_prints_outside_a_job_are_not_captured(self):
        capture.install()
        try:
            self.assertIsNot(sys.stdout, sys.__stdout__)
            buffer = capture.OutputBuffer()
            token = capture.redirect_to(buffer)
            print("job")
            capture.restore(token)
            self.assertEqual(buffer.drain(), [("stdout", "job\n")])
        finally:
            capture.uninstall()
        self.assertIs(sys.stdout, sys.__stdout__)

    def test_the_buffer_is_bounded_and_says_what_it_dropped(self):
        buffer = capture.OutputBuffer(max_chars=10)
        buffer.write("stdout", "12345")
        buffer.write("stdout", "678901")
        chunks = buffer.drain()
        self.assertEqual(chunks[0], ("stdout", "12345"))
        self.assertIn("6 characters of output dropped", chunks[1][1])


class Errors(unittest.TestCase):
    def test_traceback_has_the_user_frames_and_line_numbers_only(self):
        outcome, _ = run_job("x = 1\n\ndef f():\n    return 1 / 0\n\nf()")
        error = outcome["error"]
        self.assertEqual(outcome["status"], "failed")
        self.assertEqual(error["message"], "ZeroDivisionError: division by zero")
        self.assertEqual(error["type"], "ZeroDivisionError")
        self.assertIn('File "<job>", line 6, in <module>', error["traceback"])
        self.assertIn('File "<job>", line 4, in f\n    return 1 / 0', error["traceback"])
        self.assertNotIn("runner.py", error["traceback"])

    def test_syntax_error(self):
        outcome, _ = run_job("x = 1\nif x\n    pass")
        self.assertEqual(outcome["error"]["type"], "SyntaxError")
        self.assertTrue(outcome["error"]["message"].startswith("SyntaxError: "))
        self.assertIn('File "<job>", line 2\n    if x', outcome["error"]["traceback"])

    def test_huge_messages_are_clipped(self):
        outcome, _ = run_job("raise ValueError('x' * 1_000_000)")
        self.assertLess(len(outcome["error"]["message"]), 250_000)
        self.assertIn("characters left out", outcome["error"]["traceback"])

    def test_exception_types_outside_builtins_are_qualified(self):
        outcome, _ = run_job("import json\njson.loads('{')")
        self.assertEqual(outcome["error"]["type"], "json.decoder.JSONDecodeError")


class Await(unittest.TestCase):
    def test_top_level_await(self):
        code = "import asyncio\nprint('before')\nawait asyncio.sleep(0.01)\nawait asyncio.sleep(0, 'v')"
        outcome, text = run_job(code)
        self.assertEqual((outcome["result"], text), ("v", "before\n"))

    def test_futures_made_before_the_first_await_belong_to_the_same_loop(self):
        code = "import asyncio\nt = asyncio.ensure_future(asyncio.sleep(0, 5))\nx = 1\nawait t"
        self.assertEqual(run_job(code)[0]["result"], 5)


class Stopping(unittest.TestCase):
    def assertStopsWithin(self, seconds, code, expected, **kwargs):
        started = time.monotonic()
        outcome, _ = run_job(code, **kwargs)
        self.assertEqual(outcome, {"status": expected})
        self.assertLess(time.monotonic() - started, seconds)

    def test_timeout_stops_a_busy_loop(self):
        self.assertStopsWithin(3, "while True:\n    pass", "timed_out", timeout_ms=300)

    def test_cancel_stops_a_busy_loop(self):
        self.assertStopsWithin(3, "while True:\n    pass", "cancelled", cancel_after=0.3)

    def test_cancel_stops_a_job_suspended_at_an_await(self):
        self.assertStopsWithin(3, "import asyncio\nawait asyncio.sleep(3600)", "cancelled", cancel_after=0.3)

    def test_except_exception_does_not_swallow_the_stop(self):
        code = "while True:\n    try:\n        while True: pass\n    except Exception:\n        pass"
        self.assertStopsWithin(3, code, "timed_out", timeout_ms=300)

    def test_a_job_that_catches_the_stop_once_is_stopped_again(self):
        code = "try:\n    while True: pass\nexcept BaseException:\n    pass\nwhile True: pass"
        self.assertStopsWithin(4, code, "timed_out", timeout_ms=300)

    def test_no_interrupt_leaks_out_of_a_finished_job(self):
        # Stopped exactly as it ends: whatever the thread runs next must not receive a stray JobInterrupt.
        for _ in range(20):
            run_job("sum(range(20000))", timeout_ms=1)
        time.sleep(0.6)  # past the watchdog's retry interval
        self.assertEqual(sum(range(10)), 45)
        self.assertTrue(threading.main_thread().is_alive())


class PolicyBeforeRunning(unittest.TestCase):
    def test_strict_refuses_with_rule_line_and_column(self):
        outcome, text = run_job("x = 1\nimport subprocess\nprint('never')", policy=Policy(mode="strict"))
        error = outcome["error"]
        self.assertEqual((outcome["status"], error["type"]), ("failed", "PolicyError"))
        self.assertIn("[import:subprocess] at line 2, column 8", error["message"])
        self.assertIn("line 2, column 8", error["traceback"])
        self.assertEqual(text, "")

    def test_permissive_warns_and_runs(self):
        outcome, text = run_job("import os\nf = os.system\n'ran'", policy=Policy(mode="permissive"))
        self.assertEqual(outcome["result"], "ran")
        self.assertIn("[attribute:os.system]", text)

    def test_off_runs_but_keeps_the_size_limit(self):
        self.assertEqual(run_job("import socket\n1", policy=Policy(mode="off"))[0]["result"], 1)
        outcome, _ = run_job("x = 1", policy=Policy(mode="off", max_code_bytes=3))
        self.assertIn("[max_code_size]", outcome["error"]["message"])


if __name__ == "__main__":
    unittest.main()
