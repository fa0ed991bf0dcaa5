"""Switchboard bridge: dials out to a Switchboard hub and runs the Python it pushes, in Kit or headless.

Kit loads this module (``[[python.module]]`` in config/extension.toml) and starts the ``omni.ext.IExt``
subclass it finds here; outside Kit there is no ``omni.ext`` and the package is the headless bridge.
"""

import logging

# A library logs, the application decides where to: Kit's log handler, the headless CLI's stderr.
logging.getLogger(__name__).addHandler(logging.NullHandler())

from .bridge import Bridge  # noqa: E402
from .config import BridgeConfig, ConfigError  # noqa: E402

__all__ = ["Bridge", "BridgeConfig", "ConfigError"]

try:
    import omni.ext  # noqa: F401  (only to know whether we are inside Kit)
except ImportError:
    pass
else:
    from .extension import SwitchboardBridgeExtension

    __all__ += ["SwitchboardBridgeExtension"]
