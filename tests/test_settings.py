from __future__ import annotations

from pathlib import Path

import pytest

from studygraph.errors import ConfigError
from studygraph.settings import Settings, describe_settings, load_settings


def test_defaults_are_offline_bundled_models(clean_env: Path) -> None:
    s = load_settings()
    assert s.embedder.model == "bundled:use-multilingual-v3"
    assert s.llm.model == "bundled:qwen2.5-coder-1.5b-instruct"
    assert s.workspace == Path("data/workspace")
    assert s.ui.host == "127.0.0.1"
    assert all(origin == "default" for _, _, origin, _ in describe_settings(s))


def test_every_field_is_described() -> None:
    for name, _value, _origin, description in describe_settings(Settings()):
        assert description.strip(), f"{name} has no description"


def test_file_in_working_directory_is_read(clean_env: Path) -> None:
    (clean_env / "studygraph.toml").write_text('[retrieval]\nk = 9\n[llm]\nmodel = "/models/qwen.gguf"\n')
    s = load_settings()
    assert s.retrieval.k == 9 and s.llm.model == "/models/qwen.gguf"
    origins = {name: origin for name, _, origin, _ in describe_settings(s)}
    assert origins["retrieval.k"].startswith("file ")
    assert origins["retrieval.mode"] == "default"


def test_environment_beats_file_and_command_line_beats_both(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (clean_env / "studygraph.toml").write_text('workspace = "from-file"\n[retrieval]\nk = 9\n')
    monkeypatch.setenv("STUDYGRAPH_RETRIEVAL__K", "12")
    monkeypatch.setenv("STUDYGRAPH_WORKSPACE", "from-env")
    s = load_settings()
    assert s.retrieval.k == 12 and s.workspace == Path("from-env")
    s = load_settings(overrides={"workspace": Path("from-cli")})
    assert s.workspace == Path("from-cli") and s.retrieval.k == 12
    origins = {name: origin for name, _, origin, _ in describe_settings(s)}
    assert origins["retrieval.k"] == "env STUDYGRAPH_RETRIEVAL__K"
    assert origins["workspace"] == "command line"


def test_explicit_config_path(clean_env: Path, tmp_path: Path) -> None:
    cfg = tmp_path / "elsewhere.toml"
    cfg.write_text('[embedder]\nmodel = "BAAI/bge-m3"\nquery_prompt = "q: "\n')
    s = load_settings(config=cfg)
    assert s.embedder.model == "BAAI/bge-m3" and s.embedder.query_prompt == "q: "


@pytest.mark.parametrize(
    ("toml", "env", "fragment"),
    [
        ("[retrieval]\nk = 0\n", {}, "retrieval.k"),
        ("[retrieval]\nmode = 'fuzzy'\n", {}, "retrieval.mode"),
        ("", {"STUDYGRAPH_LLM__N_CTX": "lots"}, "llm.n_ctx"),
        ("[retrieval]\nkk = 3\n", {}, "retrieval.kk"),
        ("[retrieval\n", {}, "not valid TOML"),
    ],
)
def test_invalid_values_fail_with_one_clear_message(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, toml: str, env: dict[str, str], fragment: str
) -> None:
    (clean_env / "studygraph.toml").write_text(toml)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert fragment in str(err.value)
    assert "\n" not in str(err.value)


def test_missing_explicit_config_is_an_error(clean_env: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(config=clean_env / "nope.toml")
