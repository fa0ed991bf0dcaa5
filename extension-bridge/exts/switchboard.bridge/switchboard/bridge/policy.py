"""The hub's safety policy, applied again by the bridge before any code runs (defence in depth).

The rules are data: the hub exports them as ``policyRules`` in the contract file
(extension-bridge/contract/switchboard.schema.json), so both sides refuse the same code with the same rule
ids. A bridge installed without the contract next to it falls back to the hub's default rules, listed here.
"""

from __future__ import annotations

import ast
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from .analysis import Analyzer, Violation
from .names import GATEWAYS, canonical

CONTRACT_NAME = "switchboard.schema.json"
DEFAULT_MAX_CODE_BYTES = 262_144
MODES = ("strict", "permissive", "off", "allowlist")

_SUFFIXES = ("l", "le", "lp", "lpe", "v", "ve", "vp", "vpe")
FALLBACK_MODULES = ("subprocess", "ctypes", "socket", "multiprocessing", "pty", "builtins", "runpy", "code", "pdb",
                    "cffi", "webbrowser", "doctest", "pydoc", "trace", "concurrent.futures.process", "zipimport",
                    "faulthandler")
FALLBACK_CALLS = (
    "os.system", "os.popen", *(f"os.exec{s}" for s in _SUFFIXES), *(f"os.spawn{s}" for s in _SUFFIXES),
    "os.posix_spawn", "os.posix_spawnp", "os.startfile", "os.fork", "os.forkpty", "os.kill", "os.killpg",
    "shutil.rmtree", "asyncio.create_subprocess_exec", "asyncio.create_subprocess_shell", "breakpoint",
    "pickle.load", "pickle.loads", "pickle.Unpickler", "dill.load", "dill.loads", "dill.Unpickler",
    "shelve.open", "marshal.load", "marshal.loads", "sys._getframe", "gc.get_objects", "gc.get_referrers",
    "gc.get_referents", "importlib.util.spec_from_file_location", "importlib.machinery.SourceFileLoader",
    "timeit.timeit", "timeit.repeat", "timeit.Timer", "cProfile.run", "cProfile.runctx", "profile.run",
    "profile.runctx", "pkgutil.resolve_name", "concurrent.futures.ProcessPoolExecutor", "sys.breakpointhook",
    "uuid._get_command_stdout", "importlib.machinery.ExtensionFileLoader", "os._exit", "os.abort",
    "signal.raise_signal", "signal.pthread_kill",
)
FALLBACK_DYNAMIC = ("eval", "exec", "compile", "__import__", "importlib.import_module", "getattr", "setattr",
                    "delattr", "vars", "globals", "__dict__", "__builtins__", "sys.modules",
                    "operator.attrgetter", "operator.methodcaller")
FALLBACK_ESCAPES = ("__subclasses__", "__globals__", "__builtins__", "__code__", "__closure__", "__mro__",
                    "__bases__", "__base__", "__getattribute__", "__import__", "__loader__", "__spec__",
                    "__self__", "gi_frame", "cr_frame", "ag_frame", "tb_frame", "f_globals", "f_locals",
                    "f_builtins", "subprocess_exec", "subprocess_shell", "ctypeslib")
FALLBACK_ALLOWLIST = ("import", "dunder", "builtin", "getattr", "private")
# The contract's policyLists (server/safety/escape-rules.ts); a test keeps them in step.
FALLBACK_LISTS = {
    "escapeNames": ["__builtins__", "__loader__", "__spec__"],
    "moduleAttributes": ["os", "sys", "subprocess", "builtins", "shutil", "importlib", "ctypes", "multiprocessing",
                         "pty", "pickle", "marshal", "runpy", "gc", "asyncio"],
    "protectedPaths": ["/etc", "/proc", "/sys", "/dev", "/root", "/boot", "c:/windows"],
    "protectedSegments": ["..", ".ssh", ".aws", ".gnupg", ".kube", ".docker"],
    "fileOpeners": ["open", "io.open", "os.open", "codecs.open", "pathlib.Path", "pathlib.PurePath"],
    "allowedModules": [
        "__future__", "omni", "pxr", "carb", "usdrt", "warp", "numpy", "math", "cmath", "json", "re", "time",
        "datetime", "random", "itertools", "functools", "collections", "typing", "dataclasses", "asyncio",
        "enum", "copy", "string", "textwrap", "statistics", "decimal", "fractions", "numbers", "operator",
        "uuid", "bisect", "heapq", "array", "abc", "contextlib", "colorsys", "pprint", "traceback", "logging",
    ],
    "allowlistDeniedBuiltins": ["eval", "exec", "compile", "open", "input", "breakpoint", "help", "exit", "quit",
                                "globals", "locals", "vars"],
    "allowlistDunders": ["__init__", "__name__", "__doc__", "__qualname__"],
    "builtinTypes": ["object", "type", "int", "str", "bytes", "float", "bool", "tuple", "list", "dict", "set",
                     "frozenset", "BaseException", "Exception"],
}


