import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { formatDiagnostics, parseConfig, parseSyntax, splitWords, type ConfigNode } from '../src/index.js';
import { parseOk } from './helpers.js';

const names = (nodes: readonly ConfigNode[]): string[] => nodes.map((n) => (n.type === 'section' ? `<${n.name} ${n.args.join(' ')}>[${names(n.children).join(',')}]` : `${n.name}(${n.args.join('|')})`));

describe('words (pr_str_get_word)', () => {
  it.each<[string, string[] | undefined]>([
    ['ServerName "My FTP Server"', ['ServerName', 'My FTP Server']],
    ['ServerIdent on "say \\"hi\\" \\\\ there"', ['ServerIdent', 'on', 'say "hi" \\ there']],
    ['PassivePorts 60000 65535 # These ports should be safe...', ['PassivePorts', '60000', '65535']],
    ['DisplayLogin file#1', ['DisplayLogin', 'file#1']],
    ['AccessGrantMsg "#1 user %u"', ['AccessGrantMsg', '#1 user %u']],
    ['DenyFilter \\*.*/', ['DenyFilter', '\\*.*/']],
    ['MasqueradeAddress ""', ['MasqueradeAddress', '']],
    ['\tUmask\t022   022  ', ['Umask', '022', '022']],
    ['ServerName "unterminated', undefined],
  ])('%s', (line, words) => {
    expect(splitWords(line)).toEqual(words);
  });
});

describe('lines and sections', () => {
  it('comments, blank lines, CRLF and backslash continuations; errors report the first line', () => {
    const r = parseSyntax('# comment\r\n\r\nPassivePorts 60000 \\\n   60100\r\n  # indented comment\nDefaultAddress 10.0.0.1 \\\n 10.0.0.2\nTimeoutIdle x\n', { file: 'a.conf' });
    expect(names(r.nodes)).toEqual(['PassivePorts(60000|60100)', 'DefaultAddress(10.0.0.1|10.0.0.2)', 'TimeoutIdle(x)']);
    expect(r.nodes.map((n) => n.line)).toEqual([3, 6, 8]);
  });
  it('nested sections; names are case-insensitive; the last ">" may stand alone', () => {
    const r = parseSyntax('<virtualhost 10.0.0.1>\n<limit PASV EPSV >\ndenyall\n</LIMIT>\n</VirtualHost>\n<Global>\n</Global>', { file: 'a.conf' });
    expect(r.diagnostics).toEqual([]);
    expect(names(r.nodes)).toEqual(['<virtualhost 10.0.0.1>[<limit PASV EPSV>[denyall()]]', '<Global >[]']);
    const c = parseOk('<virtualhost 10.0.0.1>\n<limit PASV EPSV >\ndenyall\n</LIMIT>\n</VirtualHost>\n<Global>\n</Global>');
    expect(c.virtualHosts[0]?.settings.limits?.[0]?.commands).toEqual(['PASV', 'EPSV']);
  });
  it('<IfModule>: implemented modules are loaded, others skipped with nesting counted, contents never checked', () => {
    const text = [
      '<IfModule mod_ifsession.c>',
      '  PassivePorts 60000 60100',
      '</IfModule>',
      '<IfModule mod_quotatab.c>',
      '  <IfModule mod_sql.c>',
      '    SQLEngine on',
      '  </IfModule>',
      '  QuotaEngine on',
      '</IfModule>',
      '<IfModule !mod_tls.c>',
      '  TLSEngine on',
      '</IfModule>',
      '<IfModule !mod_ratio>',
      '  TimeoutIdle 60',
      '</IfModule>',
    ].join('\n');
    const c = parseOk(text);
    expect(c.main.settings).toEqual({ passivePorts: { min: 60000, max: 60100 }, timeoutIdle: 60 });
    expect(parseOk(text, { modules: ['mod_tls.c'] }).main.settings).toEqual({ timeoutIdle: 60 });
  });
  it('<IfDefine> with -D and Define; %{env:NAME} inside a word', () => {
    const text = 'Define NAT\n<IfDefine NAT>\nMasqueradeAddress %{env:PUB}\n</IfDefine>\n<IfDefine !TLS>\nServerName "srv-%{env:SITE}"\n</IfDefine>\n<IfDefine TLS>\nTLSEngine on\n</IfDefine>';
    const c = parseOk(text, { env: { PUB: '198.51.100.2', SITE: 'paris' } });
    expect(c.main.settings).toEqual({ masqueradeAddress: { host: '198.51.100.2', kind: 'ipv4' }, serverName: 'srv-paris' });
    const d = parseOk(text, { env: { PUB: '198.51.100.2', SITE: 'x' }, defines: ['TLS'] });
    expect(d.main.settings).toMatchObject({ tlsEngine: true });
    expect(d.main.settings.serverName).toBeUndefined();
  });
  it('Include without a reader is an error that says how to load files', () => {
    const r = parseConfig('Include /etc/proftpd/conf.d/*.conf\n', { file: 'a.conf' });
    expect(formatDiagnostics(r)).toBe('a.conf:1: Include /etc/proftpd/conf.d/*.conf: no file access here — load the file with loadConfigFile from @ftpkit/config/node, or pass an include callback to parseConfig');
  });
  it('Include through an injected reader, inside the current section', () => {
    const files: Record<string, string> = { 'inc/limits.conf': '<Limit PASV>\nDenyAll\n</Limit>\n' };
    const c = parseOk('<VirtualHost 10.0.0.1>\nInclude inc/limits.conf\n</VirtualHost>', {
      include: (p) => (files[p] !== undefined ? { ok: true, files: [{ file: p, text: files[p] as string }] } : { ok: false, message: 'nope' }),
    });
    expect(c.virtualHosts[0]?.settings.limits?.[0]?.label).toBe('<Limit PASV> (inc/limits.conf:1)');
    expect(c.files).toEqual(['test.conf', 'inc/limits.conf']);
  });
});

