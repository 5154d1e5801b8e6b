"""Unbounded loads: what shows that an input grows, and what keeps a read bounded."""

import textwrap

import pytest

from reviewer.detectors.loads import whole_table
from reviewer.engine.pipeline import Target, analyze
from reviewer.ruleset.loader import load_rules

RULES = load_rules()


def findings(code, rule_id, path="pipeline/job.py"):
    source = textwrap.dedent(code)
    result = analyze([Target(path, data=source.encode())], [RULES[rule_id]], max_bytes=10**7)
    assert not result.rule_errors, result.rule_errors
    return [f for f in result.findings if f.rule == rule_id]


@pytest.mark.parametrize(
    "query, table",
    [
        ("SELECT * FROM events", "events"),
        ("select id, payload from db.events e order by id;", "db.events"),
        ("SELECT * FROM {}", "{}"),
        ("SELECT * FROM events WHERE day = ?", None),
        ("SELECT COUNT(*) FROM events", None),
        ("SELECT a FROM events LIMIT 10", None),
        ("SELECT user, SUM(x) FROM events GROUP BY user", None),
        ("SELECT name FROM sqlite_master", None),
        ("SELECT * FROM events {}", None),
        ("INSERT INTO events VALUES (1)", None),
    ],
)
def test_whole_table_reads_only_unfiltered_selects(query, table):
    assert whole_table(query) == table


# -- LOAD001 ---------------------------------------------------------------------


SHARDS_CONCATENATED = """
    import pandas as pd
    def load(day):
        frames = []
        for path in list_shards(day):
            frames.append(pd.read_parquet(path))
        return pd.concat(frames)
    """


def test_load001_concat_of_reads_in_a_loop_names_the_iterable():
    [finding] = findings(SHARDS_CONCATENATED, "LOAD001")
    assert finding.line == 6
    assert "every file of `list_shards(day)`" in finding.message
    assert finding.symbol == "pipeline.job.load"
    assert "`columns`" in finding.question


def test_load001_loop_reads_that_are_not_concatenated_are_left_alone():
    code = """
        import pandas as pd
        def report(paths):
            for path in paths:
                df = pd.read_csv(path)
                print(df.describe())
        """
    assert findings(code, "LOAD001") == []


def test_load001_concat_of_files_in_a_function_that_loads_results_is_left_alone():
    assert findings(SHARDS_CONCATENATED.replace("def load(", "def load_results("), "LOAD001") == []
    code = """
        import pandas as pd
        class ResultsReader:
            def read(self, paths):
                return pd.concat([pd.read_csv(p) for p in paths])
        def load_shards(paths):
            return pd.concat([pd.read_csv(p) for p in paths])
        """
    assert [f.line for f in findings(code, "LOAD001")] == [7]


def test_load001_a_dataframe_or_a_reader_named_after_its_format_is_no_data_set():
    code = """
        import pandas as pd
        class Dataframe:
            def postprocess(self, value):
                return pd.read_csv(value)
        class DataframeDataset:
            def __init__(self, path):
                self.frame = pd.read_csv(path)
        def read_csv(filename):
            return pd.read_csv(filename, comment="#")
        def read_train_csv(filename):
            return pd.read_csv(filename)
        """
    assert [f.line for f in findings(code, "LOAD001")] == [8, 12]


def test_load001_remote_uri_through_a_constant_and_sql_table_from_fstring():
    code = """
        import pandas as pd
        EVENTS = "gs://lake/events/*.parquet"
        def load(con, name):
            a = pd.read_parquet(EVENTS)
            b = pd.read_sql(f"SELECT * FROM {name}", con)
            c = pd.read_sql(f"SELECT * FROM {name} WHERE day = %s", con, params=[d])
            return a, b, c
        """
    assert [f.line for f in findings(code, "LOAD001")] == [5, 6]


def test_load001_a_data_set_file_by_its_name_or_its_reader_but_not_a_fixed_url_or_results():
    code = """
        import pandas as pd
        a = pd.read_csv("data/train.csv")
        b = pd.read_csv("https://example.com/data/iris.csv")
        c = pd.read_csv(args.input)
        class CsvDataset:
            def __init__(self, input_filename):
                self.df = pd.read_csv(input_filename, sep="\\t")
        def plot_results(data_file):
            return pd.read_csv(data_file)
        def load_labels(data_dir):
            return pd.read_csv(data_dir + "/labels.csv")
        """
    assert [f.line for f in findings(code, "LOAD001")] == [3, 8]


# -- LOAD002 ---------------------------------------------------------------------


