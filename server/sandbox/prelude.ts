/**
 * Source evaluated in every fresh context before the code node's own. It gives the code the timers a
 * FlowGram code node may await (setTimeout/setInterval and their clears, queueMicrotask) and nothing else:
 * a timer is only an id the host schedules; the host clears every one when the run ends, so none outlives
 * it. The closure returns `fire(id)`, which the host calls when a timer is due; it never throws into the
 * host but hands back the callback's error, which fails the run as an uncaught error would.
 *
 * `$0` schedules (id, ms) on the host, `$1` clears (id); both are isolated-vm callbacks that ignore results.
 */
export const PRELUDE = `
const schedule = $0;
const unschedule = $1;
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
return function fire(id) {
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
};
`;

/**
 * Calls the code node's `main({ params })` and hands back its value as JSON text, so what leaves the
 * isolate is plain data (no functions, no references). `$0` is the params as JSON text (or undefined).
 */
export const CALL_MAIN = `
if (typeof main !== 'function') {
  throw new TypeError('Code node must define a function main({ params }), e.g. async function main({ params }) { return {} }');
}
const params = $0 === undefined ? undefined : JSON.parse($0);
return Promise.resolve(main({ params })).then((value) => JSON.stringify(value));
`;
