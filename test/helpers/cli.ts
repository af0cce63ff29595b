import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BIN = fileURLToPath(new URL('../../bin/riskloop.js', import.meta.url));
export const DATA = fileURLToPath(new URL('../../../shared/data/', import.meta.url));

/** Runs the built CLI (npm test builds first) and returns stdout/stderr; rejects on a non-zero exit. */
export async function cli(args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<{ stdout: string; stderr: string }> {
  if (opts.input !== undefined) {
    return new Promise((resolve, reject) => {
      const child = execFile(process.execPath, [BIN, ...args], { cwd: ROOT, maxBuffer: 1 << 28, env: { ...process.env, ...opts.env } }, (err, stdout, stderr) => {
        if (err) reject(Object.assign(err, { stdout, stderr }));
        else resolve({ stdout, stderr });
      });
      child.stdin!.end(opts.input);
    });
  }
  return run(process.execPath, [BIN, ...args], { cwd: ROOT, maxBuffer: 1 << 28, env: { ...process.env, ...opts.env } });
}
