import {
  abBucket,
  chooseContent,
  formatMoney,
  htmlToText,
  monthYear,
  renderStep,
  SequenceDefinition,
  Step,
  type TemplateAccount,
  TemplateError,
  templateContext,
  templateProblems,
  timeAgo,
  validateSequence,
} from "@icp/core";
import fc from "fast-check";
import Handlebars from "handlebars";
import { describe, expect, it } from "vitest";
import type { z } from "zod";

type StepInput = z.input<typeof Step>;

const NOW = Date.parse("2026-03-01T12:00:00Z");
const step = (s: Partial<StepInput> & { content: StepInput["content"] }) =>
  Step.parse({ id: "s1", channel: "email", ...s });

const ACME: TemplateAccount = {
  domain: "acme.com",
  segment: "saas",
  tier: "priority",
  score: 82,
  facts: {
    domain: "acme.com",
    name: "Acme",
    industry: "SaaS",
    employees: 120,
    country: "France",
    technologies: ["HubSpot", "Slack"],
    signals: [
      { type: "funding", at: "2025-06-01", amount: 5_000_000 },
      { type: "funding", at: "2026-01-10", amount: 12_000_000, detail: "Series B" },
      { type: "hiring", at: "2026-02-01", detail: "3 SDRs" },
    ],
  },
};
const ANA = { firstName: "Ana", lastName: "Silva", title: "VP Sales", email: "ana@acme.com", persona: "vp-sales" };

describe("templateContext", () => {
  it("exposes account, contact, sender and the most recent signal of each type", () => {
    const ctx = templateContext(ACME, ANA, { name: "Bob", email: "bob@us.com", signature: "Bob\nUs Inc." });
    expect(ctx).toEqual({
      company: "Acme",
      domain: "acme.com",
      industry: "SaaS",
      employees: 120,
      country: "France",
      segment: "saas",
      tier: "priority",
      score: 82,
      technologies: ["HubSpot", "Slack"],
      firstName: "Ana",
      lastName: "Silva",
      fullName: "Ana Silva",
      title: "VP Sales",
      email: "ana@acme.com",
      persona: "vp-sales",
      sender: { name: "Bob", email: "bob@us.com", signature: "Bob\nUs Inc." },
      signals: {
        funding: { type: "funding", at: "2026-01-10", amount: 12_000_000, detail: "Series B" },
        hiring: { type: "hiring", at: "2026-02-01", detail: "3 SDRs" },
      },
    });
  });

  it("falls back to the domain for the company and leaves missing data out", () => {
    const ctx = templateContext({ domain: "nameless.io", facts: { domain: "nameless.io", name: "  " } });
    expect(ctx).toEqual({ company: "nameless.io", domain: "nameless.io", technologies: [], sender: {}, signals: {} });
  });
});

describe("helpers", () => {
  it.each([
    [12_000_000, "$12M"],
    [1_500_000, "$1.5M"],
    [250_000, "$250K"],
    [999_950, "$1M"],
    [950, "$950"],
    [2_500_000_000, "$2.5B"],
    [0, "$0"],
    [-1_200, "-$1.2K"],
    ["3000000", "$3M"],
    ["abc", ""],
    [undefined, ""],
    [Number.NaN, ""],
  ])("money(%s) = %s", (v, out) => expect(formatMoney(v)).toBe(out));

  it("timeAgo and monthYear describe signal dates", () => {
    expect(timeAgo("2026-03-01", NOW)).toBe("today");
    expect(timeAgo("2026-02-28", NOW)).toBe("yesterday");
    expect(timeAgo("2026-02-24", NOW)).toBe("5 days ago");
    expect(timeAgo("2026-02-01", NOW)).toBe("4 weeks ago");
    expect(timeAgo("2025-12-01", NOW)).toBe("3 months ago");
    expect(timeAgo("2024-01-01", NOW)).toBe("2 years ago");
    expect(timeAgo("not a date", NOW)).toBe("");
    expect(monthYear("2026-01-10")).toBe("January 2026");
    expect(monthYear("2026-12-31T23:00:00Z")).toBe("December 2026");
    expect(monthYear("garbage")).toBe("");
  });

  it("renders default, case and join helpers", () => {
    const s = step({
      content: {
        subject: "x",
        body: '{{default firstName "there"}}|{{default title "friend"}}|{{lower company}}|{{upper country}}|{{capitalize industry}}|{{join technologies}}|{{join technologies " / "}}|{{money signals.funding.amount "€"}}|{{timeAgo signals.hiring.at}}',
      },
    });
    const ctx = templateContext({ ...ACME, facts: { ...ACME.facts, industry: "saas" } }, { firstName: "Ana" });
    expect(renderStep(s, ctx, "e1", { now: NOW }).text).toBe(
      "Ana|friend|acme|FRANCE|Saas|HubSpot, Slack|HubSpot / Slack|€12M|4 weeks ago",
    );
  });

  it("registers nothing on the global Handlebars instance", () => {
    expect(Handlebars.helpers.money).toBeUndefined();
    expect(Handlebars.helpers.default).toBeUndefined();
  });
});

