"""Stand-in for omni.ui: just enough widgets to build the status window and read it back."""

from __future__ import annotations

windows: list[Window] = []  # every window built, for tests to look at


class _Container:
    def __init__(self, **kwargs) -> None:
        self.kwargs = kwargs

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        pass


class VStack(_Container):
    pass


class HStack(_Container):
    pass


class Label:
    def __init__(self, text: str = "", **kwargs) -> None:
        self.text = text
        self.kwargs = kwargs
        if windows and windows[-1].visible:
            windows[-1].labels.append(self)


class Button:
    def __init__(self, text: str = "", clicked_fn=None, **kwargs) -> None:
        self.text = text
        self.kwargs = kwargs
        self._clicked_fn = clicked_fn
        if windows and windows[-1].visible:
            windows[-1].buttons.append(self)

    def set_clicked_fn(self, fn) -> None:
        self._clicked_fn = fn

    def call_clicked_fn(self) -> None:
        """What a click does (omni.ui has the same method, for tests)."""
        if self._clicked_fn is not None:
            self._clicked_fn()


class Window:
    def __init__(self, title: str, width: int = 400, height: int = 300, **kwargs) -> None:
        self.title = title
        self.frame = _Container()
        self._visible = True
        self._visibility_fn = None
        self.destroyed = False
        self.labels: list[Label] = []
        self.buttons: list[Button] = []
        windows.append(self)

    @property
    def visible(self) -> bool:
        return self._visible

    @visible.setter
    def visible(self, value: bool) -> None:
        # Closing a Kit window with its X hides it (visible False); a menu entry shows it again.
        changed = bool(value) != self._visible
        self._visible = bool(value)
        if changed and self._visibility_fn is not None:
            self._visibility_fn(self._visible)

    def set_visibility_changed_fn(self, fn) -> None:
        self._visibility_fn = fn

    def destroy(self) -> None:
        self._visibility_fn = None
        self._visible = False
        self.destroyed = True

    def text(self) -> str:
        """All label texts, one per line: what a user would read."""
        return "\n".join(label.text for label in self.labels)
