"""The two engines of the offers pipeline: ``local`` (this process) and ``ray`` (Ray Data, local or a cluster).

Each engine scores one chunk of the uploads table at a time (``engine.score(frame, base_dir)``) with the same
:class:`~helpers.serving.scoring.Scorer`; :mod:`helpers.serving.batch` writes, resumes and merges the chunks.

With ``ray``, each chunk becomes a Ray dataset (``ray.data.from_pandas``) scored by ``map_batches`` with a stateful
class -- the model, its calibration and its rules are loaded once per worker, and each worker decodes its own
images, so the images must be readable at the same paths on every node (shared storage). Without ``address`` a local
Ray is started with this machine's cores (or the one already running is used); with ``address`` (``"auto"`` or
``"ray://head:10001"``) the run joins that cluster, whose nodes need this project installed
(``pip install -e .`` in their image). Workers claim a fraction of a CPU each (``WORKER_CPUS``): on a 2-core machine,
actors that claim a whole core each starve Ray's own tasks and the run hangs.
"""

from __future__ import annotations

import logging
import os
import warnings

from helpers.core.errors import HelpersError
from helpers.serving.scoring import BATCH_SIZE, Scorer

ENGINES = ("local", "ray")
WORKER_CPUS = 0.5


class LocalEngine:
    """Scores chunks in this process."""

    def __init__(self, model_name=None, threads: int | None = None, task: str | None = None):
        self.scorer = Scorer(model_name, threads=threads or min(8, os.cpu_count() or 1), task=task)
        self.rules = self.scorer.rules
        self.workers = 1

    @property
    def info(self) -> dict:
        return self.scorer.info

    def score(self, frame, base_dir):
        return self.scorer.score(frame, base_dir)


class _RayScorer:
    """The stateful class of ``map_batches``: one :class:`Scorer` per Ray worker."""

    def __init__(self, spec, base_dir, threads):
        import ray

        spec = ray.get(spec) if isinstance(spec, ray.ObjectRef) else spec
        self.scorer, self.base_dir = Scorer.from_spec(spec, threads=threads), base_dir

    def __call__(self, batch):
        return self.scorer.score(batch, self.base_dir)


def _no_restarts() -> dict:
    """A worker that dies is not restarted (its chunk fails and a rerun resumes it): Ray cannot restart an actor
    whose constructor argument (the model) lives in the object store anyway."""
    return {"max_restarts": 0}


class RayEngine(LocalEngine):
    """Scores chunks with Ray Data; the local scorer only reads the rules and the model's identity."""

    def __init__(self, model_name=None, address: str | None = None, workers: int | None = None,
                 task: str | None = None):
        try:
            import ray
            import ray.data
        except ImportError:
            raise HelpersError("the ray engine needs Ray: pip install -r requirements.txt (it pins ray[data]).") from None
        super().__init__(model_name, threads=1, task=task)
        if not ray.is_initialized():
            if address:
                try:
                    ray.init(address=address, log_to_driver=False, logging_level=logging.ERROR)
                except (ConnectionError, RuntimeError) as e:
                    raise HelpersError(f"could not join the Ray cluster at {address!r} ({e}); check the address "
                                       "(ray status on the head node) or leave --address out for a local Ray.") from None
            else:
                ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False,
                         logging_level=logging.ERROR)
        self.spec = ray.put(self.scorer.spec())  # the model and rules, shipped once to every worker
        cpus = ray.cluster_resources().get("CPU", 1)
        self.workers = int(workers or max(1, int(cpus)))  # one per CPU; each claims WORKER_CPUS of one
        logging.getLogger("ray.data").setLevel(logging.ERROR)  # per-dataset INFO lines, one per chunk
        ctx = ray.data.DataContext.get_current()
        ctx.execution_options.preserve_order = True
        ctx.enable_progress_bars = False

    def score(self, frame, base_dir):
        import ray.data

        blocks = [frame.iloc[i:i + BATCH_SIZE] for i in range(0, len(frame), BATCH_SIZE)]  # one per batch: all workers busy
        with warnings.catch_warnings():  # Ray 2.60 has no named parameter for max_restarts yet (pinned)
            warnings.simplefilter("ignore", DeprecationWarning)
            ds = ray.data.from_pandas(blocks).map_batches(
                _RayScorer, fn_constructor_kwargs={"spec": self.spec, "base_dir": str(base_dir), "threads": 2},
                batch_size=BATCH_SIZE, batch_format="pandas", num_cpus=WORKER_CPUS,
                compute=ray.data.ActorPoolStrategy(min_size=1, max_size=self.workers), **_no_restarts())
        out = ds.to_pandas()
        return out[list(frame.columns) + [c for c in out.columns if c not in frame.columns]]


def make(engine: str, model_name=None, address=None, workers=None, task: str | None = None):
    if engine == "local":
        if address:
            raise HelpersError("--address joins a Ray cluster: use it with --engine ray.")
        return LocalEngine(model_name, task=task)
    if engine == "ray":
        return RayEngine(model_name, address=address, workers=workers, task=task)
    raise HelpersError(f"unknown engine {engine!r}; known: {', '.join(ENGINES)}")
