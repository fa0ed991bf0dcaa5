import type { NodeExecutor } from '../engine.js';

/** start: its outputs are the workflow's inputs. */
export const startNode: NodeExecutor = async ({ engine }) => ({ outputs: engine.inputs });

/** end: its inputs are the workflow's result. */
export const endNode: NodeExecutor = async ({ engine, inputs }) => {
  engine.outputs = inputs;
  return { outputs: inputs };
};

/** block-start / block-end: the bounds of a loop body. */
export const emptyNode: NodeExecutor = async () => ({ outputs: {} });

/** break / continue: flag the loop iteration they run in. */
export const breakNode: NodeExecutor = async ({ state }) => {
  state.flags.add('break');
  return { outputs: {} };
};
export const continueNode: NodeExecutor = async ({ state }) => {
  state.flags.add('continue');
  return { outputs: {} };
};
