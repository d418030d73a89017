/**
 * `<Directory>` sections end to end: `ftpkit serve --config` with ProFTPD's upload-only
 * anonymous directory (Debian's anonymous.conf sample), with per-user directories
 * under `DefaultRoot ~`, and with per-directory settings (a server-wide `AllowOverwrite
 * off` turned on in one directory, Umask, AllowStoreRestart, HiddenStores,
 * DeleteAbortedStores), checked with raw dialogues (ProFTPD 1.3.8's reply texts), the
 * modes of the files on disk, and curl.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { cleanup, cryptHash, dataConnection, freePort, RawFtp, runCli, serve, tempDir } from './helpers.js';

afterEach(cleanup);
afterAll(cleanup);

type Reply = { code: number; text: string };

/** STOR (or APPE) over a passive data connection: the replies (150 + final, or the refusal). */
async function upload(raw: RawFtp, verb: 'STOR' | 'APPE', name: string, body: string): Promise<Reply[]> {
  const p = await raw.pasv();
  const d = dataConnection(p.port);
  const r = await raw.cmd(`${verb} ${name}`);
  if (r.code !== 150) {
    d.socket.destroy();
    return [r];
  }
  d.socket.end(body);
  return [r, await raw.read()];
}

function stor(raw: RawFtp, name: string, body: string): Promise<Reply[]> {
  return upload(raw, 'STOR', name, body);
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

/**
 * A loopback configuration for real users under `DefaultRoot ~` (AuthUserFile with one
 * password for all), followed by `body`: its path and port.
 */
async function usersConf(dir: string, homes: Record<string, string>, password: string, body: string): Promise<{ conf: string; port: number }> {
  const hash = cryptHash(password);
  const lines = Object.entries(homes).map(([name, home], i) => `${name}:${hash}:${1000 + i}:${1000 + i}::${home}:/bin/sh\n`);
  writeFileSync(join(dir, 'ftpd.passwd'), lines.join(''));
  const port = await freePort();
  const conf = join(dir, 'proftpd.conf');
  writeFileSync(
    conf,
    `Port ${port}
DefaultAddress 127.0.0.1
SocketBindTight on
AuthUserFile ${join(dir, 'ftpd.passwd')}
RequireValidShell off
DefaultRoot ~
${body}`,
  );
  return { conf, port };
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
    const { conf, port } = await usersConf(
      dir,
      homes,
      'dir-Secret',
      `AllowOverwrite on
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

const mode = (path: string): number => statSync(path).mode & 0o777;

/** Whether `condition` becomes true within 2 s (polled). */
async function eventually(condition: () => boolean): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    if (condition()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return condition();
}

/** A user `alice` under `DefaultRoot ~`, with the sections under test. */
async function setup(): Promise<{ dir: string; home: string; port: number; conf: string }> {
  const dir = tempDir();
  const home = join(dir, 'home', 'alice');
  for (const sub of ['incoming', 'drop', 'scratch']) mkdirSync(join(home, sub), { recursive: true });
  writeFileSync(join(home, 'top.txt'), 'top\n');
  writeFileSync(join(home, 'incoming', 'old.txt'), 'old\n');
  writeFileSync(join(home, 'drop', 'part.bin'), '0123456789');
  const { conf, port } = await usersConf(
    dir,
    { alice: home },
    'set-Secret',
    `AllowOverwrite off
AllowStoreRestart on
Umask 022
<Directory ~/incoming>
  AllowOverwrite on
  Umask 077 027
</Directory>
<Directory ~/drop>
  AllowStoreRestart off
  AllowOverwrite on
  HiddenStores on
</Directory>
<Directory ${home}/scratch>
  DeleteAbortedStores on
</Directory>
`,
  );
  return { dir, home, port, conf };
}

async function login(port: number): Promise<RawFtp> {
  const raw = await RawFtp.connect(port);
  expect((await raw.read()).code).toBe(220);
  expect((await raw.login('alice', 'set-Secret')).code).toBe(230);
  expect((await raw.cmd('TYPE I')).code).toBe(200);
  return raw;
}

describe('<Directory> settings with ftpkit serve --config', () => {
  it('ftpkit check lists each section with its settings', async () => {
    const { home, conf } = await setup();
    const check = await runCli(['check', '--config', conf, '--no-scan']);
    expect(check.stdout).toContain('Syntax OK');
    expect(check.stdout).toContain(`<Directory ~/incoming> (${conf}:10): ~/incoming (resolved at each login) (the directory and everything below it): AllowOverwrite on, Umask 077 027`);
    expect(check.stdout).toContain(`<Directory ${home}/scratch> (${conf}:19): ${home}/scratch (the directory and everything below it): DeleteAbortedStores on`);
    expect(check.code).toBe(0);
  });

  it('AllowOverwrite and Umask per directory: STOR, RNTO and MKD, the modes on disk', async () => {
    const { home, port } = await setup();
    const s = await serve(['--config', conf(home)]);
    const raw = await login(port);

    // Server-wide AllowOverwrite off: ProFTPD's 550.
    expect(await upload(raw, 'STOR', 'top.txt', 'x')).toEqual([{ code: 550, text: 'top.txt: Overwrite permission denied' }]);
    expect(readFileSync(join(home, 'top.txt'), 'utf8')).toBe('top\n');
    // <Directory ~/incoming> AllowOverwrite on: by relative, absolute and cwd-relative names.
    expect((await upload(raw, 'STOR', 'incoming/old.txt', 'new\n')).map((r) => r.code)).toEqual([150, 226]);
    expect(readFileSync(join(home, 'incoming', 'old.txt'), 'utf8')).toBe('new\n');
    expect((await upload(raw, 'STOR', '/incoming/old.txt', 'newer\n')).map((r) => r.code)).toEqual([150, 226]);
    expect((await raw.cmd('CWD incoming')).code).toBe(250);
    expect((await upload(raw, 'STOR', 'old.txt', 'newest\n')).map((r) => r.code)).toEqual([150, 226]);
    expect(readFileSync(join(home, 'incoming', 'old.txt'), 'utf8')).toBe('newest\n');
    expect(await upload(raw, 'STOR', '../top.txt', 'x')).toEqual([{ code: 550, text: '../top.txt: Overwrite permission denied' }]);
    expect((await raw.cmd('CWD /')).code).toBe(250);

    // New files: Umask 077 inside incoming, the server's 022 elsewhere.
    expect((await upload(raw, 'STOR', 'incoming/fresh.txt', 'f')).map((r) => r.code)).toEqual([150, 226]);
    expect((await upload(raw, 'STOR', 'fresh.txt', 'f')).map((r) => r.code)).toEqual([150, 226]);
    expect(mode(join(home, 'incoming', 'fresh.txt'))).toBe(0o600);
    expect(mode(join(home, 'fresh.txt'))).toBe(0o644);
    // New directories: Umask's second value (ProFTPD DirUmask) inside incoming.
    expect((await raw.cmd('MKD incoming/sub')).code).toBe(257);
    expect((await raw.cmd('MKD sub')).code).toBe(257);
    expect(mode(join(home, 'incoming', 'sub'))).toBe(0o750);
    expect(mode(join(home, 'sub'))).toBe(0o755);
    // And below it: the section covers its whole subtree.
    expect((await upload(raw, 'STOR', 'incoming/sub/deep.txt', 'd')).map((r) => r.code)).toEqual([150, 226]);
    expect(mode(join(home, 'incoming', 'sub', 'deep.txt'))).toBe(0o600);

    // RNTO onto an existing file: the target's directory decides. (ProFTPD 1.3.8 reads the
    // setting of the RNFR source's directory instead, so a rename from a directory with
    // AllowOverwrite on could replace a file where it is off; ftpkit protects the target.)
    expect((await raw.cmd('RNFR fresh.txt')).code).toBe(350);
    expect(await raw.cmd('RNTO top.txt')).toEqual({ code: 550, text: 'top.txt: Rename permission denied' });
    expect((await raw.cmd('RNFR fresh.txt')).code).toBe(350);
    expect(await raw.cmd('RNTO incoming/old.txt')).toEqual({ code: 250, text: 'Rename successful' });
    expect(readFileSync(join(home, 'incoming', 'old.txt'), 'utf8')).toBe('f');
    raw.close();
    await s.stop();
  });

  it('AllowStoreRestart off in one directory: REST + STOR is 451 there and resumes elsewhere; HiddenStores hides the upload in progress', async () => {
    const { home, port } = await setup();
    const s = await serve(['--config', conf(home)]);
    const raw = await login(port);

    expect(await raw.cmd('REST 4')).toEqual({ code: 350, text: 'Restarting at 4. Send STORE or RETRIEVE to initiate transfer' });
    expect(await upload(raw, 'STOR', 'drop/part.bin', 'XYZ')).toEqual([{ code: 451, text: 'drop/part.bin: Append/Restart not permitted, try again' }]);
    expect(await upload(raw, 'APPE', 'drop/part.bin', 'XYZ')).toEqual([{ code: 451, text: 'drop/part.bin: Append/Restart not permitted, try again' }]);
    expect(readFileSync(join(home, 'drop', 'part.bin'), 'utf8')).toBe('0123456789');
    // The server's AllowStoreRestart on applies outside drop: incoming (AllowOverwrite on) resumes.
    expect((await raw.cmd('REST 2')).code).toBe(350);
    expect((await upload(raw, 'STOR', 'incoming/old.txt', 'D!\n')).map((r) => r.code)).toEqual([150, 226]);
    expect(readFileSync(join(home, 'incoming', 'old.txt'), 'utf8')).toBe('olD!\n');
    // A resumed STOR replaces bytes: AllowOverwrite off (the server's) refuses it; APPE only appends.
    expect((await raw.cmd('REST 2')).code).toBe(350);
    expect(await upload(raw, 'STOR', 'top.txt', 'P!\n')).toEqual([{ code: 550, text: 'top.txt: Overwrite permission denied' }]);
    expect((await upload(raw, 'APPE', 'top.txt', '+\n')).map((r) => r.code)).toEqual([150, 226]);
    expect(readFileSync(join(home, 'top.txt'), 'utf8')).toBe('top\n+\n');

    // HiddenStores on in drop: the upload is `.in.<name>.` until it completes.
    const p = await raw.pasv();
    const d = dataConnection(p.port);
    expect((await raw.cmd('STOR drop/big.bin')).code).toBe(150);
    d.socket.write('first half ');
    expect(await eventually(() => readdirSync(join(home, 'drop')).includes('.in.big.bin.'))).toBe(true);
    expect(existsSync(join(home, 'drop', 'big.bin'))).toBe(false);
    d.socket.end('second half');
    expect((await raw.read()).code).toBe(226);
    expect(readFileSync(join(home, 'drop', 'big.bin'), 'utf8')).toBe('first half second half');
    expect(readdirSync(join(home, 'drop')).sort()).toEqual(['big.bin', 'part.bin']);
    // Elsewhere uploads are written in place (HiddenStores is off for the server).
    const q = await raw.pasv();
    const e = dataConnection(q.port);
    expect((await raw.cmd('STOR inplace.bin')).code).toBe(150);
    e.socket.write('partial');
    expect(await eventually(() => existsSync(join(home, 'inplace.bin')) && statSync(join(home, 'inplace.bin')).size === 7)).toBe(true);
    e.socket.end();
    expect((await raw.read()).code).toBe(226);
    raw.close();
    await s.stop();
  });

  it('DeleteAbortedStores on in one directory: a cut-short upload is removed there and kept elsewhere', async () => {
    const { home, port } = await setup();
    const s = await serve(['--config', conf(home)]);
    const raw = await login(port);
    for (const name of ['scratch/cut.bin', 'cut.bin']) {
      const p = await raw.pasv();
      const d = dataConnection(p.port);
      expect((await raw.cmd(`STOR ${name}`)).code).toBe(150);
      d.socket.write('partial data');
      await new Promise((r) => setTimeout(r, 100));
      d.socket.resetAndDestroy();
      expect((await raw.read()).code).toBe(426);
    }
    expect(existsSync(join(home, 'scratch', 'cut.bin'))).toBe(false);
    expect(readFileSync(join(home, 'cut.bin'), 'utf8')).toBe('partial data');
    raw.close();
    await s.stop();
  });

  it("Umask's second value applies to new directories without any <Directory> section", async () => {
    const dir = tempDir();
    const home = join(dir, 'home', 'bob');
    mkdirSync(home, { recursive: true });
    const { conf, port } = await usersConf(dir, { bob: home }, 'set-Secret', 'Umask 022 077\n');
    const s = await serve(['--config', conf]);
    const raw = await RawFtp.connect(port);
    await raw.read();
    expect((await raw.login('bob', 'set-Secret')).code).toBe(230);
    expect((await raw.cmd('MKD d')).code).toBe(257);
    expect((await upload(raw, 'STOR', 'f.txt', 'f')).map((r) => r.code)).toEqual([150, 226]);
    expect(mode(join(home, 'd'))).toBe(0o700);
    expect(mode(join(home, 'f.txt'))).toBe(0o644);
    raw.close();
    await s.stop();
  });

  withCurl('with curl: uploads overwrite inside incoming and fail with 550 elsewhere', async () => {
    const { dir, home, port } = await setup();
    const s = await serve(['--config', conf(home)]);
    const local = join(dir, 'top.txt');
    writeFileSync(local, 'from curl\n');
    const url = `ftp://alice:set-Secret@127.0.0.1:${port}`;
    expect(curl(['-T', local, `${url}/incoming/old.txt`]).code).toBe(0);
    expect(readFileSync(join(home, 'incoming', 'old.txt'), 'utf8')).toBe('from curl\n');
    expect(mode(join(home, 'incoming', 'old.txt'))).toBe(0o644); // an existing file keeps its mode
    expect(curl(['-T', local, `${url}/incoming/`]).code).toBe(0);
    expect(mode(join(home, 'incoming', 'top.txt'))).toBe(0o600);
    const refused = curl(['-T', local, `${url}/`]);
    expect(refused.code).not.toBe(0);
    expect(refused.out).toMatch(/550/);
    expect(readFileSync(join(home, 'top.txt'), 'utf8')).toBe('top\n');
    await s.stop();
  });
});

/** The configuration file of a home made by `setup` (two levels up). */
function conf(home: string): string {
  return join(home, '..', '..', 'proftpd.conf');
}
