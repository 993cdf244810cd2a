#!/usr/bin/env node
// kubectl-sapp, the kubectl plugin of the scalable-app-operator: `kubectl sapp <command>` (kubectl runs any
// kubectl-<name> on the PATH). A small dispatcher over the subcommands in commands.ts.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import {
  credentialsCommand,
  mysqlCommand,
  type PluginIO,
  redisCommand,
  statusCommand,
  UsageError,
} from './commands.js';
import { PluginError } from './kube.js';
import { USAGE, usageOf } from './usage.js';

/** Runs kubectl on this terminal; while it runs, Ctrl-C is kubectl's (and the session's) to handle, not ours. */
function runKubectl(args: string[]): Promise<number> {
  const ignore = () => {};
  process.on('SIGINT', ignore);
  return new Promise<number>((resolve, reject) => {
    const child = spawn(process.env.KUBECTL ?? 'kubectl', args, { stdio: 'inherit' });
    child.on('error', (err) => reject(new PluginError(`cannot run kubectl: ${err.message}`, { cause: err })));
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  }).finally(() => process.off('SIGINT', ignore));
}

const io: PluginIO = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  now: () => new Date(),
  isTTY: Boolean(process.stdin.isTTY),
  runKubectl,
};

const COMMANDS = {
  status: statusCommand,
  credentials: credentialsCommand,
  mysql: mysqlCommand,
  redis: redisCommand,
} as const;

async function main([command, ...args]: string[]): Promise<number> {
  if (command === 'render') {
    // Loaded only for render: the builders are most of the plugin's start-up time.
    const { renderCommand } = await import('../render.js');
    return renderCommand(args, {
      readFile: (path) => readFileSync(path === '-' ? 0 : path, 'utf8'),
      stdout: io.stdout,
      stderr: io.stderr,
    });
  }
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    (command === undefined ? io.stderr : io.stdout)(USAGE);
    return command === undefined ? 2 : 0;
  }
  const run = COMMANDS[command as keyof typeof COMMANDS];
  if (!run) {
    io.stderr(`kubectl sapp: unknown command "${command}"\n\n${USAGE}`);
    return 2;
  }
  try {
    return await run(args, io, usageOf(command as keyof typeof COMMANDS));
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`kubectl sapp ${command}: ${err.message}\n\n${usageOf(command as keyof typeof COMMANDS)}`);
      return 2;
    }
    if (err instanceof PluginError) {
      io.stderr(`kubectl sapp ${command}: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

void main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
