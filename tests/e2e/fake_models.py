"""Fake model services that speak each provider family's wire format, for end-to-end tests in
which the product's own provider code (the real SDKs) runs inside the real workflow.

`FakeModelServer` is a real HTTP server on 127.0.0.1 that answers as OpenAI (Responses API and
Images API), Anthropic (Messages API) and Ollama (its OpenAI-compatible `/v1/chat/completions`)
do, under whatever path prefix a gateway in front of them would add. `FakeBedrock` answers
bedrock-runtime's Converse and InvokeModel from a botocore `before-send` hook.

Both share one `StoryModel`: it reads each question the way a model would (the JSON schema it is
asked to fill and the request text) and answers it, a story for the writer ("Write a story of L
to H pages", with the scenes it is asked to plan with it) and a scene plan for the prompters
("Plan exactly N ..."), and draws real PNG
pictures for picture prompts. Everything asked and answered is kept for the test to check.
"""

from __future__ import annotations

import base64
import io
import json
import re
import secrets
import string
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

from botocore.awsrequest import AWSResponse

from kidstory.providers.offline_media import draw_illustration

TITLE = "Pip and the Lantern (fake model)"
HERO = {
    "name": "Pip",
    "species": "hedgehog",
    "look": "a small round hedgehog with soft brown spines and a pink nose, wearing a yellow "
    "raincoat and green boots",
}
ART_STYLE = "soft watercolour, warm evening light, gentle pastel palette, cosy and calm"
# Short, gentle sentences: the story fits the reading band of ages 3-5 and 6-8, and says
# nothing the safety review refuses. The last page is always the ending.
_MIDDLE_PAGES = (
    "Pip the hedgehog has a little yellow lantern. It glows like a warm sun.",
    "One evening, the lantern light goes out. Pip feels a bit sad.",
    'Pip walks to the pond to ask Duck for help. Duck says, "Let us look together!"',
    "They find a shiny jar by the old oak tree. The jar is empty.",
    "Pip hears a soft buzz in the grass. Tiny fireflies are dancing there.",
    '"Would you like to visit my lantern?" Pip asks. The fireflies blink yes.',
    "The fireflies fly into the lantern. It glows again, soft and gold.",
    "Pip and Duck walk home along the path. The lantern lights the way.",
    'Mama Hedgehog smiles at the door. "What a kind friend you are," she says.',
    "Pip opens the lantern by the window. The fireflies float out to play.",
    "They twinkle over the garden like tiny stars. Pip waves to them.",
    "Duck waves too, from her nest by the pond. Everyone is happy.",
    "Pip curls up in a cosy bed. The moon shines on the lantern.",
)
_ENDING = "The fireflies will come back tomorrow. Goodnight, Pip. Goodnight, little lantern."

# A version's answer (tests/e2e/test_sequels_and_versions.py): the story told again in Spanish,
# page for page.
VERSION_TITLE = "Pip y la linterna (modelo falso)"

Kind = Literal["story", "scenes", "picture", "version"]
Spoil = Literal["too_few_pages", "malformed_json"]


def story_pages(count: int) -> list[str]:
    """The fake model's story in `count` pages (2 to 14)."""
    assert 2 <= count <= len(_MIDDLE_PAGES) + 1, count
    return [*_MIDDLE_PAGES[: count - 1], _ENDING]


def character_sheet() -> str:
    """The character sheet as every picture prompt must carry it, word for word."""
    return f"{HERO['name']}, {HERO['look']}"


@dataclass
class Received:
    """One request the fake answered: what a recording proxy in front of the model would see."""

    family: str
    kind: Kind
    method: str
    path: str
    headers: dict[str, str]  # names in lower case
    body: dict[str, Any]
    model_id: str = ""  # the model asked for (in the body, or in Bedrock's path)
    question: str = ""  # the request text of a story or scene question; a picture's prompt
    status: int = 200
    answer: Any = None  # the JSON answer, or the picture's PNG bytes
    at: float = field(default_factory=time.monotonic)  # when it arrived