describe("templateProblems", () => {
  it("accepts templates using known variables, signals blocks and helpers", () => {
    for (const src of [
      'Hi {{default firstName "there"}},\n{{#if signals.funding}}Congrats on {{money signals.funding.amount}}!{{/if}}',
      "{{#with signals.funding}}{{money amount}} {{detail}} {{monthYear at}} at {{../company}}{{/with}}",
      "{{#each technologies}}{{this}}{{#unless @last}}, {{/unless}}{{/each}}",
      "{{#each technologies as |tech i|}}{{i}}:{{tech}} {{@root.company}}{{/each}}",
      "{{#each signals}}{{type}} {{detail}} {{@key}}{{/each}}",
      "{{#if sender.signature}}{{sender.signature}}{{else}}{{sender.name}}{{/if}} {{!-- a comment --}}",
      "{{upper (default persona 'team')}} {{score}} {{tier}} {{segment}} {{fullName}} {{email}} {{title}}",
    ])
      expect(templateProblems(src), src).toEqual([]);
  });

  it("reports unknown variables with their line, column and name (and a suggestion)", () => {
    expect(templateProblems("Hi {{firstName}},\n\nI saw {{compnay}} raised\n{{signals.funding.amout}}")).toEqual([
      {
        line: 3,
        column: 9,
        variable: "compnay",
        message: 'unknown variable "compnay"; did you mean "company"?',
      },
      {
        line: 4,
        column: 3,
        variable: "signals.funding.amout",
        message: 'unknown variable "signals.funding.amout"; did you mean "amount"?',
      },
    ]);
    const [p] = templateProblems("{{#with signals.hiring}}\n{{detial}}{{/with}}");
    expect(p).toMatchObject({ line: 2, variable: "detial" });
    expect(templateProblems("{{signals.ipo.at}}")[0]).toMatchObject({ variable: "signals.ipo.at" });
    expect(templateProblems("{{#each technologies}}{{name}}{{/each}}")[0]).toMatchObject({ variable: "name" });
    expect(templateProblems("{{../company}}")[0]?.message).toContain("above the template's top level");
    expect(templateProblems("{{@index}}")[0]?.message).toContain("only available inside {{#each}}");
  });

  it("reports Handlebars compile errors with Handlebars' line", () => {
    const [unclosed] = templateProblems("Hi\n\n{{firstName");
    expect(unclosed?.line).toBe(3);
    expect(unclosed?.message).toMatch(/^template does not compile: Parse error on line 3/);
    const [mismatch] = templateProblems("a\n{{#if firstName}}\nb\n{{/with}}");
    expect(mismatch).toMatchObject({ line: 2 });
    expect(mismatch?.message).toContain("doesn't match");
  });

  it("refuses raw output, partials, decorators, unknown helpers and misuse of helpers", () => {
    const msg = (src: string) => templateProblems(src).map((p) => p.message);
    expect(msg("{{{company}}}")[0]).toContain("not allowed");
    expect(msg("{{& company}}")[0]).toContain("not allowed");
    expect(msg("{{> footer}}")[0]).toContain("partials");
    expect(msg("{{#> layout}}x{{/layout}}")[0]).toContain("partials");
    expect(msg("{{#*inline 'x'}}y{{/inline}}")[0]).toContain("decorators");
    expect(templateProblems("{{lookup signals 'funding'}}")[0]).toMatchObject({ variable: "lookup" });
    expect(msg("{{log company}}")[0]).toContain('unknown helper "log"');
    expect(msg("{{shout company}}")[0]).toContain('unknown helper "shout"');
    expect(msg("{{upper}}")[0]).toBe('helper "upper" takes 1 argument, got 0');
    expect(msg("{{default firstName}}")[0]).toBe('helper "default" takes 2 arguments, got 1');
    expect(msg("{{if firstName}}")[0]).toContain("is a block helper");
    expect(msg("{{#upper company}}x{{/upper}}")[0]).toContain("not a block helper");
    expect(msg("{{#signals.funding}}x{{/signals.funding}}")[0]).toContain("unknown block");
    expect(msg("{{#if}}x{{/if}}")[0]).toContain("exactly one argument");
    expect(msg("{{#each company}}x{{/each}}")[0]).toContain("needs a list or object");
    expect(msg("{{technologies}}")[0]).toContain("join technologies");
    expect(msg("{{signals.funding}}")[0]).toContain("is an object");
  });

  it("refuses paths into prototypes", () => {
    for (const src of [
      "{{constructor}}",
      "{{__proto__}}",
      "{{company.constructor}}",
      "{{signals.funding.constructor.name}}",
      "{{signals.__proto__.polluted}}",
      "{{sender.toString}}",
      "{{#with constructor}}{{name}}{{/with}}",
    ])
      expect(templateProblems(src).length, src).toBeGreaterThan(0);
  });
});

