import { SingleBar, Presets } from 'cli-progress';

/** A progress bar on stderr (drawn only on a terminal, so pipes and --json stay clean). */
export function progressBar(label: string, total: number): SingleBar {
  const bar = new SingleBar(
    {
      format: `${label} [{bar}] {percentage}% | {value}/{total} | {info}`,
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: false,
    },
    Presets.shades_classic,
  );
  bar.start(total, 0, { info: '' });
  return bar;
}