class StoryModel:
    """Answers the writer, the scene prompters and the illustrator the way a model would,
    and keeps everything it was asked and everything it answered."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.pictures: dict[str, bytes] = {}  # prompt -> PNG answered
        self.problems: list[str] = []  # requests the fake could not understand
        self.spoil_first_story: Spoil | None = None
        self.throttle_first_picture = False
        # answers the scenes the writer is asked for with the story; False: a model that
        # leaves them out, so the scene prompters must ask for a plan
        self.plans_with_story = True
        self._lock = threading.Lock()

    # what the test reads

    def of_kind(self, kind: Kind) -> list[Received]:
        with self._lock:
            return [exchange for exchange in self.received if exchange.kind == kind]

    # answers

    def kind_of(self, schema: dict[str, Any] | None) -> Kind:
        properties = (schema or {}).get("properties", {})
        if "pages" in properties and "character" in properties and "art_style" in properties:
            return "story"
        if "scenes" in properties:
            return "scenes"
        if "pages" in properties and "title" in properties:
            return "version"
        raise AssertionError(f"the fake model does not know this schema: {schema}")

    def answer(self, kind: Kind, request: str) -> tuple[str, Any]:
        """The answer to a story or scene question as JSON text (what the model outputs), and
        the same as an object."""
        if kind == "story":
            found = re.search(r"Write a story of (\d+) to (\d+) pages", request)
            assert found, f"a story question without a page range: {request[:200]}"
            low = int(found.group(1))
            with self._lock:
                spoil, self.spoil_first_story = self.spoil_first_story, None
            story = {
                "title": TITLE,
                "pages": story_pages(2 if spoil == "too_few_pages" else low),
                "character": dict(HERO),
                "art_style": ART_STYLE,
            }
            asked = re.search(r"Also plan exactly (\d+) scenes", request)
            if asked and self.plans_with_story:
                story["scenes"] = self.scenes(
                    int(asked.group(1)), list(enumerate(story["pages"], 1))
                )
            text = json.dumps(story)
            if spoil == "malformed_json":  # cut off half way, as a model that ran out might
                return text[: len(text) // 2], None
            return text, story
        if kind == "version":
            return self.version_answer(request)
        found = re.search(r"Plan exactly (\d+) ", request)
        assert found, f"a scene question without a count: {request[:200]}"
        count = int(found.group(1))
        pages = re.findall(r"^(\d+)\. (.+)$", request, flags=re.MULTILINE)
        assert pages, f"a scene question without the story's pages: {request[:200]}"
        plan = {"scenes": self.scenes(count, [(int(n), text) for n, text in pages])}
        return json.dumps(plan), plan

    @staticmethod
    def scenes(count: int, pages: list[tuple[int, str]]) -> list[dict[str, Any]]:
        """`count` scenes spread over the story's numbered pages."""
        return [
            {
                "page": number,
                "scene_description": pages[number - 1][1].split(". ")[0].rstrip(".") + ".",
                "visual": f"Page {number}: a quiet garden path at dusk, Pip smiling with the "
                "lantern, fireflies glowing, wide calm view, soft shadows.",
            }
            for number in spread(count, len(pages))
        ]

    def version_answer(self, request: str) -> tuple[str, Any]:
        """A version question's answer: as many short Spanish pages as the story it retells."""
        found = re.search(r"Tell this story again in exactly (\d+) pages", request)
        assert found, f"a version question without a page count: {request[:200]}"
        pages = [
            f"Pip el erizo mira su linterna. Es la página {number}. Todo está en calma."
            for number in range(1, int(found.group(1)) + 1)
        ]
        version = {"title": VERSION_TITLE, "pages": pages}
        return json.dumps(version), version

    def draw(self, prompt: str, *, size: int, label: str) -> bytes:
        picture = draw_illustration(
            prompt, palette_seed=TITLE, width=size, height=size, label=label, species="hedgehog"
        )
        with self._lock:
            self.pictures[prompt] = picture
        return picture

    def take_throttle(self) -> bool:
        with self._lock:
            throttle, self.throttle_first_picture = self.throttle_first_picture, False
            return throttle

    def record(self, exchange: Received) -> None:
        with self._lock:
            self.received.append(exchange)


