/**
 * In-isolate sources of a run, each compiled once per isolate (see scripts.ts) and run in every fresh
 * context. A run is: the host puts two timer callbacks and the params on the context's global (HOST*),
 * PRELUDE takes them off it and installs the timers, the code node's own script runs (defining main),
 * CALL_MAIN calls `main({ params })` and hands back the value as JSON text, so what leaves the isolate is
 * plain data.
 *
 * Timers are only ids the host schedules (schedule(id, ms), unschedule(id): isolated-vm callbacks that
 * ignore results); the host clears every one when the run ends, so none outlives it. When a timer is due
 * the host calls the global FIRE function, which hands back the callback's error, if any: that fails the
 * run as an uncaught error would.
 */
export const HOST = '__switchboardHost';
export const FIRE = '__switchboardFireTimer';
/** Drops every pending timer of the context: a session's next execution starts with none. */
export const RESET = '__switchboardResetTimers';

export const PRELUDE = `(() => {
  const schedule = globalThis.${HOST}Schedule;
  const unschedule = globalThis.${HOST}Unschedule;
  const params = globalThis.${HOST}Params;
  delete globalThis.${HOST}Schedule;
  delete globalThis.${HOST}Unschedule;
  delete globalThis.${HOST}Params;
  const MAX_TIMERS = 1000;
  const timers = new Map();
  let nextId = 0;
  const arm = (fn, ms, args, repeat) => {
    if (typeof fn !== 'function') throw new TypeError('The "callback" argument must be a function');
    if (timers.size >= MAX_TIMERS) throw new RangeError('Too many pending timers (limit ' + MAX_TIMERS + ')');
    const id = ++nextId;
    const delay = Math.max(0, Number(ms) || 0);
    timers.set(id, { fn, args, repeat, delay });
    schedule(id, delay);
    return id;
  };
  const disarm = (id) => {
    if (timers.delete(id)) unschedule(id);
  };
  const define = (name, value) =>
    Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });
  define('setTimeout', (fn, ms, ...args) => arm(fn, ms, args, false));
  define('setInterval', (fn, ms, ...args) => arm(fn, ms, args, true));
  define('clearTimeout', disarm);
  define('clearInterval', disarm);
  define('queueMicrotask', (fn) => {
    if (typeof fn !== 'function') throw new TypeError('The "callback" argument must be a function');
    Promise.resolve().then(() => fn());
  });
  define('${RESET}', () => timers.clear());
  define('${FIRE}', (id) => {
    const timer = timers.get(id);
    if (!timer) return undefined;
    if (timer.repeat) schedule(id, timer.delay);
    else timers.delete(id);
    try {
      timer.fn(...timer.args);
      return undefined;
    } catch (error) {
      const e = error instanceof Error ? error : new Error(String(error));
      return { name: String(e.name), message: String(e.message), stack: String(e.stack) };
    }
  });
  // The params stay out of reach of the code node's top level until main is called.
  define('${HOST}', { params });
})();`;

export const CALL_MAIN = `(() => {
  if (typeof main !== 'function') {
    throw new TypeError('Code node must define a function main({ params }), e.g. async function main({ params }) { return {} }');
  }
  const json = globalThis.${HOST}.params;
  delete globalThis.${HOST};
  const params = json === undefined ? undefined : JSON.parse(json);
  return Promise.resolve(main({ params })).then((value) => JSON.stringify(value));
})()`;
