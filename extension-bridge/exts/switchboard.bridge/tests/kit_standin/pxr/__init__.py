"""Stand-in for pxr: the modules exist, so the runner's namespace can offer them; they hold nothing."""
