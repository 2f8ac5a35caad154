/**
 * The checks, against the sandbox's own ledger (ZoPay's truth), of everything clients were told.
 * Pure: records + ledger in, one result per invariant out.
 */
import type { SandboxPayout } from '../sandbox/ledger-types.js';
import type { ExecObservation, KeyRecord, RunRecords, SubscriberRecord } from './model.js';

export interface InvariantResult {
  id: string;
  title: string;
  checked: number;
  violations: number;
  /** The first few violations, with enough detail to reproduce. */
  examples: string[];
  /** Reported, but not a violation of the issue's invariants (does not fail the run). */
  advisory?: boolean;
}

export interface InvariantInput {
  records: RunRecords;
  ledger: readonly SandboxPayout[];
  upstreamKeyOf(sub: string, key: string): string;
  /** Gateway exits the harness did not cause. */
  crashes: string[];
  /** [from, to] wall-clock windows in which Redis was down or hung (plus reconnect time). */
  redisOutages?: readonly (readonly [number, number])[];
}

const MAX_EXAMPLES = 12;
const FINAL = new Set(['SUCCESS', 'FAILED', 'CANCELLED']);
const rank = (s: string) => (s === 'PENDING' ? 0 : s === 'PROCESSING' ? 1 : FINAL.has(s) ? 2 : -1);

class Check {
  checked = 0;
  violations = 0;
  examples: string[] = [];
  constructor(
    readonly id: string,
    readonly title: string,
  ) {}
  fail(detail: string): void {
    this.violations++;
    if (this.examples.length < MAX_EXAMPLES) this.examples.push(detail);
  }
  advisory = false;
  result(): InvariantResult {
    const r: InvariantResult = { id: this.id, title: this.title, checked: this.checked, violations: this.violations, examples: this.examples };
    if (this.advisory) r.advisory = true;
    return r;
  }
}

function describeKey(rec: KeyRecord, uk: string, ledgerFor: readonly SandboxPayout[]): string {
  const obs = rec.observations.map(describeObs).join(' → ');
  const ledger = ledgerFor.map((p) => `${p.id}:${p.status}`).join(', ') || 'none';
  return `sub=${rec.plan.sub} key=${rec.plan.key} msisdn=…${rec.plan.suffix} zopayKey=${uk} ledger=[${ledger}] answers=[${obs}]`;
}

function describeObs(o: ExecObservation): string {
  const t = new Date(o.at).toISOString().slice(11, 23);
  switch (o.kind) {
    case 'payout':
      return `${t} gw${o.instance} Payout(${o.id.slice(0, 8)},${o.status})`;
    case 'business':
      return `${t} gw${o.instance} ${o.code}`;
    case 'retry':
      return `${t} gw${o.instance} retry:${o.reason}`;
    case 'harness':
      return `${t} gw${o.instance} harness:${o.detail}`;
  }
}

function describeSub(s: SubscriberRecord): string {
  const events = s.events.map((e) => `#${e.attempt}:${e.status}${e.id === s.payoutId ? '' : `(id ${e.id})`}`).join(' ');
  const attempts = s.attempts.map((a) => `gw${a.instance}/${a.transport}:${a.end}${a.errors.length ? `[${a.errors.join(';')}]` : ''}`).join(' ');
  return `payout=${s.payoutId} sub=${s.sub}${s.asWatcher ? ' (payouts:read)' : ''} events=[${events}] attempts=[${attempts}] done=${s.done}`;
}

