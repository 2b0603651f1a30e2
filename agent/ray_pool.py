"""Fan episodes out over a Ray cluster (``--ray [ADDRESS]`` on ``episodes``, ``eval``, ``collect``).

Ray is an optional extra (``pip install -r requirements-ray.txt``). :func:`run_on_ray` has the
contract of ``agent.worker_pool.run_in_workers``: ``job(items[i], *args, i)`` for every i, each
result to ``on_done(i, result)``, an item whose task or node died to ``on_lost(i, why)``; each
item is one Ray task (one CPU), so a cluster runs as many episodes at once as it has cores.

``ADDRESS`` is what ``ray.init(address=...)`` takes: ``local`` (the flag alone) starts a Ray
instance on this machine for the run; ``auto`` joins the one ``ray start --head`` started here;
``ray://HOST:10001`` or ``HOST:6379`` joins a cluster. Every node must have this project at the
same path with its requirements installed (tasks import it from there: the project root is put on
their ``PYTHONPATH``), and files an episode writes (transcripts, demos, reports) land on the node
that ran it, so a run folder or ``--out`` should be on a filesystem the nodes share.

``eval`` and ``collect`` keep their one-process loop: each Ray task runs that same command for
ONE episode index (:func:`command_per_episode`), so an episode is the same seed, scene and code
path wherever it runs.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any, Callable, Optional

ROOT = Path(__file__).resolve().parents[1]
RAY_HELP = ("run the episodes as tasks on a Ray cluster: the flag alone starts one on this machine; "
            "ADDRESS (auto, HOST:6379, ray://HOST:10001) joins one (pip install -r requirements-ray.txt)")


def add_ray_argument(parser: argparse.ArgumentParser) -> None:
    """``--ray [ADDRESS]`` (None when absent, ``local`` when given without an address)."""
    parser.add_argument("--ray", nargs="?", const="local", default=None, metavar="ADDRESS", help=RAY_HELP)


def require_ray() -> Any:
    """The ``ray`` module, or ImportError saying how to install it."""
    try:
        import ray
    except ImportError as exc:
        raise ImportError("--ray needs Ray: pip install -r requirements-ray.txt") from exc
    return ray


def _call(job: Callable[..., Any], item: Any, args: tuple[Any, ...], index: int) -> Any:
    return job(item, *args, index)


def run_on_ray(job: Callable[..., Any], items: list[Any], args: tuple[Any, ...], address: str,
               on_done: Callable[[int, Any], None], on_lost: Callable[[int, str], None]) -> None:
    """Run ``job(items[i], *args, i)`` for every i as Ray tasks (module docstring). ``job`` must be
    importable (module level); the results arrive in completion order."""
    ray = require_ray()
    started_here = not ray.is_initialized()
    if started_here:
        ray.init(address=None if address == "local" else address, include_dashboard=False, log_to_driver=False,
                 runtime_env={"env_vars": {"PYTHONPATH": str(ROOT)}})
    try:
        task = ray.remote(num_cpus=1, max_retries=0)(_call)
        shared = ray.put(args)
        refs = {task.remote(job, items[i], shared, i): i for i in range(len(items))}
        pending = list(refs)
        while pending:
            ready, pending = ray.wait(pending, num_returns=1)
            index = refs[ready[0]]
            try:
                result = ray.get(ready[0])
            except ray.exceptions.RayError as exc:  # the task raised, or its worker / node died
                on_lost(index, f"the Ray task running this episode failed ({type(exc).__name__}: "
                               f"{' '.join(str(exc).split())[:300]})")
                continue
            on_done(index, result)
    finally:
        if started_here:
            ray.shutdown()


def command_per_episode(index: int, module: str, args: argparse.Namespace, position: int) -> Optional[dict[str, Any]]:
    """Run ``main.py``'s command ``module`` (``agent.commands.evaluate`` / ``collect``) with ``args``
    for the ONE episode ``index``, in this process; eval's record of that episode, else None."""
    import importlib

    command = importlib.import_module(module)
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        one = argparse.Namespace(**{**vars(args), "ray": None, "start": index, "episodes": 1})
        if hasattr(one, "report"):
            one.report = str(report)
        command.run(one)
        return json.loads(report.read_text())["per_episode"][0] if report.exists() else None


def fan_out(module: str, args: argparse.Namespace) -> list[Optional[dict[str, Any]]]:
    """Episodes ``args.start`` .. ``args.start + args.episodes - 1`` of ``module`` as Ray tasks
    (:func:`command_per_episode`); their records in index order. RuntimeError if any failed."""
    indices = list(range(args.start, args.start + args.episodes))
    results: list[Optional[dict[str, Any]]] = [None] * len(indices)
    errors: list[str] = []

    def done(i: int, record: Optional[dict[str, Any]]) -> None:
        results[i] = record

    def lost(i: int, why: str) -> None:
        errors.append(f"episode {indices[i]}: {why}")

    run_on_ray(command_per_episode, indices, (module, args), args.ray, done, lost)
    if errors:
        raise RuntimeError(f"{len(errors)} of {len(indices)} episodes failed on Ray; first: {errors[0]}")
    return results
