"""Enables the extension under the Kit stand-in and runs the fake app until SIGTERM/SIGINT, as Kit would.

    PYTHONPATH=<ext folder> python3 tests/kit_standin/run_kit.py --hub URL --name NAME [--labels a,b]
    (token from SWITCHBOARD_EXTENSION_TOKEN)

Used by test/integration/kit-bridge.test.ts to run the Kit code path (jobs on the main loop) against a hub.
"""

import argparse
import importlib
import logging
import os
import signal
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(1, os.path.dirname(os.path.dirname(HERE)))

import carb.settings  # noqa: E402  (the stand-in, from HERE)
import omni.ext  # noqa: E402
import omni.kit.app  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--forward-log", default="off", help="the extension's forward_log setting")
    p.add_argument("--hub", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--labels", default="")
    p.add_argument("--policy", default="strict")
    p.add_argument("--secrets-dir", default="")
    args = p.parse_args()
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")

    settings = carb.settings.get_settings()
    values = {"hub_url": args.hub, "name": args.name, "labels": args.labels.split(",")}
    for key, value in dict(values, policy_mode=args.policy, secrets_dir=args.secrets_dir).items():
        settings.set(f"/exts/switchboard.bridge/{key}", value)

    settings.set("/exts/switchboard.bridge/forward_log", args.forward_log)

    # What Kit does for [[python.module]]: import it, instantiate each IExt subclass it exposes.
    module = importlib.import_module("switchboard.bridge")
    extensions = [v for v in vars(module).values() if isinstance(v, type) and issubclass(v, omni.ext.IExt)]
    ext = extensions[0]()
    app = omni.kit.app.get_app()
    stopping = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.append(True))
    ext.on_startup("switchboard.bridge-0.1.0")
    app.run(until=lambda: bool(stopping))
    ext.on_shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
