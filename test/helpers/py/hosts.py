"""Minimal Python hosts for the hub's raw WebSocket and HTTP polling endpoints, as a user with only
``websockets`` or only the standard library would write them. Used by the integration tests:

    python3 hosts.py ws URL TOKEN NAME LABEL
    python3 hosts.py poll URL TOKEN NAME LABEL

Each runs jobs with ``exec`` (stdout captured, the last expression's value as the result) until killed.
"""

import ast
import asyncio
import contextlib
import io
import json
import sys
import traceback
import urllib.request


def run_code(code):
    """Runs code; returns (status, stdout, result, error)."""
    out = io.StringIO()
    scope = {}
    try:
        tree = ast.parse(code)
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        with contextlib.redirect_stdout(out):
            exec(compile(tree, "<job>", "exec"), scope)
            value = eval(compile(ast.Expression(last.value), "<job>", "eval"), scope) if last else None
        return "succeeded", out.getvalue(), value, None
    except Exception as exc:  # the job's own error is the report, not the host's
        return "failed", out.getvalue(), None, f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"


async def ws_host(url, token, name, label):
    import websockets

    uri = url.replace("http", "ws", 1) + "/ws/extension"
    async with websockets.connect(uri, extra_headers={"Authorization": f"Bearer {token}"}) as ws:
        next_id = iter(range(1, 1_000_000))

        async def send(event, data):
            await ws.send(json.dumps({"type": "event", "event": event, "id": next(next_id), "data": data}))

        await send("register", {"name": name, "labels": [label]})
        async for raw in ws:
            frame = json.loads(raw)
            if frame.get("type") == "ack":
                if not frame["data"].get("ok"):
                    print("refused:", frame["data"], file=sys.stderr, flush=True)
                elif "extensionId" in frame["data"].get("data", {}):
                    print("registered", frame["data"]["data"]["extensionId"], flush=True)
                continue
            if frame.get("event") != "job:run":
                continue
            job = frame["data"]
            await ws.send(json.dumps({"type": "ack", "id": frame["id"], "data": {"accepted": True}}))
            ref = {"taskId": job["taskId"], "attempt": job["attempt"]}
            await send("job:started", ref)
            status, stdout, result, error = run_code(job["code"])
            if stdout:
                await send("job:output", dict(ref, stream="stdout", text=stdout))
            report = dict(ref, status=status, result=result)
            if error:
                report["error"] = {"message": error.splitlines()[0], "traceback": error}
            await send("job:result", report)


def poll_host(url, token, name, label):
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def call(method, path, body=None):
        req = urllib.request.Request(url + path, method=method, headers=headers,
                                     data=json.dumps(body).encode() if body is not None else None)
        with urllib.request.urlopen(req, timeout=30) as res:
            # The first poll gets this host's secret; every later request presents it.
            issued = res.headers.get("X-Switchboard-Host-Secret")
            if issued:
                headers["X-Switchboard-Host-Secret"] = issued
            text = res.read().decode()
            return res.status, (json.loads(text) if text else None)

    print("registered", name, flush=True)
    while True:
        status, job = call("GET", f"/next_code?id={name}&name={name}&labels={label}&wait=5")
        if status == 204:
            continue
        call("POST", "/status_update", {"task_id": job["task_id"], "status": "running"})
        outcome, stdout, result, error = run_code(job["code"])
        body = {"task_id": job["task_id"], "status": outcome, "stdout": stdout, "result": result}
        if error:
            body.update(error=error.splitlines()[0], traceback=error)
        call("POST", "/status_update", body)


if __name__ == "__main__":
    kind, url, token, name, label = sys.argv[1:6]
    if kind == "ws":
        asyncio.run(ws_host(url, token, name, label))
    else:
        poll_host(url, token, name, label)
