import { GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { DEFAULT_SENDING_WINDOW, type SendingWindow } from "@icp/core";
import type { Store } from "../infra/index.js";
import { keys } from "../infra/index.js";

/** The workspace's sending window and holidays (defaults: Mon-Fri 08:00-18:00 UTC). */
export async function getSendingSettings(store: Store, ws: string): Promise<SendingWindow> {
  const res = await store.ddb.send(
    new GetCommand({ TableName: store.cfg.tableName, Key: keys.sendingSettings(ws), ConsistentRead: true }),
  );
  if (!res.Item) return { ...DEFAULT_SENDING_WINDOW };
  return res.Item.settings as SendingWindow;
}

export async function putSendingSettings(store: Store, ws: string, settings: SendingWindow): Promise<SendingWindow> {
  await store.ddb.send(
    new PutCommand({
      TableName: store.cfg.tableName,
      Item: {
        ...keys.sendingSettings(ws),
        type: "sending-settings",
        v: 1,
        settings,
        updatedAt: new Date().toISOString(),
      },
    }),
  );
  return settings;
}
