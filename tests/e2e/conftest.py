"""Browser tests: Playwright for Python driving Debian's Chromium against the live server."""

import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CHROMIUM, CHROMIUM_ARGS, REQUIRE_SERVICES, ensure_reference_lists

HERE = Path(__file__).parent


def pytest_itemcollected(item: pytest.Item) -> None:
    """Mark the browser tests (before ``-m`` selects; hooks here see every item of the session)."""
    if HERE in item.path.parents:
        item.add_marker(pytest.mark.e2e)


@pytest.hookimpl(trylast=True)  # after pytest-django's reordering by kind of database access
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The browser tests run last: Playwright's sync API keeps an event loop on the main thread from
    the first browser test on, and the async tests of the consumers cannot run beside it."""
    items.sort(key=lambda item: HERE in item.path.parents)  # stable: the order within each part stays


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture
def new_page(browser: Any, live_server: Any) -> Any:
    """A fresh browser context (a different person) at the live server."""
    contexts = []

    ensure_reference_lists()  # an earlier transactional test emptied the tables of the data migrations

    def make(**options: Any) -> Any:
        """``options`` for the context, e.g. ``viewport={"width": 390, "height": 844}`` for a phone."""
        options = {"locale": "ru-RU", "timezone_id": "Europe/Moscow", **options}
        context = browser.new_context(base_url=live_server.url, **options)
        context.set_default_timeout(15000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
    requests_finished(live_server)


def requests_finished(live_server: Any, timeout: float = 15.0) -> None:
    """Wait for the live server's requests still running after the browser left. A request cut off
    by the closing context (a queued answer, a poll) went on in its thread while the database was
    flushed for the next test: the flush failed against its locks, and the next test found the last
    one's people (CI, stop 24)."""
    deadline = time.monotonic() + timeout
    for thread in list(getattr(live_server.thread.httpd, "_threads", ())):
        thread.join(max(0.0, deadline - time.monotonic()))
        if thread.is_alive():
            pytest.fail(f"a request of the live server still runs after {timeout:.0f} s")


@pytest.fixture
def axe_check() -> Any:
    """``axe_check(page)``: axe-core on the page as it is now; fails on any WCAG 2.1 AA violation and
    on any colour-contrast item axe cannot decide that tests/e2e/axe.py does not explain."""
    from tests.e2e.axe import AXE_JS, axe_problems, axe_run

    if not AXE_JS.exists():
        message = f"axe-core is missing at {AXE_JS} (make axe-core)"
        if REQUIRE_SERVICES:
            pytest.fail(message + "; required in CI")
        pytest.skip(message)

    def check(page: Any) -> None:
        problems = axe_problems(axe_run(page))
        assert not problems, f"axe-core on {page.url}:\n" + "\n".join(problems)

    return check