export function checkInvariants(input: InvariantInput): InvariantResult[] {
  const { records, ledger } = input;
  const byUpstreamKey = new Map<string, SandboxPayout[]>();
  for (const p of ledger) {
    const list = byUpstreamKey.get(p.idempotencyKey) ?? [];
    list.push(p);
    byUpstreamKey.set(p.idempotencyKey, list);
  }
  const byId = new Map(ledger.map((p) => [p.id, p]));
  const keys = records.keys.filter((k): k is KeyRecord => k !== undefined);

  const onePerKey = new Check('one-payout-per-key', 'exactly one ZoPay payout per (caller, key)');
  const samePayout = new Check('same-payout-per-key', 'every answer for a key named the same payout');
  const subscribers = new Check('subscriber-final-once', 'subscribers got the final status exactly once, no regression');
  const noFalseFailure = new Check('no-false-failure', 'no client told FAILED for a payout that succeeded');
  const finalMatches = new Check('final-matches-ledger', 'every final status shown equals ZoPay\'s');
  const noFalseRejection = new Check('no-false-rejection', 'no business error for a key that has a payout');
  const resolved = new Check('every-key-resolved', 'every execute ended with a payout (retries bounded)');
  const visibility = new Check('visibility', 'owners see their payouts, other callers do not');
  const crashes = new Check('no-crash', 'no gateway process died on its own');
  const honestUnknown = new Check('outcome-unknown-said', 'UPSTREAM_UNAVAILABLE says outcomeUnknown once ZoPay has the payout');
  const honestUnknownRedis = new Check('outcome-unknown-said-redis', 'same, answered while Redis was down or hung');
  const masked = new Check('advisory-masked-errors', 'no INTERNAL_SERVER_ERROR where a typed code is due');
  masked.advisory = true;
  const inOutage = (t: number) => (input.redisOutages ?? []).some(([from, to]) => t >= from && t <= to);

  // 1, 2, 5: per (caller, key).
  const knownUpstreamKeys = new Set<string>();
  const idOwners = new Map<string, string>();
  for (const rec of keys) {
    const uk = input.upstreamKeyOf(rec.plan.sub, rec.plan.key);
    knownUpstreamKeys.add(uk);
    const inLedger = byUpstreamKey.get(uk) ?? [];
    onePerKey.checked++;
    if (inLedger.length > 1) onePerKey.fail(`${inLedger.length} ZoPay payouts for one key: ${describeKey(rec, uk, inLedger)}`);
    const named = new Set(rec.observations.flatMap((o) => (o.kind === 'payout' ? [o.id] : [])));
    if (named.size > 0 && inLedger.length === 0) onePerKey.fail(`answered a payout but ZoPay has none for the key: ${describeKey(rec, uk, inLedger)}`);
    if (named.size > 0) {
      samePayout.checked++;
      const ledgerId = inLedger[0]?.id;
      if (named.size > 1) samePayout.fail(`answers named ${named.size} payouts: ${describeKey(rec, uk, inLedger)}`);
      else if (ledgerId !== undefined && !named.has(ledgerId)) samePayout.fail(`answer named a payout other than the key's ZoPay payout: ${describeKey(rec, uk, inLedger)}`);
      for (const id of named) {
        const owner = `${rec.plan.sub}/${rec.plan.key}`;
        const prev = idOwners.get(id);
        if (prev !== undefined && prev !== owner) samePayout.fail(`payout ${id} was named to two (caller, key)s: ${prev} and ${owner}`);
        idOwners.set(id, owner);
      }
    }
    const rejections = rec.observations.filter((o) => o.kind === 'business');
    noFalseRejection.checked++;
    if (rejections.length > 0 && inLedger.length > 0) {
      noFalseRejection.fail(`told ${rejections.map((r) => (r.kind === 'business' ? r.code : '')).join(',')} but ZoPay paid: ${describeKey(rec, uk, inLedger)}`);
    }
    const createdAt = inLedger[0] ? Date.parse(inLedger[0].createdAt) : undefined;
    for (const o of rec.observations) {
      if (o.kind !== 'retry' || !o.reason.startsWith('UPSTREAM_UNAVAILABLE')) continue;
      const check = inOutage(o.at) ? honestUnknownRedis : honestUnknown;
      check.checked++;
      // 250 ms of slack: the payout must clearly predate the answer.
      if (createdAt !== undefined && createdAt < o.at - 250 && !o.reason.includes('outcomeUnknown')) {
        check.fail(`${o.reason} without outcomeUnknown at ${new Date(o.at).toISOString().slice(11, 23)}, ${o.at - createdAt} ms after ZoPay created the payout: ${describeKey(rec, uk, inLedger)}`);
      }
    }
    resolved.checked++;
    if (rec.outcome !== 'payout') {
      const why = rec.outcome === 'rejected' ? `refused (${rejections.map((r) => (r.kind === 'business' ? r.code : '')).join(',') || 'harness error'})` : rec.outcome;
      resolved.fail(`${why}: ${describeKey(rec, uk, inLedger)}`);
    }
  }
  for (const p of ledger) {
    if (!knownUpstreamKeys.has(p.idempotencyKey)) onePerKey.fail(`ZoPay payout ${p.id} (${p.status}) under a key no client used: ${p.idempotencyKey}`);
  }

  // 3: subscribers.
  for (const s of records.subscribers) {
    subscribers.checked++;
    const problems: string[] = [];
    if (s.events.some((e) => e.id !== s.payoutId)) problems.push('event for another payout');
    const finals = s.events.filter((e) => FINAL.has(e.status));
    if (finals.length === 0) problems.push('final status never received');
    if (finals.length > 1) problems.push(`final received ${finals.length} times`);
    for (let i = 1; i < s.events.length; i++) {
      const prev = s.events[i - 1] as SubscriberRecord['events'][number];
      const cur = s.events[i] as SubscriberRecord['events'][number];
      if (rank(cur.status) < rank(prev.status)) problems.push(`regression ${prev.status} → ${cur.status}`);
      else if (cur.attempt === prev.attempt && rank(cur.status) === rank(prev.status)) problems.push(`repeated ${cur.status} in one stream`);
    }
    if (s.events.some((e) => rank(e.status) < 0)) problems.push('unknown status');
    // design.md §2: the subscription "completes after the final status has been delivered".
    s.attempts.forEach((a, i) => {
      if (a.end === 'complete' && !s.events.some((e) => e.attempt === i && FINAL.has(e.status))) {
        problems.push(`stream ${i} (gw${a.instance}/${a.transport}) completed without a final status`);
      }
    });
    const truth = byId.get(s.payoutId)?.status;
    for (const f of finals) if (truth !== undefined && f.status !== truth) problems.push(`final ${f.status} but ZoPay says ${truth}`);
    if (problems.length > 0) subscribers.fail(`${[...new Set(problems)].join('; ')}: ${describeSub(s)}`);
    if (s.attempts.some((a) => a.errors.includes('NOT_FOUND'))) {
      visibility.fail(`subscription by ${s.asWatcher ? 'a payouts:read caller' : 'the owner'} answered NOT_FOUND: ${describeSub(s)}`);
    }
  }
  visibility.checked += records.subscribers.length;

  // 4: every status any client was shown, against ZoPay's final.
  const sightings: { id: string; status: string; where: string }[] = [];
  for (const rec of keys) {
    for (const o of rec.observations) if (o.kind === 'payout') sightings.push({ id: o.id, status: o.status, where: `execute answer to ${rec.plan.sub}/${rec.plan.key} on gw${o.instance}` });
  }
  for (const r of records.reads) {
    if (r.result === 'payout' && r.status !== undefined) sightings.push({ id: r.payoutId, status: r.status, where: `payout(id) ${r.phase} read by ${r.sub} on gw${r.instance}` });
  }
  for (const s of records.subscribers) {
    for (const e of s.events) sightings.push({ id: s.payoutId, status: e.status, where: `payoutStatus event to ${s.sub} (${s.plan.transport})` });
  }
  for (const s of sightings) {
    const truth = byId.get(s.id)?.status;
    noFalseFailure.checked++;
    finalMatches.checked++;
    if (truth === 'SUCCESS' && (s.status === 'FAILED' || s.status === 'CANCELLED')) noFalseFailure.fail(`${s.where}: ${s.status} for payout ${s.id}, ZoPay says SUCCESS`);
    if (FINAL.has(s.status) && truth !== undefined && s.status !== truth) finalMatches.fail(`${s.where}: ${s.status} for payout ${s.id}, ZoPay says ${truth}`);
  }
  // Reads after everything settled must show the final status.
  for (const r of records.reads.filter((x) => x.phase === 'final' && !x.foreign)) {
    finalMatches.checked++;
    const truth = byId.get(r.payoutId)?.status;
    if (r.result !== 'payout') finalMatches.fail(`final read of ${r.payoutId} by its owner ${r.sub}: ${r.result}${r.detail ? ` (${r.detail})` : ''}`);
    else if (!FINAL.has(r.status ?? '')) finalMatches.fail(`final read of ${r.payoutId}: still ${r.status}, ZoPay says ${truth}`);
  }

  // 6: visibility of reads.
  for (const r of records.reads) {
    visibility.checked++;
    if (r.foreign && r.result === 'payout') visibility.fail(`caller ${r.sub} could read someone else's payout ${r.payoutId} (gw${r.instance})`);
    if (!r.foreign && r.result === 'null') visibility.fail(`owner ${r.sub} got null for its own payout ${r.payoutId} (${r.phase} read, gw${r.instance})`);
  }

  masked.checked = records.masked.length;
  for (const m of records.masked) masked.fail(`INTERNAL_SERVER_ERROR at ${new Date(m.at).toISOString().slice(11, 23)}${inOutage(m.at) ? ' (Redis down or hung)' : ''}: ${m.where}`);

  // 7: processes.
  crashes.checked = 1;
  for (const c of input.crashes) crashes.fail(c);

  return [onePerKey, samePayout, subscribers, noFalseFailure, finalMatches, noFalseRejection, resolved, visibility, crashes, honestUnknown, honestUnknownRedis, masked].map((c) => c.result());
}
