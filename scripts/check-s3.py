#!/usr/bin/env python3
"""Check that the local S3 (scripts/s3server.py) really checks SigV4.

Reads TRIBUTARY_S3_ENDPOINT, TRIBUTARY_S3_BUCKET, AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY, AWS_REGION from the environment, e.g.
    . .state/services/env && scripts/check-s3.py
Safe to rerun: works under a fresh prefix and deletes what it wrote.
"""

import os
import sys
import uuid

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

# Characters that stock moto gets wrong (Werkzeug re-encodes them before moto
# re-signs), plus a space, a slash and a non-ASCII letter.
NASTY = "a+b=c:d@e(f)!g*h'i,j;k$l m.json"
KEYS = [NASTY, "dir/x y+z=1.json", "dir/sub/ü~%.json", "plain.json"]


def client(secret=None, key_id=None):
    return boto3.client(
        "s3",
        endpoint_url=os.environ["TRIBUTARY_S3_ENDPOINT"],
        region_name=os.environ.get("AWS_REGION", "us-east-1"),
        aws_access_key_id=key_id or os.environ["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=secret or os.environ["AWS_SECRET_ACCESS_KEY"],
        # No retries: a 403 should show up at once, not after backoff.
        config=Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"}),
    )


def expect_error(code, fn):
    try:
        fn()
    except ClientError as e:
        got = e.response["Error"]["Code"]
        status = e.response["ResponseMetadata"]["HTTPStatusCode"]
        assert (got, status) == (code, 403), f"expected 403 {code}, got {status} {got}"
        return
    raise AssertionError(f"expected 403 {code}, but the request succeeded")


def main():
    bucket = os.environ["TRIBUTARY_S3_BUCKET"]
    s3 = client()
    prefix = f"check-s3/{uuid.uuid4().hex}/"

    for k in KEYS:
        body = f"body of {k}".encode()
        s3.put_object(Bucket=bucket, Key=prefix + k, Body=body)
        got = s3.get_object(Bucket=bucket, Key=prefix + k)["Body"].read()
        assert got == body, f"get {k!r}: {got!r}"
        s3.head_object(Bucket=bucket, Key=prefix + k)
    print(f"ok  put/get/head {len(KEYS)} keys, e.g. {NASTY!r}")

    # Listing the nasty key itself as a prefix puts it into the query string.
    found = s3.list_objects_v2(Bucket=bucket, Prefix=prefix + NASTY)
    assert [o["Key"] for o in found["Contents"]] == [prefix + NASTY], found

    # Delimiter listings: top level, then one "directory" down.
    top = s3.list_objects_v2(Bucket=bucket, Prefix=prefix, Delimiter="/")
    files = sorted(o["Key"][len(prefix):] for o in top.get("Contents", []))
    dirs = [p["Prefix"][len(prefix):] for p in top.get("CommonPrefixes", [])]
    assert files == sorted([NASTY, "plain.json"]) and dirs == ["dir/"], (files, dirs)
    sub = s3.list_objects_v2(Bucket=bucket, Prefix=prefix + "dir/", Delimiter="/")
    assert [o["Key"] for o in sub["Contents"]] == [prefix + "dir/x y+z=1.json"], sub
    assert [p["Prefix"] for p in sub["CommonPrefixes"]] == [prefix + "dir/sub/"], sub
    # Version 1 listing and a paginated v2 listing (continuation token).
    v1 = s3.list_objects(Bucket=bucket, Prefix=prefix, Delimiter="/")
    assert len(v1["Contents"]) == 2, v1
    pages = s3.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Prefix=prefix, PaginationConfig={"PageSize": 1}
    )
    assert sum(len(p.get("Contents", [])) for p in pages) == len(KEYS)
    print("ok  list with Prefix, Delimiter='/', v1, pagination")

    # A wrong secret or unknown key id must be refused, never accepted.
    bad = client(secret="wrong" + os.environ["AWS_SECRET_ACCESS_KEY"])
    expect_error("SignatureDoesNotMatch", lambda: bad.get_object(Bucket=bucket, Key=prefix + NASTY))
    expect_error("SignatureDoesNotMatch", lambda: bad.put_object(Bucket=bucket, Key=prefix + "x", Body=b"x"))
    expect_error("SignatureDoesNotMatch", lambda: bad.list_objects_v2(Bucket=bucket, Delimiter="/"))
    unknown = client(key_id="AKIAUNKNOWNUNKNOWN00")
    expect_error("InvalidAccessKeyId", lambda: unknown.list_objects_v2(Bucket=bucket))
    print("ok  wrong secret -> 403 SignatureDoesNotMatch, unknown key -> 403 InvalidAccessKeyId")

    s3.delete_objects(
        Bucket=bucket, Delete={"Objects": [{"Key": prefix + k} for k in KEYS]}
    )
    left = s3.list_objects_v2(Bucket=bucket, Prefix=prefix)
    assert left["KeyCount"] == 0, left
    print("ok  delete_objects; S3 signature checking works")
    return 0


if __name__ == "__main__":
    sys.exit(main())
