import type { NodeExecutor } from '../engine.js';
import { breakNode, continueNode, emptyNode, endNode, startNode } from './basic.js';
import { type CodeNodeOptions, codeNode } from './code.js';
import { conditionNode } from './condition.js';
import { httpNode } from './http.js';
import { type LlmNodeOptions, llmNode } from './llm.js';
import { loopNode } from './loop.js';

export interface NodeOptions {
  llm: LlmNodeOptions;
  code: CodeNodeOptions;
}

/** The node types this runtime executes, by FlowGram type name. */
export function nodeExecutors(opts: NodeOptions): ReadonlyMap<string, NodeExecutor> {
  return new Map<string, NodeExecutor>([
    ['start', startNode],
    ['end', endNode],
    ['llm', llmNode(opts.llm)],
    ['code', codeNode(opts.code)],
    ['condition', conditionNode],
    ['loop', loopNode],
    ['block-start', emptyNode],
    ['block-end', emptyNode],
    ['http', httpNode],
    ['break', breakNode],
    ['continue', continueNode],
  ]);
}
