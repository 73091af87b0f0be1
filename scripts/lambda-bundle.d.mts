import type { Plugin } from "esbuild";

export type BundleKind = "api" | "worker" | "schedule";
export declare const externalFor: (kind: BundleKind) => string[];
export declare const zodEnglishOnly: Plugin;
export declare const inlineDashboardAssets: Plugin;
declare const plugins: Plugin[];
export default plugins;