describe("validateSequence", () => {
  const def = (steps: StepInput[]) => SequenceDefinition.parse({ name: "t", steps });

  it("accepts a valid sequence", () => {
    expect(
      validateSequence(
        def([
          {
            id: "a",
            channel: "email",
            content: { subject: "Hi {{company}}", body: "x" },
            condition: { event: "opened", happened: true, otherwise: { goto: "c" } },
          },
          { id: "b", channel: "linkedin_invite", content: { body: "Hi {{firstName}}" } },
          { id: "c", channel: "webhook", webhookUrl: "https://hooks.example.com/x", content: { body: "{{domain}}" } },
        ]),
      ),
    ).toEqual([]);
  });

  it("lists every structural and template problem with step, field, variant and line", () => {
    const problems = validateSequence(
      def([
        { id: "a", channel: "email", content: { body: "no subject" } },
        {
          id: "a",
          channel: "email",
          condition: { event: "replied", happened: false, otherwise: { goto: "nowhere" } },
          content: { subject: "ok", body: "line1\n{{compnay}}" },
          targeted: [
            { segment: "saas", persona: "vp-sales", body: "{{{company}}}" },
            { segment: "SaaS", persona: "VP-sales", body: "dup" },
          ],
          abVariants: [
            { id: "A", body: "x" },
            { id: "A", subject: "{{firstNme}}", body: "y" },
          ],
        },
        { id: "w", channel: "webhook", content: { body: "x" } },
        {
          id: "z",
          channel: "call_task",
          content: { body: "x" },
          condition: { event: "opened", happened: true, otherwise: { goto: "a" } },
          abVariants: [{ id: "only", body: "x" }],
        },
      ]),
    );
    const brief = problems.map((p) => [p.stepId, p.path, p.field, p.line ?? null, p.variable ?? null]);
    expect(brief).toEqual([
      ["a", "steps.0.content.subject", "subject", null, null],
      ["a", "steps.1.id", "id", null, null],
      ["a", "steps.1.condition.otherwise.goto", "condition", null, null],
      ["a", "steps.1.content.body", "body", 2, "compnay"],
      ["a", "steps.1.targeted.0.body", "body", 1, null],
      ["a", "steps.1.targeted.1", "targeted", null, null],
      ["a", "steps.1.abVariants.1.id", "abVariants", null, null],
      ["a", "steps.1.abVariants.1.subject", "subject", 1, "firstNme"],
      ["w", "steps.2.webhookUrl", "webhookUrl", null, null],
      ["z", "steps.3.condition.otherwise.goto", "condition", null, null],
      ["z", "steps.3.abVariants", "abVariants", null, null],
    ]);
    expect(problems[4]).toMatchObject({ segment: "saas", persona: "vp-sales" });
    expect(problems[7]).toMatchObject({ variantId: "A" });
    expect(problems[2]?.message).toContain('"nowhere"');
    expect(problems[9]?.message).toContain("only forward jumps");
  });
});

