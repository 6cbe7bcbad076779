"""Remove secrets before anything is reported: every text of every output passes through
``redact`` (``report/inert.py`` applies it per output kind, names included).

Each pattern keeps what tells a reader which kind of secret stood there (``sk-``, ``ghp_``,
the assignment's key) and replaces the secret itself. The vendor prefixes follow the
providers' published token formats; the assignment pattern catches what has no prefix
(passwords, AWS secret keys, Azure keys) by the name it is assigned to.
"""

from __future__ import annotations

import re

_R = "***REDACTED***"
# Names a secret is assigned to: api_key, x-api-key, AZURE_OPENAI_API_KEY, aws_secret_access_key,
# client_secret, access_token, refresh_token, password, passwd, authorization, credentials.
# Bounded and started at a word's start: an unbounded ``[\w.-]*`` tried at every position of a
# long word is quadratic (a 5,000-character agent name took 15 s). No dot after the word:
# ``secret.txt: cannot read`` names a file, not a secret.
_SECRET_NAME = (
    r"(?<![\w.-])[\w.-]{0,40}?"
    r"(?:api[_-]?key|secret|password|passwd|pwd|token|authorization|credentials?)[\w-]{0,40}"
)
# A token starts where no letter or digit stands before it: ``transfer_to_ghp_...`` (a tool
# named after a token) has a word character before the prefix, so ``\b`` would miss it.
_START = "(?<![A-Za-z0-9])"
_ASSIGNED = ("key", "secret", "passw", "pwd", "token", "authoriz", "credential")
# (what the text must hold, lower-cased, for the pattern to be tried; pattern; replacement).
# ``str.lower`` and ``in`` scan a text at ~1 ns a character; a case-blind alternation of these
# words took 250 ns (1 s on a 4 MB tool result).
_PATTERNS: tuple[tuple[tuple[str, ...], re.Pattern[str], str], ...] = (
    # PEM private keys; a block cut short (an excerpt, a truncated log) is redacted to the end.
    (
        ("private key",),
        re.compile(
            r"-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----[\s\S]*?(?:-----END \1PRIVATE KEY-----|\Z)"
        ),
        r"-----BEGIN \1PRIVATE KEY----- " + _R,
    ),
    # OpenAI / Anthropic (sk-ant-) / DeepSeek keys.
    (("sk-",), re.compile(_START + r"sk-[A-Za-z0-9_\-]{16,}"), "sk-" + _R),
    (("aiza",), re.compile(_START + r"AIza[0-9A-Za-z_\-]{30,}"), "AIza" + _R),  # Google
    (
        ("ghp_", "gho_", "ghu_", "ghs_", "ghr_"),
        re.compile(_START + r"(gh[pousr]_)[A-Za-z0-9]{20,}"),
        r"\1" + _R,
    ),  # GitHub
    (("github_pat_",), re.compile(_START + r"github_pat_[A-Za-z0-9_]{20,}"), "github_pat_" + _R),
    (("xox",), re.compile(_START + r"(xox[abposre])-[A-Za-z0-9-]{8,}"), r"\1-" + _R),  # Slack
    (("hf_",), re.compile(_START + r"hf_[A-Za-z0-9]{20,}"), "hf_" + _R),  # Hugging Face
    (("gsk_",), re.compile(_START + r"gsk_[A-Za-z0-9]{20,}"), "gsk_" + _R),  # Groq
    (("r8_",), re.compile(_START + r"r8_[A-Za-z0-9]{20,}"), "r8_" + _R),  # Replicate
    # JWTs (and anything else made of three base64url parts whose header is JSON).
    (
        ("eyj",),
        re.compile(_START + r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
        _R,
    ),
    # AWS access key ids (long-term AKIA, temporary ASIA, and the other principal kinds).
    (
        ("akia", "asia", "agpa", "aida", "aroa", "anpa", "anva", "aipa"),
        re.compile(r"(?i)" + _START + r"(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[0-9A-Z]{16}\b"),
        _R,
    ),
    (
        ("bearer", "basic"),
        re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/\-]{8,}=*"),
        r"\1 " + _R,
    ),
    # A password in any URL or DSN: postgres://user:pass@host, https://bob:pw@x.
    (
        ("://",),
        re.compile(
            r"(?i)(?<![a-z0-9+.\-])([a-z][a-z0-9+.\-]{0,30}://[^\s:/@]{0,256}:)[^\s@/]{1,256}@"
        ),
        r"\1***@",
    ),
    # name = "a quoted value, spaces and all" / name: bare-value / 'name': 'value'.
    (
        _ASSIGNED,
        re.compile(
            rf"""(?i)(["']?{_SECRET_NAME}["']?\s*[:=]\s*)(?:"(?!\*\*\*)[^"\n]{{4,}}"|'(?!\*\*\*)[^'\n]{{4,}}')"""
        ),
        rf'\1"{_R}"',
    ),
    (
        _ASSIGNED,
        re.compile(rf"""(?i)(["']?{_SECRET_NAME}["']?\s*[:=]\s*)(?!\*\*\*)([^"'\s,;}}\]]{{6,}})"""),
        r"\1" + _R,
    ),
)


def redact(text: str) -> str:
    """Return ``text`` with every secret pattern replaced."""
    lowered = text.lower()
    for needs, pattern, replacement in _PATTERNS:
        if any(word in lowered for word in needs):
            text = pattern.sub(replacement, text)
    return text


# Read around an excerpt's window: a secret that starts inside it is redacted whole.
_MARGIN = 512


def excerpt(text: str | None, limit: int = 160) -> str:
    """A one-line, redacted excerpt of at most ``limit`` characters (``…`` when cut)."""
    if not text:
        return ""
    window = text[: limit * 4 + _MARGIN]
    if len(window) < len(text):
        # The cut may fall inside a secret that then no longer matches: drop the cut word.
        window = window[: max(window.rfind(" "), window.rfind("\n"), 0)]
    flat = " ".join(redact(window).split())
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1]
    space = cut.rfind(" ")
    # At a word's end where one ends in the last quarter; a long word is cut where it must.
    return (cut[:space] if space >= limit * 3 // 4 else cut) + "…"
