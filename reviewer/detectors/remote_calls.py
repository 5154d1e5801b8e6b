"""What a call does to the thread that makes it, judged from its qualified name.

Shared vocabulary for the no-timeout, no-retry and blocking-in-async detectors
(and any other detector that needs to know "is this a network call?"):

- ``blocking_kind(qualified)``: the way a *synchronous* call blocks its thread
  (network, sleep, file or data IO, a child process), or None.
- ``is_remote_call(qualified)``: a call that talks to another machine, sync or
  async (retry loops care about both).
- ``loaded_model(qualified)`` / ``inference_method``: objects that hold a model
  (``AutoModel.from_pretrained(...)``, ``joblib.load(...)``) and the calls that
  run it.

Qualified names come from ``NameResolver.qualify``: a call's result is named
after its callee, so ``s = requests.Session(); s.get`` is
``requests.Session.get`` and ``c = boto3.client("s3"); c.get_object`` is
``boto3.client.get_object``. A name that is not listed here is unknown, and
unknown never makes a finding.
"""

from __future__ import annotations

import enum
import re

import libcst as cst

from reviewer.engine.names import dotted_name
from reviewer.engine.patterns import NamePattern, PatternIndex


class Blocking(str, enum.Enum):
    NETWORK = "network"
    SLEEP = "sleep"
    FILE = "file"  # open(), pathlib and json: usually small files
    DATA = "data"  # whole datasets, models and directory trees
    PROCESS = "process"


HTTP_VERBS = ("get", "post", "put", "patch", "delete", "head", "options", "request")

REQUESTS_FUNCTIONS = tuple(f"requests.{verb}" for verb in HTTP_VERBS) + tuple(
    f"requests.api.{verb}" for verb in HTTP_VERBS
)
# requests.Session() and requests.session() objects, under the names the resolver gives them.
REQUESTS_SESSIONS = ("requests.Session", "requests.sessions.Session", "requests.session", "requests.sessions.session",
                     # huggingface_hub's per-thread requests.Session, no default timeout
                     "huggingface_hub.get_session", "huggingface_hub.utils.get_session",
                     "huggingface_hub.utils._http.get_session")
REQUESTS_SESSION_METHODS = tuple(f"{session}.{verb}" for session in REQUESTS_SESSIONS for verb in HTTP_VERBS)

URLOPEN = ("urllib.request.urlopen",)

URLLIB3_POOLS = (
    "urllib3.PoolManager",
    "urllib3.poolmanager.PoolManager",
    "urllib3.ProxyManager",
    "urllib3.proxy_from_url",
    "urllib3.HTTPConnectionPool",
    "urllib3.HTTPSConnectionPool",
    "urllib3.connectionpool.HTTPConnectionPool",
    "urllib3.connectionpool.HTTPSConnectionPool",
    "urllib3.connection_from_url",
)
URLLIB3_REQUEST_METHODS = ("request", "urlopen", "request_encode_url", "request_encode_body")
URLLIB3_CALLS = tuple(f"{pool}.{m}" for pool in URLLIB3_POOLS for m in URLLIB3_REQUEST_METHODS) + ("urllib3.request",)

HTTPX_SYNC = tuple(f"httpx.{verb}" for verb in (*HTTP_VERBS, "stream")) + tuple(
    f"httpx.Client.{verb}" for verb in (*HTTP_VERBS, "stream", "send")
)
HTTPX_ASYNC = tuple(f"httpx.AsyncClient.{verb}" for verb in (*HTTP_VERBS, "stream", "send"))
AIOHTTP = ("aiohttp.request",) + tuple(
    f"aiohttp.ClientSession.{verb}" for verb in (*HTTP_VERBS, "ws_connect")
)

