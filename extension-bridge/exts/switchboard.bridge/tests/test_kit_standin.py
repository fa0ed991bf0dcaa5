"""The Kit code paths under the Kit stand-in: enabling/disabling the extension, settings, main-loop jobs."""

import os
import sys
import threading
import time
import unittest

from tests.support import EXT_ROOT, use_kit_standin

use_kit_standin()

import carb.settings  # noqa: E402  (the stand-in)
import omni.kit.app  # noqa: E402
import omni.ui  # noqa: E402

from switchboard.bridge import runner  # noqa: E402
from switchboard.bridge.extension import SETTINGS, SwitchboardBridgeExtension, read_config  # noqa: E402
from switchboard.bridge.hosts import KitHost  # noqa: E402
from switchboard.bridge.watchdog import Watchdog  # noqa: E402

CLOSED_PORT_URL = "http://127.0.0.1:9"  # nothing listens: the bridge keeps retrying until disabled


def configure(**values):
    settings = carb.settings.get_settings()
    settings.clear()
    for key, value in values.items():
        settings.set(f"{SETTINGS}/{key}", value)


def wait_for_threads_to_end(before, timeout=5.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end and set(threading.enumerate()) - before:
        time.sleep(0.05)
    return set(threading.enumerate()) - before


class EnableDisable(unittest.TestCase):
    def setUp(self):
        self.app = omni.kit.app.get_app()

    def test_enable_starts_the_bridge_and_disable_leaves_no_thread(self):
        configure(hub_url=CLOSED_PORT_URL, token="sb_ext_test", name="standin", labels=["kit", "gpu"])
        before = set(threading.enumerate())
        stdout = sys.stdout
        ext = SwitchboardBridgeExtension()
        ext.on_startup("switchboard.bridge-0.1.0")
        try:
            self.app.run(seconds=1.0)
            names = {t.name for t in set(threading.enumerate()) - before}
            self.assertTrue({"switchboard-hub", "switchboard-watchdog"} <= names, names)
            self.assertIsNot(sys.stdout, stdout)  # per-job capture installed
            window = omni.ui.windows[-1]
            self.assertIn(CLOSED_PORT_URL, window.text())
            self.assertRegex(window.text(), r"connecting|disconnected")
            self.assertIn("cannot connect", window.text())
        finally:
            ext.on_shutdown()
        self.assertEqual(wait_for_threads_to_end(before), set())
        self.assertIs(sys.stdout, stdout)
        self.assertTrue(window.destroyed)

    def test_enable_and_disable_again_and_again(self):
        configure(hub_url=CLOSED_PORT_URL, token="sb_ext_test")
        before = set(threading.enumerate())
        for _ in range(3):
            ext = SwitchboardBridgeExtension()
            ext.on_startup("switchboard.bridge-0.1.0")
            self.app.run(seconds=0.1)
            ext.on_shutdown()
        self.assertEqual(wait_for_threads_to_end(before), set())

    def test_missing_token_is_shown_and_nothing_starts(self):
        configure(hub_url=CLOSED_PORT_URL)
        before = set(threading.enumerate())
        ext = SwitchboardBridgeExtension()
        ext.on_startup("switchboard.bridge-0.1.0")
        window = omni.ui.windows[-1]
        self.assertIn("token is required", window.text())
        ext.on_shutdown()
        self.assertEqual(set(threading.enumerate()) - before, set())

    def test_the_window_can_be_turned_off(self):
        configure(hub_url=CLOSED_PORT_URL, token="sb_ext_test", show_window=False)
        count = len(omni.ui.windows)
        ext = SwitchboardBridgeExtension()
        ext.on_startup("switchboard.bridge-0.1.0")
        ext.on_shutdown()
        self.assertEqual(len(omni.ui.windows), count)


class ExtensionToml(unittest.TestCase):
    def setUp(self):
        import tomllib

        with open(os.path.join(EXT_ROOT, "config", "extension.toml"), "rb") as f:
            self.toml = tomllib.load(f)

    def test_it_declares_the_module_dependencies_and_requirements(self):
        self.assertEqual(self.toml["python"]["module"], [{"name": "switchboard.bridge"}])
        deps = self.toml["dependencies"]
        self.assertEqual(set(deps), {"omni.kit.uiapp", "omni.usd", "omni.kit.menu.utils"})
        # A headless Kit has no UI: the window's and the menu's modules must not be hard dependencies.
        self.assertEqual(deps["omni.kit.uiapp"], {"optional": True})
        self.assertEqual(deps["omni.kit.menu.utils"], {"optional": True})
        requirements = self.toml["python"]["pipapi"]["requirements"]
        self.assertTrue(any(r.startswith("python-socketio") for r in requirements))
        for key in ("title", "description", "version", "category", "keywords", "repository", "changelog"):
            self.assertIn(key, self.toml["package"])

    def test_its_icon_preview_readme_and_changelog_exist(self):
        package = self.toml["package"]
        for key, size in (("icon", (256, 256)), ("preview_image", (640, 360))):
            with open(os.path.join(EXT_ROOT, package[key]), "rb") as f:
                head = f.read(24)
            self.assertEqual(head[:8], b"\x89PNG\r\n\x1a\n", key)
            self.assertEqual((int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")), size)
        for key in ("readme", "changelog"):
            self.assertTrue(os.path.isfile(os.path.join(EXT_ROOT, package[key])), key)

    def test_it_declares_its_omni_kit_test_tests(self):
        (test,) = self.toml["test"]
        self.assertIn("omni.kit.menu.utils", test["dependencies"])
        self.assertTrue(os.path.isfile(os.path.join(EXT_ROOT, "switchboard", "bridge", "tests", "__init__.py")))

    def test_its_default_settings_are_the_ones_the_extension_reads(self):
        defaults = self.toml["settings"]["exts"]["switchboard.bridge"]
        configure(**dict(defaults, token="sb_ext_test"))
        config = read_config(carb.settings.get_settings())
        self.assertEqual(config.hub_url, "http://127.0.0.1:4000")
        self.assertEqual(config.hub_urls, ["http://127.0.0.1:4000"])
        self.assertEqual((config.concurrency, config.policy_mode, config.labels), (1, "strict", []))
        self.assertIsNone(config.id)

    def test_several_hubs_come_from_the_hub_urls_list_before_hub_url(self):
        hubs = ["http://hub-a:4000", "http://hub-b:4000/"]
        configure(hub_url="http://ignored:4000", hub_urls=hubs, token="sb_ext_test")
        config = read_config(carb.settings.get_settings())
        self.assertEqual(config.hub_urls, ["http://hub-a:4000", "http://hub-b:4000"])
        configure(hub_url="http://hub-a:4000, http://hub-b:4000", hub_urls=[], token="sb_ext_test")
        self.assertEqual(read_config(carb.settings.get_settings()).hub_urls, config.hub_urls)


class MainLoopJobs(unittest.TestCase):
    def setUp(self):
        self.app = omni.kit.app.get_app()
        self.host = KitHost()
        self.loop = self.host.make_loop()
        self.watchdog = Watchdog()
        self.watchdog.start()

    def tearDown(self):
        self.watchdog.close()

    def run_on_main_loop(self, code, timeout_ms=0):
        job = runner.Job("t_kit", code, timeout_ms)
        self.watchdog.watch(job)
        future = self.loop.submit(lambda: runner.run(job, None, self.host.job_globals()))
        self.app.run(seconds=10, until=future.done)
        return future.result()

    def test_jobs_run_on_the_main_thread_after_an_update_with_the_stage(self):
        before = self.app.updates
        code = (
            "import threading, omni.kit.app\n"
            "on_main = threading.current_thread() is threading.main_thread()\n"
            "[on_main, omni.kit.app.get_app().updates, stage.name, Sdf.__name__]"
        )
        outcome = self.run_on_main_loop(code)
        on_main, updates, stage, sdf = outcome["result"]
        self.assertTrue(on_main)
        self.assertGreater(updates, before)
        self.assertEqual((stage, sdf), ("standin-stage", "pxr.Sdf"))

    def test_busy_code_on_the_main_thread_is_stopped_and_kit_keeps_ticking(self):
        outcome = self.run_on_main_loop("while True:\n    pass", timeout_ms=300)
        self.assertEqual(outcome, {"status": "timed_out"})
        before = self.app.updates
        self.app.run(seconds=0.2)
        self.assertGreater(self.app.updates, before)

    def test_host_reports_kit_identity_and_stage(self):
        self.host.refresh()
        self.assertEqual(self.host.identity(), ("kit-standin", "106.0.0"))
        self.assertEqual(self.host.stage_path(), "omniverse://standin/stage.usd")


if __name__ == "__main__":
    unittest.main()
