"""The widths browser tests run at. Every test using the `page` fixture runs at both; a test
about behaviour that does not depend on the width is marked `@desktop_only` to keep the suite
fast, and one about a single width says which."""

from typing import NamedTuple

import pytest


class Viewport(NamedTuple):
    name: str
    size: dict


PHONE = Viewport("phone", {"width": 375, "height": 812})
DESKTOP = Viewport("desktop", {"width": 1280, "height": 900})
VIEWPORTS = [PHONE, DESKTOP]

phone_only = pytest.mark.parametrize("viewport", [PHONE], indirect=True, ids=["phone"])
desktop_only = pytest.mark.parametrize("viewport", [DESKTOP], indirect=True, ids=["desktop"])
