"""What every page shares: the app's options, one StudyService per settings, and expected-error display."""

from __future__ import annotations

import argparse
import contextlib
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from assistant.service import StudyService
from studygraph.errors import StudygraphError, WorkspaceError
from studygraph.settings import load_settings

# Tests (and embedders of the app) put a zero-argument callable returning a StudyService under this key;
# the app then uses it instead of building one from the settings (the seam for a fake embedder and LLM).
SERVICE_FACTORY_KEY = "service_factory"
_HOLDER_KEY = "_service_holder"


@dataclass(frozen=True)
class AppOptions:
    """What `studygraph ui` passes to the script after `--`."""

    config: Path | None = None
    workspace: Path | None = None
    no_llm: bool = False


def parse_app_args(argv: Sequence[str]) -> AppOptions:
    """Read the app's own options, ignoring anything else (AppTest runs the script under pytest's argv)."""
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    parser.add_argument("--config", type=Path)
    parser.add_argument("--workspace", type=Path)
    parser.add_argument("--no-llm", action="store_true")
    known, _ = parser.parse_known_args(list(argv))
    return AppOptions(config=known.config, workspace=known.workspace, no_llm=known.no_llm)


def _manifest_stamp(service: StudyService) -> tuple[int, int] | None:
    try:
        stat = service.workspace.manifest_path.stat()
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size


class ServiceHolder:
    """Holds the app's StudyService and swaps it for a fresh one when the workspace gets a new generation.

    The models already loaded are kept (`StudyService.reopen`), so an ingest, from the Notes page or from
    `studygraph ingest` in another terminal, is picked up on the next rerun without reloading them.
    """

    def __init__(self, factory: Callable[[], StudyService]):
        self._factory = factory
        self._service: StudyService | None = None
        self._stamp: tuple[int, int] | None = None
        self._lock = threading.Lock()

    def get(self) -> StudyService:
        with self._lock:
            if self._service is None:
                self._service = self._factory()
                self._stamp = _manifest_stamp(self._service)
            else:
                stamp = _manifest_stamp(self._service)
                if stamp != self._stamp:
                    self._service, self._stamp = self._service.reopen(), stamp
            return self._service

    def refresh(self) -> None:
        """Read the workspace again on next use (after an ingest)."""
        with self._lock:
            if self._service is not None:
                self._service = self._service.reopen()
                self._stamp = _manifest_stamp(self._service)


@st.cache_resource(show_spinner=False)
def _shared_holder(config: str, workspace: str) -> ServiceHolder:
    # One holder (and so one set of loaded models) per settings, shared by every browser session.
    overrides = {"workspace": Path(workspace)} if workspace else {}
    settings = load_settings(config=Path(config) if config else None, overrides=overrides)
    return ServiceHolder(lambda: StudyService(settings))


def app_options() -> AppOptions:
    """The options this browser session was started with (defaults under AppTest)."""
    return st.session_state.get("app_options") or AppOptions()


def _holder() -> ServiceHolder:
    factory = st.session_state.get(SERVICE_FACTORY_KEY)
    if factory is not None:
        if _HOLDER_KEY not in st.session_state:
            st.session_state[_HOLDER_KEY] = ServiceHolder(factory)
        return st.session_state[_HOLDER_KEY]
    options = app_options()
    return _shared_holder(str(options.config or ""), str(options.workspace or ""))


def get_service() -> StudyService:
    """The app's StudyService (ConfigError when the settings are invalid)."""
    return _holder().get()


def refresh_service() -> None:
    """After an ingest: the next `get_service()` reads the new generation."""
    _holder().refresh()


@contextlib.contextmanager
def shows_errors() -> Iterator[None]:
    """Show an expected failure as one message with its next step, never a traceback."""
    try:
        yield
    except WorkspaceError as exc:
        st.error(str(exc), icon=":material/folder_off:")
        st.info("Add notes on the **Notes** page, or from a terminal: `studygraph ingest data/notes`.",
                icon=":material/lightbulb:")
    except StudygraphError as exc:
        st.error(str(exc), icon=":material/error:")


def workspace_ready(service: StudyService) -> bool:
    """True when the workspace has a complete generation; otherwise say how to make one."""
    try:
        service.snapshot  # noqa: B018 (opening it checks manifest, embedder and generation)
    except WorkspaceError as exc:
        st.warning(str(exc), icon=":material/folder_off:")
        st.info("Add notes on the **Notes** page (a folder path or uploaded `.md` files), or from a terminal: "
                f"`studygraph ingest data/notes --workspace {service.settings.workspace}`.",
                icon=":material/lightbulb:")
        return False
    return True
