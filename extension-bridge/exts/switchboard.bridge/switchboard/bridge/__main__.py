"""Headless bridge: ``python -m switchboard.bridge --hub URL --token T --name NAME``.

A worker for plain Python or Isaac Sim standalone: the same bridge as in Kit, with the jobs on a thread of
its own instead of Kit's main loop. SIGTERM and SIGINT leave the hub and stop the jobs, then exit 0.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading

from .bridge import Bridge
from .config import BridgeConfig, ConfigError, token_from_env
from .policy import MODES


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m switchboard.bridge", description=__doc__.split("\n\n")[0])
    hub_help = "hub URL, or several hub processes comma-separated (env SWITCHBOARD_HUB)"
    p.add_argument("--hub", default=os.environ.get("SWITCHBOARD_HUB"), help=hub_help)
    token_help = "extension-role token (env SWITCHBOARD_EXTENSION_TOKEN keeps it out of ps)"
    p.add_argument("--token", help=token_help)
    p.add_argument("--name", help="display name (default: the host name)")
    p.add_argument("--id", help="stable extension id (default: the hub makes one)")
    p.add_argument("--labels", default="", help="comma-separated labels for routing, e.g. gpu,stage:a")
    p.add_argument("--concurrency", type=int, default=1, help="jobs at once (default 1)")
    p.add_argument("--policy", choices=MODES, default="strict", help="the bridge's own code policy")
    p.add_argument("--policy-allow", default="", help="rule ids (or prefixes) to lift, comma-separated")
    allow_modules = os.environ.get("SWITCHBOARD_POLICY_ALLOW_MODULES", "")
    p.add_argument("--policy-allow-modules", default=allow_modules,
                   help="allowlist mode: modules allowed besides the Kit default list, comma-separated")
    stuck_help = "seconds a job may ignore a timeout or cancel before it is reported stuck (default 3)"
    p.add_argument("--stuck-after", type=float, default=3.0, help=stuck_help)
    secrets_help = "where the host secret the hub issues is kept (env SWITCHBOARD_BRIDGE_SECRETS_DIR)"
    default_secrets = os.environ.get("SWITCHBOARD_BRIDGE_SECRETS_DIR", "~/.config/switchboard/bridge")
    p.add_argument("--secrets-dir", default=default_secrets, help=secrets_help)
    p.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING, ERROR")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    log_format = "%(asctime)s %(levelname)s %(name)s: %(message)s"
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr, format=log_format)
    try:
        config = BridgeConfig(
            hub_url=args.hub or "",
            token=args.token or token_from_env(),
            id=args.id,
            labels=args.labels,
            concurrency=args.concurrency,
            policy_mode=args.policy,
            policy_allow=args.policy_allow,
            policy_allow_modules=args.policy_allow_modules,
            give_up_when_refused=True,
            stuck_after_s=args.stuck_after,
            secrets_dir=args.secrets_dir,
            **({"name": args.name} if args.name else {}),
        )
    except ConfigError as exc:
        print(f"switchboard.bridge: {exc}", file=sys.stderr)
        return 2

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    bridge = Bridge(config)
    bridge.start()
    while not stop.is_set() and not bridge.ended:
        stop.wait(0.2)
    failed = bridge.ended
    bridge.stop()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
