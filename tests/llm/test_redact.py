"""What is redacted before code leaves the machine, and what is left for the model to read."""

from __future__ import annotations

import time

import pytest

from reviewer.llm.redact import REDACTED, is_secret_name, redact


@pytest.mark.parametrize(
    "code, secret",
    [
        ('API_KEY = "abc123secretvalue"', "abc123secretvalue"),
        ('client = OpenAI(api_key="not-a-known-format")', "not-a-known-format"),
        ("hf_token: str = 'plain-value'", "plain-value"),
        ('config = {"password": "hunter2"}', "hunter2"),
        ('DB_PASSWORD="pw"', "pw"),
        ('engine = create_engine("postgresql://ml:s3cret@db:5432/x")', "s3cret"),
        ('url = "redis://:onlypassword@cache:6379/0"', "onlypassword"),
        ('conn = "Server=tcp:x;Database=d;User ID=u;Password=S3cr3t!;"', "S3cr3t!"),
        ('conn = "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=bWFkZS11cA==;"', "bWFkZS11cA=="),
        ('requests.get(u, headers={"Authorization": "Bearer abcdefghijklmnop"})', "abcdefghijklmnop"),
        ('requests.get(u, auth=("user", "pw12345"))', "pw12345"),
        ('url = "https://api.example.com/v1?token=abc123&page=2"', "abc123"),
        ('gh = "ghp_0123456789abcdefghijABCDEFGHIJ012345"', "ghp_0123456789abcdefghijABCDEFGHIJ012345"),
        ('key = "sk-proj-AbCdEfGhIjKlMnOpQrStUvWx"', "sk-proj-AbCdEfGhIjKlMnOpQrStUvWx"),
        ('aws = "AKIAIOSFODNN7EXAMPLE"', "AKIAIOSFODNN7EXAMPLE"),
        ('g = "glpat-abcdefghij0123456789"', "glpat-abcdefghij0123456789"),
        ('s = "xoxb-123456789012-abcdefghij"', "xoxb-123456789012-abcdefghij"),
        ('jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJlXw"', "eyJhbGciOiJIUzI1NiJ9"),
        ('blob = "3f2a9c0b8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a"', "3f2a9c0b8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a"),
        ("KEY = '''-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----'''", "MIIEowIBAAKCAQEA"),
    ],
)
def test_secrets_are_redacted(code, secret):
    redacted = redact(code, environ={})
    assert secret not in redacted
    assert REDACTED in redacted


@pytest.mark.parametrize(
    "code",
    [
        "max_tokens = 400",
        'tokenizer = AutoTokenizer.from_pretrained("bert-base-uncased")',
        'author = "Jane Doe"',
        'cache_key = "users"',
        "password = get_password()",
        'token = os.environ["HF_TOKEN"]',
        'requests.get("https://features.internal/users", timeout=5)',
        'engine = create_engine("postgresql://db.internal:5432/features")',
    ],
)
def test_code_that_holds_no_secret_is_left_alone(code):
    assert redact(code, environ={}) == code


def test_values_of_secret_environment_variables_are_redacted_wherever_they_appear():
    environ = {"GITHUB_TOKEN": "value-of-the-token-1", "HOME": "/home/user", "MY_API_KEY": "short"}
    text = "# pasted value-of-the-token-1 into a comment\nroot = '/home/user'\nx = 'short'"
    redacted = redact(text, environ)
    assert "value-of-the-token-1" not in redacted
    assert "/home/user" in redacted  # not a secret's name
    assert "'short'" in redacted  # too short to be anyone's secret; replacing it would mangle code


@pytest.mark.parametrize(
    "name, secret",
    [("api_key", True), ("apiKey", True), ("OPENAI_API_KEY", True), ("hfToken", True), ("DB_PASSWORD", True),
     ("client_secret", True), ("max_tokens", False), ("tokenizer", False), ("author", False),
     ("cache_key", False), ("key", False), ("bypass", False)],
)
def test_secret_names(name, secret):
    assert is_secret_name(name) is secret


@pytest.mark.parametrize("piece", ["a", "a.b-c", "eyJ", "x=", "a: ", "Bearer ", "'", "https://a:", "1"])
def test_redacting_a_huge_line_costs_little(piece):
    started = time.perf_counter()
    redact(piece * (20_000 // len(piece)), environ={})
    assert time.perf_counter() - started < 2  # a quadratic pattern took over a minute here
