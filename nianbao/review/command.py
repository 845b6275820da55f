"""The ``nianbao review`` command: serve the review app for one results store."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .security import is_loopback, new_token

DEFAULT_PORT = 8765


def add_review_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    r = sub.add_parser("review", help="review flagged fields in a local web app, with the source beside each")
    r.add_argument("store", type=Path, help="the results store (OUT/nianbao.db)")
    r.add_argument("--reviewer", required=True, help="your name, kept with every correction")
    r.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1; any other needs a token)")
    r.add_argument("--port", type=int, default=DEFAULT_PORT)
    r.add_argument("--token", default=None, help="access token (default: none on loopback, a random one elsewhere)")
    r.add_argument("--base", type=Path, default=None, help="folder the stored source paths are relative to (default: the current one)")
    r.set_defaults(func=_review)


def _review(args: argparse.Namespace) -> int:
    import uvicorn

    from .app import Settings, create_app

    if not args.store.is_file():
        print(f"nianbao review: no results store at {args.store}", file=sys.stderr)
        return 2
    token = args.token
    if token is None and not is_loopback(args.host):
        token = new_token()
    app = create_app(Settings(store=args.store, reviewer=args.reviewer, base=args.base, token=token))
    where = f"http://{args.host}:{args.port}/" + (f"?token={token}" if token else "")
    print(f"reviewing {args.store} as {args.reviewer}: open {where}", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0
