export { accountId, type IdPrefix, isAccountId, newId } from "./ids.js";
export { amount, storableNumber } from "./numbers.js";
export { checkSignature, type SignatureCheck, safeEqual, signatureHeader } from "./signature.js";
export { stableJson } from "./stable-json.js";
export { canonicalTimeZone, isTimeZone, TimeZone } from "./time-zones.js";
