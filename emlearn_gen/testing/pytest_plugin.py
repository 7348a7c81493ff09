"""pytest plugin: check models on emulated devices from your own tests.

Installed with emlearn-gen (entry point ``pytest11``); without the installed
entry point, load it with ``-p emlearn_gen.testing.pytest_plugin``::

    def test_my_model_on_devices(emlearn_device):
        X, y = load_iris(return_X_y=True)
        emlearn_device.assert_matches(RandomForestClassifier().fit(X, y), X)

``emlearn_device`` runs the test once per device target ("cortex-m0",
"cortex-m4f", "avr"; choose with ``--emlearn-targets=avr,cortex-m4f``). It
is a :class:`Device` with ``run(model, X)``, ``assert_matches(model, X)`` and
``footprint(model)``; builds are shared by the whole session.

``emlearn_micropython`` does the same on a real MicroPython, once per
MicroPython target ("unix": the unix port, binary64 floats; "mps2-an386": a
bare-metal MicroPython on QEMU's Cortex-M4F, float32; choose with
``--emlearn-micropython-targets=unix``)::

    def test_my_model_on_micropython(emlearn_micropython):
        X, y = load_iris(return_X_y=True)
        emlearn_micropython.assert_matches(RandomForestClassifier().fit(X, y), X)

It is a :class:`MicroPython` with ``run(script, files)``,
``run_model(model, X, kind)`` and ``assert_matches(model, X, kind)``; kind
"python" is the pure-Python module, "native" the native module for the
target's architecture (``CModel.save_micropython``).

A missing compiler or emulator skips the test with a message naming the
Debian packages to install, or fails it when the environment sets
``EMLEARN_GEN_REQUIRE_DEVICE=1`` (CI). The same holds for any test that
raises :class:`~emlearn_gen.testing.ToolchainMissing`.
"""

from __future__ import annotations

import os
from typing import Any, Dict, Iterator, List, NoReturn, Optional, Sequence

import numpy as np
import pytest

from . import micropython as _micropython
from . import (
    DEVICE_TARGET_NAMES,
    BuildCache,
    Footprint,
    MatchReport,
    ToolchainMissing,
    assert_device_matches,
    footprint,
    get_target,
    run_model,
)

REQUIRE_ENV = "EMLEARN_GEN_REQUIRE_DEVICE"


def device_required() -> bool:
    """True when missing tools must fail tests rather than skip them."""
    return os.environ.get(REQUIRE_ENV, "").strip() not in ("", "0")


def missing_toolchain(message: str) -> NoReturn:
    """Skips the current test with ``message``, or fails it when
    EMLEARN_GEN_REQUIRE_DEVICE=1."""
    if device_required():
        pytest.fail(f"{message} ({REQUIRE_ENV}=1: device tests must run)", pytrace=False)
    pytest.skip(message)


def require_target(target: Any) -> Any:
    """The target object for ``target``, after checking its tools are
    installed (skip or fail otherwise, see :func:`missing_toolchain`)."""
    tgt = get_target(target)
    try:
        tgt.check_tools()
    except ToolchainMissing as exc:
        missing_toolchain(f"{getattr(tgt, 'name', tgt)}: {exc}")
    return tgt


class Device:
    """One device target, for a test: runs, compares and measures models."""

    def __init__(self, target: Any, cache: BuildCache) -> None:
        self.target = get_target(target)
        self.cache = cache

    @property
    def name(self) -> str:
        return str(self.target.name)

    def __repr__(self) -> str:
        return f"Device({self.name!r})"

    def run(self, model: Any, X: Any) -> Dict[str, np.ndarray]:
        """{method: outputs} of the model's header run on the device."""
        return run_model(model, X, self.target, cache=self.cache)

    def assert_matches(self, model: Any, X: Any) -> MatchReport:
        """Asserts the device computes what the host runtime computes on X."""
        return assert_device_matches(model, X, targets=[self.target], cache=self.cache)[self.name]

    def footprint(self, model: Any, X: Optional[Any] = None) -> Footprint:
        """Flash, static RAM and stack the model adds on the device."""
        return footprint(model, self.target, X, cache=self.cache)


class MicroPython:
    """One MicroPython target, for a test: runs scripts, and models' modules
    compared with the host runtime."""

    def __init__(self, target: str) -> None:
        self.target = target

    @property
    def name(self) -> str:
        return self.target

    @property
    def arch(self) -> str:
        """The native-code architecture of the target (save_micropython's arch)."""
        return _micropython.TARGET_ARCH[self.target]

    @property
    def float32(self) -> bool:
        """Whether MicroPython's float is float32 here (else binary64)."""
        return _micropython.TARGET_FLOAT32[self.target]

    def __repr__(self) -> str:
        return f"MicroPython({self.target!r})"

    def run(self, script: str, files: Optional[Dict[str, Any]] = None) -> str:
        """What ``script`` prints, with ``files`` ({name: bytes or path}) beside it."""
        return _micropython.run_micropython(script, files, target=self.target)

    def _model(self, model: Any) -> Any:
        from ..convert import convert
        from ..model import CModel

        return model if isinstance(model, CModel) else convert(model)

    def run_model(self, model: Any, X: Any, kind: str = "python") -> Dict[str, np.ndarray]:
        """{method: raw outputs} of the model's MicroPython module on X."""
        return _micropython.run_model(self._model(model), X, self.target, kind)

    def assert_matches(self, model: Any, X: Any, kind: str = "python") -> MatchReport:
        """Asserts the module computes on this MicroPython what the host
        runtime computes on X: bit for bit, or within the bound
        docs/micropython.md states for the pure-Python module."""
        return _micropython.assert_matches(self._model(model), X, self.target, kind)


