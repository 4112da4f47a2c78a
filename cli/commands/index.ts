/** Every cldcb-client subcommand, in the order `cldcb-client help` lists them. Add yours here. */
import type { Command } from '../command';
import { nodeidCommand } from './nodeid';
import { getsecretCommand } from './getsecret';
import { exportsecretCommand } from './exportsecret';
import { scbCommand } from './scb';
import { paperCommand } from './paper';
import { runeCommand } from './rune';
import { macaroonCommand } from './macaroon';
import { newclientCommand } from './newclient';
import { installpluginCommand } from './installplugin';
import { statusCommand } from './status';
import { recoverCommand } from './recover';
import { drillCommand } from './drill';

export const commands: Command[] = [
  nodeidCommand,
  getsecretCommand,
  exportsecretCommand,
  scbCommand,
  paperCommand,
  runeCommand,
  macaroonCommand,
  newclientCommand,
  installpluginCommand,
  statusCommand,
  recoverCommand,
  drillCommand,
];
