from __future__ import annotations

from analyzer.redact import excerpt, redact


def test_redacts_keys_tokens_and_url_passwords() -> None:
    text = (
        'api_key="sk-proj-AbCdEfGhIjKlMnOpQrSt12" Authorization: Bearer abcdefghijklmnop.qrs '
        "https://bob:hunter2@db.internal/x AKIAABCDEFGHIJKLMNOP"
    )
    out = redact(text)
    for secret in ("AbCdEfGhIjKl", "abcdefghijklmnop", "hunter2", "AKIAABCDEFGHIJKLMNOP"):
        assert secret not in out


def test_excerpt_is_one_line_and_cut() -> None:
    assert excerpt("a\nb   c") == "a b c"
    cut = excerpt("x" * 500)
    assert len(cut) == 160 and cut.endswith("…")
