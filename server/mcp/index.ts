export { toMcpError } from './errors.js';
export { followTask } from './follow.js';
export { MCP_PATH, type McpEndpoint, type McpOptions, mcpRoutes } from './routes.js';
export { pluginToolSource } from './tools/plugins.js';
export { defineTool, jsonResult, type McpTool, type McpToolSource, type ToolCall } from './types.js';
