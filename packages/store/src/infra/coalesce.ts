import { SendMessageBatchCommand, type SendMessageBatchCommandOutput, type SQSClient } from "@aws-sdk/client-sqs";
import {
  BatchGetCommand,
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import type { Store } from "./clients.js";
import { type Backoff, backoff } from "./retry.js";

/**
 * Request coalescing for workers that handle many messages at once (the send worker gets up to
 * 10 per SQS batch, and the local poller runs several batches side by side). On DynamoDB Local
 * and on the SDK's side the cost is per REQUEST, so what concurrent callers ask for within the
 * same turn of the event loop is merged, with the same per-item semantics:
 *
 * - consistent GetItem (no projection) and single-table consistent BatchGetItem → one
 *   BatchGetItem of up to 100 distinct keys (UnprocessedKeys retried);
 * - only when `coalesceOptions.writes` is on (off by default, see there): PutItem / UpdateItem /
 *   DeleteItem without ReturnValues → one TransactWriteItems of up to 100 items on distinct keys. Each item keeps its own condition: when the transaction is
 *   cancelled, the items whose condition failed get a `ConditionalCheckFailedException` and
 *   the others (not applied, cancellation reason `None`/conflict) are retried, so every caller
 *   sees exactly what its own request would have done. Two writes of the same key never share
 *   a transaction (the later one waits for the next round). A lone write goes out as itself;
 * - identical Query requests → one request, its answer shared;
 * - SQS SendMessageBatch to the same queue → merged up to 10 entries / 256 KB.
 *
 * Anything else (queries, ReturnValues, caller transactions) passes through unchanged.
 */
type Item = Record<string, unknown>;
type Pending<T> = { resolve: (v: T) => void; reject: (e: unknown) => void };

const MAX_TX = 100;
const MAX_GET = 100;
const MAX_SQS_BYTES = 250_000;
/** UnprocessedKeys, as in batch.ts. */
const UNPROCESSED: Backoff = { baseMs: 25, capMs: 2000 };
/** Before a round with writes that collided twice: a short pause, uniform in [0, 20] ms. */
const COLLIDED: Backoff = { baseMs: 20, capMs: 20 };

/** What the coalescing stores did, for benches: requests sent and items in them, cancellations by reason. */
export const coalesceStats = new Map<string, number>();
const stat = (k: string, n = 1) => coalesceStats.set(k, (coalesceStats.get(k) ?? 0) + n);

/**
 * Whether plain conditional writes are merged into transactions. Off by default: DynamoDB Local
 * runs transactions one at a time and charges a transactional item about what a single
 * conditional write costs, so merging trades parallel writes for a queue (measured in
 * bench/dispatch.ts, see bench/RESULTS.md). Reads and SQS sends are always merged.
 */
export const coalesceOptions = { writes: false };

const keyId = (table: string, k: Item) => `${table}|${String(k.pk)}|${String(k.sk)}`;

class ConditionFailed extends Error {
  override name = "ConditionalCheckFailedException";
}

type GetWait = { table: string; keys: Item[] } & Pending<Map<string, Item>>;
type TxOp = { Put?: Item; Update?: Item; Delete?: Item };
type WriteWait = { table: string; id: string; op: TxOp; cmd: unknown; tries: number } & Pending<unknown>;
type SqsEntry = { Id: string; MessageBody: string };
type SqsWait = { url: string; entries: SqsEntry[]; bytes: number } & Pending<SendMessageBatchCommandOutput>;

class Coalescer {
  private gets: GetWait[] = [];
  private writes: WriteWait[] = [];
  private sqsWaits: SqsWait[] = [];
  private queries = new Map<string, { cmd: QueryCommand; waits: Pending<unknown>[] }>();
  private scheduled = false;

  constructor(
    private readonly ddb: DynamoDBDocumentClient,
    private readonly sqs: SQSClient,
  ) {}

  private schedule() {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      const gets = this.gets;
      const sqsWaits = this.sqsWaits;
      const queries = this.queries;
      this.gets = [];
      this.sqsWaits = [];
      this.queries = new Map();
      for (const q of queries.values())
        this.ddb.send(q.cmd).then(
          (r) => {
            for (const w of q.waits) w.resolve(r);
          },
          (e) => {
            for (const w of q.waits) w.reject(e);
          },
        );
      if (gets.length) void this.flushGets(gets);
      if (sqsWaits.length) void this.flushSqs(sqsWaits);
      if (this.writes.length) this.flushWrites();
    });
  }

  getMany(table: string, keys: Item[]): Promise<Map<string, Item>> {
    return new Promise((resolve, reject) => {
      this.gets.push({ table, keys, resolve, reject });
      this.schedule();
    });
  }

  /** Identical queries asked in the same turn are sent once (never joined to one already sent). */
  query(cmd: QueryCommand): Promise<unknown> {
    const id = JSON.stringify(cmd.input);
    return new Promise((resolve, reject) => {
      const q = this.queries.get(id) ?? { cmd, waits: [] };
      q.waits.push({ resolve, reject });
      this.queries.set(id, q);
      this.schedule();
    });
  }

  write(table: string, id: string, op: TxOp, cmd: unknown): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.writes.push({ table, id, op, cmd, tries: 0, resolve, reject });
      this.schedule();
    });
  }

  sendBatch(url: string, entries: SqsEntry[]): Promise<SendMessageBatchCommandOutput> {
    const bytes = entries.reduce((n, e) => n + Buffer.byteLength(e.MessageBody), 0);
    return new Promise((resolve, reject) => {
      this.sqsWaits.push({ url, entries, bytes, resolve, reject });
      this.schedule();
    });
  }

  private async flushGets(waits: GetWait[]) {
    const byTable = new Map<string, GetWait[]>();
    for (const w of waits) byTable.set(w.table, [...(byTable.get(w.table) ?? []), w]);
    for (const [table, ws] of byTable) {
      const unique = new Map<string, Item>();
      for (const w of ws) for (const k of w.keys) unique.set(keyId(table, k), { pk: k.pk, sk: k.sk });
      const found = new Map<string, Item>();
      try {
        const all = [...unique.values()];
        await Promise.all(
          Array.from({ length: Math.ceil(all.length / MAX_GET) }, async (_, c) => {
            let pending = all.slice(c * MAX_GET, (c + 1) * MAX_GET);
            for (let attempt = 0; pending.length; attempt++) {
              if (attempt >= 10) throw new Error(`BatchGetItem: ${pending.length} keys unprocessed`);
              if (attempt > 0) await backoff(attempt, UNPROCESSED);
              const res = await this.ddb.send(
                new BatchGetCommand({ RequestItems: { [table]: { Keys: pending, ConsistentRead: true } } }),
              );
              for (const item of res.Responses?.[table] ?? []) found.set(keyId(table, item), item);
              pending = (res.UnprocessedKeys?.[table]?.Keys ?? []) as Item[];
            }
          }),
        );
      } catch (e) {
        for (const w of ws) w.reject(e);
        continue;
      }
      for (const w of ws) w.resolve(found);
    }
  }

  /** One round: a transaction of distinct keys (per table); the rest waits for the next round. */
  private flushWrites() {
    const take: WriteWait[] = [];
    const keep: WriteWait[] = [];
    const seen = new Set<string>();
    for (const w of this.writes) {
      if (take.length < MAX_TX && !seen.has(w.id)) {
        seen.add(w.id);
        take.push(w);
      } else keep.push(w);
    }
    this.writes = keep;
    void this.runWrites(take).finally(() => {
      if (this.writes.length) this.schedule();
    });
  }

  private async runWrites(take: WriteWait[]) {
    const only = take.length === 1 ? take[0] : undefined;
    if (only) {
      stat("single");
      try {
        only.resolve(await this.ddb.send(only.cmd as PutCommand));
      } catch (e) {
        only.reject(e);
      }
      return;
    }
    stat("tx");
    stat("tx.items", take.length);
    try {
      await this.ddb.send(new TransactWriteCommand({ TransactItems: take.map((w) => w.op) as never }));
      for (const w of take) w.resolve({ $metadata: {} });
      return;
    } catch (e) {
      const name = (e as Error).name;
      const reasons = (e as { CancellationReasons?: { Code?: string }[] }).CancellationReasons;
      const retry: WriteWait[] = [];
      stat(`tx.${name}`);
      for (const r of reasons ?? []) stat(`tx.reason.${r.Code ?? "?"}`);
      if (name === "TransactionCanceledException" && reasons && reasons.length === take.length) {
        take.forEach((w, i) => {
          const code = reasons[i]?.Code ?? "None";
          if (code === "ConditionalCheckFailed") w.reject(new ConditionFailed("The conditional request failed"));
          else if (code === "None" || code === "TransactionConflict" || code === "ThrottlingError") retry.push(w);
          else w.reject(e);
        });
      } else if (name === "TransactionCanceledException" || name === "TransactionConflictException") {
        retry.push(...take);
      } else {
        for (const w of take) w.reject(e);
        return;
      }
      // Not applied: try again. A write that keeps colliding goes out on its own.
      for (const w of retry) {
        w.tries++;
        if (w.tries >= 3)
          void (async () => {
            stat("gave-up-to-single");
            try {
              w.resolve(await this.ddb.send(w.cmd as PutCommand));
            } catch (err) {
              w.reject(err);
            }
          })();
        else this.writes.push(w);
      }
      if (this.writes.length) {
        if (retry.some((w) => w.tries > 1)) await backoff(1, COLLIDED);
        this.schedule();
      }
    }
  }

  private async flushSqs(waits: SqsWait[]) {
    const byUrl = new Map<string, SqsWait[]>();
    for (const w of waits) byUrl.set(w.url, [...(byUrl.get(w.url) ?? []), w]);
    const groups: SqsWait[][] = [];
    for (const ws of byUrl.values()) {
      let cur: SqsWait[] = [];
      let n = 0;
      let bytes = 0;
      for (const w of ws) {
        if (cur.length && (n + w.entries.length > 10 || bytes + w.bytes > MAX_SQS_BYTES)) {
          groups.push(cur);
          cur = [];
          n = 0;
          bytes = 0;
        }
        cur.push(w);
        n += w.entries.length;
        bytes += w.bytes;
      }
      if (cur.length) groups.push(cur);
    }
    await Promise.all(
      groups.map(async (g) => {
        const url = g[0]?.url as string;
        const entries: SqsEntry[] = [];
        const back = new Map<string, { w: SqsWait; id: string }>();
        for (const [i, w] of g.entries())
          for (const [j, e] of w.entries.entries()) {
            const id = `m${i}_${j}`;
            back.set(id, { w, id: e.Id });
            entries.push({ ...e, Id: id });
          }
        try {
          const res = await this.sqs.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: entries }));
          for (const w of g) {
            const mine = (xs: { Id?: string }[] | undefined) =>
              (xs ?? [])
                .filter((x) => back.get(x.Id ?? "")?.w === w)
                .map((x) => ({ ...x, Id: back.get(x.Id ?? "")?.id }));
            w.resolve({
              $metadata: res.$metadata,
              Successful: mine(res.Successful) as never,
              Failed: mine(res.Failed) as never,
            });
          }
        } catch (e) {
          for (const w of g) w.reject(e);
        }
      }),
    );
  }
}

