// Stands in for zod's `locales` namespace in Lambda bundles: English only (what the app uses).
export { default as en } from "zod/v4/locales/en.js";
