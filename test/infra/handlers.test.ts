import { readdirSync } from "node:fs";
import { ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import {
  accountId,
  DEMO_ICP,
  type EngagementEventsMessage,
  IcpDefinition,
  type IngestChunkMessage,
  type RescorePageMessage,
  type SendStepMessage,
  SequenceDefinition,
  type TierChangedEvent,
} from "@icp/core";
import {
  API,
  createIcp,
  createImport,
  createSequence,
  dlqName,
  enroll,
  getAccount,
  getEnrollment,
  getImport,
  getRescore,
  listCapturedMail,
  putSendingSettings,
  QUEUES,
  SCHEDULES,
  startRescore,
  TABLE,
} from "@icp/store";
import type { APIGatewayProxyEventV2, APIGatewayProxyResult, Context, SQSBatchResponse, SQSEvent } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createWorkspace } from "../../scripts/create-workspace.js";
import { eventually, type TestStack, testStack, waitForImport } from "../support/stack.js";
import { httpEvent, lambdaContext, scheduledEvent, sqsEvent } from "./lambda-events.js";

/**
 * Each functions/ module as Lambda runs it: imported fresh, after the SST_RESOURCE_* variables
 * (here pointing at a local stack) are set, and invoked once with the event AWS would send.
 */
const ROOT = new URL("../../", import.meta.url);
const fileOf = (handler: string) => `${handler.replace(/\.[A-Za-z_$][\w$]*$/, "")}.ts`;

async function freshHandler<F>(handler: string): Promise<F> {
  vi.resetModules();
  const mod = (await import(/* @vite-ignore */ new URL(fileOf(handler), ROOT).href)) as Record<string, unknown>;
  return mod[handler.split(".").pop() ?? "handler"] as F;
}

let s: TestStack;
beforeAll(async () => {
  s = await testStack();
});
afterAll(() => s?.stop());

/**
 * One valid message per queue, and how to see that the handler acted on the local stack.
 * A queue added to the manifest needs an entry here (the test below says so).
 */
