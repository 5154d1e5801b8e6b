"""One chat completion at a time through the openai SDK, against any OpenAI-compatible endpoint.

This is the only place code leaves the machine, so every message is redacted here.
SDK errors become :class:`LLMUnavailable` with a one-line reason for the summary.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Mapping

from reviewer.config import LLMConfig
from reviewer.llm.redact import redact

# Local servers (vLLM, Ollama, llama.cpp) ignore the key, but the SDK insists on one.
KEY_FOR_LOCAL_ENDPOINTS = "unused"
CHARS_PER_TOKEN = 4


class LLMUnavailable(Exception):
    """The endpoint cannot be used for this run; the message says why, in one line."""


@dataclass(frozen=True)
class Reply:
    text: str | None
    prompt_tokens: int
    completion_tokens: int
    truncated: bool  # the answer hit max_tokens
    estimated: bool  # the endpoint reported no usage; tokens were estimated from characters


def endpoint(config: LLMConfig, environ: Mapping[str, str] = os.environ) -> str | None:
    """llm.base_url, else OPENAI_BASE_URL as the SDK reads it; None means OpenAI's API."""
    return config.base_url or environ.get("OPENAI_BASE_URL") or None


class ChatClient:
    def __init__(self, config: LLMConfig, environ: Mapping[str, str] = os.environ) -> None:
        try:
            import openai
        except ImportError:
            raise LLMUnavailable("the openai package is not installed: pip install 'arch-review[llm]'") from None
        base_url = endpoint(config, environ)
        api_key = environ.get(config.api_key_env, "")
        if not api_key:
            if base_url is None:
                raise LLMUnavailable(f"{config.api_key_env} is not set")
            api_key = KEY_FOR_LOCAL_ENDPOINTS
        self._openai = openai
        self._config = config
        self._environ = environ
        self._client = openai.OpenAI(
            api_key=api_key,
            base_url=base_url,
            max_retries=config.max_retries,
            timeout=config.timeout,
        )

    def complete(self, system: str, user: str, *, timeout: float) -> Reply:
        messages = [
            {"role": "system", "content": redact(system, self._environ)},
            {"role": "user", "content": redact(user, self._environ)},
        ]
        try:
            response = self._client.chat.completions.create(
                model=self._config.model,
                messages=messages,
                # max_tokens, not max_completion_tokens: every compatible server reads it.
                max_tokens=self._config.max_tokens,
                timeout=timeout,
            )
        except self._openai.OpenAIError as exc:
            raise LLMUnavailable(self._reason(exc)) from None
        except ValueError as exc:  # a 200 whose body is not JSON
            raise LLMUnavailable(f"the endpoint's answer is not JSON ({type(exc).__name__})") from None
        return _reply(response, sum(len(m["content"]) for m in messages))

    def _reason(self, exc: Exception) -> str:
        openai = self._openai
        count = self._config.max_retries
        retries = f"after {count} {'retry' if count == 1 else 'retries'}"
        if isinstance(exc, openai.APITimeoutError):
            return f"the endpoint did not answer in time ({retries})"
        if isinstance(exc, openai.APIConnectionError):
            cause = exc.__cause__ or exc
            return f"cannot reach the endpoint ({type(cause).__name__}, {retries})"
        if isinstance(exc, openai.RateLimitError):
            return f"rate limited by the endpoint (HTTP 429, {retries})"
        if isinstance(exc, openai.AuthenticationError):
            return f"the endpoint refused the key in {self._config.api_key_env} (HTTP 401)"
        if isinstance(exc, openai.APIStatusError):
            retried = f", {retries}" if exc.status_code >= 500 else ""
            return f"the endpoint answered HTTP {exc.status_code}{retried}"
        return f"the endpoint's answer is not a chat completion ({type(exc).__name__})"


def _reply(response: Any, prompt_chars: int) -> Reply:
    choices = getattr(response, "choices", None) or []
    choice = choices[0] if choices else None
    message = getattr(choice, "message", None)
    text = getattr(message, "content", None)
    usage = getattr(response, "usage", None)
    prompt_tokens = getattr(usage, "prompt_tokens", None)
    completion_tokens = getattr(usage, "completion_tokens", None)
    estimated = not isinstance(prompt_tokens, int) or not isinstance(completion_tokens, int)
    if estimated:
        prompt_tokens = -(-prompt_chars // CHARS_PER_TOKEN)
        completion_tokens = -(-len(text or "") // CHARS_PER_TOKEN) if isinstance(text, str) else 0
    return Reply(
        text=text if isinstance(text, str) else None,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        truncated=getattr(choice, "finish_reason", None) == "length",
        estimated=estimated,
    )
