// `rehearse logs [service]`: compose's own log view of the stack, streamed through.
import { execa } from 'execa';
import type { Config } from '../config.js';
import { UserError, CancelledError } from '../errors.js';
import { composeArgs } from '../stack/docker.js';
import { stackNames } from '../paths.js';

const ANSI_ESCAPE = /\u001b\[[0-9;?]*[A-Za-z]/g;

export async function showLogs(config: Config, service: string | undefined, opts: { follow: boolean; tail: string; signal: AbortSignal }): Promise<void> {
  const services = Object.keys(stackNames(config).containers);
  if (service && !services.includes(service)) {
    throw new UserError(`There is no service "${service}" in the staging stack.`, { tryThis: `Use one of: ${services.join(', ')}.` });
  }
  if (!/^\d+$|^all$/.test(opts.tail)) throw new UserError(`--tail "${opts.tail}" is not a number of lines.`, { tryThis: 'e.g. --tail 100' });
  const args = [...composeArgs(config, { allProfiles: true }), 'logs', '--no-color', '--tail', opts.tail, ...(opts.follow ? ['--follow'] : []), ...(service ? [service] : [])];
  try {
    // Compose erases each line with ESC[2K even with --no-color and --ansi never: on a terminal that
    // is harmless, anywhere else (a file, a pipe, a CI log) it is noise, so it is stripped there.
    if (process.stdout.isTTY) await execa('docker', args, { cwd: config.workDir, stdio: ['ignore', 'inherit', 'inherit'], cancelSignal: opts.signal });
    else {
      const child = execa('docker', args, { cwd: config.workDir, stdin: 'ignore', stdout: 'pipe', stderr: 'inherit', buffer: false, cancelSignal: opts.signal });
      child.stdout!.setEncoding('utf8');
      let carry = ''; // an escape sequence cut in two by a chunk boundary
      child.stdout!.on('data', (chunk: string) => {
        const text = carry + chunk;
        const cut = text.search(/\u001b(\[[0-9;?]*)?$/);
        carry = cut >= 0 ? text.slice(cut) : '';
        process.stdout.write((cut >= 0 ? text.slice(0, cut) : text).replace(ANSI_ESCAPE, ''));
      });
      await child;
      process.stdout.write(carry.replace(ANSI_ESCAPE, ''));
    }
  } catch (error) {
    if (opts.signal.aborted) {
      if (opts.follow) return; // Ctrl-C is how a follow ends
      throw new CancelledError();
    }
    throw new UserError(`\`docker compose logs\` failed: ${(error as Error).message.split('\n')[0]}`, { tryThis: 'Is the stack set up? `rehearse status`' });
  }
}
