"""The layout is the architecture: imports flow one way, text primitives have one home, no import is swallowed."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("studygraph", "ingest", "kg", "retrieval", "assistant", "ui")
# Which packages each package may import (besides itself). `ui -> assistant -> retrieval, kg`; `ingest -> kg,
# retrieval`; everything may use `studygraph`; nothing imports `ui`.
ALLOWED = {
    "studygraph": set(),
    "kg": {"studygraph"},
    "retrieval": {"studygraph", "kg"},
    "ingest": {"studygraph", "kg", "retrieval"},
    "assistant": {"studygraph", "kg", "retrieval"},
    "ui": {"studygraph", "kg", "retrieval", "assistant", "ingest"},
}


def _modules(package: str) -> list[Path]:
    return sorted((REPO / package).rglob("*.py"))


def _imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found & set(PACKAGES)


@pytest.mark.parametrize("package", PACKAGES)
def test_imports_flow_one_way(package: str) -> None:
    wrong = {
        f"{path.relative_to(REPO)} imports {other}"
        for path in _modules(package)
        for other in _imported_packages(path) - {package} - ALLOWED[package]
    }
    assert not wrong, sorted(wrong)


# A hand-written CJK range (U+3400.. or U+4E00..) anywhere but the toolkit means a second definition.
_CJK_RANGE = re.compile(r"\\u(?:3400|4e00|4E00|9fff|9FFF)|[\u3400\u4e00]-[\u4dbf\u9fff]")


def test_the_cjk_class_is_declared_once() -> None:
    offenders = [
        str(path.relative_to(REPO))
        for package in PACKAGES
        for path in _modules(package)
        if path != REPO / "studygraph" / "text.py" and _CJK_RANGE.search(path.read_text(encoding="utf-8"))
    ]
    assert not offenders, f"declare CJK ranges only in studygraph/text.py: {offenders}"


def test_no_bare_except_import_error() -> None:
    """Optional imports go through `studygraph.errors.import_optional`, which re-raises a missing inner module."""
    offenders = []
    for package in PACKAGES:
        for path in _modules(package):
            if path == REPO / "studygraph" / "errors.py":
                continue  # import_optional itself, which re-raises any module but the one asked for
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ExceptHandler) and node.type is not None:
                    names = {n.id for n in ast.walk(node.type) if isinstance(n, ast.Name)}
                    if names & {"ImportError", "ModuleNotFoundError"}:
                        offenders.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert not offenders, offenders


def test_import_optional_reports_a_missing_extra_but_not_a_broken_one(tmp_path: Path, monkeypatch) -> None:
    from studygraph.errors import ModelError, import_optional

    with pytest.raises(ModelError, match="no_such_module_xyz.*pip install it"):
        import_optional("no_such_module_xyz", "pip install it")
    # a package that is installed but imports something missing is a bug, not a missing extra
    (tmp_path / "broken_pkg_xyz.py").write_text("import missing_inner_dependency_xyz\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ModuleNotFoundError, match="missing_inner_dependency_xyz"):
        import_optional("broken_pkg_xyz", "pip install it")
    assert import_optional("json", "stdlib").dumps([1]) == "[1]"
