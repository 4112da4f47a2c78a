// Entry point of the cldcb-client bundle (build/cldcb-client.mjs).
import { runCli } from './main';
import { processIo } from './io';

process.exitCode = await runCli(process.argv.slice(2), processIo());
