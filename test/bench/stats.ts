/** One figure of the bench: the hub, its bare baseline from the same run, and their ratio. */
export interface Figure {
  id: string;
  label: string;
  unit: string;
  hub: number;
  base: number;
  /** hub/base when lower is better; hub/base for throughput; base/hub for a speed-up (tokens). */
  ratio: number;
  /** Lowest and highest ratio over the rounds. */
  spread: [number, number];
  /** Which way is good for the ratio, and the target for it. */
  better: 'lower' | 'higher';
  target: number;
}

export interface Sample {
  hub: number;
  base: number;
}

export const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
};

/** Folds the rounds into one figure: medians of hub and base, the median ratio and its spread. */
export function figure(
  meta: Omit<Figure, 'hub' | 'base' | 'ratio' | 'spread'> & { speedup?: boolean },
  rounds: readonly Sample[],
): Figure {
  const { speedup, ...rest } = meta;
  const ratios = rounds.map((r) => (speedup ? r.base / r.hub : r.hub / r.base));
  return {
    ...rest,
    hub: median(rounds.map((r) => r.hub)),
    base: median(rounds.map((r) => r.base)),
    ratio: median(ratios),
    spread: [Math.min(...ratios), Math.max(...ratios)],
  };
}

const fmt = (n: number) => (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2));

export function printFigure(f: Figure): void {
  const ok = f.better === 'lower' ? f.ratio <= f.target : f.ratio >= f.target;
  console.log(
    `${f.label.padEnd(58)} hub ${fmt(f.hub).padStart(8)} ${f.unit.padEnd(9)} base ${fmt(f.base).padStart(8)}  ratio ${f.ratio.toFixed(2)}x (${f.spread[0].toFixed(2)}-${f.spread[1].toFixed(2)})  target ${f.better === 'lower' ? '<=' : '>='} ${f.target}x ${ok ? 'ok' : 'MISSED'}`,
  );
}

/**
 * Figures whose ratio is more than `factor` times worse than the committed one, judged by the best of the
 * rounds. Ratios, not times: a loaded machine slows hub and baseline alike; and a busy neighbour spoils a
 * round, rarely all three, so only a real regression moves the best round that far.
 */
export function regressions(now: readonly Figure[], committed: readonly Figure[], factor: number): string[] {
  const out: string[] = [];
  for (const f of now) {
    const was = committed.find((c) => c.id === f.id);
    if (!was) continue;
    const best = f.better === 'lower' ? f.spread[0] : f.spread[1];
    const worse = f.better === 'lower' ? best > was.ratio * factor : best < was.ratio / factor;
    if (worse)
      out.push(
        `${f.label}: best round ${best.toFixed(2)}x (median ${f.ratio.toFixed(2)}x), committed ${was.ratio.toFixed(2)}x`,
      );
  }
  return out;
}
