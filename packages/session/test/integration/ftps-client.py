"""Python ftplib's FTP_TLS against the server (explicit FTPS, PROT P): driven by ftps.test.ts.

argv: port user password; prints one JSON object. ftplib does not resume the control
connection's TLS session on data connections, so the server must not require it.
"""
import io
import json
import ssl
import sys
import ftplib

port, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
out = {}
ftp = ftplib.FTP_TLS(context=ctx)
out["welcome"] = ftp.connect("127.0.0.1", port, timeout=10)
out["auth"] = ftp.auth()
out["login"] = ftp.login(user, password)
out["prot"] = ftp.prot_p()
data = bytes(range(256)) * 2000
out["stor"] = ftp.storbinary("STOR tls.bin", io.BytesIO(data))
got = io.BytesIO()
out["retr"] = ftp.retrbinary("RETR tls.bin", got.write)
out["same"] = got.getvalue() == data
out["nlst"] = ftp.nlst()
out["quit"] = ftp.quit()
print(json.dumps(out))
