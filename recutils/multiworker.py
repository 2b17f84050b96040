"""Start a local cluster of TensorFlow workers, wait for them, and always shut them down.

``tf.distribute.MultiWorkerMirroredStrategy`` learns the cluster from the ``TF_CONFIG``
environment variable: the addresses of every worker and the index of this one.  Across machines
each host sets its own ``TF_CONFIG`` and runs the same script; here :func:`run_local_workers`
starts ``n`` copies of a script on 127.0.0.1 ports, each with its own ``TF_CONFIG``, in a process
group of its own.  When a worker fails, the others would wait for it in their next collective
step for ever; so the first failure (or the time limit, or an interrupt) stops every worker, and
the error shows the end of the failed worker's log.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


class WorkerFailed(RuntimeError):
    """A worker exited with an error or the cluster ran out of time; every worker was stopped."""


@dataclass
class WorkerRun:
    """A worker that finished: its index (0 is the chief), exit code, log file and wall time."""

    index: int
    returncode: int
    log: Path
    seconds: float


def free_ports(n: int, host: str = "127.0.0.1") -> list[int]:
    """``n`` distinct TCP ports that are free on ``host`` now (the system picks them)."""
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(n)]
    try:
        for s in sockets:
            s.bind((host, 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def tf_config(workers: Sequence[str], index: int) -> str:
    """The ``TF_CONFIG`` of worker ``index`` in a cluster of ``workers`` ("host:port" each)."""
    if not 0 <= index < len(workers):
        raise ValueError(f"Worker index {index} is outside the cluster of {len(workers)} workers.")
    return json.dumps({"cluster": {"worker": list(workers)}, "task": {"type": "worker", "index": index}})


def run_local_workers(script: str | os.PathLike, n_workers: int, args: Sequence[str] = (),
                      log_dir: str | os.PathLike = ".", timeout: float = 600.0,
                      threads: int | None = None) -> list[WorkerRun]:
    """Run ``python script *args`` as ``n_workers`` workers of one cluster on 127.0.0.1.

    Args:
        script: the training script; every worker runs the same one.
        n_workers: how many workers (each is one process).
        args: command-line arguments for the script.
        log_dir: where ``worker-<i>.log`` (the worker's stdout and stderr) is written.
        timeout: seconds the whole cluster may take before every worker is stopped.
        threads: TensorFlow threads per worker (``TF_NUM_INTRAOP_THREADS``); by default the
            machine's cores shared out among the workers, so that they do not fight for them.

    Returns:
        One :class:`WorkerRun` per worker, the chief (index 0) first.

    Raises:
        WorkerFailed: a worker exited with an error, or ``timeout`` passed; all workers are stopped
            first, whatever happens (an exception or interrupt in this process included).
    """
    if n_workers < 1:
        raise ValueError(f"n_workers must be at least 1, not {n_workers}.")
    script = Path(script)
    if not script.is_file():
        raise FileNotFoundError(f"No worker script at {script}.")
    log_dir = Path(log_dir)
    log_dir.mkdir(parents=True, exist_ok=True)
    threads = threads or max(1, (os.cpu_count() or 1) // n_workers)
    workers = [f"127.0.0.1:{port}" for port in free_ports(n_workers)]
    start = time.perf_counter()
    processes: list[subprocess.Popen] = []
    logs = [log_dir / f"worker-{i}.log" for i in range(n_workers)]
    finished: dict[int, WorkerRun] = {}
    try:
        for i in range(n_workers):
            env = {**os.environ, "TF_CONFIG": tf_config(workers, i), "TF_USE_LEGACY_KERAS": "1",
                   "CUDA_VISIBLE_DEVICES": "-1", "TF_NUM_INTRAOP_THREADS": str(threads),
                   "TF_NUM_INTEROP_THREADS": str(threads)}
            with open(logs[i], "wb") as log:
                command = [sys.executable, str(script), *map(str, args)]
                processes.append(subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT,
                                                  start_new_session=True))
        while len(finished) < n_workers:
            for i, process in enumerate(processes):
                if i in finished or process.poll() is None:
                    continue
                finished[i] = WorkerRun(i, process.returncode, logs[i], time.perf_counter() - start)
                if process.returncode != 0:
                    raise WorkerFailed(f"Worker {i} of {n_workers} exited with code {process.returncode}; "
                                       f"all workers were stopped. The end of its log ({logs[i]}):\n"
                                       + _tail(logs[i]))
            if time.perf_counter() - start > timeout:
                raise WorkerFailed(f"The {n_workers} workers did not finish within {timeout:.0f} s; all were "
                                   f"stopped. The end of the chief's log ({logs[0]}):\n" + _tail(logs[0]))
            time.sleep(0.1)
    finally:
        _stop(processes)
    return [finished[i] for i in range(n_workers)]


def _stop(processes: Sequence[subprocess.Popen], grace: float = 5.0) -> None:
    """SIGTERM every process group still running, then SIGKILL what is left after ``grace`` s."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        alive = [p for p in processes if p.poll() is None]
        for process in alive:
            try:
                os.killpg(process.pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + grace
        for process in alive:
            try:
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
    for process in processes:  # reap the killed ones, so no zombie is left behind
        if process.poll() is None:
            process.wait()


def _tail(path: Path, lines: int = 25) -> str:
    """The last ``lines`` lines of a log file."""
    text = path.read_text(errors="replace").splitlines() if path.exists() else ["(no log)"]
    return "\n".join(text[-lines:])
