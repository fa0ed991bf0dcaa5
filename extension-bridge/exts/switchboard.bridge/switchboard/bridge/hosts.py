"""What the bridge asks of the application it lives in: who it is, its stage, what jobs see, where they run.

``PlainHost`` is plain Python (the headless worker, Isaac Sim standalone scripts); ``KitHost`` is a running
Kit app. Kit modules are imported inside ``KitHost`` only, so the headless bridge never needs them.
"""

from __future__ import annotations

import importlib
import logging
import platform

from .loops import KitLoop, ThreadLoop

log = logging.getLogger(__name__)


def _optional(module: str):
    try:
        return importlib.import_module(module)
    except Exception:  # not installed, or a Kit module outside Kit: the job simply does not get it
        return None


def usd_modules() -> dict:
    """``omni``, ``carb`` and ``pxr`` (with Usd, UsdGeom, Sdf, Gf) for the jobs, when importable."""
    found = {}
    for name in ("omni", "carb"):
        module = _optional(name)
        if module is not None:
            found[name] = module
    pxr = _optional("pxr")
    if pxr is not None:
        found["pxr"] = pxr
        for name in ("Usd", "UsdGeom", "Sdf", "Gf"):
            module = _optional(f"pxr.{name}")
            if module is not None:
                found[name] = module
    return found


class _Modules:
    """Looks the modules up once per host: a failed import searches the whole path again every time."""

    _modules: dict | None = None

    def modules(self) -> dict:
        if self._modules is None:
            self._modules = usd_modules()
        return dict(self._modules)


class PlainHost(_Modules):
    app = "python"

    def identity(self) -> tuple[str, str]:
        return self.app, platform.python_version()

    def stage_path(self) -> str | None:
        return None

    def job_globals(self) -> dict:
        return self.modules()

    def make_loop(self):
        return ThreadLoop()


class KitHost(_Modules):
    """A running Kit app; ``refresh()`` must be called on the main thread (each update) to track the stage."""

    def __init__(self) -> None:
        import omni.kit.app

        self._app = omni.kit.app.get_app()
        self._stage_path: str | None = None

    def identity(self) -> tuple[str, str]:
        # The app's own name and version (USD Composer 2023.2...), else Kit's: what exists varies by release.
        name = _call(self._app, "get_app_name")
        version = _call(self._app, "get_app_version") or _call(self._app, "get_kit_version")
        return str(name or "omni.kit"), str(version or "unknown")

    def refresh(self) -> None:
        context = self._usd_context()
        url = _call(context, "get_stage_url") if context is not None else None
        self._stage_path = str(url)[:2048] if url else None

    def stage_path(self) -> str | None:
        return self._stage_path

    def job_globals(self) -> dict:
        found = self.modules()
        context = self._usd_context()
        found["stage"] = _call(context, "get_stage") if context is not None else None
        return found

    def make_loop(self):
        return KitLoop(self._app.next_update_async)

    @staticmethod
    def _usd_context():
        usd = _optional("omni.usd")
        return _call(usd, "get_context") if usd is not None else None


def _call(obj, method: str):
    fn = getattr(obj, method, None)
    try:
        return fn() if callable(fn) else None
    except Exception as exc:  # a probe must not take the bridge down
        log.debug("%s.%s() failed: %s", type(obj).__name__, method, exc)
        return None
