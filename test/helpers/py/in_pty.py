"""Runs a command on a real pseudo-terminal, as a user's shell would, and copies what it draws to stdout.

With PTY_CTRL_C_AFTER=TEXT, types Ctrl-C (the terminal turns it into SIGINT) once TEXT has been drawn.
Exits with the command's exit code. Used by the CLI tests for what only happens on a TTY.
"""

import os
import pty
import select
import sys

argv = sys.argv[1:]
pid, fd = pty.fork()
if pid == 0:
    os.execvpe(argv[0], argv, os.environ)

trigger = os.environ.get("PTY_CTRL_C_AFTER", "").encode()
seen = b""
sent = False
status = 0
while True:
    ready, _, _ = select.select([fd], [], [], 0.2)
    if not ready:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        continue
    try:
        chunk = os.read(fd, 65536)
    except OSError:
        chunk = b""
    if not chunk:
        break
    sys.stdout.buffer.write(chunk)
    sys.stdout.buffer.flush()
    seen += chunk
    if trigger and not sent and trigger in seen:
        os.write(fd, b"\x03")
        sent = True
try:
    _, status = os.waitpid(pid, 0)
except ChildProcessError:
    pass
sys.exit(os.waitstatus_to_exitcode(status))
