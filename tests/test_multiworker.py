"""The local cluster launcher, with real MultiWorkerMirroredStrategy workers on 127.0.0.1."""

import json
import os
import textwrap
import time

import pytest

from recutils.multiworker import WorkerFailed, free_ports, run_local_workers, tf_config

# Each worker joins the cluster, sums its index over all workers, writes its pid (and, with
# "orphan", the pid of a child process it starts) and then does what argv[2] says.
WORKER = textwrap.dedent("""
    import json, os, subprocess, sys, time
    from pathlib import Path
    os.environ["TF_USE_LEGACY_KERAS"] = "1"
    import tensorflow as tf

    out, behaviour = Path(sys.argv[1]), sys.argv[2]
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    index = strategy.cluster_resolver.task_id
    pids = [os.getpid()]
    if behaviour == "hang":
        pids.append(subprocess.Popen(["sleep", "600"]).pid)
    (out / f"pids-{index}.json").write_text(json.dumps(pids))

    @tf.function
    def step():
        value = tf.constant(float(index))
        return strategy.reduce("SUM", strategy.run(lambda: value), axis=None)

    total = float(step())
    if behaviour == "fail" and index == 1:
        raise RuntimeError("a step failed on worker 1")
    if behaviour in ("fail", "hang"):
        time.sleep(600)  # a long step: this worker would not notice the failure for ten minutes
    total = float(step())
    (out / f"total-{index}.json").write_text(json.dumps(total))
""")


@pytest.fixture
def script(tmp_path):
    path = tmp_path / "worker.py"
    path.write_text(WORKER)
    return path


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie has exited: only its exit code is left
        return stat.read().split(") ")[1][0] != "Z"


def _pids(folder):
    return [pid for path in sorted(folder.glob("pids-*.json")) for pid in json.loads(path.read_text())]


def test_two_workers_all_reduce_across_processes(script, tmp_path):
    runs = run_local_workers(script, 2, [tmp_path, "ok"], log_dir=tmp_path / "logs", timeout=120)
    assert [(r.index, r.returncode) for r in runs] == [(0, 0), (1, 0)]
    assert [json.loads((tmp_path / f"total-{i}.json").read_text()) for i in (0, 1)] == [1.0, 1.0]  # 0 + 1
    assert all(r.log.is_file() for r in runs)


def test_a_failed_step_stops_every_worker(script, tmp_path):
    start = time.perf_counter()
    failed = r"(?s)Worker 1 of 2 exited with code 1.*a step failed on worker 1"
    with pytest.raises(WorkerFailed, match=failed):
        run_local_workers(script, 2, [tmp_path, "fail"], log_dir=tmp_path / "logs", timeout=120)
    assert time.perf_counter() - start < 60  # not the time limit: the failure itself stopped the chief
    pids = _pids(tmp_path)
    assert len(pids) == 2 and not any(_alive(pid) for pid in pids)
    assert not (tmp_path / "total-0.json").exists()  # the chief was stopped in its long step


def test_the_time_limit_stops_workers_and_their_children(script, tmp_path):
    with pytest.raises(WorkerFailed, match="did not finish within 20 s"):
        run_local_workers(script, 2, [tmp_path, "hang"], log_dir=tmp_path / "logs", timeout=20)
    pids = _pids(tmp_path)
    assert len(pids) == 4 and not any(_alive(pid) for pid in pids)  # two workers, two `sleep` children


def test_cluster_configuration():
    ports = free_ports(4)
    assert len(set(ports)) == 4
    config = json.loads(tf_config(["127.0.0.1:1", "127.0.0.1:2"], 1))
    assert config == {"cluster": {"worker": ["127.0.0.1:1", "127.0.0.1:2"]},
                      "task": {"type": "worker", "index": 1}}
    with pytest.raises(ValueError, match="outside the cluster"):
        tf_config(["127.0.0.1:1"], 1)
    with pytest.raises(ValueError, match="at least 1"):
        run_local_workers(__file__, 0)
    with pytest.raises(FileNotFoundError, match="No worker script"):
        run_local_workers("no-such-script.py", 2)
