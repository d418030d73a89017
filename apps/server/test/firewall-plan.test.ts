import { parseConfig } from '@ftpkit/config';
import { describe, expect, it } from 'vitest';
import { planFirewall } from '../src/firewall-command.js';
import { renderIptables } from '../src/firewall.js';

function conf(text: string) {
  const r = parseConfig(text, { file: 'test.conf' });
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('\n'));
  return r.config;
}
const dns = (table: Record<string, string>) => async (name: string) => table[name];

describe('firewall plan from the NAT guide configurations', () => {
  it('MasqueradeAddress + PassivePorts, server address given: DNAT both to the server', async () => {
    const c = conf('Port 21\nMasqueradeAddress 123.45.67.89\nPassivePorts 60000 65535\n');
    const plan = await planFirewall(c, { source: 'test.conf', serverAddress: '192.168.1.2' });
    expect(plan.role).toBe('router');
    const rules = renderIptables(plan);
    expect(rules).toContain('-A PREROUTING -d 123.45.67.89/32 -p tcp -m tcp --dport 21 -j DNAT --to-destination 192.168.1.2:21');
    expect(rules).toContain('-A PREROUTING -d 123.45.67.89/32 -p tcp -m tcp --dport 60000:65535 -j DNAT --to-destination 192.168.1.2');
  });

  it('without the server address it prints host rules and says what is missing', async () => {
    const c = conf('Port 21\nMasqueradeAddress 123.45.67.89\nPassivePorts 60000 65535\n');
    const plan = await planFirewall(c, { source: 'test.conf' });
    expect(plan.role).toBe('host');
    expect(plan.notes?.join('\n')).toContain('--server');
    await expect(planFirewall(c, { source: 'test.conf', role: 'router' })).rejects.toThrow(/--server/);
  });

  it('the FAQ vhost recipe: the LAN vhost gets no DNAT; a MasqueradeAddress name is resolved', async () => {
    const c = conf(`ServerName "Some Server Name"
MasqueradeAddress my.domain.com
PassivePorts 60000 65535
<VirtualHost 192.168.0.10>
  ServerName "Some Other Server Name"
</VirtualHost>
`);
    const plan = await planFirewall(c, { source: 'faq.conf', serverAddress: '192.168.0.10', resolve: dns({ 'my.domain.com': '198.51.100.7' }) });
    expect(plan.role).toBe('router');
    expect(plan.targets).toHaveLength(1);
    expect(plan.targets[0]).toMatchObject({ label: 'main server', publicAddress: '198.51.100.7', serverAddress: '192.168.0.10', controlPort: 21 });
    expect(plan.notes?.join('\n')).toMatch(/VirtualHost 192\.168\.0\.10.*no MasqueradeAddress/);
  });

  it('the FAQ <IfClass> recipe: only the public MasqueradeAddress is a DNAT source', async () => {
    const c = conf(`<IfModule mod_ifsession.c>
  <Class internal>
    From 10.0.0.0/8
  </Class>
  <IfClass internal>
    MasqueradeAddress 10.1.2.3
  </IfClass>
  <IfClass !internal>
    MasqueradeAddress 1.2.3.4
  </IfClass>
</IfModule>
PassivePorts 60000 60100
`);
    const plan = await planFirewall(c, { source: 'x', serverAddress: '10.1.2.3' });
    expect(plan.targets.map((t) => t.publicAddress)).toEqual(['1.2.3.4']);
    expect(plan.notes?.join('\n')).toContain('10.1.2.3');
  });

  it('collects every PassivePorts range a session can get (<Global>, <IfClass>)', async () => {
    const c = conf(`<Global>
  PassivePorts 60000 60100
</Global>
<Class lan>
  From 192.168.0.0/16
</Class>
<IfClass lan>
  PassivePorts 61000 61010
</IfClass>
MasqueradeAddress 203.0.113.1
`);
    const plan = await planFirewall(c, { source: 'x', serverAddress: '192.168.50.10' });
    expect(plan.targets[0]?.passive).toEqual([{ min: 60000, max: 60100 }, { min: 61000, max: 61010 }]);
  });

  it('--public overrides, with an optional public control port', async () => {
    const c = conf('Port 2121\nDefaultAddress 192.168.50.10\nPassivePorts 60000 60099\n');
    const plan = await planFirewall(c, { source: 'x', publicAddress: '203.0.113.1:21' });
    expect(plan.targets[0]).toMatchObject({ publicAddress: '203.0.113.1', publicControlPort: 21, serverAddress: '192.168.50.10', controlPort: 2121 });
  });
});
