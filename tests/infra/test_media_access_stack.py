"""Media is private to the key that owns the story: CloudFront serves only URLs signed with the
stage's key pair, made at deploy time with its private half in SSM, read by the API alone."""

from __future__ import annotations

from typing import Any

from tests.infra.conftest import Synthesized
from tests.infra.test_providers_stack import arn, of_service, statements_by_role

PARAMETER = "/kidstory/local/media-signing-key"
PARAMETER_ARN = arn(
    ":ssm:", {"Ref": "AWS::Region"}, ":", {"Ref": "AWS::AccountId"}, f":parameter{PARAMETER}"
)


def _one(resources: dict[str, Any], kind: str) -> tuple[str, dict[str, Any]]:
    (found,) = [(lid, res) for lid, res in resources.items() if res["Type"] == kind]
    return found


def _role(resources: dict[str, Any], function: str) -> str:
    return str(resources[function]["Properties"]["Role"]["Fn::GetAtt"][0])


def test_the_media_distribution_serves_only_links_signed_with_the_stage_key(
    synthesized: Synthesized,
) -> None:
    resources = synthesized.resources
    distribution = resources["MediaDistribution"]["Properties"]["DistributionConfig"]
    key_group_id, key_group = _one(resources, "AWS::CloudFront::KeyGroup")
    public_key_id, public_key = _one(resources, "AWS::CloudFront::PublicKey")
    maker_id, maker = _one(resources, "Custom::MediaSigningKey")

    assert distribution["DefaultCacheBehavior"]["TrustedKeyGroups"] == [{"Ref": key_group_id}]
    assert key_group["Properties"]["KeyGroupConfig"]["Items"] == [{"Ref": public_key_id}]
    # the public key is the one the maker made; no key material is in the template
    assert public_key["Properties"]["PublicKeyConfig"]["EncodedKey"] == {
        "Fn::GetAtt": [maker_id, "PublicKey"]
    }
    assert maker["Properties"]["ParameterName"] == PARAMETER
    # the reader's pages stay public
    reader = [
        behavior
        for behavior in distribution.get("CacheBehaviors", [])
        if behavior["PathPattern"].startswith("reader")
    ]
    assert all("TrustedKeyGroups" not in behavior for behavior in reader)


def test_only_the_api_reads_the_signing_key_and_only_its_maker_writes_it(
    synthesized: Synthesized,
) -> None:
    resources = synthesized.resources
    public_key_id, _ = _one(resources, "AWS::CloudFront::PublicKey")
    api_environment = resources["ApiFunction"]["Properties"]["Environment"]["Variables"]
    assert api_environment["MEDIA_SIGNING_KEY_ID"] == {"Ref": public_key_id}
    assert api_environment["MEDIA_SIGNING_KEY_PARAMETER"] == PARAMETER

    statements = statements_by_role(synthesized.template.to_json())
    api_role = _role(resources, "ApiFunction")
    maker_role = _role(resources, "MediaSigningKeyFunction")
    assert of_service(statements[api_role], "ssm") == [
        {"Action": "ssm:GetParameter", "Effect": "Allow", "Resource": PARAMETER_ARN}
    ]
    assert of_service(statements[maker_role], "ssm") == [
        {
            "Action": ["ssm:DeleteParameter", "ssm:GetParameter", "ssm:PutParameter"],
            "Effect": "Allow",
            "Resource": PARAMETER_ARN,
        }
    ]
    for role, held in statements.items():
        if role not in (api_role, maker_role):
            assert not of_service(held, "ssm"), role
