"""Stand-in for pxr.Sdf (empty)."""
