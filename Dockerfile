# syntax=docker/dockerfile:1
# Build the wheel in a throwaway stage; the final image has no compiler, no pip cache,
# no source tree: only Python, git (diffs need it) and the installed CLI.
FROM python:3.12.8-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY reviewer ./reviewer
COPY rules ./rules
RUN pip wheel --no-cache-dir --wheel-dir /wheels ".[github,gitlab,llm]"

FROM python:3.12.8-slim-bookworm
RUN apt-get update \
    && apt-get install --yes --no-install-recommends git \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links /wheels "arch-review[github,gitlab,llm]" \
    && rm -rf /wheels
# uid 1001 is the runner user on GitHub-hosted runners: files written to the mounted
# workspace (the SARIF and JSON results) stay owned by it.
RUN useradd --uid 1001 --create-home --shell /usr/sbin/nologin reviewer
USER 1001
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
ENTRYPOINT ["arch-review"]
CMD ["--help"]
