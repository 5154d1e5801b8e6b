"""The LLM pass with the real openai SDK over HTTP to a local fake endpoint: answers, faults, budgets."""

from __future__ import annotations

import time

import pytest
from tests.llm.llm_helpers import SECRETS, SERVICE_PATH, analyzed, llm_config, read_service
from tests.llm.fake_openai import Answer, Drop, Raw, Stall, Status, architect

from reviewer.llm.review import review_with_llm
from reviewer.llm.prompts import QUESTION_SYSTEM, SUMMARY_SYSTEM
from reviewer.llm.redact import REDACTED

OTHER_THAN_QUESTION = ("rule", "name", "family", "severity", "path", "line", "column",
                       "end_line", "end_column", "symbol", "message", "fingerprint")


def run(fake, findings, **config_changes):
    environ = config_changes.pop("environ", {"OPENAI_API_KEY": "test-key-not-secret"})
    want_summary = config_changes.pop("want_summary", True)
    config = llm_config(fake, **config_changes)
    return review_with_llm(config, findings, read_source=read_service, want_summary=want_summary, environ=environ)


def assert_only_questions_changed(before, after):
    assert len(after) == len(before)
    for old, new in zip(before, after):
        old_json, new_json = old.to_json(), new.to_json()
        assert {k: new_json[k] for k in OTHER_THAN_QUESTION} == {k: old_json[k] for k in OTHER_THAN_QUESTION}


def assert_templates_kept(before, after):
    assert [f.to_json() for f in after] == [f.to_json() for f in before]


def test_each_question_is_rephrased_for_its_code_and_the_summary_is_written(fake, findings):
    fake.respond = architect

    after, review = run(fake, findings)

    assert_only_questions_changed(findings, after)
    for finding in after:
        function = finding.symbol.rsplit(".", 1)[-1]
        assert finding.question == f"When the service behind `{function}` stalls at 100x traffic, what does its caller see?"
    assert review.summary.startswith("The riskiest change is the feature fetch")
    assert "- At 100x traffic" in review.summary
    calls = len(findings) + 1
    tokens = len(findings) * 120 + 360
    assert review.status == (
        f"LLM pass: fake-architect-1, {calls} calls, {tokens:,} tokens "
        f"({len(findings) * 100 + 300:,} in, {len(findings) * 20 + 60:,} out); "
        f"{len(findings)} of {len(findings)} questions rephrased."
    )
    assert not review.skipped and fake.problems == []
    assert [r.system for r in fake.requests] == [SUMMARY_SYSTEM] + [QUESTION_SYSTEM] * len(findings)
    assert all(r.body["model"] == "fake-architect-1" and r.body["max_tokens"] == 400 for r in fake.requests)


def test_the_model_sees_the_flagged_lines_marked_inside_the_enclosing_function(fake, findings):
    fake.respond = architect
    run(fake, findings, want_summary=False)

    timeout_request = next(r for r in fake.requests if "Rule: TMO001" in r.user)
    assert f"File: {SERVICE_PATH}, in app.service.fetch_features" in timeout_request.user
    assert "def fetch_features(user_id):" in timeout_request.user
    assert ">|     response = requests.get(" in timeout_request.user
    assert "def score" not in timeout_request.user
    assert "Template question: If features.internal accepts the connection" in timeout_request.user


def test_secrets_in_the_code_never_reach_the_endpoint(fake, findings):
    fake.respond = architect
    environ = {"OPENAI_API_KEY": "sk-env-key-0000000000000000", "DEPLOY_TOKEN": "deploy-secret-value-42"}
    source = read_service(SERVICE_PATH) + f'\nHOOK = "{environ["DEPLOY_TOKEN"]}"\n'

    review_with_llm(llm_config(fake), analyzed(source), read_source=lambda path: source, environ=environ)

    sent = fake.received_bytes().decode()
    assert fake.requests and REDACTED in sent
    for value in [*SECRETS.values(), environ["DEPLOY_TOKEN"], environ["OPENAI_API_KEY"]]:
        assert value not in sent
    assert "ml_app:[REDACTED]@db.internal" in sent  # the user and host stay: they help the question
    assert all(r.headers["authorization"] == f"Bearer {environ['OPENAI_API_KEY']}" for r in fake.requests)


