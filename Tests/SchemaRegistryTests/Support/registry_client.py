"""Drives `tributary registry` with Confluent's own Python client (confluent-kafka's
SchemaRegistryClient) and prints what it saw as one JSON object, for
RegistryServerTests to check. Usage: registry_client.py scenario|restarted|single BASE_URL
(restarted: the registry asks for basic auth as registry-user:s3cret)"""

import json
import sys

import urllib.error
import urllib.request
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.serialization import MessageField, SerializationContext

USER_V1 = json.dumps({"type": "record", "name": "User", "namespace": "t",
                      "fields": [{"name": "id", "type": "long"}, {"name": "name", "type": "string"}]})
# BACKWARD-compatible: the new field has a default.
USER_V2 = json.dumps({"type": "record", "name": "User", "namespace": "t",
                      "fields": [{"name": "id", "type": "long"}, {"name": "name", "type": "string"},
                                 {"name": "email", "type": ["null", "string"], "default": None}]})
# Not BACKWARD-compatible: a new field without a default.
USER_V3 = json.dumps({"type": "record", "name": "User", "namespace": "t",
                      "fields": [{"name": "id", "type": "long"}, {"name": "name", "type": "string"},
                                 {"name": "email", "type": ["null", "string"], "default": None},
                                 {"name": "age", "type": "int"}]})
ORDER_JSON = json.dumps({"type": "object", "properties": {"id": {"type": "integer"}}})


def error_of(call):
    """(status, error_code) of a call that must fail."""
    try:
        call()
    except SchemaRegistryError as e:
        return [e.http_status_code, e.error_code]
    return None


def scenario(base):
    client = SchemaRegistryClient({"url": base})
    out = {}
    id1 = client.register_schema("users-value", Schema(USER_V1, "AVRO"))
    out["id1"] = id1
    # A fresh client: no cache may answer for the registry.
    fresh = SchemaRegistryClient({"url": base})
    out["id1_again"] = fresh.register_schema("users-value", Schema(USER_V1, "AVRO"))
    out["id1_other_subject"] = fresh.register_schema("other-value", Schema(USER_V1, "AVRO"))
    out["schema_by_id"] = json.loads(fresh.get_schema(id1).schema_str)
    out["v2_compatible"] = fresh.test_compatibility("users-value", Schema(USER_V2, "AVRO"))
    out["id2"] = fresh.register_schema("users-value", Schema(USER_V2, "AVRO"))
    # Confluent's serializer (TopicNameStrategy: users-value) and deserializer through the registry.
    context = SerializationContext("users", MessageField.VALUE)
    framed = AvroSerializer(fresh, USER_V2)({"id": 7, "name": "n", "email": None}, context)
    out["framed_id"] = int.from_bytes(framed[1:5], "big")
    out["decoded"] = AvroDeserializer(SchemaRegistryClient({"url": base}))(framed, context)
    out["v3_compatible"] = fresh.test_compatibility("users-value", Schema(USER_V3, "AVRO"))
    out["v3_error"] = error_of(lambda: fresh.register_schema("users-value", Schema(USER_V3, "AVRO")))
    out["versions"] = fresh.get_versions("users-value")
    latest = fresh.get_latest_version("users-value")
    out["latest"] = [latest.version, latest.schema_id]
    found = fresh.lookup_schema("users-value", Schema(USER_V1, "AVRO"))
    out["lookup"] = [found.version, found.schema_id]
    out["versions_of_id1"] = sorted([v.subject, v.version] for v in fresh.get_schema_versions(id1))
    fresh.set_compatibility("users-value", "NONE")
    out["subject_level"] = fresh.get_compatibility("users-value")
    out["global_level"] = fresh.get_compatibility()
    out["json_id"] = fresh.register_schema("orders-value", Schema(ORDER_JSON, "JSON"))
    out["json_type"] = fresh.get_schema(out["json_id"]).schema_type
    out["subjects"] = fresh.get_subjects()
    out["delete_version"] = fresh.delete_version("other-value", 1)
    out["deleted_subject_error"] = error_of(lambda: fresh.get_versions("other-value"))
    out["delete_permanent"] = fresh.delete_subject("other-value", permanent=True)
    out["errors"] = {
        "unknown_subject": error_of(lambda: fresh.get_version("nobody-value", 1)),
        "unknown_version": error_of(lambda: fresh.get_version("users-value", 99)),
        "unknown_id": error_of(lambda: fresh.get_schema(9999)),
        "invalid_schema": error_of(lambda: fresh.register_schema("bad-value", Schema('{"type": "record", "name": ', "AVRO"))),
        "invalid_level": error_of(lambda: fresh.set_compatibility("users-value", "SIDEWAYS")),
    }
    # The wire itself: status, media type and Confluent's error body.
    try:
        urllib.request.urlopen(base + "/schemas/ids/9999")
        out["raw_error"] = None
    except urllib.error.HTTPError as e:
        out["raw_error"] = [e.code, e.headers.get("Content-Type"), json.loads(e.read())]
    return out


def restarted(base):
    # This start asks for basic auth: without credentials, 401.
    try:
        urllib.request.urlopen(base + "/subjects")
        out = {"anonymous": None}
    except urllib.error.HTTPError as e:
        out = {"anonymous": [e.code, json.loads(e.read())["error_code"]]}
    client = SchemaRegistryClient({"url": base, "basic.auth.user.info": "registry-user:s3cret"})
    out["schema1"] = json.loads(client.get_schema(1).schema_str)
    out["versions"] = client.get_versions("users-value")
    out["subject_level"] = client.get_compatibility("users-value")
    out["id1_again"] = client.register_schema("users-value", Schema(USER_V1, "AVRO"))
    out["id_new"] = client.register_schema("users-value", Schema(USER_V3, "AVRO"))
    out["subjects"] = client.get_subjects()
    return out


def single(base):
    client = SchemaRegistryClient({"url": base})
    schema_id = client.register_schema("c-value", Schema(USER_V1, "AVRO"))
    return {"id": schema_id, "schema": json.loads(SchemaRegistryClient({"url": base}).get_schema(schema_id).schema_str)}


if __name__ == "__main__":
    mode, base = sys.argv[1], sys.argv[2]
    print(json.dumps({"scenario": scenario, "restarted": restarted, "single": single}[mode](base)))
