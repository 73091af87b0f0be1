/**
 * Floor cost of dispatching one sequence step on DynamoDB Local (quick-start JVM, like the
 * dispatch bench's stack), as a ratio against that bench's baseline: one raw conditional
 * UpdateItem per step, measured in the same run at the same client concurrency.
 *
 * Each way does only the DynamoDB work the issue's guarantees require of a dispatched step,
 * with nothing else (no SQS, no transport, no GSI upkeep):
 *   baseline          1 conditional UpdateItem creating a fresh counter (bench/dispatch.ts's baseline)
 *   claim+record      conditional claim of an existing due enrollment (status), then the send
 *                     record's PutItem with attribute_not_exists(pk) (~600 bytes): the two-write minimum
 *   claim+record tx   the same two items as one TransactWriteItems
 *   +reads            steps in groups of 10 (an SQS batch; 4 groups in flight): claims, one
 *                     BatchGetItem of the group's 40 keys (account ~2 KB, engagement ~300 B, the
 *                     contact's and the domain's suppression keys, absent), then the record puts
 *   +reads+cap        plus a conditional counter UpdateItem on one of 20 sender items per step
 *   reads+tx          reads first, then claim+record as one TransactWriteItems (claim folded into the worker)
 * Keys are fresh per way and rep, so no condition fails.
 *
 *   npx tsx bench/profile/dispatch-floor.ts
 *   env: BENCH_N (1500 steps per way and rep; 4000 takes over 8 min even on an idle 2-core machine), BENCH_CONCURRENCY (40), BENCH_REPS (3),
 *        BENCH_WAYS (comma-separated name prefixes; the baseline always runs)
 */
import { randomUUID } from "node:crypto";
import { PutCommand, TransactWriteCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { QUICK_START_JVM_OPTIONS } from "@icp/local";
import { batchGet, batchPut, chunks, inParallel } from "@icp/store";
import { findOwnJava, procCpuSeconds } from "../ingest.js";
import { benchAccount, fmt, log, median } from "../lib.js";
import { MICRO_TABLE, microSetup } from "./micro-setup.js";

const N = Number(process.env.BENCH_N ?? 1500);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 40);
const REPS = Number(process.env.BENCH_REPS ?? 3);
/** Messages per SQS batch: the worker's unit for merged reads. */
const GROUP = 10;
const WARMUP = 200;
const ACCOUNTS = 1000;
const SENDERS = 20;
const T = MICRO_TABLE;
const NOW = new Date().toISOString();
const DAY = NOW.slice(0, 10);

type Item = Record<string, unknown>;
/** Pads an item with a filler attribute so that it is about `bytes` long as JSON. */
function padTo(item: Item, bytes: number): Item {
  return { ...item, pad: "x".repeat(Math.max(0, bytes - JSON.stringify(item).length - 10)) };
}

const { dynamo, store } = await microSetup(10, QUICK_START_JVM_OPTIONS);
let requests = 0;
store.ddb.middlewareStack.add(
  (next) => async (args) => {
    requests++;
    return next(args);
  },
  { step: "initialize", name: "countRequests" },
);
const javaPid = findOwnJava();

// Keys and items of one step (`tag` = way and rep, `i` = step).
const acc = (i: number) => i % ACCOUNTS;
const domainOf = (a: number) => `floor-${a}.example`;
const emailOf = (tag: string, i: number) => `c${i}.${tag.replace("#", ".")}@${domainOf(acc(i))}`;
const enrollmentKey = (tag: string, i: number) => ({ pk: `W#fl#E#${tag}#${i}`, sk: "ENROLLMENT" });
const accountKey = (a: number) => ({ pk: `W#fl#A#${a}`, sk: "ACCOUNT" });
const engagementKey = (a: number) => ({ pk: `W#fl#A#${a}`, sk: "ENGAGEMENT" });
const suppressionKey = (value: string) => ({ pk: `W#fl#SUP#${value}`, sk: "SUP" });

function enrollment(tag: string, i: number): Item {
  return padTo(
    {
      ...enrollmentKey(tag, i),
      type: "enrollment",
      status: "due",
      accountId: `acc_${acc(i)}`,
      contactEmail: emailOf(tag, i),
      sequenceId: "seq_01JFLOORBENCH000000000000",
      stepIndex: 0,
      stepId: "e1",
      track: "priority",
      rev: 1,
      dueAt: NOW,
      createdAt: NOW,
    },
    300,
  );
}