def test_load002_a_training_set_read_whole_names_the_file_and_what_to_do():
    code = """
        import json
        def load(train_path):
            with open(train_path) as f:
                lines = f.readlines()
            with open(train_path + ".json") as f:
                examples = json.load(f)
            return lines, examples
        """
    lines, examples = findings(code, "LOAD002")
    assert (lines.line, examples.line) == (5, 7)
    assert "`train_path`" in lines.message
    assert "line by line" in lines.question
    assert "JSON Lines" in examples.question


def test_load002_the_name_the_result_is_bound_to_is_evidence_but_not_a_config_name():
    code = """
        import json
        def build(path):
            annotations = json.load(open(path))
            modules_config = json.load(open(path))
            return annotations, modules_config
        """
    assert [f.line for f in findings(code, "LOAD002")] == [4]


def test_load002_a_result_named_data_is_evidence_only_in_a_data_package():
    code = """
        import json
        def load_json(filepath):
            with open(filepath) as f:
                data = json.load(f)
            return data
        """
    assert findings(code, "LOAD002", path="tools/io.py") == []
    assert [f.line for f in findings(code, "LOAD002", path="tools/data/io.py")] == [5]


@pytest.mark.parametrize("function, reported", [
    ("record_logged_model", False),  # to record is not a record: mlflow's run-tag file
    ("load_records", True),
    ("read_user_records", True),
    ("records_from_disk", True),
    ("read_tfrecord_file", True),
])
def test_load002_records_are_data_but_the_verb_record_is_not(function, reported):
    code = f"""
        import json
        def {function}(path):
            with open(path) as f:
                items = json.loads(f.read())
            return items
        """
    assert bool(findings(code, "LOAD002")) is reported


def test_load002_a_load_method_that_restores_what_its_save_method_wrote_is_left_alone():
    code = """
        import json
        import pickle
        import torch
        class DataBatch:
            def save_to_disk(self, path):
                with open(path, "wb") as f:
                    pickle.dump(self, f)
            @staticmethod
            def load_from_disk(path):
                with open(path, "rb") as f:
                    return pickle.load(f)
        class EvalArtifact:
            def _save(self, path):
                with open(path, "w") as f:
                    json.dump(self._content, f)
            def _load_content_from_file(self, path):
                with open(path) as f:
                    self._content = json.load(f)
        class QaModel:
            def save_model(self, out):
                torch.save(self.args, out)
            def train_model(self, train_data):
                with open(train_data) as f:
                    examples = json.load(f)
        """
    [finding] = findings(code, "LOAD002")
    assert finding.line == 25


def test_load002_a_path_that_may_be_the_data_itself_is_no_growing_file():
    code = """
        import json
        import os
        def read_input_data(path_or_data):
            if os.path.exists(path_or_data):
                with open(path_or_data) as f:
                    return json.load(f)
            return path_or_data
        def read_train_data(data_path):
            with open(data_path) as f:
                return json.load(f)
        """
    assert [f.line for f in findings(code, "LOAD002")] == [11]


def test_load002_torch_load_of_features_but_not_of_weights_or_training_state():
    code = """
        import torch
        def load_features(data_dir):
            feats = torch.load(data_dir + "/train_features.pt")
            ckpt = torch.load(data_dir + "/train_model.pt")
            state = torch.load(data_dir + "/train.pt", mmap=True)
            return feats, ckpt, state
        class WarmupScheduler:
            def load(self, path):
                data = torch.load(path)
        """
    assert [f.line for f in findings(code, "LOAD002")] == [4]


def test_load002_pickle_and_numpy_loads_of_checkpoints_are_weights_not_data():
    code = """
        import pickle
        import numpy as np
        def load_original(checkpoint_path, npy_checkpoint):
            with open(checkpoint_path, "rb") as f:
                data = pickle.load(f)
            data = np.load(npy_checkpoint)
        def load_corpus(corpus_file):
            with open(corpus_file, "rb") as f:
                data = pickle.load(f)
            data = np.load(corpus_file)
        """
    assert [f.line for f in findings(code, "LOAD002")] == [10, 11]


def test_load002_only_file_handles_count():
    code = """
        import io
        def load_data(buf, proc):
            for line in io.StringIO(buf).readlines():
                handle(line)
            for line in proc.stdout.read().splitlines():
                handle(line)
        """
    assert findings(code, "LOAD002") == []


# -- LOAD003 ---------------------------------------------------------------------


