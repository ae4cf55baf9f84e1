import type { Schemas } from '@aiops/sdk';

/** The catalog's and marketplace's API types, from the SDK's schemas (generated from the OpenAPI document). */
export type AgentType = Schemas['AgentType'];
export type Purchase = Schemas['Purchase'];
export type Template = Schemas['Template'];
