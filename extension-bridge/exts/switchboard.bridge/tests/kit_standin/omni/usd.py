"""Stand-in for omni.usd: one context with one small stage.

The stage answers the slice of the pxr API the hub's scene tools use (GetPrimAtPath, GetChildren,
GetAttributes, GetDefaultPrim, ...): /World with a Cube (size, extent, displayColor) and a Looks scope.
"""


class _Attribute:
    def __init__(self, name: str, type_name: str, value) -> None:
        self._name, self._type_name, self._value = name, type_name, value

    def GetName(self) -> str:
        return self._name

    def GetTypeName(self) -> str:
        return self._type_name

    def Get(self):
        return self._value


class _Prim:
    def __init__(self, path: str, type_name: str = "", attributes=(), children=()) -> None:
        self._path, self._type_name = path, type_name
        self._attributes = list(attributes)
        self._children = list(children)

    def __bool__(self) -> bool:
        return self.IsValid()

    def IsValid(self) -> bool:
        return self._path != ""

    def GetPath(self) -> str:
        return self._path

    def GetTypeName(self) -> str:
        return self._type_name

    def GetChildren(self) -> list:
        return list(self._children)

    def GetAttributes(self) -> list:
        return list(self._attributes)


def _tree() -> _Prim:
    cube = _Prim(
        "/World/Cube",
        "Cube",
        [
            _Attribute("size", "double", 2.0),
            _Attribute("extent", "float3[]", [(-1.0, -1.0, -1.0), (1.0, 1.0, 1.0)]),
            _Attribute("primvars:displayColor", "color3f[]", [(0.2, 0.4, 0.8)]),
        ],
    )
    looks = _Prim("/World/Looks", "Scope")
    world = _Prim("/World", "Xform", [_Attribute("visibility", "token", "inherited")], [cube, looks])
    return _Prim("/", "", [], [world])


class _Stage:
    name = "standin-stage"

    def __init__(self) -> None:
        self._root = _tree()

    def GetPrimAtPath(self, path: str) -> _Prim:
        found = [self._root]
        while found:
            prim = found.pop()
            if prim.GetPath() == str(path):
                return prim
            found.extend(prim.GetChildren())
        return _Prim("")  # USD answers an invalid prim, not None

    def GetDefaultPrim(self) -> _Prim:
        return self.GetPrimAtPath("/World")

    def Traverse(self):
        stack = list(reversed(self._root.GetChildren()))
        while stack:
            prim = stack.pop()
            yield prim
            stack.extend(reversed(prim.GetChildren()))


class _Context:
    def __init__(self) -> None:
        self.stage = _Stage()
        self.url = "omniverse://standin/stage.usd"

    def get_stage(self):
        return self.stage

    def get_stage_url(self) -> str:
        return self.url


_context = _Context()


def get_context(name: str = "") -> _Context:
    return _context
