"""autogen-core programs without a team: agents that talk by direct messages (RPC).

A planner hands a job to a worker with ``send_message`` and awaits the answer; the worker asks
the planner a question first. When the planner serialises its handlers (an ``asyncio.Lock``,
as SequentialRoutedAgent's FIFO lock does), the question waits for the job that waits for its
answer: a deadlock nobody logs, stopped by SIGTERM. Without the lock the same exchange
finishes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from autogen_core import (
    AgentId,
    MessageContext,
    RoutedAgent,
    SingleThreadedAgentRuntime,
    message_handler,
)
from opentelemetry import trace


@dataclass
class Job:
    text: str


@dataclass
class Question:
    text: str


@dataclass
class Answer:
    text: str


class Planner(RoutedAgent):
    def __init__(self, serialised: bool) -> None:
        super().__init__("Plans jobs and answers the worker's questions.")
        self._busy = asyncio.Lock() if serialised else None

    async def _one_at_a_time(self, work: Callable[[], Awaitable[Any]]) -> Any:
        if self._busy is None:
            return await work()
        async with self._busy:
            return await work()

    @message_handler
    async def on_job(self, message: Job, ctx: MessageContext) -> Answer:
        worker = AgentId("worker", "default")
        return await self._one_at_a_time(lambda: self.send_message(Job(message.text), worker))

    @message_handler
    async def on_question(self, message: Question, ctx: MessageContext) -> Answer:
        async def answer() -> Answer:
            return Answer("Use the March figures.")

        return await self._one_at_a_time(answer)


class Worker(RoutedAgent):
    def __init__(self) -> None:
        super().__init__("Does the jobs it is given.")

    @message_handler
    async def on_job(self, message: Job, ctx: MessageContext) -> Answer:
        planner = AgentId("planner", "default")
        reply = await self.send_message(Question(f"Which month for '{message.text}'?"), planner)
        assert isinstance(reply, Answer)
        return Answer(f"Done: {message.text} ({reply.text})")


async def _run(serialised: bool) -> None:
    runtime = SingleThreadedAgentRuntime(tracer_provider=trace.get_tracer_provider())
    await Planner.register(runtime, "planner", lambda: Planner(serialised))
    await Worker.register(runtime, "worker", Worker)
    runtime.start()
    for text in ("Summarise Q1 sales", "Summarise Q1 costs"):
        await runtime.send_message(Job(text), AgentId("planner", "default"))
    await runtime.stop_when_idle()


async def reentry_rpc_deadlock() -> None:
    await _run(serialised=True)


async def healthy_rpc_roundtrip() -> None:
    await _run(serialised=False)


CORE_PROGRAMS: dict[str, Callable[[], Awaitable[None]]] = {
    "reentry_rpc_deadlock": reentry_rpc_deadlock,
    "healthy_rpc_roundtrip": healthy_rpc_roundtrip,
}
