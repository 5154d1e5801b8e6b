"""Detectors for the unbounded-load family: reads that pull a whole data set into one process."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import libcst as cst

from reviewer.detectors.scale_signals import (
    DATA_FILE_WORDS,
    SMALL_FILE_WORDS,
    BindingDetector,
    argument,
    bound_names,
    chain_root,
    chain_segments,
    grown_lists,
    has_splat,
    is_literal_collection,
    keywords,
    literal_text,
    method_chain,
    names_in,
    positional_count,
    qualify_through_subscripts,
    short,
    walk,
)
from reviewer.detectors.remote_calls import HTTPX_SYNC, REQUESTS_FUNCTIONS, REQUESTS_SESSION_METHODS
from reviewer.engine.prefilter import names_of
from reviewer.ruleset.detector import Detector, register


# -- LOAD001 -------------------------------------------------------------------

_FILE_BOUNDS = frozenset({"chunksize", "iterator", "nrows", "usecols", "skipfooter"})
_COLUMNAR_BOUNDS = frozenset({"columns", "filters"})
_SQL_BOUNDS = frozenset({"chunksize", "columns"})

# reader -> (source parameter, keywords that bound the read, what to suggest instead)
_PANDAS_READERS: dict[str, tuple[str, frozenset[str], str]] = {
    "read_csv": ("filepath_or_buffer", _FILE_BOUNDS, "stream it with `chunksize` or read only the needed `usecols`"),
    "read_table": ("filepath_or_buffer", _FILE_BOUNDS, "stream it with `chunksize` or read only the needed `usecols`"),
    "read_fwf": ("filepath_or_buffer", _FILE_BOUNDS, "stream it with `chunksize` or read only the needed columns"),
    "read_json": ("path_or_buf", frozenset({"chunksize", "nrows"}), "stream it with `lines=True, chunksize=`"),
    "read_excel": ("io", frozenset({"nrows", "usecols", "skipfooter"}), "read only the needed `usecols`"),
    "read_parquet": ("path", _COLUMNAR_BOUNDS, "read only the needed `columns` and push `filters` down"),
    "read_feather": ("path", _COLUMNAR_BOUNDS, "read only the needed `columns`"),
    "read_orc": ("path", _COLUMNAR_BOUNDS, "read only the needed `columns`"),
    "read_sql": ("sql", _SQL_BOUNDS, "page it with `chunksize` or do the aggregation in SQL"),
    "read_sql_query": ("sql", _SQL_BOUNDS, "page it with `chunksize` or do the aggregation in SQL"),
    "read_sql_table": ("table_name", _SQL_BOUNDS, "page it with `chunksize` or do the aggregation in SQL"),
}

# Files that summarise runs (a handful per experiment), not data that grows with the business.
_RESULT_FILES = re.compile(r"(result|summar|eval|metric|score|report|stat|benchmark|plot|fig|whitelist|blacklist|"
                           r"prediction|\bpreds?\b|leaderboard)", re.IGNORECASE)
# Sources that are no growing file: data shipped inside the package (a fixed size), text already
# in memory (a request body, a buffer), a path that callers may pass as the data itself
# (`path_or_data`, `json_or_path`: what it holds fits in memory by design).
_NOT_A_DATA_FILE = re.compile(
    r"(__file__|resources\.(path|files|open_\w+|read_\w+)|pkg_resources|resource_filename|StringIO|BytesIO|"
    r"(^|_)(input|request|payload|body|content|buf|buffer)s?$|"
    r"(^|_)(data|str|string|text|json|dict)_or_|_or_(data|str|string|text|json|dict)($|_))"
)
# Writes of a whole object to a file: by a serializer, or by a DataFrame's own writer.
_SERIALIZERS = frozenset({"pickle.dump", "json.dump", "torch.save", "numpy.save", "joblib.dump"})
_FRAME_WRITERS = frozenset({"to_csv", "to_parquet", "to_json", "to_feather", "to_orc", "to_pickle", "to_excel"})
# The two halves of an object's own persistence.
_LOAD_METHODS = re.compile(r"^_*(load|restore|from)(_|$)")
_SAVE_METHODS = re.compile(r"^_*(save|dump|store|persist|write)(_|$)")
# Names of the form, not the contents: a frame (`Dataframe`, `data_frame_path`) or a reader
# named after its format (`read_csv`, `load_jsonl`) say nothing of what the file holds.
_FORM_WORDS = re.compile(r"data_?frame|^_*(read|load|parse)_(csv|tsv|jsonl?|parquet)$", re.IGNORECASE)
# Functions and classes that read back what a run wrote: scores, predictions, leaderboards.
_RESULT_READERS = re.compile(r"(result|summar|metric|score|report|benchmark|plot|leaderboard|prediction|^_*preds?_|_preds?$|"
                             r"^_*(print|show|display|draw|visuali[sz]e)_)",
                             re.IGNORECASE)
_REMOTE_SCHEMES = re.compile(r"^(s3[an]?|gs|gcs|abfss?|az|adl|hdfs|viewfs|oss|dbfs):/", re.IGNORECASE)

# A whole-table SELECT: no filter, limit or aggregate, and nothing unknown after the table.
_WHOLE_TABLE_SELECT = re.compile(
    r"^\s*SELECT\s+(?P<cols>.+?)\s+FROM\s+(?P<table>[\w.\"`\[\]{}]+)(\s+(AS\s+)?\w+)?"
    r"(\s+ORDER\s+BY\s+[\w.,\s]+?)?\s*;?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_SQL_REDUCERS = re.compile(
    r"\b(COUNT|SUM|AVG|MIN|MAX|DISTINCT|TOP|LIMIT|WHERE|GROUP|HAVING)\b|\{\}.*\bFROM\b",
    re.IGNORECASE,
)
_CATALOG_TABLES = re.compile(r"(sqlite_master|sqlite_schema|information_schema|pg_catalog|pg_tables)", re.IGNORECASE)


def whole_table(query: str) -> str | None:
    """The table a literal query reads in full, or None if it is bounded or unclear."""
    match = _WHOLE_TABLE_SELECT.match(query)
    if match is None or _SQL_REDUCERS.search(query) or _CATALOG_TABLES.search(query):
        return None
    return match.group("table")


@dataclass
class _LoopRead:
    call: cst.Call
    callee: str
    loop: cst.For
    target: str | None
    symbol: str
    function: str


@dataclass
class _FunctionFacts:
    """What one function does with reads in loops, appended lists and pd.concat."""

    loop_reads: list[_LoopRead] = field(default_factory=list)
    appended: dict[str, set[str]] = field(default_factory=dict)  # list name -> appended names / call ids
    concatenated: set[str] = field(default_factory=set)  # names passed to pd.concat


@register
class PandasFullRead(BindingDetector):
    """A pandas read with no chunking or column bound, where the code shows the input grows:
    a data-lake URI, a whole SQL table, or one read per file feeding ``pd.concat``."""

    name = "pandas-full-read"
    # Every finding is a call qualified `pandas.<reader>`: both names are in the code.
    tokens = (("pandas", frozenset(_PANDAS_READERS)),)
    code_tokens = True
    fields = frozenset({"call", "source", "instead"})

    def __init__(self, scan, rule, options) -> None:
        super().__init__(scan, rule, options)
        self.facts: dict[int | None, _FunctionFacts] = {}
        self.concat_comprehensions: set[int] = set()

    # -- bookkeeping ------------------------------------------------------------

    def _facts(self) -> _FunctionFacts:
        return self.facts.setdefault(self.bindings.scope_key(), _FunctionFacts())

    # -- the walk ---------------------------------------------------------------

    def visit_Call(self, node: cst.Call) -> None:
        qualified = self.scan.names.qualify(node.func)
        if qualified == "pandas.concat":
            self._record_concat(node)
            return
        if isinstance(node.func, cst.Attribute) and node.func.attr.value == "append":
            self._record_append(node)
        if qualified is None or not qualified.startswith("pandas.read_"):
            return
        reader = _PANDAS_READERS.get(qualified.removeprefix("pandas."))
        if reader is None or has_splat(node) or positional_count(node) > 2:
            return
        source_param, bounds, instead = reader
        if keywords(node) & bounds:
            return
        source = argument(node, source_param, 0)
        if source is None:
            return
        described = self._described_source(qualified, source) or self._data_set(qualified, source, node)
        if described is not None:
            self.report(node, call=self.scan.code(node.func), source=described, instead=instead)
            return
        self._consider_loop_read(node, qualified)

    def _data_set(self, qualified: str, source: cst.BaseExpression, node: cst.Call) -> str | None:
        """A file the code calls a data set, read by one call (not a URL of a fixed public file)."""
        if qualified.startswith("pandas.read_sql") or _PER_ITEM_FUNCTIONS.match(self.scan.context.function_name):
            return None
        text = self.bindings.string(source)
        if text is not None and re.match(r"^https?://", text):
            return None
        return data_file(self.scan, self.bindings, source, self.bindings.target_of(node))

    def _described_source(self, qualified: str, source: cst.BaseExpression) -> str | None:
        text = self.bindings.string(source)
        if text is None:
            return None
        if qualified.startswith("pandas.read_sql"):
            table = text if qualified == "pandas.read_sql_table" else whole_table(text)
            if table and "{}" not in table.strip("{}"):
                table_name = table if table != "{}" else short(self.scan.code(source))
                return f"the whole `{table_name}` table"
            return None
        if _REMOTE_SCHEMES.match(text) and not SMALL_FILE_WORDS.search(text):
            return f"`{short(text)}`"
        return None

    def _consider_loop_read(self, node: cst.Call, qualified: str) -> None:
        context = self.scan.context
        comprehension = next(
            (f for f in reversed(context.frames) if f.kind in ("comprehension", "function", "lambda")), None
        )
        if comprehension is not None and id(comprehension.node) in self.concat_comprehensions:
            iterable = _comprehension_iterable(comprehension.node)
            if iterable is not None and self._growing_file_set(iterable):
                self.report(node, call=self.scan.code(node.func),
                            source=f"every file of `{short(self.scan.code(iterable))}` (then `pd.concat`)",
                            instead=_PANDAS_READERS[qualified.removeprefix("pandas.")][2])
            return
        loop = next((f for f in reversed(context.frames) if f.kind in ("loop", "function", "lambda")), None)
        if loop is None or not isinstance(loop.node, cst.For) or not self._growing_file_set(loop.node.iter):
            return
        self._facts().loop_reads.append(
            _LoopRead(node, qualified, loop.node, self.bindings.target_of(node),
                      context.symbol, context.function_name)
        )

    def _growing_file_set(self, iterable: cst.BaseExpression) -> bool:
        """Not a literal list, and not a handful of experiment results or lookup files."""
        if is_literal_collection(iterable) or any(_RESULT_READERS.search(n) for n in _context_names(self.scan)):
            return False
        resolved = self.bindings.resolve(iterable)
        texts = [self.scan.code(iterable)] + ([self.scan.code(resolved)] if resolved is not None else [])
        return not any(SMALL_FILE_WORDS.search(t) or _RESULT_FILES.search(t) for t in texts)

    def _record_concat(self, node: cst.Call) -> None:
        objs = argument(node, "objs", 0)
        if isinstance(objs, (cst.ListComp, cst.GeneratorExp)):
            self.concat_comprehensions.add(id(objs))
        elif isinstance(objs, cst.Name):
            self._facts().concatenated.add(objs.value)

    def _record_append(self, node: cst.Call) -> None:
        receiver = node.func.value  # type: ignore[attr-defined]
        if not isinstance(receiver, cst.Name) or len(node.args) != 1:
            return
        value = node.args[0].value
        key = value.value if isinstance(value, cst.Name) else f"call:{id(value)}"
        self._facts().appended.setdefault(receiver.value, set()).add(key)

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._settle(self.facts.pop(id(node), None))

    def finish(self) -> None:
        for facts in self.facts.values():
            self._settle(facts)
        self.facts.clear()

    def _settle(self, facts: _FunctionFacts | None) -> None:
        if facts is None:
            return
        for read in facts.loop_reads:
            keys = {f"call:{id(read.call)}"} | ({read.target} if read.target else set())
            if any(keys & facts.appended.get(name, set()) for name in facts.concatenated):
                iterable = short(self.scan.code(read.loop.iter))
                self.report(read.call, symbol=read.symbol, function=read.function,
                            call=self.scan.code(read.call.func),
                            source=f"every file of `{iterable}` (then `pd.concat`)",
                            instead=_PANDAS_READERS[read.callee.removeprefix("pandas.")][2])


def _comprehension_iterable(node: cst.CSTNode) -> cst.BaseExpression | None:
    generator = getattr(node, "for_in", None)
    return generator.iter if isinstance(generator, cst.CompFor) else None


# -- LOAD002 -------------------------------------------------------------------

_FILE_OPENERS = frozenset({
    "builtins.open", "io.open", "codecs.open", "gzip.open", "bz2.open", "lzma.open",
    "pathlib.Path.open", "fsspec.open", "smart_open.open",
})
_WHOLE_TEXT_READERS = frozenset({"pathlib.Path.read_text", "pathlib.PosixPath.read_text"})
_LINES = "iterate the open file line by line"
_JSON = "store it as JSON Lines and read one record at a time (or parse it incrementally with `ijson`)"
_PICKLE = "shard it and load one shard at a time"
_COPY = "copy it in blocks with `shutil.copyfileobj`"
_RECORDS = "yield records one at a time (a generator or an `IterableDataset`) instead of building a list"
_CSV_READERS = frozenset({"csv.reader", "csv.DictReader"})
# loader that takes an open file -> how to read it piece by piece instead
_HANDLE_LOADERS = {
    "json.load": _JSON, "ujson.load": _JSON, "simplejson.load": _JSON, "pickle.load": _PICKLE,
}
# loader that takes the whole text -> how to read it piece by piece instead
_TEXT_LOADERS = {
    "json.loads": _JSON, "ujson.loads": _JSON, "simplejson.loads": _JSON, "orjson.loads": _JSON,
}
# array loader -> (path parameter, the keyword that maps the file instead, how to read it lazily)
_ARRAY_LOADERS = {
    "numpy.load": ("file", "mmap_mode", "open it with `mmap_mode='r'`"),
    "torch.load": ("f", "mmap", "load it with `mmap=True`, or shard it"),
}
# Loaders of whole Python objects and arrays: what they read is often weights or training state.
_STATE_LOADERS = frozenset({"torch.load", "pickle.load", "numpy.load"})
# What those loaders usually read: weights and training state, sized by the model, not the data.
_CHECKPOINT_WORDS = re.compile(
    r"(ckpt|checkpoint|model|weight|state|optim|schedul|adapter|lora|pretrain|resume|params|\.pth|\.bin\b|"
    r"safetensors|vae|unet|encoder|decoder|head|embed_tokens|scaler|rng)",
    re.IGNORECASE,
)
# Methods that restore an object's own saved state (a scheduler's or callback's load hook).
_STATE_HOOKS = re.compile(r"^_*(load|load_state(_dict)?|recover|restore|resume|on_load\w*)$")
# Functions that load one item of a dataset: the file is one sample, not the data set.
_PER_ITEM_FUNCTIONS = re.compile(r"^_*(getitem|get_?item|load_?(image|img|item|sample|frame|example|clip|audio))",
                                 re.IGNORECASE)
# Function and class names that say the file is a small lookup, whatever its path.
_SMALL_CONTEXT_WORDS = re.compile(r"(config|vocab|meta|label|schema|setting|param|version|tokeniz|template|"
                                  r"mapping|stat|info|index|size|count|length)", re.IGNORECASE)
# Names the result is bound to that say it holds a data set.
_DATA_TARGETS = re.compile(r"(dataset|examples|samples|annotations|records|corpus|instances|conversations|"
                           r"dialog|train|_data$|raw_data|input_data|lines)", re.IGNORECASE)
# `data = json.load(f)` is how any file is read; the bare name counts only in a data package's module.
_DATA_PACKAGES = re.compile(r"(^|/)(data|datasets?|dataio)/")


@dataclass
class _WholeRead:
    call: cst.Call | cst.ListComp
    file: str
    instead: str
    symbol: str
    function: str


@register
class WholeFileRead(BindingDetector):
    """A data file (training set, corpus, annotations, logs) read whole into memory:
    ``readlines()``, ``read().splitlines()``, ``json.load``, ``pickle.load``, ``np.load``
    without ``mmap_mode``, ``torch.load`` of data rather than weights."""

    name = "whole-file-read"
    # Every whole read goes through an opener (open, gzip.open, Path.open), read_text, or an
    # array loader; the openers all end in `open`, which is the whole of `builtins.open`.
    tokens = (
        *sorted({qualified.rsplit(".", 1)[1] for qualified in _FILE_OPENERS | _WHOLE_TEXT_READERS}),
        *(names_of(qualified) for qualified in _ARRAY_LOADERS),
    )
    code_tokens = True
    fields = frozenset({"file", "instead"})

    def __init__(self, scan, rule, options) -> None:
        super().__init__(scan, rule, options)
        self.pending: dict[int | None, list[_WholeRead]] = {}
        self.written: dict[int | None, set[str]] = {}

    def visit_Call(self, node: cst.Call) -> None:
        qualified = self.scan.names.qualify(node.func)
        if qualified in _FILE_OPENERS:
            self._record_write(node)
            return
        self._consider(node, self._whole_read(node, qualified))

    def visit_ListComp(self, node: cst.ListComp) -> None:
        # [json.loads(line) for line in f]: every record of the file in one list.
        path = self._records_of(node.for_in.iter) if node.for_in.inner_for_in is None else None
        self._consider(node, (path, _RECORDS) if path is not None else None)

    def _consider(self, node: cst.Call | cst.ListComp, found: tuple[cst.BaseExpression, str] | None) -> None:
        if found is None or _PER_ITEM_FUNCTIONS.match(self.scan.context.function_name):
            return
        path, instead = found
        file = data_file(self.scan, self.bindings, path, self.bindings.target_of(node))
        if file is not None:
            context = self.scan.context
            self.pending.setdefault(self.bindings.scope_key(), []).append(
                _WholeRead(node, file, instead, context.symbol, context.function_name))

    def _records_of(self, iterable: cst.BaseExpression) -> cst.BaseExpression | None:
        """The path behind an open file or a ``csv.reader`` over one: records read one at a time."""
        if isinstance(iterable, cst.Call) and self.scan.names.qualify(iterable.func) in _CSV_READERS and iterable.args:
            iterable = iterable.args[0].value
        return self._opened_path(iterable)

    def _whole_read(self, node: cst.Call, qualified: str | None) -> tuple[cst.BaseExpression, str] | None:
        """The path a call reads whole and what to do instead; None if it is no such call
        or it reads weights or training state."""
        if has_splat(node):
            return None
        found = self._read_whole(node, qualified)
        if found is not None and qualified in _STATE_LOADERS and \
                self._checkpoint(self._path_text(found[0]), self.bindings.target_of(node)):
            return None
        return found

    def _path_text(self, path: cst.BaseExpression) -> str:
        """The path as written and, when it is a known string, its value."""
        return self.scan.code(path) + " " + (self.bindings.string(path) or "")

    def _read_whole(self, node: cst.Call, qualified: str | None) -> tuple[cst.BaseExpression, str] | None:
        """The path a call reads whole and what to do instead, whatever the file holds."""
        if qualified in _HANDLE_LOADERS and node.args:
            path = self._opened_path(node.args[0].value)
            return (path, _HANDLE_LOADERS[qualified]) if path is not None else None
        if qualified in _TEXT_LOADERS and node.args:
            path = self._read_whole_text(node.args[0].value)
            return (path, _TEXT_LOADERS[qualified]) if path is not None else None
        if qualified in _ARRAY_LOADERS:
            parameter, lazy, instead = _ARRAY_LOADERS[qualified]
            path = argument(node, parameter, 0)
            if path is None or lazy in keywords(node):
                return None
            if "npz" in self._path_text(path).lower():
                return None  # an .npz archive is read lazily, array by array
            return path, instead
        if qualified in ("builtins.list", "builtins.tuple") and len(node.args) == 1:
            path = self._records_of(node.args[0].value)
            return (path, _RECORDS) if path is not None else None
        path = self._read_as_lines(node) or self._copied_whole(node)
        if path is None:
            return None
        return path, _COPY if isinstance(node.func, cst.Attribute) and node.func.attr.value == "write" else _LINES

    def _copied_whole(self, node: cst.Call) -> cst.BaseExpression | None:
        """The path behind ``out.write(f.read())``: a file copied through memory in one piece."""
        func = node.func
        if not (isinstance(func, cst.Attribute) and func.attr.value == "write" and len(node.args) == 1):
            return None
        data = node.args[0].value
        if isinstance(data, cst.Call) and isinstance(data.func, cst.Attribute) and data.func.attr.value == "read" \
                and not data.args:
            return self._opened_path(data.func.value)
        return None

    def _checkpoint(self, path: str, target: str | None) -> bool:
        if _STATE_HOOKS.match(self.scan.context.function_name):
            return True
        names = (path, *_context_names(self.scan), target or "")
        return any(_CHECKPOINT_WORDS.search(name) for name in names)

    def _read_as_lines(self, node: cst.Call) -> cst.BaseExpression | None:
        """The path behind ``f.readlines()``, ``f.read().splitlines()``, ``Path(p).read_text().split("\\n")``."""
        func = node.func
        if not isinstance(func, cst.Attribute):
            return None
        method = func.attr.value
        if method == "readlines" and not node.args:
            return self._opened_path(func.value)
        if method == "splitlines" or (method == "split" and _splits_on_newline(node)):
            return self._read_whole_text(func.value)
        return None

    def _read_whole_text(self, expr: cst.BaseExpression) -> cst.BaseExpression | None:
        """The path behind ``f.read()`` or ``Path(p).read_text()``."""
        if not (isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute) and not expr.args):
            return None
        if expr.func.attr.value == "read":
            return self._opened_path(expr.func.value)
        if self.scan.names.qualify(expr.func) in _WHOLE_TEXT_READERS:
            return _path_argument(self.scan, self.bindings.resolve(expr.func.value)) or expr.func.value
        return None

    def _opened_path(self, handle: cst.BaseExpression) -> cst.BaseExpression | None:
        """The path a file handle was opened on (``open(p)``, ``Path(p).open()``), if it is one."""
        if self.scan.names.qualify(handle) not in _FILE_OPENERS:
            return None
        opened = self.bindings.resolve(handle)
        if not isinstance(opened, cst.Call):
            return None
        if isinstance(opened.func, cst.Attribute) and self.scan.names.qualify(opened.func) == "pathlib.Path.open":
            receiver = self.bindings.resolve(opened.func.value)
            return _path_argument(self.scan, receiver) or opened.func.value
        mode = literal_text(argument(opened, "mode", 1))
        if mode and any(c in mode for c in "wa+"):
            return None
        return argument(opened, "file", 0)

    def _record_write(self, node: cst.Call) -> None:
        """Files opened for writing in this function: reading one whole before rewriting
        it in place is the only way, not a choice."""
        mode = literal_text(argument(node, "mode", 1))
        path = argument(node, "file", 0)
        if mode and any(c in mode for c in "wa+") and path is not None:
            self.written.setdefault(self.bindings.scope_key(), set()).add(f"`{short(self.scan.code(path))}`")

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._settle(id(node))

    def finish(self) -> None:
        for key in list(self.pending):
            self._settle(key)

    def _settle(self, key: int | None) -> None:
        written = self.written.pop(key, set())
        for read in self.pending.pop(key, []):
            if read.file not in written:
                self.report(read.call, symbol=read.symbol, function=read.function, file=read.file, instead=read.instead)


def data_file(scan, bindings, path: cst.BaseExpression, target: str | None) -> str | None:
    """The path as written, if the code says it holds growing data (its path, the function or
    class around it, the name the result gets) and nothing says it is a small or result file."""
    resolved = bindings.resolve(path)
    resolved = _path_argument(scan, resolved) or resolved
    text = scan.code(path)
    texts = [text, scan.code(resolved) if resolved is not None else text]
    # In `config.data.path` only the last name says what the file is; `config` holds the setting.
    named = [_last_segment(scan, path), _last_segment(scan, resolved) if resolved is not None else ""]
    if any(SMALL_FILE_WORDS.search(t) or _RESULT_FILES.search(t) or _NOT_A_DATA_FILE.search(t) for t in named):
        return None
    names = _context_names(scan)
    if _saved_by_its_class(scan):
        return None
    if any(_SMALL_CONTEXT_WORDS.search(n) or _RESULT_READERS.search(n) for n in [*names, target or ""]):
        return None
    if any(DATA_FILE_WORDS.search(_FORM_WORDS.sub("", t)) for t in texts + names) or \
            (target and _DATA_TARGETS.search(target)) or (target == "data" and _DATA_PACKAGES.search(scan.path)):
        return f"`{short(text)}`"
    return None


def _context_names(scan) -> list[str]:
    """The names of the function and the class around the current node ("" when there is none)."""
    owner = scan.context.enclosing_class
    return [scan.context.function_name, owner.name if owner is not None else ""]


def _saved_by_its_class(scan) -> bool:
    """A load method whose class has a save method that writes a whole object (``load_from_disk``
    and ``save_to_disk`` pickling ``self``; ``_load_content_from_file`` and ``_save`` calling
    ``self._content.to_csv``): the read restores what the object already held in memory."""
    owner = scan.context.enclosing_class
    if owner is None or not _LOAD_METHODS.match(scan.context.function_name):
        return False
    return any(
        isinstance(method, cst.FunctionDef) and _SAVE_METHODS.match(method.name.value)
        and _writes_whole_object(scan, method)
        for method in owner.node.body.body
    )


def _writes_whole_object(scan, method: cst.FunctionDef) -> bool:
    for node in walk(method.body):
        if not isinstance(node, cst.Call):
            continue
        if scan.names.qualify(node.func) in _SERIALIZERS:
            return True
        if isinstance(node.func, cst.Attribute) and node.func.attr.value in _FRAME_WRITERS:
            return True
    return False


def _last_segment(scan, node: cst.BaseExpression) -> str:
    if isinstance(node, cst.Attribute):
        return node.attr.value
    return scan.code(node)


def _path_argument(scan, node: cst.BaseExpression | None) -> cst.BaseExpression | None:
    """``p`` in ``Path(p)`` or ``str(p)``; None for anything else."""
    if isinstance(node, cst.Call) and scan.names.qualify(node.func) in ("pathlib.Path", "builtins.str"):
        return argument(node, "path", 0)
    return None


def _splits_on_newline(call: cst.Call) -> bool:
    if len(call.args) != 1:
        return False
    return literal_text(call.args[0].value) in ("\n", "\r\n")


# -- LOAD003 -------------------------------------------------------------------

# Roots whose results are DB-API connections, cursors or SQLAlchemy connections.
_DB_ROOTS = (
    "sqlite3.connect", "sqlite3.Connection", "sqlite3.Cursor",
    "psycopg2.connect", "psycopg.connect", "psycopg.Connection", "psycopg.AsyncConnection.connect",
    "pymysql.connect", "MySQLdb.connect", "mysql.connector.connect", "pyodbc.connect",
    "snowflake.connector.connect", "duckdb.connect", "duckdb.DuckDBPyConnection",
    "oracledb.connect", "cx_Oracle.connect", "databricks.sql.connect", "trino.dbapi.connect",
    "aiosqlite.connect", "pymssql.connect", "teradatasql.connect", "ibm_db_dbi.connect",
    "sqlalchemy.create_engine", "sqlalchemy.engine.create_engine", "sqlalchemy.engine.Engine",
    "sqlalchemy.Engine", "sqlalchemy.engine.Connection", "sqlalchemy.Connection",
    "sqlalchemy.ext.asyncio.create_async_engine", "sqlalchemy.ext.asyncio.AsyncConnection",
)
_ORM_SESSIONS = (
    "sqlalchemy.orm.Session", "sqlalchemy.orm.session.Session", "sqlalchemy.orm.sessionmaker",
    "sqlalchemy.orm.scoped_session", "sqlmodel.Session", "sqlalchemy.ext.asyncio.AsyncSession",
    "sqlalchemy.ext.asyncio.async_sessionmaker",
)
# Methods between the root and the fetch that keep it the same result set.
_DB_PASSTHROUGH = frozenset({"cursor", "connect", "begin", "execute", "raw_connection", "scalars", "mappings", "unique"})
_ORM_PASSTHROUGH = frozenset({"join", "outerjoin", "order_by", "options", "select_from", "execution_options",
                              "distinct", "add_columns", "with_entities"})
_ORM_FILTERS = frozenset({"filter", "filter_by", "where"})
_MIGRATIONS = re.compile(r"(^|/)(migrations?|alembic|db_migrations)/")
_SESSION_NAMES = re.compile(r"(^|_)(session|db_session|sess)$", re.IGNORECASE)
_CURSOR_NAMES = re.compile(r"(^|_)(cur|curs|cursor|get_cursor)$", re.IGNORECASE)
# Functions that run a caller's query or load a whole source: whatever the query, all of it comes back.
_QUERY_RUNNERS = re.compile(r"^_*(query|run_query|execute|execute_query|run_sql|load|lazy_load|load_data|"
                            r"fetch_all|dump|export|read_table|read_sql)$")
# Tables that grow with use: one row per run, metric point, event, message, document, prediction.
_GROWING_TABLES = re.compile(
    r"(run|metric|event|log|message|trace|span|record|document|chunk|embedding|sample|example|item|"
    r"order|transaction|interaction|click|request|history|prediction|observation|trial|job|task|"
    r"artifact|attempt|execution)",
    re.IGNORECASE,
)
_SELECT_BOUNDS = frozenset({"where", "filter", "filter_by", "limit", "group_by", "having", "offset", "slice",
                            "fetch", "with_only_columns"})
_SQL_FUNCTIONS = ("sqlalchemy.text", "sqlalchemy.sql.text", "sqlalchemy.sql.expression.text")
_SQL_SELECTS = ("sqlalchemy.select", "sqlalchemy.sql.select", "sqlalchemy.sql.expression.select",
                "sqlalchemy.future.select", "sqlmodel.select")


# Tables that hold configuration rather than data: a handful of rows however the business grows.
_REFERENCE_TABLES = re.compile(
    r"(pool|config|setting|automation|role|permission|connection|variable|plugin|tenant|workspace|"
    r"organi[sz]ation|team|schema|version|flag|option|preference|template|alembic|migration|"
    r"sqlite_|information_schema|pg_)",
    re.IGNORECASE,
)


def _root_and_rest(qualified: str | None, roots: tuple[str, ...]) -> tuple[str, list[str]] | None:
    if qualified is None:
        return None
    for root in roots:
        if qualified == root or qualified.startswith(root + "."):
            return root, chain_segments(qualified, root)
    return None


@register
class DbFetchAll(BindingDetector):
    """``fetchall()`` / ``.all()`` on a database result whose query visibly reads a whole table."""

    name = "db-fetch-all"
    # `fetchall()`, or `.all()` on a known database type or on an untyped `...session.query(...)`
    # chain (the root's name ends in `session` or `sess`).
    tokens = (
        "fetchall",
        ("all", "query", re.compile(r"sess(ion)?\b", re.IGNORECASE)),
        *(("all", *names_of(root)) for root in _DB_ROOTS + _ORM_SESSIONS),
    )
    code_tokens = True
    fields = frozenset({"query", "table"})

    def __init__(self, scan, rule, options) -> None:
        super().__init__(scan, rule, options)
        self.last_query: dict[tuple[int | None, str], cst.BaseExpression] = {}

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not isinstance(func, cst.Attribute):
            return
        method = func.attr.value
        if method in ("execute", "executemany") and node.args:
            self.last_query[(self.bindings.scope_key(), self.scan.code(func.value))] = node.args[0].value
            return
        if method not in ("fetchall", "all") or node.args:
            return
        if _MIGRATIONS.search(self.scan.path):
            return  # a schema migration visits every row once, by design
        table = self._whole_table_read(func.value, method) or self._untyped_read(func.value, method)
        if table is not None and not _REFERENCE_TABLES.search(table[0]):
            self.report(node, table=table[0], query=table[1])

    def _untyped_read(self, receiver: cst.BaseExpression, method: str) -> tuple[str, str] | None:
        """Reads through objects whose type the resolver cannot see (a ``session`` parameter,
        ``self._get_cursor()``): an ORM ``session.query(Model)`` with no row bound, or a
        cursor's ``fetchall()`` of an opaque query in a function that loads or runs queries."""
        qualified = self.scan.names.qualify(receiver)
        if _root_and_rest(qualified, _DB_ROOTS + _ORM_SESSIONS) is not None:
            return None  # a known type, judged by _whole_table_read
        chain = method_chain(receiver)
        root_name = _last_name(chain_root(receiver))
        if method == "all" and root_name is not None and _SESSION_NAMES.search(root_name):
            return self._orm_rows(chain)
        if method == "fetchall" and root_name is not None and _CURSOR_NAMES.search(root_name):
            query = self._query_of(receiver)
            if query is None or self.bindings.string(query) is not None:
                return None  # a literal query is judged by its text
            if _QUERY_RUNNERS.match(self.scan.context.function_name):
                return "the query's result", short(self.scan.code(query), 60)
        return None

    def _orm_rows(self, chain: list[tuple[str, cst.Call | None]]) -> tuple[str, str] | None:
        """``session.query(Model)[.filter(...)].all()``: every row, or every row of a parent
        (runs of an experiment) in a table that grows; a primary-key filter is one row."""
        methods = [method for method, _ in chain]
        if "query" not in methods or any(m not in _ORM_PASSTHROUGH | _ORM_FILTERS | {"query"} for m in methods):
            return None
        model = self._orm_query_model_of(chain)
        if model is None:
            return None
        filters = [call for method, call in chain if method in _ORM_FILTERS and call is not None]
        if not filters:
            return model, f"query({model})"
        if not _GROWING_TABLES.search(model) or any(self._primary_key_filter(model, call) for call in filters):
            return None
        return model, f"query({model}).{chain[0][0] if chain[0][0] in _ORM_FILTERS else 'filter'}(...)"

    def _orm_query_model_of(self, chain: list[tuple[str, cst.Call | None]]) -> str | None:
        for method, call in chain:
            if method == "query" and call is not None:
                if len(call.args) == 1 and _looks_like_model(call.args[0].value):
                    return self.scan.code(call.args[0].value)
                return None
        return None

    def _primary_key_filter(self, model: str, call: cst.Call) -> bool:
        """``Model.id == x``, ``filter_by(run_uuid=...)`` on ``SqlRun``: one row."""
        owner = re.sub(r"^(Sql|Db|Orm)|Model$|s$", "", model.split(".")[-1]).lower()
        columns = [arg.keyword.value for arg in call.args if arg.keyword is not None]
        columns += [node.attr.value for arg in call.args for node in walk(arg.value) if isinstance(node, cst.Attribute)]
        return any(c in ("id", "uuid", "pk") or (c.split("_")[0] == owner and c.endswith(("_id", "_uuid"))) for c in columns)

    def _whole_table_read(self, receiver: cst.BaseExpression, method: str) -> tuple[str, str] | None:
        qualified = self.scan.names.qualify(receiver)
        found = _root_and_rest(qualified, _DB_ROOTS)
        if found is not None:
            _, segments = found
            if not segments or any(s not in _DB_PASSTHROUGH for s in segments):
                return None
            if method == "all" and not segments[-1] in ("execute", "scalars", "mappings", "unique"):
                return None
            return self._table_of_query(self._query_of(receiver))
        found = _root_and_rest(qualified, _ORM_SESSIONS)
        if found is None or method != "all":
            return None
        _, segments = found
        if segments[:1] == ["query"] and all(s in _ORM_PASSTHROUGH for s in segments[1:]):
            model = self._orm_query_model(receiver)
            return (model, f"query({model})") if model else None
        if segments and segments[0] in ("execute", "scalars") and all(s in _DB_PASSTHROUGH for s in segments[1:]):
            return self._table_of_query(self._query_of(receiver))
        return None

    def _query_of(self, receiver: cst.BaseExpression) -> cst.BaseExpression | None:
        """The query behind a result: the ``execute``/``scalars`` call in its chain, or the
        last ``execute`` on the same cursor in this function."""
        for method, call in self.bindings.full_chain(receiver):
            if method in ("execute", "scalars") and call is not None and call.args:
                return call.args[0].value
        return self.last_query.get((self.bindings.scope_key(), self.scan.code(receiver)))

    def _table_of_query(self, query: cst.BaseExpression | None) -> tuple[str, str] | None:
        seen: set[int] = set()  # `query = text(query)` rebinds a name to a call on itself
        while True:
            query = self.bindings.resolve(query)
            if query is None or id(query) in seen:
                return None
            seen.add(id(query))
            if not isinstance(query, cst.Call):
                break
            callee = self.scan.names.qualify(query.func)
            if callee not in _SQL_FUNCTIONS or not query.args:
                return self._select_whole_model(query)
            query = query.args[0].value
        text = literal_text(query)
        if text is None:
            return None
        table = whole_table(text)
        if table is None or "{}" in table:
            return None
        return table, short(text, 60)

    def _select_whole_model(self, query: cst.Call) -> tuple[str, str] | None:
        chain = self.bindings.full_chain(query)
        if any(method in _SELECT_BOUNDS for method, _ in chain):
            return None
        root = query
        while isinstance(root.func, cst.Attribute) and isinstance(root.func.value, cst.Call):
            root = root.func.value
        if self.scan.names.qualify(root.func) not in _SQL_SELECTS or len(root.args) != 1:
            return None
        model = self.scan.code(root.args[0].value)
        return (model, f"select({model})") if _looks_like_model(root.args[0].value) else None

    def _orm_query_model(self, receiver: cst.BaseExpression) -> str | None:
        for method, call in self.bindings.full_chain(receiver):
            if method == "query" and call is not None:
                if len(call.args) == 1 and _looks_like_model(call.args[0].value):
                    return self.scan.code(call.args[0].value)
                return None
        return None


