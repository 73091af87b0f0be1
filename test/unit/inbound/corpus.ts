import { readdirSync, readFileSync } from "node:fs";
import { classifyInbound, type InboundClassification, parseInbound, parseSesNotification } from "@icp/core";

/** The fixture corpus (test/fixtures/mail) and the reduced results expected.json records. */
export const CORPUS_DIR = new URL("../../fixtures/mail/", import.meta.url).pathname;

export type CorpusFile = { name: string; raw: Buffer; kind: "eml" | "ses" };

export function corpusFiles(): CorpusFile[] {
  return readdirSync(CORPUS_DIR)
    .filter((f) => f.endsWith(".eml") || (f.endsWith(".json") && f !== "expected.json"))
    .sort()
    .map((name) => ({ name, raw: readFileSync(CORPUS_DIR + name), kind: name.endsWith(".eml") ? "eml" : "ses" }));
}

export function expectedResults(): Record<string, unknown> {
  return JSON.parse(readFileSync(`${CORPUS_DIR}expected.json`, "utf8"));
}

/** The fields the manifest pins per kind (diagnostics and signals are free to improve). */
export function brief(c: InboundClassification | null): Record<string, unknown> | null {
  if (!c) return null;
  switch (c.kind) {
    case "reply":
    case "unsubscribe":
      return { kind: c.kind, text: c.text };
    case "auto_reply":
      return { kind: c.kind, subKind: c.subKind, returnDate: c.returnDate };
    case "bounce": {
      const recipients = c.recipients.map((r) => ({ address: r.address, bounceType: r.bounceType }));
      return { kind: c.kind, bounceType: c.bounceType, recipients, originalMessageId: c.originalMessageId };
    }
    case "complaint":
      return {
        kind: c.kind,
        feedbackType: c.feedbackType,
        recipient: c.recipient,
        originalMessageId: c.originalMessageId,
      };
    case "unknown":
      return { kind: c.kind };
  }
}

/** Parse and classify one corpus file, reduced like the manifest. */
export async function classifyFile(file: CorpusFile): Promise<unknown> {
  if (file.kind === "eml") return brief(classifyInbound(await parseInbound(file.raw)));
  const n = parseSesNotification(file.raw.toString("utf8"));
  if (!n) return null;
  const { eventType, originalMessageId, recipients } = n;
  return { eventType, originalMessageId, recipients, classification: brief(n.classification) };
}
