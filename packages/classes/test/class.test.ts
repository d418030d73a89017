import { describe, expect, it } from 'vitest';
import { ClassRegistry, classSatisfied, defineClass, matchClass, parseSatisfy } from '../src/index.js';

describe('<Class> / From / Satisfy (src/class.c)', () => {
  const classes = new ClassRegistry([
    { name: 'loop', from: '127.0.0.1' },
    { name: 'two', from: ['127.0.0.2', '127.0.0.0/8'] },
    { name: 'internal', from: '10.0.0.0/8, 192.168.0.0/255.255.0.0' },
    { name: 'strict', from: ['10.0.0.0/8', '!10.9.0.0/16'], satisfy: 'all' },
    { name: 'lenient', from: ['10.0.0.0/8', '!10.9.0.0/16'] },
    { name: 'notlan', from: '!192.168.0.0/16' },
    { name: 'named', from: '*.corp.example' },
  ]);

  it.each<[string, string | undefined, string | undefined]>([
    ['127.0.0.1', undefined, 'loop'],
    ['::ffff:127.0.0.1', undefined, 'loop'],
    ['127.0.0.2', undefined, 'two'],
    ['127.0.0.3', undefined, 'two'],
    ['10.1.2.3', undefined, 'internal'],
    ['::ffff:192.168.4.5', undefined, 'internal'],
    // Satisfy any: `!10.9.0.0/16` answers 1 for every address outside 10.9/16, so
    // 'lenient' takes everyone not caught earlier (ProFTPD's pr_netacl_match).
    ['8.8.8.8', undefined, 'lenient'],
    ['2001:db8::1', undefined, 'lenient'],
  ])('first class in definition order: %s -> %s', (address, reverseDns, want) => {
    expect(classes.matchClass({ address, reverseDns })).toBe(want);
    expect(matchClass(classes.classes, { address })).toBe(want);
  });

  it('overlapping classes: the client is in the first one only, but satisfies both', () => {
    expect(classes.matchClass({ address: '10.9.1.1' })).toBe('internal');
    expect(classes.satisfies('lenient', { address: '10.9.1.1' })).toBe(true);
    expect(classes.satisfies('strict', { address: '10.9.1.1' })).toBe(false);
    expect(classes.satisfies('strict', { address: '10.8.1.1' })).toBe(true);
  });

  it('Satisfy any: a matching !rule does not veto; all: every rule must answer 1', () => {
    const any = defineClass({ name: 'a', from: ['!10.0.0.0/8', '10.0.0.0/8'] });
    expect(classSatisfied(any, { address: '10.1.1.1' })).toBe(true);
    const all = defineClass({ name: 'b', from: ['!10.0.0.0/8', '10.0.0.0/8'], satisfy: 'all' });
    expect(classSatisfied(all, { address: '10.1.1.1' })).toBe(false);
    expect(classSatisfied(all, { address: '11.1.1.1' })).toBe(false);
  });

  it('a lone negated rule matches everything outside it', () => {
    expect(classes.satisfies('notlan', { address: '8.8.8.8' })).toBe(true);
    expect(classes.satisfies('notlan', { address: '192.168.1.1' })).toBe(false);
  });

  it('DNS rules use the verified reverse name; without it DNS globs never match', () => {
    expect(classes.satisfies('named', { address: '8.8.4.4', reverseDns: 'pc1.corp.example' })).toBe(true);
    expect(classes.satisfies('named', { address: '8.8.4.4' })).toBe(false);
  });

  it('duplicate names: lookups find the first; unknown classes are never satisfied', () => {
    const r = new ClassRegistry([
      { name: 'x', from: '1.1.1.1' },
      { name: 'x', from: '2.2.2.2' },
    ]);
    expect(r.satisfies('x', { address: '2.2.2.2' })).toBe(false);
    expect(r.matchClass({ address: '2.2.2.2' })).toBe('x');
    expect(r.satisfies('nope', { address: '1.1.1.1' })).toBe(false);
  });

  it('a class with no rules never matches', () => {
    expect(classSatisfied({ name: 'e', rules: [], satisfy: 'any' }, { address: '1.1.1.1' })).toBe(false);
  });

  it('caller misuse throws with a stable code', () => {
    expect(() => defineClass({ name: 'bad', from: '10.0.0.0/40' })).toThrow(expect.objectContaining({ code: 'ERR_CLASS_INVALID' }));
    expect(() => defineClass({ name: '', from: 'all' })).toThrow(expect.objectContaining({ code: 'ERR_CLASS_INVALID' }));
  });

  it('Satisfy parses any/all only', () => {
    expect(parseSatisfy('ALL')).toEqual({ ok: true, value: 'all' });
    expect(parseSatisfy('some')).toMatchObject({ ok: false, error: { message: "invalid parameter: 'some' (use any or all)" } });
  });
});
