"""Serve the bundled test copy of the Hub sample on 127.0.0.1 as a Hub-shaped API, in one of two states.

    python scripts/serve_sample_hub.py --state 1 -- ptmgraph crawl --seed deepseek-ai/DeepSeek-R1 --out outputs/r1
    python scripts/serve_sample_hub.py --state 2 -- ptmgraph crawl --update outputs/r1 --out outputs/r1-later

It serves ``tests/data/hub-sample`` with the tests' server (``tests/hub_server.py``): state 1 is the Hub on
2025-03-01 (the models created before that day), state 2 the Hub on 2025-04-30 (every model, three of them
changed and three removed: ``hub_server.two_states``). With a command after ``--`` it starts the server, runs
the command with ``HF_ENDPOINT`` pointing at it (no token, no telemetry), stops the server and exits with
the command's exit code; without one it prints the URL and serves until interrupted. Nothing leaves the
machine: the server listens on 127.0.0.1 only, on a free port unless ``--port`` names one.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1] / "tests"
sys.path.insert(0, str(TESTS))

from hub_server import CUTOFF, STATE_2_TIME, HubData, HubServer, iso_time, two_states  # noqa: E402
from raw_sample import hub_sample_dir  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    command: list[str] = []
    if "--" in args:
        at = args.index("--")
        args, command = args[:at], args[at + 1:]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--state", type=int, choices=(1, 2), required=True, help="1: the Hub on 2025-03-01; 2: on "
                        "2025-04-30")
    parser.add_argument("--port", type=int, default=0, help="the port on 127.0.0.1 (default: a free one)")
    options = parser.parse_args(args)
    states = two_states(HubData.from_directory(hub_sample_dir()))
    server = HubServer(states[options.state - 1], page_size=1000, port=options.port)
    server.clock = iso_time(CUTOFF if options.state == 1 else STATE_2_TIME)
    with server:
        if not command:
            print(server.url, flush=True)
            try:
                threading.Event().wait()
            except KeyboardInterrupt:
                return 130
        # the command's network is this server: HF_HUB_OFFLINE, which would make a crawl refuse, is not passed on
        env = {key: value for key, value in os.environ.items()
               if key not in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_HUB_OFFLINE")}
        env.update(HF_ENDPOINT=server.url, HF_HUB_DISABLE_TELEMETRY="1", HF_HUB_DISABLE_IMPLICIT_TOKEN="1")
        return subprocess.run(command, env=env, check=False).returncode


if __name__ == "__main__":
    raise SystemExit(main())
