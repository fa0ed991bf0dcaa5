"""The extension's status window: the connection, the last jobs (id, status, duration), pause/resume.

Built only where ``omni.ui`` exists (see kit_ui.py); its widgets are touched on the main thread only.
"""

from __future__ import annotations

import omni.ui as ui

TITLE = "Switchboard Bridge"
JOB_ROWS = 8  # the last jobs shown, newest first
FIELDS = (
    ("state", "Connection"),
    ("hub_url", "Hub"),
    ("extension_id", "Extension id"),
    ("taking", "Taking jobs"),
    ("jobs_run", "Jobs run"),
    ("running", "Running now"),
    ("last_error", "Last error"),
)


def job_line(job: dict) -> str:
    duration = job.get("duration_s")
    took = "-" if duration is None else f"{duration:.1f} s"
    return f"{job['id']}   {job['status']}   {took}"


class StatusWindow:
    def __init__(self, on_pause=None, title: str = TITLE) -> None:
        self._on_pause = on_pause  # called with True (pause) or False (resume)
        self._paused = False
        self._window = ui.Window(title, width=460, height=380)
        self._labels: dict[str, ui.Label] = {}
        self._jobs: list[ui.Label] = []
        with self._window.frame:
            with ui.VStack(spacing=4, height=0):
                for key, caption in FIELDS:
                    with ui.HStack(height=20):
                        ui.Label(caption, width=100)
                        self._labels[key] = ui.Label("", word_wrap=True)
                self._pause = ui.Button("Pause taking jobs", height=24, clicked_fn=self._toggle)
                ui.Label("Last jobs (id, status, duration)", height=20)
                for _ in range(JOB_ROWS):
                    self._jobs.append(ui.Label("", height=18))

    @property
    def visible(self) -> bool:
        return self._window is not None and self._window.visible

    def show(self) -> None:
        if self._window is not None:
            self._window.visible = True

    def set_visibility_changed_fn(self, fn) -> None:
        if self._window is not None:
            self._window.set_visibility_changed_fn(fn)

    def update(self, status: dict) -> None:
        """Called on the main thread (UI objects are not thread-safe)."""
        self._paused = bool(status.get("paused"))
        stuck = status.get("stuck") or []
        taking = "paused" if self._paused else "yes"
        if stuck:
            taking += f"; stuck: {', '.join(stuck)} (will not stop; the hub sends nothing to its slot)"
        values = dict(status, taking=taking)
        for key, label in self._labels.items():
            value = values.get(key)
            _set(label, "-" if value in (None, "") else str(value))
        _set(self._pause, "Resume taking jobs" if self._paused else "Pause taking jobs")
        jobs = status.get("jobs") or []
        for i, label in enumerate(self._jobs):
            _set(label, job_line(jobs[i]) if i < len(jobs) else "")

    def destroy(self) -> None:
        self._labels.clear()
        self._jobs.clear()
        self._on_pause = None
        if self._window is not None:
            self._window.destroy()
            self._window = None

    def _toggle(self) -> None:
        if self._on_pause is not None:
            self._on_pause(not self._paused)


def _set(widget, text: str) -> None:
    if widget.text != text:
        widget.text = text
