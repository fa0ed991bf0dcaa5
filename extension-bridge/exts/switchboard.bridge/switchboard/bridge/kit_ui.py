"""What the extension shows in a Kit with a UI: the status window and its Window menu entry.

Either part exists only where its Kit module does: a headless Kit (no ``omni.kit.uiapp``, no ``omni.ui``) runs
the bridge without them, so neither is a hard dependency in extension.toml.
"""

from __future__ import annotations

import importlib
import logging

log = logging.getLogger(__name__)
MENU = "Window"


def _module(name: str):
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


class BridgeUI:
    def __init__(self, show_window: bool = True, on_pause=None) -> None:
        self._on_pause = on_pause
        self._window = None
        self._menu_items = None
        self._menu = _module("omni.kit.menu.utils")
        self._has_ui = _module("omni.ui") is not None
        if not self._has_ui:
            log.info("no omni.ui (headless Kit): the bridge runs without its window")
            return
        if show_window:
            self._open()
        if self._menu is not None:
            item = self._menu.MenuItemDescription(
                name="Switchboard Bridge",
                onclick_fn=self.show,
                ticked=True,
                ticked_fn=lambda: self._window is not None and self._window.visible,
            )
            self._menu_items = [item]
            self._menu.add_menu_items(self._menu_items, MENU)

    @property
    def window(self):
        return self._window

    def show(self) -> None:
        """The menu entry: reopens the window (closing it with its X only hid it)."""
        if not self._has_ui:
            return
        if self._window is None:
            self._open()
        else:
            self._window.show()
        if self._last is not None:
            self._window.update(self._last)

    def update(self, status: dict) -> None:
        self._last = status
        if self._window is not None and self._window.visible:
            self._window.update(status)

    def destroy(self) -> None:
        if self._menu_items is not None:
            self._menu.remove_menu_items(self._menu_items, MENU)
            self._menu_items = None
        if self._window is not None:
            self._window.destroy()
            self._window = None
        self._on_pause = None

    _last: dict | None = None

    def _open(self) -> None:
        from .window import StatusWindow

        self._window = StatusWindow(on_pause=self._pause)

    def _pause(self, paused: bool) -> None:
        if self._on_pause is not None:
            self._on_pause(paused)