describe("escaping", () => {
  const hostile = {
    ...ACME,
    facts: {
      ...ACME.facts,
      name: '<script>alert("x")</script>{{constructor}}{{#each this}}x{{/each}}',
      industry: "{{{raw}}} & <b>",
      signals: [{ type: "hiring" as const, at: "2026-01-01", detail: "<img src=x onerror=alert(1)>" }],
    },
  };
  const s = step({
    content: {
      subject: "Hello {{company}}\r\nBcc: victim@example.com",
      body: "<p>Hi {{company}} ({{industry}})</p><p>{{signals.hiring.detail}}</p>",
    },
  });

  it("escapes values in HTML and never compiles data", () => {
    const r = renderStep(s, templateContext(hostile, ANA), "e1", { now: NOW });
    expect(r.html).toBe(
      "<p>Hi &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;{{constructor}}{{#each this}}x{{/each}} ({{{raw}}} &amp; &lt;b&gt;)</p>" +
        "<p>&lt;img src&#x3D;x onerror&#x3D;alert(1)&gt;</p>",
    );
    // The text version carries the data verbatim (it is not HTML).
    expect(r.text).toBe(
      'Hi <script>alert("x")</script>{{constructor}}{{#each this}}x{{/each}} ({{{raw}}} & <b>)\n\n<img src=x onerror=alert(1)>',
    );
    // The subject is one line: no header injection through data or template.
    expect(r.subject).toBe(
      'Hello <script>alert("x")</script>{{constructor}}{{#each this}}x{{/each}} Bcc: victim@example.com',
    );
  });

  it("refuses to render a template that validation would refuse, even if stored unchecked", () => {
    expect(() =>
      renderStep(step({ content: { subject: "x", body: "{{{company}}}" } }), templateContext(ACME), "e"),
    ).toThrow(TemplateError);
    expect(() =>
      renderStep(step({ content: { subject: "x", body: "{{constructor.name}}" } }), templateContext(ACME), "e"),
    ).toThrow(TemplateError);
  });

  it("turns plain-text bodies into HTML with line breaks, and HTML bodies into text", () => {
    const plain = renderStep(
      step({ channel: "email", content: { subject: "s", body: "Hi {{firstName}},\n\nShort note." } }),
      templateContext(ACME, ANA),
      "e",
    );
    expect(plain.html).toBe("Hi Ana,<br>\n<br>\nShort note.");
    expect(plain.text).toBe("Hi Ana,\n\nShort note.");
    expect(
      htmlToText(
        '<p>One  two</p>\n<ul><li>a</li><li>b</li></ul>Line<br/>break <a href="https://x.io/?a=1&amp;b=2">here</a>',
      ),
    ).toBe("One two\n\n- a\n- b\n\nLine\nbreak here (https://x.io/?a=1&b=2)");
  });

  it("renders missing data as empty or the default", () => {
    const r = renderStep(
      step({
        content: {
          subject: "{{default firstName 'Hi'}}",
          body: 'Hi {{default firstName "there"}}, {{title}}{{#if signals.funding}}funded{{else}}no funding{{/if}} {{money signals.funding.amount}}.',
        },
      }),
      templateContext({ domain: "x.io", facts: { domain: "x.io" } }),
      "e",
    );
    expect(r).toEqual({
      subject: "Hi",
      html: "Hi there, no funding .",
      text: "Hi there, no funding .",
      variant: "default",
    });
  });
});