def spread(count: int, pages: int) -> list[int]:
    """`count` page numbers spread over `pages` pages: beginning, middle and end."""
    if count == 1:
        return [(pages + 1) // 2]
    return sorted({1 + round(index * (pages - 1) / (count - 1)) for index in range(count)})


def tokens(text: str) -> int:
    return max(1, len(text) // 4)


def _id(prefix: str, length: int = 24) -> str:
    """An id like the service's: its prefix, then `length` hex digits."""
    return prefix + secrets.token_hex(length // 2)


def _base62_id(prefix: str, length: int = 22) -> str:
    """An id like Anthropic's ("msg_01XFDUDYJgAACzvnptvVoYEL")."""
    alphabet = string.ascii_letters + string.digits
    return prefix + "".join(secrets.choice(alphabet) for _ in range(length))


def png_size(request_size: str | None) -> int:
    """The side of the square picture the request asks for ("1024x1024"), within what the
    offline drawing can make."""
    side = int((request_size or "1024x1024").split("x")[0])
    return min(max(side, 256), 1024)


# --- HTTP families ---------------------------------------------------------------------------


@dataclass
class Reply:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


class FakeModelServer:
    """OpenAI, Anthropic and Ollama on one local HTTP server, each under its own path prefix
    (as a gateway would route them): `openai_base_url`, `anthropic_base_url` and
    `ollama_base_url` are what OPENAI_BASE_URL, ANTHROPIC_BASE_URL and OLLAMA_BASE_URL are set to.
    """

    def __init__(self, model: StoryModel | None = None) -> None:
        self.model = model or StoryModel()
        routes: dict[str, Callable[[Received], Reply]] = {
            "/gateway/openai/v1/responses": self._openai_response,
            "/gateway/openai/v1/images/generations": self._openai_image,
            "/gateway/anthropic/v1/messages": self._anthropic_message,
            "/gateway/ollama/v1/chat/completions": self._ollama_completion,
        }
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the SDKs' connection pools expect

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                path = urlsplit(self.path).path
                route = routes.get(path)
                try:
                    if route is None:
                        raise AssertionError(f"no such endpoint: POST {path}")
                    exchange = Received(
                        family=path.split("/")[2],
                        kind="picture" if path.endswith("/images/generations") else "story",
                        method="POST",
                        path=path,
                        headers={name.lower(): value for name, value in self.headers.items()},
                        body=json.loads(raw),
                    )
                    exchange.model_id = exchange.body["model"]
                    reply = route(exchange)
                    exchange.status = reply.status
                    fake.model.record(exchange)
                except Exception as problem:  # tell the client, and the test
                    fake.model.problems.append(f"POST {path}: {problem!r}")
                    reply = Reply(500, {"error": {"message": f"fake model: {problem!r}"}})
                self._send(reply)

            def _send(self, reply: Reply) -> None:
                payload = json.dumps(reply.body).encode()
                self.send_response(reply.status)
                headers = {"Content-Type": "application/json", **reply.headers}
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.root = f"http://127.0.0.1:{self._server.server_address[1]}/gateway"
        self.openai_base_url = f"{self.root}/openai/v1"
        self.anthropic_base_url = f"{self.root}/anthropic"
        self.ollama_base_url = f"{self.root}/ollama"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> FakeModelServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeModelServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # OpenAI Responses API: POST /v1/responses with text.format = json_schema

    def _openai_response(self, exchange: Received) -> Reply:
        body = exchange.body
        text_format = body["text"]["format"]
        assert text_format["type"] == "json_schema", text_format
        exchange.kind = self.model.kind_of(text_format["schema"])
        exchange.question = str(body["input"])
        text, exchange.answer = self.model.answer(exchange.kind, exchange.question)
        usage_in = tokens(body.get("instructions", "") + exchange.question)
        return Reply(
            200,
            {
                "id": _id("resp_", 48),
                "object": "response",
                "created_at": int(time.time()),
                "status": "completed",
                "background": False,
                "error": None,
                "incomplete_details": None,
                "instructions": body.get("instructions"),
                "max_output_tokens": None,
                "model": body["model"],
                "output": [
                    {"id": _id("rs_", 48), "type": "reasoning", "summary": []},
                    {
                        "id": _id("msg_", 48),
                        "type": "message",
                        "status": "completed",
                        "role": "assistant",
                        "content": [
                            {
                                "type": "output_text",
                                "text": text,
                                "annotations": [],
                                "logprobs": [],
                            }
                        ],
                    },
                ],
                "parallel_tool_calls": True,
                "previous_response_id": None,
                "reasoning": {"effort": "medium", "summary": None},
                "store": True,
                "temperature": 1.0,
                "text": {"format": text_format, "verbosity": "medium"},
                "tool_choice": "auto",
                "tools": [],
                "top_p": 1.0,
                "truncation": "disabled",
                "usage": {
                    "input_tokens": usage_in,
                    "input_tokens_details": {"cached_tokens": 0},
                    "output_tokens": tokens(text) + 64,
                    "output_tokens_details": {"reasoning_tokens": 64},
                    "total_tokens": usage_in + tokens(text) + 64,
                },
                "user": None,
                "metadata": {},
            },
            {"x-request-id": _id("req_", 32), "openai-processing-ms": "812"},
        )

    # OpenAI Images API: POST /v1/images/generations, GPT image models answer in b64_json

    def _openai_image(self, exchange: Received) -> Reply:
        body = exchange.body
        exchange.question = body["prompt"]
        if self.model.take_throttle():
            return Reply(
                429,
                {
                    "error": {
                        "message": f"Rate limit reached for {body['model']} on images per "
                        "minute: Limit 5, Used 5, Requested 1. Please try again in 1s.",
                        "type": "requests",
                        "param": None,
                        "code": "rate_limit_exceeded",
                    }
                },
                {"retry-after": "1", "x-request-id": _id("req_", 32)},
            )
        picture = self.model.draw(
            exchange.question, size=png_size(body.get("size")), label="Fake OpenAI picture"
        )
        exchange.answer = picture
        prompt_tokens = tokens(exchange.question)
        return Reply(
            200,
            {
                "created": int(time.time()),
                "background": "opaque",
                "data": [{"b64_json": base64.b64encode(picture).decode()}],
                "output_format": body.get("output_format", "png"),
                "quality": body.get("quality", "medium"),
                "size": body.get("size", "1024x1024"),
                "usage": {
                    "input_tokens": prompt_tokens,
                    "input_tokens_details": {"image_tokens": 0, "text_tokens": prompt_tokens},
                    "output_tokens": 1056,
                    "total_tokens": prompt_tokens + 1056,
                },
            },
            {"x-request-id": _id("req_", 32)},
        )

    # Anthropic Messages API: POST /v1/messages with output_config.format = json_schema

    def _anthropic_message(self, exchange: Received) -> Reply:
        body = exchange.body
        output_format = body["output_config"]["format"]
        assert output_format["type"] == "json_schema", output_format
        exchange.kind = self.model.kind_of(output_format["schema"])
        (message,) = body["messages"]
        content = message["content"]
        exchange.question = content if isinstance(content, str) else content[0]["text"]
        text, exchange.answer = self.model.answer(exchange.kind, exchange.question)
        return Reply(
            200,
            {
                "id": _base62_id("msg_01"),
                "type": "message",
                "role": "assistant",
                "model": body["model"],
                "content": [{"type": "text", "text": text}],
                "stop_reason": "end_turn",
                "stop_sequence": None,
                "usage": {
                    "input_tokens": tokens(str(body.get("system", "")) + exchange.question),
                    "cache_creation_input_tokens": 0,
                    "cache_read_input_tokens": 0,
                    "output_tokens": tokens(text),
                    "service_tier": "standard",
                },
            },
            {"request-id": _base62_id("req_011")},
        )

    # Ollama's OpenAI-compatible API: POST /v1/chat/completions, response_format json_schema

    def _ollama_completion(self, exchange: Received) -> Reply:
        body = exchange.body
        response_format = body["response_format"]
        assert response_format["type"] == "json_schema", response_format
        exchange.kind = self.model.kind_of(response_format["json_schema"]["schema"])
        user = [message["content"] for message in body["messages"] if message["role"] == "user"]
        exchange.question = user[-1]
        text, exchange.answer = self.model.answer(exchange.kind, exchange.question)
        prompt_tokens = tokens(" ".join(str(m["content"]) for m in body["messages"]))
        return Reply(
            200,
            {
                "id": f"chatcmpl-{secrets.randbelow(1000)}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body["model"],
                "system_fingerprint": "fp_ollama",
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": text},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": tokens(text),
                    "total_tokens": prompt_tokens + tokens(text),
                },
            },
        )


# --- Bedrock ---------------------------------------------------------------------------------


class _Body(io.BytesIO):
    """A response body botocore can read (`read`) and stream (`stream`)."""

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.getvalue()


def aws_answer(url: str, status: int, body: dict[str, Any], **headers: str) -> AWSResponse:
    payload = json.dumps(body).encode()
    return AWSResponse(
        url,
        status,
        {
            "Content-Type": "application/json",
            "Content-Length": str(len(payload)),
            "x-amzn-RequestId": str(uuid.uuid4()),
            **headers,
        },
        _Body(payload),
    )


class FakeBedrock:
    """bedrock-runtime's Converse (text; a schema given as a forced tool is answered with a
    toolUse, one given in outputConfig with JSON text) and InvokeModel (Stability's Stable
    Image body), answered from a botocore `before-send` hook on the real client."""

    def __init__(self, model: StoryModel | None = None) -> None:
        self.model = model or StoryModel()

    def wrap(self, factory: Callable[..., Any]) -> Callable[..., Any]:
        """A client factory like `factory` (bedrock_text.bedrock_client), whose clients are
        answered by this fake."""

        def client(region: str | None, *, timeout_seconds: float) -> Any:
            made = factory(region, timeout_seconds=timeout_seconds)
            made.meta.events.register("before-send.bedrock-runtime", self._answer)
            return made

        return client

    def _answer(self, request: Any, **_: Any) -> AWSResponse:
        path = unquote(urlsplit(request.url).path)
        found = re.fullmatch(r"/model/(.+)/(converse|invoke)", path)
        try:
            assert request.method == "POST" and found, f"unexpected {request.method} {path}"
            exchange = Received(
                family="bedrock",
                kind="picture" if found.group(2) == "invoke" else "story",
                method=request.method,
                path=path,
                headers={name.lower(): _text(value) for name, value in request.headers.items()},
                body=json.loads(request.body),
                model_id=found.group(1),
            )
            if found.group(2) == "converse":
                response = self._converse(request.url, exchange)
            else:
                response = self._invoke(request.url, exchange)
        except Exception as problem:
            self.model.problems.append(f"{request.method} {path}: {problem!r}")
            raise
        exchange.status = response.status_code
        self.model.record(exchange)
        return response

    def _converse(self, url: str, exchange: Received) -> AWSResponse:
        body = exchange.body
        (message,) = body["messages"]
        exchange.question = message["content"][0]["text"]
        tools = body.get("toolConfig", {}).get("tools", [])
        if tools:
            spec = tools[0]["toolSpec"]
            assert body["toolConfig"]["toolChoice"] == {"tool": {"name": spec["name"]}}
            schema = spec["inputSchema"]["json"]
        else:
            structure = body["outputConfig"]["textFormat"]["structure"]["jsonSchema"]
            schema = json.loads(structure["schema"])
        exchange.kind = self.model.kind_of(schema)
        text, exchange.answer = self.model.answer(exchange.kind, exchange.question)
        if tools:
            assert exchange.answer is not None, "a forced tool call always gives an object"
            content: list[dict[str, Any]] = [
                {
                    "toolUse": {
                        "toolUseId": f"tooluse_{secrets.token_urlsafe(16)}",
                        "name": tools[0]["toolSpec"]["name"],
                        "input": exchange.answer,
                    }
                }
            ]
            stop = "tool_use"
        else:
            content, stop = [{"text": text}], "end_turn"
        system = " ".join(block["text"] for block in body.get("system", []))
        usage_in, usage_out = tokens(system + exchange.question), tokens(text)
        return aws_answer(
            url,
            200,
            {
                "output": {"message": {"role": "assistant", "content": content}},
                "stopReason": stop,
                "usage": {
                    "inputTokens": usage_in,
                    "outputTokens": usage_out,
                    "totalTokens": usage_in + usage_out,
                },
                "metrics": {"latencyMs": 1312},
            },
        )

    def _invoke(self, url: str, exchange: Received) -> AWSResponse:
        body = exchange.body
        exchange.question = body["prompt"]
        if self.model.take_throttle():
            return aws_answer(
                url,
                429,
                {"message": "Too many requests, please wait before trying again."},
                **{"x-amzn-ErrorType": "ThrottlingException:http://internal.amazon.com/"},
            )
        picture = self.model.draw(exchange.question, size=1024, label="Fake Bedrock picture")
        exchange.answer = picture
        return aws_answer(
            url,
            200,
            {
                "seeds": [body.get("seed", 0)],
                "finish_reasons": [None],
                "images": [base64.b64encode(picture).decode()],
            },
        )


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value
