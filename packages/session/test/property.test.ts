import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Harness, enc, settle } from './harness.js';

const word = fc.constantFrom('a', 'b', '..', '.', '/', 'dir', 'f.txt', '~', '*', '"q"', ' ', '\\');
const path = fc.array(word, { maxLength: 4 }).map((w) => w.join('/'));
const command = fc.oneof(
  fc.constantFrom('NOOP', 'PWD', 'XPWD', 'CDUP', 'SYST', 'FEAT', 'HELP', 'STAT', 'PASV', 'EPSV', 'EPSV 1', 'EPSV 3', 'EPSV ALL'),
  fc.constantFrom('TYPE A', 'TYPE I', 'TYPE X', 'MODE S', 'MODE Z', 'STRU F', 'OPTS UTF8 ON', 'OPTS MLST type;', 'SITE HELP', 'ALLO 1'),
  fc.constantFrom('PORT 127,0,0,1,234,96', 'PORT 1,2,3,4,0,21', 'PORT x', 'EPRT |1|127.0.0.1|60000|', 'EPRT |9|x|1|', 'REST 0', 'REST -4'),
  fc.constantFrom('BOGUS', 'smnt x', '', 'USER x', 'PASS y', 'HOST a.b', 'CLNT z'),
  path.map((p) => `CWD ${p}`),
  path.map((p) => `MKD ${p}`),
  path.map((p) => `RMD ${p}`),
  path.map((p) => `DELE ${p}`),
  path.map((p) => `SIZE ${p}`),
  path.map((p) => `MDTM ${p}`),
  path.map((p) => `MLST ${p}`),
  path.map((p) => `STAT ${p}`),
  path.map((p) => `RNFR ${p}`),
  path.map((p) => `RNTO ${p}`),
  path.map((p) => `SITE CHMOD 644 ${p}`),
  fc.string({ maxLength: 12 }).filter((s) => !/[\r\n]/.test(s) && !/^\s*(QUIT|REIN|ABOR)/i.test(s)),
);

/** Final reply lines (`ddd text`), in order. */
function finals(lines: string[]): string[] {
  return lines.filter((l) => /^\d{3} /.test(l));
}

async function run(commands: string[], cuts: number[]): Promise<string[]> {
  const h = new Harness();
  h.fs.addDir('/dir');
  h.fs.addFile('/f.txt', 'x');
  await h.login();
  const bytes = enc.encode(commands.map((c) => `${c}\r\n`).join(''));
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  let prev = 0;
  for (const p of [...points, bytes.length]) {
    h.raw(bytes.subarray(prev, p));
    prev = p;
    await settle(1);
  }
  await settle(5);
  expect(h.control.closed).toBe(false);
  return h.control.take();
}

describe('session properties', () => {
  it('every command gets exactly one final reply, in order, however the bytes are split', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 12 }), fc.array(fc.nat(), { maxLength: 6 }), async (commands, cuts) => {
        const whole = await run(commands, []);
        expect(finals(whole)).toHaveLength(commands.length);
        const split = await run(commands, cuts);
        expect(split).toEqual(whole);
      }),
      { numRuns: 60 },
    );
  });
});