# Methods of a boto3 client that do not touch the network.
_BOTO3_LOCAL_METHODS = frozenset(
    {"generate_presigned_url", "generate_presigned_post", "get_paginator", "get_waiter",
     "can_paginate", "close", "meta", "exceptions"}
)
_BOTO3_CLIENTS = ("boto3.client", "boto3.Session.client", "boto3.session.Session.client")
# Resource methods that move data (sub-resource constructors like .Bucket() are lazy).
_BOTO3_RESOURCE_IO = frozenset(
    {"download_file", "upload_file", "download_fileobj", "upload_fileobj", "put_object",
     "delete_objects", "get", "put", "load", "reload", "copy", "copy_from"}
)

_REDIS_CLIENTS = ("redis.Redis", "redis.StrictRedis", "redis.client.Redis", "redis.client.StrictRedis",
                  "redis.from_url", "redis.Redis.from_url", "redis.StrictRedis.from_url")
# Redis methods that only build a local object.
_REDIS_LOCAL_METHODS = frozenset({"pipeline", "pubsub", "lock", "register_script", "get_connection_kwargs",
                                  "get_encoder", "close"})

_DB_IO_METHODS = frozenset(
    {"execute", "executemany", "fetchone", "fetchall", "fetchmany", "commit", "rollback", "callproc",
     "copy_expert", "copy_from", "copy_to"}
)
_DB_CONNECT = ("psycopg2.connect", "psycopg.connect", "pymysql.connect", "MySQLdb.connect",
               "mysql.connector.connect")
_MONGO_IO_METHODS = frozenset(
    {"find", "find_one", "insert_one", "insert_many", "update_one", "update_many", "replace_one",
     "delete_one", "delete_many", "aggregate", "count_documents", "estimated_document_count",
     "distinct", "bulk_write", "find_one_and_update", "find_one_and_replace", "find_one_and_delete",
     "create_index", "drop", "command", "list_database_names", "list_collection_names", "server_info"}
)

_OPENAI_SYNC_ROOTS = ("openai.OpenAI", "openai.AzureOpenAI", "openai.Client", "anthropic.Anthropic",
                      "anthropic.Client")
_OPENAI_ASYNC_ROOTS = ("openai.AsyncOpenAI", "openai.AsyncAzureOpenAI", "openai.AsyncClient",
                       "anthropic.AsyncAnthropic", "anthropic.AsyncClient")
_OPENAI_CALL_METHODS = frozenset({"create", "retrieve", "list", "delete", "update", "parse", "stream"})
_OPENAI_LEGACY = tuple(f"openai.{api}.create" for api in ("ChatCompletion", "Completion", "Embedding",
                                                          "Image", "Moderation"))

_OTHER_NETWORK = (
    "urllib.request.urlretrieve",
    "socket.create_connection",
    "huggingface_hub.hf_hub_download",
    "huggingface_hub.snapshot_download",
    "huggingface_hub.file_download.hf_hub_download",
    "huggingface_hub._snapshot_download.snapshot_download",
)

SLEEPS = ("time.sleep",)
ASYNC_SLEEPS = ("asyncio.sleep", "anyio.sleep", "trio.sleep")

FILE_IO = (
    "builtins.open", "io.open", "json.load", "json.dump",
    "pathlib.Path.read_text", "pathlib.Path.read_bytes", "pathlib.Path.write_text", "pathlib.Path.write_bytes",
)
DATA_IO = (
    "pandas.read_*", "pickle.load", "pickle.dump",
    "joblib.load", "joblib.dump", "torch.load", "torch.save",
    "numpy.load", "numpy.save", "numpy.savez", "numpy.savez_compressed", "numpy.loadtxt", "numpy.savetxt",
    "numpy.genfromtxt", "numpy.fromfile",
    "shutil.copy", "shutil.copy2", "shutil.copyfile", "shutil.copytree", "shutil.move", "shutil.rmtree",
)
PROCESSES = (
    "subprocess.run", "subprocess.call", "subprocess.check_call", "subprocess.check_output",
    "subprocess.getoutput", "subprocess.getstatusoutput",
    "subprocess.Popen.wait", "subprocess.Popen.communicate",
    "os.system",
)


