"""Python tests of the bridge: ``python3 -m unittest discover -s tests -t .`` from the extension's folder."""
