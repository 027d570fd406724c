# SPDX-License-Identifier: GPL-3.0-or-later
"""``armemu serve``: run the emulator in the foreground until SIGTERM/SIGINT.

Writes ``--info-file`` (JSON: base_url, ca_file, identity_endpoint, identity_header, pid) atomically
once the listener accepts connections, so a parent process can wait for the file and then connect.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import threading
from typing import Any

from .emulator import Emulator


def _write_atomically(path: str, data: dict[str, Any]) -> None:
    tmp = f"{path}.tmp{os.getpid()}"
    with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2)
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="armemu", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the emulator in the foreground")
    serve.add_argument("--seed", help="JSON seed file")
    serve.add_argument("--info-file", help="where to write connection info (JSON) once listening")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=0)
    serve.add_argument("--op-duration", type=float, default=0.3)
    serve.add_argument("--dequeued-polls", type=int, default=1)
    serve.add_argument("--retry-after", default=None, help="Retry-After value for 202s/polls (default: none)")
    serve.add_argument("--state-dir", help="directory for the CA/server PEM files (default: a temp dir)")
    args = parser.parse_args(argv)

    seed = None
    if args.seed:
        with open(args.seed, encoding="utf-8") as handle:
            seed = json.load(handle)
    retry_after: int | str | None = args.retry_after
    if isinstance(retry_after, str) and retry_after.isdigit():
        retry_after = int(retry_after)
    if args.state_dir:
        os.makedirs(args.state_dir, exist_ok=True)
    emulator = Emulator(seed=seed, host=args.host, port=args.port, op_duration=args.op_duration,
                        dequeued_polls=args.dequeued_polls, retry_after=retry_after, state_dir=args.state_dir)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    emulator.start()
    try:
        info = {**emulator.info(), "pid": os.getpid()}
        if args.info_file:
            _write_atomically(args.info_file, info)
        print(json.dumps(info), flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        emulator.stop()
        if args.info_file:
            try:
                os.unlink(args.info_file)
            except FileNotFoundError:
                pass
    return 0
