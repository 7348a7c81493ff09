"""Headers are written whole or not at all: CModel.save and the command line
share emlearn_gen._files.write_text_atomic."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import joblib
import pytest
from sklearn.ensemble import RandomForestClassifier

import emlearn_gen
from emlearn_gen._files import write_text_atomic


@pytest.fixture(scope="module")
def forest(load_data):
    X, y = load_data("iris")
    return RandomForestClassifier(n_estimators=5, max_depth=4, random_state=0).fit(X, y)


@pytest.fixture(scope="module")
def cm(forest):
    return emlearn_gen.convert(forest, name="iris")


def test_save_under_a_file_size_limit_leaves_the_old_header(forest, cm, tmp_path):
    """RLIMIT_FSIZE stops the write half-way: save raises OSError, the old
    header is intact and no temporary file is left."""
    old = "// the previous header\n"
    (tmp_path / "iris.hpp").write_text(old)
    joblib.dump(forest, tmp_path / "forest.joblib")
    limit = 2048
    assert len(cm.to_source().encode()) > limit
    script = textwrap.dedent(
        f"""
        import errno, resource, joblib, emlearn_gen
        cm = emlearn_gen.convert(joblib.load("forest.joblib"), name="iris")
        resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit}))
        try:
            cm.save("iris.hpp")
        except OSError as exc:
            print("OSError", errno.errorcode[exc.errno])
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["OSError", "EFBIG"]
    assert (tmp_path / "iris.hpp").read_text() == old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["forest.joblib", "iris.hpp"]


def test_save_replaces_the_file_keeping_its_mode_and_links(cm, tmp_path):
    header = tmp_path / "iris.hpp"
    header.write_text("old\n")
    header.chmod(0o604)
    assert cm.save(header) == header
    assert header.read_text() == cm.to_source()
    assert stat.S_IMODE(header.stat().st_mode) == 0o604
    # Through a symbolic link: the file it names is replaced, the link stays.
    link = tmp_path / "link.hpp"
    link.symlink_to(header)
    cm.save(link, standalone=True)
    assert link.is_symlink()
    assert header.read_text() == cm.to_source(standalone=True)
    # A new file gets the permissions the umask gives any new file.
    umask = os.umask(0o022)
    os.umask(umask)
    cm.save(tmp_path / "new.hpp")
    assert stat.S_IMODE((tmp_path / "new.hpp").stat().st_mode) == 0o666 & ~umask
    assert sorted(p.name for p in tmp_path.iterdir()) == ["iris.hpp", "link.hpp", "new.hpp"]


def test_a_write_that_fails_removes_its_temporary_file(tmp_path):
    """Renaming over a directory fails after the bytes were written."""
    (tmp_path / "taken").mkdir()
    with pytest.raises(OSError):
        write_text_atomic(tmp_path / "taken", "text\n")
    assert [p.name for p in tmp_path.iterdir()] == ["taken"]
    with pytest.raises(FileNotFoundError):
        write_text_atomic(tmp_path / "no" / "such.hpp", "text\n")
    assert write_text_atomic(str(tmp_path / "x.hpp"), "a\nb\n") == Path(tmp_path / "x.hpp")
    assert (tmp_path / "x.hpp").read_bytes() == b"a\nb\n"
