"""The known walks around a deny-list, after the hub's server/safety/escapes.ts: escape-only attributes
(``().__class__.__base__.__subclasses__()``), modules handed around where the resolver cannot follow them
(``f(os)``, ``[os]``, ``lambda: os``), attribute getters (``operator.attrgetter('system')``), system files,
and in allowlist mode everything not listed. The lists come from the contract (policy.py).
"""

from __future__ import annotations

import ast
import re

from .names import argument, literal

DUNDER = re.compile(r"^__.*__$")
ATTRIBUTE_PATH = re.compile(r"\.(\w+)")
ATTRIBUTE_GETTERS = {"operator.attrgetter", "operator.methodcaller"}
NAME_FUNCTIONS = {"getattr", "setattr", "delattr", "hasattr"}
# Functions that only look at a module they are given: hasattr(os, 'fork'), print(os).
LOOKERS = {*NAME_FUNCTIONS, "isinstance", "type", "id", "print", "repr", "str", "dir", "callable"}
MAPPING_READS = {"get", "__getitem__", "pop", "setdefault"}
OWN = {"self", "cls"}


class EscapeChecks:
    """Mixed into the Analyzer: uses its ``rules``, ``resolve``, ``report`` and ``parents``."""

    def check_escape_attribute(self, node: ast.Attribute) -> None:
        self.report_name(node, node.attr)
        if node.attr == "__dict__" and self.type_like(node.value):
            message = f"{ast.unparse(node.value)}.__dict__ is not allowed: it reaches __subclasses__ and the like."
            self.report(node, "dynamic:__dict__", message)
        private = node.attr.startswith("_") and not DUNDER.match(node.attr)
        if self.rules.allowlist is not None and private:
            if not (isinstance(node.value, ast.Name) and node.value.id in OWN):
                message = f"{node.attr} is not allowed in allowlist mode: private attributes only on self and cls."
                self.report(node, "allowlist:private", message)

    def check_string_path(self, node: ast.Constant) -> None:
        """``'{0.__globals__}'.format(f)``: attribute paths in string literals are followed by format()."""
        parent = self.parents.get(id(node), (None,))[0]
        if "." not in node.value or isinstance(parent, (ast.JoinedStr, ast.FormattedValue)):
            return
        allowlist = self.rules.allowlist
        for name in ATTRIBUTE_PATH.findall(literal(node) or ""):
            if name in self.rules.escapes:
                self.report_escape(node, name)
            if allowlist is not None and DUNDER.match(name) and name not in allowlist.dunders:
                self.report_dunder(node, name)

    def check_escape_key(self, node) -> None:
        """``table['__subclasses__']``, ``ns.get('__globals__')``: escape names used as keys."""
        if isinstance(node, ast.Subscript):
            key = node.slice
        elif isinstance(node.func, ast.Attribute) and node.func.attr in MAPPING_READS:
            key = argument(node, 0, "key")
        else:
            return
        name = literal(key)
        if name is not None and name in self.rules.escapes:
            self.report_escape(node, name)

    def type_like(self, node) -> bool:
        """``object``, ``type(x)``, ``x.__class__``: classes whose computed attributes lead to every class."""
        if isinstance(node, ast.Name):
            return node.id in self.rules.lists["builtinTypes"]
        if isinstance(node, ast.Call):
            return isinstance(node.func, ast.Name) and node.func.id == "type"
        return isinstance(node, ast.Attribute) and node.attr == "__class__"

    def check_escape_name(self, node: ast.Name) -> None:
        allowlist = self.rules.allowlist
        if node.id in self.rules.lists["escapeNames"]:
            self.report_escape(node, node.id)
        if allowlist is not None and DUNDER.match(node.id) and node.id not in allowlist.dunders:
            self.report_dunder(node, node.id)
        if allowlist is not None and any(t in allowlist.builtins for t in self.resolve(node)):
            message = f"{node.id} is not allowed in allowlist mode: it runs strings, opens files or reads scopes."
            self.report(node, "allowlist:builtin", message)

    def check_alias(self, node) -> None:
        modules = sorted(t for t in self.resolve(node) if t in self.rules.guarded)
        if not modules or self.followed(node):
            return
        for module in modules:
            message = (f"Passing the {module} module around as a value is not allowed: the policy cannot follow "
                       "it to where it is used.")
            self.report(node, f"alias:{module}", message)

    def check_held_module(self, node: ast.Attribute) -> None:
        """``asyncio.base_events.subprocess``: a denied module reached as another module's attribute."""
        held = self.rules.held_module(node.attr)
        denied = self.rules.denied_import(held) if held else None
        if denied:
            rule = f"import:{denied}"
            self.report(node, rule, f"Reaching {held} as an attribute is not allowed: {self.rules.why(rule)}")

    def check_escape_call(self, call: ast.Call, name: str) -> None:
        if name in ATTRIBUTE_GETTERS:
            self.check_attribute_getter(call, name)
        if name in self.rules.openers:
            path = literal(argument(call, 0, "path" if name == "os.open" else "file"))
            if path is not None and self.protected_path(path):
                message = (f"{name}('{path}') is not allowed: system files, credentials and paths that climb "
                           "with .. are refused.")
                self.report(call, "file:open", message)
        if name == "vars" and call.args and self.type_like(call.args[0]):
            message = "vars() of a class is not allowed: it reaches __subclasses__ and the like."
            self.report(call, "dynamic:vars", message)
        if name in NAME_FUNCTIONS and len(call.args) > 1:
            value = literal(call.args[1])
            if value is None and self.type_like(call.args[0]):
                message = f"{name}() on a class with a computed name is not allowed: it could reach __subclasses__."
                self.report(call, f"dynamic:{name}", message)
            if value is not None:
                self.report_name(call, value)
            elif self.rules.allowlist is not None:
                message = f"{name}() with a computed name is not allowed in allowlist mode."
                self.report(call, "allowlist:getattr", message)

    def check_attribute_getter(self, call: ast.Call, name: str) -> None:
        args = call.args[:1] if name == "operator.methodcaller" else call.args
        rule, short = f"dynamic:{name}", name[len("operator."):]
        for arg in args:
            value = literal(arg)
            if value is None:
                self.report(call, rule, f"{short}() of a computed name is not allowed: it could reach anything.")
                return
            parts = value.split(".")
            bad = next((p for p in parts if DUNDER.match(p) or p in self.rules.escapes
                        or p in self.rules.denied_names), None)
            if bad is not None:
                self.report(call, rule, f"{short}('{value}') is not allowed: it reaches {bad} by name.")
                return

    def protected_path(self, path: str) -> bool:
        p = path.replace("\\", "/").lower()
        if any(p == root or p.startswith(root + "/") for root in self.rules.lists["protectedPaths"]):
            return True
        return any(segment in self.rules.lists["protectedSegments"] for segment in p.split("/"))

    def report_name(self, node, name: str) -> None:
        if name in self.rules.escapes:
            self.report_escape(node, name)
        allowlist = self.rules.allowlist
        if allowlist is not None and DUNDER.match(name) and name not in allowlist.dunders:
            self.report_dunder(node, name)

    def report_escape(self, node, name: str) -> None:
        self.report(node, f"reflection:{name}", f"{name} is not allowed: {self.rules.escapes[name]}")

    def report_dunder(self, node, name: str) -> None:
        self.report(node, "allowlist:dunder", f"{name} is not allowed in allowlist mode: no dunder access.")

    def followed(self, node) -> bool:
        """Where the resolver does follow a module: ``os.path``, ``o = os``, ``def f(m=os)``, ``print(os)``."""
        parent, field = self.parents.get(id(node), (None, None))
        if parent is None:
            return True
        if isinstance(parent, ast.Attribute):
            return field == "value"
        if isinstance(parent, ast.Assign):
            # In a class body the name becomes an attribute (Box.m), which the resolver does not follow.
            in_class = isinstance(self.parents.get(id(parent), (None,))[0], ast.ClassDef)
            return field == "value" and all(isinstance(t, ast.Name) for t in parent.targets) and not in_class
        if isinstance(parent, ast.AnnAssign):
            return field == "value" and isinstance(parent.target, ast.Name)
        if isinstance(parent, (ast.NamedExpr, ast.arguments)):
            return field in ("value", "defaults", "kw_defaults")
        if isinstance(parent, ast.Call) and field == "args":
            if not (isinstance(parent.func, ast.Name) and parent.func.id in LOOKERS):
                return False
            # getattr(x, 'y', os) hands os back and setattr(x, 'y', os) stores it: only the first is looked at.
            return parent.func.id not in NAME_FUNCTIONS or parent.args[0] is node
        return False
