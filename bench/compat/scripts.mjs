// The command sequences bench/compat/diff.mjs sends to both servers. Each script is one
// control connection; strings are control commands, objects run a data command through a
// fresh PASV/EPSV connection or an active PORT/EPRT one ({cmd, data?, upload?}), or send
// raw bytes ({raw}).
const login = ['USER alice', 'PASS secret'];
const LONG = `${'d'.repeat(250)}/${'e'.repeat(250)}`;

export const SCRIPTS = {
  'before-login': [
    'NOOP', 'SYST', 'FEAT', 'HELP', 'HELP RETR', 'HELP XYZ', 'STAT', 'PWD', 'CWD /', 'CDUP', 'LIST', 'NLST', 'RETR hello.txt',
    'STOR x', 'SIZE hello.txt', 'MDTM hello.txt', 'MKD x', 'TYPE I', 'TYPE X', 'MODE S', 'STRU F', 'ALLO 10', 'REST 0',
    'PASV', 'EPSV', 'PORT 127,0,0,1,200,1', 'ACCT x', 'XYZZY', 'XYZZY arg', 'SITE HELP', 'SITE CHMOD 644 hello.txt',
    'OPTS UTF8 ON', 'OPTS MLST type;size;', 'MLST', 'RNFR hello.txt', 'DELE hello.txt', 'REIN', 'ABOR', 'PASS secret',
    'USER', 'PASS', 'USER alice', 'USER alice', 'PASS wrong', 'PASS secret', 'USER alice', 'PASS wrong',
  ],
  'login-basic': [
    ...login, 'USER alice', 'PASS secret', 'PWD', 'XPWD', 'SYST', 'NOOP', 'NOOP x', 'FEAT', 'HELP', 'HELP SITE', 'HELP retr', 'HELP NOPE',
    'STAT', 'ACCT x', 'ACCT', 'XYZZY', 'TYPE', 'TYPE A', 'TYPE I', 'TYPE L 8', 'TYPE A N', 'TYPE A T', 'TYPE E', 'TYPE Q', 'TYPE I X',
    'MODE', 'MODE S', 'MODE B', 'MODE Z', 'STRU', 'STRU F', 'STRU R', 'STRU P', 'ALLO', 'ALLO 100', 'ALLO abc', 'ALLO 100 R 10',
    'OPTS', 'OPTS UTF8', 'OPTS UTF8 ON', 'OPTS UTF8 OFF', 'OPTS UTF8 NO', 'OPTS MLST', 'OPTS MLST type;size;', 'OPTS MLST bogus;',
    'OPTS MLST Type;Size;Modify;Perm;Unique;UNIX.mode;', 'OPTS FOO', 'SITE', 'SITE HELP', 'SITE FOO', 'SITE CHMOD', 'SITE CHMOD 644',
    'SITE CHMOD 600 hello.txt', 'SITE CHMOD 999 hello.txt', 'SITE CHMOD abc hello.txt', 'SITE CHMOD 644 nosuch', 'SITE CHMOD 644 secret.txt',
    'SITE CHGRP', 'SITE UTIME', 'ABOR', 'CLNT foo', 'LANG', 'LANG en', 'HOST 127.0.0.1', 'AUTH TLS', 'PBSZ 0', 'PROT P', 'CCC',
    'EPSV ALL', 'MFF', 'MFMT', 'SMNT x', 'XCUP', 'REST', 'REST abc', 'REST -1', 'REST 5', 'NOOP',
    'TYPE L 7', 'TYPE AB', 'type i', 'TYPE A N X', 'TYPE L', 'TYPE L 16', 'MODE s', 'STRU f', 'MODE S X', 'ALLO 5 R', 'ALLO -1', 'OPTS utf8 on', 'OPTS UTF8 ON X',
    'HELP NOOP', 'HELP noop', 'HELP SITE CHMOD', 'SITE help', 'SITE HELP CHMOD', 'SITE CHMOD 644 hello.txt x', 'SITE chmod 644 crlf.txt', 'STAT /', 'STAT .', 'REIN', 'NOOP',
  ],
  // What a pending RNFR survives: other commands, a transfer, a failed RNFR, a used RNTO.
  // What a pending RNFR allows before RNTO (ProFTPD refuses most commands with 501).
  'rnfr-state': [
    ...login, 'RNFR hello.txt', 'TYPE I', 'NOOP', 'SYST', 'FEAT', 'HELP', 'STAT', 'ALLO 1', 'MODE S', 'ABOR', 'REST 0', 'RNTO a.txt', 'RNTO b.txt',
    'RNFR a.txt', 'RNFR nosuch', 'RNTO c.txt', 'RNFR a.txt', 'RNFR crlf.txt', 'RNTO x.txt', 'RNFR a.txt', 'DELE crlf.txt', 'MKD q', 'CWD sub dir',
    'RNTO hello.txt', 'PWD', 'RNFR hello.txt', 'PASV', 'EPSV', 'OPTS UTF8 ON', 'CLNT x', 'SIZE hello.txt', 'RNTO hello.txt',
  ],
  'nav': [
    ...login, 'CWD', 'CWD sub dir', 'PWD', 'CDUP', 'PWD', 'CWD /sub dir', 'CWD ..', 'CWD ../..', 'PWD', 'CWD nosuch', 'CWD hello.txt',
    'CWD locked', 'CWD /locked/x', 'XCWD sub dir', 'XCUP', 'CDUP', 'CDUP x', 'PWD', `CWD ${LONG}`, `CWD ${'x'.repeat(300)}`, 'CWD ~', 'CWD ~alice',
    'CWD ~nobody', 'PWD', 'CWD héllo', 'CWD empty', 'CWD /', 'MKD', 'MKD new', 'MKD new', 'MKD nosuch/new', 'MKD locked/new', 'MKD hello.txt',
    'XMKD new2', 'MKD with space', 'MKD ünï', 'RMD', 'RMD new', 'RMD new', 'RMD sub dir', 'RMD hello.txt', 'XRMD new2', 'RMD locked', 'RMD /',
    'RMD with space', 'RMD ünï', `MKD ${'m'.repeat(300)}`, 'MKD "quoted"', 'PWD', 'MKD a"b', 'CWD a"b', 'PWD', 'CDUP', 'RMD a"b',
  ],
  'files': [
    ...login, 'SIZE', 'SIZE hello.txt', 'SIZE nosuch', 'SIZE sub dir', 'SIZE secret.txt', 'SIZE héllo wörld ✓.txt', 'TYPE A', 'SIZE crlf.txt',
    'TYPE I', 'SIZE crlf.txt', 'MDTM', 'MDTM hello.txt', 'MDTM nosuch', 'MDTM sub dir', 'MDTM secret.txt',
    'MFMT', 'MFMT 20200101000000', 'MFMT 20200101000000 hello.txt', 'MDTM hello.txt', 'MFMT 2020 hello.txt', 'MFMT 20200101000000 nosuch',
    'MFMT 20200101000000 secret.txt', 'MFMT 20200101000000.5 hello.txt', 'MFMT 99999999999999 hello.txt',
    'MLST', 'MLST hello.txt', 'MLST nosuch', 'MLST sub dir', 'MLST /', 'MLST secret.txt', 'MLST locked', 'MLST a b c',
    'OPTS MLST type;size;', 'MLST hello.txt', 'OPTS MLST', 'MLST hello.txt',
    'RNFR', 'RNTO x', 'RNFR nosuch', 'RNFR hello.txt', 'NOOP', 'RNTO x', 'RNFR hello.txt', 'RNTO', 'RNFR hello.txt', 'RNTO moved.txt',
    'RNFR moved.txt', 'RNTO nosuch/dir/x', 'RNFR moved.txt', 'RNTO locked/x', 'RNFR moved.txt', 'RNTO sub dir', 'RNFR moved.txt', 'RNTO readonly.txt',
    'RNFR locked', 'RNTO locked2', 'RNFR secret.txt', 'RNTO secret2.txt', 'RNFR secret2.txt', 'RNTO secret.txt',
    'RNFR héllo wörld ✓.txt', 'RNTO ü.txt', 'DELE', 'DELE nosuch', 'DELE ü.txt', 'DELE sub dir', 'DELE locked/x', 'DELE readonly.txt',
    'DELE secret.txt', 'REST 3', 'REST 0', 'DELE /', 'SITE CHMOD 755 sub dir',
  ],
  'data': [
    ...login, { cmd: 'LIST' }, { cmd: 'LIST -la' }, { cmd: 'LIST sub dir' }, { cmd: 'LIST nosuch' }, { cmd: 'LIST hello.txt' },
    { cmd: 'LIST locked' }, { cmd: 'NLST' }, { cmd: 'NLST sub dir' }, { cmd: 'NLST nosuch' }, { cmd: 'NLST -a' }, { cmd: 'NLST empty' },
    { cmd: 'NLST hello.txt' }, { cmd: 'MLSD' }, { cmd: 'MLSD sub dir' }, { cmd: 'MLSD hello.txt' }, { cmd: 'MLSD nosuch' }, { cmd: 'MLSD locked' },
    { cmd: 'RETR hello.txt' }, { cmd: 'RETR nosuch' }, { cmd: 'RETR sub dir' }, { cmd: 'RETR secret.txt' }, { cmd: 'RETR' },
    { cmd: 'RETR héllo wörld ✓.txt' }, 'TYPE A', { cmd: 'RETR crlf.txt' }, 'TYPE I', { cmd: 'RETR crlf.txt' },
    'REST 2', { cmd: 'RETR hello.txt' }, 'REST 100', { cmd: 'RETR hello.txt' },
    { cmd: 'STOR up.txt', upload: 'uploaded\n' }, { cmd: 'STOR up.txt', upload: 'again\n' }, { cmd: 'APPE up.txt', upload: 'more\n' },
    { cmd: 'APPE new-appe.txt', upload: 'x\n' }, { cmd: 'STOR' }, { cmd: 'STOR nosuch/x', upload: 'x' }, { cmd: 'STOR locked/x', upload: 'x' },
    { cmd: 'STOR readonly.txt', upload: 'x' }, { cmd: 'STOR sub dir', upload: 'x' }, { cmd: 'STOR full/y', upload: 'x' },
    { cmd: 'STOR sp ace ✓.txt', upload: 'u\n' }, 'REST 3', { cmd: 'STOR up.txt', upload: 'X\n' }, 'SIZE up.txt',
    'TYPE A', { cmd: 'STOR asc.txt', upload: 'a\r\nb\r\n' }, 'TYPE I', 'SIZE asc.txt',
    { cmd: 'STOU', upload: 'u\n' }, { cmd: 'STOU name', upload: 'u\n' }, { cmd: 'STOU full/z', upload: 'u\n' },
    { cmd: 'LIST', data: 'EPSV' }, { cmd: 'RETR hello.txt', data: 'EPSV' },
    'RETR hello.txt', 'LIST', 'NLST', 'STOR z', 'ABOR', 'PASV', 'ABOR', 'EPSV 1', 'EPSV 2', 'EPSV 3', 'EPSV foo', 'PASV x',
    'PORT', 'PORT 1,2,3', 'PORT 127,0,0,1,0,21', 'EPRT', 'EPRT |1|127.0.0.1|60123', 'EPRT |3|127.0.0.1|60123|',
    'STAT hello.txt', 'STAT sub dir', 'STAT nosuch', 'STAT', 'STAT -la', 'STAT locked',
  ],
  'anonymous': [
    'USER anonymous', 'PASS me@example.com', 'PWD', { cmd: 'LIST' }, { cmd: 'NLST' }, { cmd: 'RETR welcome.txt' }, 'CWD pub', 'PWD',
    { cmd: 'STOR x.txt', upload: 'x' }, 'MKD d', 'DELE readme.txt', 'RNFR readme.txt', 'SITE CHMOD 777 readme.txt', { cmd: 'STOU', upload: 'x' },
    { cmd: 'APPE readme.txt', upload: 'x' }, 'RMD /pub', 'CWD ..', 'CDUP', 'PWD', 'CWD /..', 'PWD', 'STAT',
    'MLST /pub', 'MLST /welcome.txt', { cmd: 'MLSD /pub' },
  ],
  'anonymous-ftp': ['USER ftp', 'PASS', 'PWD', 'USER alice', 'PASS secret', 'USER ftp', 'PASS x', 'REIN'],
  'relogin-same': ['USER alice', 'PASS secret', 'USER alice', 'USER bob', 'USER alice', 'PASS', 'USER alice', 'PWD'],
  'relogin-anon': ['USER anonymous', 'PASS x@y', 'USER anonymous', 'USER ftp', 'PWD'],
  'relogin': ['USER alice', 'PASS secret', 'USER bob', 'PASS x', 'PWD', 'USER alice', 'PASS', 'PWD'],
  'paths-globs': [
    ...login, 'CWD ../../etc', 'PWD', 'CWD /', { cmd: 'RETR /etc/passwd' }, { cmd: 'RETR ../../etc/passwd' }, { cmd: 'NLST *.txt' },
    { cmd: 'LIST *.txt' }, { cmd: 'NLST sub*' }, { cmd: 'NLST nomatch*' }, { cmd: 'LIST nomatch*' }, { cmd: 'LIST /..' }, { cmd: 'NLST sub dir/' },
    { cmd: 'NLST /sub dir' }, { cmd: 'LIST -l sub dir' }, { cmd: 'LIST -R' }, { cmd: 'MLSD /' }, 'STAT *.txt', 'SIZE /hello.txt',
    `CWD ${'a/'.repeat(1000)}`, `SIZE ${'b'.repeat(4000)}`, 'MDTM /sub dir/file one.txt', 'SIZE sub dir/file one.txt',
    'CWD sub dir', 'MDTM file one.txt', 'MDTM ../hello.txt', 'CDUP', 'DELE sub dir', 'RMD hello.txt', 'MKD sub dir',
    'MKD /sub dir/nested', 'RMD /sub dir/nested', 'CWD héllo wörld ✓.txt', 'SIZE héllo wörld ✓.txt', 'MDTM héllo wörld ✓.txt',
  ],
  'active': [
    ...login, { cmd: 'LIST', data: 'PORT' }, { cmd: 'RETR hello.txt', data: 'PORT' }, { cmd: 'NLST', data: 'EPRT' },
    { cmd: 'STOR act.txt', data: 'EPRT', upload: 'active\n' }, 'SIZE act.txt', { cmd: 'RETR nosuch', data: 'PORT' },
    { cmd: 'MLSD', data: 'PORT' }, 'TYPE A', { cmd: 'RETR crlf.txt', data: 'EPRT' }, 'STAT', 'EPSV ALL', 'PORT 127,0,0,1,200,1',
    'EPRT |1|127.0.0.1|51201|', 'PASV', { cmd: 'NLST', data: 'EPSV' }, 'STAT',
  ],
  'odd-input': [
    { raw: '\r\n' }, { raw: 'noop\r\n' }, { raw: 'NoOp\r\n' }, { raw: 'NOOP\n' }, { raw: ' NOOP\r\n' }, { raw: 'NOOP  \r\n' },
    { raw: `${'A'.repeat(5000)}\r\n` }, 'USER alice', 'PASS secret', { raw: 'CWD  sub dir\r\n' }, 'PWD', { raw: 'PWD   \r\n' },
    { raw: 'CWD\t/\r\n' }, 'PWD',
  ],
};
