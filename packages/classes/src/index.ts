/**
 * @packageDocumentation
 * ProFTPD-compatible client classes and conditional configuration layers, sans-IO:
 * `<Class>` with `From` and `Satisfy`, the netacl matcher behind `<Limit>` Allow/Deny,
 * and mod_ifsession's `<IfClass>`/`<IfUser>`/`<IfGroup>`/`<IfAuthenticated>` layers,
 * merged in ProFTPD's order over any settings type.
 *
 * @example
 * ```ts
 * import { ClassRegistry, mergeLayers, parseNameExpr } from '@ftpkit/classes';
 *
 * const classes = new ClassRegistry([{ name: 'internal', from: '10.0.0.0/8' }]);
 * const className = classes.matchClass({ address: '::ffff:10.1.2.3' }); // 'internal'
 * const cond = (s: string) => { const r = parseNameExpr([s], { defaultOp: 'or' }); if (!r.ok) throw r.error; return r.value; };
 * const { value } = mergeLayers({ masq: '' }, [
 *   { kind: 'class', condition: cond('internal'), content: { masq: '10.1.2.3' } },
 *   { kind: 'class', condition: cond('!internal'), content: { masq: '1.2.3.4' } },
 * ], { className });
 * value.masq; // '10.1.2.3'
 * ```
 */
export { type ParseError, type Result, ClassesError } from './result.js';
export { globMatch, globToRegExp, isGlob } from './glob.js';
export {
  type AclListMode,
  type NetAclContext,
  type NetAclMatch,
  type NetAclRule,
  addressText,
  matchNetAcl,
  matchNetAclList,
  normalizeAddress,
  parseNetAcl,
  parseNetAclList,
} from './netacl.js';
export {
  type ClassDefinition,
  type ClassInput,
  ClassRegistry,
  classSatisfied,
  defineClass,
  matchClass,
  parseSatisfy,
} from './class.js';
export {
  type NameExpr,
  type NameExprOptions,
  type NameTerm,
  compilePosixRegex,
  evalClassExpr,
  evalGroupExpr,
  evalUserExpr,
  parseNameExpr,
} from './expr.js';
export {
  type Layer,
  type LayerContext,
  type LayerKind,
  type MergeOptions,
  type MergeResult,
  layerMatches,
  mergeLayers,
  orderLayers,
} from './layers.js';
