"""Python ftplib against the server: driven by clients.test.ts, prints one JSON object.

argv: port user password workdir
"""
import ftplib
import io
import json
import os
import sys

port, user, password, workdir = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
out = {}
ftp = ftplib.FTP()
ftp.encoding = "utf-8"
out["welcome"] = ftp.connect("127.0.0.1", port, timeout=10)
out["login"] = ftp.login(user, password)
out["pwd"] = ftp.pwd()

data = os.urandom(700_000)
out["stor"] = ftp.storbinary("STOR py.bin", io.BytesIO(data))
got = io.BytesIO()
out["retr"] = ftp.retrbinary("RETR py.bin", got.write)
out["retr_ok"] = got.getvalue() == data
got = io.BytesIO()
ftp.retrbinary("RETR py.bin", got.write, rest=500_000)
out["rest_ok"] = got.getvalue() == data[500_000:]
out["size"] = ftp.size("py.bin")

# TYPE A: LF in the file, CRLF on the wire, LF again after a round trip.
out["storlines"] = ftp.storlines("STOR lines.txt", io.BytesIO(b"one\ntwo\nthree\n"))
lines = []
ftp.retrlines("RETR lines.txt", lines.append)
out["lines"] = lines
with open(os.path.join(workdir, "lines.txt"), "rb") as f:
    out["lines_on_disk"] = f.read().decode()

ftp.mkd("dir é")
ftp.cwd("dir é")
out["pwd2"] = ftp.pwd()
ftp.cwd("/")
out["nlst"] = sorted(ftp.nlst())
out["mlsd"] = sorted((name, facts.get("type")) for name, facts in ftp.mlsd() if name not in (".", ".."))
ftp.rename("py.bin", "dir é/moved.bin")
ftp.delete("dir é/moved.bin")
ftp.rmd("dir é")
out["passive_epsv"] = ftp.sendcmd("EPSV").split()[0]

# Active mode: the client listens, the server connects (PORT).
ftp.set_pasv(False)
got = io.BytesIO()
out["active_retr"] = ftp.retrbinary("RETR lines.txt", got.write)
out["active_ok"] = got.getvalue() == b"one\ntwo\nthree\n"
ftp.set_pasv(True)

# ABOR mid-RETR, sent by ftplib as urgent data (MSG_OOB); 426 for the transfer, then 226.
ftp.storbinary("STOR big.bin", io.BytesIO(bytes(30_000_000)))
conn = ftp.transfercmd("RETR big.bin")
conn.recv(1000)
out["abort"] = ftp.abort()
out["after_abort"] = ftp.getresp()
conn.close()
out["noop"] = ftp.voidcmd("NOOP")

try:
    ftp.sendcmd("SITE BOGUS")
except ftplib.error_perm as e:
    out["site_bogus"] = str(e)[:3]
out["quit"] = ftp.quit()
print(json.dumps(out))
