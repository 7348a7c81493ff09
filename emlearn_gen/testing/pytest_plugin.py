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
