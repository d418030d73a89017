import { describe, expect, it } from 'vitest';
import { checkLimit, defineConfig } from '../src/index.js';
import { parseOk, session } from './helpers.js';

describe('defineConfig: the NAT guide ifclass example built in code means the same as the file', () => {
  const fromCode = defineConfig({
    classes: [{ name: 'internal', from: '10.0.0.0/8' }],
    server: {
      settings: { passivePorts: { min: 60000, max: 65535 } },
      layers: [
        { ifClass: 'internal', settings: { masqueradeAddress: { host: '10.1.2.3', kind: 'ipv4' } } },
        { ifClass: '!internal', settings: { masqueradeAddress: { host: '1.2.3.4', kind: 'ipv4' } } },
      ],
      limits: [{ commands: 'EPSV PASV', denyAll: true }, { commands: ['PASV'], allowClass: 'internal' }],
    },
  });
  const fromFile = parseOk(`PassivePorts 60000 65535
<Class internal>
From 10.0.0.0/8
</Class>
<IfClass internal>
MasqueradeAddress 10.1.2.3
</IfClass>
<IfClass !internal>
MasqueradeAddress 1.2.3.4
</IfClass>
<Limit EPSV PASV>
DenyAll
</Limit>
<Limit PASV>
AllowClass internal
</Limit>`);
  it.each(['10.9.9.9', '203.0.113.4'])('client %s: same masquerade and same PASV/EPSV decisions', (remoteAddress) => {
    const a = session(fromCode, { remoteAddress, authenticated: true, user: 'u' });
    const b = session(fromFile, { remoteAddress, authenticated: true, user: 'u' });
    expect(a.settings.masqueradeAddress).toEqual(b.settings.masqueradeAddress);
    expect(a.settings.passivePorts).toEqual(b.settings.passivePorts);
    for (const verb of ['PASV', 'EPSV', 'PORT']) {
      expect(checkLimit(a, verb, { address: remoteAddress }).allowed).toBe(checkLimit(b, verb, { address: remoteAddress }).allowed);
    }
    expect(checkLimit(a, 'PASV', { address: remoteAddress }).allowed).toBe(remoteAddress.startsWith('10.'));
  });
  it('mistakes throw ERR_CONFIG_INVALID listing every problem', () => {
    let err: unknown;
    try {
      defineConfig({
        classes: [{ name: 'bad', from: '10.0.0.0/99' }],
        server: { settings: { passivePorts: { min: 70000, max: 1 } }, limits: [{ commands: 'PASVV', allow: 'from 10.0.0.0/40' }], layers: [{ ifClass: 'a', ifUser: 'b' }] },
      });
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'ERR_CONFIG_INVALID' });
    expect((err as { problems: string[] }).problems).toEqual([
      "<Class bad>: bad ACL definition '10.0.0.0/99': prefix length must be 0-32 for IPv4",
      'server: PassivePorts 70000 1: min port must be allowable port number (PassivePorts needs two ports 1024–65535, min below max (e.g. PassivePorts 60000 60100))',
      "server limits[0]: unknown command or group 'PASVV'",
      "server limits[0]: bad ACL definition '10.0.0.0/40': prefix length must be 0-32 for IPv4",
      'server layers[0]: give exactly one of ifClass, ifUser, ifGroup, ifAuthenticated',
    ]);
  });
});
