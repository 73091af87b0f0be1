import {
  candidateMessageIds,
  classifyInbound,
  findReturnDate,
  messageIdsIn,
  normalizeMessageId,
  parseInbound,
  parseSesNotification,
  replyText,
} from "@icp/core";
import { describe, expect, it } from "vitest";

const MONDAY = new Date("2026-12-07T10:00:00Z");

function mail(headers: string, body: string): string {
  const base = "From: Bob <bob@northwind.example>\nTo: alice@acme-sales.test\nDate: Mon, 7 Dec 2026 10:00:00 +0000\n";
  return `${base}${headers}MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n${body}\n`;
}

async function classify(headers: string, body: string) {
  return classifyInbound(await parseInbound(mail(headers, body)));
}

describe("Message-IDs", () => {
  it("strips brackets and lower-cases only the domain", () => {
    expect(normalizeMessageId("<Snd.01ABC@Acme-Sales.TEST>")).toBe("Snd.01ABC@acme-sales.test");
    expect(normalizeMessageId("no-at-sign")).toBeNull();
    expect(normalizeMessageId("<>")).toBeNull();
  });

  it("reads every id of a References header", () => {
    expect(messageIdsIn("<a@x.example>\n <b@Y.example> <c@z.example>")).toEqual([
      "a@x.example",
      "b@y.example",
      "c@z.example",
    ]);
    expect(messageIdsIn(undefined)).toEqual([]);
  });

  it("orders candidates In-Reply-To first, then References newest first, without duplicates", () => {
    const msg = { inReplyTo: "c@z.example", references: ["a@x.example", "b@y.example", "c@z.example"] };
    expect(candidateMessageIds(msg)).toEqual(["c@z.example", "b@y.example", "a@x.example"]);
  });

  it("parses ids out of a received message", async () => {
    const raw = mail(
      "Message-ID: <R1@Northwind.example>\nIn-Reply-To: <snd.1@Acme-Sales.test>\nReferences: <snd.0@acme-sales.test>\n <snd.1@acme-sales.test>\n",
      "ok",
    );
    const msg = await parseInbound(raw);
    expect(msg.messageId).toBe("R1@northwind.example");
    expect(candidateMessageIds(msg)).toEqual(["snd.1@acme-sales.test", "snd.0@acme-sales.test"]);
    expect(msg.date).toBe("2026-12-07T10:00:00.000Z");
    expect(msg.from).toEqual({ address: "bob@northwind.example", name: "Bob" });
  });
});

describe("auto-reply signs", () => {
  it("takes Auto-Submitted other than `no` alone, and ignores `no`", async () => {
    expect((await classify("Auto-Submitted: auto-replied\nSubject: Re: hi\n", "Thanks, I got it.")).kind).toBe(
      "auto_reply",
    );
    expect(
      (await classify("Auto-Submitted: no\nIn-Reply-To: <s@acme-sales.test>\nSubject: Re: hi\n", "Thanks, I got it."))
        .kind,
    ).toBe("reply");
  });

  it("needs out-of-office wording next to a hint header", async () => {
    const hint = "X-Auto-Response-Suppress: All\nIn-Reply-To: <s@acme-sales.test>\nSubject: Re: hi\n";
    expect(await classify(hint, "Sounds good, call me.")).toEqual({ kind: "reply", text: "Sounds good, call me." });
    expect(await classify(hint, "I am out of the office until 10 December.")).toMatchObject({
      kind: "auto_reply",
      subKind: "out_of_office",
      returnDate: "2026-12-10",
    });
  });

  it("reads a subject like Outlook's, but not our own subject behind Re:", async () => {
    expect((await classify("Subject: Automatische Antwort: hi\n", "Danke für Ihre Nachricht.")).kind).toBe(
      "auto_reply",
    );
    expect(
      (await classify("In-Reply-To: <s@acme-sales.test>\nSubject: Re: Absence management\n", "Tell me more.")).kind,
    ).toBe("reply");
  });
});

