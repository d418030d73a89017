/**
 * `ftpkit serve` behind a PROXY-protocol load balancer, on 127.0.0.1: the test plays the
 * balancer, with v1 and v2 headers on control and data connections. Trust through
 * `<IfClass>`, and the real client address in `<Limit>`, MaxClientsPerHost, the
 * passive-connection check and the masquerade answer.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { authorityTlv, encodeV1, encodeV2 } from '@ftpkit/proxy-protocol';
import { hashPassword } from '@ftpkit/config/node';
import { parseEpsv } from '@ftpkit/reply';
import { afterEach, describe, expect, it } from 'vitest';
import { anonymousSection, cleanup, freePort, freeRange, RawFtp, serve, tempDir } from './helpers.js';

afterEach(cleanup);

const CLIENT = '203.0.113.50';
const STRANGER = '203.0.113.99';
const DEST = '198.51.100.7';
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const esc = (s: string): string => s.replace(/[.()[\]]/g, (c) => `\\${c}`);

/** A configuration where only the class `lb` (`From lb`) may send PROXY headers, with alice (read-write) and anonymous. */
function conf(dir: string, port: number, range: string, lb: string, extra = ''): string {
  const passwd = join(dir, 'ftpd.passwd');
  writeFileSync(passwd, `alice:${hashPassword('pw')}:${process.getuid?.() ?? 0}:${process.getgid?.() ?? 0}::${dir}:/bin/sh\n`);
  const path = join(dir, 'proftpd.conf');
  writeFileSync(
    path,
    `Port ${port}
DefaultAddress 127.0.0.1
SocketBindTight on
PassivePorts ${range.replace('-', ' ')}
AuthUserFile ${passwd}
RequireValidShell off
RootLogin on
DefaultRoot ~
AllowOverwrite on
<Class lb>
  From ${lb}
</Class>
<IfClass lb>
  ProxyProtocolEngine on
  ProxyProtocolTimeout 1
</IfClass>
${extra}
${anonymousSection(dir)}
`,
  );
  return path;
}

const tcp = (a: string): 'tcp4' | 'tcp6' => (a.includes(':') ? 'tcp6' : 'tcp4');
const v1 = (src: string, dst: string, sport: number, dport: number): Uint8Array =>
  encodeV1({ family: tcp(src), source: { address: src, port: sport }, destination: { address: dst, port: dport } });
const v2 = (src: string, dst: string, sport: number, dport: number): Uint8Array =>
  encodeV2(
    { family: tcp(src), source: { address: src, port: sport }, destination: { address: dst, port: dport }, tlvs: [authorityTlv('ftp.example.com')] },
    { crc32c: true },
  );

/** A control connection that starts with `header` (as the balancer's would). */
async function proxied(port: number, header: Uint8Array): Promise<RawFtp> {
  const c = await RawFtp.connect(port);
  c.socket.write(header);
  const banner = await c.read();
  expect(banner.code).toBe(220);
  return c;
}

