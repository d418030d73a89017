import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// These scenarios need a second local address and port 25, so they run in a private
// network namespace (unshare -rn) against the built module.
const script = fileURLToPath(new URL('./netns-scenarios.mjs', import.meta.url));
const dist = fileURLToPath(new URL('../../dist/node/index.js', import.meta.url));
const usable = spawnSync('unshare', ['-rn', 'ip', 'link', 'set', 'lo', 'up']).status === 0;

describe('in a private network namespace', () => {
  it.skipIf(process.env.CI !== 'true' && (!usable || !existsSync(dist)))(
    'a stranger first on the passive port is rejected and the client gets its data; PORT/EPRT to a foreign address or port 25 never connect; IPv6 listeners',
    () => {
      const r = spawnSync('unshare', ['-rn', 'sh', '-c', 'ip link set lo up && exec "$0" "$1"', process.execPath, script], {
        encoding: 'utf8',
        timeout: 20_000,
      });
      expect(r.stderr).toBe('');
      const out = JSON.parse(r.stdout) as Record<string, unknown>;
      expect(out).toMatchObject({
        login: expect.stringMatching(/^230 /),
        retr: expect.stringMatching(/^150 /),
        done: '226 Transfer complete',
        bytesOk: true,
        strangerClosed: true,
        portForeign: expect.stringMatching(/^500 /),
        eprtForeign: expect.stringMatching(/^500 /),
        port25: expect.stringMatching(/^5\d\d /),
        eprt25: expect.stringMatching(/^5\d\d /),
        listAfter: expect.stringMatching(/^425 /),
        foreignConnections: 0,
        smtpConnections: 0,
        quit: expect.stringMatching(/^221 /),
        dual: ['IPv4', 'IPv6'],
        v6: { pasv: true, remote: '::1', bytesOk: true },
      });
      expect(out.events).toContain('passive-rejected');
      expect(out.events).toContain('port-refused');
    },
  );
});
