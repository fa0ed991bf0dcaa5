"""Stand-in for carb.settings: one flat dict of paths."""


class _Settings:
    def __init__(self) -> None:
        self._values: dict = {}

    def get(self, path: str):
        return self._values.get(path)

    def set(self, path: str, value) -> None:
        self._values[path] = value

    def clear(self) -> None:
        self._values.clear()


_settings = _Settings()


def get_settings() -> _Settings:
    return _settings
