"""The viewer's page in a real headless Chromium, over the trace of a real run.

An operator opens a folder of runs, clicks a subgoal to see why it ended as it did,
switches to another run, puts two side by side, and opens a crashed run's trace.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from humanoid.viewer.server import running_server

CHROMIUM = "/usr/bin/chromium"
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        shutil.which(CHROMIUM) is None, reason=f"needs Chromium at {CHROMIUM} (apt-get install chromium)"
    ),
]
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="needs Playwright's Python package (the dev extra)"
)

# run ids follow the files' modification times (see conftest.runs_dir)
COFFEE, REPLAN, CRASHED, NOT_A_TRACE = "0", "1", "2", "3"


@pytest.fixture(scope="module")
def base_url(runs_dir: Path) -> Iterator[str]:
    with running_server(runs_dir) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as p:
        # Debian's Chromium, never a downloaded one; no sandbox as CI containers run as root
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, base_url: str):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.errors = []
    page.requests = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    page.on("request", lambda request: page.requests.append(request.url))
    yield page
    assert page.errors == [], f"the page raised: {page.errors}"
    outside = [u for u in page.requests if not u.startswith(base_url) and not u.startswith("data:")]
    assert outside == [], f"the page loaded from outside the viewer: {outside}"
    page.close()


def _open(page, base_url: str, run: str) -> None:
    page.goto(f"{base_url}/#run={run}")
    page.wait_for_function(f"document.body.dataset.ready === '{run}'", timeout=15_000)


def _subgoal_spans(trace_path: Path) -> list[tuple[str, float, float]]:
    """(skill, sim start, sim end) of each finished subgoal of a trace, in order."""
    from humanoid.trace.reader import read_trace

    out = []
    for m in read_trace(trace_path).topic("/planner/subgoal"):
        r = m.payload.get("result")
        if r:
            out.append((r["subgoal"]["skill"], r["sim_time_start"], r["sim_time_end"]))
    return out


def test_a_real_run_opens_and_a_subgoal_shows_its_details(page, base_url: str, real_trace: Path) -> None:
    spans = _subgoal_spans(real_trace)
    skills = [s for s, _, _ in spans]
    assert skills == ["navigate", "pick", "place", "press", "pick", "navigate", "place"]
    _open(page, base_url, COFFEE)
    assert "make me a coffee" in page.inner_text("#summary")
    assert page.inner_text("#outcome") == "succeeded"
    assert page.is_hidden("[data-testid=damage-banner]")
    bars = page.locator("[data-testid=subgoal-bar]")
    assert bars.count() == len(spans)
    press = skills.index("press")
    bars.nth(press).click()
    details = page.locator("[data-testid=details]")
    assert "press(target=coffee_machine)" in page.inner_text("[data-testid=detail-title]")
    assert page.inner_text("[data-testid=detail-result]") == "ok"
    assert "coffee_machine" in details.inner_text() and "motion plans" in details.inner_text()
    # the cursor moved to the subgoal's start
    assert f"sim {int(spans[press][1])}." in page.inner_text("[data-testid=clock]")
    # the run tree holds the same subgoal, now selected, with its motion plans beneath
    assert "selected" in page.locator("[data-testid=tree-subgoal]").nth(press).get_attribute("class")
    assert page.locator(".tree-motion").count() > 10
    # map, plots and the scrubber are drawn from the run
    assert page.locator("#map .map-object").count() > 10
    assert page.locator("#map .executed-path").count() == 1
    assert page.locator("#plots .uplot").count() == 4
    _, start, end = spans[press + 1]  # the second pick
    middle = round((start + end) / 2)
    page.fill("[data-testid=scrub]", str(middle))
    page.dispatch_event("[data-testid=scrub]", "input")
    assert f"sim {middle:.2f} s" in page.inner_text("[data-testid=clock]")
    assert "pick(obj=mug_blue)" in page.inner_text("#now")


def test_switching_runs_shows_the_replan_and_its_reason(page, base_url: str) -> None:
    _open(page, base_url, COFFEE)
    page.select_option("[data-testid=run-select]", REPLAN)
    page.wait_for_function(f"document.body.dataset.ready === '{REPLAN}'")
    assert "bring me the red mug" in page.inner_text("#summary")
    assert page.locator("[data-testid=plan-version]").count() == 2
    assert "+ pick(obj=mug_red, grasp=side)" in page.inner_text("#plans")
    page.locator("[data-testid=subgoal-bar]").first.click()
    assert page.inner_text("[data-testid=detail-result]") == "failed"
    assert page.inner_text("[data-testid=detail-reason]") == "grasp_lost"
    assert "the mug slipped" in page.inner_text("[data-testid=details]")
    assert page.locator("#timeline .mark.safety").count() == 1
    assert page.locator("#timeline .mark.approval").count() == 1
    assert f"run={REPLAN}" in page.url


def test_two_runs_side_by_side_show_where_they_diverged(page, base_url: str) -> None:
    _open(page, base_url, COFFEE)
    assert page.is_hidden("[data-testid=compare]")
    page.select_option("[data-testid=compare-select]", CRASHED)
    page.wait_for_selector("[data-testid=diverged]")
    table = page.inner_text("#compare-table")
    # the crashed copy is the coffee run cut at half its bytes: where that falls (inside a subgoal,
    # shown "running", or between two) depends on the run's length, so only the steps are checked
    assert "navigate(place=close_counter)" in table and "pick(obj=mug_blue)" in table
    assert page.locator("#compare-table tr.diverged").count() == 1
    assert "diverged at step" in page.inner_text("[data-testid=diverged]")


def test_a_crashed_run_shows_everything_up_to_the_damage_with_a_banner(page, base_url: str) -> None:
    _open(page, base_url, CRASHED)
    banner = page.locator("[data-testid=damage-banner]")
    assert banner.is_visible()
    assert "This trace stops at byte" in banner.inner_text() and "probably crashed" in banner.inner_text()
    assert page.inner_text("#outcome") == "crashed"
    assert page.locator("[data-testid=subgoal-bar]").count() >= 2
    assert page.locator("#timeline .damage-line").count() == 1


def test_a_file_that_is_not_a_trace_gets_a_clear_error(page, base_url: str) -> None:
    _open(page, base_url, COFFEE)
    page.select_option("[data-testid=run-select]", NOT_A_TRACE)
    page.wait_for_function("document.body.dataset.ready === 'error'")
    assert "is not an MCAP trace" in page.inner_text("#error")
    assert page.is_hidden("#main")
