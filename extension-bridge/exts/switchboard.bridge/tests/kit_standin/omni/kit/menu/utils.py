"""Stand-in for omni.kit.menu.utils: menus are lists of ``MenuItemDescription`` added under a top menu name.

``add_menu_items(items, "Window")`` adds them, ``remove_menu_items(items, "Window")`` removes the same list
object again; ``menus`` holds what is added, so a test can find an entry and "click" it (``onclick_fn``).
"""

from __future__ import annotations

menus: dict[str, list[MenuItemDescription]] = {}


class MenuItemDescription:
    def __init__(
        self,
        name: str = "",
        onclick_fn=None,
        onclick_action=None,
        ticked: bool = False,
        ticked_fn=None,
        sub_menu=None,
        appear_after: str = "",
        **kwargs,
    ) -> None:
        self.name = name
        self.onclick_fn = onclick_fn
        self.onclick_action = onclick_action
        self.ticked = ticked
        self.ticked_fn = ticked_fn
        self.sub_menu = sub_menu
        self.appear_after = appear_after
        self.kwargs = kwargs


def add_menu_items(menu_list: list[MenuItemDescription], name: str, menu_index: int = 0, **kwargs) -> list:
    menus.setdefault(name, []).extend(menu_list)
    return menu_list


def remove_menu_items(menu_list: list[MenuItemDescription], name: str) -> None:
    items = menus.get(name, [])
    for item in menu_list:
        if item in items:
            items.remove(item)


def rebuild_menus() -> None:
    pass


def find(name: str, title: str) -> MenuItemDescription | None:
    """Stand-in only: the entry called ``title`` under the top menu ``name``."""
    return next((item for item in menus.get(name, []) if item.name == title), None)
