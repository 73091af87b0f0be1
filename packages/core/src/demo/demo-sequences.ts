import type { RoutingRules } from "../routing/index.js";
import { SequenceDefinition, type Track } from "../sequencing/index.js";

/**
 * The demo workspace's sequences, one per track, with the step ids and A/B variants the demo
 * engagement (demo-engagement.ts) reports on, so that `npm start` shows real sequences sending
 * real (captured) mail next to ~60 days of recorded history.
 */
const hi = `Hi {{default firstName "there"}},`;
const sign = '\n\n{{default sender.name "The team"}}';

export const DEMO_SEQUENCES: Record<Track, SequenceDefinition> = {
  priority: SequenceDefinition.parse({
    name: "Priority outreach",
    description: "Multi-channel sequence for priority (70+) accounts.",
    steps: [
      {
        id: "intro-email",
        channel: "email",
        content: {
          subject: "Quick idea for {{company}}",
          body: `${hi}\n\n{{#if signals.funding}}Congrats on the {{money signals.funding.amount}} round. {{/if}}Teams like {{company}} use us to focus outbound on the accounts that convert.\n\nWorth 15 minutes next week?${sign}`,
        },
        abVariants: [
          {
            id: "A",
            subject: "Quick idea for {{company}}",
            body: `${hi}\n\nTeams like {{company}} use us to focus outbound on the accounts that convert.\n\nWorth 15 minutes next week?${sign}`,
          },
          {
            id: "B",
            subject: "{{company}} + better pipeline?",
            body: `${hi}\n\n{{#if signals.funding}}With the new {{money signals.funding.amount}} round, {{/if}}{{company}} is probably hiring reps. We help them hit quota faster by working the right accounts first.\n\nOpen to a look?${sign}`,
          },
        ],
      },
      {
        id: "linkedin-invite",
        channel: "linkedin_invite",
        delay: { amount: 1, unit: "business_days" },
        content: { body: `${hi} following {{company}}'s growth, would be glad to connect.` },
      },
      {
        id: "follow-up",
        channel: "email",
        delay: { amount: 3, unit: "business_days" },
        condition: { event: "replied", happened: false, otherwise: "stop" },
        content: {
          subject: "Re: Quick idea for {{company}}",
          body: `${hi}\n\nBumping this in case it got buried.${sign}`,
        },
      },
      {
        id: "call",
        channel: "call_task",
        delay: { amount: 2, unit: "business_days" },
        content: {
          body: 'Call {{default firstName "the contact"}} ({{default title ""}}) at {{company}} about the intro email.',
        },
      },
    ],
  }),
  nurture: SequenceDefinition.parse({
    name: "Nurture",
    description: "Slower, value-first sequence for nurture (40-69) accounts.",
    steps: [
      {
        id: "value-email",
        channel: "email",
        content: {
          subject: "How {{industry}} teams pick accounts",
          body: `${hi}\n\nA short guide on account scoring.${sign}`,
        },
        abVariants: [
          {
            id: "A",
            subject: "How {{industry}} teams pick accounts",
            body: `${hi}\n\nA short guide on account scoring.${sign}`,
          },
          {
            id: "B",
            subject: "3 signals {{company}} should watch",
            body: `${hi}\n\nFunding, hiring and new sales leaders: three signals worth a look.${sign}`,
          },
        ],
      },
      {
        id: "case-study",
        channel: "email",
        delay: { amount: 5, unit: "business_days" },
        content: {
          subject: "A case study for {{company}}",
          body: `${hi}\n\nHow a team like yours doubled reply rates.${sign}`,
        },
      },
      {
        id: "check-in",
        channel: "email",
        delay: { amount: 10, unit: "business_days" },
        content: {
          subject: "Checking in",
          body: `${hi}\n\nAnything on your plate this quarter where we could help?${sign}`,
        },
      },
    ],
  }),
  generic: SequenceDefinition.parse({
    name: "Generic content track",
    description: "Low-touch content for generic (<40) accounts.",
    steps: [
      {
        id: "newsletter",
        channel: "email",
        content: {
          subject: "This month in outbound",
          body: `${hi}\n\nOur monthly notes on outbound that works.${sign}`,
        },
      },
      {
        id: "webinar-invite",
        channel: "email",
        delay: { amount: 10, unit: "business_days" },
        content: {
          subject: "Webinar: ICPs that convert",
          body: `${hi}\n\nJoin us for 30 minutes on building an ICP that converts.${sign}`,
        },
      },
    ],
  }),
};

/** Routing of the demo: each tier to its track's sequence (ids known once created). */
export const demoRoutingRules = (ids: Record<Track, string>): RoutingRules => ({
  rules: (Object.keys(ids) as Track[]).map((tier) => ({ tier, sequenceId: ids[tier] })),
  reEntry: { mode: "after_days", days: 90 },
  stopOnReply: true,
  stopOnMeeting: true,
});
