/**
 * `ftpkit check`, `firewall` and `help`/`version` through the built CLI: output and exit
 * codes on good and bad configurations.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, freeRange, runCli, tempDir } from './helpers.js';

afterAll(cleanup);

const dir = tempDir();
const write = (name: string, text: string): string => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

describe('ftpkit (no command), help, version', () => {
  it('prints usage, version, and exits 2 on an unknown command', async () => {
    const help = await runCli([]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: ftpkit <command>');
    const version = await runCli(['--version']);
    expect(version.stdout).toMatch(/^ftpkit \d+\.\d+\.\d+/);
    const bad = await runCli(['nope']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("unknown command 'nope'");
    const badFlag = await runCli(['serve', '--port', 'x']);
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toContain('Usage: ftpkit serve');
  });
});

describe('ftpkit check', () => {
  it('accepts a NAT guide configuration: Syntax OK, resolution and a clean scan, exit 0', async () => {
    const range = await freeRange(8);
    const conf = write('good.conf', `ServerName "NAT"
DefaultAddress 127.0.0.1
SocketBindTight on
Port 2121
MasqueradeAddress 203.0.113.7
PassivePorts ${range.min} ${range.max}
MaxClients 5
`);
    const r = await runCli(['check', '--config', conf]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`Checking syntax of configuration file ${conf}\nSyntax OK`);
    expect(r.stdout).toContain('MasqueradeAddress 203.0.113.7 -> 203.0.113.7, public');
    expect(r.stdout).toContain(`PassivePorts ${range.min}-${range.max} (8 ports): all free on 127.0.0.1`);
  });

  it('lists the ports other processes hold and fails with --strict', async () => {
    const range = await freeRange(6);
    const holder: Server = createServer();
    await new Promise<void>((res) => holder.listen(range.min + 2, '127.0.0.1', res));
    try {
      const conf = write('taken.conf', `DefaultAddress 127.0.0.1\nSocketBindTight on\nPassivePorts ${range.min} ${range.max}\nMaxClients 10\n`);
      const r = await runCli(['check', '-c', conf, '--json']);
      expect(r.code).toBe(0);
      const report = JSON.parse(r.stdout) as { ranges: { taken: number[] }[]; findings: { severity: string; message: string }[] };
      expect(report.ranges[0]?.taken).toEqual([range.min + 2]);
      expect(report.findings.some((f) => f.severity === 'warning' && f.message.includes('MaxClients is 10'))).toBe(true);
      const strict = await runCli(['check', '-c', conf, '--strict']);
      expect(strict.code).toBe(1);
      expect(strict.stdout).toContain(`1 of 6 ports are already in use on 127.0.0.1 by other processes: ${range.min + 2}`);
    } finally {
      await new Promise((res) => holder.close(res));
    }
  });

  it('warns about a MasqueradeAddress that is a LAN address', async () => {
    const conf = write('lan.conf', 'MasqueradeAddress 192.168.1.5\nPassivePorts 60000 60100\n');
    const r = await runCli(['check', '-c', conf, '--no-scan']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/WARNING MasqueradeAddress 192\.168\.1\.5 is private \(RFC 1918\)/);
  });

  it('rejects a bad configuration with file:line errors, exit 1', async () => {
    const conf = write('bad.conf', 'ServerName "x"\nPassivePorts 60000 60000\nMasqueradeAdress 1.2.3.4\n');
    const r = await runCli(['check', '--config', conf]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${conf}:2:`);
    expect(r.stderr).toContain(`${conf}:3:`);
    expect(r.stderr).toContain('Syntax error');
    const missing = await runCli(['check', '--config', join(dir, 'nope.conf')]);
    expect(missing.code).toBe(1);
  });

  it('FTPS: an unreadable certificate is an error', async () => {
    const conf = write('tls.conf', `TLSEngine on\nTLSRSACertificateFile ${join(dir, 'missing.pem')}\nTLSRSACertificateKeyFile ${join(dir, 'missing.key')}\n`);
    const r = await runCli(['check', '-c', conf, '--no-scan']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/ERROR +TLSRSACertificateFile .*missing\.pem: ENOENT/);
  });

  it('checks the embedded default too (flags)', async () => {
    const r = await runCli(['check', '--no-scan', '--masquerade', '203.0.113.9', '--passive-ports', '60000-60009'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Checking syntax of configuration file command-line flags');
    expect(r.stdout).toContain('203.0.113.9');
  });

  it('honours -D defines and --lenient', async () => {
    const conf = write('def.conf', '<IfDefine NAT>\nMasqueradeAddress 203.0.113.8\n</IfDefine>\nExtendedLog /tmp/x.log\n');
    expect((await runCli(['check', '-c', conf, '--no-scan'])).code).toBe(1);
    const r = await runCli(['check', '-c', conf, '--no-scan', '--lenient', '-D', 'NAT']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('203.0.113.8');
  });
});

describe('ftpkit firewall', () => {
  const conf = write('fw.conf', 'Port 2121\nMasqueradeAddress 203.0.113.1\nPassivePorts 60000 60099\n');

  it('prints iptables-restore rules derived from the configuration', async () => {
    const r = await runCli(['firewall', '--config', conf, '--format', 'iptables', '--server', '192.168.50.10']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('-A PREROUTING -d 203.0.113.1/32 -p tcp -m tcp --dport 2121 -j DNAT --to-destination 192.168.50.10:2121');
    expect(r.stdout).toContain('-A PREROUTING -d 203.0.113.1/32 -p tcp -m tcp --dport 60000:60099 -j DNAT --to-destination 192.168.50.10');
    expect(r.stdout).toContain('-I FORWARD -d 192.168.50.10/32 -p tcp -m tcp --dport 60000:60099 -m conntrack --ctstate NEW -j ACCEPT');
  });

  it('prints nftables rules; host rules when the server address is unknown', async () => {
    const r = await runCli(['firewall', '-c', conf, '--format', 'nftables']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('insert rule inet filter input tcp dport { 2121, 60000-60099 } ct state new accept');
    expect(r.stdout).toContain('--server');
  });

  it('fails clearly when router rules cannot be derived, or the configuration is bad', async () => {
    const r = await runCli(['firewall', '-c', conf, '--format', 'iptables', '--role', 'router']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('pass --server <lan ip>');
    const bad = write('fwbad.conf', 'PassivePorts 1 2\n');
    const b = await runCli(['firewall', '-c', bad, '--format', 'iptables']);
    expect(b.code).toBe(1);
    expect(b.stderr).toContain(`${bad}:1:`);
  });

  const root = process.getuid?.() === 0;
  const canNs = root && (() => {
    try {
      execFileSync('unshare', ['-n', 'true'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();
  (canNs || process.env['CI'] === 'true' ? it : it.skip)('both outputs load as-is (iptables-restore --noflush, nft -f) in a private namespace', async () => {
    for (const format of ['iptables', 'nftables'] as const) {
      const r = await runCli(['firewall', '-c', conf, '--format', format, '--public', '203.0.113.1', '--server', '192.168.50.10']);
      const file = write(`rules.${format}`, r.stdout);
      const load = format === 'iptables' ? `iptables-restore --noflush < ${file} && iptables-save -t nat` : `nft -f ${file} && nft list ruleset`;
      const out = execFileSync('unshare', ['-n', 'sh', '-c', load], { encoding: 'utf8' });
      expect(out).toMatch(/192\.168\.50\.10/);
    }
  });
});
