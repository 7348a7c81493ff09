"""Finding and unpacking MicroPython's sources (emlearn_gen.micropython.sdk),
without the network: archives are built in the test."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path
from typing import Dict, Optional

import pytest

from emlearn_gen import cli
from emlearn_gen.micropython import sdk

TOP = "mpy_cross_v6_3-1.1.1"


def _sdist(path: Path, extra: Optional[Dict[str, bytes]] = None) -> Path:
    """A source distribution shaped like mpy-cross-v6-3's: MicroPython under <top>/micropython/."""
    files = {f"{TOP}/micropython/{name}": f"/* {name} */\n".encode() for name in sdk._REQUIRED}
    files[f"{TOP}/setup.py"] = b"# not MicroPython\n"
    files.update(extra or {})
    with tarfile.open(path, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def _fill(folder: Path) -> Path:
    for name in sdk._REQUIRED:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text("x")
    return folder


def test_the_environment_variable_names_a_source_tree(tmp_path, monkeypatch):
    monkeypatch.setenv(sdk.ENV_VARIABLE, str(_fill(tmp_path)))
    assert sdk.find_sdk() == tmp_path


def test_a_folder_that_is_no_source_tree_is_refused_with_what_to_do(tmp_path, monkeypatch):
    (tmp_path / "py").mkdir()
    monkeypatch.setenv(sdk.ENV_VARIABLE, str(tmp_path))
    with pytest.raises(sdk.SdkMissing, match="dynruntime.h.*unset it"):
        sdk.find_sdk()


def test_an_empty_cache_says_to_run_the_fetch_command(tmp_path, monkeypatch):
    monkeypatch.delenv(sdk.ENV_VARIABLE, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert sdk.cache_dir().is_relative_to(tmp_path)
    with pytest.raises(sdk.SdkMissing, match="emlearn-gen micropython-sdk"):
        sdk.find_sdk()


def test_only_the_micropython_folder_is_unpacked_and_links_and_escapes_are_skipped(tmp_path):
    archive = _sdist(tmp_path / "a.tar.gz", {
        f"{TOP}/micropython/../../escape.txt": b"no",
    })
    with tarfile.open(archive) as tar:
        assert any(".." in m.name for m in tar.getmembers())
    out = tmp_path / "out"
    sdk._extract_micropython(archive, out)
    assert all((out / name).read_bytes() == f"/* {name} */\n".encode() for name in sdk._REQUIRED)
    assert not (out / "setup.py").exists()
    assert not (tmp_path / "escape.txt").exists() and not (out.parent / "escape.txt").exists()


def test_fetch_does_nothing_when_the_sources_are_there(tmp_path, monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("fetch_sdk ran pip although the sources were there")

    monkeypatch.setattr(sdk.subprocess, "run", no_network)
    assert sdk.fetch_sdk(_fill(tmp_path)) == tmp_path


def test_a_failed_download_is_a_clear_error(tmp_path, monkeypatch):
    class Failed:
        returncode = 1
        stdout = ""
        stderr = "ERROR: No matching distribution found"

    monkeypatch.setattr(sdk.subprocess, "run", lambda *a, **k: Failed())
    with pytest.raises(sdk.SdkMissing, match="pip could not fetch mpy-cross-v6-3.*No matching distribution"):
        sdk.fetch_sdk(tmp_path / "new")


def test_the_cli_command_fetches_into_the_folder_given(tmp_path, monkeypatch, capsys):
    archive = _sdist(tmp_path / f"{TOP}.tar.gz")

    def fake_pip(command, **kwargs):
        # pip download puts the archive into --dest.
        dest = Path(command[command.index("--dest") + 1])
        (dest / archive.name).write_bytes(archive.read_bytes())

        class Done:
            returncode = 0
            stdout = stderr = ""

        return Done()

    monkeypatch.setattr(sdk.subprocess, "run", fake_pip)
    dest = tmp_path / "sources"
    assert cli.main(["micropython-sdk", "--dest", str(dest)]) == 0
    assert str(dest) in capsys.readouterr().out
    assert all((dest / name).is_file() for name in sdk._REQUIRED)
