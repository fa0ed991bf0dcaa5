"""The bridge's policy: the hub's rules, read from the contract, applied with ast."""

import json
import unittest

from tests import support  # noqa: F401  (puts the package on sys.path)

from switchboard.bridge.policy import FALLBACK_LISTS, Policy, Rules, fallback_rules, find_contract


def rules_broken(code, **options):
    return [(v.rule, v.line, v.column) for v in Policy(**options).check(code).violations]


class Contract(unittest.TestCase):
    def test_rules_come_from_the_contract_file(self):
        path = find_contract()
        self.assertIsNotNone(path, "extension-bridge/contract/switchboard.schema.json not found")
        with open(path, encoding="utf-8") as f:
            contract = json.load(f)["policyRules"]
        rules = Rules.load()
        self.assertEqual(rules.source, str(path))
        self.assertEqual(set(rules.by_id), {r["id"] for r in contract})

    def test_the_built_in_fallback_has_the_same_rule_ids_as_the_contract(self):
        # The fallback is for a bridge installed without the contract; it must not drift from the hub.
        self.assertEqual({r["id"] for r in fallback_rules()}, set(Rules.load().by_id))

    def test_the_built_in_lists_match_the_contract(self):
        with open(find_contract(), encoding="utf-8") as f:
            contract = json.load(f)["policyLists"]
        self.assertEqual(FALLBACK_LISTS, contract)
        self.assertEqual(Rules.load().lists, contract)


class Refusals(unittest.TestCase):
    CASES = {
        "import subprocess": [("import:subprocess", 1, 8)],
        "from subprocess import run": [("import:subprocess", 1, 6)],
        "import os.path, ctypes.util": [("import:ctypes", 1, 17)],
        "import os\nos.system('ls')": [("call:os.system", 2, 1)],
        "from os import system as s\ns('x')": [("call:os.system", 2, 1)],
        "import os\nf = os.system": [("attribute:os.system", 2, 5)],
        "import os as o\nrun = o\nrun.kill(1, 9)": [("call:os.kill", 3, 1)],
        "import posix\nposix.system('x')": [("call:os.system", 2, 1)],
        "eval(x)": [("dynamic:eval", 1, 1)],
        "eval(\"__import__('subprocess')\")": [("import:subprocess", 1, 6)],
        "import os\ngetattr(os, 'sys' + 'tem')": [("dynamic:getattr", 2, 1)],
        "import os\ngetattr(os, 'system')('ls')": [("call:os.system", 2, 1), ("getattr:os.system", 2, 1)],
        "globals()['__builtins__']": [("dynamic:globals", 1, 1), ("reflection:__builtins__", 1, 1)],
        "__builtins__['eval']": [
            ("alias:builtins", 1, 1), ("dynamic:__builtins__", 1, 1), ("reflection:__builtins__", 1, 1),
        ],
        "import sys\nsys.modules['socket']": [("dynamic:sys.modules", 2, 1), ("import:socket", 2, 1)],
        "import ｓubprocess": [("import:subprocess", 1, 8)],
        "from ｓｕｂｐｒｏｃｅｓｓ import run": [("import:subprocess", 1, 6)],
        "().__class__.__base__.__subclasses__()": [
            ("reflection:__base__", 1, 1), ("reflection:__subclasses__", 1, 1),
        ],
        "import os\nf = lambda: os": [("alias:os", 2, 13)],
        "open('/etc/passwd')": [("file:open", 1, 1)],
        "breakpoint()": [("call:breakpoint", 1, 1)],
        "import importlib\nimportlib.import_module(name)": [("dynamic:importlib.import_module", 2, 1)],
        "é = 1; import pty": [("import:pty", 1, 15)],
        "import shutil\nmap(shutil.rmtree, dirs)": [("attribute:shutil.rmtree", 2, 5)],
    }

    def test_cases(self):
        for code, expected in self.CASES.items():
            with self.subTest(code=code):
                self.assertEqual(rules_broken(code), expected)

    def test_ordinary_code_passes(self):
        code = "import os, json\nprint(os.path.join('a', 'b'))\nx = getattr(json, 'dumps')\nawait f()"
        self.assertEqual(rules_broken(code), [])

    def test_a_syntax_error_is_left_to_the_runner(self):
        self.assertEqual(rules_broken("import subprocess\nif"), [])


class Modes(unittest.TestCase):
    def test_strict_refuses_and_permissive_does_not(self):
        self.assertTrue(Policy(mode="strict").check("import socket").refused)
        verdict = Policy(mode="permissive").check("import socket")
        self.assertFalse(verdict.refused)
        self.assertEqual([v.rule for v in verdict.violations], ["import:socket"])

    def test_allow_lifts_rules_and_a_call_lifts_holding_it(self):
        self.assertEqual(rules_broken("import socket", allow=["import:socket"]), [])
        self.assertEqual(rules_broken("import os\nf = os.system\nf('x')", allow=["call:os.system"]), [])
        self.assertEqual(rules_broken("import socket\nimport pty", allow=["import"]), [])

    def test_allowlist_refuses_unlisted_modules_and_dunders(self):
        self.assertTrue(Policy(mode="allowlist").check("import os").refused)
        self.assertEqual(rules_broken("import os", mode="allowlist"), [("allowlist:import", 1, 8)])
        self.assertEqual(rules_broken("x.__class__", mode="allowlist"), [("allowlist:dunder", 1, 1)])
        self.assertEqual(rules_broken("import requests", mode="allowlist", allow_modules=["requests"]), [])
        self.assertEqual(rules_broken("import math, omni.usd\nfrom pxr import Usd", mode="allowlist"), [])

    def test_unknown_mode_is_refused(self):
        with self.assertRaises(ValueError):
            Policy(mode="lenient")


if __name__ == "__main__":
    unittest.main()
