import type { HubConfig } from '../config.js';
import { HubError } from '../errors.js';
import type { ModelConfig } from '../protocol/workflows.js';
import { DEMO_MODEL, DemoModel } from './demo-model.js';
import { OpenAiModel } from './openai-model.js';
import type { ChatModel } from './types.js';

export { DEMO_MODEL } from './demo-model.js';
export * from './types.js';

type LlmSettings = Pick<
  HubConfig,
  'llmBaseUrl' | 'llmApiKey' | 'llmModel' | 'llmMaxRetries' | 'llmTimeoutMs'
>;

/**
 * Picks the model for one run: the request's settings over the hub's. With neither a base URL nor a key
 * anywhere, the built-in demo model answers, so a fresh hub shows a live workflow offline.
 */
export function resolveModel(requested: ModelConfig, settings: LlmSettings): ChatModel {
  const name = requested.model_name ?? settings.llmModel;
  if (name === DEMO_MODEL) return new DemoModel();
  const baseURL = requested.base_url ?? settings.llmBaseUrl;
  // The hub's own key goes only to the hub's own server, never to a base URL a request supplied.
  const apiKey = requested.api_key ?? (requested.base_url ? undefined : settings.llmApiKey);
  if (!baseURL && !apiKey) {
    if (name === undefined) return new DemoModel();
    throw new HubError(
      'bad_request',
      `runtime_config.model.base_url: no model server is configured for model ${name}; ` +
        `give base_url, set SWITCHBOARD_LLM_BASE_URL, or use ${DEMO_MODEL}`,
      { field: 'runtime_config.model.base_url' },
    );
  }
  if (name === undefined) {
    throw new HubError(
      'bad_request',
      'runtime_config.model.model_name: no model named; give model_name or set SWITCHBOARD_LLM_MODEL',
      { field: 'runtime_config.model.model_name' },
    );
  }
  return new OpenAiModel({
    model: name,
    baseURL,
    apiKey,
    maxRetries: settings.llmMaxRetries,
    timeoutMs: settings.llmTimeoutMs,
    temperature: requested.temperature,
    maxTokens: requested.max_tokens,
  });
}