def _index(groups: dict[Blocking, tuple[str, ...]]) -> PatternIndex[Blocking]:
    index: PatternIndex[Blocking] = PatternIndex()
    for kind, names in groups.items():
        for name in names:
            index.add(NamePattern.compile(name), kind)
    return index


_BLOCKING = _index(
    {
        Blocking.NETWORK: REQUESTS_FUNCTIONS + REQUESTS_SESSION_METHODS + URLOPEN + URLLIB3_CALLS
        + HTTPX_SYNC + _OPENAI_LEGACY + _OTHER_NETWORK + _DB_CONNECT,
        Blocking.SLEEP: SLEEPS,
        Blocking.FILE: FILE_IO,
        Blocking.DATA: DATA_IO,
        Blocking.PROCESS: PROCESSES,
    }
)


def _split(qualified: str) -> tuple[str, str]:
    head, _, last = qualified.rpartition(".")
    return head, last


def _under(qualified: str, roots: tuple[str, ...]) -> bool:
    return any(qualified == root or qualified.startswith(root + ".") for root in roots)


_SDK_PACKAGES = frozenset({"boto3", "redis", "psycopg2", "psycopg", "pymysql", "MySQLdb", "mysql", "pymongo",
                           "openai", "anthropic"})


def _sdk_network(qualified: str) -> bool:
    """Calls through client objects whose every I/O method is a network round trip."""
    if qualified.partition(".")[0] not in _SDK_PACKAGES:
        return False
    head, method = _split(qualified)
    if not head:
        return False
    if head in _BOTO3_CLIENTS:
        return method not in _BOTO3_LOCAL_METHODS and not method.startswith("_")
    if _under(head, ("boto3.resource", "boto3.Session.resource", "boto3.session.Session.resource")):
        return method in _BOTO3_RESOURCE_IO
    if head in _REDIS_CLIENTS:
        return method not in _REDIS_LOCAL_METHODS and not method.startswith("_")
    if _under(head, _DB_CONNECT):
        return method in _DB_IO_METHODS
    if _under(head, ("pymongo.MongoClient", "pymongo.mongo_client.MongoClient")):
        return method in _MONGO_IO_METHODS
    if _under(head, _OPENAI_SYNC_ROOTS) and head not in _OPENAI_SYNC_ROOTS:
        return method in _OPENAI_CALL_METHODS
    return False


def blocking_kind(qualified: str | None) -> Blocking | None:
    """How a synchronous call with this qualified name blocks its thread, if it does."""
    if not qualified:
        return None
    kinds = _BLOCKING.lookup(qualified)
    if kinds:
        return kinds[0]
    if _sdk_network(qualified):
        return Blocking.NETWORK
    return None


_ASYNC_REMOTE = _index({Blocking.NETWORK: HTTPX_ASYNC + AIOHTTP})


def is_async_remote_call(qualified: str | None) -> bool:
    if not qualified or qualified.partition(".")[0] not in ("httpx", "aiohttp", "openai", "anthropic"):
        return False
    if _ASYNC_REMOTE.lookup(qualified):
        return True
    head, method = _split(qualified)
    return _under(head, _OPENAI_ASYNC_ROOTS) and head not in _OPENAI_ASYNC_ROOTS and method in _OPENAI_CALL_METHODS


def is_grpc_stub_call(qualified: str | None) -> bool:
    """``stub.Method(...)`` (or ``.future``/``.with_call``) on ``FooStub(channel)``."""
    if not qualified:
        return False
    parts = qualified.split(".")
    if len(parts) >= 3 and parts[-1] in ("future", "with_call") and parts[-3].endswith("Stub"):
        return True
    return len(parts) >= 2 and parts[-2].endswith("Stub") and len(parts[-2]) > 4 and parts[-1][:1].isupper()


