/**
 * `ProxyProtocolOptions UseProxiedServerAddress` (mod_proxy_protocol) on `ftpkit serve`:
 * the test plays two balancers on 127.0.0.1 and 127.0.0.2 and sends PROXY v1/v2 headers;
 * the session's `<VirtualHost>` follows the header's destination address and port (banner
 * ServerName, the anonymous root served), unless no server answers there or the balancer's
 * class does not set the option.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeV1, encodeV2 } from '@ftpkit/proxy-protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { RawFtp, anonymousSection, cleanup, freePort, serve, tempDir } from './helpers.js';

afterEach(cleanup);

const tcp = (a: string): 'tcp4' | 'tcp6' => (a.includes(':') ? 'tcp6' : 'tcp4');
const header = (v: 1 | 2, src: string, dst: string, dport: number): Uint8Array =>
  (v === 1 ? encodeV1 : encodeV2)({ family: tcp(src), source: { address: src, port: 40000 }, destination: { address: dst, port: dport } });

/** A control connection from `balancer` that starts with `h`; its banner and the anonymous login. */
async function through(port: number, balancer: string, h: Uint8Array): Promise<{ c: RawFtp; banner: string }> {
  const c = await RawFtp.connect(port, '127.0.0.1', balancer);
  c.socket.write(h);
  const b = await c.read();
  expect((await c.login('anonymous', 'x@y')).code).toBe(230);
  expect((await c.cmd('TYPE I')).code).toBe(200);
  return { c, banner: `${b.code} ${b.text}` };
}

/** Which root the session serves: each root holds one file named after its server. */
async function root(c: RawFtp): Promise<string> {
  for (const name of ['main', 'alpha', 'gamma', 'six']) if ((await c.cmd(`SIZE ${name}.txt`)).code === 213) return name;
  return 'none';
}

describe('ProxyProtocolOptions UseProxiedServerAddress', () => {
  it('the <VirtualHost> of the PROXY destination (v1 and v2, IPv4 and IPv6, by address or by port); no server there, or a class without the option: the socket\'s server', async () => {
    const dir = tempDir();
    const port = await freePort();
    const gammaPort = await freePort();
    const roots: Record<string, string> = {};
    for (const name of ['main', 'alpha', 'gamma', 'six']) {
      roots[name] = join(dir, name);
      mkdirSync(roots[name]);
      writeFileSync(join(roots[name], `${name}.txt`), `${name}\n`);
    }
    const conf = join(dir, 'proftpd.conf');
    writeFileSync(
      conf,
      `ServerName main
Port ${port}
DefaultAddress 127.0.0.1
SocketBindTight on
<Class lb>
  From 127.0.0.1
</Class>
<Class plain-lb>
  From 127.0.0.2
</Class>
<IfClass lb>
  ProxyProtocolEngine on
  ProxyProtocolOptions UseProxiedServerAddress
</IfClass>
<IfClass plain-lb>
  ProxyProtocolEngine on
</IfClass>
${anonymousSection(roots['main'] as string)}
<VirtualHost 203.0.113.10>
  Port 0
  ServerName alpha
${anonymousSection(roots['alpha'] as string, '  ')}
</VirtualHost>
<VirtualHost 127.0.0.1>
  Port ${gammaPort}
  ServerName gamma
${anonymousSection(roots['gamma'] as string, '  ')}
</VirtualHost>
<VirtualHost 2001:db8::10>
  Port 0
  ServerName six
${anonymousSection(roots['six'] as string, '  ')}
</VirtualHost>
`,
    );
    const s = await serve(['--config', conf]);

    // By address (v1): the client connected to 203.0.113.10:21 on the balancer.
    const a = await through(port, '127.0.0.1', header(1, '198.51.100.50', '203.0.113.10', 21));
    expect(a.banner).toBe('220 ftpkit Server (alpha) [203.0.113.10]');
    expect(await root(a.c)).toBe('alpha');
    await s.waitFor(/^Changing to server 'alpha' \(203\.0\.113\.10:21\) due to PROXY protocol$/);

    // By port (v2): 127.0.0.1:<gammaPort> is the gamma host, although the socket reached the main port.
    const g = await through(port, '127.0.0.1', header(2, '198.51.100.51', '127.0.0.1', gammaPort));
    expect(g.banner).toMatch(/^220 ftpkit Server \(gamma\) /);
    expect(await root(g.c)).toBe('gamma');

    // IPv6 (v2).
    const six = await through(port, '127.0.0.1', header(2, '2001:db8::50', '2001:db8::10', 21));
    expect(six.banner).toMatch(/^220 ftpkit Server \(six\) /);
    expect(await root(six.c)).toBe('six');

    // No server answers on the destination: the socket's server, as ProFTPD keeps it.
    const none = await through(port, '127.0.0.1', header(2, '198.51.100.52', '198.51.100.99', 21));
    expect(none.banner).toMatch(/^220 ftpkit Server \(main\) /);
    expect(await root(none.c)).toBe('main');

    // A balancer whose class does not set the option: the destination does not choose.
    const plain = await through(port, '127.0.0.2', header(2, '198.51.100.53', '203.0.113.10', 21));
    expect(plain.banner).toMatch(/^220 ftpkit Server \(main\) /);
    expect(await root(plain.c)).toBe('main');
    expect((await s.waitFor(/^ANON anonymous: Login successful\.$/))['client']).toBe('198.51.100.50');
    await s.stop();
  });
});