function sendRecord(tag: string, i: number, claim: string, subject: string): Item {
  return padTo(
    {
      pk: `W#fl#SEND#${tag}#${i}`,
      sk: "STEP#e1",
      type: "send",
      enrollmentPk: enrollmentKey(tag, i).pk,
      stepId: "e1",
      accountId: `acc_${acc(i)}`,
      to: emailOf(tag, i),
      from: `sender${i % SENDERS}@floor.example`,
      subject,
      status: "sending",
      claim,
      messageId: `<${claim}@floor.example>`,
      createdAt: NOW,
    },
    600,
  );
}

const claimUpdate = (tag: string, i: number, claim: string) => ({
  TableName: T,
  Key: enrollmentKey(tag, i),
  UpdateExpression: "SET #s = :claimed, #claim = :claim, #rev = #rev + :one",
  ConditionExpression: "#s = :due",
  ExpressionAttributeNames: { "#s": "status", "#claim": "claim", "#rev": "rev" },
  ExpressionAttributeValues: { ":claimed": "claimed", ":due": "due", ":claim": claim, ":one": 1 },
});
const recordPut = (tag: string, i: number, claim: string, subject: string) => ({
  TableName: T,
  Item: sendRecord(tag, i, claim, subject),
  ConditionExpression: "attribute_not_exists(pk)",
});

const claim = async (tag: string, i: number) => {
  const token = randomUUID();
  await store.ddb.send(new UpdateCommand(claimUpdate(tag, i, token)));
  return token;
};
const putRecord = async (tag: string, i: number, token: string, subject: string) => {
  await store.ddb.send(new PutCommand(recordPut(tag, i, token, subject)));
};
const claimAndRecordTx = async (tag: string, i: number, subject: string) => {
  const token = randomUUID();
  await store.ddb.send(
    new TransactWriteCommand({
      TransactItems: [{ Update: claimUpdate(tag, i, token) }, { Put: recordPut(tag, i, token, subject) }],
    }),
  );
};
/** The per-sender daily cap: an atomic conditional counter on one of 20 hot sender items. */
const reserveCap = async (tag: string, i: number) => {
  await store.ddb.send(
    new UpdateCommand({
      TableName: T,
      Key: { pk: `W#fl#SENDER#${tag}#${i % SENDERS}`, sk: `DAY#${DAY}` },
      UpdateExpression: "SET #c = if_not_exists(#c, :zero) + :one",
      ConditionExpression: "attribute_not_exists(#c) OR #c < :cap",
      ExpressionAttributeNames: { "#c": "count" },
      ExpressionAttributeValues: { ":zero": 0, ":one": 1, ":cap": N + WARMUP },
    }),
  );
};

/**
 * The sender's reads for a group of steps, merged into one BatchGetItem: per step the account,
 * its engagement item (stop conditions), the contact's and the domain's suppression keys.
 * Returns each step's rendered subject, or undefined if it must not be sent.
 */
async function readGroup(tag: string, steps: readonly number[]): Promise<Map<number, string | undefined>> {
  const keys = steps.flatMap((i) => [
    accountKey(acc(i)),
    engagementKey(acc(i)),
    suppressionKey(emailOf(tag, i)),
    suppressionKey(domainOf(acc(i))),
  ]);
  const found = await batchGet(store, keys, 1);
  const get = (k: { pk: string; sk: string }) => found.get(`${k.pk}|${k.sk}`);
  const out = new Map<number, string | undefined>();
  for (const i of steps) {
    const account = get(accountKey(acc(i)));
    const engagement = get(engagementKey(acc(i)));
    if (!account || !engagement) throw new Error(`step ${i}: account or engagement item missing`);
    const stopped = engagement.replied === true || engagement.bounced === true;
    const suppressed = get(suppressionKey(emailOf(tag, i))) || get(suppressionKey(domainOf(acc(i))));
    out.set(i, stopped || suppressed ? undefined : `Hi ${String(account.domain)}, a note for ${String(account.tier)}`);
  }
  return out;
}

/** Steps in groups of 10, CONCURRENCY / 10 groups in flight, as the send worker's pollers would. */
const inGroups = (n: number, step: (group: number[]) => Promise<void>) =>
  inParallel(
    chunks(
      Array.from({ length: n }, (_, i) => i),
      GROUP,
    ),
    Math.max(1, Math.floor(CONCURRENCY / GROUP)),
    step,
  );
const perStep = (n: number, step: (i: number) => Promise<void>) =>
  inParallel(
    Array.from({ length: n }, (_, i) => i),
    CONCURRENCY,
    step,
  );

/**
 * Steps with the sender's merged reads: claims, then the group's BatchGetItem, then per step the
 * record (after the cap counter with `cap`); or, with `tx`, reads first and then claim + record
 * as one transaction.
 */
