"""The policy's reading of Python code with ``ast``: which rules a piece of code breaks, and where.

It follows the hub's analyser (server/safety): names are resolved to canonical dotted names through imports
and assignments anywhere in the file (flow-insensitive, so rebinding never hides a target), then imports,
calls, references and reflection (getattr, globals(), __dict__, __builtins__) are checked against the rules.
A tripwire for ordinary misuse, not a sandbox.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

NAMESPACE = "%namespace"  # what globals(), locals() and vars() resolve to: no identifier spells it
ALIASES = {
    "posix": "os", "nt": "os", "_posixsubprocess": "subprocess", "_winapi": "subprocess", "_socket": "socket",
    "_ctypes": "ctypes", "_multiprocessing": "multiprocessing", "asyncio.subprocess": "asyncio",
    "__builtins__": "builtins",
}  # fmt: skip
IMPORTERS = {"__import__": "__import__", "importlib.__import__": "__import__",
             "importlib.import_module": "importlib.import_module"}  # fmt: skip
EVALUATORS = {"eval", "exec", "compile"}
GATEWAYS = {*EVALUATORS, *IMPORTERS, "getattr", "setattr", "delattr", "globals", "locals", "vars", "sys",
            "sys.modules", "builtins", NAMESPACE}  # fmt: skip
MAPPING_READS = {"get", "__getitem__", "pop", "setdefault"}
MAX_NESTING = 3
MAX_CANDIDATES = 32


@dataclass(frozen=True)
class Violation:
    rule: str
    message: str
    line: int  # 1-based
    column: int  # 1-based, in UTF-16 code units like the hub's


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
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def argument(call: ast.Call, index: int, keyword: str):
    """The argument at ``index`` or passed as ``keyword``; a ``*``/``**`` splat stands for it (and is computed)."""
    if len(call.args) > index:
        return call.args[index]
    return next((k.value for k in call.keywords if k.arg in (keyword, None)), None)


class Analyzer:
    def __init__(self, rules, source: str, nesting: int = 0) -> None:
        self.rules, self.source, self.nesting = rules, source, nesting
        self.lines = source.splitlines()
        self.bindings: dict[str, set[str]] = {}
        self.star_modules: set[str] = set()
        self.found: dict[tuple[str, int, int], Violation] = {}
        self.memo: dict[int, frozenset[str]] = {}

    # -- resolving names -------------------------------------------------------------------------------
    def bind(self, name: str, values) -> bool:
        changed = False
        for value in values:
            if value != name and self.rules.is_notable(value) and value not in self.bindings.setdefault(name, set()):
                self.bindings[name].add(value)
                changed = True
        return changed

    def collect(self, tree: ast.AST) -> list[tuple[str, ast.AST]]:
        pairs: list[tuple[str, ast.AST]] = []

        def pair(target, value) -> None:
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
                        self.bind(a.asname, [canonical(a.name)])
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                for a in node.names:
                    if a.name == "*":
                        self.star_modules.add(canonical(node.module))
                    else:
                        self.bind(a.asname or a.name, [canonical(f"{node.module}.{a.name}")])
            elif isinstance(node, ast.Assign):
                for target in node.targets:
                    pair(target, node.value)
            elif isinstance(node, (ast.AnnAssign, ast.NamedExpr)) and node.value is not None:
                pair(node.target, node.value)
            elif isinstance(node, ast.arguments):
                positional = node.posonlyargs + node.args
                for arg, default in zip(positional[len(positional) - len(node.defaults) :], node.defaults):
                    pairs.append((arg.arg, default))
                for arg, default in zip(node.kwonlyargs, node.kw_defaults):
                    if default is not None:
                        pairs.append((arg.arg, default))
        return pairs

    def resolve(self, node, depth: int = 0) -> frozenset[str]:
        if id(node) in self.memo:
            return self.memo[id(node)]
        out: set[str] = set()
        if depth > 64:
            return frozenset()
        if isinstance(node, ast.Name):
            out.add(canonical(node.id))
            out |= self.bindings.get(node.id, set())
            out |= {q for m in self.star_modules if self.rules.is_notable(q := canonical(f"{m}.{node.id}"))}
        elif isinstance(node, ast.Attribute):
            out |= {canonical(f"{base}.{node.attr}") for base in self.resolve(node.value, depth + 1)}
        elif isinstance(node, ast.NamedExpr):
            out |= self.resolve(node.value, depth + 1)
        elif isinstance(node, ast.Subscript):
            key = literal(node.slice)
            container = self.resolve(node.value, depth + 1)
            if key is not None and ("sys.modules" in container or NAMESPACE in container):
                out.add(canonical(key))  # sys.modules['os'] and globals()['os'] are the module itself
        elif isinstance(node, ast.Call):
            for name in self.resolve(node.func, depth + 1):
                if name in IMPORTERS:
                    module = literal(argument(node, 0, "name"))
                    if module and not module.startswith("."):
                        out |= {canonical(module), canonical(module.split(".")[0])}
                elif name == "getattr" and len(node.args) >= 2 and literal(node.args[1]) is not None:
                    out |= {canonical(f"{b}.{literal(node.args[1])}") for b in self.resolve(node.args[0], depth + 1)}
                elif name in ("globals", "locals") or (name == "vars" and not node.args and not node.keywords):
                    out.add(NAMESPACE)
        result = frozenset(sorted(out)[:MAX_CANDIDATES])
        self.memo[id(node)] = result
        return result

    # -- checking ----------------------------------------------------------------------------------------
    def run(self, tree: ast.AST) -> list[Violation]:
        pairs = self.collect(tree)
        for _ in range(3):  # later rounds pick up chains such as `a = os` then `b = a`
            self.memo = {}
            if not any([self.bind(name, self.resolve(value)) for name, value in pairs]):
                break
        self.memo = {}
        callees = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    self.check_import(a, a.name)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                if not self.check_import(self.module_position(node), node.module):
                    for a in node.names:
                        if a.name != "*":
                            self.check_import(a, f"{node.module}.{a.name}")
            elif isinstance(node, ast.Call):
                self.check_call(node)
            elif isinstance(node, ast.Subscript):
                self.check_mapping_read(node, node.value, node.slice)
                key = literal(node.slice)
                if key is not None and "sys.modules" in self.resolve(node.value):
                    self.check_import(node, key)
            if isinstance(node, ast.Attribute) and node.attr == "__dict__" and self.guarded(node.value):
                self.report(node, "dynamic:__dict__", f"{self.spell(node.value)}.__dict__ reaches every attribute by name.")
            if isinstance(node, (ast.Name, ast.Attribute)) and isinstance(node.ctx, ast.Load) and id(node) not in callees:
                self.check_reference(node)
        return sorted(self.found.values(), key=lambda v: (v.line, v.column, v.rule))

    def report(self, node, rule: str, message: str) -> None:
        line, column = self.position(node)
        self.found.setdefault((rule, line, column), Violation(rule, message, line, column))

    def check_import(self, node, module: str) -> bool:
        denied = self.rules.denied_import(canonical(module))
        if denied:
            self.report(node, f"import:{denied}", f"Importing {module} is not allowed: {self.rules.why(f'import:{denied}')}")
        return denied is not None

    def check_call(self, call: ast.Call) -> None:
        for name in self.resolve(call.func):
            if self.rules.denied_call(name):
                self.report(call, f"call:{name}", f"Calling {self.spell(call.func, name)}() is not allowed: {self.rules.why(f'call:{name}')}")
            if name in EVALUATORS:
                self.check_evaluated(call, name)
            if name in IMPORTERS:
                arg = argument(call, 0, "name")
                module = literal(arg)
                if arg is not None and module is None:
                    self.report(call, f"dynamic:{IMPORTERS[name]}", f"{name}() of a computed module name cannot be checked.")
                elif module and not module.startswith("."):
                    self.check_import(call, module)
            if name in ("getattr", "setattr", "delattr") and call.args:
                self.check_attribute_function(call, name)
            if name == "vars" and call.args and self.guarded(call.args[0]):
                self.report(call, "dynamic:vars", "vars() of a denied module or the builtins reaches code that cannot be checked.")
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr in MAPPING_READS:
            self.check_mapping_read(call, func.value, argument(call, 0, "key"))

    def check_evaluated(self, call: ast.Call, name: str) -> None:
        source = argument(call, 0, "source")
        code = literal(source)
        if source is None:
            return
        if code is None or self.nesting >= MAX_NESTING:
            what = "anything but a plain string literal" if code is None else "strings nested this deep"
            self.report(call, f"dynamic:{name}", f"{name}() of {what} is not allowed: its code cannot be checked.")
            return
        try:
            inner = Analyzer(self.rules, code, self.nesting + 1).run(ast.parse(code))
        except SyntaxError:
            return  # it would fail at run time anyway
        for v in inner:
            prefix = "" if v.message.startswith("In the code passed to ") else f"In the code passed to {name}(): "
            self.report(source, v.rule, prefix + v.message)

    def check_attribute_function(self, call: ast.Call, name: str) -> None:
        targets = self.resolve(call.args[0])
        if "builtins" in targets:
            self.report(call, f"dynamic:{name}", f"{name}() on the builtins is not allowed.")
            return
        modules = sorted(t for t in targets if self.rules.is_sensitive(t))
        attr = literal(call.args[1]) if len(call.args) > 1 else None
        if modules and attr is None:
            self.report(call, f"dynamic:{name}", f"{name}() on {', '.join(modules)} with a computed name is not allowed.")
        elif name == "getattr":  # setattr/delattr with a literal name only replace or drop: nothing runs
            for target in {canonical(f"{m}.{attr}") for m in modules}:
                if self.rules.denied_call(target):
                    self.report(call, f"getattr:{target}", f"getattr() reaching {target} is not allowed: {self.rules.why(f'call:{target}')}")

    def check_mapping_read(self, node, mapping, key) -> None:
        targets = self.resolve(mapping)
        if "builtins" in targets:
            self.report(node, "dynamic:__builtins__", "Indexing the builtins mapping is not allowed.")
        name = literal(key)
        if NAMESPACE in targets and (name is None or re.fullmatch(r"__.*__", name)):
            self.report(node, "dynamic:globals", "Reading globals(), locals() or vars() with a computed or dunder key is not allowed.")

    def check_reference(self, node) -> None:
        for target in self.resolve(node):
            if self.rules.denied_call(target):
                self.report(node, f"attribute:{target}", f"Referencing {self.spell(node, target)} is not allowed: {self.rules.why(f'attribute:{target}')}")
            elif target in EVALUATORS or target in IMPORTERS:
                rule = f"dynamic:{IMPORTERS.get(target, target)}"
                self.report(node, rule, f"Holding {target} without calling it is not allowed: it could run anything.")

    def guarded(self, node) -> bool:
        return any(self.rules.is_sensitive(t) for t in self.resolve(node))

    # -- positions and wording -------------------------------------------------------------------------
    def position(self, node) -> tuple[int, int]:
        line = getattr(node, "lineno", 1)
        text = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        prefix = text.encode("utf-8")[: getattr(node, "col_offset", 0)].decode("utf-8", "replace")
        return line, len(prefix.encode("utf-16-le")) // 2 + 1

    def module_position(self, node: ast.ImportFrom):
        """ImportFrom has no node for its module name; the hub points at the name, so find it."""
        text = self.lines[node.lineno - 1].encode("utf-8") if node.lineno <= len(self.lines) else b""
        found = text.find(node.module.split(".")[0].encode("utf-8"), node.col_offset + 4)
        return ast.Name(lineno=node.lineno, col_offset=found if found >= 0 else node.col_offset)

    def spell(self, node, target: str | None = None) -> str:
        text = ast.unparse(node)
        if target is None or text == target or len(text) > 60:
            return target or text
        return f"{text} (which is {target})"
