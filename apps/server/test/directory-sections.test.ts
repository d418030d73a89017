/**
 * `<Directory>` sections end to end: `ftpkit serve --config` with ProFTPD's upload-only
 * anonymous directory (Debian's anonymous.conf sample) and with per-user directories
 * under `DefaultRoot ~`, checked with raw dialogues and curl.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { cleanup, dataConnection, freePort, RawFtp, runCli, serve, tempDir } from './helpers.js';

afterEach(cleanup);
afterAll(cleanup);

type Reply = { code: number; text: string };

/** STOR over a passive data connection: the replies (150 + final, or the refusal). */
async function stor(raw: RawFtp, name: string, body: string): Promise<Reply[]> {
  const p = await raw.pasv();
  const d = dataConnection(p.port);
  const r = await raw.cmd(`STOR ${name}`);
  if (r.code !== 150) {
    d.socket.destroy();
    return [r];
  }
  d.socket.end(body);
  return [r, await raw.read()];
}

/** RETR over a passive data connection: the replies and the bytes. */
async function retr(raw: RawFtp, name: string): Promise<{ replies: Reply[]; data: string }> {
  const p = await raw.pasv();
  const d = dataConnection(p.port);
  const r = await raw.cmd(`RETR ${name}`);
  if (r.code !== 150) {
    d.socket.destroy();
    return { replies: [r], data: '' };
  }
  const data = (await d.done).toString();
  return { replies: [r, await raw.read()], data };
}

