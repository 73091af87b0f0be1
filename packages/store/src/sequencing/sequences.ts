import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { diffSequence, newId, type SequenceChange, type SequenceDefinition } from "@icp/core";
import type { Store } from "../infra/index.js";
import { keys, queryAll, writeVersion } from "../infra/index.js";

/**
 * Sequence templates, versioned like ICPs: a head item (the latest version's definition plus
 * bookkeeping) and one immutable item per version, with who saved it, when, and what changed.
 * Enrollments pin a version, so a version never changes once written.
 */

/** The head: the latest version's definition, flat, with its number and bookkeeping. */
export type StoredSequence = SequenceDefinition & {
  id: string;
  /** The latest version (what new enrollments use). */
  version: number;
  createdAt: string;
  createdBy: string;
  updatedAt: string;
  updatedBy: string;
};

/** One saved version: its definition, flat, with who saved it, when, and what changed. */
export type SequenceVersionRecord = SequenceDefinition & {
  id: string;
  version: number;
  createdAt: string;
  createdBy: string;
  /** What changed against the previous version (empty for version 1). */
  changes: SequenceChange[];
};

/** A definition is stored twice (head and version item), each under DynamoDB's 400 KB item limit. */
export const SEQUENCE_MAX_BYTES = 300_000;

export class SequenceTooLargeError extends Error {}
export class SequenceConflictError extends Error {}

const definitionOf = (i: Record<string, unknown>) => i.definition as SequenceDefinition;

function toHead(i: Record<string, unknown>): StoredSequence {
  return {
    ...definitionOf(i),
    id: i.id as string,
    version: i.version as number,
    createdAt: i.createdAt as string,
    createdBy: i.createdBy as string,
    updatedAt: i.updatedAt as string,
    updatedBy: i.updatedBy as string,
  };
}

function toVersion(i: Record<string, unknown>): SequenceVersionRecord {
  return {
    ...definitionOf(i),
    id: i.id as string,
    version: i.version as number,
    createdAt: i.createdAt as string,
    createdBy: i.createdBy as string,
    changes: (i.changes ?? []) as SequenceChange[],
  };
}

/** The definition part of a head or version record. */
export function sequenceDefinition(s: SequenceDefinition): SequenceDefinition {
  return {
    name: s.name,
    ...(s.description !== undefined ? { description: s.description } : {}),
    steps: s.steps,
    stopOnAccountReply: s.stopOnAccountReply,
  };
}

function checkSize(def: SequenceDefinition) {
  const bytes = Buffer.byteLength(JSON.stringify(def));
  if (bytes > SEQUENCE_MAX_BYTES)
    throw new SequenceTooLargeError(`the sequence is ${bytes} bytes as JSON; at most ${SEQUENCE_MAX_BYTES} are stored`);
}

/** Save version 1 of a new sequence. The definition must already pass `validateSequence`. */
export async function createSequence(
  store: Store,
  ws: string,
  def: SequenceDefinition,
  actor: string,
): Promise<StoredSequence> {
  checkSize(def);
  const id = newId("seq");
  const now = new Date().toISOString();
  const version = { id, version: 1, definition: def, createdAt: now, createdBy: actor, changes: [] };
  const head = { id, version: 1, definition: def, createdAt: now, createdBy: actor, updatedAt: now, updatedBy: actor };
  const created = await writeVersion(
    store,
    { key: keys.sequenceVersion(ws, id, 1), item: { type: "sequence-version", v: 1, ...version } },
    { create: { ...keys.sequenceHead(ws, id), type: "sequence", v: 1, ...head } },
  );
  if (!created) throw new Error(`sequence id ${id} already taken`);
  return toHead(head);
}

/**
 * Save a new version (numbered after the latest), recording what changed. The head's version
 * condition makes two concurrent saves unable to both become version n (SequenceConflictError).
 * Undefined when the sequence does not exist in this workspace.
 */
export async function putSequenceVersion(
  store: Store,
  ws: string,
  id: string,
  def: SequenceDefinition,
  actor: string,
): Promise<{ sequence: StoredSequence; version: SequenceVersionRecord } | undefined> {
  checkSize(def);
  const head = await getSequence(store, ws, id);
  if (!head) return undefined;
  const n = head.version + 1;
  const now = new Date().toISOString();
  const version: SequenceVersionRecord = {
    ...def,
    id,
    version: n,
    createdAt: now,
    createdBy: actor,
    changes: diffSequence(sequenceDefinition(head), def),
  };
  const saved = await writeVersion(
    store,
    {
      key: keys.sequenceVersion(ws, id, n),
      item: {
        type: "sequence-version",
        v: 1,
        id,
        version: n,
        definition: def,
        createdAt: now,
        createdBy: actor,
        changes: version.changes,
      },
    },
    {
      key: keys.sequenceHead(ws, id),
      set: ["#vattr = :n", "#def = :def", "#updatedAt = :now", "#updatedBy = :actor"],
      versionAttr: "version",
      prev: head.version,
      names: { "#def": "definition", "#updatedAt": "updatedAt", "#updatedBy": "updatedBy" },
      values: { ":n": n, ":def": def, ":now": now, ":actor": actor },
    },
  );
  if (!saved) throw new SequenceConflictError(`sequence ${id} changed meanwhile; reload it and retry`);
  return { sequence: { ...head, ...def, version: n, updatedAt: now, updatedBy: actor }, version };
}

/** The head: latest version's definition. */
export async function getSequence(store: Store, ws: string, id: string): Promise<StoredSequence | undefined> {
  const res = await store.ddb.send(
    new GetCommand({ TableName: store.cfg.tableName, Key: keys.sequenceHead(ws, id), ConsistentRead: true }),
  );
  return res.Item ? toHead(res.Item) : undefined;
}

const versions = new Map<string, SequenceVersionRecord>();

/**
 * One version (immutable once written, so reads are cached per process: the send path reads
 * the enrollment's pinned version for every step).
 */
export async function getSequenceVersion(
  store: Store,
  ws: string,
  id: string,
  version: number,
): Promise<SequenceVersionRecord | undefined> {
  const cacheKey = `${store.cfg.tableName}|${ws}|${id}|${version}`;
  const hit = versions.get(cacheKey);
  if (hit) return hit;
  const res = await store.ddb.send(
    new GetCommand({
      TableName: store.cfg.tableName,
      Key: keys.sequenceVersion(ws, id, version),
      ConsistentRead: true,
    }),
  );
  if (!res.Item) return undefined;
  const v = toVersion(res.Item);
  if (versions.size >= 1000) versions.clear();
  versions.set(cacheKey, v);
  return v;
}

/** The workspace's sequences (heads), oldest first. */
export async function listSequences(store: Store, ws: string): Promise<StoredSequence[]> {
  const k = keys.sequenceHeadPrefix(ws);
  return (await queryAll(store, k.pk, k.skPrefix)).map(toHead);
}

/** Every version of a sequence, oldest first (empty when it does not exist). */
export async function listSequenceVersions(store: Store, ws: string, id: string): Promise<SequenceVersionRecord[]> {
  const k = keys.sequenceVersionPrefix(ws, id);
  return (await queryAll(store, k.pk, k.skPrefix)).map(toVersion);
}
