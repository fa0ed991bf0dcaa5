"""The Kit extension: starts the bridge when enabled, stops it when disabled, and shows its status.

Settings live under /exts/switchboard.bridge (see config/extension.toml); SWITCHBOARD_HUB and
SWITCHBOARD_EXTENSION_TOKEN in the environment fill in what the settings leave empty, so a token need not be written
into a .kit file.
"""

from __future__ import annotations

import logging
import os
import time

import carb
import carb.settings
import omni.ext
import omni.kit.app

from .bridge import Bridge
from .config import BridgeConfig, ConfigError, token_from_env
from .hosts import KitHost
from .kit_ui import BridgeUI

log = logging.getLogger(__name__)
SETTINGS = "/exts/switchboard.bridge"
REFRESH_S = 0.5  # status window and stage path: twice a second is plenty


def read_config(settings) -> BridgeConfig:
    def get(key: str, default=None):
        value = settings.get(f"{SETTINGS}/{key}")
        return default if value in (None, "") else value

    options = {
        # hub_urls (a list) names several hub processes; else hub_url, which may be comma-separated too.
        "hub_url": get("hub_urls") or get("hub_url") or os.environ.get("SWITCHBOARD_HUB", ""),
        "token": get("token") or token_from_env(),
        "id": get("id"),
        "labels": get("labels", []),
        "concurrency": get("concurrency", 1),
        "policy_mode": get("policy_mode", "strict"),
        "policy_allow": get("policy_allow", []),
        "policy_allow_modules": get("policy_allow_modules", []),
        "secrets_dir": get("secrets_dir") or _default_secrets_dir(),
    }
    if get("name"):
        options["name"] = get("name")
    options["stuck_after_s"] = get("stuck_after_s", 3.0)
    options["forward_log"] = str(get("forward_log", "off")).lower()
    options["log_buffer_lines"] = get("log_buffer_lines", 1000)
    return BridgeConfig(**options)


def _default_secrets_dir() -> str:
    """Kit's per-user data folder (``${data}``), where the host secret outlives the app's settings."""
    try:
        import carb.tokens

        resolved = carb.tokens.get_tokens_interface().resolve("${data}/switchboard.bridge")
        if resolved and "${" not in resolved:
            return resolved
    except Exception:  # stand-ins and older Kits without the tokens interface
        pass
    return os.path.expanduser("~/.config/switchboard/bridge")


class SwitchboardBridgeExtension(omni.ext.IExt):
    def on_startup(self, ext_id: str) -> None:
        self._bridge: Bridge | None = None
        self._window = None
        self._host: KitHost | None = None
        self._refreshed = 0.0
        self._update_sub = None
        settings = carb.settings.get_settings()
        # The window and its menu entry only where Kit has a UI (omni.ui); a headless Kit runs without them.
        self._window = BridgeUI(settings.get(f"{SETTINGS}/show_window") is not False, self._set_paused)
        try:
            config = read_config(settings)
        except ConfigError as exc:
            carb.log_error(f"[switchboard.bridge] not started: {exc}")
            self._window.update({"state": "not started", "last_error": str(exc)})
            return
        self._host = KitHost()
        self._bridge = Bridge(config, self._host)
        self._host.refresh()
        self._bridge.start()
        stream = omni.kit.app.get_app().get_update_event_stream()
        self._update_sub = stream.create_subscription_to_pop(self._on_update, name="switchboard.bridge")

    def _on_update(self, _event) -> None:
        now = time.monotonic()
        if now - self._refreshed < REFRESH_S:
            return
        self._refreshed = now
        self._host.refresh()
        if self._window is not None:
            self._window.update(self._bridge.status())

    def _set_paused(self, paused: bool) -> None:
        """The window's pause button: the hub is told, and sends this host no job until resumed."""
        if self._bridge is not None:
            self._bridge.set_paused(paused)
            self._window.update(self._bridge.status())

    def on_shutdown(self) -> None:
        if self._update_sub is not None:
            self._update_sub.unsubscribe()
            self._update_sub = None
        if self._bridge is not None:
            self._bridge.stop()
            self._bridge = None
        if self._window is not None:
            self._window.destroy()
            self._window = None
