import type { EngagementMarkers } from "@icp/core";
import { type AccountRecord, getAccount, type StoredContact } from "../accounts/index.js";
import { engagementMarkers } from "../events/index.js";
import { stopEnrollment } from "../sequencing/index.js";
import { isSuppressed } from "../tenancy/index.js";
import type { SendJob, SendStepResult } from "./job.js";

/** Who the step goes to, with what the gates need to decide whether it may. */
export type Recipient = {
  account: AccountRecord;
  contact?: StoredContact;
  markers: EngagementMarkers;
  suppression: { suppressed: boolean; reason?: string };
};

/**
 * The account and the enrollment's contact, then its engagement markers and suppression side by
 * side. Ends the flow as `stopped` when the account is gone.
 */
export async function loadRecipient(job: SendJob): Promise<Recipient | SendStepResult> {
  const { store, ws, enrollment: e } = job;
  const account = await getAccount(store, ws, e.accountId);
  if (!account) {
    await stopEnrollment(store, ws, e.id, "account deleted");
    return { outcome: "stopped", detail: "account deleted" };
  }
  const contact = e.contactId ? account.contacts.find((c) => c.id === e.contactId) : undefined;
  const [markers, suppression] = await Promise.all([
    engagementMarkers(store, ws, account.id),
    // isSuppressed checks an email's own domain too; naming that domain twice would repeat a key in its BatchGet.
    isSuppressed(store, ws, {
      ...(contact?.email ? { email: contact.email } : {}),
      ...(contact?.email?.endsWith(`@${account.domain}`) ? {} : { domain: account.domain }),
    }),
  ]);
  return { account, ...(contact ? { contact } : {}), markers, suppression };
}
