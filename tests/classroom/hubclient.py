"""A student at the room's JupyterHub, as a browser would be: the login form, their server, a kernel.

`Visitor` keeps one person's cookies. Every wait has a deadline and says what it waited for.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from dataclasses import dataclass, field

import requests
from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect

STEP_TIMEOUT = 60  # seconds for one server to start, one cell to run


class Visitor:
    def __init__(self, base: str, user: str):
        self.base, self.user = base.rstrip("/"), user
        self.http = requests.Session()

    # -- the hub ------------------------------------------------------------------------------

    def log_in(self, password: str) -> requests.Response:
        """The login form, filled in and sent with its xsrf field; the hub's answer (not followed)."""
        form = self.http.get(f"{self.base}/hub/login", timeout=10)
        form.raise_for_status()
        xsrf = re.search(r'name="_xsrf"\s+value="([^"]+)"', form.text)
        assert xsrf, f"the hub's login page has no _xsrf field:\n{form.text[:2000]}"
        return self.http.post(f"{self.base}/hub/login", data={"username": self.user, "password": password,
                                                              "_xsrf": xsrf.group(1)},
                              allow_redirects=False, timeout=30)

    def _xsrf(self, path: str) -> str:
        for cookie in self.http.cookies:
            if cookie.name == "_xsrf" and cookie.path.rstrip("/") == path.rstrip("/"):
                return cookie.value
        raise AssertionError(f"no _xsrf cookie for {path}: {[(c.name, c.path) for c in self.http.cookies]}")

    def start_server(self) -> None:
        """Ask the hub for this person's server, and wait until it is ready."""
        answer = self.http.post(f"{self.base}/hub/api/users/{self.user}/server",
                                headers={"X-XSRFToken": self._xsrf("/hub/")}, timeout=30)
        assert answer.status_code in (201, 202), f"starting {self.user}'s server: {answer.status_code} {answer.text}"

    def wait_until_ready(self) -> None:
        deadline = time.monotonic() + STEP_TIMEOUT
        while True:
            model = self.http.get(f"{self.base}/hub/api/users/{self.user}", timeout=10).json()
            server = model.get("servers", {}).get("", {})
            if server.get("ready"):
                break
            assert time.monotonic() < deadline, f"{self.user}'s server was not ready within {STEP_TIMEOUT} s: {model}"
            time.sleep(0.3)
        page = self.http.get(f"{self.server}/lab", timeout=30)  # the OAuth dance with the hub, as a browser
        assert page.status_code == 200, f"{self.user}'s JupyterLab answered {page.status_code}: {page.text[:500]}"

    # -- their server -------------------------------------------------------------------------

    @property
    def server(self) -> str:
        return f"{self.base}/user/{self.user}"

    def api(self, method: str, path: str, **kwargs) -> requests.Response:
        headers = {"X-XSRFToken": self._xsrf(f"/user/{self.user}/")}
        return self.http.request(method, f"{self.server}/{path}", headers=headers, timeout=60, **kwargs)

    def notebook(self, path: str) -> dict:
        answer = self.api("GET", f"api/contents/{path}")
        assert answer.status_code == 200, f"{self.user} cannot open {path}: {answer.status_code} {answer.text[:300]}"
        return answer.json()["content"]

    def save(self, path: str, notebook: dict) -> None:
        answer = self.api("PUT", f"api/contents/{path}", json={"type": "notebook", "content": notebook})
        assert answer.status_code in (200, 201), f"saving {path}: {answer.status_code} {answer.text[:300]}"

    def kernel(self) -> Kernel:
        answer = self.api("POST", "api/kernels", json={"name": "python3"})
        assert answer.status_code == 201, f"{self.user}'s kernel: {answer.status_code} {answer.text[:300]}"
        cookies = "; ".join(f"{cookie.name}={cookie.value}" for cookie in self.http.cookies)
        url = f"{self.server}/api/kernels/{answer.json()['id']}/channels".replace("http", "ws", 1)
        return Kernel(url, cookies)


@dataclass
class Ran:
    """What one cell printed (streams and results as text) and the error it raised, if any."""
    text: str = ""
    error: str | None = None


@dataclass
class Kernel:
    url: str
    cookies: str
    session: str = field(default_factory=lambda: uuid.uuid4().hex)

    async def run(self, cells: list[str], *, timeout: float = STEP_TIMEOUT) -> list[Ran]:
        """Run `cells` one after another over one websocket; stops at the first error."""
        socket = await asyncio.wait_for(websocket_connect(HTTPRequest(self.url, headers={"Cookie": self.cookies})),
                                        timeout)
        try:
            done = []
            for code in cells:
                done.append(await asyncio.wait_for(self._one(socket, code), timeout))
                if done[-1].error:
                    break
            return done
        finally:
            socket.close()

    async def _one(self, socket, code: str) -> Ran:
        msg_id = uuid.uuid4().hex
        await socket.write_message(json.dumps({
            "header": {"msg_id": msg_id, "msg_type": "execute_request", "session": self.session,
                       "username": "test", "version": "5.3"},
            "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
            "content": {"code": code, "silent": False, "store_history": False, "user_expressions": {},
                        "allow_stdin": False, "stop_on_error": True}}))
        ran, idle, replied = Ran(), False, False
        while not (idle and replied):
            raw = await socket.read_message()
            assert raw is not None, "the kernel's websocket closed while a cell ran"
            message = json.loads(raw)
            if message.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, content = message["msg_type"], message["content"]
            if kind == "stream":
                ran.text += content["text"]
            elif kind in ("execute_result", "display_data"):
                ran.text += content["data"].get("text/plain", "") + "\n"
            elif kind == "error":
                ran.error = f"{content['ename']}: {content['evalue']}"
            elif kind == "status" and content["execution_state"] == "idle":
                idle = True
            elif kind == "execute_reply":
                replied = True
                if content["status"] == "error" and not ran.error:
                    ran.error = f"{content.get('ename')}: {content.get('evalue')}"
        return ran
