#!/usr/bin/env node
// Launcher for the `icp` command: the CLI is TypeScript run in place (like the rest of the repo),
// so register tsx's ESM loader in this process instead of spawning a second Node.
import { register } from "tsx/esm/api";

register();
await import(new URL("../src/main.ts", import.meta.url).href);
