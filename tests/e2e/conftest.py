"""Browser tests: Playwright for Python driving Debian's Chromium against the live server."""

from typing import Any

import pytest

from tests.conftest import CHROMIUM, CHROMIUM_ARGS


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture
def new_page(browser: Any, live_server: Any) -> Any:
    """A fresh browser context (a different person) at the live server."""
    contexts = []

    def make() -> Any:
        context = browser.new_context(base_url=live_server.url, locale="ru-RU", timezone_id="Europe/Moscow")
        context.set_default_timeout(15000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