@pytest.mark.parametrize(
    "answer, reason",
    [
        ("", "empty"),
        ("   \n ", "empty"),
        ("This call has no timeout and should have one.", "no question mark"),
        ("What happens when `fetch_features` stalls? " * 12, "too long"),
        ("Does `retry_with_backoff` wrap `fetch_features`?", "names code that is not in the snippet"),
        ("What does `FeatureStoreClient.get` return when features.internal hangs?", "invented class"),
        ("One. Two. Three. Four? Five?", "more than three sentences"),
        (None, "no content"),
        (42, "not a string"),
    ],
)
def test_an_answer_that_does_not_fit_keeps_the_template_question(fake, findings, answer, reason):
    fake.respond = lambda request: Answer(answer)

    after, review = run(fake, findings, want_summary=False)

    assert_templates_kept(findings, after)
    assert not review.skipped
    assert f"0 of {len(findings)} questions rephrased; {len(findings)} answers did not fit" in review.status


def test_a_truncated_answer_is_discarded(fake, findings):
    fake.respond = lambda request: Answer("What happens when `fetch_features` stalls?", finish_reason="length")
    after, _ = run(fake, findings, want_summary=False)
    assert_templates_kept(findings, after)


def test_a_body_that_is_json_but_not_a_completion_keeps_the_templates(fake, findings):
    fake.respond = lambda request: Raw(b'{"choices": "nonsense", "usage": "lots"}')
    after, review = run(fake, findings)
    assert_templates_kept(findings, after)
    assert not review.summary
    assert "~" in review.status  # no usage reported: tokens are estimated and say so


def test_a_body_that_is_not_json_skips_the_pass(fake, findings):
    fake.script.append(Raw(b"<html>gateway error</html>"))
    after, review = run(fake, findings)
    assert_templates_kept(findings, after)
    assert review.skipped and not review.summary
    assert review.status.startswith("LLM pass skipped: the endpoint's answer is not JSON")


def test_a_500_is_retried_by_the_sdk_and_then_answered(fake, findings):
    fake.respond = architect
    fake.script.append(Status(500))

    after, review = run(fake, findings, want_summary=False)

    assert not review.skipped
    assert len(fake.requests) == len(findings) + 1
    assert f"{len(findings)} calls" in review.status  # calls answered, not HTTP attempts
    assert_only_questions_changed(findings, after)


def test_persistent_500s_skip_the_pass_and_keep_every_template(fake, findings):
    fake.respond = lambda request: Status(500)

    after, review = run(fake, findings, max_retries=2)

    assert_templates_kept(findings, after)
    assert len(fake.requests) == 3  # one call, two SDK retries, then the pass stops
    assert review.skipped and review.summary == ""
    assert review.status == (
        "LLM pass skipped: the endpoint answered HTTP 500, after 2 retries; the questions are the rules' own."
    )


def test_a_failure_after_good_answers_still_keeps_every_template(fake, findings):
    answers = iter([architect, architect])
    fake.respond = lambda request: next(answers, lambda r: Status(503))(request)

    after, review = run(fake, findings, max_retries=0)

    assert_templates_kept(findings, after)
    assert review.skipped and review.summary == ""
    assert "Used: fake-architect-1, 2 calls, 480 tokens (400 in, 80 out)." in review.status


def test_429_with_retry_after_is_honoured_then_answered(fake, findings):
    fake.respond = architect
    fake.script.append(Status(429, {"Retry-After": "1"}))

    started = time.monotonic()
    after, review = run(fake, findings[:1], want_summary=False)

    assert time.monotonic() - started >= 0.9
    assert not review.skipped and after[0].question != findings[0].question


def test_rate_limited_until_the_retries_run_out(fake, findings):
    fake.respond = lambda request: Status(429, {"Retry-After": "0.1"})
    after, review = run(fake, findings, max_retries=1)
    assert_templates_kept(findings, after)
    assert review.status.startswith("LLM pass skipped: rate limited by the endpoint (HTTP 429, after 1 retry)")


def test_a_retry_after_longer_than_the_deadline_ends_the_pass_at_the_deadline(fake, findings):
    fake.respond = lambda request: Status(429, {"Retry-After": "30"})

    started = time.monotonic()
    after, review = run(fake, findings, timeout=1.0)

    assert time.monotonic() - started < 2.5
    assert_templates_kept(findings, after)
    assert review.status.startswith("LLM pass skipped: the deadline of 1 s (llm.timeout) passed")


