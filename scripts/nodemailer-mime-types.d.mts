export declare function detectMimeType(filename?: string): string;
export declare function detectExtension(mimeType?: string): string;
export declare const KNOWN: { extensions: string[]; mimeTypes: string[] };
