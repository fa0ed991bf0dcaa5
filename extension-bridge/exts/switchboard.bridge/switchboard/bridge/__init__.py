"""Switchboard bridge: dials out to a Switchboard hub and runs the Python it pushes, in Kit or headless.

Kit loads this module (``[[python.module]]`` in config/extension.toml) and starts the ``omni.ext.IExt``
subclass it finds here; outside Kit there is no ``omni.ext`` and the package is the headless bridge.
"""

from .bridge import Bridge
from .config import BridgeConfig, ConfigError

try:
    import omni.ext  # noqa: F401  (only to know whether we are inside Kit)
except ImportError:
    pass
else:
    from .extension import SwitchboardBridgeExtension

__all__ = ["Bridge", "BridgeConfig", "ConfigError"]
