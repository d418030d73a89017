import net from 'node:net';
import { PortAllocator } from '@ftpkit/port-allocator';
import { describe, expect, it } from 'vitest';
import { startServer } from './ftp.js';
import { HOST, eventually, freeRange, openFds, tempDirs, watchedHandles } from './helpers.js';

const tmp = tempDirs();

/** How many sessions; FTPKIT_LEAK_SESSIONS overrides (the default is the acceptance figure). */
const SESSIONS = Number(process.env.FTPKIT_LEAK_SESSIONS ?? 10_000);
const CONCURRENCY = 64;

type Ending = 'quit' | 'reset' | 'data' | 'idle-close';

/**
 * One session: login, PASV, then one of: QUIT; a reset of the control connection with
 * the listener still open; a data connection to the passive port and a LIST; or a plain
 * close without QUIT.
 */
function session(port: number, ending: Ending): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, HOST);
    let buf = '';
    let step = 0;
    let data: net.Socket | undefined;
    const finish = (r: string): void => {
      data?.destroy();
      s.destroy();
      resolve(r);
    };
    s.on('error', () => undefined);
    s.on('close', () => resolve(`closed at step ${step}`));
    s.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      const lines = buf.split('\r\n');
      buf = lines.pop() ?? '';
      for (const line of lines) {
        if (!/^\d{3} /.test(line)) continue;
        step++;
        if (step === 1) s.write('USER anonymous\r\nPASS guest@\r\nPASV\r\n');
        else if (step === 4) {
          const m = /\((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)/.exec(line);
          if (m === null) return finish(`PASV failed: ${line}`);
          if (ending === 'quit') s.write('QUIT\r\n');
          else if (ending === 'reset') return finish('ok');
          else if (ending === 'idle-close') {
            s.end();
            return resolve('ok');
          } else {
            data = net.connect(Number(m[5]) * 256 + Number(m[6]), HOST);
            data.on('error', reject);
            data.resume();
            data.on('end', () => s.write('QUIT\r\n'));
            s.write('LIST\r\n');
          }
        } else if (line.startsWith('221')) return finish('ok');
      }
    });
  });
}

describe('no leak after many sessions', () => {
  it(`${SESSIONS} sessions with PASV leave no socket, descriptor or lease behind`, { timeout: 120_000 }, async () => {
    const before = watchedHandles();
    const fdsBefore = openFds();
    const ports = new PortAllocator({ ranges: [await freeRange(128)], random: Math.random, cooldownMs: 0 });
    const f = await startServer(tmp(), { passivePorts: ports, dataChannels: { lingerMs: 1000 } });
    const endings: Ending[] = ['quit', 'reset', 'data', 'idle-close'];
    const results = new Map<string, number>();
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < SESSIONS) {
        const i = next++;
        const r = await session(f.port, endings[i % endings.length] as Ending);
        results.set(r, (results.get(r) ?? 0) + 1);
      }
    };
    const started = Date.now();
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const elapsed = Date.now() - started;
    expect(Object.fromEntries(results)).toEqual({ ok: SESSIONS });
    await eventually(() => f.server.sessions === 0, 5000, 'every session closed');
    await eventually(() => ports.stats(Date.now()).inUse === 0, 5000, 'every lease returned');
    expect(ports.stats(Date.now())).toMatchObject({ inUse: 0, exhaustions: 0, fallbacks: 0 });
    await f.server.close();
    await eventually(() => JSON.stringify(watchedHandles()) === JSON.stringify(before), 5000, 'handles back to baseline').catch(() => undefined);
    expect(watchedHandles()).toEqual(before);
    expect(openFds()).toBe(fdsBefore);
    // Not an assertion, a figure for the report.
    console.log(`${SESSIONS} sessions in ${elapsed} ms (${Math.round((SESSIONS / elapsed) * 1000)}/s)`);
  });
});
