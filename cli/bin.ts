// Entry point of the cldcb-client bundle (build/cldcb-client.mjs).
import { runCli } from './main';
import { processIo } from './io';

process.exitCode = await runCli(process.argv.slice(2), processIo());
// Done: nothing may keep the process alive now (e.g. a worker thread still stuck in a system
// call after a cancel; issue 14 #6). The timer itself holds nothing open.
setTimeout(() => process.exit(), 2000).unref();
