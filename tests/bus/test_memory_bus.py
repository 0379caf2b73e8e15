"""The in-process bus delivers each event to the subscribers that take its type, in order."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from joule.bus.memory import MemoryBus


@dataclass
class Booted:
    station_id: str


@dataclass
class Rebooted(Booted):
    pass


@dataclass
class Metered:
    station_id: str


async def test_each_subscriber_gets_the_types_it_takes_in_subscription_order() -> None:
    bus = MemoryBus()
    seen: list[tuple[str, object]] = []

    def recorder(name: str) -> Callable[[object], Awaitable[None]]:
        async def handler(event: object) -> None:
            seen.append((name, event))

        return handler

    async def failing(event: object) -> None:
        raise RuntimeError("a broken subscriber")

    bus.subscribe(recorder("all"))
    bus.subscribe(failing, (Booted,))
    bus.subscribe(recorder("boots"), (Booted,))
    bus.subscribe(recorder("meters"), (Metered,))
    await bus.publish(Booted("A"))
    await bus.publish(Rebooted("B"))  # a subclass is taken as its base (isinstance)
    await bus.publish(Metered("C"))
    assert seen == [
        ("all", Booted("A")),
        ("boots", Booted("A")),
        ("all", Rebooted("B")),
        ("boots", Rebooted("B")),
        ("all", Metered("C")),
        ("meters", Metered("C")),
    ]


async def test_subscribing_and_unsubscribing_apply_to_the_next_event() -> None:
    bus = MemoryBus()
    got: list[str] = []

    async def first(event: object) -> None:
        got.append("first")

    async def second(event: object) -> None:
        got.append("second")

    stop_first = bus.subscribe(first, (Metered,))
    await bus.publish(Metered("A"))  # routes for Metered are now known …
    bus.subscribe(second, (Metered,))
    await bus.publish(Metered("A"))  # … and learnt again after a subscribe
    stop_first()
    await bus.publish(Metered("A"))  # … and after an unsubscribe
    assert got == ["first", "first", "second", "second"]
