// Child server processes of a test file, stopped by PID when the file ends or the process exits.
import { type ChildProcess, spawn } from 'node:child_process';
import { openSync } from 'node:fs';

const running = new Set<ChildProcess>();

process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** A user to run a process as (when the tests run as root), e.g. a container's runAsUser and runAsGroup. */
export interface ProcessUser {
  uid: number;
  gid: number;
}

export interface ProcessOptions {
  /** Run as this user instead of the tests' own. */
  user?: ProcessUser;
  /** The working directory (default the tests'). */
  cwd?: string;
}

/** Starts a long-running server with stdout/stderr going to `logFile`. */
export function startProcess(
  cmd: string,
  args: string[],
  logFile: string,
  env?: Record<string, string>,
  { user, cwd }: ProcessOptions = {},
): ChildProcess {
  const fd = openSync(logFile, 'a');
  const child = spawn(cmd, args, {
    stdio: ['ignore', fd, fd],
    detached: false,
    ...(env ? { env: { ...process.env, ...env } } : {}),
    ...user,
    ...(cwd ? { cwd } : {}),
  });
  running.add(child);
  child.on('exit', () => running.delete(child));
  return child;
}

/** Sends `signal` and waits for the process to exit (SIGKILL after `graceMs`). */
export function stopProcess(
  child: ChildProcess,
  signal: NodeJS.Signals = 'SIGTERM',
  graceMs = 20_000,
): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill(signal);
    // A paused process (pauseProcess) acts on no signal but SIGKILL until it is continued.
    child.kill('SIGCONT');
  });
}

/**
 * Freezes a server (SIGSTOP), as a hung host looks from outside: its port still accepts connections (the kernel
 * queues them) but nothing answers, and open connections stay silent. resumeProcess (SIGCONT) thaws it.
 */
export function pauseProcess(child: ChildProcess | undefined): void {
  if (!child || child.exitCode !== null || child.signalCode !== null)
    throw new Error('no running process to pause');
  child.kill('SIGSTOP');
}

export function resumeProcess(child: ChildProcess | undefined): void {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGCONT');
}
