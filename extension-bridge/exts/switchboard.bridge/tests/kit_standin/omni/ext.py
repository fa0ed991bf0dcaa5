"""Stand-in for omni.ext: the base class Kit instantiates for each extension module."""


class IExt:
    def on_startup(self, ext_id: str) -> None:
        pass

    def on_shutdown(self) -> None:
        pass
