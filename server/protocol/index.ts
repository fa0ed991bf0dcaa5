import type { z } from 'zod';
import type { ExtensionClientEvents, ExtensionServerEvents } from './extension.js';
import type { MonitorClientEvents, MonitorServerEvents } from './monitor.js';

export * from './common.js';
export * from './extension.js';
export * from './flowgram.js';
export * from './graph.js';
export * from './http.js';
export * from './monitor.js';
export * from './tasks.js';
export * from './workflows.js';

export const HUB_VERSION = '0.1.0';

type EventSpec = { payload: z.ZodType; ack?: z.ZodType };

/** Client -> server listener signatures: the payload as the client writes it, the ack as the hub answers. */
export type ListenerMap<T extends Record<string, EventSpec>> = {
  [K in keyof T]: T[K] extends { payload: infer P extends z.ZodType; ack: infer A extends z.ZodType }
    ? (payload: z.input<P>, ack: (res: z.infer<A>) => void) => void
    : (payload: z.input<T[K]['payload']>) => void;
};

/** Server -> client emit signatures: what the hub sends and, for requests, what the client acks. */
export type EmitMap<T extends Record<string, EventSpec>> = {
  [K in keyof T]: T[K] extends { payload: infer P extends z.ZodType; ack: infer A extends z.ZodType }
    ? (payload: z.infer<P>, ack: (res: z.input<A>) => void) => void
    : (payload: z.infer<T[K]['payload']>) => void;
};

export type MonitorClientToServer = ListenerMap<typeof MonitorClientEvents>;
export type MonitorServerToClient = EmitMap<typeof MonitorServerEvents>;
export type ExtensionClientToServer = ListenerMap<typeof ExtensionClientEvents>;
export type ExtensionServerToClient = EmitMap<typeof ExtensionServerEvents>;

export type MonitorEventName = keyof typeof MonitorClientEvents;
export type ExtensionEventName = keyof typeof ExtensionClientEvents;

export const NAMESPACES = { monitor: '/monitor', extension: '/extension' } as const;
