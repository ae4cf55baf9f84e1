import type { paths } from '@aiops/sdk';
import { useQuery } from '@tanstack/react-query';
import { Link } from '@tanstack/react-router';
import { useState } from 'react';
import { call, sdk } from '../../api/client.ts';
import { Field, FieldRow, Input, Select } from '../../ui/form.tsx';
import { Empty, ErrorText, PageHeader } from '../../ui/page.tsx';

type ListingQuery = NonNullable<paths['/api/v1/marketplace/listings']['get']['parameters']['query']>;

export const price = (l: { price: string; currency: string }) =>
  Number(l.price) === 0 ? 'Free' : `${l.price} ${l.currency}`;

/** Published templates of every organization: search, filter, open one to buy it. */
export default function MarketplacePage() {
  const [f, setF] = useState({
    q: '',
    category: '',
    capability: '',
    maxPrice: '',
    minRating: '',
    sort: 'rating',
  });
  const set = (k: keyof typeof f) => (e: { target: { value: string } }) =>
    setF({ ...f, [k]: e.target.value });
  const query: ListingQuery = {
    q: f.q || undefined,
    category: f.category || undefined,
    capability: f.capability || undefined,
    maxPrice: /^\d+(\.\d{1,2})?$/.test(f.maxPrice) ? f.maxPrice : undefined,
    minRating: f.minRating ? Number(f.minRating) : undefined,
    // one of the Sort select's options
    sort: f.sort as ListingQuery['sort'],
  };
  const q = useQuery({
    queryKey: ['listings', query],
    queryFn: () => call(sdk.api.GET('/api/v1/marketplace/listings', { params: { query } })),
  });
  return (
    <section>
      <PageHeader title="Marketplace" />
      <FieldRow>
        <Field>
          Search
          <Input value={f.q} onChange={set('q')} placeholder="name or description" />
        </Field>
        <Field>
          Category
          <Select value={f.category} onChange={set('category')}>
            <option value="">All</option>
            {q.data?.categories.map((c) => (
              <option key={c} value={c}>
                {c.replace(/_/g, ' ')}
              </option>
            ))}
          </Select>
        </Field>
        <Field>
          Capability
          <Input value={f.capability} onChange={set('capability')} placeholder="e.g. classification" />
        </Field>
        <Field>
          Max price (USD)
          <Input value={f.maxPrice} onChange={set('maxPrice')} inputMode="decimal" />
        </Field>
        <Field>
          Min rating
          <Select value={f.minRating} onChange={set('minRating')}>
            <option value="">Any</option>
            {[4, 3, 2, 1].map((r) => (
              <option key={r} value={r}>
                {r}+
              </option>
            ))}
          </Select>
        </Field>
        <Field>
          Sort by
          <Select value={f.sort} onChange={set('sort')}>
            <option value="rating">Rating</option>
            <option value="newest">Newest</option>
            <option value="price">Price</option>
            <option value="usage">Usage</option>
          </Select>
        </Field>
      </FieldRow>
      <ErrorText error={q.error} />
      {q.data && q.data.data.length === 0 && (
        <Empty title="Nothing here yet">
          <p>No published template matches. Publish one of yours from My templates.</p>
        </Empty>
      )}
      <ul className="grid grid-cols-[repeat(auto-fill,minmax(280px,1fr))] gap-3">
        {q.data?.data.map((l) => (
          <li key={l.id} className="flex flex-col gap-1.5 rounded-lg border bg-card p-4">
            <h3 className="text-base font-semibold">
              <Link to="/marketplace/$id" params={{ id: l.id }}>
                {l.name}
              </Link>
            </h3>
            <p className="text-xs text-muted-foreground">
              by {l.sellerName}
              {l.category ? ` · ${l.category.replace(/_/g, ' ')}` : ''}
            </p>
            <p className="line-clamp-3 text-sm">{l.description}</p>
            <p className="mt-auto flex items-center justify-between text-sm">
              <strong>{price(l)}</strong>
              <span>
                ★ {l.rating} ({l.ratingCount}) · {l.usageCount} uses
              </span>
            </p>
            {(l.mine || l.purchased) && (
              <p className="text-xs font-semibold text-muted-foreground">{l.mine ? 'Yours' : 'Purchased'}</p>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}
