"""Stand-in for pxr.Gf (empty)."""
