import { Session } from 'node:inspector/promises';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

/**
 * Runs `work` under V8's CPU profiler and returns the functions with the most self time, so a benchmark
 * that loses can say where the time goes without anyone attaching a debugger.
 */
export async function profileTop(work: () => Promise<void>, top = 25): Promise<string[]> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
  const failed = await work().then(
    () => undefined,
    (error: unknown) => error,
  );
  // Stop even when the work failed, so the profiler does not keep sampling the rest of the run.
  const { profile } = await session.post('Profiler.stop');
  if (failed !== undefined) {
    session.disconnect();
    throw failed;
  }
  session.disconnect();
  const nodes = profile.nodes as ProfileNode[];
  const total = nodes.reduce((sum, n) => sum + (n.hitCount ?? 0), 0) || 1;
  const byFunction = new Map<string, number>();
  for (const n of nodes) {
    const { functionName, url, lineNumber } = n.callFrame;
    const where = url
      ? `${url.replace(/^.*\/(node_modules|server|client|test)\//, '$1/')}:${lineNumber + 1}`
      : '';
    const key = `${functionName || '(anonymous)'} ${where}`.trim();
    byFunction.set(key, (byFunction.get(key) ?? 0) + (n.hitCount ?? 0));
  }
  return [...byFunction.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, hits]) => `${((hits / total) * 100).toFixed(1).padStart(5)}%  ${name}`);
}
