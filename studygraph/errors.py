"""Expected failures: each carries one clear message that says what to do next."""

from __future__ import annotations


class StudygraphError(Exception):
    """An expected failure; the CLI prints its message and exits non-zero, without a traceback."""

    exit_code = 1


class ConfigError(StudygraphError):
    """Settings are unreadable or invalid."""

    exit_code = 2


class WorkspaceError(StudygraphError):
    """A workspace is missing, incomplete, corrupted, locked, or built with other settings."""

    exit_code = 3


class ModelError(StudygraphError):
    """A model cannot be found or loaded, or an optional extra that runs it is not installed."""

    exit_code = 4


class InputError(StudygraphError):
    """The user's input cannot be used (a path that does not exist, nothing to ingest, an unknown name)."""

    exit_code = 5