def _last_name(node: cst.BaseExpression) -> str | None:
    """``session`` for ``session``, ``self.session`` or ``self._get_cursor()``."""
    if isinstance(node, cst.Call):
        node = node.func
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return node.attr.value
    return None


def _looks_like_model(node: cst.BaseExpression) -> bool:
    """A mapped class (``User``, ``models.User``), not a column (``User.id``) or an expression."""
    if isinstance(node, cst.Name):
        return node.value[:1].isupper()
    if isinstance(node, cst.Attribute):
        return node.attr.value[:1].isupper()
    return False


# -- LOAD004 -------------------------------------------------------------------

_SPARK_ROOTS = (
    "pyspark.sql.SparkSession", "pyspark.sql.session.SparkSession", "pyspark.sql.DataFrame",
    "pyspark.sql.dataframe.DataFrame", "pyspark.sql.connect.session.SparkSession",
    "pyspark.SparkContext", "pyspark.context.SparkContext", "pyspark.RDD", "pyspark.rdd.RDD",
    "pyspark.pandas",
)
_AMBIENT_SPARK_NAMES = frozenset({"spark", "spark_session", "sparkSession"})
_DATAFRAME_TYPES = frozenset({"pyspark.sql.DataFrame", "pyspark.sql.dataframe.DataFrame"})
_DASK_ROOTS = ("dask.dataframe", "dask.bag", "dask.array", "dask_cudf", "dask_expr")
_RAY_DATA_ROOTS = ("ray.data",)
# Where a distributed collection starts: reading storage, a table or a query.
_DISTRIBUTED_SOURCES = frozenset({
    "read", "sql", "table", "textFile", "wholeTextFiles", "sequenceFile", "binaryFiles", "newAPIHadoopFile",
    "hadoopFile", "pickleFile", "readStream",
    "read_csv", "read_parquet", "read_json", "read_table", "read_sql", "read_sql_table", "read_sql_query",
    "read_orc", "read_text", "read_delta", "read_hdf", "read_fwf", "read_avro", "read_bigquery",
    "read_images", "read_binary_files", "read_datasource", "read_webdataset", "read_tfrecords",
    "read_numpy", "read_mongo", "read_databricks_tables", "read_sql_query", "from_zarr", "from_parquet",
    "from_delayed", "from_huggingface", "from_spark",
})
# Anything in the chain that makes the result small, or local data that was small to begin with.
_REDUCERS = frozenset({
    "agg", "aggregate", "groupBy", "groupby", "count", "limit", "take", "head", "tail", "first", "describe",
    "summary", "sum", "mean", "min", "max", "std", "var", "nunique", "value_counts", "size", "nlargest",
    "nsmallest", "quantile", "approxQuantile", "countByKey", "countByValue", "reduce", "reduceByKey",
    "aggregateByKey", "foldByKey", "combineByKey", "fold", "cube", "rollup", "pivot", "crosstab",
    "freqItems", "sample", "sampleBy", "randomSplit", "show", "schema", "columns", "dtypes", "distinct_count",
    "isEmpty", "parallelize", "createDataFrame", "range", "from_pandas", "from_items", "from_numpy",
    "from_sequence", "from_array", "unique", "drop_duplicates", "dropDuplicates", "distinct", "stats",
    "top", "takeOrdered", "takeSample", "to_delayed", "persist", "cache", "iter_batches", "iter_rows",
    "toLocalIterator", "mode", "corr", "cov", "all", "any", "prod",
})
_AGGREGATE_FUNCTIONS = re.compile(
    r"^(pyspark\.sql\.functions|pyspark\.sql\.connect\.functions)\."
    r"(count|countDistinct|count_distinct|sum|sum_distinct|avg|mean|min|max|min_by|max_by|first|last|"
    r"collect_list|collect_set|approx_count_distinct|stddev|stddev_pop|stddev_samp|variance|var_pop|"
    r"var_samp|percentile_approx|percentile|median|mode|corr|covar_pop|covar_samp|kurtosis|skewness|"
    r"any_value|bool_and|bool_or|every|some|histogram_numeric|count_if|product)$"
)
_SPARK_SQL_REDUCERS = re.compile(
    r"\b(COUNT|SUM|AVG|MIN|MAX|LIMIT|GROUP\s+BY|DESCRIBE|SHOW|EXPLAIN|TABLESAMPLE|PERCENTILE\w*|APPROX_\w+)\b",
    re.IGNORECASE,
)
# terminal method -> engines it belongs to
_DRIVER_COLLECTORS: dict[str, tuple[str, ...]] = {
    "collect": ("spark",),
    "collectAsMap": ("spark",),
    "toPandas": ("spark",),
    "to_pandas": ("spark", "ray"),
    "compute": ("dask",),
    "take_all": ("ray",),
    "to_numpy": ("spark",),
}


