"""The bridge's settings: one dataclass, filled from the command line (headless) or carb settings (Kit).

Checked here, at start, against the contract's limits, so a bad value is reported by name instead of being
refused by the hub later as an unexplained failed registration.
"""

from __future__ import annotations

import logging
import os
import re
import socket
from dataclasses import dataclass, field

from .policy import DEFAULT_MAX_CODE_BYTES, MODES

LABEL = re.compile(r"^[A-Za-z0-9_.:/-]{1,64}$")


class ConfigError(ValueError):
    """A setting is missing or invalid; the message names it."""


def token_from_env(environ=None) -> str:
    """The host's token from SWITCHBOARD_EXTENSION_TOKEN; SWITCHBOARD_TOKEN still works, with a warning.

    The CLI reads SWITCHBOARD_TOKEN for an operator token, so one shell should not give both roles the same
    variable: hosts take their own.
    """
    env = os.environ if environ is None else environ
    token = env.get("SWITCHBOARD_EXTENSION_TOKEN", "")
    if token:
        return token
    legacy = env.get("SWITCHBOARD_TOKEN", "")
    if legacy:
        logging.getLogger(__name__).warning(
            "SWITCHBOARD_TOKEN is deprecated for hosts (the CLI uses it for its own token); "
            "set SWITCHBOARD_EXTENSION_TOKEN instead"
        )
    return legacy


def split_list(value) -> list[str]:
    """Accepts ``"a, b"`` as well as ``["a", "b"]`` (carb settings may hold either)."""
    items = value.split(",") if isinstance(value, str) else list(value or [])
    return [str(item).strip() for item in items if str(item).strip()]


def hub_url_list(value) -> list[str]:
    """One hub URL, several comma-separated, or a list: each an http(s) URL, trailing slashes dropped,
    duplicates removed, order kept. Several are the processes of one scaled-out hub, tried in order."""
    urls: list[str] = []
    for item in split_list(value):
        url = item.rstrip("/")
        if not re.match(r"^https?://[^/\s,]+", url):
            raise ConfigError(f"hub_url must be an http(s) URL, like http://127.0.0.1:4000: {item!r}")
        if url not in urls:
            urls.append(url)
    if not urls:
        raise ConfigError("hub_url must be an http(s) URL, like http://127.0.0.1:4000: ''")
    return urls


@dataclass
class BridgeConfig:
    # One hub URL, or several (comma-separated, or a list): processes of one scaled-out hub. The bridge
    # connects to the first that answers and moves to the next when it loses its hub.
    hub_url: str | list[str]
    token: str
    name: str = field(default_factory=socket.gethostname)
    id: str | None = None
    labels: list[str] = field(default_factory=list)
    concurrency: int = 1
    policy_mode: str = "strict"
    policy_allow: list[str] = field(default_factory=list)
    # Allowlist mode only: modules allowed besides the Kit default list (the contract's policyLists).
    policy_allow_modules: list[str] = field(default_factory=list)
    max_code_bytes: int = DEFAULT_MAX_CODE_BYTES
    # Seconds to wait for the hub's ack of anything the bridge sends.
    ack_timeout_s: float = 10.0
    # Longest pause between two connection attempts (backoff doubles up to it).
    reconnect_max_s: float = 5.0
    # Stop trying when the hub refuses the token before the first registration (headless: a typo, not an
    # outage). Kit keeps trying and shows the error in its window.
    give_up_when_refused: bool = False
    # Seconds a job may ignore a timeout or cancel before it is reported to the hub as stuck.
    stuck_after_s: float = 3.0
    # Kit log forwarding: off, or the lowest carb level sent to the hub (verbose, info, warn, error, fatal).
    forward_log: str = "off"
    # Log lines kept while the hub is unreachable; the oldest are dropped (and counted) past it.
    log_buffer_lines: int = 1000
    # Where the host secret the hub issues is kept (one small file per hub and id); None keeps it in memory
    # only, so a restarted bridge cannot register under its id again.
    secrets_dir: str | None = None
    # The hubs as a list (filled from hub_url, which then reads "a, b" for display).
    hub_urls: list[str] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        self.labels = split_list(self.labels)
        self.policy_allow = split_list(self.policy_allow)
        self.policy_allow_modules = split_list(self.policy_allow_modules)
        self.id = self.id or None
        self.secrets_dir = os.path.expanduser(self.secrets_dir) if self.secrets_dir else None
        self.hub_urls = hub_url_list(self.hub_url or "")
        self.hub_url = ", ".join(self.hub_urls)
        if not self.token:
            raise ConfigError("token is required: the hub's extension-role token")
        if not 1 <= len(self.name) <= 128:
            raise ConfigError("name must be 1 to 128 characters")
        if self.id is not None and not 1 <= len(self.id) <= 128:
            raise ConfigError("id must be 1 to 128 characters")
        bad = [label for label in self.labels if not LABEL.match(label)]
        if bad or len(self.labels) > 32:
            raise ConfigError(f"labels: at most 32, each 1-64 of letters, digits and _ . : / - (bad: {bad})")
        try:
            self.concurrency = int(self.concurrency)
        except (TypeError, ValueError):
            raise ConfigError(f"concurrency must be an integer, got {self.concurrency!r}") from None
        if not 1 <= self.concurrency <= 64:
            raise ConfigError(f"concurrency must be 1 to 64, got {self.concurrency}")
        if self.policy_mode not in MODES:
            raise ConfigError(f"policy_mode must be one of {', '.join(MODES)}, got {self.policy_mode!r}")
        try:
            self.stuck_after_s = float(self.stuck_after_s)
        except (TypeError, ValueError):
            raise ConfigError(f"stuck_after_s must be a number, got {self.stuck_after_s!r}") from None
        if not 0 < self.stuck_after_s <= 3600:
            raise ConfigError(f"stuck_after_s must be more than 0 and at most 3600, got {self.stuck_after_s}")
        if self.forward_log not in ("off", "verbose", "info", "warn", "error", "fatal"):
            choices = "off, verbose, info, warn, error or fatal"
            raise ConfigError(f"forward_log must be {choices}, got {self.forward_log!r}")
        if not 10 <= int(self.log_buffer_lines) <= 100_000:
            raise ConfigError(f"log_buffer_lines must be 10 to 100000, got {self.log_buffer_lines}")
        self.log_buffer_lines = int(self.log_buffer_lines)
