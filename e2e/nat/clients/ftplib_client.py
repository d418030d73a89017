#!/usr/bin/env python3
"""Python ftplib through the NAT: PASV address trusted (the check is that it is right)."""
import ftplib, hashlib, io, json, sys
host, port, user, pw, down, up_src, up_name, epsv = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6], sys.argv[7], sys.argv[8] == "epsv"
ftp = ftplib.FTP()
ftp.trust_server_pasv_ipv4_address = True   # do not paper over a wrong MasqueradeAddress
ftp.connect(host, port, timeout=20)
ftp.login(user, pw)
res = {}
if epsv:
    ftp.af = 10  # ftplib sends EPSV when the address family is not AF_INET
    res["epsv"] = ftp.sendcmd("EPSV")
else:
    res["pasv"] = list(ftp.makepasv())
h = hashlib.sha256()
ftp.retrbinary("RETR " + down, h.update, blocksize=1 << 20)
res["retr_sha256"] = h.hexdigest()
with open(up_src, "rb") as f:
    ftp.storbinary("STOR " + up_name, f, blocksize=1 << 20)
res["list"] = ftp.nlst()
ftp.quit()
print(json.dumps(res))
