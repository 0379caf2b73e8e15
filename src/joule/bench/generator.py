"""The driver's handle on the load-generator processes (multi-process, so it is never the limit)."""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Sequence
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

from joule.bench.loadgen import CloseAll, Command, Exit, Outcome, worker_main


class LoadGenerator:
    """N worker processes, each holding a share of the stations; commands go to all of them."""

    def __init__(self, processes: int) -> None:
        context = multiprocessing.get_context("spawn")
        self._pipes: list[Connection] = []
        self._processes: list[BaseProcess] = []
        for index in range(max(1, processes)):
            parent, child = context.Pipe()
            process = context.Process(
                target=worker_main, args=(child,), name=f"joule-bench-gen-{index}", daemon=True
            )
            process.start()
            child.close()
            self._pipes.append(parent)
            self._processes.append(process)
        # Wait until every worker has imported and answers, so no measurement pays the spawn.
        self.broadcast(CloseAll(), timeout=120)

    @property
    def size(self) -> int:
        """How many worker processes there are."""
        return len(self._pipes)

    def split(self, items: Sequence[str]) -> list[list[str]]:
        """Deal items out to the workers, round-robin."""
        return [list(items[index :: self.size]) for index in range(self.size)]

    def send(self, commands: Sequence[Command]) -> None:
        """Send one command to each worker (in worker order)."""
        if len(commands) != self.size:
            raise ValueError(f"{len(commands)} commands for {self.size} workers")
        for pipe, command in zip(self._pipes, commands, strict=True):
            pipe.send(command)

    def gather(self, timeout: float) -> list[Outcome]:
        """Wait for every worker's outcome of the last command."""
        deadline = time.monotonic() + timeout
        outcomes: list[Outcome] = []
        for pipe in self._pipes:
            if not pipe.poll(max(0.0, deadline - time.monotonic())):
                raise TimeoutError(f"load generator did not answer within {timeout:g} s")
            outcomes.append(pipe.recv())
        return outcomes

    def run(self, commands: Sequence[Command], timeout: float = 600.0) -> Outcome:
        """Send one command per worker and merge their outcomes."""
        self.send(commands)
        return merge(self.gather(timeout))

    def broadcast(self, command: Command, timeout: float = 600.0) -> Outcome:
        """The same command to every worker; merged outcome."""
        return self.run([command] * self.size, timeout)

    def close(self) -> None:
        """Close every station and end the workers."""
        for pipe in self._pipes:
            try:
                pipe.send(Exit())
            except (BrokenPipeError, OSError):
                continue
        for pipe in self._pipes:
            try:
                if pipe.poll(40):
                    pipe.recv()
            except (EOFError, OSError):
                pass
        for process in self._processes:
            process.join(5)
            if process.is_alive():
                process.kill()
                process.join()

    def __enter__(self) -> LoadGenerator:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def merge(outcomes: Sequence[Outcome]) -> Outcome:
    """One outcome from the workers' outcomes."""
    merged = Outcome()
    firsts = [o.first_at for o in outcomes if o.first_at]
    merged.first_at = min(firsts) if firsts else 0.0
    merged.last_at = max((o.last_at for o in outcomes), default=0.0)
    for outcome in outcomes:
        merged.ok += outcome.ok
        merged.failed += outcome.failed
        merged.missed += outcome.missed
        merged.durations.extend(outcome.durations)
        for error, count in outcome.errors.items():
            merged.errors[error] = merged.errors.get(error, 0) + count
    return merged
