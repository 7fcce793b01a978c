"""Batches past one machine: dossiers partitioned across a Dask cluster, results back in input order.

The checked program is sent once to every worker (`Client.scatter`, broadcast), so that each worker loads the
rules once and compiles them on its first chunk; a chunk of dossiers is one task, rendered by the function a
local worker process runs (`pipeline.render_one`), so that the records are the same bytes as on one machine.
A bounded number of chunks is in flight: memory stays flat whatever the input's length. Dask (the optional
extra `immat[dask]`) is imported only here.
"""

from __future__ import annotations

import contextlib
import itertools
from collections import deque
from collections.abc import Callable, Iterable, Iterator

from .diagnostics import DiagnosticError, error
from .outcome import Outcome
from .pipeline import Rendered, Unreadable, render_one
from .program import Program

CHUNK = 500  # dossiers a task: a task costs the scheduler about a millisecond, a dossier about half of one
IN_FLIGHT = 4  # chunks queued per worker, so that none waits for the next while the client reads results
LOCAL = "local:"


def _dask():
    try:
        import distributed
    except ImportError:
        raise DiagnosticError([error("dask-absent", "le calcul sur une grappe Dask demande l'extra « dask » : "
                                     "pip install 'immat[dask]'")]) from None
    return distributed


@contextlib.contextmanager
def connect(address: str):
    """A client of the cluster at `address` (a scheduler, « tcp://hôte:8786 »), or of a cluster started here
    with N worker processes (« local:N »), closed at the end."""
    distributed = _dask()
    if address.startswith(LOCAL):
        workers = address.removeprefix(LOCAL)
        if not workers.isdigit() or int(workers) < 1:
            raise DiagnosticError([error("dask-adresse", f"« {address} » : écrivez local:N, N le nombre de "
                                         "processus (par exemple local:2), ou l'adresse d'un ordonnanceur Dask")])
        cluster = distributed.LocalCluster(n_workers=int(workers), threads_per_worker=1, processes=True,
                                           dashboard_address=None)
        with cluster, distributed.Client(cluster) as client:
            yield client
        return
    try:
        client = distributed.Client(address, timeout=30)
    except (OSError, TimeoutError, ValueError) as exc:
        raise DiagnosticError([error("dask-connexion", f"grappe Dask injoignable à « {address} » : {exc}")]) from None
    with client:
        yield client


def _render_chunk(program: Program, render: Callable[[Outcome], str], explain: bool,
                  documents: list) -> list[Rendered | Unreadable]:
    return [render_one(program, render, explain, d) for d in documents]


def render_on_cluster(client, program: Program, documents: Iterable, render: Callable[[Outcome], str],
                      explain: bool = False, chunk: int = CHUNK) -> Iterator[Rendered | Unreadable]:
    """Validate and render a stream of dossiers on the cluster's workers, in input order, one result each.

    `render` must be picklable (a module-level function or a functools.partial of one), as for local workers.
    """
    shared = client.scatter(program, broadcast=True)
    workers = max(1, len(client.scheduler_info().get("workers", {})))
    batches = iter(lambda it=iter(documents): list(itertools.islice(it, chunk)), [])
    pending: deque = deque()
    for batch in itertools.chain(batches, [None]):
        if batch is not None:
            pending.append(client.submit(_render_chunk, shared, render, explain, batch, pure=False))
        while pending and (batch is None or len(pending) >= workers * IN_FLIGHT):
            yield from pending.popleft().result()
