/**
 * The MCP SDK's runtime, loaded on first use: importing it costs a second or more of start-up, which a hub
 * (and every CLI or test that starts one) should only pay once a plugin actually runs.
 */
let loading: Promise<McpSdk> | undefined;

export interface McpSdk {
  Client: typeof import('@modelcontextprotocol/sdk/client/index.js').Client;
  StreamableHTTPClientTransport: typeof import('@modelcontextprotocol/sdk/client/streamableHttp.js').StreamableHTTPClientTransport;
  LoggingMessageNotificationSchema: typeof import('@modelcontextprotocol/sdk/types.js').LoggingMessageNotificationSchema;
  PluginStdioTransport: typeof import('./stdio-transport.js').PluginStdioTransport;
}

export function loadSdk(): Promise<McpSdk> {
  loading ??= Promise.all([
    import('@modelcontextprotocol/sdk/client/index.js'),
    import('@modelcontextprotocol/sdk/client/streamableHttp.js'),
    import('@modelcontextprotocol/sdk/types.js'),
    import('./stdio-transport.js'),
  ]).then(([client, http, types, stdio]) => ({
    Client: client.Client,
    StreamableHTTPClientTransport: http.StreamableHTTPClientTransport,
    LoggingMessageNotificationSchema: types.LoggingMessageNotificationSchema,
    PluginStdioTransport: stdio.PluginStdioTransport,
  }));
  return loading;
}
