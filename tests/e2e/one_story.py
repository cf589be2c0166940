"""Asks the local stack, started from a given template, for one story and prints how its job
ended, as JSON (or the API's refusal) on a line of its own after `RESULT` (the stack's own log
lines may come before or after it). One local stack runs in a process at a time, so a test
that needs a second one, from another template, runs this in a process of its own:
`python -m tests.e2e.one_story <template.json>`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from api.app import create_app
from infra.local.api_server import ApiServer
from infra.local.emulator import LocalStack
from kidstory.config.load import get_settings
from tests.e2e.conftest import ApiClient

KEY = "one-story-key"
RESULT = "RESULT "


def main() -> None:
    template = Path(sys.argv[1])
    with LocalStack(template, environment={"API_KEY": KEY}) as stack:
        app = create_app(get_settings())
        server = ApiServer(stack.serve_api(app)).start()
        try:
            client = ApiClient(server.url, KEY)
            accepted = client.generate(
                prompt="A brave little mouse looks for cheese", age_group="6-8", num_illustrations=1
            )
            if accepted.status_code != 202:
                print(
                    RESULT + json.dumps({"refused": accepted.status_code, "detail": accepted.text})
                )
                return
            print(RESULT + json.dumps(client.wait_for(accepted.json()["job_id"], timeout=60)))
        finally:
            server.stop()


if __name__ == "__main__":
    main()
