#!/usr/bin/env python3
"""Runs every command block of README.md as written (issue 17 §4).

    tests/readme.py --sightline target/release/sightline

Each ```sh block is run line by line (a line ending in `\\` continues) in a
fresh sandbox directory that holds links to the repository's `examples/`,
`packs/` and `sightline.example.toml`, and `../shared/data/real` pointing at
SIGHTLINE_TEST_DATA, so relative paths resolve as they do from a checkout and
the default `./sightline-data` store is the sandbox's own. `sightline` is the
binary under test (the README's `alias` line is taken as given). Blocks whose
info string says `no-test` are not run (the set-up commands themselves).

What a line must do:
- exit 0; a line that ends with the comment `# exit N` must exit N;
- `sightline serve ...` starts in the background on a free loopback port (the
  README's 127.0.0.1:8000 is rewritten to it everywhere), must answer /healthz
  within 60 s, and is stopped (SIGTERM) at the end of its block;
- a line with `--follow` runs for 5 s and is then stopped (exit 124 is fine);
- `postgres://sightline:PW@db:5432/sightline` stands for a fresh database on
  the cluster of SIGHTLINE_TEST_PG (which the test command provides).
"""

import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_PLACEHOLDER = "postgres://sightline:PW@db:5432/sightline"


def blocks(readme: str):
    """(line number, info words, [command lines]) for each fenced block."""
    out, cur, info, start = [], None, [], 0
    for n, line in enumerate(readme.splitlines(), start=1):
        if line.startswith("```"):
            if cur is None:
                info = line[3:].split()
                cur, start = [], n
            else:
                if info[:1] == ["sh"]:
                    out.append((start, info, cur))
                cur = None
            continue
        if cur is not None:
            cur.append((n, line))
    return out


def commands(lines):
    """Joins continuations, drops blank lines, comments and the alias line."""
    cmd, first = "", 0
    for n, line in lines:
        if not cmd:
            first = n
        if line.rstrip().endswith("\\"):
            cmd += line.rstrip()[:-1] + " "
            continue
        cmd += line
        text = cmd.strip()
        cmd = ""
        if not text or text.startswith("#") or text.startswith("alias "):
            continue
        yield first, text


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fresh_pg_url():
    base = os.environ.get("SIGHTLINE_TEST_PG")
    if not base:
        return None
    name = f"readme_{os.getpid()}_{int(time.time())}"
    subprocess.run(["psql", base, "-q", "-c", f"CREATE DATABASE {name}"], check=True, capture_output=True)
    return re.sub(r"/[^/?]*(\?|$)", f"/{name}\\1", base, count=1)


def wait_healthy(port, proc, secs=60):
    deadline = time.time() + secs
    while time.time() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                if r.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.3)
    return False


def stop(servers, failures, line):
    """SIGTERM, then a graceful exit within 30 s."""
    for p in servers:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            failures.append(f"README.md:{line}: a server ignored SIGTERM for 30 s")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sightline", required=True)
    args = ap.parse_args()
    binary = str(Path(args.sightline).resolve())
    data = Path(os.environ.get("SIGHTLINE_TEST_DATA", ROOT.parent / "shared/data/real")).resolve()
    failures, ran = [], 0
    pg_url = None
    with tempfile.TemporaryDirectory(prefix="sightline-readme-") as tmp:
        sandbox = Path(tmp) / "repo"
        sandbox.mkdir()
        for name in ["examples", "packs", "sightline.example.toml"]:
            (sandbox / name).symlink_to(ROOT / name)
        (Path(tmp) / "shared/data").mkdir(parents=True)
        (Path(tmp) / "shared/data/real").symlink_to(data)
        bindir = Path(tmp) / "bin"
        bindir.mkdir()
        (bindir / "sightline").symlink_to(binary)
        env = dict(os.environ, PATH=f"{bindir}:{os.environ['PATH']}")
        env.pop("SIGHTLINE_DATA", None)
        env.pop("SIGHTLINE_STORE", None)
        port = free_port()
        for start, info, lines in blocks((ROOT / "README.md").read_text(encoding="utf-8")):
            if "no-test" in info:
                continue
            servers = []
            for n, cmd in commands(lines):
                want = 0
                m = re.search(r"#\s*exit\s+(\d+)\s*$", cmd)
                if m:
                    want = int(m.group(1))
                cmd = cmd.replace("127.0.0.1:8000", f"127.0.0.1:{port}")
                if PG_PLACEHOLDER in cmd:
                    pg_url = pg_url or fresh_pg_url()
                    if pg_url is None:
                        failures.append(f"README.md:{n}: {cmd}\n  needs SIGHTLINE_TEST_PG (./scripts/test sets it)")
                        continue
                    cmd = cmd.replace(PG_PLACEHOLDER, pg_url)
                ran += 1
                print(f"README.md:{n}: $ {cmd}", flush=True)
                if re.search(r"\bsightline\b.*\bserve\b", cmd) and "--help" not in cmd:
                    # One server at a time on the port: a later `serve` replaces it.
                    stop(servers, failures, n)
                    servers = []
                    code = cmd.partition(" #")[0]
                    if "--listen" not in code:
                        code += f" --listen 127.0.0.1:{port}"
                    p = subprocess.Popen(["bash", "-c", "exec " + code], cwd=sandbox, env=env,
                                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                    if not wait_healthy(port, p):
                        p.kill()
                        out = p.stdout.read() if p.stdout else ""
                        failures.append(f"README.md:{n}: {cmd}\n  did not answer /healthz:\n{out[-2000:]}")
                    else:
                        servers.append(p)
                    continue
                limit = 5 if "--follow" in cmd else 900
                try:
                    r = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], cwd=sandbox, env=env,
                                       capture_output=True, text=True, timeout=limit)
                    code, out = r.returncode, (r.stdout[-1500:] + r.stderr[-1500:])
                except subprocess.TimeoutExpired as e:
                    code = 124
                    out = (e.stdout or b"")[-1500:].decode("utf-8", "replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
                ok = code == want or ("--follow" in cmd and code == 124)
                if "panicked" in out:
                    ok = False
                if not ok:
                    failures.append(f"README.md:{n}: {cmd}\n  exit {code}, wanted {want}:\n{out}")
            stop(servers, failures, start)
    for f in failures:
        print(f"FAIL {f}", file=sys.stderr)
    print(f"readme: {ran} commands, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
