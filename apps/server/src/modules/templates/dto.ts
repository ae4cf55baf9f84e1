import type { TemplateDto } from '@aiops/contracts';
import type { aiTemplates, marketplaceListings, TemplateContent } from '@aiops/db';

export type TemplateRow = typeof aiTemplates.$inferSelect;
export type ListingRow = typeof marketplaceListings.$inferSelect;

export function templateDto(row: TemplateRow, listing?: ListingRow | null): TemplateDto {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    avatarUrl: row.avatarUrl,
    category: row.category,
    capabilities: row.capabilities,
    systemPrompt: row.systemPrompt,
    promptTemplate: row.promptTemplate,
    functions: row.functions,
    personalityConfig: row.personalityConfig,
    knowledgeSources: row.knowledgeSources,
    modelConfig: row.modelConfig,
    allowedIntegrations: row.allowedIntegrations,
    costLimitPerRequest: row.costLimitPerRequest,
    version: row.version,
    isPublic: row.isPublic,
    isMarketplace: row.isMarketplace,
    price: row.price,
    usageCount: row.usageCount,
    rating: row.rating,
    sourceAgentId: row.sourceAgentId,
    sourceListingId: row.sourceListingId,
    listing: listing
      ? {
          id: listing.id,
          status: listing.status,
          price: listing.price,
          templateVersion: listing.templateVersion,
        }
      : null,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** What a template version holds (everything an agent made from it needs). */
export function contentOf(row: TemplateRow): TemplateContent {
  return {
    name: row.name,
    description: row.description,
    avatarUrl: row.avatarUrl,
    category: row.category,
    capabilities: row.capabilities,
    systemPrompt: row.systemPrompt,
    promptTemplate: row.promptTemplate,
    functions: row.functions,
    personalityConfig: row.personalityConfig,
    knowledgeSources: row.knowledgeSources,
    modelConfig: row.modelConfig,
    allowedIntegrations: row.allowedIntegrations,
    costLimitPerRequest: row.costLimitPerRequest,
  };
}

/** The row fields of a version's content (installing a bought version). */
export function columnsOf(c: TemplateContent) {
  return {
    name: c.name,
    description: c.description,
    avatarUrl: c.avatarUrl,
    category: c.category,
    capabilities: c.capabilities,
    systemPrompt: c.systemPrompt,
    promptTemplate: c.promptTemplate,
    functions: c.functions,
    personalityConfig: c.personalityConfig,
    knowledgeSources: c.knowledgeSources,
    modelConfig: c.modelConfig,
    allowedIntegrations: c.allowedIntegrations,
    costLimitPerRequest: c.costLimitPerRequest,
  };
}
