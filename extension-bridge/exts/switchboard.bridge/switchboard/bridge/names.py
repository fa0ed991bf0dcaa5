"""What a Python expression may evaluate to, as canonical dotted names (``os``, ``os.system``, ``eval``).

The policy's name resolution, after the hub's (server/safety/resolver.ts): a name bound several ways
anywhere in the file (``o = os`` in one branch, ``o = 1`` in another) keeps every notable binding, so
rebinding never hides a denied target. Flow-insensitive on purpose: a tripwire for ordinary misuse, not a
sandbox; containers, closures and reflection beyond the rules are not followed.
"""

from __future__ import annotations

import ast
import unicodedata

NAMESPACE = "%namespace"  # what globals(), locals() and vars() resolve to: no identifier can spell it
ALIASES = {
    "posix": "os", "nt": "os", "_posixsubprocess": "subprocess", "_winapi": "subprocess", "_socket": "socket",
    "_ctypes": "ctypes", "_multiprocessing": "multiprocessing", "asyncio.subprocess": "asyncio",
    "__builtins__": "builtins", "_pickle": "pickle",
}
IMPORTERS = {
    "__import__": "__import__",
    "importlib.__import__": "__import__",
    "importlib.import_module": "importlib.import_module",
}
EVALUATORS = {"eval", "exec", "compile"}
# Names that reach other code by name: followed through assignments although no rule denies them.
GATEWAYS = {*EVALUATORS, *IMPORTERS, "getattr", "setattr", "delattr", "globals", "locals", "vars", "sys",
            "sys.modules", "builtins", NAMESPACE, "hasattr", "operator", "operator.attrgetter",
            "operator.methodcaller", "io", "codecs", "pathlib"}
MAX_DEPTH = 64
MAX_CANDIDATES = 32
ROUNDS = 3


def canonical(dotted: str) -> str:
    """``posix.system`` -> ``os.system``; ``builtins.eval`` and ``__builtins__.eval`` -> ``eval``."""
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        alias = ALIASES.get(".".join(parts[:i]))
        if alias is not None:
            dotted = ".".join([alias, *parts[i:]])
            break
    head, _, rest = dotted.partition(".")
    return rest if head == "builtins" and rest and "." not in rest else dotted


def literal(node) -> str | None:
    """The value of a plain string literal; None for anything computed.

    NFKC-normalised like identifiers (Python itself does not normalise strings): conservative, so
    ``getattr(os, 'ｓystem')`` matches the same rules as on the hub.
    """
    if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
        return None
    return node.value if node.value.isascii() else unicodedata.normalize("NFKC", node.value)


def argument(call: ast.Call, index: int, keyword: str):
    """The argument at ``index`` or passed as ``keyword``; a ``*``/``**`` splat stands for it (computed)."""
    if len(call.args) > index:
        return call.args[index]
    return next((k.value for k in call.keywords if k.arg in (keyword, None)), None)


class Resolver:
    """Built once per tree: collects bindings (imports, assignments, defaults), then answers ``resolve``."""

    def __init__(self, tree: ast.AST, is_notable, held_module=lambda name: None) -> None:
        self._notable = is_notable  # whether a name is worth following
        self._held = held_module  # `os` for an attribute named `os` or `_os` (logging.os, random._os)
        self._bindings: dict[str, set[str]] = {}
        self._star_modules: set[str] = set()
        self._memo: dict[int, frozenset[str]] = {}
        pairs = self._collect(tree)
        for _ in range(ROUNDS):  # later rounds pick up chains such as `a = os` then, anywhere, `b = a`
            self._memo = {}
            if not any([self._bind(name, self.resolve(value)) for name, value in pairs]):
                break
        self._memo = {}

    def _bind(self, name: str, values) -> bool:
        known = self._bindings.setdefault(name, set())
        new = {v for v in values if v != name and v not in known and self._notable(v)}
        known |= new
        return bool(new)

    def _collect(self, tree: ast.AST) -> list[tuple[str, ast.AST]]:
        pairs: list[tuple[str, ast.AST]] = []

        def pair(target, value) -> None:  # `a, b = os, sys` element by element; other targets are left out
            if isinstance(target, ast.Name):
                pairs.append((target.id, value))
            elif isinstance(target, (ast.Tuple, ast.List)) and isinstance(value, (ast.Tuple, ast.List)):
                if len(target.elts) == len(value.elts):
                    for t, v in zip(target.elts, value.elts):
                        pair(t, v)

        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    if a.asname:
                        self._bind(a.asname, [canonical(a.name)])
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                for a in node.names:
                    if a.name == "*":
                        self._star_modules.add(canonical(node.module))
                    else:
                        self._bind(a.asname or a.name, [canonical(f"{node.module}.{a.name}")])
            elif isinstance(node, ast.Assign):
                for target in node.targets:
                    pair(target, node.value)
            elif isinstance(node, (ast.AnnAssign, ast.NamedExpr)) and node.value is not None:
                pair(node.target, node.value)
            elif isinstance(node, ast.arguments):
                positional = node.posonlyargs + node.args
                defaults = zip(positional[len(positional) - len(node.defaults) :], node.defaults)
                for arg, default in [*defaults, *zip(node.kwonlyargs, node.kw_defaults)]:
                    if default is not None:
                        pairs.append((arg.arg, default))
        return pairs

    def resolve(self, node, depth: int = 0) -> frozenset[str]:
        if id(node) in self._memo:
            return self._memo[id(node)]
        if depth > MAX_DEPTH:
            return frozenset()
        out: set[str] = set()
        if isinstance(node, ast.Name):
            out |= self._names_for(node.id)
        elif isinstance(node, ast.Attribute):
            out |= {canonical(f"{base}.{node.attr}") for base in self.resolve(node.value, depth + 1)}
            held = self._held(node.attr)  # a module held by another module is that module, whatever holds it
            if held:
                out.add(held)
        elif isinstance(node, ast.NamedExpr):
            out |= self.resolve(node.value, depth + 1)
        elif isinstance(node, ast.Subscript):
            key = literal(node.slice)
            container = self.resolve(node.value, depth + 1)
            # sys.modules['os'] hands back the module; globals()['o'] whatever the name `o` is bound to.
            if key is not None and NAMESPACE in container:
                out |= self._names_for(key)
            elif key is not None and "sys.modules" in container:
                out.add(canonical(key))
        elif isinstance(node, ast.Call):
            out |= self._resolve_call(node, depth)
        result = frozenset(sorted(out)[:MAX_CANDIDATES])
        self._memo[id(node)] = result
        return result

    def _names_for(self, name: str) -> set[str]:
        out = {canonical(name), *self._bindings.get(name, set())}
        return out | {q for m in self._star_modules if self._notable(q := canonical(f"{m}.{name}"))}

    def _resolve_call(self, call: ast.Call, depth: int) -> set[str]:
        out: set[str] = set()
        for name in self.resolve(call.func, depth + 1):
            if name in IMPORTERS:
                module = literal(argument(call, 0, "name"))
                if module and not module.startswith("."):  # __import__('a.b') returns package a
                    out |= {canonical(module), canonical(module.split(".")[0])}
            elif name == "getattr" and len(call.args) >= 2 and literal(call.args[1]) is not None:
                attr = literal(call.args[1])
                out |= {canonical(f"{base}.{attr}") for base in self.resolve(call.args[0], depth + 1)}
            elif name in ("globals", "locals") or (name == "vars" and not call.args and not call.keywords):
                out.add(NAMESPACE)
        return out
