/**
 * The price catalog shipped with the product: `catalog.json`, versioned by the date its figures were checked.
 * Organizations add overrides (negotiated or custom prices) as data of the same shape; `priceFor` prefers them.
 */
import catalog from './catalog.json' with { type: 'json' };
import { type ModelPrice, validatePrices } from './price.ts';

export interface PriceCatalog {
  /** The date the figures were checked against the providers' pricing pages. */
  version: string;
  currency: 'USD';
  models: readonly ModelPrice[];
}

function load(): PriceCatalog {
  const models = catalog.models as ModelPrice[];
  const problems = validatePrices(models);
  if (problems.length)
    throw new Error(`price catalog ${catalog.version} is invalid:\n${problems.join('\n')}`);
  return Object.freeze({ version: catalog.version, currency: 'USD', models: Object.freeze(models) });
}

export const PRICE_CATALOG: PriceCatalog = load();
