"""Claim-level checks: is one sentence backed by the answer unit it cites? Words, terms, numbers, negations and
directional words (encoder/decoder, 单向/双向, increase/decrease) must all be in the unit, on the same subject.

The word lists are data (data/claims.yaml); the functions here are pure.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from assistant.text import content_tokens, jieba_module, strip_markers
from studygraph.errors import InputError
from studygraph.settings import AssistantSettings
from studygraph.text import CJK, cjk_bigrams, language_of

SHIPPED_CLAIMS = Path(__file__).resolve().parents[1] / "data" / "claims.yaml"

# The least share of a sentence's content words its unit must hold, chosen on the tuning half of
# tests/data/claims-labelled.jsonl (`python bench/answers.py --claims`): with 0.5 and the other checks, all 23 supported
# tuning sentences pass and all 29 corrupted ones fail. The value lives once, as `AssistantSettings.support_threshold`.
DEFAULT_SUPPORT = AssistantSettings().support_threshold

_NUMBER = re.compile(r"(?<![A-Za-z0-9_.])\d+(?:[.,]\d+)*%?")
_ZH_NUMERAL = re.compile(r"([一二两三四五六七八九十百千万]+)(?=[个种类层步次维倍项条点部分阶])")
_ZH_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_EN_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
                    "nine": 9, "ten": 10, "twelve": 12, "hundred": 100, "thousand": 1000}
_SECTION_NUMBER = re.compile(r"(?m)^\s*\d+(?:\.\d+)*\s+")
_LATIN_TERM = re.compile(r"(?<![A-Za-z0-9])[A-Za-z][A-Za-z0-9]*(?:[-_.][A-Za-z0-9]+)*")
_CLAUSE = re.compile(r"\n|[，,；;。!?！？、()（）]|(?<!\d)\.(?!\d)|\b(?:while|whereas|but|and|whereas)\b|而|但|和|与|以及|同时")


@dataclass(frozen=True)
class ClaimLexicon:
    """The word lists of data/claims.yaml (and any user file laid over it).

    Attributes:
        negations: per language, words that negate a statement.
        not_negations: per language, words that begin like a negation but are none (不同, nonlinear).
        directions: groups of words with opposite meanings, each a tuple of alternatives (sets of synonyms).
        names: other names of a term (glossary aliases in either language); identity when None.
    """

    negations: dict[str, frozenset[str]]
    not_negations: dict[str, frozenset[str]]
    directions: tuple[tuple[frozenset[str], ...], ...]
    names: Callable[[str], Iterable[str]] | None = field(default=None, compare=False)
    explanation_cues: dict[str, frozenset[str]] = field(default_factory=dict)

    def asks_for_explanation(self, question: str) -> bool:
        """Whether a question asks what something is, why or how it works (data/claims.yaml's cues)."""
        lowered = f" {question.lower()} "
        cues = set().union(*self.explanation_cues.values()) if self.explanation_cues else set()
        return any((cue in lowered) if CJK.search(cue) else re.search(rf"\b{re.escape(cue)}\b", lowered)
                   for cue in cues)

    def direction_words(self) -> frozenset[str]:
        return frozenset(w for group in self.directions for side in group for w in side)

    def synonyms(self, word: str) -> set[str]:
        """The word, its direction-side synonyms and its glossary names, lowercased."""
        found = {word.lower()}
        for group in self.directions:
            for side in group:
                if word.lower() in side:
                    found |= side
        if self.names is not None:
            found |= {n.lower() for n in self.names(word)}
        return found


@dataclass(frozen=True)
class ClaimCheck:
    """Whether a sentence is backed by its unit, how much of it is, and why not."""

    ok: bool
    support: float
    reasons: tuple[str, ...] = ()


def parse_lexicon(raw: dict, origin: str) -> ClaimLexicon:
    """A lexicon from the parsed YAML of a claims file (see data/claims.yaml).

    Raises:
        InputError: the file does not have the expected shape.
    """
    try:
        negations = {lang: frozenset(w.lower() for w in words) for lang, words in raw.get("negations", {}).items()}
        not_negations = {lang: frozenset(w.lower() for w in words)
                         for lang, words in raw.get("not_negations", {}).items()}
        directions = tuple(tuple(frozenset(w.lower() for w in side) for side in group)
                           for group in raw.get("directions", []))
        cues = {lang: frozenset(w.lower() for w in words) for lang, words in raw.get("explanation_cues", {}).items()}
    except (AttributeError, TypeError) as exc:
        raise InputError(f"{origin}: not a claims file ({exc}); see data/claims.yaml for the shape.") from None
    return ClaimLexicon(negations, not_negations, directions, explanation_cues=cues)


def merge_lexicons(base: ClaimLexicon, extra: ClaimLexicon) -> ClaimLexicon:
    """`base` with the words and groups of `extra` added."""
    def union(a: dict[str, frozenset[str]], b: dict[str, frozenset[str]]) -> dict[str, frozenset[str]]:
        return {lang: a.get(lang, frozenset()) | b.get(lang, frozenset()) for lang in {*a, *b}}

    return ClaimLexicon(union(base.negations, extra.negations), union(base.not_negations, extra.not_negations),
                        base.directions + extra.directions, base.names,
                        union(base.explanation_cues, extra.explanation_cues))


def load_lexicon(extra: Path | None = None) -> ClaimLexicon:
    """The shipped word lists (data/claims.yaml), with a user's file merged over them.

    Raises:
        InputError: a file is missing or malformed.
    """
    lexicon = _shipped_lexicon()
    if extra is not None:
        try:
            raw = yaml.safe_load(Path(extra).read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise InputError(f"Cannot read the claims file {extra}: {exc}.") from None
        lexicon = merge_lexicons(lexicon, parse_lexicon(raw, str(extra)))
    return lexicon


@lru_cache(maxsize=1)
def _shipped_lexicon() -> ClaimLexicon:
    return parse_lexicon(yaml.safe_load(SHIPPED_CLAIMS.read_text(encoding="utf-8")), str(SHIPPED_CLAIMS))


# --------------------------------------------------------------------------- the pieces of a check


def numbers_in(text: str) -> set[str]:
    """Numbers a text states, normalised ("1,000" -> "1000", "两层" -> "2", "three" -> "3")."""
    found = {m.replace(",", "") for m in _NUMBER.findall(text)}
    for run in _ZH_NUMERAL.findall(text):
        value = _zh_number(run)
        if value is not None:
            found.add(str(value))
    for word in re.findall(r"[a-z]+", text.lower()):
        if word in _EN_NUMBER_WORDS:
            found.add(str(_EN_NUMBER_WORDS[word]))
    return found


def _zh_number(run: str) -> int | None:
    if run in ("一",):  # "一个/一种" is an article, not a count
        return None
    if len(run) == 1 and run in _ZH_DIGITS:
        return _ZH_DIGITS[run]
    if run == "十":
        return 10
    if len(run) == 2 and run[0] == "十" and run[1] in _ZH_DIGITS:
        return 10 + _ZH_DIGITS[run[1]]
    if len(run) in (2, 3) and run[1] == "十" and run[0] in _ZH_DIGITS:
        return 10 * _ZH_DIGITS[run[0]] + (_ZH_DIGITS.get(run[2], 0) if len(run) == 3 else 0)
    return None


def words_of(text: str) -> list[str]:
    """Lowercased words of a text, jieba for Chinese (precise mode), as the word lists are matched on."""
    out: list[str] = []
    for piece in jieba_module().cut(text.lower()):
        piece = piece.strip()
        if piece:
            out.extend(_LATIN_TERM.findall(piece) if not CJK.search(piece) else [piece])
    return out


def has_negation(text: str, lexicon: ClaimLexicon) -> bool:
    """Whether a text (a clause) is negated: a negation word that is not part of a longer ordinary word."""
    lowered = text.lower()
    for lang in ("zh", "en"):
        for word in lexicon.not_negations.get(lang, ()):
            lowered = lowered.replace(word, " ")
    if re.search(r"\b\w+n't\b", lowered):
        return True
    words = words_of(lowered)
    negs = lexicon.negations.get("zh", frozenset()) | lexicon.negations.get("en", frozenset())
    if any(w in negs for w in words):
        return True
    # jieba keeps 不适合 as one word: a Chinese word that starts with a one-character negation is negated
    return any(CJK.match(w) and len(w) >= 2 and w[0] in negs and w not in lexicon.not_negations.get("zh", ())
               for w in words)


def clauses(text: str) -> list[str]:
    """A text cut at commas, semicolons and contrast words: the span within which a word describes a subject."""
    return [c.strip() for c in _CLAUSE.split(strip_markers(text)) if c and c.strip()]


def _contains(text: str, word: str) -> bool:
    if CJK.search(word):
        return word in text
    return re.search(rf"(?<![a-z0-9]){re.escape(word)}(?:s|es)?(?![a-z0-9])", text) is not None


def _backed(word: str, text: str, lexicon: ClaimLexicon) -> bool:
    lowered = text.lower()
    return any(_contains(lowered, name) for name in lexicon.synonyms(word))


def terms_in(sentence: str, language: str) -> list[str]:
    """Technical terms and names a sentence states: every Latin word of a Chinese sentence; in English, acronyms,
    CamelCase, capitalised words past the first and words with digits or hyphens."""
    plain = strip_markers(sentence)
    found = []
    for i, match in enumerate(_LATIN_TERM.finditer(plain)):
        word = match.group(0)
        if language == "zh" and len(word) > 1:
            found.append(word)
        elif (sum(ch.isupper() for ch in word) >= 2 or any(ch.isdigit() for ch in word) or "-" in word
              or (i > 0 and word[0].isupper() and not plain[: match.start()].rstrip().endswith((".", ":")))):
            found.append(word)
    return list(dict.fromkeys(found))


def direction_words_in(text: str, lexicon: ClaimLexicon) -> list[str]:
    """The directional words (data/claims.yaml) a text uses."""
    lowered = text.lower()
    return [w for w in sorted(lexicon.direction_words(), key=len, reverse=True) if _contains(lowered, w)]


def _subject_clash(sentence: str, unit: str, lexicon: ClaimLexicon, language: str) -> list[str]:
    """Directional words said of a subject the unit says something else of ("BERT ... decoder" where the unit has
    "BERT ... encoder" and "GPT ... decoder"): within each clause of the sentence, every (term, direction) pair must
    meet in one clause of the unit, when the unit has the term and the direction at all."""
    unit_clauses = clauses(unit)
    reasons = []
    for clause in clauses(sentence):
        subjects = terms_in(clause, language) or [w for w in content_tokens(clause) if len(w) >= 2][:3]
        for direction in direction_words_in(clause, lexicon):
            for subject in subjects:
                if subject.lower() in lexicon.synonyms(direction):
                    continue
                with_subject = [c for c in unit_clauses if _backed(subject, c, lexicon)]
                if not with_subject or not any(_backed(direction, c, lexicon) for c in unit_clauses):
                    continue
                if not any(_backed(direction, c, lexicon) for c in with_subject) and len(unit_clauses) > 1:
                    # the subject's own clauses do not say it; the word belongs to another subject
                    owners = [c for c in unit_clauses if _backed(direction, c, lexicon)]
                    others = {t.lower() for c in owners for t in terms_in(c, language_of(c))} - {subject.lower()}
                    if others and _other_side_near(subject, direction, with_subject, lexicon):
                        reasons.append(f"'{direction}' is said of {subject}, the notes say otherwise")
    return reasons


def _without_longer(unit: str, word: str, sentence: str, lexicon: ClaimLexicon) -> str:
    """The unit without the directional words that contain `word` but that the sentence does not use
    (线性 is not backed by 非线性)."""
    same = lexicon.synonyms(word)
    longer = [w for w in lexicon.direction_words() if word in w and w not in same and w not in sentence.lower()]
    for w in sorted(longer, key=len, reverse=True):
        unit = unit.replace(w, " ")
    return unit


def _misplaced_directions(sentence: str, unit: str, lexicon: ClaimLexicon) -> list[str]:
    """A directional word that the unit clause a sentence clause restates does not say (判别器 in a clause that
    restates the unit's "生成器从随机噪声生成图像"). Clauses are aligned on their other words."""
    reasons = []
    unit_clauses = clauses(unit)
    if len(unit_clauses) < 2:
        return []
    for clause in clauses(sentence):
        directions = direction_words_in(clause, lexicon)
        if not directions:
            continue
        hidden = set().union(*(lexicon.synonyms(d) for d in direction_words_in(clause + unit, lexicon)))
        own = {w for w in content_tokens(clause) if w not in hidden}
        scored = [(len(own & {w for w in content_tokens(c) if w not in hidden}), c) for c in unit_clauses]
        best = max(score for score, _ in scored)
        if best < 2 or sum(score == best for score, _ in scored) > 1:
            continue  # no clear counterpart in the unit
        aligned = next(c for score, c in scored if score == best)
        reasons += [f"'{d}' is not what the passage says there" for d in directions
                    if not _backed(d, _without_longer(aligned, d, clause, lexicon), lexicon)
                    and any(_backed(o, aligned, lexicon) for o in _opposites(d, lexicon))]
    return reasons


def _opposites(word: str, lexicon: ClaimLexicon) -> list[str]:
    return [w for group in lexicon.directions if any(word.lower() in side for side in group)
            for side in group if word.lower() not in side for w in side]


def _number_clash(sentence: str, unit: str) -> list[str]:
    """A number given for a quantity the unit gives another number for ("均值为1" where it says "均值为0")."""
    reasons = []
    unit_clauses = [(c, numbers_in(c), set(content_tokens(re.sub(r"\d", " ", c)))) for c in clauses(unit)]
    for clause in clauses(sentence):
        said = numbers_in(clause)
        words = {w for w in content_tokens(re.sub(r"\d", " ", clause)) if len(w) >= 2}
        for _, numbers, unit_words in unit_clauses:
            if said and numbers and words & unit_words and not said & numbers and len(words & unit_words) >= len(words) / 2:
                reasons.append(f"the passage gives {', '.join(sorted(numbers))} where the sentence says "
                               f"{', '.join(sorted(said))}")
    return reasons


def _entity_swap(sentence: str, unit: str, language: str) -> list[str]:
    """Two terms a sentence clause puts together that the unit keeps apart, each said with another subject
    ("SVM ... cross-entropy" where the unit has "SVM ... hinge" and "Softmax ... cross-entropy")."""
    unit_language = language_of(unit)
    unit_clauses = [(c, {t.lower() for t in terms_in(c, unit_language)}) for c in clauses(unit)]
    if len(unit_clauses) < 2:
        return []
    reasons = []
    for clause in clauses(sentence):
        named = [t.lower() for t in terms_in(clause, language)]
        for a in named:
            for b in named:
                if a >= b:
                    continue
                with_a = [terms for _, terms in unit_clauses if a in terms]
                with_b = [terms for _, terms in unit_clauses if b in terms]
                if not with_a or not with_b or any(b in terms for terms in with_a):
                    continue
                if any(terms - {a, b} - set(named) for terms in (*with_a, *with_b)):
                    reasons.append(f"the passage does not say {a} and {b} together")
    return reasons


def _other_side_near(subject: str, direction: str, with_subject: Sequence[str], lexicon: ClaimLexicon) -> bool:
    """Whether the unit's clauses about `subject` use an opposite of `direction`."""
    for group in lexicon.directions:
        sides = [side for side in group if direction.lower() in side]
        if not sides:
            continue
        others = [w for side in group if side is not sides[0] for w in side]
        if any(_contains(c.lower(), w) for c in with_subject for w in others):
            return True
    return False


def _best_clause(clause: str, unit: str, lexicon: ClaimLexicon) -> str:
    """The unit clause that shares most words with a sentence's clause (directional words count double)."""
    own = set(content_tokens(clause))
    directions = set(direction_words_in(clause, lexicon))

    def overlap(candidate: str) -> tuple[int, int]:
        shared = len(own & set(content_tokens(candidate)))
        return shared + sum(_contains(candidate.lower(), d) for d in directions), -len(candidate)

    return max(clauses(unit), key=overlap, default=unit)


def _polarity(sentence: str, unit: str, lexicon: ClaimLexicon) -> list[str]:
    """Each clause of the sentence must agree on negation with the unit clause it restates."""
    if not has_negation(sentence, lexicon):
        # restating the positive part of a passage that also negates something is fine; restating its negated
        # clause without the negation is not
        for clause in clauses(sentence):
            own = set(content_tokens(clause))
            for negated in (c for c in clauses(unit) if has_negation(c, lexicon)):
                theirs = set(content_tokens(negated))
                if len(theirs) >= 2 and len(own & theirs) >= 2 * len(theirs) / 3:
                    return ["drops the passage's negation"]
        return []
    reasons = []
    for clause in clauses(sentence):
        if len(content_tokens(clause)) >= 2 and has_negation(clause, lexicon) and not has_negation(
                _best_clause(clause, unit, lexicon), lexicon):
            reasons.append("negated where the passage is not")
    return reasons


def support(sentence: str, unit: str, weight: Callable[[str], float] | None = None,
            ignore: set[str] | frozenset[str] = frozenset()) -> float:
    """Share of the sentence's content words (and the bigrams of its long Chinese words) the unit holds; words in
    `ignore` do not count (0 when nothing else is left)."""
    own = _features(sentence) - set(ignore)
    if not own:
        return 0.0
    have = _features(unit)
    w = weight or (lambda _t: 1.0)
    total = sum(w(f) for f in own)
    return sum(w(f) for f in own if f in have) / total if total else 0.0


def _features(text: str) -> set[str]:
    words = set(content_tokens(strip_markers(text)))
    return words | {g for word in words if len(word) >= 3 and CJK.match(word) for g in cjk_bigrams(word)}


def check_claim(sentence: str, unit_text: str, language: str | None = None, *,
                lexicon: ClaimLexicon | None = None, weight: Callable[[str], float] | None = None,
                threshold: float = DEFAULT_SUPPORT, given: str = "") -> ClaimCheck:
    """Check one sentence against the unit it cites.

    Args:
        sentence: a sentence of a generated answer (its `[n]` markers are ignored).
        unit_text: the cited unit, with its context (`Unit.full_text`).
        language: the sentence's language ('zh' or 'en'); measured when None.
        lexicon: negations and directional words (data/claims.yaml by default).
        weight: IDF of a word over the notes; generic words then count for little.
        threshold: least support share.
        given: text whose words the sentence may repeat without adding anything (the question): the support of
            what the sentence adds must reach the threshold, and a sentence that adds nothing fails.

    Returns:
        ok, the support share, and the reasons it failed (empty when ok).
    """
    lexicon = lexicon or load_lexicon()
    language = language or language_of(sentence)
    plain = strip_markers(sentence)
    unit = unit_text.lower()
    reasons: list[str] = []
    share = support(plain, unit_text, weight)
    if share < threshold:
        reasons.append(f"only {share:.0%} of its words are in the passage")
    elif given:
        added = support(plain, unit_text, weight, ignore=_features(given))
        if added < threshold:
            reasons.append("adds nothing the passage says to the question")
    reasons += [f"the passage does not name {t}" for t in terms_in(plain, language) if not _backed(t, unit, lexicon)]
    reasons += [f"the passage does not say {n}" for n in sorted(numbers_in(plain) - numbers_in(unit_text))]
    reasons += [f"the passage does not say '{d}'" for d in direction_words_in(plain, lexicon)
                if not _backed(d, _without_longer(unit, d, plain, lexicon), lexicon)]
    reasons += _misplaced_directions(plain, unit_text, lexicon)
    reasons += _number_clash(plain, _SECTION_NUMBER.sub("", unit_text))
    reasons += _subject_clash(plain, unit_text, lexicon, language)
    reasons += _entity_swap(plain, unit_text, language)
    reasons += _polarity(plain, unit_text, lexicon)
    return ClaimCheck(not reasons, share, tuple(dict.fromkeys(reasons)))
