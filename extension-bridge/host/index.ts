export {
  HOST_APP,
  HOST_VERSION,
  MAX_RESULT_BYTES,
  ReferenceHost,
  type ReferenceHostEvents,
  type ReferenceHostOptions,
} from './host.js';
export { HostPolicy, type HostPolicyOptions, type HostVerdict } from './host-policy.js';
export type { ConnectionState } from './hub-link.js';
export { OutputCoalescer, splitText } from './output-coalescer.js';
export {
  defaultPython,
  type JobOutcome,
  KILL_GRACE_MS,
  type OutputStream,
  type PythonJob,
  pythonVersion,
  type RunOptions,
  runPython,
  type StopReason,
} from './python-runner.js';
