"""Reading the gateway's nginx configuration without nginx: a parser for its directive
syntax and the location matching rules nginx applies to a request path."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

_PUNCTUATION = "{};"


@dataclass
class Directive:
    name: str
    arguments: list[str]
    block: list[Directive] | None = None

    def children(self, name: str) -> list[Directive]:
        return [child for child in self.block or [] if child.name == name]

    def child(self, name: str) -> Directive | None:
        found = self.children(name)
        return found[0] if found else None


@dataclass(frozen=True)
class _Token:
    text: str
    is_punctuation: bool = False


def _tokens(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char.isspace():
            index += 1
        elif char == "#":
            newline = text.find("\n", index)
            index = len(text) if newline == -1 else newline
        elif char in _PUNCTUATION:
            tokens.append(_Token(char, is_punctuation=True))
            index += 1
        elif char in "'\"":
            end = index + 1
            value: list[str] = []
            while end < len(text) and text[end] != char:
                if text[end] == "\\" and end + 1 < len(text):
                    end += 1
                value.append(text[end])
                end += 1
            if end >= len(text):
                raise ValueError(f"unclosed quote at offset {index}")
            tokens.append(_Token("".join(value)))
            index = end + 1
        else:
            end = index
            while end < len(text) and not text[end].isspace() and text[end] not in "{};'\"":
                if text.startswith("${", end):  # ${VAR} is part of the word
                    end = text.index("}", end) + 1
                else:
                    end += 1
            tokens.append(_Token(text[index:end]))
            index = end
    return tokens


def parse(text: str) -> list[Directive]:
    """The directives of a configuration file, blocks nested."""
    stack: list[list[Directive]] = [[]]
    words: list[str] = []
    for token in _tokens(text):
        if not token.is_punctuation:
            words.append(token.text)
        elif token.text == ";":
            if not words:
                raise ValueError("an empty directive")
            stack[-1].append(Directive(words[0], words[1:]))
            words = []
        elif token.text == "{":
            if not words:
                raise ValueError("a block without a name")
            directive = Directive(words[0], words[1:], [])
            stack[-1].append(directive)
            stack.append(directive.block)  # type: ignore[arg-type]
            words = []
        else:
            if words or len(stack) == 1:
                raise ValueError("unbalanced }")
            stack.pop()
    if words or len(stack) != 1:
        raise ValueError("the configuration ends inside a directive or block")
    return stack[0]


@dataclass
class Location:
    modifier: str  # "" (prefix), "=", "^~", "~", "~*", or "@" for a named location
    path: str
    directives: list[Directive] = field(default_factory=list)

    @classmethod
    def from_directive(cls, directive: Directive) -> Location:
        arguments = directive.arguments
        if len(arguments) == 2:
            modifier, path = arguments
        elif arguments[0].startswith("@"):
            modifier, path = "@", arguments[0]
        else:
            modifier, path = "", arguments[0]
        return cls(modifier, path, directive.block or [])

    def _argument_of(self, name: str) -> list[str] | None:
        found = [item for item in self.directives if item.name == name]
        return found[0].arguments if found else None

    @property
    def proxy_pass(self) -> str | None:
        arguments = self._argument_of("proxy_pass")
        return arguments[0] if arguments else None

    @property
    def upstream(self) -> str | None:
        """`catalog` for `proxy_pass http://catalog/...`."""
        return urlsplit(self.proxy_pass).hostname if self.proxy_pass else None

    def upstream_path(self, request_path: str) -> str:
        """The path the upstream receives: unchanged without a URI in proxy_pass, else the
        matched prefix replaced by that URI (nginx's rule)."""
        uri = urlsplit(self.proxy_pass or "").path
        if not uri:
            return request_path
        return uri + request_path[len(self.path) :]

    @property
    def returns(self) -> tuple[int, str] | None:
        arguments = self._argument_of("return")
        if not arguments:
            return None
        return int(arguments[0]), (arguments[1] if len(arguments) > 1 else "")


def locations(server: Directive) -> list[Location]:
    return [Location.from_directive(item) for item in server.children("location")]


def match(candidates: list[Location], path: str) -> Location | None:
    """The location nginx picks for `path`: an exact match, else the longest matching
    prefix. Regular-expression locations are refused (this gateway routes by prefix only,
    and leaving them out keeps this matcher complete)."""
    if any(location.modifier in ("~", "~*") for location in candidates):
        raise ValueError("regular-expression locations are not supported here")
    for location in candidates:
        if location.modifier == "=" and location.path == path:
            return location
    prefixes = [
        location
        for location in candidates
        if location.modifier in ("", "^~") and path.startswith(location.path)
    ]
    return max(prefixes, key=lambda location: len(location.path), default=None)
