/**
 * FTPS behind a real NAT: an ftpkit server on a private LAN behind a Linux NAT router
 * (kernel DNAT + MASQUERADE, no FTP conntrack helper), reached from outside over explicit
 * TLS. No helper could read an encrypted 227 anyway: the data connection works only
 * because the server advertises the right address itself (MasqueradeAddress, or
 * TLSMasqueradeAddress for TLS sessions). Needs root, iproute2, iptables, openssl, curl,
 * lftp and python3; in CI (CI=true) a missing piece is a failure.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CLI, CLIENTS, dialog, login, makeFixtures, PASSWORD, sha256File, startServer, USER, type Fixtures, type RunningServer } from './harness.js';
import { buildTopology, canBuildTopology, LAN, WAN, type Topology } from './topology.js';

const can = canBuildTopology();
const inCi = process.env.CI === 'true';
if (!can.ok && !inCi) console.warn(`NAT TLS suite skipped: ${can.why}`);
const suite = can.ok || inCi ? describe : describe.skip;

const RANGE = { min: 60000, max: 60049 };
const PASV = /227 Entering Passive Mode \((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)/;
const advertised = (text: string): string | undefined => {
  const m = PASV.exec(text);
  return m ? `${m[1]}.${m[2]}.${m[3]}.${m[4]}` : undefined;
};

suite('FTPS behind a kernel NAT router', () => {
  let t: Topology;
  let fx: Fixtures;
  let cert: string;
  let key: string;
  beforeAll(() => {
    if (!can.ok) throw new Error(`the NAT suite cannot run: ${can.why}`);
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
    t = buildTopology();
    fx = makeFixtures(8, 4);
    cert = join(fx.dir, 'server.crt');
    key = join(fx.dir, 'server.key');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', '/CN=ftp.example.test', '-keyout', key, '-out', cert], { stdio: 'ignore' });
    t.forward('2121', LAN.server);
    t.forward(`${RANGE.min}:${RANGE.max}`, LAN.server);
  });
  afterAll(() => {
    t?.destroy();
    fx?.cleanup();
    const left = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
    if (t) expect(left).not.toContain(t.tag);
  });

  const conf = (masquerade: string): string => `
ServerName "ftpkit FTPS behind NAT"
Port 2121
AuthUserFile ${fx.passwd}
DefaultRoot ~
AllowOverwrite on
PassivePorts ${RANGE.min} ${RANGE.max}
TLSEngine on
TLSRequired on
TLSProtocol TLSv1.2 TLSv1.3
TLSECCertificateFile ${cert}
TLSECCertificateKeyFile ${key}
${masquerade}
`;
  const withServer = async (text: string, fn: (s: RunningServer) => Promise<void> | void): Promise<void> => {
    const s = await startServer(t, text, fx);
    try { await fn(s); } finally { await s.stop(); }
  };
  const url = `ftp://${USER}:${PASSWORD}@${WAN.router}:2121`;
  /** curl over explicit TLS, PASV, and the 227 address honoured (no --ftp-skip-pasv-ip). */
  const curl = (args: string[]): { ok: boolean; out: string } => {
    try {
      return { ok: true, out: t.exec(t.ns.ext, 'sh', ['-c', `curl -sS -v --ssl-reqd -k --disable-epsv --no-ftp-skip-pasv-ip --connect-timeout 4 --max-time 60 ${args.join(' ')} 2>&1`]) };
    } catch (e) {
      const err = e as { stdout?: string };
      return { ok: false, out: err.stdout ?? '' };
    }
  };

  test('TLSRequired on, MasqueradeAddress: curl, lftp, ftplib and basic-ftp list, download and upload over TLS', async () => {
    await withServer(conf(`MasqueradeAddress ${WAN.router}`), () => {
      const down = join(fx.dir, 'tls-curl.bin');
      const r = curl([`-o ${down}`, `'${url}/${fx.big.name}'`]);
      expect(r.ok, r.out).toBe(true);
      expect(advertised(r.out)).toBe(WAN.router);
      expect(r.out).toMatch(/SSL connection using TLSv1\.[23]/);
      expect(sha256File(down)).toBe(fx.big.sha256);
      expect(curl(['-T', fx.upload.path, `'${url}/tls-curl-up.bin'`]).ok).toBe(true);
      expect(sha256File(join(fx.home, 'tls-curl-up.bin'))).toBe(fx.upload.sha256);
      expect(curl([`'${url}/'`]).out).toContain(fx.big.name);

      const lftpOut = join(fx.dir, 'tls-lftp.bin');
      const settings = [
        'set ftp:ssl-force yes', 'set ftp:ssl-protect-data yes', 'set ssl:verify-certificate no', 'set ftp:passive-mode on',
        'set ftp:prefer-epsv no', 'set ftp:fix-pasv-address no', 'set net:max-retries 1', 'set net:timeout 15',
      ];
      const cmds = [...settings, `open -u ${USER},${PASSWORD} -p 2121 ${WAN.router}`, `get ${fx.big.name} -o ${lftpOut}`, `put ${fx.upload.path} -o tls-lftp-up.bin`, 'cls -1'];
      const lftp = t.exec(t.ns.ext, 'sh', ['-c', `lftp -d -c '${cmds.join('; ')}' 2>&1`]);
      expect(lftp).toMatch(/AUTH TLS/);
      expect(advertised(lftp)).toBe(WAN.router);
      expect(sha256File(lftpOut)).toBe(fx.big.sha256);
      expect(sha256File(join(fx.home, 'tls-lftp-up.bin'))).toBe(fx.upload.sha256);
      expect(lftp).toContain(fx.big.name);

      const py = JSON.parse(t.exec(t.ns.ext, 'python3', [join(CLIENTS, 'ftplib_tls_client.py'), WAN.router, '2121', USER, PASSWORD, fx.big.name, fx.upload.path, 'tls-ftplib-up.bin', 'reuse'])) as { pasv: [string, number]; retr_sha256: string; list: string[]; error?: string };
      expect(py.error).toBeUndefined();
      expect(py.pasv[0]).toBe(WAN.router);
      expect(py.retr_sha256).toBe(fx.big.sha256);
      expect(sha256File(join(fx.home, 'tls-ftplib-up.bin'))).toBe(fx.upload.sha256);

      const out = t.exec(t.ns.ext, process.execPath, [join(CLIENTS, 'basicftp_tls_client.mjs'), WAN.router, '2121', USER, PASSWORD, fx.big.name, fx.upload.path, 'tls-basic-up.bin'], { timeoutMs: 60_000 });
      const b = JSON.parse(out.trim().split('\n').pop()!) as { replies: string[]; retr_sha256: string; list: string[] };
      expect(advertised(b.replies.join('\n'))).toBe(WAN.router);
      expect(b.retr_sha256).toBe(fx.big.sha256);
      expect(sha256File(join(fx.home, 'tls-basic-up.bin'))).toBe(fx.upload.sha256);
      expect(b.list).toContain(fx.big.name);

      // TLSRequired on: a plaintext session cannot log in.
      const plain = dialog(t, t.ns.ext, WAN.router, [...login, 'QUIT']);
      expect(plain.find((e) => e.cmd === 'USER')?.lines?.[0]).toBe('550 SSL/TLS required on the control channel');
    });
  });

  test('TLSMasqueradeAddress: TLS sessions advertise the public address, plain sessions the other one', async () => {
    const text = conf(`MasqueradeAddress 198.51.100.77\nTLSMasqueradeAddress ${WAN.router}`).replace('TLSRequired on', 'TLSRequired off');
    await withServer(text, () => {
      const plain = dialog(t, t.ns.ext, WAN.router, [...login, 'PASV', 'QUIT']);
      expect(plain.find((e) => e.cmd === 'PASV')?.pasv?.[0]).toBe('198.51.100.77');
      const down = join(fx.dir, 'tls-masq.bin');
      const r = curl([`-o ${down}`, `'${url}/${fx.big.name}'`]);
      expect(r.ok, r.out).toBe(true);
      expect(advertised(r.out)).toBe(WAN.router);
      expect(sha256File(down)).toBe(fx.big.sha256);
    });
  });

  test('without MasqueradeAddress the encrypted 227 carries the private address and the data connection fails', async () => {
    await withServer(conf(''), () => {
      const r = curl([`'${url}/small.txt'`]);
      expect(r.ok).toBe(false);
      expect(advertised(r.out)).toBe(LAN.server);
    });
  });
});
