"""The text of a formula: tokens, the ``implies`` rewrite, and columns back to the user's text.

Python has no ``implies`` operator, so `rewrite_implies` rewrites the formula token by token,
``p implies q`` becoming ``__implies__(p, q)`` (``implies`` right after an operand is the infix
keyword, even before a parenthesis; elsewhere ``implies(p, q)`` is the call form).  `Source`
holds the rewritten text with the map from its offsets to the user's, and `Located` is an error
at an offset of the user's text; `tcpmodel.formula` turns it into ``column N: ...``.
"""

from __future__ import annotations

import ast
import io
import tokenize

IMPLIES = "__implies__"


class Located(Exception):
    def __init__(self, offset: int, message: str) -> None:
        super().__init__(message)
        self.offset = offset
        self.message = message


class Source:
    """The rewritten formula with the map back to the user's text.

    ``cmap[k]`` is the offset in the original text of the character at offset ``k`` of ``text``;
    `ast` reports columns in UTF-8 bytes, which `node` converts to characters first.
    """

    def __init__(self, text: str, cmap: list[int]) -> None:
        self.text = text
        self.cmap = cmap
        self.raw = text.encode("utf-8")

    def orig(self, char_off: int) -> int:
        return self.cmap[max(0, min(char_off, len(self.cmap) - 1))] if self.cmap else 0

    def char(self, byte_off: int) -> int:
        return len(self.raw[:byte_off].decode("utf-8", errors="ignore"))

    def node(self, n: ast.AST) -> int:
        """The original offset where ``n`` starts."""
        return self.orig(self.char(getattr(n, "col_offset", 0)))

    def after(self, n: ast.AST) -> int:
        """The original offset of the first token after ``n`` (an operator following it)."""
        k = self.char(getattr(n, "end_col_offset", None) or 0)
        while k < len(self.text) and self.text[k] in " )":
            k += 1
        return self.orig(k)


def syntax_error(
    e: SyntaxError, src: Source, flat: str, toks: list[tuple[int, int, str, int]]
) -> Located:
    # Python reports offset 0 (or past the end) when the text ends in mid-expression.
    off = src.orig(e.offset - 1) if e.offset else len(flat)
    if off >= len(flat.rstrip()):
        return Located(
            len(flat.rstrip()),
            "the formula ends too early; expected a predicate or operand to complete it",
        )
    tok = next((t for s, end, t, _ in toks if s <= off < end), flat[off])
    return Located(
        off,
        f"syntax error at {tok!r}; expected a state predicate built from names, integers, "
        "comparisons (== != < <= > >=), and/or/not/implies, + - * and parentheses",
    )


_OPERAND_END = (tokenize.NUMBER, tokenize.STRING)
_KEYWORDS = frozenset({"and", "or", "not", "if", "else", "in", "is", "lambda", "implies"})
_CLOSE = {"(": ")", "[": "]", "{": "}"}

Span = tuple[int, int, str, int]  # start, end, text, token type


def _tokens(text: str) -> list[Span]:
    """The tokens of ``text``, after checking that its brackets balance."""
    toks: list[tokenize.TokenInfo] = []
    failed = False
    try:
        for t in tokenize.generate_tokens(io.StringIO(text).readline):
            toks.append(t)
    except (tokenize.TokenError, SyntaxError):
        failed = True
    skip = (tokenize.NEWLINE, tokenize.NL, tokenize.ENDMARKER, tokenize.INDENT, tokenize.DEDENT)
    spans = [(t.start[1], t.end[1], t.string, t.type) for t in toks if t.type not in skip]
    stack: list[Span] = []
    for sp in spans:
        tok = sp[2]
        if tok in _CLOSE:
            stack.append(sp)
        elif tok in (")", "]", "}"):
            if not stack:
                raise Located(sp[0], f"unmatched {tok!r}; expected it to close an opening bracket")
            want = _CLOSE[stack[-1][2]]
            if tok != want:
                raise Located(sp[0], f"{tok!r} does not match {stack[-1][2]!r}; expected {want!r}")
            stack.pop()
    if stack:
        raise Located(
            stack[-1][0], f"{stack[-1][2]!r} is never closed; expected {_CLOSE[stack[-1][2]]!r}"
        )
    if failed:
        raise Located(len(text.rstrip()), "the formula is incomplete; expected more after this")
    for s, _, tok, typ in spans:
        if typ == tokenize.NAME and tok.startswith("__"):
            raise Located(s, f"{tok!r}: names starting with __ are reserved; expected a name")
    return spans