async function withReads(tag: string, n: number, mode: "record" | "cap" | "tx") {
  await inGroups(n, async (group) => {
    const tokens = mode === "tx" ? [] : await Promise.all(group.map((i) => claim(tag, i)));
    const subjects = await readGroup(tag, group);
    await Promise.all(
      group.map(async (i, k) => {
        const subject = subjects.get(i);
        if (subject === undefined) return;
        if (mode === "tx") return claimAndRecordTx(tag, i, subject);
        if (mode === "cap") await reserveCap(tag, i);
        await putRecord(tag, i, tokens[k] as string, subject);
      }),
    );
  });
}

type Way = { name: string; claims: boolean; what: string; run: (tag: string, n: number) => Promise<void> };
const BASELINE = "baseline";
const allWays: Way[] = [
  {
    name: BASELINE,
    claims: false,
    what: "1 conditional UpdateItem (new item), x40",
    run: (tag, n) =>
      perStep(n, async (i) => {
        await store.ddb.send(
          new UpdateCommand({
            TableName: T,
            Key: { pk: `W#fl#BENCH#${tag}`, sk: `U#${i}` },
            UpdateExpression: "SET #c = if_not_exists(#c, :zero) + :one",
            ConditionExpression: "attribute_not_exists(#c) OR #c < :lim",
            ExpressionAttributeNames: { "#c": "count" },
            ExpressionAttributeValues: { ":zero": 0, ":one": 1, ":lim": 1 },
          }),
        );
      }),
  },
  {
    name: "claim+record",
    claims: true,
    what: "claim UpdateItem, then record PutItem, x40",
    run: (tag, n) =>
      perStep(n, async (i) => {
        const token = await claim(tag, i);
        await putRecord(tag, i, token, "Hi");
      }),
  },
  {
    name: "claim+record as one TransactWriteItems",
    claims: true,
    what: "TransactWriteItems (claim + record), x40",
    run: (tag, n) => perStep(n, (i) => claimAndRecordTx(tag, i, "Hi")),
  },
  {
    name: "claim+record+reads",
    claims: true,
    what: "groups of 10 (4 in flight): 10 claims, 1 BatchGetItem (40 keys), 10 record puts",
    run: (tag, n) => withReads(tag, n, "record"),
  },
  {
    name: "claim+record+reads+cap",
    claims: true,
    what: "as +reads, plus 1 cap counter UpdateItem (20 hot senders) per step before the record",
    run: (tag, n) => withReads(tag, n, "cap"),
  },
  {
    name: "reads+tx(claim+record)",
    claims: true,
    what: "groups of 10: 1 BatchGetItem, then 10 TransactWriteItems (claim + record)",
    run: (tag, n) => withReads(tag, n, "tx"),
  },
];
const only = process.env.BENCH_WAYS?.split(",");
const ways = allWays.filter((w) => w.name === BASELINE || !only || only.some((o) => w.name.startsWith(o)));
const tagOf = (w: Way, rep: number | "warm") => `${allWays.indexOf(w)}#${rep}`;

// Setup (not measured): accounts, engagement items, and every way's due enrollments for every rep.
let t0 = performance.now();
const accountItems = Array.from({ length: ACCOUNTS }, (_, a) => {
  const { id: accountId, ...account } = benchAccount(a, "floor", NOW, {
    tier: "A",
    segment: "mid-market",
    score: 80,
    qualified: true,
  });
  const contacts = Array.from({ length: 3 }, (_, c) => ({
    email: `c${c}@${domainOf(a)}`,
    firstName: `First${c}`,
    lastName: `Last${c}`,
    title: "Head of Operations",
  }));
  return [
    padTo({ ...accountKey(a), type: "account", accountId, ...account, contacts }, 2000),
    padTo(
      { ...engagementKey(a), type: "engagement", sent: 3, opened: 1, clicked: 0, replied: false, updatedAt: NOW },
      300,
    ),
  ];
}).flat();
await batchPut(store, accountItems, 8);
const enrollments = ways
  .filter((w) => w.claims)
  .flatMap((w) => [
    ...Array.from({ length: WARMUP }, (_, i) => enrollment(tagOf(w, "warm"), i)),
    ...Array.from({ length: REPS }, (_, rep) =>
      Array.from({ length: N }, (_, i) => enrollment(tagOf(w, rep), i)),
    ).flat(),
  ]);
await batchPut(store, enrollments, 8);
log(
  `setup: ${fmt(accountItems.length)} account/engagement items, ${fmt(enrollments.length)} enrollments in ${fmt((performance.now() - t0) / 1000, 1)} s`,
);

