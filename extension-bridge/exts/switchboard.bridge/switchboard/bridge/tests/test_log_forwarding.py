"""Kit log forwarding: carb log lines at or above the level, bounded while the hub is away, tagged per job."""

from __future__ import annotations

import threading

import carb
import carb.logging
import omni.kit.test

from .. import runner
from ..kit_log import LogBuffer, LogForwarder
from ..watchdog import current_owner


class TestLogForwarding(omni.kit.test.AsyncTestCase):
    async def setUp(self):
        self.buffer = LogBuffer(max_lines=50)
        self.job = None
        self.forwarder = LogForwarder("warn", self.buffer, lambda: current_owner() or self.job)
        self.forwarder.start()

    async def tearDown(self):
        self.forwarder.stop()

    async def test_only_lines_at_or_above_the_level_are_forwarded_with_level_and_source(self):
        carb.log_verbose("too chatty")
        carb.log_info("also below warn")
        carb.log_warn("disk almost full")
        carb.log_error("stage failed to load")
        lines, dropped = self.buffer.drain()
        self.assertEqual([(line["level"], line["message"]) for line in lines],
                         [("warn", "disk almost full"), ("error", "stage failed to load")])
        self.assertEqual(lines[0]["source"], __name__)
        self.assertRegex(lines[0]["ts"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        self.assertEqual(dropped, 0)
        self.assertNotIn("taskId", lines[0])

    async def test_the_buffer_keeps_the_newest_lines_and_counts_the_dropped(self):
        for i in range(80):
            carb.log_warn(f"line {i}")
        lines, dropped = self.buffer.drain(limit=200)
        self.assertEqual(len(lines), 50)
        self.assertEqual((lines[0]["message"], lines[-1]["message"]), ("line 30", "line 79"))
        self.assertEqual(dropped, 30)
        self.assertEqual(self.buffer.drain(), ([], 0))

    async def test_a_line_logged_by_a_job_goes_to_that_job(self):
        job = runner.Job("t_logs", 'carb.log_warn("from the job")\ncarb.log_info("not forwarded")\n1')
        outcome = await runner.run(job, None, {"carb": carb})
        self.assertEqual(outcome["status"], "succeeded")
        lines, _ = self.buffer.drain()
        self.assertEqual([(line["message"], line.get("taskId")) for line in lines], [("from the job", "t_logs")])

    async def test_a_line_logged_elsewhere_while_one_job_runs_goes_to_that_job(self):
        self.job = "t_running"
        worker = threading.Thread(target=carb.log_error, args=("renderer hiccup",))
        worker.start()
        worker.join()
        self.job = None
        carb.log_error("after the job")
        lines, _ = self.buffer.drain()
        self.assertEqual([line.get("taskId") for line in lines], ["t_running", None])

    async def test_lines_logged_on_the_hub_link_thread_are_not_forwarded(self):
        link = threading.Thread(target=carb.log_error, args=("cannot reach the hub",), name="switchboard-hub")
        link.start()
        link.join()
        self.assertEqual(self.buffer.drain(), ([], 0))

    async def test_an_unknown_level_is_refused(self):
        with self.assertRaisesRegex(ValueError, "log level must be one of"):
            LogForwarder("loud", self.buffer)
