r"""Names and other free text made safe for the terminal, Markdown, HTML and figures.

Model, layer, chip and file names come from the user's files (an ONNX node name, a spec's
``name``, a report.json given to ``chipsim report``) and may hold anything. Before they are
shown:

- :func:`visible` writes every character that Python does not print as itself (control
  characters such as NUL, ESC and newline, bidirectional overrides such as U+202E, other
  invisible format characters, separators other than the space) as its escape, as ``repr``
  does (``\x00``, ``\n``, ``\u202e``), so nothing is hidden, reordered or sent to the
  terminal;
- :func:`markdown_text` does that and backslash-escapes the characters that would start
  Markdown markup (``\ ` * _ ] < | ~ & $``; an underscore inside a word is left alone, as
  it emphasizes nothing there, and so is a ``]`` not followed by ``(`` or ``[``), so a name
  renders as itself: ``<script>`` is text, ``|`` does not split a table cell, ``[a](b)`` is no
  link;
- :func:`markdown_code` puts text in a code span or block whose backtick fence is longer than
  any run of backticks in it;
- :func:`plot_text` is :func:`visible` with every ``$`` escaped, so that matplotlib draws a
  name as text instead of parsing it as mathematics (which fails on ``$\frac{$``).

Examples
--------
>>> print(visible("conv\u202e1\x00"))
conv\u202e1\x00
>>> print(markdown_text("a|b <script> x_y _z_"))
a\|b \<script> x_y \_z\_
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["visible", "markdown_text", "markdown_code", "plot_text"]

# Markdown punctuation that can open markup (CommonMark with GitHub's tables, strikethrough
# and math): escaped wherever it stands, except an underscore between two letters or digits
# (no emphasis there) and a ']' not followed by '(' or '[' (no link: the document defines no
# link references, and a name cannot define one, as it never starts a line)
_MARKUP = re.compile(r"[\\`*<|~&$]|\](?=[(\[])|(?<![^\W_])_|_(?![^\W_])")


_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(ch: str) -> str:
    code = ord(ch)
    if ch in _SHORT:
        return _SHORT[ch]
    return (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000
            else f"\\U{code:08x}")


def visible(text: Any) -> str:
    r"""``str(text)`` with every character that does not print as itself escaped.

    Examples
    --------
    >>> print(visible("x\ny\u2066"), visible("résumé ∑"))
    x\ny\u2066 résumé ∑
    """
    text = str(text)
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else _escape(ch) for ch in text)


def markdown_text(text: Any) -> str:
    r"""``str(text)`` as Markdown that renders as the text itself (:func:`visible` too).

    Examples
    --------
    >>> print(markdown_text("[x](http://e) ![i][r] [LG] **b** &amp; $1"))
    [x\](http://e) ![i\][r] [LG] \*\*b\*\* \&amp; \$1
    """
    return visible(_MARKUP.sub(lambda m: "\\" + m.group(), str(text)))


def markdown_code(text: Any, block: bool = False) -> str:
    """``text`` (:func:`visible`) as a Markdown code span, or a fenced code block (whose
    line breaks are kept).

    Examples
    --------
    >>> markdown_code("a`b"), markdown_code("`x")
    ('``a`b``', '`` `x ``')
    >>> print(markdown_code("chipsim run x", block=True))
    ```
    chipsim run x
    ```
    """
    text = ("\n".join(visible(line) for line in str(text).split("\n")) if block
            else visible(text))
    longest = max((len(run) for run in re.findall("`+", text)), default=0)
    if block:
        fence = "`" * max(3, longest + 1)
        return f"{fence}\n{text}\n{fence}"
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def plot_text(text: Any) -> str:
    r"""``text`` (:func:`visible`) as a matplotlib label that is drawn as written.

    Examples
    --------
    >>> print(plot_text("a$b$"))
    a\$b\$
    """
    return visible(text).replace("$", r"\$")
