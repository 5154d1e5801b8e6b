"""Unit tests of the pure parts of precision/run.py: no downloads, no scans."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("precision_run", ROOT / "precision" / "run.py")
run = importlib.util.module_from_spec(_spec)
sys.modules["precision_run"] = run
_spec.loader.exec_module(run)

HEADER = "package,version,path,line,family,label,rule_hint,note\n"


def finding(path="a.py", line=10, end_line=None, rule="TMO001", family="no-timeout",
            package="pkg"):
    return run.Finding(package=package, path=path, line=line,
                       end_line=line if end_line is None else end_line, rule=rule, family=family)


def label(path="a.py", line=10, family="no-timeout", positive=True, package="pkg"):
    return run.Label(package=package, version="1.0", path=path, line=line, family=family,
                     positive=positive)


# ----------------------------------------------------------------------------- labels.csv


def test_parse_labels_reads_rows_and_normalizes_package_names():
    text = HEADER + (
        "Huggingface_Hub,0.26.2,hf/x.py,12,no-timeout,positive,TMO001,no timeout\n"
        'mlflow,2.17.0,m/y.py,3,swallowed-error,negative,,"cleanup, then pass"\n'
    )
    first, second = run.parse_labels(text)
    assert first.package == "huggingface-hub"
    assert (first.path, first.line, first.family, first.positive) == ("hf/x.py", 12, "no-timeout", True)
    assert first.rule_hint == "TMO001"
    assert second.positive is False
    assert second.note == "cleanup, then pass"
    assert second.row == 3


@pytest.mark.parametrize(
    "row, message",
    [
        ("p,1,a.py,x,no-timeout,positive,,\n", "not a number"),
        ("p,1,a.py,0,no-timeout,positive,,\n", "1 or more"),
        ("p,1,a.py,3,timeouts,positive,,\n", "unknown family"),
        ("p,1,a.py,3,no-timeout,yes,,\n", "positive or negative"),
        ("p,1,/abs/a.py,3,no-timeout,positive,,\n", "relative"),
        ("p,1,,3,no-timeout,positive,,\n", "path is empty"),
        ("p,1,a.py,3,no-timeout,positive\n", "columns"),
    ],
)
def test_parse_labels_rejects_bad_rows_naming_the_row(row, message):
    with pytest.raises(run.LabelError, match=message) as caught:
        run.parse_labels(HEADER + row)
    assert "row 2" in str(caught.value)


def test_parse_labels_rejects_a_wrong_header():
    with pytest.raises(run.LabelError, match="header"):
        run.parse_labels("package,version,path,line\n")


def test_parse_labels_rejects_duplicates_but_allows_two_families_on_one_line():
    ok = HEADER + "p,1,a.py,3,no-timeout,positive,,\np,1,a.py,3,no-retry,negative,,\n"
    assert len(run.parse_labels(ok)) == 2
    with pytest.raises(run.LabelError, match="same package, path, line and family as row 2"):
        run.parse_labels(HEADER + "p,1,a.py,3,no-timeout,positive,,\np,1,a.py,3,no-timeout,negative,,\n")


def test_the_shipped_label_files_parse():
    labels = run.load_labels(run.label_files(None))
    assert len(labels) >= 150
    assert len({label.package for label in labels}) >= 10


def test_a_pointer_labelled_in_two_files_is_an_error(tmp_path):
    row = "p,1,a.py,3,no-timeout,positive,,\n"
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    first.write_text(HEADER + row)
    second.write_text(HEADER + row)
    with pytest.raises(run.LabelError, match="b.csv row 2: .* a.csv row 2"):
        run.load_labels([first, second])


def test_the_shipped_packages_file_parses():
    packages = run.load_packages(ROOT / "precision" / "packages.toml")
    assert len(packages) >= 10
    assert {package.kind for package in packages} <= {"wheel", "sdist"}


def test_parse_packages_rejects_unknown_kind_and_duplicates():
    with pytest.raises(ValueError, match="kind"):
        run.parse_packages('[[package]]\nname="a"\nversion="1"\nkind="egg"\n')
    twice = '[[package]]\nname="a_b"\nversion="1"\nkind="wheel"\n' * 1 + \
        '[[package]]\nname="A-B"\nversion="2"\nkind="wheel"\n'
    with pytest.raises(ValueError, match="twice"):
        run.parse_packages(twice)


def test_archive_names_match_by_normalized_name_version_and_kind():
    wheel = run.Package("huggingface-hub", "0.26.2", "wheel")
    sdist = run.Package("deepspeed", "0.15.4", "sdist")
    assert run._archive_matches("huggingface_hub-0.26.2-py3-none-any.whl", wheel)
    assert not run._archive_matches("huggingface_hub-0.26.20-py3-none-any.whl", wheel)
    assert not run._archive_matches("huggingface_hub-0.26.2.tar.gz", wheel)
    assert run._archive_matches("deepspeed-0.15.4.tar.gz", sdist)
    assert not run._archive_matches("deepspeed-0.15.4-py3-none-any.whl", sdist)


# ----------------------------------------------------------------------------- matching


def test_a_finding_matches_a_label_on_its_first_line_or_inside_its_span():
    single = finding(line=10)
    spanning = finding(path="b.py", line=20, end_line=25)
    result = run.match([single, spanning], [label(line=10), label(path="b.py", line=23)])
    assert [hits for _, hits in result.by_label] == [[single], [spanning]]
    assert result.unlabeled == []


def test_no_match_on_another_line_path_package_or_family():
    f = finding(line=10, end_line=12)
    labels = [
        label(line=9),
        label(line=13),
        label(path="other.py"),
        label(package="other"),
        label(family="no-retry"),
    ]
    result = run.match([f], labels)
    assert all(hits == [] for _, hits in result.by_label)
    assert result.unlabeled == [f]


def test_one_finding_can_cover_two_labels_and_is_then_not_unlabeled():
    loop = finding(line=5, end_line=30, rule="CKP001", family="no-checkpoint")
    labels = [label(line=5, family="no-checkpoint"), label(line=12, family="no-checkpoint")]
    result = run.match([loop], labels)
    assert [len(hits) for _, hits in result.by_label] == [1, 1]
    assert result.unlabeled == []


# ----------------------------------------------------------------------------- arithmetic


def test_family_scores_count_tp_fp_fn_tn():
    findings = [
        finding(line=1),               # matches a positive: TP
        finding(line=2),               # matches a negative: FP
        finding(line=50),              # no label: unlabeled, not counted
    ]
    labels = [
        label(line=1),                 # TP
        label(line=2, positive=False),  # FP
        label(line=3),                 # FN
        label(line=4, positive=False),  # TN
    ]
    scores = run.score(run.match(findings, labels), {"TMO001": "no-timeout"})
    family = scores.families["no-timeout"]
    assert (family.tp, family.fp, family.fn, family.tn) == (1, 1, 1, 1)
    assert family.precision == pytest.approx(0.5)
    assert family.recall == pytest.approx(0.5)
    assert (scores.core.tp, scores.core.fp, scores.core.fn) == (1, 1, 1)


def test_rule_scores_split_a_family_between_rules():
    findings = [finding(line=1, rule="TMO001"), finding(line=2, rule="TMO002")]
    labels = [label(line=1), label(line=2), label(line=3)]
    scores = run.score(run.match(findings, labels),
                       {"TMO001": "no-timeout", "TMO002": "no-timeout", "RTY001": "no-retry"})
    assert (scores.rules["TMO001"].tp, scores.rules["TMO001"].fn) == (1, 2)
    assert scores.rules["TMO001"].recall == pytest.approx(1 / 3)
    assert scores.families["no-timeout"].recall == pytest.approx(2 / 3)
    assert scores.rules["RTY001"].tp == 0 and scores.rules["RTY001"].fn == 0


def test_ratios_with_nothing_to_count_are_not_available():
    empty = run.Score()
    assert empty.precision is None and empty.recall is None
    assert run.percent(None) == "n/a"
    assert run.percent(2 / 3) == "0.67"


def test_core_score_ignores_pack_families():
    labels = [label(line=1, family="serving"), label(line=2)]
    scores = run.score(run.match([], labels))
    assert scores.core.fn == 1
    assert scores.families["serving"].fn == 1


def test_parse_report_reads_the_json_contract():
    document = {"findings": [{"rule": "TMO001", "name": "x", "family": "no-timeout",
                              "severity": "high", "path": "a/b.py", "line": 3, "column": 0,
                              "end_line": 5, "end_column": 1, "symbol": "f", "message": "m",
                              "question": "q", "fingerprint": "0" * 16}]}
    (only,) = run.parse_report(document, "pkg")
    assert (only.package, only.path, only.line, only.end_line, only.rule) == ("pkg", "a/b.py", 3, 5, "TMO001")
    assert only.covers(4) and not only.covers(6)