def test_a_stalled_response_ends_at_the_deadline(fake, findings):
    fake.respond = lambda request: Stall()

    started = time.monotonic()
    after, review = run(fake, findings, timeout=1.0)

    assert time.monotonic() - started < 2.5
    assert_templates_kept(findings, after)
    assert review.skipped and "the deadline of 1 s (llm.timeout) passed" in review.status


def test_a_stall_after_good_answers_discards_them_at_the_deadline(fake, findings):
    answers = iter([architect])
    fake.respond = lambda request: next(answers, lambda r: Stall())(request)

    after, review = run(fake, findings, timeout=1.0, max_retries=0)

    assert_templates_kept(findings, after)
    assert review.skipped and "Used: fake-architect-1, 1 call, 360 tokens" in review.status


def test_a_dropped_connection_is_retried(fake, findings):
    fake.respond = architect
    fake.script.append(Drop())
    after, review = run(fake, findings[:1], want_summary=False)
    assert not review.skipped and len(fake.requests) == 2


def test_connections_that_keep_dropping_skip_the_pass(fake, findings):
    fake.respond = lambda request: Drop()
    after, review = run(fake, findings)
    assert_templates_kept(findings, after)
    assert review.status.startswith("LLM pass skipped: cannot reach the endpoint (")


def test_an_endpoint_that_is_not_listening_skips_the_pass(fake, findings):
    config = llm_config(fake, base_url="http://127.0.0.1:9/v1", max_retries=0)
    after, review = review_with_llm(config, findings, read_source=read_service, environ={})
    assert_templates_kept(findings, after)
    assert review.status.startswith("LLM pass skipped: cannot reach the endpoint")


def test_a_refused_key_skips_the_pass(fake, findings):
    fake.respond = lambda request: Status(401)
    _, review = run(fake, findings)
    assert review.status.startswith("LLM pass skipped: the endpoint refused the key in OPENAI_API_KEY (HTTP 401)")


def test_without_a_key_for_the_default_endpoint_nothing_is_sent(fake, findings):
    config = llm_config(fake, base_url=None)
    after, review = review_with_llm(config, findings, read_source=read_service, environ={})
    assert_templates_kept(findings, after)
    assert review.status == "LLM pass skipped: OPENAI_API_KEY is not set; the questions are the rules' own."
    assert fake.requests == []


def test_the_key_comes_from_api_key_env(fake, findings):
    fake.respond = architect
    run(fake, findings[:1], api_key_env="TEAM_LLM_KEY", environ={"TEAM_LLM_KEY": "team-key-123"})
    assert fake.requests[0].headers["authorization"] == "Bearer team-key-123"


def test_max_findings_sends_the_most_severe_first(fake, findings):
    fake.respond = architect

    after, review = run(fake, findings, max_findings=1, want_summary=False)

    assert len(fake.requests) == 1 and "Rule: TMO001" in fake.requests[0].user
    changed = [f.rule for f, old in zip(after, findings) if f.question != old.question]
    assert changed == ["TMO001"]
    assert f"{len(findings) - 1} findings over llm.max_findings (1) not sent" in review.status


def test_the_total_token_budget_stops_the_pass_early_without_an_error(fake, findings):
    fake.respond = lambda request: Answer(architect(request).text, usage=(500, 40))

    after, review = run(fake, findings, max_total_tokens=1500, max_tokens=100, want_summary=False)

    sent = len(fake.requests)
    assert 0 < sent < len(findings)
    assert not review.skipped
    assert f"{sent} of {len(findings)} questions rephrased" in review.status
    assert "stopped at the token budget (llm.max_total_tokens: 1,500)" in review.status
    assert_only_questions_changed(findings, after)


def test_no_findings_means_no_call(fake):
    after, review = run(fake, [])
    assert after == [] and fake.requests == []
    assert review.status == "LLM pass: no findings, nothing sent to fake-architect-1."


def test_openai_base_url_from_the_environment_is_the_endpoint_when_the_config_names_none(fake, findings):
    fake.respond = architect
    config = llm_config(fake, base_url=None)
    _, review = review_with_llm(config, findings[:1], read_source=read_service, want_summary=False,
                                environ={"OPENAI_BASE_URL": fake.url})
    assert not review.skipped and len(fake.requests) == 1
    assert fake.requests[0].headers["authorization"] == "Bearer unused"  # local servers ignore the key
