"""Which merge request a run reviews: from GitLab CI's predefined variables, or from flags.

In a merge_request_event pipeline GitLab sets CI_MERGE_REQUEST_IID, CI_PROJECT_ID, the
diff base (CI_MERGE_REQUEST_DIFF_BASE_SHA, the merge-base) and the commit under test:
CI_COMMIT_SHA, or in a merged results pipeline CI_MERGE_REQUEST_SOURCE_BRANCH_SHA (the
source branch head; CI_COMMIT_SHA is then GitLab's merge commit). CI_API_V4_URL names the
API of the instance the job runs on (self-managed: https://HOST[/PREFIX]/api/v4).
Flags win over the environment.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Mapping

from reviewer.commands.errors import UsageError

GITLAB_COM = "https://gitlab.com"
TOKEN_VARIABLES = ("ARCH_REVIEW_GITLAB_TOKEN", "GITLAB_TOKEN")
_PROJECT = re.compile(r"[0-9]+|[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)+")
_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


@dataclass(frozen=True)
class MergeRequestContext:
    server_url: str  # without /api/v4: python-gitlab adds it
    project: str  # numeric id or full path (group/subgroup/name)
    iid: int
    token: str | None = None
    job_token: bool = False  # the token is CI_JOB_TOKEN, which cannot write discussions
    base_sha: str | None = None
    pipeline_sha: str | None = None
    ca_file: str | None = None

    @property
    def api_url(self) -> str:
        return self.server_url + "/api/v4"

    @property
    def name(self) -> str:
        return f"{self.project}!{self.iid}"


class NoMergeRequest(Exception):
    """The pipeline is not for a merge request (a branch pipeline): there is nothing to publish."""


def server_url(url: str) -> str:
    """The instance URL from what a user gives: a host, https://host/prefix, or an .../api/v4 URL."""
    url = url.strip().rstrip("/")
    if not re.match(r"https?://", url):
        url = "https://" + url
    url = url.removesuffix("/api/v4")
    return url


def load_context(
    *,
    url: str | None = None,
    project: str | None = None,
    iid: int | None = None,
    environ: Mapping[str, str] = os.environ,
) -> MergeRequestContext:
    project = project or environ.get("CI_PROJECT_ID") or environ.get("CI_PROJECT_PATH")
    if not project or not _PROJECT.fullmatch(project):
        raise UsageError(
            f"--project: expected a project id or GROUP/NAME path, got {project!r}" if project else
            "no project: pass --project ID-or-PATH (in GitLab CI, CI_PROJECT_ID is set)"
        )
    from_ci = iid is None
    if iid is None and environ.get("CI_MERGE_REQUEST_IID", "").isdigit():
        iid = int(environ["CI_MERGE_REQUEST_IID"])
    if iid is None:
        if environ.get("GITLAB_CI"):
            source = environ.get("CI_PIPELINE_SOURCE") or "branch"
            raise NoMergeRequest(f"this {source} pipeline is not for a merge request")
        raise UsageError("no merge request: pass --mr IID (in GitLab CI, run in a merge_request_event pipeline)")
    instance = server_url(url or environ.get("CI_API_V4_URL") or environ.get("CI_SERVER_URL") or GITLAB_COM)
    token = next((environ[name] for name in TOKEN_VARIABLES if environ.get(name)), None)
    job_token = token is None and bool(environ.get("CI_JOB_TOKEN"))
    return MergeRequestContext(
        server_url=instance,
        project=project,
        iid=iid,
        token=token or environ.get("CI_JOB_TOKEN") or None,
        job_token=job_token,
        base_sha=_sha(environ.get("CI_MERGE_REQUEST_DIFF_BASE_SHA")) if from_ci else None,
        pipeline_sha=_sha(environ.get("CI_MERGE_REQUEST_SOURCE_BRANCH_SHA") or environ.get("CI_COMMIT_SHA"))
        if from_ci else None,
        ca_file=environ.get("CI_SERVER_TLS_CA_FILE") or None,
    )


def _sha(value: str | None) -> str | None:
    return value if value and _SHA.fullmatch(value) else None
