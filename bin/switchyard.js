#!/usr/bin/env node
// Runs the TypeScript sources directly: Node 22.18+/24 strips types natively, so there is no build step.
import { runCli } from '../src/cli.ts';

// Exit explicitly: a stop that left a stray handle must not keep the process alive.
process.exit(await runCli(process.argv.slice(2)));
