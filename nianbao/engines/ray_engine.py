"""``--engine ray``: the per-document function of a local run, in Ray actors on a Ray cluster.

Each actor holds one ``IsolatedReader``, so a file is read exactly as in a local run:
in a child process of the actor, under the same per-file time and memory limits, with
the child restarted after a kill.  Records come back to the driver in completion order
and go through the run's one ``Writer`` there; nothing is written on the cluster.

The files are opened by path on the node the actor runs on: on a cluster of several
machines every node needs the inputs at the same paths (a shared filesystem) and
nianbao installed.  ``address`` is ``ray.init``'s: None starts a local instance with
``workers`` CPUs (stopped when the run ends), ``auto`` joins a running cluster.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import Any

from ..extract.limits import Limits
from ..pipeline import Record
from .items import Item

# Two files queued per actor: the next one is there when the current one finishes.
_IN_FLIGHT_PER_ACTOR = 2


class _Reader:
    """The actor: one isolated reader, kept between files."""

    def __init__(self, limits: Limits) -> None:
        from ..worker import IsolatedReader

        self.reader = IsolatedReader(limits)

    def read(self, item: Item, fingerprint: str | None) -> Record:
        from ..batch import read_item

        return read_item(self.reader, item, fingerprint)

    def close(self) -> None:
        self.reader.close()


def _lost(item: Item, fingerprint: str | None, exc: BaseException) -> Record:
    from ..engines import fingerprint as fp

    return Record(
        source=item.source,
        status="error",
        error=f"load: the Ray worker reading this file was lost ({type(exc).__name__})",
        error_stage="load",
        also_at=list(item.also_at),
        fingerprint=fp.for_item(fingerprint, item.hints) if fingerprint is not None else None,
    )


def run_ray(todo: list[Item], *, limits: Limits, workers: int, fingerprint: str | None, address: str | None, stop: threading.Event) -> Iterator[tuple[int, Record]]:
    """(index in ``todo``, record) in completion order, read by ``workers`` Ray actors (default: the cluster's CPUs)."""
    try:
        import ray
    except ImportError:
        raise SystemExit("--engine ray needs Ray: pip install 'nianbao[ray]'") from None
    if not todo:
        return
    started_here = not ray.is_initialized()
    if started_here:
        kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "logging_level": logging.WARNING}
        if address:
            kwargs["address"] = address
        else:
            kwargs["num_cpus"] = workers
        ray.init(**kwargs)
    try:
        n = workers if workers > 0 else int(ray.cluster_resources().get("CPU", 1))
        n = max(1, min(n, len(todo)))
        actor_class: Any = ray.remote(num_cpus=1, max_restarts=-1)(_Reader)
        actors = [actor_class.remote(limits) for _ in range(n)]
        pending: dict[Any, tuple[Any, int, Item]] = {}
        items = iter(enumerate(todo))

        def submit(actor: Any) -> None:
            job = next(items, None)
            if job is not None:
                pending[actor.read.remote(job[1], fingerprint)] = (actor, *job)

        for actor in actors:
            for _ in range(_IN_FLIGHT_PER_ACTOR):
                submit(actor)
        try:
            while pending and not stop.is_set():
                ready, _ = ray.wait(list(pending), num_returns=1, timeout=0.1)
                for ref in ready:
                    actor, index, item = pending.pop(ref)
                    try:
                        record: Record = ray.get(ref)
                    except (ray.exceptions.RayActorError, ray.exceptions.WorkerCrashedError, ray.exceptions.RayTaskError) as exc:
                        record = _lost(item, fingerprint, exc)
                    submit(actor)
                    yield index, record
                    if stop.is_set():
                        return
        finally:
            for actor in actors:
                ray.kill(actor)  # its reader's child sees the pipe close and exits
    finally:
        if started_here:
            ray.shutdown()
