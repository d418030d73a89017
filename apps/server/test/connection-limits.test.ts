/**
 * `ftpkit serve` with MaxConnectionsPerHost (mod_auth, reference §7.2): every connection
 * from a host counts, logged in or not; the one over the limit gets ProFTPD's 530 before
 * any banner and is closed. Behind a PROXY-protocol balancer the client's own address
 * (from the header) is what counts. 127.0.0.2 is another host.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeV1, encodeV2 } from '@ftpkit/proxy-protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { RawFtp, cleanup, freePort, loopbackConf, serve, tempDir } from './helpers.js';

afterEach(cleanup);

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The first reply of a new control connection ('closed' when none came). */
async function greet(port: number, localAddress?: string, header?: Uint8Array): Promise<{ c: RawFtp; first: string }> {
  const c = await RawFtp.connect(port, '127.0.0.1', localAddress);
  if (header !== undefined) c.socket.write(header);
  const first = await c.read().then(
    (r) => `${r.code} ${r.text}`,
    (err: Error) => err.message,
  );
  return { c, first };
}

describe('MaxConnectionsPerHost', () => {
  it('counts unauthenticated connections; the one over the limit gets 530 before the banner and is closed; other hosts and later connections are served', async () => {
    const dir = tempDir();
    const port = await freePort();
    const s = await serve(['--config', loopbackConf(dir, port, 'MaxConnectionsPerHost 2')]);
    const a = await greet(port);
    const b = await greet(port);
    expect([a.first, b.first]).toEqual([expect.stringMatching(/^220 /), expect.stringMatching(/^220 /)]);
    const third = await greet(port);
    expect(third.first).toBe('530 Sorry, the maximum number of connections (2) for your host are already connected.');
    await expect(third.c.read()).rejects.toThrow('closed');
    const log = await s.waitFor(/^Connection refused \(MaxConnectionsPerHost 2\)$/);
    expect(log['client']).toBe('127.0.0.1');
    const other = await greet(port, '127.0.0.2');
    expect(other.first).toMatch(/^220 /);
    // Logged-in sessions count too.
    expect((await a.c.login('anonymous', 'x@y')).code).toBe(230);
    expect((await greet(port)).first).toMatch(/^530 /);
    // When one leaves, the host gets a connection again.
    b.c.close();
    await pause(200);
    expect((await greet(port)).first).toMatch(/^220 /);
    await s.stop();
  });

  it('an own message, with %m for the limit', async () => {
    const dir = tempDir();
    const port = await freePort();
    const s = await serve(['--config', loopbackConf(dir, port, 'MaxConnectionsPerHost 1 "Only %m connection per host, please."')]);
    const a = await greet(port);
    expect(a.first).toMatch(/^220 /);
    expect((await greet(port)).first).toBe('530 Only 1 connection per host, please.');
    await s.stop();
  });

  it('behind a PROXY-protocol balancer the client from the header counts, not the balancer', async () => {
    const dir = tempDir();
    const port = await freePort();
    const conf = join(dir, 'proftpd.conf');
    writeFileSync(
      conf,
      `Port ${port}
DefaultAddress 127.0.0.1
SocketBindTight on
MaxConnectionsPerHost 1
<Class lb>
  From 127.0.0.1
</Class>
<IfClass lb>
  ProxyProtocolEngine on
</IfClass>
<Anonymous ${dir}>
  User ftp
  UserAlias anonymous ftp
</Anonymous>
`,
    );
    const s = await serve(['--config', conf]);
    const dest = { address: '198.51.100.7', port: 21 };
    const header = (client: string, sport: number, v: 1 | 2): Uint8Array =>
      (v === 1 ? encodeV1 : encodeV2)({ family: 'tcp4', source: { address: client, port: sport }, destination: dest });
    const a = await greet(port, undefined, header('203.0.113.50', 40000, 1));
    expect(a.first).toMatch(/^220 /);
    const again = await greet(port, undefined, header('203.0.113.50', 40001, 2));
    expect(again.first).toBe('530 Sorry, the maximum number of connections (1) for your host are already connected.');
    expect((await s.waitFor(/^Connection refused \(MaxConnectionsPerHost 1\)$/))['client']).toBe('203.0.113.50');
    const other = await greet(port, undefined, header('203.0.113.51', 40002, 2));
    expect(other.first).toMatch(/^220 /);
    expect((await other.c.login('anonymous', 'x@y')).code).toBe(230);
    await s.stop();
  });
});