def guarded_modules(calls) -> list[str]:
    """Modules holding a denied call, plus builtins, importlib and sys (rules.ts guardedModulesOf)."""
    return sorted({"builtins", "importlib", "sys", *(c.rsplit(".", 1)[0] for c in calls if "." in c)})


def fallback_rules() -> list[dict]:
    """The hub's default rules (server/safety/rules.ts), with the same ids; a test keeps them in step."""

    def rule(kind: str, rule_id: str, target: str, why: str) -> dict:
        return {"id": rule_id, "kind": kind, "target": target, "description": why}

    rules = [rule("size", "max_code_size", "maxCodeBytes", "the code is too long.")]
    rules += [rule("import", f"import:{m}", m, f"{m} is denied.") for m in FALLBACK_MODULES]
    for kind, prefix in (("call", "call"), ("attribute", "attribute"), ("attribute", "getattr")):
        rules += [rule(kind, f"{prefix}:{c}", c, f"{c}() is denied.") for c in FALLBACK_CALLS]
    rules += [rule("dynamic", f"dynamic:{d}", d, "its code cannot be checked.") for d in FALLBACK_DYNAMIC]
    rules += [rule("reflection", f"reflection:{e}", e, f"{e} reaches past the rules.") for e in FALLBACK_ESCAPES]
    modules = guarded_modules(FALLBACK_CALLS)
    rules += [rule("alias", f"alias:{m}", m, f"{m} passed as a value cannot be followed.") for m in modules]
    rules.append(rule("file", "file:open", "open", "opening system files or credentials is refused."))
    rules += [rule("allowlist", f"allowlist:{a}", a, "refused in allowlist mode.") for a in FALLBACK_ALLOWLIST]
    return rules


def find_contract() -> Path | None:
    """$SWITCHBOARD_CONTRACT, else the repository's contract/ (or a copy in the extension's data/)."""
    explicit = os.environ.get("SWITCHBOARD_CONTRACT")
    if explicit:
        return Path(explicit)
    for parent in list(Path(__file__).resolve().parents)[:6]:
        for candidate in (parent / "contract" / CONTRACT_NAME, parent / "data" / CONTRACT_NAME):
            if candidate.is_file():
                return candidate
    return None


