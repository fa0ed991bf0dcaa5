"""The extension's status window: connected or not, to which hub, jobs run, and the last error."""

from __future__ import annotations

import omni.ui as ui

FIELDS = (
    ("state", "Connection"),
    ("hub_url", "Hub"),
    ("extension_id", "Extension id"),
    ("jobs_run", "Jobs run"),
    ("running", "Running now"),
    ("last_error", "Last error"),
)


class StatusWindow:
    def __init__(self, title: str = "Switchboard Bridge") -> None:
        self._window = ui.Window(title, width=420, height=180)
        self._labels: dict[str, ui.Label] = {}
        with self._window.frame:
            with ui.VStack(spacing=4, height=0):
                for key, caption in FIELDS:
                    with ui.HStack(height=20):
                        ui.Label(caption, width=100)
                        self._labels[key] = ui.Label("", word_wrap=True)

    def update(self, status: dict) -> None:
        """Called on the main thread (UI objects are not thread-safe)."""
        for key, label in self._labels.items():
            value = status.get(key)
            text = "-" if value in (None, "") else str(value)
            if label.text != text:
                label.text = text

    def destroy(self) -> None:
        self._labels.clear()
        if self._window is not None:
            self._window.destroy()
            self._window = None
