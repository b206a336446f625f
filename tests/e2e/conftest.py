"""Browser tests: Playwright for Python driving Debian's Chromium against the live server."""

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CHROMIUM, CHROMIUM_ARGS, ensure_reference_lists

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

    def make() -> Any:
        context = browser.new_context(base_url=live_server.url, locale="ru-RU", timezone_id="Europe/Moscow")
        context.set_default_timeout(15000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
