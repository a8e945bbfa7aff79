"""Confluent's Python client (confluent-kafka's AvroSerializer and
AvroDeserializer, with fastavro) on the other side of Tributary's Avro.

  produce REGISTRY BOOTSTRAP TOPIC VERSION FIRST COUNT  -- customers FIRST.. as schema v1 or v2
  consume REGISTRY BOOTSTRAP TOPIC COUNT [json]         -- prints one JSON object per message (Avro, or JSON Schema)
  produce-json REGISTRY BOOTSTRAP TOPIC COUNT           -- customers 1.. with JSONSerializer (JSON Schema)
"""
import datetime
import decimal
import json
import sys
import uuid

from confluent_kafka import DeserializingConsumer, SerializingProducer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.json_schema import JSONDeserializer, JSONSerializer

FIELDS_V1 = [
    {"name": "id", "type": "long"},
    {"name": "name", "type": "string"},
    {"name": "email", "type": ["null", "string"], "default": None},
    {"name": "balance", "type": {"type": "bytes", "logicalType": "decimal", "precision": 10, "scale": 2}},
    {"name": "born", "type": ["null", {"type": "int", "logicalType": "date"}], "default": None},
    {"name": "joined", "type": {"type": "long", "logicalType": "timestamp-millis"}},
    {"name": "score", "type": "double"},
    {"name": "active", "type": "boolean"},
]
# v2 adds an optional field: backward compatible, and the sink evolves its table.
FIELDS_V2 = FIELDS_V1 + [{"name": "nickname", "type": ["null", "string"], "default": None}]


def schema(version):
    fields = FIELDS_V1 if version == "v1" else FIELDS_V2
    return json.dumps({"type": "record", "name": "customer", "namespace": "shop", "fields": fields})


def customer(i, version):
    value = {
        "id": i,
        "name": "customer %d" % i,
        "email": None if i % 2 == 0 else "c%d@example.com" % i,
        "balance": decimal.Decimal("%d.%02d" % (i * 100, i)),
        "born": datetime.date(1990, 1, i),
        "joined": datetime.datetime(2024, 5, 1, 12, 0, i, tzinfo=datetime.timezone.utc),
        "score": i + 0.5,
        "active": i % 3 != 0,
    }
    if version == "v2":
        value["nickname"] = "nick %d" % i
    return value


def produce(registry, bootstrap, topic, version, first, count):
    client = SchemaRegistryClient({"url": registry})
    producer = SerializingProducer({
        "bootstrap.servers": bootstrap,
        "value.serializer": AvroSerializer(client, schema(version)),
    })
    for i in range(first, first + count):
        producer.produce(topic, value=customer(i, version), partition=0)
    producer.flush(30)


JSON_SCHEMA = json.dumps({
    "$schema": "http://json-schema.org/draft-07/schema#", "title": "customer", "type": "object",
    "properties": {
        "id": {"type": "integer"}, "name": {"type": "string"},
        "email": {"oneOf": [{"type": "null"}, {"type": "string"}]}, "score": {"type": "number"},
    },
    "required": ["id", "name", "score"],
})


def produce_json(registry, bootstrap, topic, count):
    client = SchemaRegistryClient({"url": registry})
    producer = SerializingProducer({
        "bootstrap.servers": bootstrap,
        "value.serializer": JSONSerializer(JSON_SCHEMA, client, lambda value, ctx: value),
    })
    for i in range(1, count + 1):
        producer.produce(topic, value={"id": i, "name": "customer %d" % i, "email": None if i % 2 == 0 else "c%d@example.com" % i,
                                       "score": i + 0.5}, partition=0)
    producer.flush(30)


def plain(value):
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, datetime.datetime):
        return int(value.timestamp() * 1000)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def consume(registry, bootstrap, topic, count, json_schema):
    client = SchemaRegistryClient({"url": registry})
    # The writer's schema comes from the registry by the id in each message;
    # the JSON deserializer validates the payload against it.
    deserializer = (lambda: JSONDeserializer(None, schema_registry_client=client)) if json_schema else (lambda: AvroDeserializer(client))
    consumer = DeserializingConsumer({
        "bootstrap.servers": bootstrap,
        "group.id": "avro-interop-" + uuid.uuid4().hex,
        "auto.offset.reset": "earliest",
        "key.deserializer": deserializer(),
        "value.deserializer": deserializer(),
    })
    consumer.subscribe([topic])
    seen = 0
    deadline = datetime.datetime.now() + datetime.timedelta(seconds=60)
    while seen < count and datetime.datetime.now() < deadline:
        message = consumer.poll(1.0)
        if message is None:
            continue
        if message.error():
            raise RuntimeError(str(message.error()))
        print(json.dumps({"key": plain(message.key()), "value": plain(message.value())}, sort_keys=True))
        seen += 1
    consumer.close()
    if seen < count:
        raise RuntimeError("read %d of %d messages" % (seen, count))


if __name__ == "__main__":
    mode, args = sys.argv[1], sys.argv[2:]
    if mode == "produce":
        produce(args[0], args[1], args[2], args[3], int(args[4]), int(args[5]))
    elif mode == "produce-json":
        produce_json(args[0], args[1], args[2], int(args[3]))
    elif mode == "consume":
        consume(args[0], args[1], args[2], int(args[3]), args[4:] == ["json"])
    else:
        raise SystemExit("unknown mode " + mode)
