"""A throwaway S3-protocol server on loopback (moto in server mode, its own process), for the tests.

It speaks the S3 REST API over HTTP like MinIO does, so the pipeline reaches it exactly as it would a
real object store: through s3fs, with an endpoint URL and credentials.
"""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid

import boto3
import pyarrow.fs as pafs
import pyarrow.json as pj

from finetune_assets.devtools.local_postgres import free_port

REGION = "us-east-1"
S3_POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}


class LocalS3:
    """``with LocalS3() as s3:`` gives a running server and credentials for it.

    With ``check_credentials``, the server accepts only the access key it issued (moto's IAM mode);
    moto then also rejects some valid listing requests, so only tests about credentials use it.
    """

    def __init__(self, check_credentials: bool = False):
        self.port = free_port()
        self.endpoint_url = f"http://127.0.0.1:{self.port}"
        self.check_credentials = check_credentials
        self.access_key_id, self.secret_access_key = "finetune-test", "finetune-test-secret"
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "LocalS3":
        env = {**os.environ}
        if self.check_credentials:
            # The first three requests (creating the user, its policy and its key) need no signature.
            env["INITIAL_NO_AUTH_ACTION_COUNT"] = "3"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self._wait_until_ready()
        if self.check_credentials:
            self._issue_credentials()
        return self

    def _wait_until_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{self.endpoint_url}/moto-api/", timeout=1)
                return
            except OSError:
                time.sleep(0.1)
        self.__exit__(None, None, None)
        raise RuntimeError(f"the S3 server on {self.endpoint_url} did not start")

    def _issue_credentials(self) -> None:
        iam = self.client("iam")
        iam.create_user(UserName="finetune")
        iam.put_user_policy(UserName="finetune", PolicyName="s3", PolicyDocument=json.dumps(S3_POLICY))
        key = iam.create_access_key(UserName="finetune")["AccessKey"]
        self.access_key_id, self.secret_access_key = key["AccessKeyId"], key["SecretAccessKey"]

    def client(self, service: str = "s3"):
        return boto3.client(
            service,
            endpoint_url=self.endpoint_url,
            region_name=REGION,
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=self.secret_access_key,
        )

    def new_bucket(self) -> str:
        name = f"finetune-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name

    def keys(self, bucket: str) -> list[str]:
        return [item["Key"] for item in self.client().list_objects_v2(Bucket=bucket).get("Contents", [])]

    def environment(self) -> dict[str, str]:
        """The variables the code location reads for an S3-compatible server."""
        return {
            "FINETUNE_S3_ENDPOINT_URL": self.endpoint_url,
            "FINETUNE_S3_REGION": REGION,
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
        }

    def __exit__(self, exc_type, exc, tb) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=10)


def read_like_a_trainer(s3: LocalS3, url: str):
    """pyarrow's own S3 filesystem and JSON reader: what HF datasets and friends use underneath."""
    fs = pafs.S3FileSystem(
        endpoint_override=s3.endpoint_url,
        scheme="http",
        region=REGION,
        access_key=s3.access_key_id,
        secret_key=s3.secret_access_key,
    )
    with fs.open_input_stream(url.removeprefix("s3://")) as stream:
        return pj.read_json(stream)
