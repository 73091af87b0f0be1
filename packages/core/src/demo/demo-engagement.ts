import type { Tier } from "../accounts/index.js";
import type { EventInput, EventType } from "../events/index.js";
import type { Channel, Track } from "../sequencing/index.js";
import { prng } from "./demo.js";

/** What the demo engagement needs to know about an account. */
export type DemoEngagementAccount = {
  id: string;
  tier: Tier;
  qualified: boolean;
  segment: string;
  contacts: { id: string; email?: string }[];
};

/** A sequence the demo accounts of one track go through; steps with variants split accounts evenly. */
export type DemoEngagementSequence = {
  id: string;
  version: number;
  track: Track;
  steps: { id: string; channel: Channel; variants?: string[] }[];
};

/** A demo event: an `EventInput` with its (deterministic) id and time resolved. */
export type DemoEvent = EventInput & { id: string; at: string };

/** Used when the workspace has no sequences of its own: same shape as real ones. */
export const DEMO_ENGAGEMENT_SEQUENCES: DemoEngagementSequence[] = [
  {
    id: "seq_demo_priority",
    version: 1,
    track: "priority",
    steps: [
      { id: "intro-email", channel: "email", variants: ["A", "B"] },
      { id: "linkedin-invite", channel: "linkedin_invite" },
      { id: "follow-up", channel: "email" },
      { id: "call", channel: "call_task" },
    ],
  },
  {
    id: "seq_demo_nurture",
    version: 1,
    track: "nurture",
    steps: [
      { id: "value-email", channel: "email", variants: ["A", "B"] },
      { id: "case-study", channel: "email" },
      { id: "check-in", channel: "email" },
    ],
  },
  {
    id: "seq_demo_generic",
    version: 1,
    track: "generic",
    steps: [
      { id: "newsletter", channel: "email" },
      { id: "webinar-invite", channel: "email" },
    ],
  },
];

/** Per track: share of accounts contacted, and per-step open / click / LinkedIn acceptance rates. */
const STEP_RATES: Record<Track, { contacted: number; open: number; click: number; accept: number }> = {
  priority: { contacted: 1, open: 0.62, click: 0.3, accept: 0.4 },
  nurture: { contacted: 1, open: 0.48, click: 0.22, accept: 0.3 },
  generic: { contacted: 0.5, open: 0.3, click: 0.12, accept: 0.2 },
};

/**
 * How far reached accounts go, as shares of the group (track x ICP-qualified): replied, then
 * booked a meeting, then got an opportunity, then won. Outcomes are dealt by quota within each
 * group (not drawn one by one), so even 300 accounts tell a steady story: ICP accounts convert
 * about 3.5x better than the others, priority better than nurture better than generic.
 */
const FUNNEL: Record<
  Track,
  Record<"icp" | "other", [reply: number, meeting: number, opportunity: number, won: number]>
> = {
  priority: { icp: [0.45, 0.32, 0.24, 0.15], other: [0.35, 0.22, 0.15, 0.08] },
  nurture: { icp: [0.35, 0.22, 0.15, 0.1], other: [0.25, 0.12, 0.07, 0.04] },
  generic: { icp: [0.2, 0.1, 0.06, 0.04], other: [0.15, 0.06, 0.035, 0.02] },
};
const DEAL: Record<Track, [number, number]> = {
  priority: [18_000, 60_000],
  nurture: [8_000, 30_000],
  generic: [3_000, 15_000],
};
/** Share of the first step's variant "B" among accounts that replied, and among the others: B wins the A/B test. */
const VARIANT_B = { replied: 0.75, other: 0.4 };
/** Share of replies that come on the first step when it is an A/B test (the rest: any step). */
const FIRST_STEP_REPLIES = 0.5;

const DAY = 86_400_000;
const HOUR = 3_600_000;
type Stage = 0 | 1 | 2 | 3 | 4; // none, replied, meeting, opportunity (then lost), won

/**
 * Realistic engagement for the demo accounts over the last `days` days: sends step by step,
 * deliveries and bounces, opens, clicks, LinkedIn acceptances, replies (which end the
 * sequence), unsubscribes, meetings, opportunities, deals won with amounts or lost.
 * Deterministic for the same accounts, sequences, seed and `now`; event ids are derived from
 * the account, so recording the same demo twice counts once.
 */
