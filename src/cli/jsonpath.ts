import { JSONPath } from 'jsonpath-plus';
import { usageError } from '../core/errors.js';

/**
 * kubectl's `-o jsonpath=TEMPLATE`: text with `{…}` expressions (`{.items[*].name}`), `{"\n"}`
 * literals; several results of one expression are joined by a space, as kubectl does
 * (k8s.io/client-go/util/jsonpath). `{range}`/`{end}` are not supported (exit 2).
 * The expressions are evaluated by jsonpath-plus.
 */
export function renderJsonPath(template: string, doc: unknown): string {
  let out = '';
  let rest = template;
  while (rest !== '') {
    const open = rest.indexOf('{');
    if (open < 0) return out + rest;
    out += rest.slice(0, open);
    const close = rest.indexOf('}', open);
    if (close < 0) throw usageError(`jsonpath template ${JSON.stringify(template)} has an unclosed {; e.g. {.items[*].name}`);
    out += evaluate(rest.slice(open + 1, close).trim(), doc, template);
    rest = rest.slice(close + 1);
  }
  return out;
}

function evaluate(expr: string, doc: unknown, template: string): string {
  if (/^".*"$/.test(expr)) return JSON.parse(expr) as string;
  if (!expr.startsWith('.') && !expr.startsWith('$')) {
    throw usageError(`jsonpath expression {${expr}} in ${JSON.stringify(template)} is not supported; use paths such as {.items[*].name}`);
  }
  const path = expr.startsWith('$') ? expr : `$${expr}`;
  const found: unknown[] = JSONPath<unknown[]>({ path, json: doc as object, wrap: true });
  return found.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(' ');
}
