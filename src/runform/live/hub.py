"""Publish/subscribe of live messages (JSON-able dicts with a ``type`` field).

Each subscriber has a bounded queue; a subscriber that cannot keep up loses its oldest
messages (counted in ``dropped``), never blocking the publisher or other subscribers.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

Message = dict[str, Any]


class Subscription:
    def __init__(self, hub: "Hub", maxsize: int):
        self._hub = hub
        self.queue: asyncio.Queue[Message] = asyncio.Queue(maxsize=maxsize)
        self.dropped = 0

    def _offer(self, msg: Message) -> None:
        if self.queue.full():
            try:
                self.queue.get_nowait()
                self.dropped += 1
            except asyncio.QueueEmpty:  # pragma: no cover - raced
                pass
        self.queue.put_nowait(msg)

    async def get(self) -> Message:
        return await self.queue.get()

    def close(self) -> None:
        self._hub._subscribers.discard(self)

    def __enter__(self) -> "Subscription":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Hub:
    def __init__(self, keep_recent: int = 200):
        self._subscribers: set[Subscription] = set()
        self.published = 0
        #: the latest messages of kinds a new viewer needs at once (strides, events)
        self.recent: deque[Message] = deque(maxlen=keep_recent)

    def subscribe(self, maxsize: int = 1000) -> Subscription:
        sub = Subscription(self, maxsize)
        self._subscribers.add(sub)
        return sub

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def publish(self, msg: Message) -> None:
        self.published += 1
        if msg.get("type") in ("stride", "event", "calibration", "annotation", "alert"):
            self.recent.append(msg)
        for sub in list(self._subscribers):
            sub._offer(msg)
