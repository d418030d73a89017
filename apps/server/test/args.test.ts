import { describe, expect, it } from 'vitest';
import { UsageError, parseCli } from '../src/args.js';

const usage = (argv: string[]): UsageError => {
  try {
    parseCli(argv);
  } catch (e) {
    if (e instanceof UsageError) return e;
    throw e;
  }
  throw new Error(`no usage error for ${argv.join(' ')}`);
};

describe('ftpkit argument parsing', () => {
  it('serve with no arguments is the embedded default', () => {
    expect(parseCli(['serve'])).toEqual({
      command: 'serve',
      defines: [],
      lenient: false,
      flags: { users: [], anonymous: false, allowForeignAddress: false },
      scale: { share: false, expose: [] },
      logLevel: 'info',
      drainTimeoutMs: 30_000,
    });
  });

  it('reads every server flag', () => {
    const a = parseCli([
      'serve', '--root', '/srv/ftp', '--listen', '0.0.0.0', '--port', '21', '--masquerade', 'ftp.example.com',
      '--passive-ports', '60000-60100', '--user', 'bob:s3:cret', '--user', 'amy:pw', '--anonymous',
      '--allow-foreign-address', '--exhaustion', 'refuse', '-D', 'TLS', '--define', 'X', '--lenient',
      '--log-format', 'json', '--log-level', 'debug', '--drain-timeout', '2.5',
    ]);
    expect(a).toMatchObject({
      command: 'serve',
      defines: ['TLS', 'X'],
      lenient: true,
      logFormat: 'json',
      logLevel: 'debug',
      drainTimeoutMs: 2500,
      flags: {
        root: '/srv/ftp', listen: '0.0.0.0', port: 21, masquerade: 'ftp.example.com', passivePorts: '60000-60100',
        users: ['bob:s3:cret', 'amy:pw'], anonymous: true, allowForeignAddress: true, exhaustion: 'refuse',
      },
    });
  });

  it('reads the scale-out flags, with --config too', () => {
    expect(
      parseCli([
        'serve', '-c', 'x.conf', '--workers', '4', '--passive-partition', '2/3', '--passive-share',
        '--passive-expose', '30000-30099:60000-60099', '--passive-expose', '31000:61000',
      ]),
    ).toMatchObject({
      config: 'x.conf',
      scale: {
        workers: 4,
        partition: { index: 1, count: 3 },
        share: true,
        expose: [
          { from: { min: 60000, max: 60099 }, to: { min: 30000, max: 30099 } },
          { from: { min: 61000, max: 61000 }, to: { min: 31000, max: 31000 } },
        ],
      },
    });
    expect(usage(['serve', '--workers', '0']).message).toMatch(/from 1 to 256/);
    expect(usage(['serve', '--passive-partition', '3/2']).message).toMatch(/1 <= i <= n/);
    expect(usage(['serve', '--passive-partition', '0/2']).message).toMatch(/1 <= i <= n/);
    expect(usage(['serve', '--passive-expose', '30000-30099']).message).toMatch(/advertised:listened/);
    expect(usage(['serve', '--passive-expose', '30000-30009:60000-60099']).message).toMatch(/differ in size/);
    expect(usage(['check', '--workers', '2']).usage).toMatch(/^Usage: ftpkit check/);
  });

  it('rejects bad values with the usage of the subcommand', () => {
    expect(usage(['serve', '--port', '70000']).message).toMatch(/--port/);
    expect(usage(['serve', '--passive-ports', '80-90']).message).toMatch(/1024/);
    expect(usage(['serve', '--passive-ports', '60100-60000']).message).toMatch(/min-max/);
    expect(usage(['serve', '--user', 'bob']).message).toMatch(/name:password/);
    expect(usage(['serve', '--exhaustion', 'maybe']).message).toMatch(/refuse or kernel/);
    expect(usage(['serve', '--bogus']).usage).toMatch(/^Usage: ftpkit serve/);
    expect(usage(['frobnicate']).message).toBe("unknown command 'frobnicate'");
  });

  it('refuses directive flags together with --config, but takes --exhaustion', () => {
    expect(usage(['serve', '--config', 'x.conf', '--port', '21']).message).toMatch(/cannot be combined with --config/);
    expect(parseCli(['serve', '-c', 'x.conf', '--exhaustion', 'refuse', '--passive-per-client', '4'])).toMatchObject({
      config: 'x.conf',
      flags: { exhaustion: 'refuse', passivePerClient: 4 },
    });
    expect(usage(['serve', '--passive-per-client', 'many']).message).toMatch(/--passive-per-client/);
  });

  it('probe needs a URL and checks its options', () => {
    expect(parseCli(['probe', 'ftp://h:21', '--expect-ports', '60000-60100', '--timeout', '1500', '--json'])).toMatchObject({
      command: 'probe', url: 'ftp://h:21', expectPorts: '60000-60100', timeoutMs: 1500, json: true, pasv: true, epsv: true, list: true,
    });
    expect(usage(['probe']).message).toMatch(/URL/);
    expect(usage(['probe', 'ftp://h', '--timeout', 'soon']).message).toMatch(/--timeout/);
    expect(usage(['probe', 'ftp://h', '--no-pasv', '--no-epsv']).message).toMatch(/nothing to probe/);
  });

  it('firewall needs a format', () => {
    expect(usage(['firewall']).message).toMatch(/--format/);
    expect(parseCli(['firewall', '--format', 'nftables', '--public', '203.0.113.1', '--server', '192.168.1.2', '--role', 'router'])).toMatchObject({
      command: 'firewall', format: 'nftables', publicAddress: '203.0.113.1', serverAddress: '192.168.1.2', role: 'router',
    });
  });

  it('help and version', () => {
    expect(parseCli([])).toEqual({ command: 'help' });
    expect(parseCli(['serve', '--help'])).toEqual({ command: 'help', topic: 'serve' });
    expect(parseCli(['--version'])).toEqual({ command: 'version' });
  });
});
