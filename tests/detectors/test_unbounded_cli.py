"""unbounded-load and unbounded-cache end to end: the CLI as a subprocess on a small project."""

import json
import subprocess
import sys
import textwrap

TRAIN = """
    import json
    import pandas as pd

    def make_data_module(data_args):
        train_json = json.load(open(data_args.data_path))
        return LazyDataset(train_json)

    def load_config(data_dir):
        with open(data_dir + "/config.json") as f:
            return json.load(f)

    class CsvDataset:
        def __init__(self, input_filename):
            self.df = pd.read_csv(input_filename, sep="\\t")

    class LazyDataset:
        def __init__(self, raw_data):
            self.raw_data = raw_data
            self.cached = {}

        def __getitem__(self, i):
            if i in self.cached:
                return self.cached[i]
            self.cached[i] = tokenize(self.raw_data[i])
            return self.cached[i]
"""

PROTOCOL = """
    from typing import List, Union
    from pydantic import BaseModel, Field

    class EmbeddingsRequest(BaseModel):
        model: str
        input: Union[str, List[str]]

    class RerankRequest(BaseModel):
        documents: List[str] = Field(..., max_length=100)
"""


def test_scan_reports_whole_loads_memos_and_request_batches(tmp_path):
    (tmp_path / "train.py").write_text(textwrap.dedent(TRAIN))
    (tmp_path / "protocol.py").write_text(textwrap.dedent(PROTOCOL))
    done = subprocess.run(
        [sys.executable, "-m", "reviewer", "scan", ".", "--format", "json",
         "--select", "unbounded-load,unbounded-cache", "--fail-level", "none"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr
    found = sorted((f["path"], f["line"], f["rule"]) for f in json.loads(done.stdout)["findings"])
    assert found == [
        ("protocol.py", 7, "LOAD007"),
        ("train.py", 6, "LOAD002"),
        ("train.py", 15, "LOAD001"),
        ("train.py", 20, "CCH005"),
    ]
