// Entry point of the cldcb-server bundle (build/cldcb-server.mjs).
import { runServerCli } from './cli';

process.exitCode = await runServerCli(process.argv.slice(2));