def test_load003_finds_the_query_of_an_earlier_execute_on_the_same_cursor():
    code = """
        import pymysql
        def dump(dsn):
            conn = pymysql.connect(**dsn)
            cur = conn.cursor()
            cur.execute("SELECT id, body FROM documents")
            return cur.fetchall()
        """
    [finding] = findings(code, "LOAD003")
    assert finding.line == 7
    assert "`documents`" in finding.message


def test_load003_query_in_a_constant_and_a_bounded_one():
    code = """
        import sqlite3
        ALL = "SELECT * FROM runs"
        ONE = "SELECT * FROM runs WHERE id = ?"
        conn = sqlite3.connect("x.db")
        a = conn.execute(ALL).fetchall()
        b = conn.execute(ONE, (1,)).fetchall()
        """
    assert [f.line for f in findings(code, "LOAD003")] == [6]


def test_load003_all_on_things_that_are_not_query_results():
    code = """
        import numpy as np
        import pandas as pd
        def check(df, session):
            return np.all(df), df.notna().all(), session.query(User).filter(User.id == uid).all()
        """
    assert findings(code, "LOAD003") == []


# -- LOAD004 ---------------------------------------------------------------------


def test_load004_spark_session_parameter_and_table_read():
    code = """
        from pyspark.sql import SparkSession
        def export(spark: SparkSession, table: str):
            df = spark.read.table(table)
            slim = df.select("id", "embedding")
            return slim.toPandas()
        """
    [finding] = findings(code, "LOAD004")
    assert finding.line == 6
    assert finding.message == "`.toPandas()` pulls all of `slim` onto the driver"


def test_load004_spark_sql_with_a_query_it_cannot_read_is_left_alone():
    code = """
        from pyspark.sql import SparkSession
        spark = SparkSession.builder.getOrCreate()
        def run(query):
            return spark.sql(query).collect()
        """
    assert findings(code, "LOAD004") == []


def test_load004_dask_reductions_and_heads_are_fine():
    code = """
        import dask.dataframe as dd
        df = dd.read_csv("s3://b/*.csv")
        a = df.groupby("k").x.mean().compute()
        b = df.head(10)
        c = df[df.x > 0].compute()
        """
    assert [f.line for f in findings(code, "LOAD004")] == [6]


# -- LOAD005 ---------------------------------------------------------------------


def test_load005_accumulating_pages_but_not_counting_them():
    code = """
        import boto3
        s3 = boto3.client("s3")
        def keys(bucket):
            out, n = [], 0
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
                n += len(page["Contents"])
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
                out += page["Contents"]
            return out
        """
    [finding] = findings(code, "LOAD005")
    assert finding.line == 8


# -- LOAD006 ---------------------------------------------------------------------


def test_load006_urlopen_in_a_with_block():
    code = """
        from urllib.request import urlopen
        def fetch(url, dest):
            with urlopen(url) as resp, open(dest, "wb") as f:
                f.write(resp.read())
        """
    [finding] = findings(code, "LOAD006")
    assert "`url`" in finding.message
    assert "copyfileobj" in finding.question


def test_load006_writing_a_chunk_or_an_unrelated_read_is_fine():
    code = """
        import requests
        def fetch(url, dest, src):
            r = requests.get(url, stream=True, timeout=5)
            with open(dest, "wb") as f:
                for chunk in r.iter_content(1024):
                    f.write(chunk)
                f.write(src.read())
        """
    assert findings(code, "LOAD006") == []


def test_load001_a_setting_that_holds_the_path_is_not_a_config_file():
    code = """
        import pandas as pd
        def generate(config):
            dataset = pd.read_parquet(config.data.path)
            table = pd.read_csv(config.data.config_file)
            return dataset, table
        """
    assert [f.line for f in findings(code, "LOAD001")] == [4]


# -- LOAD007 ---------------------------------------------------------------------


def test_load007_request_models_only_and_the_length_caps_pydantic_knows():
    code = """
        from typing import List, Union
        from pydantic import BaseModel, Field
        class EmbeddingsRequest(BaseModel):
            model: str
            input: Union[str, List[str]]
            texts: List[str] = Field(default_factory=list, max_length=64)
        class EmbeddingsResponse(BaseModel):
            data: List[List[float]]
            input: List[str]
        class Settings:
            prompts: List[str]
        """
    [finding] = findings(code, "LOAD007", path="svc/protocol.py")
    assert finding.line == 6
    assert finding.message == "`EmbeddingsRequest.input` accepts a list of any length"
    assert finding.symbol == "svc.protocol.EmbeddingsRequest"
