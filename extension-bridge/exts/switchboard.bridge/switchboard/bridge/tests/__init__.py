"""Tests for Kit's test runner (``omni.kit.test``): Kit loads ``<python module>.tests`` for ``[[test]]``.

CI runs them with plain Python under the Kit stand-in (tests/kit_standin, whose ``omni.kit.test`` maps
``AsyncTestCase`` to ``unittest.IsolatedAsyncioTestCase``):
``PYTHONPATH=tests/kit_standin:. python3 -m unittest switchboard.bridge.tests``.
"""

from .test_extension import *  # noqa: F401,F403
from .test_log_forwarding import *  # noqa: F401,F403