def is_remote_call(qualified: str | None) -> bool:
    """A call that talks to another machine, sync or async."""
    return (
        blocking_kind(qualified) is Blocking.NETWORK
        or is_async_remote_call(qualified)
        or is_grpc_stub_call(qualified)
    )


# The OpenAI API's shape, shared by its SDKs and every compatible client (vLLM, Together, Azure...).
_LLM_API_CHAINS = ("chat.completions.create", "completions.create", "embeddings.create")


def is_llm_api_call(call: cst.Call) -> bool:
    """``<client>.chat.completions.create(...)`` written out, whatever ``<client>`` resolves to.

    Sync or async is unknown from the shape alone, so this only answers "remote?".
    """
    name = dotted_name(call.func)
    return name is not None and any(name.endswith("." + chain) for chain in _LLM_API_CHAINS)


def is_sleep(qualified: str | None) -> bool:
    return qualified in SLEEPS or qualified in ASYNC_SLEEPS


# -- models --------------------------------------------------------------------

_MODEL_LOADERS = _index(
    {
        Blocking.PROCESS: (  # the payload is unused; the index is a set of patterns
            "transformers.pipeline", "transformers.pipelines.pipeline",
            "torch.load", "torch.jit.load", "joblib.load",
            "onnxruntime.InferenceSession",
            "sentence_transformers.SentenceTransformer", "sentence_transformers.CrossEncoder",
            "tensorflow.keras.models.load_model", "keras.models.load_model", "keras.saving.load_model",
            "mlflow.pyfunc.load_model", "mlflow.*.load_model",
            "ultralytics.YOLO",
            # annotations: `def handler(pipe: Pipeline)`
            "transformers.Pipeline", "transformers.pipelines.Pipeline", "transformers.pipelines.base.Pipeline",
            "transformers.PreTrainedModel", "transformers.modeling_utils.PreTrainedModel",
        )
    }
)
# from_pretrained on these loads something that is not a model.
_NOT_A_MODEL = re.compile(r"(?i)tokeni[sz]er|processor|config|feature_?extractor|scheduler|generationconfig")

INFERENCE_METHODS = frozenset({"predict", "predict_proba", "generate", "encode", "forward"})
_ONNX_RUN = ("onnxruntime.InferenceSession.run",)


def loaded_model(qualified: str | None) -> bool:
    """The resolver's name for an object that holds a model, e.g. ``transformers.AutoModel.from_pretrained``."""
    if not qualified:
        return False
    head, last = _split(qualified)
    if last == "from_pretrained":
        return not _NOT_A_MODEL.search(head)
    return bool(_MODEL_LOADERS.lookup(qualified))


def _written_last(call: cst.Call) -> str | None:
    func = call.func
    if isinstance(func, cst.Attribute):
        return func.attr.value
    return func.value if isinstance(func, cst.Name) else None


def model_load(call: cst.Call, qualified: str | None) -> bool:
    """The call itself reads weights or a tokenizer from disk or a model hub:
    ``AutoTokenizer.from_pretrained(...)``, ``pipeline("ner")``, ``SentenceTransformer(name)``."""
    if not qualified:
        return False
    last = _split(qualified)[1]
    if _written_last(call) != last:
        return False  # `model(x)` on a loaded model is named after its loader too
    return last == "from_pretrained" or loaded_model(qualified)


def inference_call(call: cst.Call, qualified: str | None) -> bool:
    """``model(x)``, ``model.generate(...)``, ``session.run(...)`` on a loaded model.

    The resolver names ``model(x)`` after the loader that made ``model``; a call
    written as the loader itself (``AutoModel.from_pretrained(...)``,
    ``pipeline("ner")``) ends in the loader's own name and is not inference.
    """
    if not qualified:
        return False
    written_last = _written_last(call)
    if written_last is None:
        return False
    if loaded_model(qualified):
        return written_last != _split(qualified)[1]
    head, method = _split(qualified)
    if method in INFERENCE_METHODS and loaded_model(head):
        return True
    return qualified in _ONNX_RUN
