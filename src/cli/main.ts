#!/usr/bin/env node
/** The `pulse` command (the package's bin). */
import { runCli } from './program.js';

process.exitCode = await runCli(process.argv);
