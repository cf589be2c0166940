"""`make run`: the whole product on this machine at http://127.0.0.1:8000, on emulated AWS."""

from __future__ import annotations

import argparse
import os

from infra.local.emulator import LocalStack
from infra.local.synth import PROJECT_ROOT, synthesize
from kidstory.config.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument(
        "--moto-port",
        type=int,
        default=int(os.environ.get("LOCAL_AWS_PORT", "5000")),
        help="port of the embedded AWS emulation (point the AWS CLI at it with --endpoint-url)",
    )
    args = parser.parse_args()

    template = synthesize(PROJECT_ROOT / ".local" / "cdk.out")
    # every setting the functions know, as exported in this shell, wins over the template's
    known = {name.upper() for name in Settings.model_fields}
    local_settings = {"WEBHOOK_ALLOW_PRIVATE_TARGETS": "true"} | {
        key: value for key, value in os.environ.items() if key in known
    }
    stack = LocalStack(template, moto_port=args.moto_port, environment=local_settings).start()

    import uvicorn

    from api.handler import app

    base = f"http://{args.host}:{args.port}"
    print(
        f"\nKids Story Agent is running locally (offline providers, emulated AWS).\n"
        f"  API           {base}\n"
        f"  API docs      {base}/docs\n"
        f"  emulated AWS  {stack.endpoint_url}  (state machine {stack.state_machine_arn})\n"
        f"  try:          make demo\n",
        flush=True,
    )
    try:
        uvicorn.run(stack.serve_api(app), host=args.host, port=args.port, log_level="info")
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
