#!/usr/bin/env python3
"""Python ftplib.FTP_TLS through the NAT (explicit FTPS, PROT P, PASV address trusted).

usage: ftplib_tls_client.py HOST PORT USER PASS DOWNLOAD UPLOAD_SRC UPLOAD_NAME REUSE
REUSE=reuse: data connections resume the control connection's TLS session (what servers
that require session reuse expect; plain FTP_TLS does not do it).
"""
import ftplib, hashlib, json, ssl, sys

host, port, user, pw, down, up_src, up_name, reuse = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6], sys.argv[7], sys.argv[8] == "reuse"


class ReusingFTP_TLS(ftplib.FTP_TLS):
    def ntransfercmd(self, cmd, rest=None):
        conn, size = ftplib.FTP.ntransfercmd(self, cmd, rest)
        if self._prot_p:
            conn = self.context.wrap_socket(conn, server_hostname=self.host, session=self.sock.session)
        return conn, size


ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
ftp = (ReusingFTP_TLS if reuse else ftplib.FTP_TLS)(context=ctx)
ftp.trust_server_pasv_ipv4_address = True  # do not paper over a wrong TLSMasqueradeAddress
ftp.connect(host, port, timeout=20)
ftp.login(user, pw)
ftp.prot_p()
res = {"pasv": list(ftp.makepasv()), "tls": ftp.sock.version()}
try:
    h = hashlib.sha256()
    ftp.retrbinary("RETR " + down, h.update, blocksize=1 << 20)
    res["retr_sha256"] = h.hexdigest()
    with open(up_src, "rb") as f:
        ftp.storbinary("STOR " + up_name, f, blocksize=1 << 20)
    res["list"] = ftp.nlst()
except ftplib.error_temp as e:
    res["error"] = str(e)
ftp.quit()
print(json.dumps(res))