/** A data connection that sends `header` and then `payload` (in the same write), collecting what the server sends. */
function data(port: number, header: Uint8Array | undefined, payload?: Buffer): { socket: Socket; done: Promise<Buffer> } {
  const socket = connect({ port, host: '127.0.0.1' });
  const chunks: Buffer[] = [];
  socket.on('connect', () => {
    const bytes = Buffer.concat([header ?? Buffer.alloc(0), payload ?? Buffer.alloc(0)]);
    if (bytes.length > 0) socket.write(bytes);
    if (payload !== undefined) socket.end();
  });
  const done = new Promise<Buffer>((resolve) => {
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => resolve(Buffer.concat(chunks)));
    socket.on('close', () => resolve(Buffer.concat(chunks)));
  });
  cleanups.push(socket);
  return { socket, done };
}
const cleanups: Socket[] = [];
afterEach(() => {
  for (const s of cleanups.splice(0)) s.destroy();
});

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('ftpkit serve behind a PROXY-protocol load balancer', () => {
  it('the real client drives MaxClientsPerHost; a stranger on the passive port is refused by the address in its data header', async () => {
    const dir = tempDir();
    const port = await freePort();
    const range = await freeRange(4);
    writeFileSync(join(dir, 'hello.txt'), 'hello\n');
    const s = await serve(['--config', conf(dir, port, range.spec, '127.0.0.1', 'MaxClientsPerHost 1\nMasqueradeAddress 198.51.100.1')]);
    const a = await proxied(port, v1(CLIENT, DEST, 40000, 2121));
    expect((await a.login('anonymous', 'x@y')).code).toBe(230);
    expect((await a.cmd('TYPE I')).code).toBe(200);
    // The same client again, through the balancer: counted by its own address.
    const b = await proxied(port, v2(CLIENT, DEST, 40001, 2121));
    expect((await b.login('anonymous', 'x@y')).code).toBe(530);
    const other = await proxied(port, v2('203.0.113.51', DEST, 40002, 2121));
    expect((await other.login('anonymous', 'x@y')).code).toBe(230);
    expect((await s.waitFor(/^ANON anonymous: Login successful\.$/))['client']).toBe(CLIENT);

    const p = await a.pasv();
    expect(p.host).toBe('198.51.100.1');
    const stranger = data(p.port, v2(STRANGER, DEST, 50000, p.port));
    await pause(150);
    const mine = data(p.port, v2(CLIENT, DEST, 50001, p.port));
    await pause(150);
    expect((await a.cmd('RETR hello.txt')).code).toBe(150);
    expect((await mine.done).toString()).toBe('hello\n');
    expect((await a.read()).code).toBe(226);
    expect((await stranger.done).length).toBe(0);
    await s.waitFor(new RegExp(`^SECURITY VIOLATION: Passive connection from foreign IP address ${esc(STRANGER)} rejected \\(does not match client IP address ${esc(CLIENT)}\\)\\.$`));
    await s.stop();
  });

  it('uploads keep the bytes that came with the data header; a data connection without a header is closed after ProxyProtocolTimeout', async () => {
    const dir = tempDir();
    const port = await freePort();
    const range = await freeRange(4);
    const s = await serve(['--config', conf(dir, port, range.spec, '127.0.0.1')]);
    const a = await proxied(port, v2(CLIENT, DEST, 40000, 2121));
    expect((await a.login('alice', 'pw')).code).toBe(230);
    expect((await a.cmd('TYPE I')).code).toBe(200);
    const payload = randomBytes(300_000);
    let p = await a.pasv();
    data(p.port, v2(CLIENT, DEST, 50000, p.port), payload);
    expect((await a.cmd('STOR up.bin')).code).toBe(150);
    expect((await a.read()).code).toBe(226);
    expect(sha(readFileSync(join(dir, 'up.bin')))).toBe(sha(payload));
    // From the balancer but without a header: dropped, logged; the client's own then works.
    writeFileSync(join(dir, 'hello.txt'), 'hello\n');
    p = await a.pasv();
    const bare = data(p.port, undefined);
    await pause(100);
    // The 150 comes once a data connection is accepted: the bare one is refused first.
    const retr = a.cmd('RETR hello.txt');
    const late = data(p.port, v1(CLIENT, DEST, 50002, p.port));
    expect((await retr).code).toBe(150);
    await s.waitFor(/^passive data connection from 127\.0\.0\.1 refused: no complete PROXY header from 127\.0\.0\.1 within 1000 ms$/);
    expect((await bare.done).length).toBe(0);
    expect((await late.done).toString()).toBe('hello\n');
    expect((await a.read()).code).toBe(226);
    await s.stop();
  });

  it('headers are believed only from the class that may send them; <Limit LOGIN> sees the real client', async () => {
    const dir = tempDir();
    const port = await freePort();
    const range = await freeRange(4);
    // 127.0.0.1 is not the balancer: a header from it is an unknown command.
    let s = await serve(['--config', conf(dir, port, range.spec, '192.0.2.1')]);
    const c = await RawFtp.connect(port);
    expect((await c.read()).code).toBe(220);
    expect((await c.cmd(`PROXY TCP4 ${CLIENT} 127.0.0.1 40000 ${port}`)).code).toBe(500);
    expect((await c.login('anonymous', 'x@y')).code).toBe(230);
    expect((await s.waitFor(/^ANON anonymous: Login successful\.$/))['client']).toBe('127.0.0.1');
    await s.stop();
    s = await serve(['--config', conf(dir, port, range.spec, '127.0.0.1', `<Limit LOGIN>\n  Deny from ${STRANGER}\n</Limit>`)]);
    const denied = await RawFtp.connect(port);
    denied.socket.write(v2(STRANGER, DEST, 40000, 2121));
    await expect(denied.read()).rejects.toThrow('closed');
    await s.waitFor(new RegExp(`^Connection from ${esc(STRANGER)} \\[${esc(STRANGER)}\\] denied$`));
    const allowed = await proxied(port, v2(CLIENT, DEST, 40001, 2121));
    expect((await allowed.login('anonymous', 'x@y')).code).toBe(230);
    await s.stop();
  });

  it('without MasqueradeAddress a proxied session advertises the address the client connected to; IPv6 clients get EPSV', async () => {
    const dir = tempDir();
    const port = await freePort();
    const range = await freeRange(4);
    writeFileSync(join(dir, 'hello.txt'), 'hello\n');
    const s = await serve(['--config', conf(dir, port, range.spec, '127.0.0.1')]);
    const a = await proxied(port, v2(CLIENT, DEST, 40000, 2121));
    expect((await a.login('anonymous', 'x@y')).code).toBe(230);
    expect((await a.pasv()).host).toBe(DEST);
    a.close();
    // A client on IPv6 behind the balancer: EPSV, and its data header names the same IPv6 address.
    const six = '2001:db8::50';
    const b = await proxied(port, v2(six, '2001:db8::7', 40001, 2121));
    expect((await b.login('anonymous', 'x@y')).code).toBe(230);
    expect((await b.cmd('TYPE I')).code).toBe(200);
    const e = parseEpsv((await b.cmd('EPSV')).text);
    expect(e.ok).toBe(true);
    const epsvPort = e.ok ? e.value.port : 0;
    const d = data(epsvPort, v2(six, '2001:db8::7', 50000, epsvPort));
    await pause(100);
    expect((await b.cmd('RETR hello.txt')).code).toBe(150);
    expect((await d.done).toString()).toBe('hello\n');
    expect((await b.read()).code).toBe(226);
    expect((await s.waitFor(/^ANON anonymous: Login successful\.$/))['client']).toBe(CLIENT);
    await s.stop();
  });
});
