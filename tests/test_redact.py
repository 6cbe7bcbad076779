from __future__ import annotations

import pytest

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


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("note sk-AbCdEfGhIjKlMnOpQrSt12 end", "AbCdEfGhIjKlMnOp"),
        ("BEARER abcdefghijklmnop", "abcdefghijklmnop"),
        ("Password = hunter22x", "hunter22x"),
        ("ACCESS-TOKEN: abcdef123", "abcdef123"),
        ("Api-Key=zzzzzz999", "zzzzzz999"),
        ("'Secret': 'qwerty12'", "qwerty12"),
        ("AUTHORIZATION: xyz123456", "xyz123456"),
        ("id akiaabcdefghijklmnop here", "akiaabcdefghijklmnop"),
        ("HTTPS://bob:hunter2@db.internal", "hunter2"),
    ],
)
def test_each_secret_form_alone_and_in_any_case_is_redacted(text: str, secret: str) -> None:
    # Text with none of the patterns' words skips the patterns: each form on its own (no
    # other pattern's word in the text to let it through) must still be caught.
    assert secret not in redact(text)
    if not text.startswith("note sk-"):  # OpenAI keys are lower-case "sk-"; the rest any case
        assert secret.swapcase() not in redact(text.swapcase())


def test_text_with_no_secret_is_returned_as_is() -> None:
    text = "The tool returned 42 rows; retrying with skip=10 and sk = 3"
    assert redact(text) is text
