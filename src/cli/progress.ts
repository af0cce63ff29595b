import cliProgress from 'cli-progress';

export interface Progress {
  update(value: number, payload?: Record<string, unknown>): void;
  stop(): void;
}

/** A progress bar on a terminal (stderr); silent when piped, in CI, or with --quiet. */
export function progressBar(total: number, label: string, opts: { quiet?: boolean; unit?: string } = {}): Progress {
  if (opts.quiet || !process.stderr.isTTY || process.env.CI) return { update() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `${label} [{bar}] {percentage}% | {value}/{total} ${opts.unit ?? ''} | {detail}`,
      hideCursor: true,
      fps: 10,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { detail: '' });
  return {
    update: (v, payload) => bar.update(v, { detail: '', ...payload }),
    stop: () => bar.stop(),
  };
}
