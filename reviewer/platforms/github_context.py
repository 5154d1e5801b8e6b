"""Which pull request a run reviews: from the Actions environment, or from flags on a laptop.

In Actions, GITHUB_EVENT_PATH holds the pull_request (or pull_request_target) event
with the PR number, base and head sha; GITHUB_REPOSITORY and GITHUB_API_URL name the
repository and the API (GitHub Enterprise: https://HOST/api/v3); GITHUB_TOKEN the token.
Flags win over the environment. When only --pr is known, the shas come from the API.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, replace
from typing import Mapping

from reviewer.commands.errors import UsageError

PUBLIC_API = "https://api.github.com"
PR_EVENTS = ("pull_request", "pull_request_target")
_REPO = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")
_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


@dataclass(frozen=True)
class PullContext:
    repo: str
    number: int
    api_url: str
    token: str | None
    base_sha: str | None = None
    head_sha: str | None = None
    head_repo: str | None = None
    event_name: str | None = None

    @property
    def is_fork(self) -> bool:
        return self.head_repo is not None and self.head_repo.lower() != self.repo.lower()


class NoPullRequest(Exception):
    """The run is not about a pull request (a push event): there is nothing to publish."""


def api_base_url(url: str) -> str:
    """An API URL from what a user gives: api.github.com, or an Enterprise host (-> /api/v3)."""
    url = url.strip().rstrip("/")
    if not re.match(r"https?://", url):
        url = "https://" + url
    host_only = re.fullmatch(r"https?://[^/]+", url)
    if host_only and url.split("://", 1)[1].lower() not in ("api.github.com", "github.com"):
        return url + "/api/v3"
    if url.lower() in ("https://github.com", "http://github.com"):
        return PUBLIC_API
    return url


def load_context(
    *,
    repo: str | None = None,
    number: int | None = None,
    github_url: str | None = None,
    environ: Mapping[str, str] = os.environ,
) -> PullContext:
    event = _read_event(environ)
    event_name = environ.get("GITHUB_EVENT_NAME")
    pull = event.get("pull_request") if isinstance(event.get("pull_request"), dict) else None
    repo = repo or environ.get("GITHUB_REPOSITORY") or _get(event, "repository", "full_name")
    if not repo or not _REPO.fullmatch(repo):
        raise UsageError(
            f"--repo: expected OWNER/NAME, got {repo!r}" if repo else
            "no repository: pass --repo OWNER/NAME (in GitHub Actions GITHUB_REPOSITORY is set)"
        )
    if number is None and pull is not None:
        number = pull.get("number") or event.get("number")
    if number is None:
        if event_name and event_name not in PR_EVENTS:
            raise NoPullRequest(f"the {event_name} event is not a pull request")
        raise UsageError("no pull request: pass --pr NUMBER (in GitHub Actions, run on pull_request)")
    api_url = api_base_url(github_url) if github_url else (environ.get("GITHUB_API_URL") or PUBLIC_API).rstrip("/")
    token = environ.get("GITHUB_TOKEN") or environ.get("GH_TOKEN") or None
    context = PullContext(repo=repo, number=int(number), api_url=api_url, token=token, event_name=event_name)
    if pull is not None and int(pull.get("number", number)) == int(number):
        context = replace(
            context,
            base_sha=_sha(_get(pull, "base", "sha")),
            head_sha=_sha(_get(pull, "head", "sha")),
            head_repo=_get(pull, "head", "repo", "full_name"),
        )
    return context


def _read_event(environ: Mapping[str, str]) -> dict:
    path = environ.get("GITHUB_EVENT_PATH")
    if not path:
        return {}
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read the event file GITHUB_EVENT_PATH={path}: {exc}") from None
    return data if isinstance(data, dict) else {}


def _get(data, *keys):
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _sha(value) -> str | None:
    return value if isinstance(value, str) and _SHA.fullmatch(value) else None
