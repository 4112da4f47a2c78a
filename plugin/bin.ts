// Entry point of the cldcb-plugin bundle (build/cldcb-plugin.mjs), started by lightningd
// through the wrapper script: `cldcb-plugin -- WRAPPER` or `cldcb-plugin WRAPPER`.
import { runPlugin } from './main';

const code = await runPlugin(process.argv.slice(2));
process.exitCode = code;
// Leave once stdout has drained, even if a socket or timer is still winding down.
process.stdout.write('', () => setTimeout(() => process.exit(code), 100).unref());
