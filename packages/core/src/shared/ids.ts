import { createHash } from "node:crypto";
import { ulid } from "ulid";

export type IdPrefix = "acc" | "imp" | "icp" | "evt" | "wsk" | "rsc" | "snd" | "tsk" | "mail" | "enr" | "seq";

/** Prefixed, time-sortable id: `imp_01J…`. */
export const newId = (prefix: IdPrefix) => `${prefix}_${ulid()}`;

const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/**
 * Accounts are identified by their normalized domain, so the id is derived from it:
 * a redelivered or concurrent import of the same domain lands on the same item without
 * a lookup table or a race to create two accounts.
 */
export function accountId(workspaceId: string, domain: string): string {
  const bytes = createHash("sha256").update(`${workspaceId}\n${domain}`).digest();
  let bits = 0;
  let value = 0;
  let out = "";
  for (const b of bytes.subarray(0, 17)) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += CROCKFORD[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return `acc_${out.slice(0, 26)}`;
}

export const isAccountId = (s: string) => /^acc_[0-9A-HJKMNP-TV-Z]{26}$/.test(s);
