"""Stand-in for pxr.UsdGeom (empty)."""
