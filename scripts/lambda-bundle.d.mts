import type { Plugin } from "esbuild";

export type BundleKind = "api" | "worker" | "schedule";
export declare const externalFor: (kind: BundleKind) => string[];
export declare const zodEnglishOnly: Plugin;
export declare const zodAsNamespace: Plugin;
export declare const nodemailerCommonMimeTypes: Plugin;
export declare const SIDE_EFFECT_FREE: string[];
export declare const sideEffectFree: Plugin;
export declare const handlebarsWithoutSourceMap: Plugin;
declare const plugins: Plugin[];
export default plugins;
