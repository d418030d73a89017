"""Python ftplib FTP_TLS (explicit FTPS, PROT P): driven by ftps-clients.test.ts.

argv: port user password; prints one JSON object with two runs. In `reuse`, data
connections resume the control connection's TLS session (ftplib does not by itself); in
`fresh` they do not, and the first transfer's error reply is reported as `error`.
"""
import ftplib
import io
import json
import ssl
import sys

port, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3]


class ReusingFTP_TLS(ftplib.FTP_TLS):
    def ntransfercmd(self, cmd, rest=None):
        conn, size = ftplib.FTP.ntransfercmd(self, cmd, rest)
        if self._prot_p:
            conn = self.context.wrap_socket(conn, server_hostname=self.host, session=self.sock.session)
        return conn, size


def session(cls):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ftp = cls(context=ctx)
    out = {}
    ftp.connect("127.0.0.1", port, timeout=10)
    out["auth"] = ftp.auth()
    out["login"] = ftp.login(user, password)
    out["prot"] = ftp.prot_p()
    try:
        got = io.BytesIO()
        out["retr"] = ftp.retrbinary("RETR p.bin", got.write)
        out["bytes"] = len(got.getvalue())
        out["stor"] = ftp.storbinary("STOR py.bin", io.BytesIO(got.getvalue()))
        out["nlst"] = ftp.nlst()
    except ftplib.Error as reply:
        out["error"] = str(reply)
    except (ssl.SSLError, OSError):
        try:
            ftp.getresp()  # the reply that explains the cut connection
        except ftplib.Error as reply:
            out["error"] = str(reply)
    ftp.close()
    return out


print(json.dumps({"reuse": session(ReusingFTP_TLS), "fresh": session(ftplib.FTP_TLS)}))
