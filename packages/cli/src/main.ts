// Entry point of the `icp` command (bin/icp.js, `npm run icp`); the logic lives in run.ts so it can be imported.
import { run } from "./run.js";

process.exitCode = await run(process.argv.slice(2));
