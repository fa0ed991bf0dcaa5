import { SandboxSession } from '../../../sandbox/index.js';
import type { NodeExecutor } from '../engine.js';

export interface CodeNodeOptions {
  timeoutMs: number;
  memoryMb: number;
}

/**
 * code: FlowGram's `async function main({ params })` in the sandbox, `params` being the node's inputs. An
 * object result is the node's outputs; anything else is `{result}` (FlowGram's rule). Each code node has
 * one sandbox session per run, so a loop body's iterations reuse its isolate and compiled code (each still
 * gets fresh params, fresh top-level state and its own time limit).
 */
export function codeNode(opts: CodeNodeOptions): NodeExecutor {
  return async ({ node, inputs, signal, engine }) => {
    const script = node.data['script'] as { language?: string; content?: string } | undefined;
    if (!script?.content) throw new Error('Code content is required');
    if (script.language !== 'javascript') throw new Error(`Unsupported code language "${script.language}"`);
    let raw: unknown;
    try {
      const source = script.content;
      const session = engine.resource(
        `code:${node.id}`,
        () => new SandboxSession(source, { timeoutMs: opts.timeoutMs, memoryMb: opts.memoryMb }),
      );
      raw = await session.run(inputs, signal);
    } catch (err) {
      if (signal.aborted) throw err;
      throw new Error(`Code execution failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    const outputs =
      raw && typeof raw === 'object' && !Array.isArray(raw)
        ? (raw as Record<string, unknown>)
        : { result: raw };
    return { outputs };
  };
}
