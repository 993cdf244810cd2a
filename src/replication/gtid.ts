// Sets of global transaction ids, for both engines, as one shape: per origin, sorted disjoint closed intervals
// of sequence numbers. MySQL's `uuid[:tag]:1-5:7` lists map onto it directly (origin = uuid[:tag]).
// MariaDB's `domain-server-seq` lists (@@gtid_binlog_state, Gtid_IO_Pos) name the last transaction per origin
// (origin = domain-server); with gtid_strict_mode a server's sequence numbers only grow, so `0-1-100` stands
// for every transaction of server 1 in domain 0 up to 100: the interval 1-100.

export type Interval = readonly [start: number, end: number];

/** Origin → sorted, disjoint, non-adjacent intervals. Empty origins are left out. */
export type GtidSet = ReadonlyMap<string, readonly Interval[]>;

export const EMPTY: GtidSet = new Map();

function normalize(intervals: Interval[]): Interval[] {
  const sorted = [...intervals].sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const [start, end] of sorted) {
    const last = out.at(-1);
    if (last && start <= last[1] + 1) last[1] = Math.max(last[1], end);
    else out.push([start, end]);
  }
  return out;
}

function build(entries: Iterable<[string, Interval[]]>): GtidSet {
  const out = new Map<string, Interval[]>();
  for (const [origin, intervals] of entries) {
    const merged = normalize([...(out.get(origin) ?? []), ...intervals]);
    if (merged.length > 0) out.set(origin, merged);
  }
  return out;
}

const seqNo = (text: string, what: string): number => {
  if (!/^\d+$/.test(text)) throw new Error(`not a GTID sequence number in ${what}: ${JSON.stringify(text)}`);
  return Number(text);
};

/** MariaDB's `0-1-100,1-2-7` (a GTID list, as in gtid_binlog_state or Gtid_IO_Pos). */
export function parseMariaDB(text: string): GtidSet {
  const entries: [string, Interval[]][] = [];
  for (const item of text.split(',').map((s) => s.trim())) {
    if (item === '') continue;
    const m = /^(\d+)-(\d+)-(\d+)$/.exec(item);
    if (!m) throw new Error(`not a MariaDB GTID: ${JSON.stringify(item)}`);
    const seq = seqNo(m[3]!, item);
    entries.push([`${m[1]}-${m[2]}`, seq > 0 ? [[1, seq]] : []]);
  }
  return build(entries);
}

/** MySQL's `3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:7,<uuid>:tag:1-3` (newlines after commas allowed). */
export function parseMySQL(text: string): GtidSet {
  const entries: [string, Interval[]][] = [];
  for (const item of text.split(',').map((s) => s.trim())) {
    if (item === '') continue;
    const parts = item.split(':');
    const uuid = parts[0]!.toLowerCase();
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(uuid)) {
      throw new Error(`not a MySQL GTID set member: ${JSON.stringify(item)}`);
    }
    let tag = '';
    const intervals: Interval[] = [];
    for (const part of parts.slice(1)) {
      const range = /^(\d+)(?:-(\d+))?$/.exec(part);
      if (range) {
        const start = seqNo(range[1]!, item);
        const end = range[2] === undefined ? start : seqNo(range[2], item);
        if (end < start) throw new Error(`an interval ends before it starts in ${JSON.stringify(item)}`);
        entries.push([tag ? `${uuid}:${tag}` : uuid, [[start, end]]]);
        intervals.push([start, end]);
      } else if (/^[a-z_][a-z0-9_]{0,31}$/i.test(part)) {
        tag = part.toLowerCase();
      } else {
        throw new Error(`not a MySQL GTID set member: ${JSON.stringify(item)}`);
      }
    }
    if (intervals.length === 0) throw new Error(`no transactions in ${JSON.stringify(item)}`);
  }
  return build(entries);
}

export function union(a: GtidSet, b: GtidSet): GtidSet {
  return build([...a, ...b].map(([o, i]) => [o, [...i]]));
}

/** The transactions of `a` that `b` lacks. */
export function subtract(a: GtidSet, b: GtidSet): GtidSet {
  const out: [string, Interval[]][] = [];
  for (const [origin, intervals] of a) {
    let rest: Interval[] = [...intervals];
    for (const [cs, ce] of b.get(origin) ?? []) {
      rest = rest.flatMap(([s, e]): Interval[] => {
        if (ce < s || cs > e) return [[s, e]];
        const pieces: Interval[] = [];
        if (s < cs) pieces.push([s, cs - 1]);
        if (e > ce) pieces.push([ce + 1, e]);
        return pieces;
      });
    }
    out.push([origin, rest]);
  }
  return build(out);
}

export const isEmpty = (a: GtidSet): boolean => a.size === 0;

/** Whether `b` holds every transaction of `a`. */
export const isSubset = (a: GtidSet, b: GtidSet): boolean => isEmpty(subtract(a, b));

/** How many transactions the set holds. */
export function size(a: GtidSet): number {
  let n = 0;
  for (const intervals of a.values()) for (const [s, e] of intervals) n += e - s + 1;
  return n;
}

export type Comparison = 'equal' | 'ahead' | 'behind' | 'diverged';

/** How `a` stands to `b`: holds the same, more (a superset), less (a subset), or each holds some the other lacks. */
export function compare(a: GtidSet, b: GtidSet): Comparison {
  const aHasMore = !isSubset(a, b);
  const bHasMore = !isSubset(b, a);
  if (aHasMore && bHasMore) return 'diverged';
  if (aHasMore) return 'ahead';
  return bHasMore ? 'behind' : 'equal';
}

/** The MySQL notation, sorted by origin (for logs, events and status; MariaDB origins read `0-1:1-100`). */
export function format(a: GtidSet): string {
  return [...a]
    .sort(([x], [y]) => x.localeCompare(y))
    .map(([origin, intervals]) =>
      [origin, ...intervals.map(([s, e]) => (s === e ? `${s}` : `${s}-${e}`))].join(':'),
    )
    .join(',');
}
