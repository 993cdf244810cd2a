#!/usr/bin/env node
// The scalable-app-operator command line: a small dispatcher over subcommands.
import { readFileSync } from 'node:fs';
import { main as startOperatorMain } from './main.js';
import { renderCommand, type RenderIO } from './render.js';

const USAGE = `Usage: scalable-app-operator <command> [options]

Commands:
  start                         run the operator (configuration from environment variables; see README)
  render -f FILE [-f FILE...]   print the objects the operator would create for the ScalableApps in FILE
  help                          show this help
`;

const io: RenderIO = {
  readFile: (path) => readFileSync(path === '-' ? 0 : path, 'utf8'),
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
};

function main([command, ...args]: string[]): number | Promise<number> {
  switch (command) {
    case 'start':
      return startOperatorMain();
    case 'render':
      return renderCommand(args, io);
    case 'help':
    case '--help':
    case '-h':
      io.stdout(USAGE);
      return 0;
    default:
      io.stderr(command === undefined ? USAGE : `unknown command: ${command}\n\n${USAGE}`);
      return 2;
  }
}

void Promise.resolve(main(process.argv.slice(2))).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
