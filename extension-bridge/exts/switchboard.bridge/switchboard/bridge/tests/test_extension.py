"""The extension as Kit runs it: enable, disable, re-enable; the Window menu entry; the status window."""

from __future__ import annotations

import asyncio
import sys
import threading
import time

import carb.logging
import carb.settings
import omni.kit.app
import omni.kit.test

from .. import runner
from ..bridge import Bridge
from ..config import BridgeConfig
from ..extension import SETTINGS, SwitchboardBridgeExtension

CLOSED_PORT_URL = "http://127.0.0.1:9"  # nothing listens: the bridge keeps retrying until disabled
MENU_ENTRY = "Switchboard Bridge"


def configure(**values) -> None:
    settings = carb.settings.get_settings()
    for key, value in dict({"hub_url": CLOSED_PORT_URL, "token": "sb_ext_test"}, **values).items():
        settings.set(f"{SETTINGS}/{key}", value)


def menu_entry():
    """The Window menu entry, where Kit has omni.kit.menu.utils (in Kit and in the stand-in)."""
    import omni.kit.menu.utils as menus

    return next((item for item in menus.menus.get("Window", []) if item.name == MENU_ENTRY), None)


async def frames(n: int = 5) -> None:
    for _ in range(n):
        await omni.kit.app.get_app().next_update_async()


async def threads_ended(before: set, timeout: float = 5.0) -> set:
    end = time.monotonic() + timeout
    while time.monotonic() < end and set(threading.enumerate()) - before:
        await asyncio.sleep(0.05)
    return set(threading.enumerate()) - before


class TestExtensionLifecycle(omni.kit.test.AsyncTestCase):
    async def setUp(self):
        configure(show_window=True, forward_log="warn")
        self.stream = omni.kit.app.get_app().get_update_event_stream()
        self.loggers = carb.logging.acquire_logging().loggers
        self.ext = None

    async def tearDown(self):
        if self.ext is not None:
            self.ext.on_shutdown()
        configure(show_window=True, forward_log="off")

    async def test_enable_disable_reenable_leaves_nothing_behind(self):
        before = set(threading.enumerate())
        subs, loggers = len(self.stream.subscriptions), self.loggers()
        for _ in range(3):
            self.ext = SwitchboardBridgeExtension()
            self.ext.on_startup("switchboard.bridge-0.1.0")
            await frames()
            self.assertIsNotNone(menu_entry())
            self.assertEqual(len(self.stream.subscriptions), subs + 1)
            self.assertEqual(self.loggers(), loggers + 1)  # the Kit log forwarder
            window = self.ext._window.window
            self.assertTrue(window.visible)
            self.ext.on_shutdown()
            self.ext = None
            self.assertIsNone(menu_entry())
            self.assertEqual(len(self.stream.subscriptions), subs)
            self.assertEqual(self.loggers(), loggers)
            self.assertFalse(window.visible)
        self.assertEqual(await threads_ended(before), set())

    async def test_the_window_menu_entry_reopens_the_window(self):
        self.ext = SwitchboardBridgeExtension()
        self.ext.on_startup("switchboard.bridge-0.1.0")
        await frames()
        window = self.ext._window.window
        window._window.visible = False  # the user closed it with its X
        entry = menu_entry()
        self.assertFalse(entry.ticked_fn())
        entry.onclick_fn()
        self.assertTrue(window.visible)
        self.assertTrue(entry.ticked_fn())
        await frames(40)  # the window refreshes twice a second
        self.assertIn(CLOSED_PORT_URL, window._window.text())

    async def test_without_a_window_the_menu_entry_opens_one(self):
        configure(show_window=False)
        self.ext = SwitchboardBridgeExtension()
        self.ext.on_startup("switchboard.bridge-0.1.0")
        self.assertIsNone(self.ext._window.window)
        menu_entry().onclick_fn()
        self.assertTrue(self.ext._window.window.visible)

    async def test_headless_kit_runs_the_bridge_without_window_or_menu(self):
        hidden = sys.modules.get("omni.ui")
        sys.modules["omni.ui"] = None  # what a Kit without omni.kit.uiapp looks like: no omni.ui
        try:
            self.ext = SwitchboardBridgeExtension()
            self.ext.on_startup("switchboard.bridge-0.1.0")
            await frames()
            self.assertIsNone(self.ext._window.window)
            self.assertIsNone(menu_entry())
            self.assertIsNotNone(self.ext._bridge)
            self.assertIn(self.ext._bridge.status()["state"], ("connecting", "disconnected"))
        finally:
            sys.modules["omni.ui"] = hidden

    async def test_the_pause_button_pauses_taking_jobs(self):
        self.ext = SwitchboardBridgeExtension()
        self.ext.on_startup("switchboard.bridge-0.1.0")
        await frames()
        window = self.ext._window.window._window
        (pause,) = window.buttons
        self.assertEqual(pause.text, "Pause taking jobs")
        pause.call_clicked_fn()
        self.assertTrue(self.ext._bridge.paused)
        self.assertEqual(pause.text, "Resume taking jobs")
        self.assertEqual(self.ext._bridge.admit({"taskId": "t1", "code": "1"})["accepted"], False)
        self.assertTrue(self.ext._bridge.registration()["paused"])
        pause.call_clicked_fn()
        self.assertFalse(self.ext._bridge.paused)
        self.assertNotIn("paused", self.ext._bridge.registration())


class TestStatusWindowJobs(omni.kit.test.AsyncTestCase):
    async def test_the_window_lists_the_last_jobs_with_status_and_duration(self):
        from ..window import StatusWindow

        bridge = Bridge(BridgeConfig(hub_url=CLOSED_PORT_URL, token="sb_ext_test"))
        for task_id, status, took in (("t_ok", "succeeded", 1.5), ("t_slow", "timed_out", 2.0)):
            job = runner.Job(task_id, "1")
            job.started_at = time.monotonic() - took
            bridge._jobs[task_id] = job
            bridge._finish(job, {"status": status})
        stuck = runner.Job("t_stuck", "import time\ntime.sleep(30)")
        stuck.started_at, stuck.stop_reason, stuck.stuck = time.monotonic() - 4, "timed_out", True
        bridge._jobs["t_stuck"] = stuck
        status = bridge.status()
        self.assertEqual([j["id"] for j in status["jobs"]], ["t_stuck", "t_slow", "t_ok"])
        self.assertEqual(status["stuck"], ["t_stuck"])
        window = StatusWindow()
        try:
            window.update(status)
            text = window._window.text()
            self.assertRegex(text, r"t_stuck\s+stuck\s+4\.\d s")
            self.assertRegex(text, r"t_slow\s+timed_out\s+2\.\d s")
            self.assertRegex(text, r"t_ok\s+succeeded\s+1\.\d s")
            self.assertIn("stuck: t_stuck", text)
        finally:
            window.destroy()
