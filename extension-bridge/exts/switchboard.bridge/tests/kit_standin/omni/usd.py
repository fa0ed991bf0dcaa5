"""Stand-in for omni.usd: one context with one (opaque) stage."""


class _Stage:
    name = "standin-stage"


class _Context:
    def __init__(self) -> None:
        self.stage = _Stage()
        self.url = "omniverse://standin/stage.usd"

    def get_stage(self):
        return self.stage

    def get_stage_url(self) -> str:
        return self.url


_context = _Context()


def get_context(name: str = "") -> _Context:
    return _context