for (const w of ways) await w.run(tagOf(w, "warm"), WARMUP);

type Sample = { perSec: number; jvmMs: number; nodeMs: number; requests: number };
const samples = new Map<string, Sample[]>(ways.map((w) => [w.name, []]));
t0 = performance.now();
for (let rep = 0; rep < REPS; rep++)
  for (const w of ways) {
    const j0 = javaPid ? procCpuSeconds(javaPid) : Number.NaN;
    const r0 = requests;
    const c0 = process.cpuUsage();
    const s0 = performance.now();
    await w.run(tagOf(w, rep), N);
    const ms = performance.now() - s0;
    const c = process.cpuUsage(c0);
    const s: Sample = {
      perSec: N / (ms / 1000),
      jvmMs: (((javaPid ? procCpuSeconds(javaPid) : Number.NaN) - j0) * 1000) / N,
      nodeMs: (c.user + c.system) / 1000 / N,
      requests: (requests - r0) / N,
    };
    samples.get(w.name)?.push(s);
    log(`rep ${rep + 1} ${w.name}: ${fmt(s.perSec)} steps/s, JVM ${fmt(s.jvmMs, 2)} ms/step`);
  }
log(`measured in ${fmt((performance.now() - t0) / 1000, 1)} s`);

const med = (name: string, f: (s: Sample) => number) => median((samples.get(name) ?? []).map(f));
const baseSamples = samples.get(BASELINE) ?? [];
const basePerSec = med(BASELINE, (s) => s.perSec);
const baseJvm = med(BASELINE, (s) => s.jvmMs);
const baseCpu = med(BASELINE, (s) => s.jvmMs + s.nodeMs);
/** Each rep's steps/s over the same rep's baseline: less sensitive to the machine's load drifting over the run. */
const paired = (name: string) =>
  (samples.get(name) ?? []).map((s, rep) => s.perSec / (baseSamples[rep]?.perSec ?? Number.NaN));
console.log(
  `### Dispatch floor on DynamoDB Local (quick-start JVM): ${fmt(N)} steps per way, x${CONCURRENCY}, median of ${REPS} alternating reps\n`,
);
console.log(
  "| way | requests / step | steps/s (median) | reps | **ratio vs baseline median** | ratio per rep (median; reps) | JVM CPU ms / step | JVM CPU vs baseline | Node CPU ms / step | CPU-bound ratio |\n" +
    "|---|---:|---:|---|---:|---|---:|---:|---:|---:|",
);
type Row = { name: string; ratio: number; paired: number[] };
const rows: Row[] = [];
for (const w of ways) {
  const perSec = med(w.name, (s) => s.perSec);
  const jvm = med(w.name, (s) => s.jvmMs);
  const node = med(w.name, (s) => s.nodeMs);
  const row = { name: w.name, ratio: perSec / basePerSec, paired: paired(w.name) };
  rows.push(row);
  const cells = [
    `${w.name}: ${w.what}`,
    fmt(
      med(w.name, (s) => s.requests),
      2,
    ),
    fmt(perSec),
    (samples.get(w.name) ?? []).map((s) => fmt(s.perSec)).join(", "),
    `**${fmt(row.ratio, 3)}**`,
    `${fmt(median(row.paired), 3)}; ${row.paired.map((r) => fmt(r, 3)).join(", ")}`,
    fmt(jvm, 2),
    `${fmt(jvm / baseJvm, 2)}x`,
    fmt(node, 2),
    fmt(baseCpu / med(w.name, (s) => s.jvmMs + s.nodeMs), 3),
  ];
  console.log(`| ${cells.join(" | ")} |`);
}

const best = (pick: (r: Row) => boolean) =>
  rows.filter((r) => r.name !== BASELINE && pick(r)).sort((a, b) => b.ratio - a.ratio)[0];
const describe = (r: Row | undefined) =>
  r
    ? `${fmt(r.ratio, 3)} (${r.name}; per rep ${fmt(Math.min(...r.paired), 3)}–${fmt(Math.max(...r.paired), 3)}), ${r.ratio >= 0.5 ? "≥" : "<"} 0.5`
    : "not measured";
const reached = rows.filter((r) => r.name !== BASELINE && r.ratio >= 0.5).map((r) => r.name);
console.log(
  `\nConclusion: best floor ratio ${describe(best(() => true))}; ` +
    `with the sender's reads (guarantee 3) ${describe(best((r) => r.name.includes("reads")))}; ` +
    `target 0.5 ${reached.length ? `reached only by: ${reached.join(", ")}` : "not reached by any way, even the two-write minimum"}.`,
);
await dynamo.stop();
