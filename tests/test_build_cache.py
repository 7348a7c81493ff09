"""BuildCache: one build per key, shared by threads and by processes (the
workers of a pytest-xdist session)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from emlearn_gen.testing import BuildCache, BuildFailed

_WORKER = """
import sys, time
from pathlib import Path
from emlearn_gen.testing import BuildCache

def build(folder):
    with open(sys.argv[2], "a") as log:
        log.write("built\\n")
    time.sleep(0.3)  # long enough for the other process to wait on the lock
    (folder / "image").write_text("x")
    return folder / "image"

print(BuildCache(sys.argv[1]).get(["same", "key"], build))
"""


def test_processes_sharing_a_folder_build_once(tmp_path):
    root, log = tmp_path / "cache", tmp_path / "log"
    script = tmp_path / "worker.py"
    script.write_text(_WORKER)
    procs = [
        subprocess.Popen([sys.executable, str(script), str(root), str(log)], stdout=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    outputs = [p.communicate(timeout=60)[0].strip() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert log.read_text().count("built") == 1
    assert len(set(outputs)) == 1 and Path(outputs[0]).read_text() == "x"


def test_a_build_failure_is_remembered_across_instances(tmp_path):
    calls = []

    def failing(folder):
        calls.append(folder)
        raise BuildFailed("does not compile")

    for _ in range(2):
        try:
            BuildCache(tmp_path).get(["k"], failing)
        except BuildFailed as exc:
            assert "does not compile" in str(exc)
        else:
            raise AssertionError("the failure was not raised")
    assert len(calls) == 1
