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


class Window:
    def __init__(self, title: str, width: int = 400, height: int = 300, **kwargs) -> None:
        self.title = title
        self.frame = _Container()
        self.visible = True
        self.destroyed = False
        self.labels: list[Label] = []
        windows.append(self)

    def destroy(self) -> None:
        self.visible = False
        self.destroyed = True

    def text(self) -> str:
        """All label texts, one per line: what a user would read."""
        return "\n".join(label.text for label in self.labels)
