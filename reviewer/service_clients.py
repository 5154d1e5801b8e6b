"""Client libraries of services a system must run or rent: datastores, queues, vector
databases and model-serving endpoints.

Adding one is an architectural choice (someone operates it, it fails on its own, it
costs money), unlike adding a library that runs inside the process. Each client is known
by its PyPI distributions and by how Python code starts to use it: an import of one of
its modules, or, for a general SDK like boto3, a call naming the service.

Patterns use only what both Python's ``re`` and git's extended regular expressions
understand (bracket sets holding a real tab character, ``(a|b)``, ``[.]``), because the
same pattern searches the base revision with ``git grep -E``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from reviewer.manifests import normalize


@dataclass(frozen=True)
class ServiceClient:
    name: str  # how questions name it
    kind: str  # "datastore", "message queue", "vector database", "model-serving API"
    distributions: frozenset[str]  # normalized PyPI names
    pattern: str  # a Python source line that starts using it

    def matches(self, line: str) -> bool:
        return re.search(self.pattern, line) is not None


_BLANK = "[ \t]"  # a real tab: git's ERE reads "\\t" in brackets as two characters


def _imports(*modules: str) -> str:
    names = "|".join(m.replace(".", "[.]") for m in modules)
    return f"^{_BLANK}*(import|from){_BLANK}+({names})([ \t.,]|$)"


def _client(name: str, kind: str, distributions: str, pattern: str) -> ServiceClient:
    return ServiceClient(name, kind, frozenset(normalize(d) for d in distributions.split()), pattern)


_BOTO3_SERVICE = "boto3[.]([A-Za-z_]+[.])?(client|resource)[(]~*(service_name~*=~*)?['\"]({})['\"]".replace("~", _BLANK)

CLIENTS: tuple[ServiceClient, ...] = (
    _client("Redis", "datastore", "redis aioredis", _imports("redis", "aioredis")),
    _client("MongoDB", "datastore", "pymongo motor", _imports("pymongo", "motor")),
    _client("PostgreSQL", "datastore", "psycopg psycopg2 psycopg2-binary psycopg-binary asyncpg",
            _imports("psycopg", "psycopg2", "asyncpg")),
    _client("MySQL", "datastore", "pymysql mysqlclient mysql-connector-python aiomysql",
            _imports("pymysql", "MySQLdb", "mysql.connector", "aiomysql")),
    _client("SQLAlchemy", "datastore", "sqlalchemy", _imports("sqlalchemy")),
    _client("Cassandra", "datastore", "cassandra-driver", _imports("cassandra")),
    _client("Neo4j", "datastore", "neo4j", _imports("neo4j")),
    _client("ClickHouse", "datastore", "clickhouse-connect clickhouse-driver",
            _imports("clickhouse_connect", "clickhouse_driver")),
    _client("Snowflake", "datastore", "snowflake-connector-python", _imports("snowflake.connector")),
    _client("BigQuery", "datastore", "google-cloud-bigquery", _imports("google.cloud.bigquery")),
    _client("Memcached", "datastore", "pymemcache python-memcached", _imports("pymemcache", "memcache")),
    _client("Elasticsearch", "datastore", "elasticsearch opensearch-py", _imports("elasticsearch", "opensearchpy")),
    _client("DynamoDB", "datastore", "", _BOTO3_SERVICE.format("dynamodb")),
    _client("Kafka", "message queue", "kafka-python confluent-kafka aiokafka",
            _imports("kafka", "confluent_kafka", "aiokafka")),
    _client("RabbitMQ", "message queue", "pika aio-pika", _imports("pika", "aio_pika")),
    _client("Celery", "message queue", "celery", _imports("celery")),
    _client("NATS", "message queue", "nats-py", _imports("nats")),
    _client("Google Pub/Sub", "message queue", "google-cloud-pubsub", _imports("google.cloud.pubsub", "google.cloud.pubsub_v1")),
    _client("Azure Service Bus", "message queue", "azure-servicebus", _imports("azure.servicebus")),
    _client("SQS", "message queue", "", _BOTO3_SERVICE.format("sqs|sns|kinesis")),
    _client("Pinecone", "vector database", "pinecone pinecone-client", _imports("pinecone")),
    _client("Weaviate", "vector database", "weaviate-client", _imports("weaviate")),
    _client("Qdrant", "vector database", "qdrant-client", _imports("qdrant_client")),
    _client("Chroma", "vector database", "chromadb", _imports("chromadb")),
    _client("Milvus", "vector database", "pymilvus", _imports("pymilvus")),
    _client("Triton", "model-serving API", "tritonclient", _imports("tritonclient")),
    _client("KServe", "model-serving API", "kserve", _imports("kserve")),
    _client("OpenAI", "model-serving API", "openai", _imports("openai")),
    _client("Anthropic", "model-serving API", "anthropic", _imports("anthropic")),
    _client("Cohere", "model-serving API", "cohere", _imports("cohere")),
)

_BY_DISTRIBUTION = {d: client for client in CLIENTS for d in client.distributions}


def client_for_distribution(name: str) -> ServiceClient | None:
    return _BY_DISTRIBUTION.get(normalize(name))


def client_used_on(line: str) -> ServiceClient | None:
    # Every pattern needs an import statement or a boto3 call: most lines are neither.
    if not line.lstrip().startswith(("import", "from")) and "boto3" not in line:
        return None
    for client in CLIENTS:
        if client.matches(line):
            return client
    return None
