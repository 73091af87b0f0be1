import { classifyInbound, InboundClassification, parseInbound, parseSesNotification } from "@icp/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { corpusFiles } from "./corpus.js";

const emls = corpusFiles().filter((f) => f.kind === "eml");

/**
 * Rewrite the top-level header section: field names in random case (RFC 5322 §1.2.2: names
 * are case-insensitive) and values folded at random before existing whitespace (§2.2.3:
 * unfolding removes only the line break; never at a line start, which would end the header
 * section), so the message means exactly the same.
 */
function recase(raw: string, bits: readonly boolean[]): string {
  const end = raw.search(/\r?\n\r?\n/);
  let i = 0;
  const bit = () => bits[i++ % bits.length] ?? false;
  const head = raw
    .slice(0, end)
    .split("\n")
    .map((line) => {
      const m = /^([!-9;-~]+):(.*)$/.exec(line);
      const name = m ? [...(m[1] ?? "")].map((c) => (bit() ? c.toUpperCase() : c.toLowerCase())).join("") : null;
      const value = (m ? (m[2] ?? "") : line).replace(/(?<=\S) (?=\S)/g, (sp) => (bit() && bit() ? `\n${sp}` : sp));
      return name === null ? value : `${name}:${value}`;
    })
    .join("\n");
  return head + raw.slice(end);
}

describe("inbound classification properties", () => {
  it("does not depend on header-name case or header folding", async () => {
    const file = fc.constantFrom(...emls);
    const bits = fc.array(fc.boolean(), { minLength: 64, maxLength: 256 });
    await fc.assert(
      fc.asyncProperty(file, bits, async (f, b) => {
        const before = classifyInbound(await parseInbound(f.raw));
        const after = classifyInbound(await parseInbound(recase(f.raw.toString("utf8"), b)));
        expect(after.kind).toBe(before.kind);
        expect(after).toEqual(before);
      }),
      { numRuns: 150 },
    );
  });

  it("never throws on arbitrary bytes, and always returns a valid classification", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 4_000 }), async (bytes) => {
        const result = classifyInbound(await parseInbound(Buffer.from(bytes)));
        expect(InboundClassification.safeParse(result).success).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it("never throws on mail-shaped noise (reports, auto-reply headers, quotes)", async () => {
    const pieces = fc.constantFrom(
      "Content-Type: multipart/report; report-type=delivery-status; boundary=b\n",
      "Content-Type: multipart/report; report-type=feedback-report; boundary=b\n",
      "Auto-Submitted: auto-replied\n",
      "Precedence: bulk\n",
      "From: MAILER-DAEMON@x.example\nSubject: failure notice\n",
      "\n--b\nContent-Type: message/delivery-status\n\nFinal-Recipient: rfc822; a@b.example\nAction: failed\nStatus: 5.1.1\n",
      "\n--b\nContent-Type: message/feedback-report\n\nFeedback-Type: abuse\n",
      "\n--b\nContent-Type: message/rfc822\n\nMessage-ID: <x@y>\n",
      "\n--b--\n",
      "On Mon, Dec 7, 2026 at 10:02 AM A <a@b> wrote:\n> hi\n",
      "I am out of the office until 14 December.\n",
      "\n\n",
    );
    const message = fc.array(fc.oneof(pieces, fc.string({ maxLength: 40 })), { maxLength: 30 }).map((p) => p.join(""));
    await fc.assert(
      fc.asyncProperty(message, async (raw) => {
        const result = classifyInbound(await parseInbound(raw));
        expect(InboundClassification.safeParse(result).success).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it("parseSesNotification never throws on arbitrary JSON or values", () => {
    fc.assert(
      fc.property(fc.oneof(fc.json(), fc.anything()), (input) => {
        const n = parseSesNotification(input);
        if (n?.classification) expect(InboundClassification.safeParse(n.classification).success).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});
