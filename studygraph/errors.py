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


def import_optional(module: str, hint: str):  # noqa: ANN201 - the imported module
    """Import an optional dependency, turning its absence (and only its absence) into a ModelError.

    A ModuleNotFoundError raised for any other module, from inside the package, is a real bug and is re-raised,
    so a broken install is never reported as a missing extra.

    Args:
        module: the module to import, e.g. "llama_cpp" or "sentence_transformers".
        hint: what to run to install it, appended to the message.

    Raises:
        ModelError: the module (or its top-level package) is not installed.
    """
    import importlib

    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name not in (module, module.split(".")[0]):
            raise
        raise ModelError(f"'{module}' is not installed: {hint}") from None
