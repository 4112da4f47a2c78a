#!/usr/bin/env node
import { launch } from '../cli/launch.mjs';
await launch('cldcb-plugin');
