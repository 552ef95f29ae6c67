"""Words as discovery reads them: hashtags in captions, search queries, and the
trigrams that let a one-letter typo still find a handle or a hashtag.

Everything is normalized here, in Python (NFKC, then case folding), rather than in
PostgreSQL, whose lower-casing depends on the database's locale: the embedded server
and a production one must find the same things.
"""

from __future__ import annotations

import unicodedata

MAX_HASHTAG_LENGTH = 100
MAX_QUERY_LENGTH = 200
MAX_QUERY_WORDS = 8


def _is_word_character(character: str) -> bool:
    """Letters (with their combining marks, which scripts such as Devanagari need),
    digits and underscore."""
    category = unicodedata.category(character)
    return category[0] in "LM" or category == "Nd" or character == "_"


def normalized(text: str) -> str:
    """One spelling per word: compatibility forms folded (full-width letters, ligatures),
    then case folded (`ß` → `ss`, `İ` → `i̇`)."""
    return unicodedata.normalize("NFKC", text).casefold()


def hashtag_normalize(text: str) -> str | None:
    """A hashtag as stored (`#TikTokMadeMeBuyIt` → `tiktokmademebuyit`), or None when the
    text is not one: after any leading `#`, only letters, digits and underscore, with at
    least one letter (`#2024` is a number, not a tag), at most 100 characters."""
    tag = normalized(text).lstrip("#")
    if not tag or len(tag) > MAX_HASHTAG_LENGTH:
        return None
    if not all(_is_word_character(character) for character in tag):
        return None
    if not any(unicodedata.category(character)[0] == "L" for character in tag):
        return None
    return tag


def hashtags_parse(caption: str) -> list[str]:
    """The distinct hashtags of a caption in order of first use. A tag starts at a `#`
    that does not follow a word character (`page#2` is not a tag; `##tag` is `tag`) and
    runs over letters, digits and underscore; a `#` with none after it is no tag."""
    text = normalized(caption)
    tags: list[str] = []
    position = 0
    while (start := text.find("#", position)) != -1:
        end = start
        while end < len(text) and text[end] == "#":
            end += 1
        word_end = end
        while word_end < len(text) and _is_word_character(text[word_end]):
            word_end += 1
        follows_word = start > 0 and _is_word_character(text[start - 1])
        tag = hashtag_normalize(text[end:word_end]) if word_end > end else None
        if tag is not None and not follows_word and tag not in tags:
            tags.append(tag)
        position = max(word_end, start + 1)
    return tags


def words(text: str) -> list[str]:
    """The words of a text as search indexes them: normalized, split at anything that
    is not a letter, digit or underscore (`clara.beauty` → `clara`, `beauty`)."""
    found: list[str] = []
    current: list[str] = []
    for character in normalized(text) + " ":
        if _is_word_character(character):
            current.append(character)
        elif current:
            found.append("".join(current))
            current = []
    return found


def trigrams(word: str) -> list[str]:
    """The word's trigrams as pg_trgm takes them (two spaces before, one after), sorted
    and distinct: `abc` → `  a`, ` ab`, `abc`, `bc `."""
    padded = f"  {word} "
    return sorted({padded[index : index + 3] for index in range(len(padded) - 2)})


def similarity(first: str, second: str) -> float:
    """pg_trgm's similarity: shared trigrams over all trigrams of the two words."""
    a, b = set(trigrams(first)), set(trigrams(second))
    return len(a & b) / len(a | b) if a | b else 0.0


def lexeme_quoted(word: str) -> str:
    """A word as a quoted lexeme of a tsvector or tsquery literal."""
    return "'" + word.replace("\\", "\\\\").replace("'", "''") + "'"