class Rules:
    """The rule list, indexed the way the analyser asks."""

    def __init__(self, rules: list[dict], source: str = "built-in defaults", lists: dict | None = None) -> None:
        self.source = source
        self.lists = lists or FALLBACK_LISTS
        self.by_id = {r["id"]: r for r in rules}
        self.escapes = {r["target"]: r["description"] for r in rules if r["kind"] == "reflection"}
        self.guarded = {r["target"] for r in rules if r["kind"] == "alias"}
        self.modules = {r["target"] for r in rules if r["kind"] == "import"}
        self.calls = {r["target"] for r in rules if r["kind"] == "call"}
        self.sensitive = {"builtins", "importlib", *self.modules}
        self.sensitive |= {c.rsplit(".", 1)[0] for c in self.calls if "." in c}
        parts = [t.split(".") for t in self.calls | self.modules]
        self.prefixes = {".".join(p[:i]) for p in parts for i in range(1, len(p))}
        self.denied_names = {c.rsplit(".", 1)[-1] for c in self.calls}
        self.openers = set(self.lists["fileOpeners"])
        self.allowlist: Allowlist | None = None

    @classmethod
    def load(cls, path: Path | None = None) -> Rules:
        path = path or find_contract()
        if path is None:
            return cls(fallback_rules())
        with open(path, encoding="utf-8") as f:
            contract = json.load(f)
        return cls(contract["policyRules"], source=str(path), lists=contract.get("policyLists"))

    def denied_import(self, module: str) -> str | None:
        """The denied module covering ``module`` (itself or a parent package)."""
        parts = module.split(".")
        heads = (".".join(parts[:i]) for i in range(1, len(parts) + 1))
        return next((head for head in heads if head in self.modules), None)

    def denied_call(self, name: str) -> bool:
        return name in self.calls

    def is_sensitive(self, name: str) -> bool:
        return name in self.sensitive

    def is_notable(self, name: str) -> bool:
        """Worth following through assignments and imports."""
        known = name in GATEWAYS or name in self.sensitive or name in self.prefixes or name in self.calls
        lists = name in self.openers or name in self.lists["allowlistDeniedBuiltins"]
        return known or lists or self.denied_import(name) is not None

    def held_module(self, name: str) -> str | None:
        """``os`` for an attribute named ``os`` or ``_os``: modules other modules hold (``logging.os``)."""
        bare = name.lstrip("_")
        return canonical(bare) if bare in self.lists["moduleAttributes"] else None

    def with_allowlist(self, extra_modules=()) -> Rules:
        """A copy that also applies allowlist mode: the listed modules, no dunders, no string-running builtins."""
        copy = Rules.__new__(Rules)
        copy.__dict__.update(self.__dict__)
        copy.allowlist = Allowlist(
            modules={*self.lists["allowedModules"], *extra_modules},
            builtins=set(self.lists["allowlistDeniedBuiltins"]),
            dunders=set(self.lists["allowlistDunders"]),
        )
        return copy

    def why(self, rule_id: str) -> str:
        return self.by_id.get(rule_id, {}).get("description", "it is denied by the policy.")


@dataclass
class Allowlist:
    modules: set[str]
    builtins: set[str]
    dunders: set[str]

    def allows(self, module: str) -> bool:
        parts = module.split(".")
        return any(".".join(parts[: i + 1]) in self.modules for i in range(len(parts)))


@dataclass
class Verdict:
    violations: list[Violation] = field(default_factory=list)
    refused: bool = False


class Policy:
    """``strict`` refuses code that breaks a rule, ``permissive`` reports and runs it, ``off`` checks size;
    ``allowlist`` is strict plus: only the listed modules, no dunders, no builtins that run strings."""

    def __init__(self, rules=None, mode="strict", allow=(), max_code_bytes=DEFAULT_MAX_CODE_BYTES,
                 allow_modules=()) -> None:
        if mode not in MODES:
            raise ValueError(f"policy mode must be one of {', '.join(MODES)}, got {mode!r}")
        self.rules = rules or Rules.load()
        if mode == "allowlist":
            self.rules = self.rules.with_allowlist([m.strip() for m in allow_modules if m.strip()])
        self.mode = mode
        self.allow = [a.strip() for a in allow if a.strip()]
        self.max_code_bytes = max_code_bytes

    def check(self, source: str) -> Verdict:
        try:
            tree = ast.parse(source)
        except SyntaxError:
            return Verdict()  # not the policy's business: running it reports the error
        return self.check_tree(tree, source)

    def check_tree(self, tree: ast.AST, source: str) -> Verdict:
        size = len(source.encode("utf-8"))
        if self.max_code_bytes and size > self.max_code_bytes:
            message = f"The code is {size} bytes; the limit is {self.max_code_bytes}."
            return Verdict([Violation("max_code_size", message, 1, 1)], refused=True)
        if self.mode == "off":
            return Verdict()
        found = Analyzer(self.rules, source).run(tree)
        violations = [v for v in found if v.rule in self.rules.by_id and not self.lifted(v.rule)]
        return Verdict(violations, refused=self.mode in ("strict", "allowlist") and bool(violations))

    def lifted(self, rule_id: str) -> bool:
        def lifts(rid: str) -> bool:
            return any(
                rid.startswith(a[:-1]) if a.endswith("*") else rid == a or rid.startswith((f"{a}:", f"{a}."))
                for a in self.allow
            )

        # Lifting a call also lifts holding the function, as on the hub.
        kind, _, target = rule_id.partition(":")
        return lifts(rule_id) or (kind in ("attribute", "getattr") and lifts(f"call:{target}"))