_ENGINES = (("spark", _SPARK_ROOTS), ("dask", _DASK_ROOTS), ("ray", _RAY_DATA_ROOTS))
# The names in the code a chain of each engine starts from (Spark's may start from the ambient `spark`).
_ENGINE_ROOT_NAMES = {engine: [names_of(root) for root in roots] for engine, roots in _ENGINES}
_ENGINE_ROOT_NAMES["spark"] += [(name,) for name in sorted(_AMBIENT_SPARK_NAMES)]


def _engine_of(qualified: str) -> tuple[str, str] | None:
    for engine, roots in _ENGINES:
        for root in roots:
            if qualified == root or qualified.startswith(root + "."):
                return engine, root
    return None


@register
class CollectToDriver(BindingDetector):
    """A distributed collection read from storage, pulled whole into the driver with no reduction."""

    name = "collect-to-driver"
    # An untyped `toPandas()`, or a collector on a chain from an engine's module (or Spark's
    # ambient `spark`): the collector's name and the root's are in the code.
    tokens = (
        "toPandas",
        *((frozenset(m for m, engines in _DRIVER_COLLECTORS.items() if engine in engines), *root)
          for engine, roots in _ENGINE_ROOT_NAMES.items() for root in roots),
    )
    code_tokens = True
    fields = frozenset({"collection", "method", "engine"})

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not isinstance(func, cst.Attribute) or func.attr.value not in _DRIVER_COLLECTORS:
            return
        method = func.attr.value
        if method == "to_pandas" and any(arg.keyword and arg.keyword.value == "limit" for arg in node.args):
            return
        receiver = func.value
        qualified = qualify_through_subscripts(self.scan, receiver) or self._ambient_spark(receiver)
        if qualified is None:
            if method == "toPandas" and not self._reduced(self.bindings.full_chain(receiver)):
                # Only Spark DataFrames have toPandas(); an untyped one (a parameter) is still one.
                self.report(node, collection=short(self.scan.code(receiver)), method=method, engine="Spark")
            return
        found = _engine_of(qualified)
        if found is None or found[0] not in _DRIVER_COLLECTORS[method]:
            return
        engine, root = found
        segments = chain_segments(qualified, root)
        # A typed DataFrame parameter counts as a source: nothing says it was made small.
        from_storage = any(s in _DISTRIBUTED_SOURCES for s in segments) or root in _DATAFRAME_TYPES
        if not from_storage or any(s in _REDUCERS for s in segments):
            return
        chain = self.bindings.full_chain(receiver)
        if self._reduced(chain):
            return
        self.report(node, collection=short(self.scan.code(receiver)), method=method,
                    engine={"spark": "Spark", "dask": "Dask", "ray": "Ray"}[engine])

    def _ambient_spark(self, receiver: cst.BaseExpression) -> str | None:
        """Notebooks and ``pyspark`` shells get ``spark`` without an import; a chain that starts
        from an unbound (or untyped) ``spark`` is a SparkSession's."""
        chain, root = self.bindings.origin(receiver)
        if not (isinstance(root, cst.Name) and root.value in _AMBIENT_SPARK_NAMES):
            return None
        if self.scan.names.lookup(root.value) is not None:
            return None
        return ".".join(["pyspark.sql.SparkSession", *(method for method, _ in reversed(chain))])

    def _reduced(self, chain: list[tuple[str, cst.Call | None]]) -> bool:
        for method, call in chain:
            if method in _REDUCERS:
                return True
            if call is None:
                continue
            if method in ("select", "selectExpr", "withColumn", "filter", "where") and self._aggregates(call):
                return True
            if method in ("select", "selectExpr") and any(arg.star or isinstance(arg.value, cst.Name) for arg in call.args):
                return True  # columns held in a variable may be aggregates: unknown
            if method == "sql" and call.args:
                query = self.bindings.string(call.args[0].value)
                # No FROM: a query of functions (current_catalog(), version()) returns one row.
                if query is None or _SPARK_SQL_REDUCERS.search(query) or not re.search(r"\bFROM\b", query, re.IGNORECASE):
                    return True
        return False

    def _aggregates(self, call: cst.Call) -> bool:
        for arg in call.args:
            text = literal_text(arg.value)
            if text is not None and _SPARK_SQL_REDUCERS.search(text):
                return True
            for current in walk(arg.value, into_nested=True):
                if isinstance(current, cst.Call):
                    name = self.scan.names.qualify(current.func)
                    if name and _AGGREGATE_FUNCTIONS.match(name):
                        return True
        return False


