"""Batches past one machine: dossiers partitioned across a Dask cluster, results back in input order.

The checked program is sent once to every worker (`Client.scatter`, broadcast), so that each worker loads the
rules once and compiles them on its first chunk; a chunk of dossiers is one task, handled by the function one
machine runs (`pipeline.render_batch`, `pipeline.diff_one`), so that the records are the same bytes and the
diff the same as on one machine.
A bounded number of chunks is in flight: memory stays flat whatever the input's length. Dask (the optional
extra `immat[dask]`) is imported only here.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
from collections import deque
from collections.abc import Callable, Iterable, Iterator

from .diagnostics import DiagnosticError, error
from .outcome import Outcome
from .pipeline import Rendered, Unreadable, diff_one, render_batch
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
        why = "adresse mal formée" if isinstance(exc, ValueError) else "pas de réponse de l'ordonnanceur en 30 s"
        raise DiagnosticError([error("dask-connexion", f"grappe Dask injoignable à « {address} » : {why} ; "
                                     "écrivez tcp://hôte:8786, ou local:N")]) from None
    with client:
        yield client


def _chunk(function: Callable, shared: tuple, args: tuple, batch: list) -> list:
    return [function(*shared, *args, item) for item in batch]


def _whole(function: Callable, shared: tuple, args: tuple, batch: list) -> list:
    return function(*shared, *args, batch)


def ordered_map(client, function: Callable, shared: tuple, args: tuple, items: Iterable,
                chunk: int = CHUNK, whole: bool = False) -> Iterator:
    """`function(*shared, *args, item)` for every item, on the cluster's workers, results in input order;
    with `whole`, `function(*shared, *args, chunk)` for each chunk of them, which gives one result each.

    `shared` (the checked programs) is sent once to every worker; `args` and `function` travel with each
    chunk, so they must be small and picklable (module-level functions, partials of them)."""
    scattered = tuple(client.scatter(value, broadcast=True) for value in shared)
    workers = max(1, len(client.scheduler_info().get("workers", {})))
    batches = iter(lambda it=iter(items): list(itertools.islice(it, chunk)), [])
    pending: deque = deque()
    for batch in itertools.chain(batches, [None]):
        if batch is not None:
            # Sent as data, not inside the task: the scheduler keeps what a task was submitted with after it is
            # done, which would make the client's memory grow with the input.
            pending.append(client.submit(_whole if whole else _chunk, function, scattered, args,
                                         client.scatter([batch])[0], pure=False))
        while pending and (batch is None or len(pending) >= workers * IN_FLIGHT):
            yield from pending.popleft().result()


def render_on_cluster(client, program: Program, documents: Iterable, render: Callable[[Outcome], str],
                      explain: bool = False, chunk: int = CHUNK) -> Iterator[Rendered | Unreadable]:
    """Validate and render a stream of dossiers on the cluster, in input order, one result each, as
    pipeline.render_many does on one machine: each chunk evaluated together (pipeline.render_batch)."""
    return ordered_map(client, render_batch, (program,), (render, explain), documents, chunk, whole=True)


def diff_on_cluster(client, before: Program, after: Program, documents: Iterable,
                    chunk: int = CHUNK) -> Iterator[tuple[str, list | None, list]]:
    """pipeline.diff_one for every dossier, on the cluster, in input order."""
    return ordered_map(client, diff_one, (before, after), (), documents, chunk)


def validate_files(paths, address: str, rules=None, explain: bool = False) -> Iterator[str]:
    """The JSON Lines records of the dossiers in `paths` (files, folders, .jsonl, .jsonl.gz), checked on the
    Dask cluster at `address` (or « local:N »): the Python API of `immat validate --format jsonl --dask`."""
    from .inputs import read_documents
    from .pipeline import load_rules
    from .report import render_jsonl, render_unreadable_jsonl

    checked = load_rules(rules)
    if not checked.ok:
        raise DiagnosticError(checked.diagnostics)
    render = functools.partial(render_jsonl, explain=explain)
    with connect(address) as client:
        for result in render_on_cluster(client, checked.program, read_documents(tuple(map(str, paths))), render,
                                        explain):
            yield render_unreadable_jsonl(result.name, result.diagnostics) if isinstance(result, Unreadable) \
                else result.text