def rewrite_implies(text: str) -> tuple[Source, list[Span]]:
    """Rewrite ``p implies q`` as ``__implies__(p, q)``; return the text with its column map.

    ``implies`` is the infix keyword unless it is written as a call, ``implies(p, q)``, where
    no operand precedes it.
    """
    spans = _tokens(text)
    pieces = _rewrite(spans, 0, len(spans), text)
    out: list[str] = []
    cmap: list[int] = []
    for s, origin in pieces:
        out.append(s)
        for k in range(len(s)):
            cmap.append(origin + k if origin >= 0 else -origin - 1)
    cmap.append(len(text))
    return Source("".join(out), cmap), spans


Piece = tuple[str, int]  # text, and its offset in the original (or -(offset+1) for inserted)


def _ends_operand(sp: Span) -> bool:
    _, _, tok, typ = sp
    if typ == tokenize.NAME:
        return tok not in _KEYWORDS
    return typ in _OPERAND_END or tok in (")", "]", "}")


def _start(p: list[Piece], default: int) -> int:
    """The original offset of the first non-blank piece of ``p``."""
    for t, origin in p:
        if t.strip():
            return origin if origin >= 0 else -origin - 1
    return default


def _rewrite(spans: list[Span], i: int, j: int, text: str) -> list[Piece]:
    """Rewrite tokens ``spans[i:j]`` (a balanced sequence)."""
    # Split at top-level commas and `implies` keywords; recurse into bracket groups.
    items: list[list[Piece]] = [[]]
    seps: list[Piece] = []
    cuts_of: list[list[tuple[int, int]]] = [[]]  # per item: (piece index, offset of `implies`)
    k = i
    while k < j:
        s, e, tok, typ = spans[k]
        # keep the gap (spaces) before the token so that `not a` stays two words
        prev_end = spans[k - 1][1] if k > i else s
        if k > i and s > prev_end:
            items[-1].append((" " * (s - prev_end), prev_end))
        if tok in _CLOSE:
            close = _match(spans, k)
            items[-1].append((text[s:e], s))
            items[-1].extend(_rewrite(spans, k + 1, close, text))
            cs, ce, _, _ = spans[close]
            items[-1].append((text[cs:ce], cs))
            k = close + 1
            continue
        if tok == ",":
            seps.append((",", s))
            items.append([])
            cuts_of.append([])
            k += 1
            continue
        if typ == tokenize.NAME and tok == "implies":
            after_operand = k > i and _ends_operand(spans[k - 1]) and spans[k - 1][2] != ","
            after_dot = k > i and spans[k - 1][2] == "."
            is_call = not after_operand and k + 1 < j and spans[k + 1][2] == "("
            if not after_dot and not is_call:
                cuts_of[-1].append((len(items[-1]), s))
                k += 1
                continue
        items[-1].append((text[s:e], s))
        k += 1
    out: list[Piece] = []
    for n, item in enumerate(items):
        if n:
            out.append(seps[n - 1])
        cuts = cuts_of[n]
        if not cuts:
            out.extend(item)
            continue
        parts: list[list[Piece]] = []
        last = 0
        for c, _ in cuts:
            parts.append(item[last:c])
            last = c
        parts.append(item[last:])
        for (_, where), p in zip(cuts, parts[:-1], strict=True):
            if not "".join(t for t, _ in p).strip():
                raise Located(
                    where, "`implies` needs a predicate on each side; expected p implies q"
                )
            out.append(("__implies__(", -(_start(p, where) + 1)))
            out.extend(p)
            out.append((", ", -(where + 1)))
        if not "".join(t for t, _ in parts[-1]).strip():
            raise Located(
                cuts[-1][1], "`implies` needs a predicate on each side; expected p implies q"
            )
        out.extend(parts[-1])
        out.append((")" * len(cuts), -(cuts[-1][1] + 1)))
    return out


def _match(spans: list[Span], k: int) -> int:
    """The index of the bracket closing ``spans[k]`` (brackets are known to balance)."""
    depth = 0
    for m in range(k, len(spans)):
        tok = spans[m][2]
        if tok in _CLOSE:
            depth += 1
        elif tok in (")", "]", "}"):
            depth -= 1
            if depth == 0:
                return m
    raise Located(spans[k][0], f"{spans[k][2]!r} is never closed")  # pragma: no cover
