#!/usr/bin/env python3
"""Raw FTP dialogue for the NAT suite: send commands, print every reply as JSON lines.

usage: dialog.py HOST PORT < script
Script lines: an FTP command to send, or one of
  !data          connect to the address/port of the last 227/229 reply (5 s timeout), read to EOF
  !listen PORT   (before PORT/EPRT) listen on PORT for an active data connection
  !accept        wait (5 s) for the active data connection, read to EOF
  !sleep SECONDS
"""
import json, re, socket, sys, time

host, port = sys.argv[1], int(sys.argv[2])
ctl = socket.create_connection((host, port), timeout=10)
buf = b""
def reply():
    global buf
    lines = []
    while True:
        while b"\n" not in buf:
            chunk = ctl.recv(65536)
            if not chunk:
                return {"code": 0, "lines": lines, "closed": True}
            buf += chunk
        line, buf = buf.split(b"\n", 1)
        text = line.rstrip(b"\r").decode("utf-8", "replace")
        lines.append(text)
        if len(lines) == 1 and not (len(text) >= 4 and text[3] == "-"):
            return {"code": int(text[:3]), "lines": lines}
        if len(lines) > 1 and re.match(r"^%s " % re.escape(lines[0][:3]), text):
            return {"code": int(text[:3]), "lines": lines}

def out(obj):
    print(json.dumps(obj), flush=True)

out({"banner": reply()})
last_data = None
listener = None
for raw in sys.stdin.read().splitlines():
    cmd = raw.strip()
    if not cmd:
        continue
    if cmd == "!data":
        t0 = time.time()
        try:
            s = socket.create_connection(last_data, timeout=5)
            data = b""
            while True:
                c = s.recv(65536)
                if not c: break
                data += c
            s.close()
            out({"data": "ok", "bytes": len(data), "to": list(last_data), "ms": int((time.time()-t0)*1000)})
        except Exception as e:
            out({"data": "error", "error": str(e), "to": list(last_data) if last_data else None, "ms": int((time.time()-t0)*1000)})
        continue
    if cmd.startswith("!listen"):
        listener = socket.socket(); listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("0.0.0.0", int(cmd.split()[1]))); listener.listen(1); listener.settimeout(5)
        continue
    if cmd == "!accept":
        try:
            s, peer = listener.accept(); data = b""
            while True:
                c = s.recv(65536)
                if not c: break
                data += c
            out({"accept": "ok", "bytes": len(data), "peer": peer[0]})
        except Exception as e:
            out({"accept": "error", "error": str(e)})
        continue
    if cmd.startswith("!sleep"):
        time.sleep(float(cmd.split()[1])); continue
    t0 = time.time()
    ctl.sendall(cmd.encode() + b"\r\n")
    r = reply()
    r["cmd"] = cmd.split()[0] if not cmd.upper().startswith("PASS") else "PASS"
    r["ms"] = int((time.time() - t0) * 1000)
    m = re.search(r"\((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)", r["lines"][0]) if r["code"] == 227 else None
    if m:
        n = [int(x) for x in m.groups()]
        last_data = ("%d.%d.%d.%d" % tuple(n[:4]), n[4] * 256 + n[5]); r["pasv"] = list(last_data)
    m = re.search(r"\(\|\|\|(\d+)\|\)", r["lines"][0]) if r["code"] == 229 else None
    if m:
        last_data = (host, int(m.group(1))); r["epsv"] = int(m.group(1))
    if cmd.upper().startswith(("RETR", "LIST", "NLST", "MLSD")) and r["code"] in (125, 150):
        out(r); r = reply(); r["cmd"] = "(transfer)"
    out(r)
    if r.get("closed"): break
ctl.close()