export function demoEngagement(
  accounts: readonly DemoEngagementAccount[],
  opts: { now: Date; days?: number; seed?: number; sequences?: readonly DemoEngagementSequence[] },
): DemoEvent[] {
  const now = opts.now.getTime();
  const days = Math.max(30, opts.days ?? 60);
  const rnd = prng(opts.seed ?? 7);
  const sequences = opts.sequences ?? DEMO_ENGAGEMENT_SEQUENCES;
  const sorted = [...accounts].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

  // Who is reached (one random key per account, drawn in id order), then outcomes by quota per group.
  const reached: { a: DemoEngagementAccount; track: Track; seq: DemoEngagementSequence; key: number }[] = [];
  for (const a of sorted) {
    const roll = rnd();
    const key = rnd();
    if (a.tier === "disqualified") continue;
    const track = a.tier as Track;
    const seq = sequences.find((s) => s.track === track && s.steps.length > 0);
    if (seq && roll < STEP_RATES[track].contacted) reached.push({ a, track, seq, key });
  }
  const stage = new Map<string, Stage>();
  const groups = new Map<string, typeof reached>();
  for (const r of reached) {
    const g = `${r.track}/${r.a.qualified ? "icp" : "other"}`;
    groups.set(g, [...(groups.get(g) ?? []), r]);
  }
  for (const [g, members] of groups) {
    const [track, kind] = g.split("/") as [Track, "icp" | "other"];
    const quota = FUNNEL[track][kind].map((share) => Math.round(share * members.length));
    const order = [...members].sort((x, y) => x.key - y.key);
    order.forEach((r, i) => {
      const s = quota.filter((q) => i < q).length as Stage;
      stage.set(r.a.id, s);
    });
  }

  const events: DemoEvent[] = [];
  for (const { a, track, seq } of reached) {
    const r = STEP_RATES[track];
    const st = stage.get(a.id) ?? 0;
    const contact = a.contacts[0];
    let n = 0;
    const push = (type: EventType, at: number, extra: Partial<EventInput> = {}) => {
      if (at > now) return false;
      events.push({
        id: `demo-${a.id}-${n++}`,
        type,
        accountId: a.id,
        ...(contact ? { contactId: contact.id, ...(contact.email ? { contactEmail: contact.email } : {}) } : {}),
        at: new Date(at).toISOString(),
        ...extra,
      });
      return true;
    };

    // The account's timeline, laid out first so that deals that close fit before now.
    const stepGap = (2 + rnd() * 2) * DAY;
    const abFirst = (seq.steps[0]?.variants?.length ?? 0) > 1;
    const stepRoll = rnd();
    const replyStep =
      st === 0 ? -1 : abFirst && stepRoll < FIRST_STEP_REPLIES ? 0 : Math.floor(rnd() * seq.steps.length);
    const toReply = (replyStep + 1) * stepGap;
    const meetingGap = (1 + rnd() * 6) * DAY;
    const opportunityGap = (2 + rnd() * 8) * DAY;
    const closeGap = (4 + rnd() * 14) * DAY;
    const span = st >= 3 ? toReply + meetingGap + opportunityGap + closeGap : toReply + meetingGap;
    const latest = now - Math.max(span, 10 * DAY) - DAY;
    const earliest = now - days * DAY;
    const start = latest <= earliest ? latest : earliest + rnd() * (latest - earliest);
    const bounced = rnd() < 0.03 && st === 0;
    const unsubscribed = rnd() < 0.03 && st === 0;

    let replied: number | undefined;
    for (const [i, step] of seq.steps.entries()) {
      const at = start + i * stepGap + rnd() * 4 * HOUR;
      let variant: string | undefined;
      if (step.variants?.length) {
        const wantB = rnd() < (i === replyStep ? VARIANT_B.replied : VARIANT_B.other);
        variant =
          step.variants.includes("B") && wantB ? "B" : (step.variants.find((v) => v !== "B") ?? step.variants[0]);
      }
      const ctx: Partial<EventInput> = {
        sequenceId: seq.id,
        sequenceVersion: seq.version,
        stepId: step.id,
        channel: step.channel,
        ...(variant ? { variant } : {}),
      };
      if (!push("sent", at, ctx)) break;
      if (step.channel === "email") {
        if (bounced) {
          push("bounced", at + 60_000, ctx);
          break;
        }
        push("delivered", at + 30_000, ctx);
        if (rnd() < (i === replyStep ? 0.9 : r.open)) {
          const openAt = at + (0.5 + rnd() * 20) * HOUR;
          push("opened", openAt, ctx);
          if (rnd() < r.click)
            push("clicked", openAt + rnd() * 600_000, { ...ctx, url: "https://www.example.com/demo" });
        }
        if (unsubscribed && i === Math.min(1, seq.steps.length - 1)) {
          push("unsubscribed", at + 2 * HOUR, ctx);
          break;
        }
      } else if (step.channel === "linkedin_invite" && rnd() < r.accept) {
        push("connection_accepted", at + (1 + rnd() * 48) * HOUR, ctx);
      }
      if (i === replyStep) {
        replied = at + (22 + rnd() * 24) * HOUR;
        push("replied", replied, ctx);
        break;
      }
    }
    if (replied === undefined || st < 2) continue;
    // Deal stages happen on the account, after the sequence.
    const deal = { sequenceId: seq.id, sequenceVersion: seq.version };
    const meeting = replied + meetingGap;
    if (!push("meeting_booked", meeting, deal) || st < 3) continue;
    const opportunity = meeting + opportunityGap;
    const [lo, hi] = DEAL[track];
    const amount = Math.round((lo + rnd() * (hi - lo)) / 100) * 100;
    if (!push("opportunity_created", opportunity, { ...deal, amount })) continue;
    push(st === 4 ? "won" : "lost", opportunity + closeGap, st === 4 ? { ...deal, amount } : deal);
  }
  return events.sort((x, y) => (x.at < y.at ? -1 : x.at > y.at ? 1 : 0));
}
