"""Manifests -> declared dependencies, line by line; service clients by distribution and import."""

import pytest

from reviewer.manifests import dependencies, manifest_kind
from reviewer.service_clients import client_for_distribution, client_used_on


def names(path, text):
    return [(d.line, d.name, d.section, d.dev) for d in dependencies(path, text)]


@pytest.mark.parametrize("path, kind", [
    ("requirements.txt", "requirements"), ("requirements-dev.txt", "requirements"),
    ("requirements/serve.in", "requirements"), ("svc/pyproject.toml", "pyproject"), ("setup.cfg", "setup.cfg"),
    ("environment.yml", "conda"), ("environment-gpu.yaml", "conda"), ("Pipfile", "pipfile"),
    ("notes.txt", None), ("setup.py", None), ("docs/requirements.md", None),
])
def test_manifest_kind(path, kind):
    assert manifest_kind(path) == kind


def test_requirements_lines_skip_options_urls_and_comments():
    text = "# pinned\n-r base.txt\n--extra-index-url https://x\ntorch==2.3.1 ; python_version>'3.8'\nPyYAML>=6\n" \
           "git+https://github.com/a/b.git\n./local-pkg\nuvicorn[standard]~=0.30  # server\n"
    assert names("requirements.txt", text) == [(4, "torch", "", False), (5, "pyyaml", "", False),
                                               (8, "uvicorn", "", False)]
    assert all(d.dev for d in dependencies("requirements-test.txt", "pytest\n"))
    assert all(d.dev for d in dependencies("requirements/docs.txt", "sphinx\n"))


def test_pyproject_sections():
    text = (
        '[build-system]\nrequires = ["hatchling"]\n\n'
        '[project]\nname = "svc"\ndependencies = [\n    "fastapi>=0.110",  # web\n    "Pydantic_Settings",\n]\n\n'
        '[project.optional-dependencies]\nserve = ["uvicorn", "redis>=5"]\ndev = [\n  "pytest",\n]\n\n'
        '[tool.poetry.dependencies]\npython = "^3.11"\nhttpx = "^0.27"\n\n'
        '[tool.poetry.group.dev.dependencies]\nruff = "*"\n'
    )
    assert names("pyproject.toml", text) == [
        (7, "fastapi", "project.dependencies", False),
        (8, "pydantic-settings", "project.dependencies", False),
        (12, "uvicorn", "project.optional-dependencies.serve", False),
        (12, "redis", "project.optional-dependencies.serve", False),
        (14, "pytest", "project.optional-dependencies.dev", True),
        (19, "httpx", "tool.poetry.dependencies", False),
        (22, "ruff", "tool.poetry.group.dev.dependencies", True),
    ]


def test_setup_cfg_conda_and_pipfile():
    cfg = "[metadata]\nname = x\n\n[options]\npackages = find:\ninstall_requires =\n    numpy>=1.26\n    rich\n\n" \
          "[options.extras_require]\nserve =\n    fastapi\n"
    assert names("setup.cfg", cfg) == [(7, "numpy", "options.install_requires", False),
                                       (8, "rich", "options.install_requires", False),
                                       (12, "fastapi", "options.extras_require.serve", False)]
    conda = "name: t\nchannels:\n  - conda-forge\ndependencies:\n  - python=3.11\n  - conda-forge::numpy=1.26\n" \
            "  - pip\n  - pip:\n    - wandb==0.17\n"
    assert [(n, name) for n, name, _, _ in names("environment.yml", conda)] == [(6, "numpy"), (9, "wandb")]
    pipfile = '[[source]]\nurl = "https://pypi.org/simple"\n\n[packages]\nrequests = "*"\n\n[dev-packages]\npytest = "*"\n'
    assert names("Pipfile", pipfile) == [(5, "requests", "packages", False), (8, "pytest", "dev-packages", True)]


def test_service_clients():
    assert client_for_distribution("psycopg2-binary").name == "PostgreSQL"
    assert client_for_distribution("Qdrant_Client").kind == "vector database"
    assert client_for_distribution("numpy") is None
    assert client_used_on("    from confluent_kafka import Producer").name == "Kafka"
    assert client_used_on("import tritonclient.http as httpclient").name == "Triton"
    assert client_used_on("q = boto3.client('sqs', region_name=r)").name == "SQS"
    assert client_used_on("s3 = boto3.client('s3')") is None
    assert client_used_on("import redis_keys") is None
    assert client_used_on("# import redis") is None
