"""One generation at a time, from a bounded queue: the model is used by a single thread, so concurrent requests are
safe, and a full queue is answered at once (429) instead of piling up until clients time out.

A request whose client went away is cancelled: taken out of the queue at once (its slot is free for the next
client), or, when it is the one generating, stopped at its next token. On shutdown the server drains: nothing new is
taken, what waits is told at once, and the running generation may finish within a grace period."""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from dataclasses import dataclass, field

from clintune.models.load import Trained
from clintune.serve.engine import Generated, Sampling, generate


@dataclass(eq=False)
class Job:
    prompt_ids: list[int]
    sampling: Sampling
    loop: asyncio.AbstractEventLoop
    pieces: asyncio.Queue = field(default_factory=asyncio.Queue)  # text pieces, then a Generated or an exception
    cancelled: bool = False

    def send(self, item) -> None:
        self.loop.call_soon_threadsafe(self.pieces.put_nowait, item)


class QueueFull(Exception):
    pass


class ShuttingDown(Exception):
    def __init__(self):
        super().__init__("the server is shutting down")


class GenerationWorker:
    def __init__(self, served: Trained, max_queue: int):
        self.served, self.max_queue = served, max_queue
        self.waiting: deque[Job] = deque()
        self.changed = threading.Condition()
        self.thread = threading.Thread(target=self._run, name="clintune-generation", daemon=True)
        self.draining = self.finished = self.abort_running = False
        self.running: Job | None = None
        self.cancelled = 0  # requests whose clients went away: for /health, and to see the slots were freed
        self.accepted = 0  # requests taken into the queue since start: for /health

    def start(self) -> None:
        self.thread.start()

    def queued(self) -> int:
        return len(self.waiting)

    def submit(self, job: Job) -> None:
        with self.changed:
            if self.draining:
                raise ShuttingDown()
            if len(self.waiting) >= self.max_queue:
                raise QueueFull(f"{self.max_queue} requests are already waiting")
            self.waiting.append(job)
            self.accepted += 1
            self.changed.notify()

    def cancel(self, job: Job) -> None:
        """The client went away: free its slot now, or stop its generation at the next token."""
        with self.changed:
            if job.cancelled:
                return
            job.cancelled = True
            if job in self.waiting:
                self.waiting.remove(job)
                self.cancelled += 1
            elif job is self.running:
                self.cancelled += 1

    def drain(self) -> None:
        """Take nothing new and tell whoever waits that the server is going; the running generation goes on."""
        with self.changed:
            self.draining = True
            while self.waiting:
                self.waiting.popleft().send(ShuttingDown())

    def stop(self) -> None:
        """Drain, end the running generation at its next token, and let the thread finish."""
        self.drain()
        with self.changed:
            self.abort_running = self.finished = True
            self.changed.notify()
        if self.thread.is_alive():
            self.thread.join(timeout=10)

    def _run(self) -> None:
        while True:
            with self.changed:
                while not self.waiting and not self.finished:
                    self.changed.wait()
                if not self.waiting:
                    return
                job = self.running = self.waiting.popleft()
            try:
                result: Generated | Exception = generate(self.served, job.prompt_ids, job.sampling, job.send,
                                                         lambda job=job: job.cancelled or self.abort_running)
                if self.abort_running and not job.cancelled:
                    result = ShuttingDown()  # cut off by the end of the grace period: the client may retry
            except Exception as exc:  # one request's failure must not stop the worker serving the others
                result = exc
            with self.changed:
                self.running = None
            job.send(result)
