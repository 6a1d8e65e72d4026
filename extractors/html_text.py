"""HTML fragments as plain text: shared by the sources whose texts arrive as HTML
(RSS/Atom bodies, Mastodon statuses through rest_api), so both read words the same way."""

from __future__ import annotations

from html.parser import HTMLParser


class _TextOnly(HTMLParser):
    """Keeps the text of an HTML fragment: block tags become line breaks, scripts vanish."""

    BLOCK = frozenset(
        {"p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6"}
        | {"tr", "table", "blockquote", "section", "article", "pre", "hr"}
    )
    SKIP = frozenset({"script", "style", "noscript", "template"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self.skipping += 1
        elif tag in self.BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self.BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def html_to_text(value: str | None) -> str | None:
    """Plain text of an HTML fragment: tags dropped, entities unescaped, spaces tidied.

    Brand matching and sentiment read words, not markup; ``&nbsp;`` and ``&laquo;``
    must become the characters the writer meant.
    """
    if not value:
        return None
    if "<" in value or "&" in value:
        parser = _TextOnly()
        parser.feed(value)
        parser.close()
        value = "".join(parser.parts)
    lines = (" ".join(line.split()) for line in value.splitlines())
    text = "\n".join(line for line in lines if line)
    return text or None