describe('directives', () => {
  it('values are typed', () => {
    const c = parseOk(`
ServerIdent on "FTP ready"
HiddenStores on
DeleteAbortedStores on
MaxClients 20 "Sorry, %m max"
MaxClientsPerHost none
TimeoutIdle 10m
TimeoutLogin 00:01:30
TLSProtocol ALL -TLSv1 -TLSv1.1
TLSRequired auth+data
TLSOptions NoSessionReuseRequired
TLSOptions EnableDiags nosessionreuserequired
ProxyProtocolVersion haproxyV2
AllowForeignAddress fxp
DefaultRoot ~ !staff
DefaultRoot /srv/ftp staff
<Class fxp>
From 198.51.100.0/24
</Class>`);
    expect(c.main.settings).toMatchObject({
      serverIdent: { on: true, text: 'FTP ready' },
      hiddenStores: { prefix: '.in.', suffix: '.' },
      deleteAbortedStores: true,
      maxClients: { max: 20, message: 'Sorry, %m max' },
      timeoutIdle: 600,
      timeoutLogin: 90,
      tlsProtocol: ['TLSv1.2', 'TLSv1.3'],
      tlsRequired: { control: 'required', data: 'required', authOnly: true },
      tlsOptions: ['NoSessionReuseRequired', 'EnableDiags'],
      proxyProtocolVersion: 'protocolV2',
      allowForeignAddress: { className: 'fxp' },
    });
    expect(c.main.settings.defaultRoot?.map((r) => r.path)).toEqual(['~', '/srv/ftp']);
    expect('maxClientsPerHost' in c.main.settings).toBe(false);
  });
  it('a class named but never defined is a warning with a suggestion', () => {
    const r = parseConfig('<Class internal>\nFrom 10.0.0.0/8\n</Class>\n<IfClass internl>\nMasqueradeAddress 10.1.2.3\n</IfClass>\n<Class empty>\n</Class>', { file: 'a.conf' });
    expect(r.ok).toBe(true);
    expect(formatDiagnostics(r).split('\n')).toEqual([
      "a.conf:4: warning: <IfClass> names class 'internl', which no <Class> defines; no client is in it — did you mean internal?",
      'a.conf:7: warning: empty <Class empty> definition: it is dropped — add From lines, or remove the section',
    ]);
  });
  it('lenient mode downgrades only what ftpkit does not implement', () => {
    const text = 'RootRevoke on\nExtendedLog /var/log/x.log\nPasivePorts 1 2\n';
    const strict = parseConfig(text, { file: 'a.conf' });
    expect(strict.errors.map((e) => e.code)).toEqual(['ERR_CONFIG_NOT_IMPLEMENTED', 'ERR_CONFIG_NOT_IMPLEMENTED', 'ERR_CONFIG_UNKNOWN_DIRECTIVE']);
    const lenient = parseConfig(text, { file: 'a.conf', lenient: true });
    expect(lenient.errors.map((e) => e.code)).toEqual(['ERR_CONFIG_UNKNOWN_DIRECTIVE']);
    expect(lenient.warnings.map((w) => w.directive)).toEqual(['RootRevoke', 'ExtendedLog']);
  });
  it('directives of modules ftpkit lacks are reported with the module', () => {
    const r = parseConfig('QuotaEngine on\nSQLBackend mysql\n', { file: 'a.conf' });
    expect(r.errors.map((e) => e.message)).toEqual(['QuotaEngine (mod_quotatab) is not implemented by ftpkit', 'SQLBackend (mod_sql) is not implemented by ftpkit']);
  });
});

describe('robustness', () => {
  it('never throws on arbitrary text, and every diagnostic has a location', () => {
    const alphabet = fc.constantFrom('<', '>', '/', '"', '\\', '#', ' ', '\n', 'Limit', 'IfModule', 'PassivePorts', 'Class', '1', 'a', '%{env:X}', '!', ',');
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 80 }).map((a) => a.join('')), (text) => {
        const r = parseConfig(text, { file: 'f.conf', env: {} });
        for (const d of [...r.errors, ...r.warnings]) {
          expect(d.file).toBe('f.conf');
          expect(d.line).toBeGreaterThanOrEqual(1);
        }
      }),
      { numRuns: 300 },
    );
  });
});
