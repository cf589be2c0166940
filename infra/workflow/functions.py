"""The workflow's functions: each step's Lambda function created with its settings, timeout
and concurrency, and granted exactly what it touches (table, bucket, its provider)."""

from __future__ import annotations

import math

from aws_cdk import Duration
from constructs import Construct

from infra.config import StageConfig
from infra.config.text import OpenAIText
from infra.lambda_factory import (
    BOOK_MEMORY_MB,
    MEDIA_MEMORY_MB,
    NARRATION_MEMORY_MB,
    WAITING_MEMORY_MB,
    FunctionFactory,
)
from infra.provider_access import (
    grant_image_provider,
    grant_moderation,
    grant_narration,
    grant_text_provider,
    grant_video_provider,
)
from infra.storage import Storage
from infra.workflow.definition import StoryFunctions
from kidstory.story_budget import longest_story_seconds

LAMBDA_LONGEST_SECONDS = 900  # Lambda's longest timeout


def write_story_timeout(config: StageConfig) -> Duration:
    """WriteStory's timeout: its longest story as the stage's settings make it
    (kidstory.story_budget), within Lambda's 15 minutes. Only the every-call-waits-its-timeout
    case of a remote moderation provider can go beyond (the job then fails, through the Catch)."""
    longest = longest_story_seconds(
        config.runtime_settings, moderated=config.moderation.provider != "offline"
    )
    return Duration.seconds(min(math.ceil(longest), LAMBDA_LONGEST_SECONDS))


def story_functions(
    scope: Construct, functions: FunctionFactory, storage: Storage, config: StageConfig
) -> StoryFunctions:
    """The functions of the workflow's steps, each with its provider's settings and grants."""
    # The story writer alone talks to the text provider, the picture function to the picture
    # provider, the clip functions to the clip provider: each gets only its own provider's
    # settings and grants (a function would refuse to start on a keyed provider without its
    # key).
    write_story = functions.create(
        scope,
        "write_story",
        reserved_concurrency=config.provider_concurrency,
        timeout=write_story_timeout(config),
        # the reviewer checks every page with the stage's moderation, as the API the idea
        environment={**config.text_provider_environment, **config.moderation_environment},
        dependencies=["story"],
    )
    storage.allow_table_read_write(write_story)
    # a version of a story copies its parent's pictures and clips within the bucket
    # (CopyObject: GetObject on the parent's keys, PutObject on the version's)
    storage.allow_media_read_write(write_story)
    grant_text_provider(write_story, config)
    grant_moderation(
        write_story,
        config,
        key_granted=isinstance(config.text, OpenAIText) and bool(config.text.key_parameter),
    )

    # Every picture is shown to the stage's moderation provider, if any, before it is
    # stored: the picture function gets its settings and grants too.
    remote_picture = (config.images.provider, config.moderation.provider) != ("offline",) * 2
    generate_image = functions.create(
        scope,
        "generate_image",
        reserved_concurrency=config.provider_concurrency,
        # a model's picture (up to three, when one fails its check), or a moderation call
        # for each, takes far longer than an offline picture alone
        timeout=Duration.minutes(5 if remote_picture else 2),
        # the offline provider draws the picture (CPU, which Lambda gives by memory); a model's
        # picture is waited for, billed by memory for every second of the wait
        memory_size=MEDIA_MEMORY_MB if config.images.provider == "offline" else WAITING_MEMORY_MB,
        environment={
            **config.image_provider_environment,
            **config.picture_moderation_environment,
        },
        dependencies=["media"],
    )
    # Offline video rendering happens in start_video/check_video.
    start_video = functions.create(
        scope,
        "start_video",
        reserved_concurrency=config.provider_concurrency,
        timeout=Duration.minutes(5),
        memory_size=MEDIA_MEMORY_MB,
        environment=config.video_provider_environment,
        dependencies=["video"],
    )
    # A provider-made clip is shown to the stage's moderation provider, if any, before it is
    # recorded (frames of it; an offline clip is a pan over the page's checked picture): the
    # check function gets its settings and grants then. Its 5 minutes hold the worst case of
    # one check: GetAsyncInvoke (PROVIDER_TIMEOUT_SECONDS, at most 60 s), reading the clip
    # and ffmpeg (a few seconds; at most 30 s a run), a moderation call per frame
    # (MODERATION_TIMEOUT_SECONDS, at most 25 s each, 75 s) and a honoured Retry-After (20 s).
    check_video = functions.create(
        scope,
        "check_video",
        reserved_concurrency=config.provider_concurrency,
        timeout=Duration.minutes(5),
        memory_size=MEDIA_MEMORY_MB,
        environment={
            **config.video_provider_environment,
            "VIDEO_MAX_CHECKS": str(config.video_max_checks),
            **config.clip_moderation_environment,
        },
        dependencies=["video"],
    )
    for media_function in (generate_image, start_video, check_video):
        storage.allow_table_read_write(media_function)
        storage.allow_media_read_write(media_function)
    grant_image_provider(generate_image, config)
    # Pictures and clip frames are shown only to a moderation provider that reads pictures
    # (not ollama's text-only safety model): the others get no moderation grant.
    if config.moderation.reads_pictures:
        grant_moderation(
            generate_image,
            config,
            key_granted=bool(config.images.key_parameter),
        )
    grant_video_provider(start_video, check_video, config, storage)
    if config.video.provider != "offline" and config.moderation.reads_pictures:
        grant_moderation(check_video, config)  # the clip provider needs no OpenAI key

    # A page read aloud: Polly (two calls: the audio and its word marks), or eSpeak NG in the
    # function (offline).
    narrate_page = functions.create(
        scope,
        "narrate_page",
        reserved_concurrency=config.provider_concurrency,
        timeout=Duration.minutes(2),
        memory_size=NARRATION_MEMORY_MB,
        environment=config.narration_environment,
        dependencies=["narration"],
    )
    storage.allow_table_read_write(narrate_page)
    storage.allow_media_read_write(narrate_page)
    grant_narration(narrate_page, config)

    # The books: every picture and page's audio read from the bucket, an EPUB and two PDFs
    # written back (pictures scaled to 300 DPI for print).
    build_book = functions.create(
        scope,
        "build_book",
        timeout=Duration.minutes(3),
        memory_size=BOOK_MEMORY_MB,
        dependencies=["book"],
    )
    storage.allow_table_read(build_book)
    storage.allow_media_read_write(build_book)

    assemble = functions.create(scope, "assemble", timeout=Duration.minutes(1))
    mark_failed = functions.create(scope, "mark_failed", timeout=Duration.minutes(1))
    storage.allow_table_read_write(assemble)
    storage.allow_media_read(assemble)  # checks that every asset is in the bucket
    storage.allow_table_read_write(mark_failed)
    # a page change made current removes its own items; one that failed, its items and media
    for ending in (assemble, mark_failed):
        storage.allow_page_change_cleanup(ending)

    return StoryFunctions(
        write_story=write_story,
        generate_image=generate_image,
        start_video=start_video,
        check_video=check_video,
        narrate_page=narrate_page,
        build_book=build_book,
        assemble=assemble,
        mark_failed=mark_failed,
    )