const VALID: Record<string, () => Promise<{ body: unknown; verify?: () => Promise<void> }>> = {
  IngestQueue: async () => {
    const importId = `imp_01HANDLERTEST${Date.now().toString().slice(-12)}`;
    await createImport(s.store, s.workspace, {
      id: importId,
      format: "json",
      total: 1,
      rejected: 0,
      accounts: 1,
      chunks: 1,
      rowsAccepted: 1,
    });
    const body: IngestChunkMessage = {
      kind: "ingest-chunk",
      workspaceId: s.workspace,
      importId,
      chunk: 0,
      rows: [{ line: 2, account: { domain: "handler-test.io", name: "Handler Test", employees: 120 } }],
      at: new Date().toISOString(),
    };
    return {
      body,
      verify: async () => {
        expect(await getImport(s.store, s.workspace, importId)).toMatchObject({ status: "completed", accepted: 1 });
        const account = await getAccount(s.store, s.workspace, accountId(s.workspace, "handler-test.io"));
        expect(account).toMatchObject({ domain: "handler-test.io", lastSource: `import:${importId}#0` });
      },
    };
  },
  RouteQueue: async () => {
    const body: TierChangedEvent = {
      kind: "tier-changed",
      eventId: "evt_handler_test",
      workspaceId: s.workspace,
      accountId: "acc_handler_test",
      domain: "handler-test.io",
      from: null,
      to: "nurture",
      score: 55,
      icpId: null,
      icpVersion: null,
      segment: "default",
      at: new Date().toISOString(),
      source: "test:handlers",
    };
    return { body };
  },
  RescoreQueue: async () => {
    // A real job: the stack's own workers take its other shards; this message is shard 0's first page.
    const job = await startRescore(s.store, s.workspace, { reason: "handlers test" });
    const body: RescorePageMessage = {
      kind: "rescore-page",
      workspaceId: s.workspace,
      jobId: job.id,
      shard: 0,
      page: 0,
    };
    return {
      body,
      verify: async () => {
        await eventually(async () =>
          (await getRescore(s.store, s.workspace, job.id))?.status === "completed" ? true : undefined,
        );
      },
    };
  },
  SendQueue: async () => {
    // A real claimed step: the stack's own tick claims it (and its send worker may race this
    // invocation with the same message: exactly one email must come out either way).
    const job = await (
      await s.api("/v1/imports", {
        method: "POST",
        json: { accounts: [{ domain: "send-handler.io", contacts: [{ email: "x@send-handler.io", firstName: "X" }] }] },
      })
    ).json();
    await waitForImport(s, job.id);
    await putSendingSettings(s.store, s.workspace, {
      timezone: "UTC",
      days: [1, 2, 3, 4, 5, 6, 7],
      start: "00:00",
      end: "24:00",
      holidays: [],
    });
    const seq = await createSequence(
      s.store,
      s.workspace,
      SequenceDefinition.parse({
        name: "handler test",
        steps: [{ id: "s1", channel: "email", content: { subject: "Hi {{company}}", body: "Hello" } }],
      }),
      "test",
    );
    const account = accountId(s.workspace, "send-handler.io");
    const { enrollment } = await enroll(s.store, s.workspace, {
      accountId: account,
      sequenceId: seq.id,
      track: "priority",
      source: "manual",
    });
    const claim = await eventually(async () => {
      const e = await getEnrollment(s.store, s.workspace, enrollment.id);
      return e?.claim ?? (e?.history.length ? e.history[0]?.stepId : undefined);
    }, 60_000);
    const body: SendStepMessage = {
      kind: "send-step",
      workspaceId: s.workspace,
      enrollmentId: enrollment.id,
      stepIndex: 0,
      stepId: "s1",
      claim,
    };
    return {
      body,
      verify: async () => {
        const e = await eventually(async () => {
          const cur = await getEnrollment(s.store, s.workspace, enrollment.id);
          return cur?.status === "completed" ? cur : undefined;
        }, 60_000);
        // This invocation and the stack's own worker may race on one message: one of them sends, the
        // other finds the step's send record and never sends (while the winner is still sending, it
        // is retried later and then finds the step done); either way: one email.
        expect(e.history.map((h) => h.stepId)).toEqual(["s1"]);
        // The capture stores what it receives on its own schedule: wait for the email, then make
        // sure no second one follows.
        const mailTo = async () =>
          (await listCapturedMail(s.store, s.workspace, { limit: 100 })).items.filter((m) =>
            m.to.includes("x@send-handler.io"),
          );
        await eventually(async () => ((await mailTo()).length > 0 ? true : undefined), 30_000, "the email");
        await new Promise((r) => setTimeout(r, 2000));
        const mails = await mailTo();
        expect(mails).toHaveLength(1);
        // The stack links the API's real address (a free port here) as the public URL of the links.
        expect(s.settings.publicUrl).toBe(s.url);
        expect(mails[0]?.text).toContain(`${s.url}/u/`);
        expect(mails[0]?.html).toContain(`${s.url}/t/o/`);
      },
    };
  },
  EventQueue: async () => {
    const account = accountId(s.workspace, "handler-test.io"); // imported by the IngestQueue case
    const body: EngagementEventsMessage = {
      kind: "engagement-events",
      workspaceId: s.workspace,
      events: [{ id: "evt-handler-open", type: "opened", accountId: account, at: new Date().toISOString() }],
    };
    return {
      body,
      verify: async () => {
        const res = await s.api(`/v1/accounts/${account}/timeline`);
        const items = ((await res.json()) as { items: { type: string }[] }).items;
        expect(items.map((i) => i.type)).toContain("opened");
      },
    };
  },
};

