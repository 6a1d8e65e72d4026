"""Text normalisation and tokenisation shared by the seed terms and the mentions.

The steps follow `dbt_project/macros/text.sql` (lower case, `ё` → `е`, `’` → `'`,
words = runs of letters/digits joined by inner apostrophes) so a seed term and the
text it should match are treated identically. Two additions the SQL side did not
need: links are dropped before tokenising (their path fragments are not words the
author wrote), and letters repeated three or more times ("soooo", "ужаааас") are
squeezed, because social-network spelling stretches exactly the words that carry
feeling.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from cjm.core.text import normalize  # the one rule; re-exported here for the scorer

URL_RE = re.compile(r"(?:https?://|www\.)[^\s<>\"'«»]+", re.IGNORECASE)
# A word: letters/digits (any script) optionally joined by inner apostrophes. Sentence
# and clause boundaries are kept as separate kinds so negation and contrast can
# respect them.
TOKEN_RE = re.compile(
    r"(?P<word>[^\W_]+(?:'[^\W_]+)*)"
    r"|(?P<stop>[.!?…\n]+)"
    r"|(?P<clause>[,;:()\"«»]|\s[-–—]\s)"
)
WORD_RE = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
ELONGATED_RE = re.compile(r"(\w)\1{2,}")
HANDLE_RE = re.compile(r"(?<![\w@])@[\w.]+")
RETWEET_RE = re.compile(r"^\s*(?:rt|repost|репост)\s*@?[\w.]*:?\s*", re.IGNORECASE)
CYRILLIC_RE = re.compile(r"[а-яё]", re.IGNORECASE)
LATIN_RE = re.compile(r"[a-z]", re.IGNORECASE)


def squeeze(word: str) -> str:
    """Shorten letters repeated 3+ times to two ("gooood" → "good", "ужааас" → "ужаас")."""
    return ELONGATED_RE.sub(r"\1\1", word)


def words(text: str) -> list[str]:
    """The normalised words of a seed term or any short string (no positions)."""
    return WORD_RE.findall(normalize(text))


def strip_urls(text: str) -> str:
    return URL_RE.sub(" ", text)


@dataclass(slots=True)
class Tokens:
    """The words of a mention with what the sentiment rules need to know about each.

    `sentence` / `clause` number the segments a word sits in (negation never crosses a
    clause; topic tonality is judged per sentence); `caps` marks words the author wrote
    in capitals in an otherwise lower-case text (shouting); `stretched` marks
    elongated words ("sooo"); `alternatives` holds the once-squeezed spelling of a
    stretched word ("soo" → also try "so").
    """

    words: list[str] = field(default_factory=list)
    sentence: list[int] = field(default_factory=list)
    clause: list[int] = field(default_factory=list)
    caps: list[bool] = field(default_factory=list)
    stretched: list[bool] = field(default_factory=list)
    exclamations: int = 0
    questions: int = 0


def tokenize(text: str) -> Tokens:
    """Split a mention into words, sentences and clauses (links removed)."""
    raw = strip_urls(text) if "://" in text or "www." in text else text
    out = Tokens()
    sentence = clause = 0
    may_stretch = ELONGATED_RE.search(raw) is not None
    append_word, append_sentence = out.words.append, out.sentence.append
    append_clause, append_caps = out.clause.append, out.caps.append
    append_stretched = out.stretched.append
    for word, stop, _ in TOKEN_RE.findall(raw.replace("’", "'")):
        if word:
            low = word.lower()
            if "ё" in low:
                low = low.replace("ё", "е")
            stretched = False
            if may_stretch and len(low) > 2 and ELONGATED_RE.search(low):
                low = squeeze(low)
                stretched = True
            append_word(low)
            append_sentence(sentence)
            append_clause(clause)
            append_caps(len(word) > 1 and word.isupper() and word.isalpha())
            append_stretched(stretched)
        elif stop:
            out.exclamations += stop.count("!")
            out.questions += stop.count("?")
            sentence += 1
            clause += 1
        else:
            clause += 1
    if any(out.caps):
        # capitals mark shouting only in an otherwise lower-case text
        letters = sum(len(w) for w in out.words)
        upper = sum(len(w) for w, c in zip(out.words, out.caps, strict=True) if c)
        if letters and upper / letters > 0.6:
            out.caps = [False] * len(out.caps)
    return out


def script_counts(text: str) -> tuple[int, int]:
    """(Cyrillic letters, Latin letters) outside links and @handles."""
    body = HANDLE_RE.sub(" ", strip_urls(text))
    return len(CYRILLIC_RE.findall(body)), len(LATIN_RE.findall(body))


def normalize_url(url: str) -> str | None:
    """A link reduced to what identifies the story: host without `www.` + path.

    Query strings (utm tags, share ids) and fragments are dropped, so the same
    article shared from different places compares equal.
    """
    try:
        parts = urlsplit(url.strip().rstrip(".,;:!?)»\"'"))
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if not host and url.lower().startswith("www."):
        return normalize_url("http://" + url)
    host = host.removeprefix("www.").removeprefix("m.")
    if not host:
        return None
    path = parts.path.rstrip("/")
    return f"{host}{path}".lower()


def story_keys(text: str, url: str | None, min_words: int = 6) -> list[str]:
    """Keys under which reposts of the same story meet.

    * `u:<link>` for the mention's own URL and every link in its text: a media item
      and the tweets sharing it meet on the article's address;
    * `t:<hash>` for the wording, after dropping a leading `RT @x:`, links, @handles
      and punctuation, when at least `min_words` words remain: shorter texts ("не
      работает, ужас") are written independently by many people and are not reposts.
    """
    return with_url_key(text_story_keys(text, min_words), url)


def with_url_key(text_keys: tuple[str, ...], url: str | None) -> list[str]:
    """The story keys of a text (`text_story_keys`) with the mention's own link's."""
    if url:
        normalized = normalize_url(url)
        if normalized:
            return sorted({*text_keys, "u:" + normalized})
    return list(text_keys)


def text_story_keys(text: str, min_words: int = 6) -> tuple[str, ...]:
    """The story keys that depend on the text alone (its links and wording), sorted."""
    keys: set[str] = set()
    for link in URL_RE.findall(text or ""):
        normalized = normalize_url(link)
        # a bare host ("t.co") says nothing about the story
        if normalized and "/" in normalized:
            keys.add("u:" + normalized)
    body = RETWEET_RE.sub("", text or "")
    body = HANDLE_RE.sub(" ", strip_urls(body))
    content = words(body)
    if len(content) >= min_words:
        digest = hashlib.sha1(" ".join(content).encode("utf-8")).hexdigest()[:16]
        keys.add("t:" + digest)
    return tuple(sorted(keys))
