"""Accessibility checks with axe-core, vendored as vendor/axe.min.js (`make frontend`)."""

from pathlib import Path

import pytest

AXE_SCRIPT = Path(__file__).parent / "vendor" / "axe.min.js"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
# WCAG 2.2 AA, which SPEC.md section 6 asks every page to meet, and the levels below it.
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]


def assert_accessible(page, name: str) -> None:
    """Fail, listing every violation, unless axe finds the page meets WCAG 2.2 A and AA. Saves a
    full-page screenshot to test-output/screenshots/<name>.png first, pass or fail, for people
    to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)
    # Evaluated through the browser's DevTools protocol, which the page's Content-Security-Policy
    # does not govern (the policy rightly refuses an injected inline <script>).
    page.evaluate(f"() => {{ {AXE_SCRIPT.read_text()}\n }}")
    results = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_TAGS
    )
    violations = results["violations"]
    if violations:
        lines = [f"{name}: {len(violations)} accessibility violation(s) at {page.url}"]
        for violation in violations:
            lines.append(
                f"- {violation['id']} ({violation['impact']}): {violation['help']}"
                f" <{violation['helpUrl']}>"
            )
            for node in violation["nodes"]:
                lines.append(f"    {', '.join(map(str, node['target']))}")
                lines.extend(
                    f"      {line}" for line in node.get("failureSummary", "").splitlines()
                )
        pytest.fail("\n".join(lines), pytrace=False)
