/**
 * Socket-level fuzzing of a live `ftpkit serve`: batches of concurrent connections send
 * random bytes, protocol token streams and mutated real sessions (logged in or not), cut
 * into random chunks. After every batch a well-formed client must still log in, list and
 * download a known file correctly; at the end the server is alive, logged no internal
 * error, and holds no more descriptors than before.
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { FtpClient, closeAll, connectSocket, list, retr, sleep } from '../lib/ftp.js';
import { COMMAND_LINES, concat, hostileStream, split, utf8 } from '../lib/bytes.js';
import { announce, checkAsync } from '../lib/fuzz.js';
import { PASSWORD, USER, describeSockets, settleFds, startServer, stopAll, type Served } from '../lib/server.js';

announce('live.fuzz');

let srv: Served;
let sink: net.Server;
let sinkPort: number;
const known = Buffer.from(Array.from({ length: 100_000 }, (_, i) => (i * 31) & 255));
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  srv = await startServer({ directives: ['HiddenStores on', 'MaxInstances 1000'] });
  writeFileSync(join(srv.root, 'known.bin'), known);
  // Active-mode commands in the corpus point here, never at someone else's port.
  sink = net.createServer((s) => s.resume().on('error', () => undefined));
  await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
  sinkPort = (sink.address() as net.AddressInfo).port;
});
afterAll(async () => {
  closeAll();
  sink.close();
  await stopAll();
});

/** Writes `chunks` one per tick, then reads until 30 ms of silence or the close (at most 1.5 s). */
async function hostile(body: Uint8Array, sizes: number[], login: boolean): Promise<void> {
  const s = await connectSocket(srv.port);
  let last = Date.now();
  let closed = false;
  s.on('data', () => (last = Date.now()));
  s.once('close', () => (closed = true));
  const prefix = login ? utf8(`USER ${USER}\r\nPASS ${PASSWORD}\r\n`) : new Uint8Array(0);
  for (const chunk of split(concat([prefix, body]), sizes)) {
    if (closed) break;
    s.write(chunk);
    await new Promise((r) => setImmediate(r));
  }
  const deadline = Date.now() + 1500;
  while (!closed && Date.now() < deadline && Date.now() - last < 30) await sleep(10);
  s.destroy();
}

/** A well-formed client: login, PWD, LIST, RETR known.bin, QUIT. */
async function wellFormed(): Promise<void> {
  const c = await FtpClient.connect(srv.port);
  expect((await c.login(USER, PASSWORD)).code).toBe(230);
  expect((await c.cmd('TYPE I')).code).toBe(200);
  expect((await c.cmd('PWD')).text).toMatch(/^"\/"/);
  const l = await list(c, 'NLST');
  expect(l.text).toContain('known.bin');
  const got = await retr(c, 'known.bin');
  expect(got.final?.code).toBe(226);
  expect(sha(got.data)).toBe(sha(known));
  await c.quit();
}

describe('live server under fuzzed command streams', () => {
  test('stays up, answers the next well-formed client correctly, leaks nothing', async () => {
    const baseline = srv.fds();
    const corpusLines = COMMAND_LINES.map((l) => l.replace('234,96', `${sinkPort >> 8},${sinkPort & 255}`).replace('60123', String(sinkPort)));
    const session = fc.record({
      login: fc.boolean(),
      body: fc.oneof(hostileStream(24), fc.array(fc.constantFrom(...corpusLines), { maxLength: 16 }).map((a) => utf8(a.map((l) => `${l}\r\n`).join('')))),
      sizes: fc.array(fc.integer({ min: 1, max: 512 }), { maxLength: 8 }),
    });
    await checkAsync('live: hostile sessions', 0.012, [fc.array(session, { minLength: 4, maxLength: 4 })], async (batch) => {
      await Promise.all(batch.map((x) => hostile(x.body, x.sizes, x.login)));
      expect(srv.alive(), srv.stderr.join('')).toBe(true);
      await wellFormed();
    });
    expect(srv.grep(/internal error|uncaught|unhandled/i)).toEqual([]);
    expect(srv.logs.filter((l) => l.level >= 50).map((l) => l.msg)).toEqual([]);
    expect(await settleFds(srv, baseline, 15_000), describeSockets(srv)).toBeLessThanOrEqual(baseline);
  });
});
