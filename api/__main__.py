"""``python -m api [--host H] [--port P]``: serve the HTTP API with uvicorn (settings from the environment)."""

from __future__ import annotations

import argparse


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(prog="python -m api", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    uvicorn.run("api:create_app", factory=True, host=args.host, port=args.port)


if __name__ == "__main__":
    main()
