import type { paths, Schemas } from '@aiops/sdk';
import type { JsonContent } from '../../api/types.ts';

/**
 * The API shapes the knowledge pages read (conversations, terminology), from the SDK's types
 * (generated from the OpenAPI document).
 */
export type Conversation = Schemas['Conversation'];
export type Participant = Conversation['participants'][number];
export type Message = Schemas['ConversationMessage'];
export type Term = Schemas['Term'];
export type SearchHit = JsonContent<
  paths['/api/v1/terminology/search']['get']['responses'][200]
>['data'][number];
