"""Clips from Luma AI Ray2 on Amazon Bedrock, made asynchronously straight into the media bucket.

`start_video` calls StartAsyncInvoke with the model input of Bedrock's Luma AI page
(`prompt`, `aspect_ratio`, `loop`, `duration` "5s" or "9s", `resolution`) and, when the page's
illustration is ready, `keyframes.frame0` (the picture the clip starts from, base64), and with
`outputDataConfig.s3OutputDataConfig.s3Uri` = s3://<media bucket>/<spec.output_prefix>. Bedrock
writes the clip as `<that uri>/<invocation id>/output.mp4`, using the function's own S3
permissions. `check_video` calls GetAsyncInvoke: InProgress, Completed (the clip is in the bucket:
its key is returned, no bytes pass through the function) or Failed (with Bedrock's reason).

No API key: starting needs bedrock:InvokeModel on the model, checking bedrock:GetAsyncInvoke on
the account's async-invoke resources (docs/configuration.md, Pictures and clips).
"""

from __future__ import annotations

import base64
import posixpath
import uuid
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from kidstory import usage
from kidstory.providers.base import MediaSpec, VideoCheck, VideoOperation
from kidstory.providers.bedrock_media import looks_filtered, media_error
from kidstory.providers.bedrock_text import bedrock_client
from kidstory.providers.errors import ContentRefused, ProviderError

if TYPE_CHECKING:
    from kidstory.config.settings import Settings

# Square, like the pictures it starts from; 720p is Ray2's larger size on Bedrock.
ASPECT_RATIO = "1:1"
RESOLUTION = "720p"
OUTPUT_NAME = "output.mp4"
MAX_PROMPT_CHARS = 5000
_TOKENS = uuid.UUID("0b3f6a52-8a0e-4f43-b1f4-2d2d6c1e5a77")


def duration(seconds: float) -> str:
    """Ray2 makes 5 s and 9 s clips: the shortest that is at least as long as asked."""
    return "5s" if seconds <= 5 else "9s"


class BedrockVideoProvider:
    name = "bedrock"

    def __init__(
        self, model: str, *, client: Any, bucket: str, poll_after_seconds: int = 30
    ) -> None:
        self.model = model
        self._client = client
        self._bucket = bucket
        self._poll_after = poll_after_seconds

    @classmethod
    def from_settings(cls, settings: Settings) -> BedrockVideoProvider:
        client = bedrock_client(
            settings.bedrock_video_region, timeout_seconds=settings.provider_timeout_seconds
        )
        return cls(
            settings.bedrock_video_model,
            client=client,
            bucket=settings.media_bucket,
            poll_after_seconds=settings.video_poll_seconds,
        )

    def start_video(self, spec: MediaSpec) -> VideoOperation:
        if not spec.output_prefix:
            raise ProviderError("a Bedrock clip needs a place in the media bucket to go")
        model_input: dict[str, Any] = {
            "prompt": spec.prompt[:MAX_PROMPT_CHARS],
            "aspect_ratio": ASPECT_RATIO,
            "loop": False,
            "duration": duration(spec.seconds),
            "resolution": RESOLUTION,
        }
        if spec.start_image is not None:
            model_input["keyframes"] = {
                "frame0": {
                    "type": "image",
                    "source": {
                        "type": "base64",
                        "media_type": spec.start_image.content_type,
                        "data": base64.b64encode(spec.start_image.content).decode(),
                    },
                }
            }
        try:
            started = self._client.start_async_invoke(
                # the same for every try of one clip: a retried start does not pay for a second
                clientRequestToken=str(uuid.uuid5(_TOKENS, spec.output_prefix)),
                modelId=self.model,
                modelInput=model_input,
                outputDataConfig={
                    "s3OutputDataConfig": {"s3Uri": f"s3://{self._bucket}/{spec.output_prefix}"}
                },
            )
        except (ClientError, BotoCoreError) as error:
            raise media_error(error) from error
        billed = duration(spec.seconds)
        usage.report(
            self.name, self.model, usage.CLIP_SECONDS, float(billed[:-1]), f"{RESOLUTION} {billed}"
        )
        return VideoOperation(
            operation_id=started["invocationArn"], poll_after_seconds=self._poll_after
        )

    def check_video(self, operation_id: str, spec: MediaSpec) -> VideoCheck:
        try:
            job = self._client.get_async_invoke(invocationArn=operation_id)
        except (ClientError, BotoCoreError) as error:
            raise media_error(error) from error
        status = job["status"]
        if status == "InProgress":
            return VideoCheck(done=False)
        if status == "Failed":
            reason = (job.get("failureMessage") or "").strip() or "no reason was given"
            if looks_filtered(reason):
                raise ContentRefused(f"Bedrock {self.model} refused the clip: {reason}")
            raise ProviderError(f"Bedrock {self.model} could not make the clip: {reason}")
        if status != "Completed":
            raise ProviderError(f"Bedrock reported the clip as {status!r}")
        return VideoCheck(done=True, stored_key=self._clip_key(job, operation_id))

    def _clip_key(self, job: dict[str, Any], operation_id: str) -> str:
        """Where Bedrock put the clip: output.mp4 in the invocation's own folder."""
        uri = job.get("outputDataConfig", {}).get("s3OutputDataConfig", {}).get("s3Uri", "")
        bucket, _, folder = uri.removeprefix("s3://").partition("/")
        if not uri.startswith("s3://") or bucket != self._bucket:
            raise ProviderError(f"Bedrock wrote the clip outside the media bucket ({uri!r})")
        folder = folder.strip("/")
        invocation_id = operation_id.rsplit("/", 1)[-1]
        if posixpath.basename(folder) != invocation_id:  # the uri we gave, not its folder
            folder = posixpath.join(folder, invocation_id)
        return posixpath.join(folder, OUTPUT_NAME)
