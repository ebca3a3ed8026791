import type { LockRow } from '../core/status/model.js';
import { formatDuration } from './duration.js';
import { renderTable } from './table.js';

/** "12s" since an RFC 3339 time, by this machine's wall clock (for people only). */
const since = (iso: string | null, wallNow: number) => {
  const t = iso === null ? NaN : Date.parse(iso);
  return Number.isNaN(t) ? '-' : formatDuration(Math.max(0, wallNow - t));
};

const expiresText = (r: LockRow, wallNow: number) => {
  if (r.state === 'free') return '-';
  if (r.state === 'expired') return `expired ${since(r.expiresAt, wallNow)} ago`;
  return r.expiresAt === null ? 'until released' : `in ${formatDuration(Math.max(0, Date.parse(r.expiresAt) - wallNow))}`;
};

const aliveText = (r: LockRow) => {
  if (r.holders.length === 0) return '-';
  const word = r.alive === true ? 'yes' : r.alive === false ? 'no' : 'unknown';
  const dead = r.holders.filter((h) => h.alive === false).length;
  return r.holders.length > 1 && dead > 0 ? `${word} (${dead}/${r.holders.length} dead)` : word;
};

/** The NAME column: a kubelock is its lock on its object. */
export const rowName = (r: LockRow) => (r.object ? `${r.object}:${r.name}` : r.name);

const holdersText = (r: LockRow) => (r.holders.length ? r.holders.map((h) => h.holder).join(',') : '<none>');

/** Which of the leading columns a table shows: a per-kind listing has no KIND, and NAMESPACE only with -A (as kubectl). */
export interface TableColumns {
  kind: boolean;
  namespace: boolean;
}

/** `koncli status`'s table; `wide` adds TTL, the liveness evidence and the break command. */
export function statusTable(rows: LockRow[], wide: boolean, wallNow: number, columns: TableColumns = { kind: true, namespace: true }): string {
  const lead = [...(columns.kind ? ['KIND'] : []), ...(columns.namespace ? ['NAMESPACE'] : [])];
  const headers = [...lead, 'NAME', 'HOLDER(S)', 'STATE', 'EXPIRES', 'LAST RENEWED', 'ALIVE', 'WAITERS', 'AGE'];
  const body = rows.map((r) => [
    ...(columns.kind ? [r.kind] : []),
    ...(columns.namespace ? [r.namespace ?? '-'] : []),
    rowName(r),
    holdersText(r),
    r.problem ? 'corrupt' : r.state + (r.max !== undefined ? ` ${r.holders.filter((h) => h.state === 'held').length}/${r.max}` : ''),
    expiresText(r, wallNow),
    r.lastRenewed ? `${since(r.lastRenewed, wallNow)} ago` : '-',
    aliveText(r),
    String(r.waiters),
    since(r.createdAt, wallNow),
    ...(wide ? [r.ttlSeconds === null ? '-' : formatDuration(r.ttlSeconds * 1000), r.aliveReason ?? r.problem ?? '-', r.breakCommand ?? '-'] : []),
  ]);
  return renderTable([...headers, ...(wide ? ['TTL', 'WHY', 'BREAK WITH'] : [])], body);
}

/** `-o name`: kind/name, as kubectl prints resource/name. */
export const statusNames = (rows: LockRow[]) => rows.map((r) => `${r.kind}/${r.namespace ? `${r.namespace}/` : ''}${rowName(r)}`).join('\n');

/** After the table, for people: how to break each stuck lock (the issue's "what to do, first"). */
export function breakHints(rows: LockRow[]): string {
  const stuck = rows.filter((r) => r.stuck && r.breakCommand);
  if (stuck.length === 0) return '';
  return ['', 'To break a stuck lock (only while the holders named still hold it):', ...stuck.map((r) => `  ${r.breakCommand}`)].join('\n');
}