# -- LOAD005 -------------------------------------------------------------------

_MATERIALIZERS = frozenset({"builtins.list", "builtins.tuple", "builtins.sorted", "builtins.set"})
_BOTO3_COLLECTIONS = frozenset({"objects", "object_versions", "multipart_uploads", "instances", "images",
                                "snapshots", "volumes", "queues", "topics", "subscriptions", "tables"})
_BLOB_PACKAGES = ("google.cloud.storage", "azure.storage.blob")
_BLOB_LISTINGS = ("list_blobs", "list_blob_names", "walk_blobs")
_HUB_MODEL_LISTINGS = ("list_models", "list_datasets", "list_spaces")
_HUB_LISTINGS = re.compile(
    r"^huggingface_hub(\.hf_api)?(\.HfApi)?\.(list_models|list_datasets|list_spaces|list_repo_files|"
    r"list_repo_tree|list_repo_commits|list_collections|list_liked_repos)$"
)


@register
class StreamMaterialized(BindingDetector):
    """A paged or streaming listing (S3, GCS, Azure, the HF Hub, a streaming dataset)
    turned into one in-memory list: ``list(...)``, a comprehension, or a loop that appends."""

    name = "stream-materialized"
    # One group per kind of stream `_is_stream` knows (a streaming dataset's with `streaming=True`).
    tokens = (
        ("boto3", "get_paginator", "paginate"),
        ("boto3", _BOTO3_COLLECTIONS),
        *((*names_of(package), frozenset(_BLOB_LISTINGS)) for package in _BLOB_PACKAGES),
        ("huggingface_hub", frozenset(_HUB_MODEL_LISTINGS)),
        ("datasets", "load_dataset", "streaming", "True"),
    )
    code_tokens = True
    fields = frozenset({"stream", "how"})

    def visit_Call(self, node: cst.Call) -> None:
        if self.scan.names.qualify(node.func) not in _MATERIALIZERS or len(node.args) != 1 or node.args[0].star:
            return
        stream = node.args[0].value
        if self._is_stream(stream):
            self.report(node, stream=short(self.scan.code(stream)), how=f"`{self.scan.code(node.func)}(...)`")

    def visit_ListComp(self, node: cst.ListComp) -> None:
        self._comprehension(node)

    def visit_SetComp(self, node: cst.SetComp) -> None:
        self._comprehension(node)

    def visit_DictComp(self, node: cst.DictComp) -> None:
        self._comprehension(node)

    def _comprehension(self, node: cst.ListComp | cst.SetComp | cst.DictComp) -> None:
        if node.for_in.inner_for_in is None and self._is_stream(node.for_in.iter):
            self.report(node, stream=short(self.scan.code(node.for_in.iter)), how="a comprehension")

    def visit_For(self, node: cst.For) -> None:
        if not self._is_stream(node.iter):
            return
        loop_targets = set(bound_names(node.target))
        for grown in grown_lists(node.body):
            if grown not in loop_targets:
                self.report(node, stream=short(self.scan.code(node.iter)), how=f"a loop that grows `{grown}`")
                return

    def _is_stream(self, expr: cst.BaseExpression) -> bool:
        if isinstance(expr, cst.Subscript):
            # A split of a streaming dataset dict: load_dataset(..., streaming=True)["train"]
            return self._is_streaming_dataset(expr.value)
        qualified = self.scan.names.qualify(expr)
        if qualified is None:
            return False
        segments = qualified.split(".")
        if segments[0] == "boto3":
            if segments[-1] == "paginate" and "get_paginator" in segments:
                return _has_no_page_cap(self.bindings.resolve(expr))
            return len(segments) >= 2 and segments[-1] in ("all", "filter") and segments[-2] in _BOTO3_COLLECTIONS
        if qualified.startswith(tuple(f"{package}." for package in _BLOB_PACKAGES)):
            return segments[-1] in _BLOB_LISTINGS and self._unlimited(expr, "max_results")
        if _HUB_LISTINGS.match(qualified):
            return segments[-1].startswith(_HUB_MODEL_LISTINGS) and self._unlimited(expr, "limit")
        return self._is_streaming_dataset(expr)

    def _is_streaming_dataset(self, expr: cst.BaseExpression) -> bool:
        if self.scan.names.qualify(expr) != "datasets.load_dataset":
            return False
        call = self.bindings.resolve(expr)
        return isinstance(call, cst.Call) and _is_true(argument(call, "streaming"))

    def _unlimited(self, expr: cst.BaseExpression, limit: str) -> bool:
        call = self.bindings.resolve(expr)
        return isinstance(call, cst.Call) and not has_splat(call) and limit not in keywords(call)


