"""The emulator process: moto's server app behind the fault middleware and the per-key lock on
S3 writes, served as `python -m moto.server` serves it (threaded, moto's request handler)."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Sequence
from types import FrameType

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple

from rocket_infra.conditional_writes import ConditionalWrites
from rocket_infra.fault_middleware import FaultMiddleware


def _exit(_signum: int, _frame: FrameType | None) -> None:
    sys.exit(0)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m rocket_infra.emulator_server")
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True)
    args = parser.parse_args(argv)
    # moto builds some URLs (SQS queue URLs among them) from this
    os.environ.setdefault("MOTO_PORT", str(args.port))
    signal.signal(signal.SIGINT, _exit)
    signal.signal(signal.SIGTERM, _exit)
    app = DomainDispatcherApplication(create_backend_app)
    app.debug = True  # type: ignore[attr-defined]  # as moto.server sets it
    run_simple(
        args.host,
        args.port,
        # faults first: a faulted write answers before it waits for its key's lock
        FaultMiddleware(ConditionalWrites(app)),
        threaded=True,
        request_handler=MotoRequestHandler,
    )


if __name__ == "__main__":  # pragma: no cover - the emulator's entry point
    main()
