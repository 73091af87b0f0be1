import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import * as core from "@icp/core";
import { build } from "esbuild";
import MailComposer from "nodemailer/lib/mail-composer";
import * as nodemailerMime from "nodemailer/lib/mime-funcs";
import { afterAll, describe, expect, it } from "vitest";
import plugins from "../../scripts/lambda-bundle.mjs";
import * as common from "../../scripts/nodemailer-mime-types.mjs";
import { corpusFiles } from "../unit/inbound/corpus.js";

/**
 * scripts/lambda-bundle.mjs trims what Lambda bundles carry (zod imported as a namespace,
 * handlebars without source-map, nodemailer's MIME table cut to common types, unused libraries
 * dropped). Each trim must leave behaviour as it is: the same code, bundled with those plugins,
 * is compared with the source it came from.
 */
const root = new URL("../../", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "bundle-trims-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function bundle(name: string, contents: string): Promise<{ code: string; inputs: string[] }> {
  const res = await build({
    stdin: { contents, resolveDir: join(root, "packages/core/src"), loader: "ts", sourcefile: `${name}.ts` },
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node22",
    mainFields: ["module", "main"],
    minify: true,
    write: false,
    metafile: true,
    plugins,
    banner: {
      js: "import { createRequire as topLevelCreateRequire } from 'module';\nconst require = topLevelCreateRequire(import.meta.url);",
    },
  });
  const code = res.outputFiles[0]?.text ?? "";
  // What the output really contains (metafile.inputs also lists files parsed and then dropped).
  const out = Object.values(res.metafile.outputs)[0]?.inputs ?? {};
  return { code, inputs: Object.keys(out).filter((p) => (out[p]?.bytesInOutput ?? 0) > 0) };
}
async function load<T>(name: string, contents: string): Promise<T> {
  const { code } = await bundle(name, contents);
  const file = join(dir, `${name}.mjs`);
  writeFileSync(file, code);
  return (await import(pathToFileURL(file).href)) as T;
}

const step = {
  id: "s1",
  channel: "email",
  content: {
    subject: "{{upper company}} raised {{money signals.funding.amount}}",
    body: '<p>Hi {{default firstName "there"}},</p><p>{{#each technologies}}{{this}}{{#unless @last}}, {{/unless}}{{/each}} &amp; <a href="https://x.test/?a=1&b=2">more</a></p>',
  },
  abVariants: [
    { id: "a", body: "Plain {{company}}\nsince {{monthYear signals.funding.at}} ({{timeAgo signals.funding.at}})" },
    { id: "b", body: '{{lower company}} <b>{{title}}</b> {{join technologies " / "}}' },
  ],
};
const account = {
  domain: "acme.test",
  facts: {
    domain: "acme.test",
    name: "Acme <script>",
    technologies: ["HubSpot", "Salesforce"],
    signals: [{ type: "funding" as const, at: "2026-03-02T00:00:00Z", amount: 12_500_000 }],
  },
  segment: "saas",
};
const contact = { firstName: "Ana", title: 'VP "Sales"', email: "ana@acme.test" };

