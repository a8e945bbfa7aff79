#!/usr/bin/env python3
"""Local S3 for tests and the demo: moto's server with real SigV4 checking.

Usage: s3server.py --info-file PATH [--host 127.0.0.1] [--port 0] [--bucket tributary]

Starts moto on HOST:PORT (port 0 = pick a free one), creates an IAM user with
an allow-all policy, an access key for it and the bucket, writes
`endpoint/bucket/access_key_id/secret_access_key/region` (KEY=VALUE lines) to
--info-file, then serves until SIGTERM/SIGINT.

Two things differ from stock `moto_server`:

* INITIAL_NO_AUTH_ACTION_COUNT is set so that only our own setup calls run
  unauthenticated; every later request must carry a valid SigV4 signature
  (wrong secret -> 403 SignatureDoesNotMatch), so our signer is really tested.
* Stock moto recomputes the signature over `request.url`, which Werkzeug has
  decoded and re-encoded. The client signed the bytes it sent, so keys with
  `+ = : @ ( ) ! * ' , ; $` or spaces, and `delimiter=%2F` listings, get a
  false 403. We remember the raw request target of each request and make
  moto's canonical request use exactly that path and query string.
"""

import argparse
import os
import signal
import sys
import threading
from urllib.parse import urlsplit

# Number of unauthenticated setup calls done in setup_account() below; moto
# reads this at import time, so it must be set before importing moto.
SETUP_CALLS = 4
os.environ["INITIAL_NO_AUTH_ACTION_COUNT"] = str(SETUP_CALLS)

import boto3  # noqa: E402
from moto import settings  # noqa: E402
from moto.core.authorization import ActionAuthenticatorMixin  # noqa: E402
from moto.iam.access_control import IAMRequestBase  # noqa: E402
from moto.moto_server.werkzeug_app import (  # noqa: E402
    DomainDispatcherApplication,
    create_backend_app,
)
from werkzeug.serving import make_server  # noqa: E402

REGION = "us-east-1"

# The raw request target ("/bucket/a%2Bb?delimiter=%2F") of the request the
# current thread is serving. Werkzeug's threaded server runs each request in
# its own thread, and moto checks the signature synchronously inside it.
_current = threading.local()


class RawURIMiddleware:
    """Record the request target exactly as the client sent it."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
        if raw:
            # An absolute-form target ("http://host/path") is legal HTTP too.
            parts = urlsplit(raw)
            raw = parts.path or "/"
            if parts.query:
                raw += "?" + parts.query
        _current.raw_uri = raw
        try:
            return self.app(environ, start_response)
        finally:
            _current.raw_uri = None


# moto builds the request it re-signs in IAMRequestBase._create_aws_request
# (moto/iam/access_control.py) from a path derived from Werkzeug's re-encoded
# URL. Swap in the raw target; botocore then canonicalises it like the client.
_original_create_aws_request = IAMRequestBase._create_aws_request


def _create_aws_request_from_raw_uri(self):
    request = _original_create_aws_request(self)
    raw = getattr(_current, "raw_uri", None)
    if raw:
        request.url = raw
    return request


IAMRequestBase._create_aws_request = _create_aws_request_from_raw_uri


def setup_account(endpoint, bucket):
    """Create user, policy, key and bucket. Exactly SETUP_CALLS requests."""
    dummy = dict(
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="setup",
        aws_secret_access_key="setup",
    )
    iam = boto3.client("iam", **dummy)
    iam.create_user(UserName="tributary")  # 1
    iam.put_user_policy(  # 2
        UserName="tributary",
        PolicyName="admin",
        PolicyDocument='{"Version":"2012-10-17","Statement":'
        '[{"Effect":"Allow","Action":"*","Resource":"*"}]}',
    )
    key = iam.create_access_key(UserName="tributary")["AccessKey"]  # 3
    boto3.client("s3", **dummy).create_bucket(Bucket=bucket)  # 4
    # Whatever moto counted, from now on every request is authenticated.
    ActionAuthenticatorMixin.request_count = max(
        ActionAuthenticatorMixin.request_count, settings.INITIAL_NO_AUTH_ACTION_COUNT
    )
    return key["AccessKeyId"], key["SecretAccessKey"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--info-file", required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--bucket", default="tributary")
    args = ap.parse_args()

    app = RawURIMiddleware(DomainDispatcherApplication(create_backend_app))
    server = make_server(args.host, args.port, app, threaded=True)
    endpoint = f"http://{args.host}:{server.server_port}"
    threading.Thread(target=server.serve_forever, daemon=True).start()

    key_id, secret = setup_account(endpoint, args.bucket)

    # Write then rename, so a reader never sees a half-written file.
    tmp = args.info_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(
            f"endpoint={endpoint}\nbucket={args.bucket}\n"
            f"access_key_id={key_id}\nsecret_access_key={secret}\n"
            f"region={REGION}\n"
        )
    os.replace(tmp, args.info_file)
    print(f"s3server: serving {endpoint}, bucket {args.bucket}", flush=True)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
