"""The record parser's speed caches, apart from the code that gives records their meaning.

Most lines of a long AutoGen log are Message hops: one chat message logged once per hop it
takes through the runtime. A hop is read here as raw text (its payload and its route), and
``KnownHops`` remembers which payloads add nothing new and which team each route belongs to,
so the parser decodes a message once, not once per hop. Only speed: with the ``known-hops``
and ``hop-in-place`` fast paths off every hop is decoded, and the events are the same (tested
on every sample).
"""

from __future__ import annotations

import re
from functools import lru_cache

from .messages import TEAM_ID

# Raw-text view of a Message event: its payload (a JSON string, so its quotes are escaped: the
# first unescaped quote ends it), the ids inside it and the receiver/sender after it.
PAYLOAD_START, _PAYLOAD_END, _MESSAGE_END = '{"payload": "', '", "sender": ', '"type": "Message"}'
_ERROR_KEY, SOURCE_KEY = '\\"error\\"', '\\"source\\":'
HOP_ID = re.compile(r'\\"id\\":\\"([^"\\]+)\\"')
ROUTE_KEYS = ('"receiver": "', '"sender": "')  # top-level keys, after the payload
RECENT_PAYLOADS = 256  # hops of one message follow each other closely
KNOWN_ROUTES = 4096  # distinct routes: a few per agent of each team
Hop = tuple[str, str]  # a Message event's payload and the rest after it (the route), as raw text


def hop_of(message: str, at: int = 0) -> Hop | None:
    """The raw view of the Message event at ``message[at:]`` (None if not of the usual
    shape)."""
    if not (message.startswith(PAYLOAD_START, at) and message.endswith(_MESSAGE_END)):
        return None
    start = at + len(PAYLOAD_START)
    end = message.find(_PAYLOAD_END, start)
    return (message[start:end], message[end:]) if end > 0 else None


def route_of(route: str) -> list[str | None]:
    """(receiver, sender) of the raw text after a Message event's payload."""
    found: list[str | None] = []
    for key in ROUTE_KEYS:
        at = route.find(key)
        start = at + len(key)
        found.append(route[start : route.find('"', start)] if at >= 0 else None)
    return found


def team_of(*ids: str | None) -> str | None:
    """The team uuid inside the first of ``ids`` that has one; else, for agents registered
    outside any team (``planner/default``: autogen-core agents talking by direct messages),
    a run of their own per runtime key, so their traffic never joins a team's run."""
    for value in ids:
        if value and (team := _team_in(value)):
            return team
    for value in ids:
        if value and "/" in value and not value.startswith(("output_topic", "group_topic")):
            return f"agents/{value.rsplit('/', 1)[1]}"
    return None


@lru_cache(maxsize=4096)  # agent and topic ids repeat on every event of a team
def _team_in(value: str) -> str | None:
    found = TEAM_ID.search(value)
    return found[0] if found else None


class KnownHops:
    """Which hops add nothing, and each route's team; bounded, whatever the log's length."""

    def __init__(self) -> None:
        # Payloads (raw text) whose every hop is known to add nothing: their repeats are
        # skipped without the id count, which doubts some payloads whatever was seen.
        self.recent: dict[str, None] = {}
        self.teams: dict[str, str | None] = {}  # route -> the team ``team_of`` finds in it

    def adds_nothing(self, payload: str, seen: set[str]) -> bool:
        """A payload carrying no chat message not yet emitted (``seen``: their ids). Either it
        was read moments ago (same text, same messages: all keyed then), or every id in it is
        known. The latter is conservative: every chat message has a ``source``, so there must
        be at least as many distinct known ids as ``source`` keys. An error payload is always
        decoded."""
        if payload not in self.recent:
            if _ERROR_KEY in payload:
                return False
            sources = payload.count(SOURCE_KEY)
            if sources and len(seen.intersection(HOP_ID.findall(payload))) < sources:
                return False
            self.remember(payload)
        return True

    def remember(self, payload: str) -> None:
        self.recent[payload] = None
        if len(self.recent) > RECENT_PAYLOADS:
            del self.recent[next(iter(self.recent))]

    def team_of_route(self, route: str) -> str | None:
        """``team_of`` the route's receiver and sender, memoised: the routes repeat."""
        team = self.teams.get(route, "")  # "" (no uuid is empty): not looked at yet
        if team == "":
            if len(self.teams) >= KNOWN_ROUTES:
                self.teams.clear()
            team = self.teams[route] = team_of(*route_of(route))
        return team