describe("findReturnDate", () => {
  it("takes the latest future day the text names", () => {
    expect(findReturnDate("Away from 8 December until 14 December.", MONDAY, ["en"])).toBe("2026-12-14");
    expect(findReturnDate("Je serai de retour le 4 janvier.", new Date("2026-12-28T09:00:00Z"), ["fr"])).toBe(
      "2027-01-04",
    );
    expect(findReturnDate("Zurück am Donnerstag.", MONDAY, ["de"])).toBe("2026-12-10");
  });

  it("ignores past days, far days and bare times", () => {
    expect(findReturnDate("I was away on 1 December.", MONDAY, ["en"])).toBeNull();
    expect(findReturnDate("Back on 3 March 2029.", MONDAY, ["en"])).toBeNull();
    expect(findReturnDate("Call me at 3pm.", MONDAY, ["en"])).toBeNull();
    expect(findReturnDate("", MONDAY, [])).toBeNull();
  });
});

describe("reply text", () => {
  it("cuts a localised Outlook header block and an underscore rule", () => {
    const fr = "D'accord pour jeudi.\n\nDe : Alice Martin\nEnvoyé : lundi 7 décembre 2026 10:02\nÀ : Julien\n\nBonjour";
    expect(replyText(fr)).toBe("D'accord pour jeudi.");
    const rule =
      "Yes.\n\n________________________________\nFrom: Alice Martin <alice@acme-sales.test>\nSent: Monday\n\nHi";
    expect(replyText(rule)).toBe("Yes.");
  });

  it("does not read an unsubscribe link in the quoted part", async () => {
    const body =
      "Interested, tell me more.\n\nOn Mon, Dec 7, 2026 at 9:00 AM Alice <alice@acme-sales.test> wrote:\n> Reply unsubscribe to stop.";
    expect(await classify("In-Reply-To: <s@acme-sales.test>\nSubject: Re: hi\n", body)).toEqual({
      kind: "reply",
      text: "Interested, tell me more.",
    });
  });
});

describe("reports", () => {
  it("a DSN that reports only deliveries is not a bounce", async () => {
    const raw = [
      "From: MAILER-DAEMON@mx.example",
      "To: alice@acme-sales.test",
      "Subject: Successful Mail Delivery Report",
      'Content-Type: multipart/report; report-type=delivery-status; boundary="b"',
      "",
      "--b",
      "Content-Type: text/plain",
      "",
      "Delivered.",
      "--b",
      "Content-Type: message/delivery-status",
      "",
      "Reporting-MTA: dns; mx.example",
      "",
      "Final-Recipient: rfc822; bob@northwind.example",
      "Action: delivered",
      "Status: 2.0.0",
      "--b--",
      "",
    ].join("\n");
    expect(classifyInbound(await parseInbound(raw))).toEqual({
      kind: "unknown",
      reason: "delivery report without failures",
    });
  });

  it("a DSN without the original falls back to X-Original-Message-ID", async () => {
    const raw = [
      "From: Mail Delivery Subsystem <mailer-daemon@googlemail.example>",
      "To: alice@acme-sales.test",
      "Subject: Delivery Status Notification (Failure)",
      "Content-Type: multipart/report; report-type=delivery-status; boundary=b",
      "",
      "--b",
      "Content-Type: message/delivery-status",
      "",
      "Reporting-MTA: dns; googlemail.example",
      "X-Original-Message-ID: <snd.9@Acme-Sales.test>",
      "",
      "Final-Recipient: rfc822; gone@gmail.example",
      "Action: failed",
      "Status: 4.2.2",
      "--b--",
      "",
    ].join("\n");
    expect(classifyInbound(await parseInbound(raw))).toMatchObject({
      kind: "bounce",
      bounceType: "soft",
      originalMessageId: "snd.9@acme-sales.test",
      recipients: [{ address: "gone@gmail.example", status: "4.2.2", bounceType: "soft" }],
    });
  });

  it("SES: an SNS subscription confirmation or junk is not a notification", () => {
    expect(
      parseSesNotification({ Type: "SubscriptionConfirmation", Message: "You have chosen to subscribe" }),
    ).toBeNull();
    expect(parseSesNotification("not json")).toBeNull();
    expect(parseSesNotification({ notificationType: "Bounce" })).toBeNull();
  });
});
