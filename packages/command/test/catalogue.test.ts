import { describe, expect, it } from 'vitest';
import { COMMANDS, SITE_COMMANDS, featLines, lookupCommand, parseCommand } from '../src/index.js';

const verbs = [...COMMANDS.keys()];

describe('COMMANDS', () => {
  it('covers RFC 959, 2228, 2389, 2428, 2640, 3659 and 7151', () => {
    const byRfc: Record<string, string[]> = {
      'RFC 959': ['USER', 'PASS', 'ACCT', 'CWD', 'CDUP', 'SMNT', 'REIN', 'QUIT', 'PORT', 'PASV', 'TYPE', 'STRU', 'MODE', 'RETR', 'STOR', 'STOU', 'APPE', 'ALLO', 'REST', 'RNFR', 'RNTO', 'ABOR', 'DELE', 'RMD', 'MKD', 'PWD', 'LIST', 'NLST', 'SITE', 'SYST', 'STAT', 'HELP', 'NOOP'],
      'RFC 2228': ['AUTH', 'ADAT', 'PBSZ', 'PROT', 'CCC', 'MIC', 'CONF', 'ENC'],
      'RFC 2389': ['FEAT', 'OPTS'],
      'RFC 2428': ['EPRT', 'EPSV'],
      'RFC 2640': ['LANG'],
      'RFC 3659': ['MDTM', 'SIZE', 'MLST', 'MLSD'],
      'RFC 7151': ['HOST'],
    };
    for (const [rfc, list] of Object.entries(byRfc)) {
      for (const verb of list) {
        const spec = COMMANDS.get(verb);
        expect(spec, verb).toBeDefined();
        expect(spec?.rfc, verb).toContain(rfc);
      }
    }
  });

  it('is keyed by canonical upper-case verb, and every name is unique', () => {
    const names = new Set<string>();
    for (const [key, spec] of COMMANDS) {
      expect(key).toBe(spec.verb);
      expect(spec.verb).toMatch(/^[A-Z]{3,4}$/);
      for (const name of [spec.verb, ...(spec.aliases ?? [])]) {
        expect(names.has(name), name).toBe(false);
        names.add(name);
      }
    }
  });

  it('has the RFC 775 X* aliases', () => {
    expect(Object.fromEntries(verbs.filter((v) => COMMANDS.get(v)?.aliases).map((v) => [v, COMMANDS.get(v)?.aliases]))).toEqual({
      CWD: ['XCWD'],
      CDUP: ['XCUP'],
      MKD: ['XMKD'],
      RMD: ['XRMD'],
      PWD: ['XPWD'],
    });
  });

  it('puts PASV, EPSV, PORT and EPRT in no <Limit> group (reference §6.1)', () => {
    expect(verbs.filter((v) => COMMANDS.get(v)?.group === 'NONE').sort()).toEqual(['EPRT', 'EPSV', 'OPTS', 'PASV', 'PORT', 'PROT']);
  });

  it.each([
    ['RETR', 'READ'],
    ['SIZE', 'READ'],
    ['STOR', 'WRITE'],
    ['APPE', 'WRITE'],
    ['STOU', 'WRITE'],
    ['DELE', 'WRITE'],
    ['MKD', 'WRITE'],
    ['RMD', 'WRITE'],
    ['RNFR', 'WRITE'],
    ['RNTO', 'WRITE'],
    ['LIST', 'DIRS'],
    ['NLST', 'DIRS'],
    ['MLSD', 'DIRS'],
    ['CWD', 'DIRS'],
    ['CDUP', 'DIRS'],
    ['PWD', 'DIRS'],
    ['MDTM', 'DIRS'],
    ['USER', 'LOGIN'],
    ['PASS', 'LOGIN'],
    ['NOOP', 'MISC'],
  ])('%s is in group %s', (verb, group) => {
    expect(COMMANDS.get(verb)?.group).toBe(group);
  });

  it('PORT, PASV, EPRT and EPSV need a login (reference §0); the login sequence does not', () => {
    for (const v of ['PORT', 'PASV', 'EPRT', 'EPSV', 'RETR', 'STOR', 'LIST', 'CWD', 'PWD']) expect(COMMANDS.get(v)?.needsLogin, v).toBe(true);
    for (const v of ['USER', 'PASS', 'QUIT', 'FEAT', 'HELP', 'NOOP', 'HOST', 'AUTH', 'OPTS', 'SYST', 'TYPE']) expect(COMMANDS.get(v)?.needsLogin, v).toBe(false);
  });

  it.each([
    ['PASV', 'none'],
    ['PORT', 'required'],
    ['EPRT', 'required'],
    ['EPSV', 'optional'],
    ['RETR', 'required'],
    ['LIST', 'optional'],
    ['PWD', 'none'],
    ['STOU', 'optional'],
    ['PASS', 'optional'],
  ])('%s takes an argument: %s', (verb, rule) => {
    expect(COMMANDS.get(verb)?.arg).toBe(rule);
  });

  it('gives every verb a HELP syntax that starts with the verb', () => {
    for (const spec of COMMANDS.values()) expect(spec.help.startsWith(`${spec.verb} `), spec.verb).toBe(true);
  });

  it('marks what the session implements', () => {
    expect(verbs.filter((v) => COMMANDS.get(v)?.implemented === false).sort()).toEqual(['ADAT', 'AUTH', 'CCC', 'CONF', 'ENC', 'LANG', 'MFF', 'MIC', 'PBSZ', 'PROT', 'SMNT']);
  });

  it('is frozen', () => {
    const spec = COMMANDS.get('RETR');
    expect(Object.isFrozen(spec)).toBe(true);
  });
});

describe('lookupCommand', () => {
  it.each([
    ['RETR', 'RETR'],
    ['retr', 'RETR'],
    ['XPWD', 'PWD'],
    ['xpwd', 'PWD'],
    ['XCUP', 'CDUP'],
    ['XMKD', 'MKD'],
    ['xRmD', 'RMD'],
    ['XCWD', 'CWD'],
  ])('%s → %s', (verb, canonical) => {
    expect(lookupCommand(verb)?.verb).toBe(canonical);
  });

  it.each([['FOO'], [''], ['ſTOR'], ['RET'], ['RETRX'], ['SITE CHMOD']])('%j is unknown', (verb) => {
    expect(lookupCommand(verb)).toBeUndefined();
  });

  it('works on parseCommand output', () => {
    expect(lookupCommand(parseCommand('xpwd').verb)?.verb).toBe('PWD');
  });
});

describe('featLines (RFC 2389 §3.2)', () => {
  it('lists the implemented features, sorted, as ProFTPD does', () => {
    expect(featLines()).toEqual(['CLNT', 'EPRT', 'EPSV', 'HOST', 'MDTM', 'MFMT', 'MLST type*;size*;modify*;perm*;', 'REST STREAM', 'SIZE', 'UTF8']);
  });

  it('filters', () => {
    expect(featLines((s) => s.implemented && s.verb !== 'EPRT' && s.verb !== 'EPSV')).not.toContain('EPSV');
    expect(featLines(() => true)).toContain('AUTH TLS');
  });
});

describe('SITE_COMMANDS', () => {
  it('names the <Limit> of each subcommand', () => {
    expect(SITE_COMMANDS.get('CHMOD')).toEqual({ name: 'CHMOD', limitName: 'SITE_CHMOD', group: 'WRITE', arg: 'required', help: expect.stringMatching(/^SITE CHMOD /) });
    expect([...SITE_COMMANDS.keys()]).toEqual(['CHMOD', 'CHGRP', 'HELP']);
  });
});
