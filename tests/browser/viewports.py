"""The widths browser tests run at. Every test using the `page` fixture runs at both; a test
about behaviour that does not depend on the width is marked `@desktop_only` to keep the suite
fast, and one about a single width says which."""

from typing import NamedTuple

import pytest


class Viewport(NamedTuple):
    name: str
    size: dict


PHONE = Viewport("phone", {"width": 375, "height": 812})
# The narrowest screen WCAG 2.2 asks pages to work at (1.4.10 Reflow): 320 CSS pixels.
NARROWEST = Viewport("320px", {"width": 320, "height": 640})
DESKTOP = Viewport("desktop", {"width": 1280, "height": 900})
VIEWPORTS = [PHONE, DESKTOP]

phone_only = pytest.mark.parametrize("viewport", [PHONE], indirect=True, ids=["phone"])
desktop_only = pytest.mark.parametrize("viewport", [DESKTOP], indirect=True, ids=["desktop"])
desktop_and_narrowest = pytest.mark.parametrize(
    "viewport", [DESKTOP, NARROWEST], indirect=True, ids=["desktop", "320px"]
)