describe("Lambda bundle trims keep behaviour", () => {
  it("renders, validates and parses with bundled @icp/core exactly as the source does", async () => {
    type Core = typeof core;
    const b = await load<Core>("core", `export * from "./index.ts";`);
    const def = { name: "Seq", steps: [step, { ...step, id: "s2", content: { body: "{{compnay}} {{{x}}}" } }] };
    const parsed = core.SequenceDefinition.parse(def);
    expect(b.SequenceDefinition.parse(def)).toEqual(parsed);
    // zod's error messages (English) come out the same too.
    const bad = { name: "", steps: [{ id: "bad id!", channel: "fax", content: { body: "" } }] };
    expect(JSON.stringify(b.SequenceDefinition.safeParse(bad).error?.issues)).toBe(
      JSON.stringify(core.SequenceDefinition.safeParse(bad).error?.issues),
    );
    expect(b.validateSequence(b.SequenceDefinition.parse(def))).toEqual(core.validateSequence(parsed));
    const ctx = core.templateContext(account, contact);
    expect(b.templateContext(account, contact)).toEqual(ctx);
    const s = parsed.steps[0] as core.Step;
    for (const variant of core.stepVariants(s))
      expect(b.renderStep(s, ctx, "e1", { variant, now: Date.UTC(2026, 5, 1) }), variant).toEqual(
        core.renderStep(s, ctx, "e1", { variant, now: Date.UTC(2026, 5, 1) }),
      );
    for (const src of ["{{#if}}", "{{company", "{{#each technologies}}{{@index}}{{/each}}", "{{> partial}}"])
      expect(b.templateProblems(src), src).toEqual(core.templateProblems(src));
  }, 60_000);

  it("drops handlebars (and source-map) from bundles that never render, keeps it without source-map in those that do", async () => {
    const pkg = (inputs: string[], name: string) => inputs.some((p) => p.includes(`node_modules/${name}/`));
    const noRender = await bundle("no-render", `export { tierForScore, SequenceDefinition } from "./index.ts";`);
    expect(pkg(noRender.inputs, "handlebars")).toBe(false);
    expect(pkg(noRender.inputs, "source-map")).toBe(false);
    const render = await bundle("render", `export { renderStep } from "./index.ts";`);
    expect(pkg(render.inputs, "handlebars")).toBe(true);
    expect(pkg(render.inputs, "source-map")).toBe(false);
    const mail = await bundle("no-mail", `export { keys } from "../../store/src/index.ts";`);
    expect(pkg(mail.inputs, "nodemailer")).toBe(false);
    // Inbound mail parsing (mailparser and its encoding tables, ~1 MB) only where it is called.
    for (const lib of ["mailparser", "iconv-lite", "chrono-node", "email-reply-parser"])
      expect(pkg(noRender.inputs, lib), lib).toBe(false);
    const inbound = await bundle("inbound", `export { classifyInbound, parseInbound } from "./index.ts";`);
    for (const lib of ["mailparser", "chrono-node", "email-reply-parser"])
      expect(pkg(inbound.inputs, lib), lib).toBe(true);
  }, 60_000);

  it("parses and classifies every mail of the corpus in the bundle exactly as from source", async () => {
    type Inbound = Pick<typeof core, "parseInbound" | "classifyInbound">;
    const b = await load<Inbound>("inbound-run", `export { classifyInbound, parseInbound } from "./index.ts";`);
    const now = new Date("2026-06-01T00:00:00Z");
    const files = corpusFiles().filter((f) => f.kind === "eml");
    expect(files.length).toBeGreaterThan(30);
    for (const f of files) {
      const fromSource = core.classifyInbound(await core.parseInbound(f.raw), { now });
      const fromBundle = b.classifyInbound(await b.parseInbound(f.raw), { now });
      expect(JSON.stringify(fromBundle), f.name).toBe(JSON.stringify(fromSource));
    }
  }, 60_000);

  it("answers like nodemailer's full MIME table for every type it keeps, and falls back the same way", () => {
    for (const ext of common.KNOWN.extensions)
      expect(common.detectMimeType(`file.${ext}`), ext).toBe(nodemailerMime.detectMimeType(`file.${ext}`));
    for (const type of common.KNOWN.mimeTypes)
      expect(common.detectExtension(type), type).toBe(nodemailerMime.detectExtension(type));
    for (const f of ["", "noext", "x.unknownext", "a.PDF?x=1", "x.html"])
      expect(common.detectMimeType(f), f).toBe(nodemailerMime.detectMimeType(f));
    for (const t of ["", "text/x-unknown", "application/x-unknown", "TEXT/HTML"])
      expect(common.detectExtension(t), t).toBe(nodemailerMime.detectExtension(t));
  });

  it("composes the same MIME message (headers, text + html parts) in the bundle as from source", async () => {
    const mail = {
      from: { name: "Sam Seller", address: "sam@seller.test" },
      to: "ana@acme.test",
      subject: "Hello Ana — €12M",
      text: "Hi Ana,\nline two",
      html: "<p>Hi Ana,</p><p>line two</p>",
      messageId: "<enr_1.s1@icp-sequencer>",
      headers: {
        "List-Unsubscribe": "<https://x.test/u/abc>, <mailto:u@x.test>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
      },
    };
    type Composer = { compose(m: typeof mail): Promise<string> };
    const compose = `
      import MailComposer from "nodemailer/lib/mail-composer";
      export const compose = (m) => new MailComposer(m).compile().build();`;
    const b = await load<Composer>("compose", compose);
    const normalize = (s: string) =>
      s
        .replace(/-*_NmP-[0-9a-f]+-Part_\d+/g, "BOUNDARY")
        .replace(/^Date: .*$/m, "Date: X")
        .replace(/\r\n/g, "\n");
    const fromBundle = normalize(String(await b.compose(mail)));
    const fromSource = normalize(String(await new MailComposer(mail).compile().build()));
    expect(fromBundle).toBe(fromSource);
    expect(fromBundle).toContain("Message-ID: <enr_1.s1@icp-sequencer>");
    expect(fromBundle).toContain("List-Unsubscribe-Post: List-Unsubscribe=One-Click");
    expect(fromBundle).toContain("Content-Type: multipart/alternative");
  }, 60_000);
});