describe("chooseContent", () => {
  const s = step({
    content: { subject: "default subject", body: "default" },
    targeted: [
      { persona: "vp-sales", body: "persona" },
      { segment: "saas", body: "segment" },
      { segment: "saas", persona: "vp-sales", body: "both" },
      { segment: "fintech", persona: "cfo", body: "other" },
    ],
    abVariants: [
      { id: "A", body: "a" },
      { id: "B", subject: "b subject", body: "b" },
    ],
  });

  it("prefers segment+persona, then segment, then persona (case-insensitive)", () => {
    expect(chooseContent(s, { segment: "SaaS", persona: "vp-sales", seed: "e" })).toEqual({
      content: { subject: "default subject", body: "both" },
      variant: "segment:saas+persona:vp-sales",
    });
    expect(chooseContent(s, { segment: "saas", persona: "cto", seed: "e" }).variant).toBe("segment:saas");
    expect(chooseContent(s, { segment: "retail", persona: "vp-sales", seed: "e" }).variant).toBe("persona:vp-sales");
    expect(chooseContent(s, { segment: "fintech", seed: "e" }).variant).toMatch(/^[AB]$/);
  });

  it("falls back to an A/B variant (inheriting the default subject), else the default", () => {
    const ab = ["e1", "e2", "e3", "e4", "e5", "e6"].map((seed) => chooseContent(s, { segment: "retail", seed }));
    expect(new Set(ab.map((x) => x.variant))).toEqual(new Set(["A", "B"]));
    for (const x of ab)
      expect(x.content).toEqual(
        x.variant === "A" ? { subject: "default subject", body: "a" } : { subject: "b subject", body: "b" },
      );
    expect(chooseContent(step({ content: { subject: "s", body: "d" } }), { seed: "e" })).toEqual({
      content: { subject: "s", body: "d" },
      variant: "default",
    });
  });

  it("renders a forced variant for previews", () => {
    const ctx = templateContext(ACME, ANA);
    expect(renderStep(s, ctx, "e", { variant: "B" })).toMatchObject({ subject: "b subject", text: "b", variant: "B" });
    expect(renderStep(s, ctx, "e", { variant: "default" }).text).toBe("default");
    expect(renderStep(s, ctx, "e", { variant: "persona:vp-sales" }).text).toBe("persona");
    expect(() => renderStep(s, ctx, "e", { variant: "C" })).toThrow(TemplateError);
  });
});

// ------------------------------------------------------------------------------------- properties

const anyString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 20 }),
  fc.constantFrom("<script>", "{{constructor}}", "{{{x}}}", "</p><p>", "&lt;", '"><img src=x>', "__proto__", "\r\n"),
);
const anyNumber = fc.oneof(fc.integer(), fc.double(), fc.constant(Number.NaN), fc.constant(Number.POSITIVE_INFINITY));
const anyDate = fc.oneof(
  anyString,
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10)),
);
const accountArb = fc.record(
  {
    domain: anyString,
    segment: anyString,
    tier: anyString,
    score: anyNumber,
    facts: fc.record(
      {
        domain: anyString,
        name: anyString,
        industry: anyString,
        employees: anyNumber,
        revenue: anyNumber,
        country: anyString,
        technologies: fc.array(anyString, { maxLength: 4 }),
        signals: fc.array(
          fc.record(
            {
              type: fc.constantFrom(
                "funding",
                "hiring",
                "new_sales_leader",
                "site_visit",
                "content_download",
                "tool_change",
                "custom",
              ),
              at: anyDate,
              amount: anyNumber,
              detail: anyString,
            },
            { requiredKeys: ["type", "at"] },
          ),
          { maxLength: 5 },
        ),
      },
      { requiredKeys: ["domain"] },
    ),
  },
  { requiredKeys: ["domain", "facts"] },
) as fc.Arbitrary<TemplateAccount>;
const contactArb = fc.option(
  fc.record({ firstName: anyString, lastName: anyString, title: anyString, email: anyString, persona: anyString }),
  { nil: undefined },
);
const senderArb = fc.record({ name: anyString, email: anyString, signature: anyString }, { requiredKeys: [] });

