"""A Streamlit client that speaks the browser's own protocol, without a browser.

The browser's Streamlit frontend talks to the server over one websocket, `/_stcore/stream`: it
sends `BackMsg` protobufs (a `rerun_script` with the page and the URL's query string) and receives
`ForwardMsg` protobufs (the new session, every element of the page as a delta, `script_finished`).
This client does the same with the protobuf classes that ship with Streamlit, so a load test can
hold many sessions against one server while spending almost no CPU on the client side — on a
2-core machine twenty Chromiums starve the server they are measuring.

What the client checks in each run: the script finished successfully, the page exists, the main
area received elements, and no element is an exception box or an error alert (the app's guard shows
an error alert when a section fails). It does not draw: chart and map rendering in a browser is
measured by benchmarks.bench_browser.
"""
from __future__ import annotations

import asyncio
import time
import urllib.request
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from urllib.parse import urlsplit

from streamlit.proto.Alert_pb2 import Alert
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

XSRF_COOKIE = "_streamlit_xsrf"
STREAM_PATH = "/_stcore/stream"


@dataclass
class PageRun:
    """What one script run delivered."""

    seconds: float
    elements: int = 0  # new elements (deltas) received, references to cached ones included
    errors: list[str] = field(default_factory=list)
    kinds: dict[str, int] = field(default_factory=dict)  # element type -> count


class ProtocolSession:
    """One browser tab's worth of Streamlit session, over the websocket protocol."""

    def __init__(self, base_url: str, timeout_s: float = 60.0, cookies: dict[str, str] | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        # the browser's cookies: those given (a sign-in's session cookie), then whatever the page sets
        # (the XSRF token; behind deploy/'s nginx, its stickiness cookie, which keeps the stream on one process)
        self.cookies: dict[str, str] = dict(cookies or {})
        self._ws = None
        self._page_hash = ""

    async def connect(self, path: str = "/") -> None:
        """Fetch the page (its cookies come with it, as for a browser), then open the stream with them."""
        from websockets.asyncio.client import connect

        await asyncio.to_thread(self._page_cookies, path)
        token = self.cookies.get(XSRF_COOKIE)
        parts = urlsplit(self.base_url)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}
        scheme = "wss" if parts.scheme == "https" else "ws"
        # Streamlit reads the XSRF token from the second subprotocol entry, as its frontend sends it.
        self._ws = await connect(f"{scheme}://{parts.netloc}{STREAM_PATH}", subprotocols=["streamlit", token or "none"],
                                 origin=f"{parts.scheme}://{parts.netloc}", additional_headers=headers,
                                 max_size=None, open_timeout=self.timeout_s, ping_interval=None)

    def _page_cookies(self, path: str) -> None:
        request = urllib.request.Request(self.base_url + path)
        if self.cookies:
            request.add_header("Cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
            response.read()
            for header in response.headers.get_all("Set-Cookie") or []:
                cookie = SimpleCookie()
                cookie.load(header)
                for name, morsel in cookie.items():
                    self.cookies.setdefault(name, morsel.value)

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
            self._ws = None

    async def open_page(self, url_path: str, query_string: str) -> PageRun:
        """Ask for a script run of the page at `url_path` ("" for the default page) with the query
        string, as the frontend does on navigation; wait for the run to finish."""
        msg = BackMsg()
        msg.rerun_script.query_string = query_string
        msg.rerun_script.page_name = url_path
        msg.rerun_script.page_script_hash = ""
        start = time.perf_counter()
        await self._ws.send(msg.SerializeToString())
        run = PageRun(0.0)
        deadline = start + self.timeout_s
        try:
            while True:
                left = deadline - time.perf_counter()
                if left <= 0:
                    raise TimeoutError
                data = await asyncio.wait_for(self._ws.recv(), left)
                if self._read(ForwardMsg.FromString(data), run):
                    break
        except TimeoutError:
            run.errors.append(f"no script_finished within {self.timeout_s:.0f} s")
        except Exception as exc:
            run.errors.append(f"connection: {type(exc).__name__}: {exc}")
        run.seconds = time.perf_counter() - start
        if not run.errors and run.elements == 0:
            run.errors.append("the page delivered no element")
        return run

    def _read(self, fwd: ForwardMsg, run: PageRun) -> bool:
        """Record one message; True when the run is over."""
        kind = fwd.WhichOneof("type")
        if kind == "delta":
            delta = fwd.delta
            if delta.WhichOneof("type") == "new_element":
                element = delta.new_element
                etype = element.WhichOneof("type") or "?"
                run.elements += 1
                run.kinds[etype] = run.kinds.get(etype, 0) + 1
                if etype == "exception":
                    run.errors.append(f"exception box: {element.exception.type}: {element.exception.message[:300]}")
                elif etype == "alert" and element.alert.format == Alert.ERROR:
                    run.errors.append(f"error box: {' '.join(element.alert.body.split())[:300]}")
        elif kind == "ref_hash":
            run.elements += 1  # an element the server knows this client already holds
        elif kind == "new_session":
            self._page_hash = fwd.new_session.page_script_hash
        elif kind == "page_not_found":
            run.errors.append(f"page not found: {fwd.page_not_found.page_name!r}")
        elif kind == "session_event" and fwd.session_event.WhichOneof("type") == "script_compilation_exception":
            run.errors.append(f"script compilation exception: {fwd.session_event.script_compilation_exception.message}")
        elif kind == "script_finished":
            status = fwd.script_finished
            if status == ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
                run.errors.append("script finished with a compile error")
                return True
            # FINISHED_EARLY_FOR_RERUN: the app asked for another run (st.rerun / switch_page): keep reading
            return status in (ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY)
        return False
