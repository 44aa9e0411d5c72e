"""The vocabulary about language the graph reads notes with (data/vocabulary.yaml, extendable from settings)."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from studygraph.errors import ConfigError

log = logging.getLogger(__name__)

SHIPPED_VOCABULARY = Path(__file__).resolve().parents[1] / "data" / "vocabulary.yaml"
LIST_KINDS = ("concepts", "applications", "properties", "examples")
_GROUPED_LISTS = ("prerequisite_cues",)
_WORD_LISTS = ("model_headers", "skip_headings", "curriculum_headings", "generic_headings", "title_words",
               "leading_words", "stop_names", "generic_suffixes", "function_words",
               "adjective_endings", "backward_cues", "forward_cues", "application_cues")


def _normalize(text: str) -> str:
    from kg.names import normalize_name  # kg.names reads stop names from here

    return normalize_name(text)


def alternation(words: list[str]) -> str:
    """A regex alternation of words, longest first, Latin words on word boundaries."""
    parts = []
    for word in sorted(set(words), key=lambda w: (-len(w), w)):
        end = word.endswith("$")
        core = re.escape(word.rstrip("$")).replace(r"\ ", r"\s+")
        if core[:1].isascii() and core[:1].isalnum():
            core = r"\b" + core
        if core[-1:].isascii() and core[-1:].isalnum():
            core += r"\b"
        parts.append(core + ("$" if end else ""))
    return "|".join(parts) or r"(?!)"


@dataclass
class Vocabulary:
    """Word lists, as loaded: keys are normalized for lists matched whole, raw for substrings and prefixes."""

    lists: dict[str, list[str]] = field(default_factory=dict)
    grouped: dict[str, dict[str, list[str]]] = field(default_factory=dict)  # name -> kind -> words

    def groups(self, name: str) -> dict[str, list[str]]:
        return self.grouped.get(name, {})

    def words(self, name: str) -> list[str]:
        return self.lists.get(name, [])

    def keys(self, name: str) -> frozenset[str]:
        return frozenset(_normalize(w) for w in self.words(name) if _normalize(w))

    def extended(self, other: Vocabulary) -> Vocabulary:
        merged = {k: list(dict.fromkeys(self.words(k) + other.words(k))) for k in {*self.lists, *other.lists}}
        grouped = {name: {kind: list(dict.fromkeys(self.groups(name).get(kind, []) + other.groups(name).get(kind, [])))
                          for kind in {*self.groups(name), *other.groups(name)}}
                   for name in {*self.grouped, *other.grouped}}
        return Vocabulary(merged, grouped)

    def substring_pattern(self, name: str) -> re.Pattern[str]:
        return re.compile(alternation(self.words(name)), re.IGNORECASE)

    def leading_pattern(self) -> re.Pattern[str]:
        """Words that start a sentence: Chinese ones as a prefix, English ones followed by a space."""
        words = self.words("leading_words")
        latin = [w for w in words if w.isascii()]
        cjk = [w for w in words if not w.isascii()]
        latin_part = "|".join(re.escape(w) + " " for w in sorted(latin, key=len, reverse=True))
        cjk_part = "|".join(re.escape(w) for w in sorted(cjk, key=len, reverse=True))
        return re.compile(f"^(?:{'|'.join(p for p in (cjk_part, latin_part) if p) or '(?!)'})", re.IGNORECASE)


def _read(path: Path) -> Vocabulary:
    try:
        data: Any = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"Cannot read the vocabulary {path}: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path} is not a vocabulary file (expected a mapping of word lists).")
    lists: dict[str, list[str]] = {}
    labels = data.get("list_labels") or {}
    for kind in LIST_KINDS:
        lists["label_" + kind] = [str(w) for w in labels.get(kind) or []]
    for name in _WORD_LISTS:
        value = data.get(name) or []
        if not isinstance(value, list):
            raise ConfigError(f"{path}: '{name}' must be a list of words.")
        lists[name] = [str(w) for w in value]
    grouped = {}
    for name in _GROUPED_LISTS:
        value = data.get(name) or {}
        if not isinstance(value, dict):
            raise ConfigError(f"{path}: '{name}' must map kinds to lists of words.")
        grouped[name] = {str(kind): [str(w) for w in words or []] for kind, words in value.items()}
    unknown = set(data) - {"version", "list_labels", *_WORD_LISTS, *_GROUPED_LISTS}
    if unknown:
        raise ConfigError(f"{path}: unknown vocabulary list(s) {', '.join(sorted(unknown))}.")
    return Vocabulary(lists, grouped)


def load_vocabulary(extra: Path | None = None) -> Vocabulary:
    """The shipped vocabulary, extended by a user's file.

    Raises:
        ConfigError: a file that cannot be read or has an unknown list.
    """
    vocabulary = _read(SHIPPED_VOCABULARY)
    if extra is not None:
        vocabulary = vocabulary.extended(_read(Path(extra)))
    return vocabulary
