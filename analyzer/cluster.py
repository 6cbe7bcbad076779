"""Fan batch work out on a Dask distributed cluster (the optional [cluster] extra).

Dask over Ray: the unit of work is a plain function over a few file paths returning small records,
which ``Client.map`` serves directly; Dask installs from PyPI as pure Python, starts a local
cluster in a second, and a scheduler address (tcp://host:8786) is all a user needs. Ray's actor
model and object store buy nothing for independent files, and its wheels are far heavier.
Workers must see the same paths (shared filesystem or synced bucket) and the same package.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from distributed import Client, as_completed

from .batch import BatchOptions, analyze_chunk, chunks
from .outcome import Outcome


def dask_mapper(address: str, opts: BatchOptions) -> Callable[[list[str]], Iterator[Outcome]]:
    def mapper(paths: list[str]) -> Iterator[Outcome]:
        with Client(address) as client:
            workers = max(1, sum(client.nthreads().values()))
            tasks = chunks(paths, workers)
            futures = client.map(analyze_chunk, tasks, opts=opts, pure=False)
            order = {f.key: i for i, f in enumerate(futures)}
            done: dict[int, list[Outcome]] = {}
            for future in as_completed(futures):
                done[order[future.key]] = future.result()
            for i in range(len(tasks)):
                yield from done[i]

    return mapper
