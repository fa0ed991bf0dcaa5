"""The bridge's job bookkeeping, without a hub: admission, duplicates, busy slots, cancel, new attempts."""

import asyncio
import time
import unittest

from tests import support  # noqa: F401  (puts the package on sys.path)

from switchboard.bridge import capture
from switchboard.bridge.bridge import Bridge
from switchboard.bridge.client import HubClient
from switchboard.bridge.config import BridgeConfig, ConfigError


class SeveralHubs(unittest.TestCase):
    def test_a_comma_list_or_a_list_names_the_hubs_in_order_without_repeats(self):
        config = BridgeConfig(hub_url="http://a:1/, http://b:2,http://a:1", token="t", name="unit")
        self.assertEqual(config.hub_urls, ["http://a:1", "http://b:2"])
        self.assertEqual(BridgeConfig(hub_url=["http://b:2"], token="t", name="unit").hub_urls, ["http://b:2"])

    def test_a_bad_entry_is_named(self):
        with self.assertRaisesRegex(ConfigError, "hub_url must be an http\\(s\\) URL.*'ftp://b'"):
            BridgeConfig(hub_url="http://a:1,ftp://b", token="t", name="unit")
        with self.assertRaisesRegex(ConfigError, "hub_url"):
            BridgeConfig(hub_url=" , ", token="t", name="unit")

    def test_the_client_moves_round_the_hubs_and_says_when_a_round_failed(self):
        config = BridgeConfig(hub_url="http://a:1,http://b:2,http://c:3", token="t", name="unit")
        client = HubClient(config, bridge=None)
        self.assertEqual(client.hub_url, "http://a:1")
        self.assertEqual([client._next_hub(), client.hub_url], [False, "http://b:2"])
        self.assertEqual([client._next_hub(), client.hub_url], [False, "http://c:3"])
        self.assertEqual([client._next_hub(), client.hub_url], [True, "http://a:1"])

    def test_one_identity_for_the_set_of_hubs_whatever_their_order(self):
        def identity(hubs):
            config = BridgeConfig(hub_url=hubs, token="t", name="n", secrets_dir="/nonexistent/sb-unit")
            return HubClient(config, bridge=None).identity.path

        self.assertIsNotNone(identity("http://a:1"))
        self.assertEqual(identity("http://a:1,http://b:2"), identity("http://b:2,http://a:1"))
        self.assertNotEqual(identity("http://a:1,http://b:2"), identity("http://a:1"))


class Admission(unittest.TestCase):
    def setUp(self):
        config = BridgeConfig(hub_url="http://127.0.0.1:9", token="t", name="unit", concurrency=1)
        self.bridge = Bridge(config)
        # What start() does, minus the hub link: its loop is driven by the test instead.
        self.loop = self.bridge.client.loop = asyncio.new_event_loop()
        self.bridge._job_loop = self.bridge.host.make_loop()
        self.bridge.watchdog.start()
        capture.install()

    def tearDown(self):
        self.bridge._job_loop.close()
        self.bridge.watchdog.close()
        capture.uninstall()
        self.loop.close()

    def run_job(self, task_id, code):
        return self.bridge.admit({"taskId": task_id, "code": code, "timeoutMs": 10_000, "attempt": 1})

    def spin(self, until, seconds=5.0):
        end = time.monotonic() + seconds
        while not until() and time.monotonic() < end:
            self.loop.run_until_complete(asyncio.sleep(0.02))
        self.assertTrue(until(), "timed out")

    def result(self, task_id):
        owed = self.bridge.client.outbox._jobs.get(task_id)
        return owed.result if owed else None

    def test_a_duplicate_job_run_is_accepted_and_not_run_twice(self):
        self.assertEqual(self.run_job("t1", "print('once')\n1"), {"accepted": True})
        self.assertEqual(self.run_job("t1", "print('once')\n1"), {"accepted": True})
        self.spin(lambda: self.result("t1"))
        self.assertEqual(self.bridge.jobs_run, 1)
        self.assertEqual(self.result("t1"), {"status": "succeeded", "result": 1})

    def test_busy_when_all_slots_are_taken(self):
        self.run_job("t1", "import asyncio\nawait asyncio.sleep(0.3)")
        refused = self.run_job("t2", "1")
        self.assertFalse(refused["accepted"])
        self.assertIn("busy: 1 of 1", refused["reason"])

    def test_an_invalid_job_run_is_refused_with_a_reason(self):
        ack = self.bridge.admit({"taskId": 5})
        self.assertFalse(ack["accepted"])
        self.assertIn("invalid job:run", ack["reason"])

    def test_cancel_stops_the_job_and_reports_it(self):
        self.run_job("t1", "import asyncio\nawait asyncio.sleep(60)")
        self.spin(lambda: self.bridge.status()["running"] == 1 and "t1" in self.bridge.client.outbox)
        self.bridge.cancel({"taskId": "t1", "reason": "cancelled"})
        self.spin(lambda: self.result("t1"))
        self.assertEqual(self.result("t1"), {"status": "cancelled"})

    def test_a_new_attempt_after_a_stop_runs_and_only_its_result_is_reported(self):
        # The hub stops an attempt it re-queued, then dispatches the task here again.
        self.run_job("t1", "import time\nwhile True: time.sleep(0.01)")
        self.spin(lambda: "t1" in self.bridge.client.outbox)
        self.bridge.cancel({"taskId": "t1", "reason": "cancelled"})
        self.assertEqual(self.run_job("t1", "'second attempt'"), {"accepted": True})
        self.spin(lambda: self.result("t1"))
        self.assertEqual(self.result("t1"), {"status": "succeeded", "result": "second attempt"})
        self.assertEqual(self.bridge.jobs_run, 2)


if __name__ == "__main__":
    unittest.main()
