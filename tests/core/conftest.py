"""Fixtures of the platform's tests."""

from typing import Any

import pytest


@pytest.fixture
def redis_layer() -> Any:
    """The configured channel layer when it is Redis's; the test is skipped on the in-memory one."""
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    if "Redis" not in type(layer).__name__:
        pytest.skip("the channel layer is in memory (no REDIS_URL)")
    return layer