const hasCurl = ((): boolean => {
  try {
    execFileSync('curl', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const withCurl = hasCurl || process.env['CI'] === 'true' ? it : it.skip;

function curl(args: string[]): { code: number; out: string } {
  try {
    return { code: 0, out: execFileSync('curl', ['-s', '-S', '--max-time', '10', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }) };
  } catch (e) {
    const err = e as { status: number; stdout: string; stderr: string };
    return { code: err.status, out: `${err.stdout}${err.stderr}` };
  }
}

/** Debian's anonymous.conf (first section), on loopback, rooted in a temporary directory. */
function uploadOnlyConf(dir: string, root: string, port: number): string {
  const conf = join(dir, 'anonymous.conf');
  writeFileSync(
    conf,
    `ServerName "ProFTPD Anonymous Server"
ServerType standalone
Port ${port}
DefaultAddress 127.0.0.1
SocketBindTight on
TimeoutStalled 300

<Anonymous ${root}>
  <Limit LOGIN>
    AllowAll
  </Limit>
  MaxClients 5 "Sorry, max %m users -- try again later"
  User ftp
  Group ftp
  UserAlias anonymous ftp

  # Limit WRITE everywhere in the anonymous chroot
  <Limit WRITE>
    DenyAll
  </Limit>

  # An upload directory that allows storing files but not retrieving
  # or creating directories.
  <Directory uploads/*>
    <Limit READ>
      DenyAll
    </Limit>

    <Limit STOR>
      AllowAll
    </Limit>
  </Directory>
</Anonymous>
`,
  );
  return conf;
}

describe('<Directory> inside <Anonymous>: the upload-only directory of anonymous.conf', () => {
  it('STOR into uploads works, RETR there is 550 Operation not permitted, writes elsewhere are refused', async () => {
    const dir = tempDir();
    const root = join(dir, 'ftp');
    mkdirSync(join(root, 'uploads'), { recursive: true });
    mkdirSync(join(root, 'pub'));
    writeFileSync(join(root, 'pub', 'hello.txt'), 'hello\n');
    const port = await freePort();
    const conf = uploadOnlyConf(dir, root, port);

    const check = await runCli(['check', '--config', conf, '--no-scan']);
    expect(check.stdout).toContain('Syntax OK');
    expect(check.stdout).toContain(`<Directory uploads/*> (${conf}:24): ${root}/uploads/* (what is inside the directory, not the directory itself): <Limit STOR> AllowAll, <Limit READ> DenyAll`);
    expect(check.code).toBe(0);

    const s = await serve(['--config', conf]);
    const raw = await RawFtp.connect(port);
    expect((await raw.read()).code).toBe(220);
    expect((await raw.login('anonymous', 'guest@example.com')).code).toBe(230);
    expect((await raw.cmd('TYPE I')).code).toBe(200);

    const up = await stor(raw, 'uploads/up.txt', 'uploaded\n');
    expect(up.map((r) => r.code)).toEqual([150, 226]);
    expect(readFileSync(join(root, 'uploads', 'up.txt'), 'utf8')).toBe('uploaded\n');
    // The same upload by absolute path and from inside the directory.
    expect((await stor(raw, '/uploads/abs.txt', 'a')).map((r) => r.code)).toEqual([150, 226]);

    // <Limit READ> DenyAll inside the directory: ProFTPD's reply text.
    expect((await retr(raw, 'uploads/up.txt')).replies).toEqual([{ code: 550, text: 'uploads/up.txt: Operation not permitted' }]);
    expect(await raw.cmd('SIZE uploads/up.txt')).toEqual({ code: 550, text: 'uploads/up.txt: Operation not permitted' });
    // Not STOR: the anonymous <Limit WRITE> DenyAll decides (ProFTPD's MKD says EACCES).
    expect(await raw.cmd('MKD uploads/sub')).toEqual({ code: 550, text: 'uploads/sub: Permission denied' });
    expect(await raw.cmd('DELE uploads/up.txt')).toEqual({ code: 550, text: 'uploads/up.txt: Operation not permitted' });
    expect(existsSync(join(root, 'uploads', 'up.txt'))).toBe(true);
    // STOR elsewhere: denied by <Limit WRITE> DenyAll.
    expect(await stor(raw, 'top.txt', 'no')).toEqual([{ code: 550, text: 'top.txt: Operation not permitted' }]);
    expect(await stor(raw, 'pub/x.txt', 'no')).toEqual([{ code: 550, text: 'pub/x.txt: Operation not permitted' }]);
    expect(existsSync(join(root, 'top.txt'))).toBe(false);
    // Reading elsewhere works; `uploads/*` does not cover the directory itself.
    const hello = await retr(raw, 'pub/hello.txt');
    expect(hello.replies.map((r) => r.code)).toEqual([150, 226]);
    expect(hello.data).toBe('hello\n');
    expect((await raw.cmd('CWD uploads')).code).toBe(250);
    expect((await stor(raw, 'here.txt', 'h')).map((r) => r.code)).toEqual([150, 226]);
    expect(await retr(raw, 'here.txt')).toEqual({ replies: [{ code: 550, text: 'here.txt: Operation not permitted' }], data: '' });
    expect((await raw.cmd('CWD ..')).code).toBe(250);
    expect(await stor(raw, 'top.txt', 'no')).toEqual([{ code: 550, text: 'top.txt: Operation not permitted' }]);
    raw.close();
    await s.stop();
  });

  withCurl('with curl: uploads go in, downloads from uploads fail with 550, uploads elsewhere fail', async () => {
    const dir = tempDir();
    const root = join(dir, 'ftp');
    mkdirSync(join(root, 'uploads'), { recursive: true });
    writeFileSync(join(root, 'readme.txt'), 'read me\n');
    const local = join(dir, 'local.txt');
    writeFileSync(local, 'from curl\n');
    const port = await freePort();
    const s = await serve(['--config', uploadOnlyConf(dir, root, port)]);
    const url = `ftp://127.0.0.1:${port}`;

    expect(curl(['-T', local, `${url}/uploads/`]).code).toBe(0);
    expect(readFileSync(join(root, 'uploads', 'local.txt'), 'utf8')).toBe('from curl\n');
    const down = curl([`${url}/uploads/local.txt`]);
    expect(down.code).toBe(78); // CURLE_REMOTE_FILE_NOT_FOUND: curl's code for a 550 to RETR
    expect(down.out).not.toContain('from curl');
    const elsewhere = curl(['-T', local, `${url}/`]);
    expect(elsewhere.code).not.toBe(0);
    expect(elsewhere.out).toMatch(/550/);
    expect(existsSync(join(root, 'local.txt'))).toBe(false);
    expect(curl([`${url}/readme.txt`])).toEqual({ code: 0, out: 'read me\n' });
    await s.stop();
  });
});

describe('<Directory> for real users under DefaultRoot ~', () => {
  it('~/ paths and absolute paths match each login inside its own root', async () => {
    const dir = tempDir();
    const homes = { alice: join(dir, 'home', 'alice'), bob: join(dir, 'home', 'bob') };
    for (const home of Object.values(homes)) {
      mkdirSync(join(home, 'incoming'), { recursive: true });
      mkdirSync(join(home, 'ro'));
      writeFileSync(join(home, 'incoming', 'drop.txt'), 'dropped\n');
      writeFileSync(join(home, 'ro', 'keep.txt'), 'keep\n');
      writeFileSync(join(home, 'hello.txt'), 'hello\n');
    }
    const hash = execFileSync('openssl', ['passwd', '-6', 'dir-Secret'], { encoding: 'utf8' }).trim();
    writeFileSync(join(dir, 'ftpd.passwd'), `alice:${hash}:1000:1000::${homes.alice}:/bin/sh\nbob:${hash}:1001:1001::${homes.bob}:/bin/sh\n`);
    const port = await freePort();
    const conf = join(dir, 'proftpd.conf');
    writeFileSync(
      conf,
      `Port ${port}
DefaultAddress 127.0.0.1
SocketBindTight on
AuthUserFile ${join(dir, 'ftpd.passwd')}
RequireValidShell off
AllowOverwrite on
DefaultRoot ~
<Directory ~/incoming>
  <Limit READ>
    DenyAll
  </Limit>
</Directory>
<Directory ${homes.alice}/ro>
  <Limit WRITE>
    DenyAll
  </Limit>
</Directory>
`,
    );
    const s = await serve(['--config', conf]);

    const alice = await RawFtp.connect(port);
    await alice.read();
    expect((await alice.login('alice', 'dir-Secret')).code).toBe(230);
    expect((await alice.cmd('PWD')).text).toMatch(/^"\/" /);
    expect((await alice.cmd('TYPE I')).code).toBe(200);
    expect((await retr(alice, 'incoming/drop.txt')).replies).toEqual([{ code: 550, text: 'incoming/drop.txt: Operation not permitted' }]);
    expect((await stor(alice, 'incoming/new.txt', 'n')).map((r) => r.code)).toEqual([150, 226]);
    expect(await stor(alice, 'ro/keep.txt', 'x')).toEqual([{ code: 550, text: 'ro/keep.txt: Operation not permitted' }]);
    expect(await alice.cmd('DELE /ro/keep.txt')).toEqual({ code: 550, text: '/ro/keep.txt: Operation not permitted' });
    expect(readFileSync(join(homes.alice, 'ro', 'keep.txt'), 'utf8')).toBe('keep\n');
    expect((await retr(alice, 'ro/keep.txt')).data).toBe('keep\n');
    // RNFR is WRITE (as in ProFTPD 1.3.8); RNTO is checked on the target.
    expect(await alice.cmd('RNFR ro/keep.txt')).toEqual({ code: 550, text: 'ro/keep.txt: Operation not permitted' });
    expect((await alice.cmd('RNFR hello.txt')).code).toBe(350);
    expect(await alice.cmd('RNTO ro/h2.txt')).toEqual({ code: 550, text: 'ro/h2.txt: Operation not permitted' });
    expect(await alice.cmd('MKD ro')).toEqual({ code: 550, text: 'ro: Permission denied' });
    expect((await alice.cmd('CWD incoming')).code).toBe(250);
    expect(await alice.cmd('SIZE drop.txt')).toEqual({ code: 550, text: 'drop.txt: Operation not permitted' });
    expect((await alice.cmd('CWD /')).code).toBe(250);
    expect((await retr(alice, 'hello.txt')).data).toBe('hello\n');

    // bob: ~/incoming is his own; alice's absolute <Directory> is not inside his root.
    const bob = await RawFtp.connect(port);
    await bob.read();
    expect((await bob.login('bob', 'dir-Secret')).code).toBe(230);
    expect((await bob.cmd('TYPE I')).code).toBe(200);
    expect((await retr(bob, 'incoming/drop.txt')).replies).toEqual([{ code: 550, text: 'incoming/drop.txt: Operation not permitted' }]);
    expect((await stor(bob, 'ro/keep.txt', 'bob was here\n')).map((r) => r.code)).toEqual([150, 226]);
    expect(readFileSync(join(homes.bob, 'ro', 'keep.txt'), 'utf8')).toBe('bob was here\n');
    // alice's session still has her own paths.
    expect(await stor(alice, 'ro/keep.txt', 'x')).toEqual([{ code: 550, text: 'ro/keep.txt: Operation not permitted' }]);
    alice.close();
    bob.close();
    await s.stop();
  });
});