const plainWrite = (input: Item) =>
  (input.ReturnValues === undefined || input.ReturnValues === "NONE") &&
  input.ReturnValuesOnConditionCheckFailure === undefined &&
  input.ReturnConsumedCapacity === undefined &&
  input.ReturnItemCollectionMetrics === undefined;

const cache = new WeakMap<Store, Store>();

/** A view of `store` whose DynamoDB and SQS clients coalesce concurrent requests (see above). */
export function coalescing(store: Store): Store {
  const hit = cache.get(store);
  if (hit) return hit;
  const c = new Coalescer(store.ddb, store.sqs);
  const ddbSend = async (cmd: unknown): Promise<unknown> => {
    if (cmd instanceof GetCommand) {
      const i = cmd.input as Item;
      if (i.ConsistentRead && !i.ProjectionExpression && !i.ExpressionAttributeNames && i.TableName) {
        const table = String(i.TableName);
        const key = i.Key as Item;
        const found = await c.getMany(table, [key]);
        return { $metadata: {}, Item: found.get(keyId(table, key)) };
      }
    } else if (cmd instanceof BatchGetCommand) {
      const req = (cmd.input as Item).RequestItems as Record<string, Item> | undefined;
      const tables = Object.keys(req ?? {});
      const table = tables[0];
      const r = table ? req?.[table] : undefined;
      if (table && tables.length === 1 && r?.ConsistentRead && !r.ProjectionExpression && Array.isArray(r.Keys)) {
        const keys = r.Keys as Item[];
        const found = await c.getMany(table, keys);
        const items = keys.map((k) => found.get(keyId(table, k))).filter((x): x is Item => x !== undefined);
        return { $metadata: {}, Responses: { [table]: items }, UnprocessedKeys: {} };
      }
    } else if (cmd instanceof QueryCommand) {
      return c.query(cmd);
    } else if (cmd instanceof PutCommand || cmd instanceof UpdateCommand || cmd instanceof DeleteCommand) {
      const i = cmd.input as Item;
      if (coalesceOptions.writes && plainWrite(i) && i.TableName) {
        const table = String(i.TableName);
        const key = (cmd instanceof PutCommand ? i.Item : i.Key) as Item;
        const { ReturnValues: _r, ...op } = i;
        const tx: TxOp =
          cmd instanceof PutCommand ? { Put: op } : cmd instanceof UpdateCommand ? { Update: op } : { Delete: op };
        return c.write(table, keyId(table, key), tx, cmd);
      }
    }
    return store.ddb.send(cmd as GetCommand);
  };
  const sqsSend = async (cmd: unknown): Promise<unknown> => {
    if (cmd instanceof SendMessageBatchCommand) {
      const i = cmd.input;
      const entries = i.Entries ?? [];
      const simple = entries.every((e) => Object.keys(e).every((k) => k === "Id" || k === "MessageBody"));
      if (i.QueueUrl && simple && entries.length)
        return c.sendBatch(
          i.QueueUrl,
          entries.map((e) => ({ Id: e.Id as string, MessageBody: e.MessageBody as string })),
        );
    }
    return store.sqs.send(cmd as SendMessageBatchCommand);
  };
  const out: Store = {
    cfg: store.cfg,
    ddb: new Proxy(store.ddb, {
      get: (t, p, r) => (p === "send" ? ddbSend : Reflect.get(t, p, r)),
    }),
    sqs: new Proxy(store.sqs, {
      get: (t, p, r) => (p === "send" ? sqsSend : Reflect.get(t, p, r)),
    }),
  };
  cache.set(store, out);
  cache.set(out, out);
  return out;
}
