"""Load on a real server while something happens to it (a reload, a promotion), and the check
that every answer came, right, from the model its header names."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

WORDS = {
    "space": ["rocket", "orbit", "launch", "nasa", "astronaut", "moon"],
    "cooking": ["recipe", "oven", "flour", "butter", "garlic", "bake"],
    "sport": ["football", "goal", "match", "referee", "league", "striker"],
}


@dataclass
class Traffic:
    """Clients sending repeated, unique and batch requests until told to stop."""

    url: str
    clients: int = 12
    answers: list[tuple[int, str, list[str], str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    counter: itertools.count[int] = field(default_factory=itertools.count)

    def body(self, n: int) -> tuple[str, dict[str, object], list[str]]:
        topic = list(WORDS)[n % 3]
        text = " ".join(WORDS[topic]) + (f" note {n}" if n % 2 else "")  # half repeated
        if n % 7 == 0:
            return "/predictions", {"texts": [text, f"{text} again {n}"]}, [topic, topic]
        if n % 11 == 0:  # computed fresh, outside the cache and the batcher
            return "/prediction?scores=true", {"text": text}, [topic]
        return "/prediction", {"text": text}, [topic]

    async def client(self, http: httpx.AsyncClient, stop: asyncio.Event) -> None:
        while not stop.is_set():
            path, body, topics = self.body(next(self.counter))
            try:
                response = await http.post(path, json=body)
            except httpx.HTTPError as exc:
                self.errors.append(repr(exc))
                continue
            data = response.json() if response.status_code == 200 else {}
            got = data.get("categories") or [data.get("category", "")]
            version = response.headers.get("x-model-version", "")
            self.answers.append((response.status_code, version, got, ",".join(topics)))

    async def run_while(
        self, action: Callable[[], object], settle: float = 0.5, each_side: int = 60
    ) -> None:
        """Send traffic, run ``action`` (in a thread) in the middle of it, then stop; at least
        ``settle`` seconds and ``each_side`` answers before and after it (bounded at 60 s
        each, so a slow machine still gets a real load on both sides)."""
        stop = asyncio.Event()

        async def settle_down() -> None:
            target = len(self.answers) + each_side
            await asyncio.sleep(settle)
            for _ in range(600):
                if len(self.answers) >= target:
                    break
                await asyncio.sleep(0.1)

        async with httpx.AsyncClient(base_url=self.url, timeout=30) as http:
            tasks = [asyncio.create_task(self.client(http, stop)) for _ in range(self.clients)]
            try:
                await settle_down()
                await asyncio.to_thread(action)
                await settle_down()
            finally:
                stop.set()
                await asyncio.gather(*tasks)


def answered_by(traffic: Traffic, versions: dict[str, str]) -> set[str]:
    """Check every answer against the model named in its header; the versions seen."""
    counts = {v: sum(1 for _, got, *_ in traffic.answers if got == v) for v in versions}
    print(f"{len(traffic.answers)} answers, {len(traffic.errors)} errors, by version {counts}")
    assert traffic.errors == []
    assert {status for status, *_ in traffic.answers} == {200}
    for _, version, got, topics in traffic.answers:
        suffix = versions[version]
        assert got == [f"{topic}{suffix}" for topic in topics.split(",")], (version, got)
    return {version for _, version, *_ in traffic.answers}
