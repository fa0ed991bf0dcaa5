"""Stand-in for pxr.Usd (empty)."""