def _is_true(node: cst.BaseExpression | None) -> bool:
    return isinstance(node, cst.Name) and node.value == "True"


def _has_no_page_cap(call: cst.BaseExpression | None) -> bool:
    """``paginate(PaginationConfig={"MaxItems": ...})`` caps the listing."""
    if not isinstance(call, cst.Call) or has_splat(call):
        return False
    config = argument(call, "PaginationConfig")
    return config is None


# -- LOAD006 -------------------------------------------------------------------

_HTTP_GETS = frozenset(
    name for name in (*REQUESTS_FUNCTIONS, *REQUESTS_SESSION_METHODS, *HTTPX_SYNC)
    if name.rsplit(".", 1)[1] in ("get", "request")
)
_WRITERS = ("write", "write_bytes")
_URL_OPENERS = frozenset({"urllib.request.urlopen", "urllib.request.urlopen.read", "urllib2.urlopen"})
_SMALL_DOCUMENTS = re.compile(r"\.(json|txt|ya?ml|md|html?|xml|cfg|ini|toml)(\?|$)", re.IGNORECASE)
# Downloads of a known, small kind: a tool binary, a script, an icon or a short clip.
_SMALL_DOWNLOADS = re.compile(
    r"(binary|executable|script|\.py\b|wav|mp3|\.png|\.jpe?g|\.gif|\.svg|icon|thumbnail|avatar|favicon)",
    re.IGNORECASE,
)


