"""Which policy rules a piece of code breaks, and where: the hub's analyser (server/safety) over ``ast``.

Imports, calls, references to denied functions (holding one is as good as calling it) and reflection
(getattr, globals(), ``__dict__``, ``__builtins__``) are checked against the rules, after names have been
resolved (names.py). Positions are the hub's: 1-based line, and column in UTF-16 code units.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from .escapes import EscapeChecks
from .names import EVALUATORS, IMPORTERS, NAMESPACE, Resolver, argument, canonical, literal

MAPPING_READS = {"get", "__getitem__", "pop", "setdefault"}
ATTRIBUTE_FUNCTIONS = {"getattr", "setattr", "delattr"}
MAX_NESTING = 3  # eval('eval("...")') is read this many strings deep; deeper is refused as unreadable
NESTED = "In the code passed to "
# Held without a call these can still reach anything later, e.g. ``map(eval, lines)``.
HELD = {*EVALUATORS, *IMPORTERS, "getattr", "setattr", "delattr", "globals", "locals", "vars", "sys.modules"}


@dataclass(frozen=True)
class Violation:
    rule: str
    message: str
    line: int
    column: int


class Analyzer(EscapeChecks):
    def __init__(self, rules, source: str, nesting: int = 0) -> None:
        self.rules, self.nesting = rules, nesting
        self.lines = source.splitlines()
        self.found: dict[tuple[str, int, int], Violation] = {}

    def run(self, tree: ast.AST) -> list[Violation]:
        self.names = Resolver(tree, self.rules.is_notable, self.rules.held_module)
        callees = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
        self.parents = {
            id(child): (node, name)
            for node in ast.walk(tree)
            for name, value in ast.iter_fields(node)
            for child in (value if isinstance(value, list) else [value])
            if isinstance(child, ast.AST)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    self.check_import(alias, alias.name)
                    self.check_allowed(alias, alias.name)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                self.check_allowed(self.module_node(node), node.module)
                # Relative imports name the caller's own package, which no rule can know.
                if not self.check_import(self.module_node(node), node.module):
                    for alias in node.names:
                        if alias.name != "*":
                            self.check_import(alias, f"{node.module}.{alias.name}")
            elif isinstance(node, ast.Call):
                self.check_call(node)
                self.check_escape_key(node)
            elif isinstance(node, ast.Subscript):
                self.check_escape_key(node)
                self.check_mapping_read(node, node.value, node.slice)
                key = literal(node.slice)
                if key is not None and "sys.modules" in self.resolve(node.value):
                    self.check_import(node, key)
            if isinstance(node, ast.Attribute) and node.attr == "__dict__" and self.guarded(node.value):
                self.report(node, "dynamic:__dict__", f"{ast.unparse(node)} reaches every attribute by name.")
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                self.check_string_path(node)
            if isinstance(node, ast.Attribute):
                self.check_escape_attribute(node)
                self.check_held_module(node)
            if isinstance(node, (ast.Name, ast.Attribute)) and isinstance(node.ctx, ast.Load):
                if id(node) not in callees:
                    self.check_reference(node)
                self.check_alias(node)
                if isinstance(node, ast.Name):
                    self.check_escape_name(node)
        return sorted(self.found.values(), key=lambda v: (v.line, v.column, v.rule))

    def resolve(self, node) -> frozenset[str]:
        return self.names.resolve(node)

    def guarded(self, node) -> bool:
        """Whether a computed attribute of it could land on something denied."""
        return any(self.rules.is_sensitive(t) for t in self.resolve(node))

    def report(self, node, rule: str, message: str) -> None:
        line, column = self.position(node)
        self.found.setdefault((rule, line, column), Violation(rule, message, line, column))

    def check_import(self, node, module: str) -> bool:
        denied = self.rules.denied_import(canonical(module))
        if denied:
            rule = f"import:{denied}"
            self.report(node, rule, f"Importing {module} is not allowed: {self.rules.why(rule)}")
        return denied is not None

    def check_allowed(self, node, module: str) -> None:
        allowlist = self.rules.allowlist
        if allowlist is not None and not allowlist.allows(canonical(module)):
            message = f"Importing {module} is not allowed in allowlist mode: it is not on the allowed modules list."
            self.report(node, "allowlist:import", message)

    def check_call(self, call: ast.Call) -> None:
        for name in self.resolve(call.func):
            self.check_escape_call(call, name)
            if self.rules.denied_call(name):
                rule = f"call:{name}"
                what = spelled(call.func, name, "()")
                self.report(call, rule, f"Calling {what} is not allowed: {self.rules.why(rule)}")
            if name in EVALUATORS:
                self.check_evaluated(call, name)
            if name in IMPORTERS:
                self.check_importer(call, name)
            if name in ATTRIBUTE_FUNCTIONS and call.args:
                self.check_attribute_function(call, name)
            if name == "vars" and call.args and self.guarded(call.args[0]):
                self.report(call, "dynamic:vars", "vars() of a denied module or the builtins is not allowed.")
        if isinstance(call.func, ast.Attribute) and call.func.attr in MAPPING_READS:
            self.check_mapping_read(call, call.func.value, argument(call, 0, "key"))

    def check_evaluated(self, call: ast.Call, name: str) -> None:
        """eval/exec/compile take a literal only, and the literal's code is held to the same rules."""
        source = argument(call, 0, "source")
        if source is None:
            return
        code = literal(source)
        if code is None or self.nesting >= MAX_NESTING:
            what = "anything but a plain string literal" if code is None else "strings nested this deep"
            message = f"{name}() of {what} is not allowed: its code cannot be checked."
            self.report(call, f"dynamic:{name}", message)
            return
        try:
            inner = Analyzer(self.rules, code, self.nesting + 1).run(ast.parse(code))
        except SyntaxError:
            return  # it fails when run anyway
        for v in inner:
            message = v.message if v.message.startswith(NESTED) else f"{NESTED}{name}(): {v.message}"
            self.report(source, v.rule, message)

    def check_importer(self, call: ast.Call, name: str) -> None:
        arg = argument(call, 0, "name")
        module = literal(arg)
        if arg is not None and module is None:
            rule = f"dynamic:{IMPORTERS[name]}"
            self.report(call, rule, f"{name}() of a computed module name is not allowed.")
        elif module and not module.startswith("."):
            self.check_import(call, module)
        elif module and name == "importlib.import_module":  # import_module('.process', 'multiprocessing')
            anchor = argument(call, 1, "package")
            package = literal(anchor)
            if package is not None:
                self.check_import(call, f"{package}.{module.lstrip('.')}")
            elif anchor is not None:
                self.report(call, f"dynamic:{IMPORTERS[name]}", f"{name}() of a computed package is not allowed.")

    def check_attribute_function(self, call: ast.Call, name: str) -> None:
        targets = self.resolve(call.args[0])
        if "builtins" in targets:
            self.report(call, f"dynamic:{name}", f"{name}() on the builtins is not allowed.")
            return
        modules = sorted(t for t in targets if self.rules.is_sensitive(t))
        attr = literal(call.args[1]) if len(call.args) > 1 else None
        if modules and attr is None:
            what = f"{name}() on {', '.join(modules)} with a computed name"
            self.report(call, f"dynamic:{name}", f"{what} is not allowed.")
        elif name == "getattr":  # setattr/delattr with a literal name replace or drop it: nothing runs
            for target in sorted({canonical(f"{m}.{attr}") for m in modules}):
                if self.rules.denied_call(target):
                    why = self.rules.why(f"call:{target}")
                    message = f"getattr() reaching {target} is not allowed: {why}"
                    self.report(call, f"getattr:{target}", message)

    def check_mapping_read(self, node, mapping, key) -> None:
        """``globals()['__builtins__']``, ``locals()[name]``, ``__builtins__['eval']`` and their ``.get``."""
        targets = self.resolve(mapping)
        if "builtins" in targets:
            self.report(node, "dynamic:__builtins__", "Indexing the builtins mapping is not allowed.")
        name = literal(key)
        if NAMESPACE in targets and (name is None or re.fullmatch(r"__.*__", name)):
            what = "a computed key" if name is None else repr(name)
            message = f"Reading globals(), locals() or vars() with {what} is not allowed."
            self.report(node, "dynamic:globals", message)

    def check_reference(self, node) -> None:
        for target in self.resolve(node):
            if self.rules.denied_call(target):
                rule = f"attribute:{target}"
                message = f"Referencing {spelled(node, target)} is not allowed: {self.rules.why(rule)}"
                self.report(node, rule, message)
            elif target == "sys.modules":
                message = "sys.modules is not allowed: it hands out any module by a computed name."
                self.report(node, "dynamic:sys.modules", message)
            elif target in HELD:
                message = f"Holding {target} without calling it is not allowed: it could run anything."
                self.report(node, f"dynamic:{IMPORTERS.get(target, target)}", message)

    def position(self, node) -> tuple[int, int]:
        line = getattr(node, "lineno", 1)
        text = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        before = text.encode("utf-8")[: getattr(node, "col_offset", 0)].decode("utf-8", "replace")
        return line, len(before.encode("utf-16-le")) // 2 + 1

    def module_node(self, node: ast.ImportFrom):
        """``from m import x`` has no node for ``m``; the hub points at it, so find it on the line."""
        line = self.lines[node.lineno - 1].encode("utf-8") if node.lineno <= len(self.lines) else b""
        # The first name after `from`, as written: it may be spelled in fullwidth letters (NFKC).
        found = re.compile(rb"from[\s\\]+").match(line, node.col_offset)
        at = found.end() if found else -1
        return ast.Name(lineno=node.lineno, col_offset=at if at >= 0 else node.col_offset)


def spelled(node, target: str, suffix: str = "") -> str:
    """Names the alias the user wrote next to the rule's name: ``s(), which is os.system(),``."""
    text = ast.unparse(node)
    if text == target or len(text) > 60 or any(c.isspace() for c in text):
        return target + suffix
    return f"{text}{suffix}, which is {target}{suffix},"
