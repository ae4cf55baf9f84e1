/** The catalog's and marketplace's API types, inferred from @aiops/contracts (type-only). */
import type { salesSchema } from '@aiops/contracts';
import type { z } from 'zod';

export type {
  AgentTypeDto as AgentType,
  ListingDto as Listing,
  PurchaseDto as Purchase,
  RatingDto as Rating,
  TemplateDto as Template,
} from '@aiops/contracts';
export type Sales = z.infer<typeof salesSchema>;