@register
class DownloadBuffered(BindingDetector):
    """A download read whole into memory (``response.content``, ``urlopen().read()``,
    an S3 object's ``Body.read()``) and then written to a file."""

    name = "download-buffered"
    # A write of a response's `content` (requests, httpx, the Hub's session), of `urlopen(...).read()`
    # or of an S3 `get_object`'s body `read()`: the names of the writer and the download are in the code.
    tokens = (
        *((frozenset(_WRITERS), "content", *names_of(get)) for get in sorted(_HTTP_GETS)),
        *((frozenset(_WRITERS), "read", *names_of(opener)) for opener in sorted(_URL_OPENERS)),
        (frozenset(_WRITERS), "read", "get_object", "boto3"),
    )
    code_tokens = True
    fields = frozenset({"url", "instead"})

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not isinstance(func, cst.Attribute) or func.attr.value not in _WRITERS or len(node.args) != 1:
            return
        found = self._buffered_download(node.args[0].value)
        if found is None:
            return
        url, instead = found
        destination = self.bindings.resolve(func.value)
        where = [url, self.scan.context.function_name, self.scan.code(destination if destination is not None else func.value)]
        if any(_SMALL_DOWNLOADS.search(text) for text in where):
            return
        self.report(node, url=url, instead=instead)

    def _buffered_download(self, data: cst.BaseExpression) -> tuple[str, str] | None:
        if isinstance(data, cst.Attribute) and data.attr.value == "content":
            response = self.bindings.resolve(data.value)
            if self.scan.names.qualify(data.value) in _HTTP_GETS and isinstance(response, cst.Call):
                return self._url(argument(response, "url", 0), "`stream=True` with `iter_content()` into the file")
            return None
        if not (isinstance(data, cst.Call) and isinstance(data.func, cst.Attribute) and data.func.attr.value == "read"):
            return None
        if data.args:
            return None
        source = data.func.value
        if self.scan.names.qualify(source) in _URL_OPENERS:
            opened = self.bindings.resolve(source)
            if isinstance(opened, cst.Call):
                return self._url(argument(opened, "url", 0), "`shutil.copyfileobj(response, file)`")
            return None
        if isinstance(source, cst.Subscript) and len(source.slice) == 1:
            index = source.slice[0].slice
            key = literal_text(index.value) if isinstance(index, cst.Index) else None
            qualified = self.scan.names.qualify(source.value) or ""
            if key == "Body" and qualified.startswith("boto3.") and qualified.endswith(".get_object"):
                obj = self.bindings.resolve(source.value)
                target = argument(obj, "Key") if isinstance(obj, cst.Call) else None
                shown = f"`{short(self.scan.code(target))}`" if target is not None else "the S3 object"
                return shown, "`download_file`/`download_fileobj`, which stream in parts"
        return None

    def _url(self, url: cst.BaseExpression | None, instead: str) -> tuple[str, str] | None:
        """The URL as written, unless it is one fixed address (a known, fixed-size file) or
        names a small document."""
        if url is None:
            return None
        resolved = self.bindings.resolve(url)
        if resolved is not None and not isinstance(resolved, cst.FormattedString) and literal_text(resolved) is not None:
            return None
        text = self.bindings.string(url) or self.scan.code(url)
        if _SMALL_DOCUMENTS.search(text) or SMALL_FILE_WORDS.search(self.scan.context.function_name):
            return None
        return f"`{short(self.scan.code(url))}`", instead


