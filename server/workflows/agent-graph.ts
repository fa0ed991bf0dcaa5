import { Annotation, END, START, StateGraph } from '@langchain/langgraph';
import type { ChatCompletionMessageToolCall } from 'openai/resources/chat/completions';
import type { ChatTurn, LlmMessage } from '../llm/types.js';
import type { RunGraph } from '../protocol/graph.js';
import { type Tool, toLlmTool } from '../tools/index.js';
import { fromLangGraph } from './run-graph.js';
import type { WorkflowRun } from './types.js';

/** What the model reads of one tool result; the whole result still goes to the `tool_result` event. */
const MAX_TOOL_MESSAGE_CHARS = 16_000;

export interface AgentOptions {
  tools: Tool[];
  maxIterations: number;
  /** Calls allowed per tool name (e.g. kit_execute attempts); a spent tool is withdrawn from the model. */
  budgets?: Readonly<Record<string, number>>;
}

const AgentState = Annotation.Root({
  messages: Annotation<LlmMessage[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
  iterations: Annotation<number>({ reducer: (_a, b) => b, default: () => 0 }),
  toolUses: Annotation<Record<string, number>>({ reducer: (_a, b) => b, default: () => ({}) }),
  /** The latest result of each tool, for workflows that report on it. */
  lastResults: Annotation<Record<string, { result: unknown; isError: boolean }>>({
    reducer: (a, b) => ({ ...a, ...b }),
    default: () => ({}),
  }),
  lastTurn: Annotation<ChatTurn | null>({ reducer: (_a, b) => b, default: () => null }),
});
export type AgentState = typeof AgentState.State;

/**
 * The tool loop as a LangGraph graph: `agent` asks the model (streaming its tokens), `tools` runs what it
 * called, and back, until the model answers without tools or the turn limit is reached (the last allowed
 * turn is offered no tools, so the model has to answer).
 */
export function agentGraph(run: WorkflowRun, opts: AgentOptions) {
  const byName = new Map(opts.tools.map((t) => [t.name, t]));
  const budgets = opts.budgets ?? {};

  const agent = async (state: AgentState): Promise<Partial<AgentState>> => {
    run.events.emit('node_start', { node: 'agent', nodeType: 'llm' });
    const lastTurnAllowed = state.iterations + 1 >= opts.maxIterations;
    const offered = lastTurnAllowed
      ? []
      : opts.tools.filter(
          (t) => (state.toolUses[t.name] ?? 0) < (budgets[t.name] ?? Number.POSITIVE_INFINITY),
        );
    const turn = await run.model.complete({
      messages: state.messages,
      tools: offered.map(toLlmTool),
      signal: run.signal,
      onToken: (text) => run.events.token(text, 'agent'),
    });
    run.addUsage(turn.usage);
    const message: LlmMessage = { role: 'assistant', content: turn.content || null };
    if (turn.toolCalls.length > 0) {
      message.tool_calls = turn.toolCalls.map(
        (c): ChatCompletionMessageToolCall => ({
          id: c.id,
          type: 'function',
          function: { name: c.name, arguments: c.arguments },
        }),
      );
      run.events.emit('tool_thinking', {
        text: `calling ${turn.toolCalls.map((c) => c.name).join(', ')}`,
      });
    }
    run.events.emit('node_end', { node: 'agent', output: { finishReason: turn.finishReason } });
    return { messages: [message], iterations: state.iterations + 1, lastTurn: turn };
  };

  const tools = async (state: AgentState): Promise<Partial<AgentState>> => {
    run.events.emit('node_start', { node: 'tools', nodeType: 'tools' });
    const uses = { ...state.toolUses };
    const replies: LlmMessage[] = [];
    const lastResults: AgentState['lastResults'] = {};
    for (const call of state.lastTurn?.toolCalls ?? []) {
      const args = parseArgs(call.arguments);
      run.events.emit('tool_start', {
        callId: call.id,
        name: call.name,
        args: args.ok ? args.value : call.arguments,
      });
      const tool = byName.get(call.name);
      uses[call.name] = (uses[call.name] ?? 0) + 1;
      let out: { result: unknown; isError: boolean };
      if (!tool) out = { result: { error: `no tool named ${call.name}` }, isError: true };
      else if (!args.ok)
        out = { result: { error: `arguments are not valid JSON: ${args.error}` }, isError: true };
      else if (uses[call.name]! > (budgets[call.name] ?? Number.POSITIVE_INFINITY))
        out = {
          result: { error: `${call.name} may be used ${budgets[call.name]} times per run` },
          isError: true,
        };
      else out = await tool.run(args.value, { signal: run.signal, callId: call.id });
      const result = run.scrub(out.result);
      run.events.emit('tool_result', { callId: call.id, name: call.name, result, isError: out.isError });
      lastResults[call.name] = { result, isError: out.isError };
      replies.push({ role: 'tool', tool_call_id: call.id, content: forModel(result) });
    }
    run.events.emit('node_end', { node: 'tools' });
    return { messages: replies, toolUses: uses, lastResults };
  };

  const next = (state: AgentState) =>
    (state.lastTurn?.toolCalls.length ?? 0) > 0 && state.iterations < opts.maxIterations ? 'tools' : END;

  return buildAgentGraph(agent, tools, next);
}

type AgentStep = (state: AgentState) => Promise<Partial<AgentState>>;

/** The loop's wiring, apart from what its nodes do: the run builds it with real steps, the graph view with none. */
function buildAgentGraph(agent: AgentStep, tools: AgentStep, next: (state: AgentState) => string) {
  return new StateGraph(AgentState)
    .addNode('agent', agent)
    .addNode('tools', tools)
    .addEdge(START, 'agent')
    .addConditionalEdges('agent', next, ['tools', END])
    .addEdge('tools', 'agent')
    .compile();
}

/** The agent loop's graph as LangGraph draws it (for `GET /api/v1/workflows/{name}/graph`). */
export function agentGraphShape(name: string): RunGraph {
  const idle: AgentStep = async () => ({});
  return fromLangGraph(name, buildAgentGraph(idle, idle, () => END).getGraph());
}

/** Runs the loop to its answer; aborting `run.signal` stops it wherever it is. */
export async function runAgent(run: WorkflowRun, messages: LlmMessage[], opts: AgentOptions) {
  const graph = agentGraph(run, opts);
  // Each turn is two graph steps (agent, tools); the turn limit is the real bound.
  return graph.invoke({ messages }, { signal: run.signal, recursionLimit: opts.maxIterations * 2 + 4 });
}

function parseArgs(text: string): { ok: true; value: unknown } | { ok: false; error: string } {
  if (text.trim() === '') return { ok: true, value: {} };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}

function forModel(result: unknown): string {
  const text = typeof result === 'string' ? result : JSON.stringify(result);
  return text.length > MAX_TOOL_MESSAGE_CHARS ? `${text.slice(0, MAX_TOOL_MESSAGE_CHARS)}… (cut)` : text;
}
