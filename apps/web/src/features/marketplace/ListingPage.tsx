import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useNavigate } from '@tanstack/react-router';
import { useState } from 'react';
import { call, sdk } from '../../api/client.ts';
import { Button } from '../../ui/button.tsx';
import { Field, Input, Select, Textarea } from '../../ui/form.tsx';
import { ErrorText, Loading, PageHeader, Status } from '../../ui/page.tsx';
import { toast } from '../../ui/toast.tsx';
import { price } from './MarketplacePage.tsx';

/** One listing: what it is, its reviews; buy it, install it, make an agent of it, rate it. */
export default function ListingPage({ id }: { id: string }) {
  const client = useQueryClient();
  const navigate = useNavigate();
  const q = useQuery({
    queryKey: ['listing', id],
    queryFn: () => call(sdk.api.GET('/api/v1/marketplace/listings/{id}', { params: { path: { id } } })),
  });
  const purchases = useQuery({
    queryKey: ['purchases'],
    queryFn: () => call(sdk.api.GET('/api/v1/marketplace/purchases')),
  });
  const refresh = () => {
    void client.invalidateQueries({ queryKey: ['listing', id] });
    void client.invalidateQueries({ queryKey: ['purchases'] });
  };
  const buy = useMutation({
    mutationFn: () =>
      call(
        sdk.api.POST('/api/v1/marketplace/listings/{id}/purchase', { params: { path: { id } }, body: {} }),
      ),
    onSuccess: (p) => {
      toast.success(
        p.paymentStatus === 'completed' ? 'Bought and installed' : 'Purchase recorded: payment pending',
      );
      refresh();
    },
  });
  const mine = purchases.data?.data.find((p) => p.listingId === id && p.paymentStatus !== 'failed');
  const install = useMutation({
    mutationFn: () =>
      call(
        sdk.api.POST('/api/v1/marketplace/purchases/{id}/install', { params: { path: { id: mine!.id } } }),
      ),
    onSuccess: () => {
      toast.success('Installed in your templates');
      refresh();
    },
  });
  const [agentName, setAgentName] = useState('');
  const makeAgent = useMutation({
    mutationFn: () =>
      call(
        sdk.api.POST('/api/v1/templates/{id}/agents', {
          params: { path: { id: mine!.installedTemplateId! } },
          body: { name: agentName || q.data!.listing.name },
        }),
      ),
    onSuccess: (r) => void navigate({ to: '/agents/$id', params: { id: r.agent.id } }),
  });
  const [rating, setRating] = useState('5');
  const [review, setReview] = useState('');
  const rate = useMutation({
    mutationFn: () =>
      call(
        sdk.api.POST('/api/v1/marketplace/listings/{id}/ratings', {
          params: { path: { id } },
          body: { rating: Number(rating), review: review || null },
        }),
      ),
    onSuccess: () => {
      toast.success('Thanks for rating');
      setReview('');
      refresh();
    },
  });
  if (q.isPending) return <Loading />;
  if (!q.data) return <ErrorText error={q.error} />;
  const { listing: l, ratings } = q.data;
  return (
    <section className="max-w-3xl">
      <PageHeader title={l.name}>
        <Status value={l.status} />
      </PageHeader>
      <p className="text-sm text-muted-foreground">
        by {l.sellerName}
        {l.category ? ` · ${l.category.replace(/_/g, ' ')}` : ''} · version {l.templateVersion}
      </p>
      <p className="my-3 whitespace-pre-wrap">{l.description}</p>
      <dl className="mb-4 grid grid-cols-[max-content_1fr] gap-x-4 gap-y-1 text-sm">
        <dt className="font-semibold">Price</dt>
        <dd data-testid="listing-price">{price(l)}</dd>
        <dt className="font-semibold">Rating</dt>
        <dd data-testid="listing-rating">
          ★ {l.rating} from {l.ratingCount} rating{l.ratingCount === 1 ? '' : 's'}
        </dd>
        <dt className="font-semibold">Used</dt>
        <dd>{l.usageCount} times</dd>
        <dt className="font-semibold">Capabilities</dt>
        <dd>{l.capabilities.join(', ') || '—'}</dd>
        <dt className="font-semibold">Runs on</dt>
        <dd>{l.allowedIntegrations.join(', ') || 'any provider'}</dd>
      </dl>
      {l.mine ? (
        <p className="text-sm">This is your organization's template.</p>
      ) : !mine ? (
        <Button onClick={() => buy.mutate()} disabled={buy.isPending}>
          {Number(l.price) === 0 ? 'Get it free' : `Buy for ${price(l)}`}
        </Button>
      ) : (
        <div className="space-y-2 rounded-lg border bg-card p-4" data-testid="my-purchase">
          <p className="text-sm">
            Your purchase: <Status value={mine.paymentStatus} /> · paid {mine.price} {mine.currency} ·
            transaction <code>{mine.transactionId}</code>
          </p>
          {mine.paymentStatus === 'pending' && (
            <p className="text-sm text-muted-foreground">
              Payment by invoice: it installs once the seller confirms your payment.
            </p>
          )}
          {mine.paymentStatus === 'completed' && !mine.installedTemplateId && (
            <Button onClick={() => install.mutate()} disabled={install.isPending}>
              Install
            </Button>
          )}
          {mine.installedTemplateId && (
            <form
              className="flex items-end gap-2"
              onSubmit={(e) => {
                e.preventDefault();
                makeAgent.mutate();
              }}
            >
              <Field className="mb-0">
                Agent name
                <Input
                  value={agentName}
                  onChange={(e) => setAgentName(e.target.value)}
                  placeholder={l.name}
                />
              </Field>
              <Button type="submit" disabled={makeAgent.isPending}>
                Create agent from it
              </Button>
            </form>
          )}
        </div>
      )}
      <ErrorText error={buy.error ?? install.error ?? makeAgent.error} />

      <h2 className="mt-6 mb-2 text-lg font-semibold">Ratings and reviews</h2>
      {l.purchased && (
        <form
          className="mb-4 space-y-2 rounded-lg border bg-card p-4"
          onSubmit={(e) => {
            e.preventDefault();
            rate.mutate();
          }}
        >
          <Field>
            Your rating
            <Select value={rating} onChange={(e) => setRating(e.target.value)}>
              {[5, 4, 3, 2, 1].map((r) => (
                <option key={r} value={r}>
                  {r} star{r === 1 ? '' : 's'}
                </option>
              ))}
            </Select>
          </Field>
          <Field>
            Review (optional)
            <Textarea value={review} onChange={(e) => setReview(e.target.value)} rows={3} maxLength={5000} />
          </Field>
          <ErrorText error={rate.error} />
          <Button type="submit" disabled={rate.isPending}>
            Rate
          </Button>
        </form>
      )}
      {ratings.length === 0 ? (
        <p className="text-sm text-muted-foreground">No ratings yet.</p>
      ) : (
        <ul className="space-y-2" aria-label="Reviews">
          {ratings.map((r) => (
            <li key={r.id} className="rounded-md border p-3 text-sm">
              <p className="font-semibold">
                {'★'.repeat(r.rating)}
                {'☆'.repeat(5 - r.rating)} <span className="font-normal">{r.userName ?? 'A buyer'}</span>
              </p>
              {r.review && <p className="mt-1 whitespace-pre-wrap">{r.review}</p>}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
