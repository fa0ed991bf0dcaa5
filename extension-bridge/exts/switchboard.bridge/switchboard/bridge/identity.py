"""The host secret: the hub issues it on the first registration of this host's id, and refuses a later
registration under that id without it (so another holder of the extension token cannot take over our jobs).

Kept in a file of its own under ``secrets_dir`` (mode 0600), one per hub and id (or name, when the hub picks
the id), so a restarted bridge or Kit registers as the same host and resumes its jobs. Never logged.
"""

from __future__ import annotations

import hashlib
import json
import os
import re


class HostIdentity:
    def __init__(self, secrets_dir: str | None, hub_url: str, id_or_name: str) -> None:
        key = hashlib.sha256(f"{hub_url}|{id_or_name}".encode()).hexdigest()[:16]
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", id_or_name)[:40]
        self.path = os.path.join(secrets_dir, f"{slug}-{key}.json") if secrets_dir else None
        self.extension_id: str | None = None
        self.secret: str | None = None
        self._load()

    def _load(self) -> None:
        if not self.path or not os.path.exists(self.path):
            return
        try:
            with open(self.path, encoding="utf-8") as f:
                data = json.load(f)
            self.extension_id, self.secret = data.get("extensionId"), data.get("secret")
        except (OSError, ValueError, AttributeError):
            self.extension_id = self.secret = None  # unreadable: register as a new host

    def issued(self, extension_id: str, secret: str) -> None:
        """The hub gave us our secret: keep it in memory for reconnects and on disk for restarts."""
        self.extension_id, self.secret = extension_id, secret
        if not self.path:
            return
        os.makedirs(os.path.dirname(self.path), mode=0o700, exist_ok=True)
        tmp = f"{self.path}.{os.getpid()}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({"extensionId": extension_id, "secret": secret}, f)
        os.replace(tmp, self.path)