def selected_micropython_targets(config: pytest.Config) -> List[str]:
    raw = config.getoption("emlearn_micropython_targets") or ",".join(_micropython.MICROPYTHON_TARGETS)
    names = [n.strip() for n in raw.split(",") if n.strip()]
    for name in names:
        if name not in _micropython.MICROPYTHON_TARGETS:
            raise pytest.UsageError(
                f"--emlearn-micropython-targets: unknown target {name!r}; choose from "
                f"{','.join(_micropython.MICROPYTHON_TARGETS)}"
            )
    return names


def selected_targets(config: pytest.Config) -> List[str]:
    raw = config.getoption("emlearn_targets") or ",".join(DEVICE_TARGET_NAMES)
    names = [n.strip() for n in raw.split(",") if n.strip()]
    for name in names:
        get_target(name)  # ValueError for unknown names
    return names


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("emlearn-gen", "emlearn-gen device tests")
    group.addoption(
        "--emlearn-targets",
        dest="emlearn_targets",
        default=None,
        help="comma-separated targets for the emlearn_device fixture "
        f"(default: {','.join(DEVICE_TARGET_NAMES)})",
    )
    group.addoption(
        "--emlearn-micropython-targets",
        dest="emlearn_micropython_targets",
        default=None,
        help="comma-separated MicroPython targets for the emlearn_micropython fixture "
        f"(default: {','.join(_micropython.MICROPYTHON_TARGETS)})",
    )


def _already_parametrized(metafunc: pytest.Metafunc, name: str) -> bool:
    for marker in metafunc.definition.iter_markers("parametrize"):
        argnames = marker.args[0] if marker.args else marker.kwargs.get("argnames", "")
        if isinstance(argnames, str):
            argnames = [a.strip() for a in argnames.split(",")]
        if name in argnames:
            return True
    return False


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "emlearn_device" in metafunc.fixturenames and not _already_parametrized(metafunc, "emlearn_device"):
        names: Sequence[str] = selected_targets(metafunc.config)
        metafunc.parametrize("emlearn_device", names, indirect=True, ids=list(names))
    if "emlearn_micropython" in metafunc.fixturenames and not _already_parametrized(metafunc, "emlearn_micropython"):
        targets = selected_micropython_targets(metafunc.config)
        metafunc.parametrize("emlearn_micropython", targets, indirect=True, ids=list(targets))


@pytest.fixture(scope="session")
def emlearn_build_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BuildCache]:
    """Builds shared by every test of the session, and by every worker of a
    pytest-xdist session (their temporary folders share a parent)."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent
    yield BuildCache(base / "emlearn_gen_builds")


@pytest.fixture
def emlearn_device(request: pytest.FixtureRequest, emlearn_build_cache: BuildCache) -> Device:
    """A device target (parametrized over the selected targets); skipped,
    or failed with EMLEARN_GEN_REQUIRE_DEVICE=1, when its tools are missing."""
    name = getattr(request, "param", None)
    if name is None:
        raise pytest.UsageError("emlearn_device is parametrized by the emlearn_gen plugin; do not request it indirectly")
    target = get_target(name)
    try:
        target.check_tools()
    except ToolchainMissing as exc:
        message = f"{target.name}: {exc}"
        if not device_required():
            pytest.skip(message)
        # Fail in the call phase, so that the test is reported as failed
        # (not as an error of its set-up), without running its body.
        request.node.stash[_MISSING] = message
    return Device(target, emlearn_build_cache)


@pytest.fixture
def emlearn_micropython(request: pytest.FixtureRequest) -> MicroPython:
    """A MicroPython target (parametrized over the selected targets); skipped,
    or failed with EMLEARN_GEN_REQUIRE_DEVICE=1, when its tools are missing."""
    name = getattr(request, "param", None)
    if name is None:
        raise pytest.UsageError(
            "emlearn_micropython is parametrized by the emlearn_gen plugin; do not request it indirectly"
        )
    try:
        _micropython.check_target(name)
    except ToolchainMissing as exc:
        message = f"MicroPython {name}: {exc}"
        if not device_required():
            pytest.skip(message)
        request.node.stash[_MISSING] = message  # fails in the call phase, as emlearn_device
    return MicroPython(name)


_MISSING = pytest.StashKey[str]()


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> None:
    message = pyfuncitem.stash.get(_MISSING, None)
    if message is not None:
        missing_toolchain(message)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    outcome = yield
    excinfo = outcome.excinfo
    if excinfo is not None and isinstance(excinfo[1], ToolchainMissing):
        try:
            missing_toolchain(str(excinfo[1]))
        except BaseException as replacement:  # pytest's skip/fail outcomes
            outcome.force_exception(replacement)
