from __future__ import annotations

import time

import pytest

from analyzer.redact import excerpt, redact

from .fuzz.mutate import SECRET_CORES, SECRETS


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


@pytest.mark.parametrize("kind", sorted(SECRETS))
def test_every_kind_of_secret_is_redacted_alone_and_in_an_excerpt(kind: str) -> None:
    secret, core = SECRETS[kind], SECRET_CORES.get(kind, SECRETS[kind])
    text = f"the tool said: {secret} and went on"
    assert core not in redact(text)
    assert core not in excerpt(text)
    assert core not in excerpt("x " * 70 + text, 160)


def test_an_excerpt_cut_inside_a_secret_shows_none_of_it() -> None:
    key = SECRETS["openai"]
    for pad in range(600, 700, 7):
        shown = excerpt("word " * (pad // 5) + key + " tail", 160)
        assert key[:12] not in shown


@pytest.mark.parametrize("word", ["x" * 300_000, "key" + "a" * 300_000, "http" * 80_000 + "://"])
def test_redaction_is_linear_on_long_words(word: str) -> None:
    started = time.perf_counter()
    redact(word + " api_key")
    assert time.perf_counter() - started < 1.0


def test_file_names_and_prose_about_secrets_are_left_alone() -> None:
    for text in ("logs/secret.txt: cannot read", "the token count is 12", "password reset flow"):
        assert redact(text) == text


@pytest.mark.parametrize("kind", ["github", "openai", "huggingface", "groq", "aws_temp_id", "jwt"])
def test_a_token_glued_to_a_name_by_an_underscore_is_redacted(kind: str) -> None:
    # Found by the fuzz campaign (seed 7, case 8255): a handoff tool named after a token,
    # ``transfer_to_ghp_...``, has a word character before the prefix.
    core = SECRET_CORES.get(kind, SECRETS[kind])
    assert core not in redact(f"handoff via transfer_to_{SECRETS[kind]}")
