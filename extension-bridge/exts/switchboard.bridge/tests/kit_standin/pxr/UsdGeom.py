"""Stand-in for pxr.UsdGeom: the stage metrics the hub's scene tools read."""


def GetStageUpAxis(stage) -> str:
    return "Y"


def GetStageMetersPerUnit(stage) -> float:
    return 0.01
