import type { ChatModel, ChatRequest, ChatTurn, LlmMessage, ToolCall } from './types.js';

export const DEMO_MODEL = 'switchboard-demo';

const WORD_DELAY_MS = 15;

const DEMO_KIT_SCRIPT = `try:
    import omni.usd
    stage = omni.usd.get_context().get_stage()
    print("Open stage:", stage.GetRootLayer().identifier if stage else "none")
except ImportError:
    import platform
    print("Not inside Kit; Python", platform.python_version())
"hello from switchboard-demo"`;

/**
 * The built-in offline model: no network, deterministic answers streamed word by word, and tool calls when
 * the request obviously asks for one (the time, arithmetic, Kit). It exists so a hub with no model configured
 * still shows a live workflow; it does not pretend to be clever.
 */
export class DemoModel implements ChatModel {
  readonly name = DEMO_MODEL;

  async complete(req: ChatRequest): Promise<ChatTurn> {
    const last = req.messages.at(-1);
    const offered = new Set(req.tools.map((t) => t.function.name));
    const call = last?.role === 'user' ? pickTool(textOf(last), offered) : null;
    if (call) return { content: '', toolCalls: [call], finishReason: 'tool_calls', usage: usage(req, '') };
    const answer = last?.role === 'tool' ? summarise(req.messages) : greet(last ? textOf(last) : '');
    for (const word of answer.split(/(?<= )/)) {
      await sleep(WORD_DELAY_MS, req.signal);
      req.onToken(word);
    }
    return { content: answer, toolCalls: [], finishReason: 'stop', usage: usage(req, answer) };
  }
}

function pickTool(text: string, offered: Set<string>): ToolCall | null {
  const id = `call_demo_${text.length}`;
  if (offered.has('kit_execute'))
    return { id, name: 'kit_execute', arguments: JSON.stringify({ code: DEMO_KIT_SCRIPT }) };
  const expression = /(?:\d|\()[\d\s.+\-*/%^()]*[+\-*/%^][\d\s.+\-*/%^()]*[\d)]/.exec(text)?.[0];
  if (expression && offered.has('calculator'))
    return { id, name: 'calculator', arguments: JSON.stringify({ expression: expression.trim() }) };
  if (/\b(time|date|clock|today)\b/i.test(text) && offered.has('get_time'))
    return { id, name: 'get_time', arguments: '{}' };
  return null;
}

function greet(text: string): string {
  const said = text.length > 200 ? `${text.slice(0, 200)}…` : text;
  return (
    `Hello! I am ${DEMO_MODEL}, the hub's built-in offline model. You said: "${said}". ` +
    'Set SWITCHBOARD_LLM_BASE_URL (or runtime_config.model) to talk to a real model.'
  );
}

/** Reports what the tools of the latest turn returned, in words where it knows the tool's shape. */
function summarise(messages: LlmMessage[]): string {
  const results: string[] = [];
  for (let i = messages.length - 1; i >= 0 && messages[i]?.role === 'tool'; i--) {
    results.unshift(describe(textOf(messages[i]!)));
  }
  return `${results.join(' ')} (${DEMO_MODEL} reports tool results as they are.)`;
}

function describe(raw: string): string {
  let r: Record<string, unknown> = {};
  try {
    r = JSON.parse(raw) as Record<string, unknown>;
  } catch {}
  if (typeof r['expression'] === 'string' && typeof r['value'] === 'number')
    return `${r['expression']} = ${r['value']}.`;
  if (typeof r['text'] === 'string') return `It is ${r['text']}.`;
  if (typeof r['status'] === 'string' && ('stdout' in r || 'error' in r)) {
    const said = String(r['stdout'] ?? '').trim() || String(r['error'] ?? '').trim();
    return `The code ${r['status']}${said ? `: ${said.slice(0, 400)}` : ''}.`;
  }
  if (typeof r['error'] === 'string') return `The tool failed: ${r['error']}.`;
  return `The tool returned ${raw.length > 400 ? `${raw.slice(0, 400)}…` : raw}.`;
}

function textOf(message: LlmMessage): string {
  const content = message.content;
  if (typeof content === 'string') return content;
  if (!content) return '';
  return content.map((part) => ('text' in part ? part.text : '')).join('');
}

/** Whitespace-separated words stand in for tokens: deterministic, and close enough for a demo. */
function usage(req: ChatRequest, answer: string): ChatTurn['usage'] {
  const count = (s: string) => s.split(/\s+/).filter(Boolean).length;
  const promptTokens = req.messages.reduce((n, m) => n + count(textOf(m)), 0);
  const completionTokens = count(answer) || 1;
  return { promptTokens, completionTokens, totalTokens: promptTokens + completionTokens };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
