"""MediaSigningKey: a CloudFormation custom resource (through CDK's provider framework) that
makes the RSA key pair CloudFront media links are signed with.

The private key goes into an SSM SecureString parameter, read by the API to sign links; the
public key is returned for the distribution's key group. The key pair is made once, at stack
creation: updates keep it (the public key is derived again from the stored private key), and
deleting the resource deletes the parameter.

Traced, measured and logged like the other functions (its SSM calls appear in X-Ray). It runs
only while the stack deploys, so the X-Ray SDK's share of its cold start (about 0.4 s) delays
a deploy, never a client."""

from __future__ import annotations

import contextlib
from typing import Any

import boto3

from kidstory.media_links import new_signing_key, public_key_of
from kidstory.observability import logger, metrics, tracer


@tracer().capture_lambda_handler
@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    ssm = boto3.client("ssm")
    name = event["ResourceProperties"]["ParameterName"]
    request = event["RequestType"]
    if request == "Delete":
        with contextlib.suppress(ssm.exceptions.ParameterNotFound):
            ssm.delete_parameter(Name=event["PhysicalResourceId"])
        logger.info("signing key deleted", extra={"parameter": event["PhysicalResourceId"]})
        return {"PhysicalResourceId": event["PhysicalResourceId"]}
    try:
        private_pem = ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]
        public_pem = public_key_of(private_pem)
        logger.info("signing key kept", extra={"parameter": name, "request": request})
    except ssm.exceptions.ParameterNotFound:
        private_pem, public_pem = new_signing_key()
        ssm.put_parameter(
            Name=name,
            Value=private_pem,
            Type="SecureString",
            Description="Signs CloudFront links to story media (made by the stack)",
        )
        logger.info("signing key made", extra={"parameter": name, "request": request})
    return {"PhysicalResourceId": name, "Data": {"PublicKey": public_pem}}