/** Uses every variable and helper; its own tags are the only ones allowed in the output. */
const EVERYTHING = step({
  content: {
    subject: "{{company}} {{upper firstName}} {{money signals.funding.amount}}",
    body: [
      '<p class="x">Hi {{default firstName "there"}} {{lastName}} {{fullName}} ({{title}}, {{email}}, {{persona}})</p>',
      '<a href="https://{{domain}}/?c={{company}}">{{lower company}} {{capitalize industry}}</a><br>',
      "{{employees}} {{revenue}} {{money revenue}} {{country}} {{segment}} {{tier}} {{score}} {{join technologies}}",
      "{{#each technologies}}<b>{{this}}</b>{{/each}}",
      "{{#each signals}}<li>{{@key}} {{type}} {{at}} {{amount}} {{detail}} {{timeAgo at}} {{monthYear at}}</li>{{/each}}",
      "{{#with signals.funding}}{{money amount}} {{../company}}{{/with}}",
      "{{#if signals.hiring}}{{signals.hiring.detail}}{{else}}none{{/if}}",
      "{{sender.name}} {{sender.email}} {{sender.signature}}</p>",
    ].join("\n"),
  },
});
const OWN_TAGS = /<\/?(p|a|br|b|li)\b[^<>]*>/g;

describe("properties", () => {
  it("rendering never throws and never lets data emit a raw '<' into the HTML", () => {
    expect(templateProblems(EVERYTHING.content.body)).toEqual([]);
    fc.assert(
      fc.property(accountArb, contactArb, senderArb, fc.string(), (account, contact, sender, seed) => {
        const r = renderStep(EVERYTHING, templateContext(account, contact, sender), seed, { now: NOW });
        expect(r.html.replace(OWN_TAGS, "")).not.toContain("<");
        expect(r.subject).not.toMatch(/[\r\n]/);
        expect(typeof r.text).toBe("string");
      }),
      { numRuns: 300 },
    );
  });

  it("data is only ever a value: a company name comes out verbatim in text, escaped in HTML", () => {
    const s = step({ channel: "linkedin_message", content: { body: "[{{company}}]" } });
    const escapeHtml = (x: string) =>
      x.replace(
        /[&<>"'`=]/g,
        (ch) => `&${{ "&": "amp", "<": "lt", ">": "gt", '"': "quot", "'": "#x27", "`": "#x60", "=": "#x3D" }[ch]};`,
      );
    fc.assert(
      fc.property(anyString, (name) => {
        fc.pre(name.trim().length > 0);
        const r = renderStep(s, templateContext({ domain: "d.io", facts: { domain: "d.io", name } }), "e");
        expect(r.text).toBe(`[${name.trim()}]`);
        expect(r.html).toBe(`[${escapeHtml(name.trim())}]`.replace(/\r?\n/g, "<br>\n"));
      }),
      { numRuns: 300 },
    );
  });

  it("the A/B split is stable per enrollment and even across enrollments", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 5 }),
        fc.uniqueArray(fc.uuid(), { minLength: 1000, maxLength: 1000 }),
        (n, seeds) => {
          const s = step({
            content: { subject: "s", body: "d" },
            abVariants: Array.from({ length: n }, (_, i) => ({ id: `v${i}`, body: `b${i}` })),
          });
          const counts = new Map<string, number>();
          for (const seed of seeds) {
            const v = chooseContent(s, { seed }).variant;
            expect(chooseContent(s, { seed }).variant).toBe(v);
            counts.set(v, (counts.get(v) ?? 0) + 1);
          }
          expect(counts.size).toBe(n);
          const expected = seeds.length / n;
          for (const c of counts.values()) expect(Math.abs(c - expected)).toBeLessThan(expected * 0.3);
        },
      ),
      { numRuns: 20 },
    );
  });

  it("abBucket is always a valid index", () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.integer({ min: 1, max: 5 }), (seed, id, n) => {
        const b = abBucket(seed, id, n);
        expect(Number.isInteger(b) && b >= 0 && b < n).toBe(true);
      }),
    );
  });
});