describe("handler modules run with SST_RESOURCE_* pointing at the local stack", () => {
  it("has the linked resources in the environment, as SST sets them", () => {
    expect(JSON.parse(process.env[`SST_RESOURCE_${TABLE.name}`] ?? "{}")).toEqual({ name: s.cfg.tableName });
    for (const q of QUEUES)
      expect(JSON.parse(process.env[`SST_RESOURCE_${q.name}`] ?? "{}")).toEqual({ url: s.cfg.queues[q.name] });
  });

  it("covers every functions/*.ts module", () => {
    const wired = [API.handler, ...QUEUES.map((q) => q.handler), ...SCHEDULES.map((x) => x.handler)].map(fileOf);
    const files = readdirSync(new URL("functions/", ROOT)).filter((f) => f.endsWith(".ts"));
    expect(files.map((f) => `functions/${f}`).sort()).toEqual([...wired].sort());
    expect(Object.keys(VALID).sort(), "a valid sample message per queue in VALID").toEqual(
      QUEUES.map((q) => q.name).sort(),
    );
  });

  it(`${API.handler}: API Gateway v2 events for /health and an authenticated /v1/icps`, async () => {
    await createIcp(s.store, s.workspace, IcpDefinition.parse(DEMO_ICP), "test");
    type Http = (e: APIGatewayProxyEventV2, c: Context) => Promise<APIGatewayProxyResult>;
    const handler = await freshHandler<Http>(API.handler);
    const ctx = lambdaContext("api");

    const health = await handler(httpEvent("GET", "/health"), ctx);
    expect(health.statusCode).toBe(200);
    expect(JSON.parse(health.body)).toEqual({ status: "ok" });

    const icps = await handler(httpEvent("GET", "/v1/icps", { authorization: `Bearer ${s.apiKey}` }), ctx);
    expect(icps.statusCode).toBe(200);
    expect(JSON.parse(icps.body).items.map((i: { name: string }) => i.name)).toEqual([DEMO_ICP.name]);

    const anonymous = await handler(httpEvent("GET", "/v1/icps"), ctx);
    expect(anonymous.statusCode).toBe(401);
  });

  for (const q of QUEUES)
    it(`${q.handler}: of one valid and one invalid message, only the invalid one fails`, async () => {
      const sample = VALID[q.name];
      if (!sample) throw new Error(`add a valid ${q.name} message to VALID in test/infra/handlers.test.ts`);
      const { body, verify } = await sample();
      const handler = await freshHandler<(e: SQSEvent, c: Context) => Promise<SQSBatchResponse>>(q.handler);
      const poison = JSON.stringify({ kind: "nonsense", test: q.name });
      const event = sqsEvent(q.name, [JSON.stringify(body), poison]);

      // With its DLQ linked (as deployed), a poison message goes there at once, with its reason.
      const failed = (await handler(event, lambdaContext(q.name))).batchItemFailures;
      if (q.name === "SendQueue" && failed.length) {
        // The stack's own worker got the same step: a copy that finds it sending is asked back
        // (only the valid message, never the poison), and its redelivery is acked.
        expect(failed).toEqual([{ itemIdentifier: event.Records[0]?.messageId }]);
        await eventually(async () => {
          const again = await handler(sqsEvent(q.name, [JSON.stringify(body)]), lambdaContext(q.name));
          return again.batchItemFailures.length === 0 ? true : undefined;
        });
      } else expect(failed).toEqual([]);
      await verify?.();
      const dlq = await eventually(async () => {
        const res = await s.store.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: s.queues[q.name]?.dlqUrl,
            MaxNumberOfMessages: 10,
            MessageAttributeNames: ["All"],
          }),
        );
        return res.Messages?.find((m) => m.Body === poison);
      });
      expect(dlq.MessageAttributes?.reason?.StringValue).toMatch(/schema/);

      // Without it, the message is reported failed: SQS retries it, then its redrive policy parks it.
      vi.stubEnv(`SST_RESOURCE_${dlqName(q.name)}`, undefined);
      try {
        const only = sqsEvent(q.name, [poison]);
        expect((await handler(only, lambdaContext(q.name))).batchItemFailures).toEqual([
          { itemIdentifier: only.Records[0]?.messageId },
        ]);
      } finally {
        vi.unstubAllEnvs();
      }
    });

  for (const x of SCHEDULES)
    it(`${x.handler}: an EventBridge scheduled event`, async () => {
      const handler = await freshHandler<(e: unknown, c: Context) => Promise<unknown>>(x.handler);
      await handler(scheduledEvent(x.name), lambdaContext(x.name)); // a throw fails the test
    });
});

describe("scripts/create-workspace.ts (run under `sst shell` against a deployed stage)", () => {
  it("creates a workspace whose new key the API accepts, and refuses unsafe ids", async () => {
    const key = await createWorkspace(s.store, "acme-test", "Acme");
    const res = await fetch(`${s.url}/v1/icps`, { headers: { authorization: `Bearer ${key}` } });
    expect(res.status).toBe(200);
    await expect(createWorkspace(s.store, "W#evil", "x")).rejects.toThrow(/must match/);
  });
});
