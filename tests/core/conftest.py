"""Fixtures of the platform's tests."""

from typing import Any

import pytest


@pytest.fixture
def redis_layer() -> Any:
    """The configured channel layer when it is Redis's; on the in-memory one the test is skipped, and
    in CI (REQUIRE_SERVICES=1) it fails."""
    from channels.layers import get_channel_layer

    from tests.conftest import REQUIRE_SERVICES

    layer = get_channel_layer()
    if "Redis" not in type(layer).__name__:
        message = "the channel layer is in memory (no REDIS_URL)"
        if REQUIRE_SERVICES:
            pytest.fail(message + "; Redis is required in CI")
        pytest.skip(message)
    return layer
