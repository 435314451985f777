"""One generation at a time, from a bounded queue: the model is used by a single thread, so concurrent requests are
safe, and a full queue is answered at once (429) instead of piling up until clients time out."""

from __future__ import annotations

import asyncio
import queue
import threading
from dataclasses import dataclass, field

from clintune.models.load import Trained
from clintune.serve.engine import Generated, Sampling, generate

_STOP = object()


@dataclass
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


class GenerationWorker:
    def __init__(self, served: Trained, max_queue: int):
        self.served = served
        self.jobs: queue.Queue = queue.Queue(maxsize=max_queue)
        self.thread = threading.Thread(target=self._run, name="clintune-generation", daemon=True)
        self.stopping = False

    def start(self) -> None:
        self.thread.start()

    def submit(self, job: Job) -> None:
        if self.stopping:
            raise QueueFull("the server is shutting down")
        try:
            self.jobs.put_nowait(job)
        except queue.Full:
            raise QueueFull(f"{self.jobs.maxsize} requests are already waiting") from None

    def stop(self) -> None:
        """Cancel what waits; the running generation ends at its next token."""
        self.stopping = True
        while True:
            try:
                job = self.jobs.get_nowait()
            except queue.Empty:
                break
            job.cancelled = True
            job.send(RuntimeError("the server is shutting down"))
        self.jobs.put(_STOP)
        self.thread.join(timeout=10)

    def _run(self) -> None:
        while True:
            job = self.jobs.get()
            if job is _STOP:
                return
            if job.cancelled:
                continue
            try:
                result: Generated | Exception = generate(self.served, job.prompt_ids, job.sampling, job.send,
                                                         lambda job=job: job.cancelled or self.stopping)
            except Exception as exc:  # one request's failure must not stop the worker serving the others
                result = exc
            job.send(result)
