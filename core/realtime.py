"""Pushing messages to open pages over the channel layer, best effort.

Pages also poll, so an outage of Redis (the channel layer) delays a live update but changes nothing
that was saved; a failure here is logged and never fails the write that already committed."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

log = logging.getLogger(__name__)


def group_send(group: str, message: dict[str, Any]) -> None:
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    if layer is None:
        return
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass  # no loop in this thread: the normal case for sync code
    else:
        log.debug("not pushing to %s from inside an event loop", group)
        return
    try:
        async_to_sync(layer.group_send)(group, message)
    except Exception:  # Redis down or unreachable: see the module docstring
        log.warning("could not push to %s", group, exc_info=True)
