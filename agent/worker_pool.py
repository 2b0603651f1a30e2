"""Run episodes in worker processes that may die, and still account for every episode.

``concurrent.futures.ProcessPoolExecutor`` turns one dead worker (OOM killer, ``kill -9``, a
segfault in a C extension) into ``BrokenProcessPool`` for EVERY pending episode, and the run's
report is lost. :func:`run_in_workers` keeps its own ``workers`` spawned processes that pull
episode indices one at a time over their own pipe (no lock shared between workers, so a worker
killed at any instant cannot block the others): when a worker dies, the episode it was given is
reported through ``on_lost(i, reason)`` (the runner records it as an error row), a replacement
worker is spawned and the remaining episodes go on.
"""

from __future__ import annotations

import multiprocessing
import signal
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any, Callable, Optional


def _serve(job: Callable[..., Any], args: tuple[Any, ...], items: list[Any], conn: Connection) -> None:
    """Worker loop: receive an index, run ``job(items[i], *args, i)``, send the result back."""
    while True:
        i = conn.recv()
        if i is None:
            return
        conn.send(job(items[i], *args, i))


@dataclass
class _Worker:
    process: Any
    conn: Connection
    current: Optional[int] = None  # the item it is running


def run_in_workers(job: Callable[..., Any], items: list[Any], args: tuple[Any, ...], workers: int,
                   on_done: Callable[[int, Any], None], on_lost: Callable[[int, str], None]) -> None:
    """Run ``job(items[i], *args, i)`` for every i on ``workers`` processes (spawned: clean
    children). ``job`` must be importable (module level) and should not raise; each result goes
    to ``on_done(i, result)``; an item whose worker died goes to ``on_lost(i, why)``."""
    ctx = multiprocessing.get_context("spawn")
    todo = list(range(len(items)))[::-1]  # popped from the end: item 0 first
    pool: list[_Worker] = []

    def spawn() -> None:
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=_serve, args=(job, args, items, child), daemon=True)
        proc.start()
        child.close()
        pool.append(_Worker(proc, parent))

    def feed(worker: _Worker) -> None:
        worker.current = todo.pop() if todo else None
        if worker.current is not None:
            worker.conn.send(worker.current)

    for _ in range(min(workers, len(items))):
        spawn()
    for worker in pool:
        feed(worker)
    try:
        while any(w.current is not None for w in pool):
            for conn in wait([w.conn for w in pool if w.current is not None]):
                worker = next(w for w in pool if w.conn is conn)
                index = worker.current
                assert index is not None
                try:
                    result = conn.recv()
                except (EOFError, OSError):  # the worker died mid-item
                    worker.process.join(timeout=5)
                    pool.remove(worker)
                    on_lost(index, f"the worker process running this episode died ({_why(worker.process.exitcode)}); "
                                   "the other episodes went on")
                    if todo:
                        spawn()
                        feed(pool[-1])
                    continue
                on_done(index, result)
                feed(worker)
    finally:
        for worker in pool:
            try:
                worker.conn.send(None)
            except OSError:
                pass
        for worker in pool:
            worker.process.join(timeout=5)
            if worker.process.is_alive():
                worker.process.terminate()


def _why(code: Optional[int]) -> str:
    if code is not None and code < 0:
        return f"killed by signal {signal.Signals(-code).name}"
    return f"exit code {code}"
