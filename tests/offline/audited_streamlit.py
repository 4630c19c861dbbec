"""`streamlit run ...` with a socket audit hook: every connect() and name lookup the server makes is
appended to a log file (one JSON object per line), so a test can show that none leaves the machine.

Usage: python tests/offline/audited_streamlit.py LOG_FILE run server.py [streamlit options...]
"""
from __future__ import annotations

import json
import sys


def install_hook(log_path: str) -> None:
    """Append every socket connect() and name lookup of this process to `log_path`."""
    log = open(log_path, "a", buffering=1, encoding="utf-8")

    def hook(event: str, args: tuple) -> None:
        if event == "socket.connect":
            _, address = args
            log.write(json.dumps({"event": event, "address": _plain(address)}) + "\n")
        elif event in ("socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex"):
            log.write(json.dumps({"event": event, "address": _plain(args[0])}) + "\n")

    sys.addaudithook(hook)


def main() -> None:
    log_path, streamlit_args = sys.argv[1], sys.argv[2:]
    install_hook(log_path)
    from streamlit.web import cli

    sys.argv = ["streamlit", *streamlit_args]
    cli.main()


def _plain(value: object) -> object:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    return value if isinstance(value, (str, int, float)) or value is None else repr(value)


if __name__ == "__main__":
    main()
