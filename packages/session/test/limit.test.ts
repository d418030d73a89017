import { describe, expect, it } from 'vitest';
import type { LimitChecker, LimitContext } from '../src/index.js';
import { Harness } from './harness.js';

function denying(verbs: string[], seen?: { verb: string; ctx: LimitContext }[]): LimitChecker {
  return (verb, ctx) => {
    seen?.push({ verb, ctx });
    return verbs.includes(verb) ? 'deny' : 'allow';
  };
}

describe('<Limit> replies (reference §6.4)', () => {
  it('PASV/EPSV/PORT/EPRT: 501 <CMD>: Operation not permitted (EPSV ALL too)', async () => {
    const h = new Harness({ config: { limit: denying(['PASV', 'EPSV', 'PORT', 'EPRT']) } });
    await h.login();
    await h.transcript(`
      C: PASV
      S: 501 PASV: Operation not permitted
      C: EPSV
      S: 501 EPSV: Operation not permitted
      C: EPSV ALL
      S: 501 EPSV: Operation not permitted
      C: PORT 127,0,0,1,234,96
      S: 501 PORT: Operation not permitted
      C: EPRT |1|127.0.0.1|60000|
      S: 501 EPRT: Operation not permitted
    `);
    expect(h.data.listenRequests).toHaveLength(0);
    expect(h.eventsOf('denied').map((e) => e.message)).toEqual([
      'PASV denied by <Limit> configuration',
      'EPSV denied by <Limit> configuration',
      'EPSV denied by <Limit> configuration',
      'PORT denied by <Limit> configuration',
      'EPRT denied by <Limit> configuration',
    ]);
  });

  it('PWD: 550 PWD: Permission denied; RETR: 550 <arg>: Operation not permitted; NOOP: 550 Operation not permitted', async () => {
    const h = new Harness({ config: { limit: denying(['PWD', 'RETR', 'NOOP', 'CWD', 'MKD', 'DELE']) } });
    h.fs.addFile('/hello.txt', 'x');
    await h.login();
    await h.transcript(`
      C: PWD
      S: 550 PWD: Permission denied
      C: XPWD
      S: 550 PWD: Permission denied
      C: RETR hello.txt
      S: 550 hello.txt: Operation not permitted
      C: NOOP
      S: 550 Operation not permitted
      C: CWD /
      S: 550 /: Permission denied
      C: MKD d
      S: 550 d: Permission denied
      C: DELE hello.txt
      S: 550 hello.txt: Operation not permitted
      C: QUIT
      S: 221 Goodbye.
    `);
  });

  it('the checker gets the canonical verb, the group, the normalised path and the session facts', async () => {
    const seen: { verb: string; ctx: LimitContext }[] = [];
    const h = new Harness({ config: { limit: denying([], seen), classes: ['loop'] } });
    h.fs.addDir('/pub');
    h.fs.addFile('/pub/f', 'x');
    await h.login();
    await h.send('CWD pub');
    await h.send('XPWD');
    await h.send('SIZE ../pub/./f');
    await h.send('SITE CHMOD 644 f');
    const last = seen.map((s) => [s.verb, s.ctx.path, s.ctx.group]);
    expect(last).toEqual([
      ['LOGIN', '/', undefined],
      ['CWD', '/pub', 'DIRS'],
      ['PWD', '/pub', 'DIRS'],
      ['SIZE', '/pub/f', 'READ'],
      ['SITE_CHMOD', '/pub/f', expect.anything()],
    ]);
    expect(seen[1]?.ctx).toMatchObject({ user: 'ftptest', groups: ['ftptest'], class: 'loop', classes: ['loop'], remoteAddress: '127.0.0.1', anonymous: false });
  });

  it('FEAT omits what featHidden names (server-level <Limit EPSV> DenyAll)', async () => {
    const h = new Harness({ config: { featHidden: ['epsv', 'EPRT'] } });
    h.start();
    const feat = await h.send('FEAT');
    expect(feat).not.toContain(' EPSV');
    expect(feat).not.toContain(' EPRT');
    expect(feat).toContain(' MDTM');
  });

  it('HOST under <Limit HOST>: 504 <arg>: Permission denied', async () => {
    const h = new Harness({ config: { limit: denying(['HOST']) } });
    h.start();
    expect(await h.send('HOST 127.0.0.1')).toEqual(['504 127.0.0.1: Permission denied']);
  });
});
