"""Steps a person takes in the desktop, for the browser tests."""

from __future__ import annotations

import json
from pathlib import Path

AXE = Path(__file__).resolve().parents[2] / "desktop" / "node_modules" / "axe-core" / "axe.min.js"


async def sign_in(page, agent_id: str, role: str = "agent", skills: str = "", languages: str = "") -> None:
    await page.goto("/signin")
    await page.get_by_label("Agent id").fill(agent_id)
    await page.get_by_label("Role").select_option(role)
    await page.get_by_label("Skills").fill(skills)
    await page.get_by_label("Languages").fill(languages)
    await screenshot(page, "desktop-signin")
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(lambda url: "/signin" not in url)
    assert agent_id in await page.get_by_test_id("signed-in-as").inner_text()


async def serious_violations(page) -> list[dict]:
    """axe-core (from npm, injected into the page): the serious and critical violations."""
    await page.add_script_tag(path=str(AXE))
    result = await page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in result["violations"] if v["impact"] in ("serious", "critical")]


async def assert_accessible(page) -> None:
    violations = await serious_violations(page)
    assert not violations, json.dumps(violations, indent=1)


async def overhang_of_its_card(element) -> float:
    """How many pixels ``element`` reaches past the right edge of the content box of the card around it (below 1 when
    it fits: 0 or less, give or take rounding)."""
    return await element.evaluate("""(el) => {
        const card = el.closest('.card'), style = getComputedStyle(card);
        const inner = card.getBoundingClientRect().right - parseFloat(style.borderRightWidth)
                      - parseFloat(style.paddingRight);
        return el.getBoundingClientRect().right - inner;
    }""")


async def screenshot(page, name: str) -> None:
    """With IC_DESKTOP_SCREENSHOTS=<folder> (docs/ for the README), a picture of the page as it is now."""
    import os

    folder = os.environ.get("IC_DESKTOP_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        await page.evaluate("window.scrollTo(0, 0)")
        await page.wait_for_timeout(300)  # let the last swap settle
        await page.screenshot(path=str(Path(folder) / f"{name}.png"))
