"""The bilingual AI/ML glossary: zh and en names, abbreviations, well-known prerequisites (data/glossary.yaml)."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from kg.names import clean_display, normalize_name, singular_key
from studygraph.errors import ConfigError

log = logging.getLogger(__name__)

# Words that qualify a concept without changing it: "神经网络基础" is about 神经网络.
def _generic_suffix() -> re.Pattern[str]:
    from kg.vocabulary import load_vocabulary

    words = sorted(load_vocabulary().words("generic_suffixes"), key=len, reverse=True)
    return re.compile(r"^(.{2,}?)\s*(" + "|".join(re.escape(w) for w in words) + ")$", re.IGNORECASE)


# Words that qualify a concept without changing it (data/vocabulary.yaml, `generic_suffixes`).
GENERIC_SUFFIX = _generic_suffix()
SHIPPED_GLOSSARY = Path(__file__).resolve().parents[1] / "data" / "glossary.yaml"
_FIELDS = {"en", "zh", "aliases", "prerequisites", "code"}


@dataclass(frozen=True)
class GlossaryEntry:
    """One concept of the glossary. Entries create no concept by themselves: they link names across languages.

    Attributes:
        key: stable key, the normalized English name (or the Chinese one when there is no English name).
        en: English name.
        zh: Chinese name.
        aliases: abbreviations and other spellings, either language.
        prerequisites: keys of entries that are well known to come first.
        code: identifiers whose use in code shows the concept is used ("MultiheadAttention", "optim.Adam(").
    """

    key: str
    en: str = ""
    zh: str = ""
    aliases: tuple[str, ...] = ()
    prerequisites: tuple[str, ...] = ()
    code: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        """Every name of the entry, zh first, without duplicates."""
        seen: dict[str, str] = {}
        for name in (self.zh, self.en, *self.aliases):
            if name and normalize_name(name) not in seen:
                seen[normalize_name(name)] = name
        return tuple(seen.values())


@dataclass
class Glossary:
    """Entries with a lookup from any normalized name (either language, any alias) to its entry."""

    entries: dict[str, GlossaryEntry] = field(default_factory=dict)
    _by_name: dict[str, str] = field(default_factory=dict, repr=False)
    conflicts: list[tuple[str, str, str]] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self._reindex()

    def _reindex(self) -> None:
        self._by_name.clear()
        self.conflicts.clear()
        for entry in self.entries.values():
            for name in entry.names:
                key = normalize_name(name)
                owner = self._by_name.setdefault(key, entry.key)
                if owner != entry.key:
                    self.conflicts.append((name, owner, entry.key))

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[GlossaryEntry]:
        return iter(self.entries.values())

    def entry(self, key: str) -> GlossaryEntry:
        return self.entries[key]

    def lookup(self, name: str) -> GlossaryEntry | None:
        """The entry that has this name (normalized; an English plural also finds its singular), or None."""
        key = normalize_name(name)
        owner = self._by_name.get(key) or self._by_name.get(singular_key(key))
        return self.entries[owner] if owner else None

    def find(self, name: str) -> GlossaryEntry | None:
        """Like `lookup`, also through a generic suffix ("神经网络基础", "Transformer架构", "策略梯度方法")."""
        entry = self.lookup(name)
        if entry is None:
            match = GENERIC_SUFFIX.match(clean_display(name))
            if match:
                entry = self.lookup(match.group(1))
        return entry

    def same_concept(self, a: str, b: str) -> bool:
        """Whether two names belong to one glossary entry."""
        ea, eb = self.lookup(a), self.lookup(b)
        return ea is not None and ea is eb

    def prerequisites(self, key: str) -> tuple[str, ...]:
        entry = self.entries.get(key)
        return entry.prerequisites if entry else ()

    def merged(self, other: Iterable[GlossaryEntry]) -> Glossary:
        """A new glossary with `other` laid over this one: a matching entry gains names, prerequisites, code."""
        entries = dict(self.entries)
        for extra in other:
            existing = next((self.lookup(n) for n in extra.names if self.lookup(n)), None)
            if existing is None:
                entries[extra.key] = extra
                continue
            base = entries[existing.key]
            entries[existing.key] = replace(
                base,
                en=extra.en or base.en,
                zh=extra.zh or base.zh,
                aliases=tuple(a for a in dict.fromkeys(base.aliases + extra.aliases + (extra.en, extra.zh)) if a),
                prerequisites=tuple(dict.fromkeys(base.prerequisites + extra.prerequisites)),
                code=tuple(dict.fromkeys(base.code + extra.code)),
            )
        return _resolve_prerequisites(Glossary(entries), origin="merged glossary")


def _as_names(value: Any, where: str, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value.strip(),) if value.strip() else ()
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        return tuple(str(v).strip() for v in value if str(v).strip())
    raise ConfigError(f"{where}: '{name}' must be a name or a list of names.")


def _parse_entry(raw: Any, where: str) -> GlossaryEntry:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: each entry must be a mapping with 'en' and/or 'zh'.")
    unknown = set(raw) - _FIELDS
    if unknown:
        raise ConfigError(f"{where}: unknown field(s) {sorted(unknown)}; allowed: {sorted(_FIELDS)}.")
    en = str(raw.get("en") or "").strip()
    zh = str(raw.get("zh") or "").strip()
    if not en and not zh:
        raise ConfigError(f"{where}: an entry needs an 'en' or a 'zh' name.")
    return GlossaryEntry(
        key=normalize_name(en or zh),
        en=en,
        zh=zh,
        aliases=_as_names(raw.get("aliases"), where, "aliases"),
        prerequisites=_as_names(raw.get("prerequisites"), where, "prerequisites"),
        code=_as_names(raw.get("code"), where, "code"),
    )


def parse_glossary(text: str, origin: str) -> list[GlossaryEntry]:
    """Entries of a glossary YAML document (`entries: [{en, zh, aliases, prerequisites, code}]`).

    Raises:
        ConfigError: the YAML is invalid or an entry is malformed; the message names the file and entry.
    """
    try:
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # libyaml: ~10x faster
    except yaml.YAMLError as exc:
        raise ConfigError(f"Glossary {origin} is not valid YAML: {exc}.") from None
    if data is None:
        return []
    raw_entries = data.get("entries") if isinstance(data, dict) else data
    if not isinstance(raw_entries, list):
        raise ConfigError(f"Glossary {origin} must hold a list 'entries' of {{en, zh, aliases}} mappings.")
    return [_parse_entry(raw, f"Glossary {origin}, entry {i + 1}") for i, raw in enumerate(raw_entries)]


def _resolve_prerequisites(glossary: Glossary, origin: str) -> Glossary:
    """Prerequisites written as any name become entry keys; unknown ones are dropped with a warning."""
    resolved: dict[str, GlossaryEntry] = {}
    for key, entry in glossary.entries.items():
        keys = []
        for name in entry.prerequisites:
            target = glossary.lookup(name) if name not in glossary.entries else glossary.entries[name]
            if target is None or target.key == key:
                log.warning("%s: prerequisite %r of %r is not a glossary entry; ignored.", origin, name, entry.key)
                continue
            keys.append(target.key)
        resolved[key] = replace(entry, prerequisites=tuple(dict.fromkeys(keys)))
    return Glossary(resolved)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"Cannot read glossary {path}: {exc.strerror}. Check graph.glossary in your settings.") from None
    except UnicodeDecodeError:
        raise ConfigError(f"Glossary {path} is not UTF-8 text; save it as UTF-8.") from None


def load_glossary(extra: Path | None = None) -> Glossary:
    """The shipped glossary (data/glossary.yaml), with a user's extra glossary laid over it.

    Args:
        extra: a YAML file in the same format; its entries add names and prerequisites to matching entries
            (same name in either language) or are added as new entries.

    Raises:
        ConfigError: a glossary file is missing, unreadable or malformed.
    """
    entries: dict[str, GlossaryEntry] = {}
    for entry in parse_glossary(_read(SHIPPED_GLOSSARY), str(SHIPPED_GLOSSARY)):
        entries.setdefault(entry.key, entry)
    glossary = _resolve_prerequisites(Glossary(entries), origin=str(SHIPPED_GLOSSARY))
    if extra is not None:
        glossary = glossary.merged(parse_glossary(_read(Path(extra)), str(extra)))
    return glossary
