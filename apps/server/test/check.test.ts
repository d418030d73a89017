import { createServer, type Server } from 'node:net';
import { parseConfig } from '@ftpkit/config';
import { afterEach, describe, expect, it } from 'vitest';
import { checkConfig, compactPorts, scanPorts } from '../src/check.js';
import { freeRange } from './helpers.js';

const held: Server[] = [];
afterEach(async () => {
  await Promise.all(held.splice(0).map((s) => new Promise((r) => s.close(r))));
});
const hold = (port: number): Promise<void> =>
  new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(port, '127.0.0.1', () => {
      held.push(s);
      resolve();
    });
  });

function conf(text: string) {
  const r = parseConfig(text, { file: 'test.conf' });
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('\n'));
  return r.config;
}

describe('passive range scan', () => {
  it('finds exactly the ports another process holds', async () => {
    const range = await freeRange(20);
    await hold(range.min + 3);
    await hold(range.min + 4);
    await hold(range.max);
    const r = await scanPorts('127.0.0.1', [range]);
    expect(r.error).toBeUndefined();
    expect(r.taken).toEqual([range.min + 3, range.min + 4, range.max]);
    expect(compactPorts(r.taken)).toBe(`${range.min + 3}-${range.min + 4}, ${range.max}`);
  });

  it('says when the address is not on this machine', async () => {
    const r = await scanPorts('192.0.2.1', [{ min: 60000, max: 60001 }]);
    expect(r.error).toMatch(/EADDRNOTAVAIL/);
  });
});

describe('checkConfig', () => {
  it('reports taken ports, the range against MaxClients, and classifies MasqueradeAddress', async () => {
    const range = await freeRange(10);
    await hold(range.min + 1);
    const c = conf(`DefaultAddress 127.0.0.1
SocketBindTight on
MasqueradeAddress 192.168.1.5
PassivePorts ${range.min} ${range.max}
MaxClients 30
`);
    const r = await checkConfig(c, 'test.conf', { scan: true });
    const text = r.findings.map((f) => `${f.severity}: ${f.message}`).join('\n');
    expect(text).toContain(`warning: PassivePorts ${range.min}-${range.max}: 1 of 10 ports are already in use on 127.0.0.1 by other processes: ${range.min + 1}`);
    expect(text).toContain('has 9 usable ports but MaxClients is 30');
    expect(text).toMatch(/warning: MasqueradeAddress 192\.168\.1\.5 is private \(RFC 1918\)/);
    expect(r.ok).toBe(true);
    expect(r.ranges[0]?.taken).toEqual([range.min + 1]);
  });

  it('a public address is fine; no PassivePorts behind NAT is a warning', async () => {
    const r = await checkConfig(conf('MasqueradeAddress 203.0.113.7\n'), 'x', { scan: false });
    const text = r.findings.map((f) => `${f.severity}: ${f.message}`).join('\n');
    expect(text).toContain('info: MasqueradeAddress 203.0.113.7 -> 203.0.113.7, public');
    expect(text).toMatch(/warning: no PassivePorts/);
  });

  it('ProxyProtocolEngine for every peer is a warning; inside <IfClass> it names the class', async () => {
    const open = await checkConfig(conf('Port 2121\nProxyProtocolEngine on\n'), 'x', { scan: false });
    expect(open.findings.find((f) => /ProxyProtocolEngine/.test(f.message))).toMatchObject({
      severity: 'warning',
      message: expect.stringMatching(/^ProxyProtocolEngine on for every peer: whoever reaches port 2121 can claim any client address/),
    });
    const classed = await checkConfig(conf('<Class lb>\n  From 10.0.0.0/8\n</Class>\n<IfClass lb>\n  ProxyProtocolEngine on\n</IfClass>\n'), 'x', { scan: false });
    const f = classed.findings.find((x) => /PROXY headers/.test(x.message));
    expect(f?.severity).toBe('info');
    expect(f?.message).toMatch(/^PROXY headers are read from <IfClass lb> \(test.conf:4\) only/);
  });

  it('PassivePortsShared on: a range smaller than MaxClients is fine; UseProxiedServerAddress needs ProxyProtocolEngine', async () => {
    const shared = await checkConfig(conf('PassivePortsShared on\nPassivePorts 60000 60009\nMaxClients 200\n'), 'x', { scan: false });
    const text = shared.findings.map((f) => `${f.severity}: ${f.message}`).join('\n');
    expect(text).not.toContain('but MaxClients is 200');
    expect(text).toContain('info: PassivePortsShared on: each of the 10 ports of 60000-60009 serves several clients at once');
    const idle = await checkConfig(conf('ProxyProtocolOptions UseProxiedServerAddress\n'), 'x', { scan: false });
    expect(idle.findings.find((f) => /UseProxiedServerAddress/.test(f.message))).toMatchObject({
      severity: 'warning',
      message: 'ProxyProtocolOptions UseProxiedServerAddress (main server) has no effect: ProxyProtocolEngine is not on for this server',
    });
    const on = await checkConfig(conf('<Class lb>\n  From 10.0.0.0/8\n</Class>\n<IfClass lb>\n  ProxyProtocolEngine on\n</IfClass>\nProxyProtocolOptions UseProxiedServerAddress\n'), 'x', { scan: false });
    expect(on.findings.find((f) => /UseProxiedServerAddress/.test(f.message))?.severity).toBe('info');
  });

  it('an AuthUserFile that cannot be read is an error', async () => {
    const r = await checkConfig(conf('AuthUserFile /nonexistent/ftpd.passwd\n'), 'x', { scan: false });
    expect(r.ok).toBe(false);
    expect(r.findings.find((f) => f.severity === 'error')?.message).toMatch(/nonexistent/);
  });
});
