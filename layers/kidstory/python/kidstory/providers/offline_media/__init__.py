"""Pictures and videos for the offline provider.

Everything here is deterministic for a given input and needs no network and no API key. The
output is real media (PNG and MP4) and is visibly labelled as offline output, so it is never
mistaken for generated artwork. One module per part: the scene a prompt describes, its
scenery, the hero, the caption, the picture they make together, and the clip panned over it.
"""

from kidstory.providers.offline_media.canvas import (
    OFFLINE_IMAGE_CONTENT_TYPE,
    OFFLINE_VIDEO_CONTENT_TYPE,
    OfflineMediaError,
)
from kidstory.providers.offline_media.character import (
    CharacterLook,
    character_body_point,
    character_look,
)
from kidstory.providers.offline_media.illustration import draw_illustration
from kidstory.providers.offline_media.video import render_video

__all__ = [
    "OFFLINE_IMAGE_CONTENT_TYPE",
    "OFFLINE_VIDEO_CONTENT_TYPE",
    "CharacterLook",
    "OfflineMediaError",
    "character_body_point",
    "character_look",
    "draw_illustration",
    "render_video",
]
