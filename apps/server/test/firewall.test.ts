import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { FirewallPlanError, mergeRanges, renderIptables, renderNftables, type FirewallPlan } from '../src/firewall.js';

const router: FirewallPlan = {
  role: 'router',
  source: 'test.conf',
  targets: [
    { label: 'main server', controlPort: 21, passive: [{ min: 60000, max: 60100 }], publicAddress: '203.0.113.1', serverAddress: '192.168.50.10' },
    { label: '<VirtualHost 192.168.50.11>', controlPort: 2121, publicControlPort: 21021, passive: [{ min: 60050, max: 60200 }], publicAddress: '203.0.113.1', serverAddress: '192.168.50.11' },
  ],
};
const host: FirewallPlan = { role: 'host', source: 'flags', targets: [{ label: 'main server', controlPort: 2121, passive: [] }] };

function canNamespace(): boolean {
  if (process.getuid?.() !== 0) return false;
  try {
    execFileSync('unshare', ['-n', 'true'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const ns = canNamespace();
const needNs = ns || process.env['CI'] === 'true' ? it : it.skip;

describe('iptables', () => {
  it('DNATs the control port and the passive range, and accepts them in FORWARD', () => {
    const text = renderIptables(router);
    const rules = text.split('\n').filter((l) => l.startsWith('-'));
    expect(rules).toEqual([
      '-A PREROUTING -d 203.0.113.1/32 -p tcp -m tcp --dport 21 -j DNAT --to-destination 192.168.50.10:21',
      '-A PREROUTING -d 203.0.113.1/32 -p tcp -m tcp --dport 60000:60100 -j DNAT --to-destination 192.168.50.10',
      '-A PREROUTING -d 203.0.113.1/32 -p tcp -m tcp --dport 21021 -j DNAT --to-destination 192.168.50.11:2121',
      '-A PREROUTING -d 203.0.113.1/32 -p tcp -m tcp --dport 60050:60200 -j DNAT --to-destination 192.168.50.11',
      '-I FORWARD -d 192.168.50.10/32 -p tcp -m tcp --dport 21 -m conntrack --ctstate NEW -j ACCEPT',
      '-I FORWARD -d 192.168.50.10/32 -p tcp -m tcp --dport 60000:60100 -m conntrack --ctstate NEW -j ACCEPT',
      '-I FORWARD -d 192.168.50.11/32 -p tcp -m tcp --dport 2121 -m conntrack --ctstate NEW -j ACCEPT',
      '-I FORWARD -d 192.168.50.11/32 -p tcp -m tcp --dport 60050:60200 -m conntrack --ctstate NEW -j ACCEPT',
    ]);
    expect(text).toContain('*nat\n');
    expect(text.match(/^COMMIT$/gm)).toHaveLength(2);
  });

  it('opens the kernel range on a host without PassivePorts, and says so', () => {
    const text = renderIptables(host);
    expect(text).toContain('-I INPUT -p tcp -m tcp --dport 1024:65535 -m conntrack --ctstate NEW -j ACCEPT');
    expect(text).toContain('no PassivePorts');
  });

  it('refuses a router plan without addresses, naming the flag to use', () => {
    const bad: FirewallPlan = { role: 'router', source: 'x', targets: [{ label: 'main server', controlPort: 21, passive: [] }] };
    expect(() => renderIptables(bad)).toThrow(FirewallPlanError);
    expect(() => renderIptables(bad)).toThrow(/--public/);
    expect(() => renderIptables({ ...bad, targets: [{ ...router.targets[0]!, serverAddress: undefined as never }] })).toThrow(/--server/);
    expect(() => renderNftables({ ...bad, targets: [{ ...router.targets[0]!, publicAddress: 'ftp.example.com' }] })).toThrow(/IPv4/);
  });
});

describe('nftables', () => {
  it('replaces its own DNAT table and inserts accepts with merged port sets', () => {
    const text = renderNftables(router);
    expect(text).toContain('table ip ftpkit\ndelete table ip ftpkit\ntable ip ftpkit {');
    expect(text).toContain('\t\tip daddr 203.0.113.1 tcp dport 21 dnat to 192.168.50.10:21\n');
    expect(text).toContain('\t\tip daddr 203.0.113.1 tcp dport 60000-60100 dnat to 192.168.50.10\n');
    expect(text).toContain('\t\tip daddr 203.0.113.1 tcp dport 21021 dnat to 192.168.50.11:2121\n');
    expect(text).toContain('insert rule inet filter forward ip daddr 192.168.50.10 tcp dport { 21, 60000-60100 } ct state new accept');
  });

  it('merges overlapping ranges (nft refuses overlapping set elements)', () => {
    expect(mergeRanges([{ min: 60050, max: 60200 }, { min: 21, max: 21 }, { min: 60000, max: 60100 }, { min: 60201, max: 60300 }])).toEqual([
      { min: 21, max: 21 },
      { min: 60000, max: 60300 },
    ]);
    const text = renderNftables({ ...host, targets: [{ label: 'a', controlPort: 2121, passive: [{ min: 60000, max: 60100 }, { min: 60050, max: 60200 }] }] });
    expect(text).toContain('insert rule inet filter input tcp dport { 2121, 60000-60200 } ct state new accept');
  });
});

describe('the output loads as-is', () => {
  needNs('iptables-restore --noflush accepts it (in a private network namespace)', () => {
    for (const plan of [router, host]) {
      const out = execFileSync('unshare', ['-n', 'sh', '-c', 'iptables-restore --noflush && iptables-save'], { input: renderIptables(plan), encoding: 'utf8' });
      expect(out).toContain(plan.role === 'router' ? '--dport 60000:60100 -j DNAT' : '--dport 1024:65535');
    }
  });
  needNs('nft -f accepts it twice in a row (in a private network namespace)', () => {
    for (const plan of [router, host]) {
      const file = renderNftables(plan);
      const out = execFileSync('unshare', ['-n', 'sh', '-c', 'nft -f /dev/stdin <<"EOF"\n' + file + 'EOF\nnft -f /dev/stdin <<"EOF"\n' + file + 'EOF\nnft list ruleset'], { encoding: 'utf8' });
      expect(out).toMatch(plan.role === 'router' ? /dnat to 192\.168\.50\.10/ : /tcp dport \{ 1024-65535, 2121 \}|tcp dport 1024-65535/);
    }
  });
});
