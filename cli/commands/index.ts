/** Every cldcb-client subcommand, in the order `cldcb-client help` lists them. Add yours here. */
import type { Command } from '../command';

export const commands: Command[] = [];