# -- LOAD007 -------------------------------------------------------------------

# Request models: what a client posts to a service.
_REQUEST_MODEL_NAME = r"(Request|Input|Body|Payload)"
_REQUEST_MODELS = re.compile(_REQUEST_MODEL_NAME + "$")
# `class` then a name that ends like a request model's, perhaps across a line continuation.
_REQUEST_MODEL_CLASS = re.compile(r"\bclass[\s\\]+\S*?" + _REQUEST_MODEL_NAME + r"\b")
# Fields that carry the batch: one model call (or one embedding, one generation) per element.
_BATCH_FIELDS = re.compile(
    r"^(inputs?|texts?|prompts?|documents?|docs|instances|images|sentences|queries|items|batch|records|rows|"
    r"samples|examples|urls|passages|chunks|contents)$"
)
_SEQUENCE_TYPES = re.compile(r"\b(List|list|Sequence|Iterable|Tuple\[[^\]]*\.\.\.)")
# Anything that caps the length: pydantic Field/conlist bounds, annotated-types Len/MaxLen.
_LENGTH_CAPS = re.compile(r"(max_length|max_items|conlist|\bLen\(|MaxLen|max_len)")


@register
class UnboundedRequestBatch(Detector):
    """A request model field that takes a list of inputs with no cap on its length."""

    name = "unbounded-request-batch"
    # A class named like a request model, with a sequence annotation (which may be a string);
    # only in files that mention pydantic's `BaseModel`, as before.
    tokens = (("BaseModel", _REQUEST_MODEL_CLASS, _SEQUENCE_TYPES),)
    fields = frozenset({"field", "model"})

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        if not _REQUEST_MODELS.search(node.name.value) or not self._is_pydantic_model(node):
            return
        body = [s for s in node.body.body]
        if any(self._checks_length(s) for s in body if isinstance(s, cst.FunctionDef)):
            return
        for statement in body:
            if not isinstance(statement, cst.SimpleStatementLine):
                continue
            for small in statement.body:
                if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name) and \
                        _BATCH_FIELDS.match(small.target.value) and self._uncapped_list(small):
                    context = self.scan.context
                    prefix = f"{context.symbol}." if context.symbol else ""
                    self.report(small, symbol=f"{prefix}{node.name.value}", function="",
                                field=small.target.value, model=node.name.value)

    def _is_pydantic_model(self, node: cst.ClassDef) -> bool:
        for base in node.bases:
            qualified = self.scan.names.qualify(base.value) or self.scan.code(base.value)
            if qualified.split(".")[-1].endswith("BaseModel") or _REQUEST_MODELS.search(qualified):
                return True
        return False

    def _uncapped_list(self, field: cst.AnnAssign) -> bool:
        annotation = self.scan.code(field.annotation.annotation)
        value = self.scan.code(field.value) if field.value is not None else ""
        return bool(_SEQUENCE_TYPES.search(annotation)) and not _LENGTH_CAPS.search(annotation + value)

    def _checks_length(self, method: cst.FunctionDef) -> bool:
        """A validator that looks at ``len(...)`` of something: the model caps its own size."""
        if not any("validator" in self.scan.code(d.decorator) for d in method.decorators):
            return False
        return any(isinstance(n, cst.Call) and isinstance(n.func, cst.Name) and n.func.value == "len"
                   for n in walk(method.body, into_nested=True))
