from html.parser import HTMLParser

import pytest

from threads.markdown import render_markdown


class _Elements(HTMLParser):
    """Collects the real elements of rendered HTML, so escaped text that merely looks like a tag is ignored."""

    def __init__(self, html):
        super().__init__()
        self.elements = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))


def elements(html):
    return _Elements(html).elements


@pytest.mark.parametrize("body", [
    "<script>alert(1)</script>",
    "Hello <script src='https://evil.example/x.js'></script> there",
    "```\n</code></pre><script>alert(1)</script>\n```",
])
def test_render_markdown_strips_script(body):
    html = render_markdown(body)

    assert "script" not in [tag for tag, _ in elements(html)]


@pytest.mark.parametrize("body", [
    "<img src=x onerror=alert(1)>",
    '<a href="https://example.org" onclick="steal()">click</a>',
    '![x](https://example.org/x.png "t" onerror=alert(1))',
    '<p onmouseover="alert(1)">hover</p>',
])
def test_render_markdown_strips_event_handler_attributes(body):
    html = render_markdown(body)

    for tag, attrs in elements(html):
        assert not [name for name in attrs if name.startswith("on")], (tag, attrs)
    assert "img" not in [tag for tag, _ in elements(html)]


@pytest.mark.parametrize("body", [
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "<javascript:alert(1)>",
    '<a href="javascript:alert(1)">click</a>',
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
])
def test_render_markdown_drops_javascript_links(body):
    html = render_markdown(body)

    for tag, attrs in elements(html):
        href = (attrs.get("href") or "").strip().lower()
        assert not href.startswith(("javascript:", "data:")), (tag, attrs)


def test_render_markdown_keeps_bold_links_and_quotes():
    html = render_markdown(
        "We use **grounding exercises** first.\n\n"
        "See [the toolkit](https://example.org/toolkit).\n\n"
        "> What helped most was time."
    )

    found = elements(html)
    assert ("strong", {}) in found
    assert "<strong>grounding exercises</strong>" in html
    links = [attrs for tag, attrs in found if tag == "a"]
    assert links[0]["href"] == "https://example.org/toolkit"
    assert "nofollow" in links[0]["rel"]
    assert "blockquote" in [tag for tag, _ in found]
    assert "What helped most was time." in html
