import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { call, sdk } from '../../api/client.ts';
import { Button } from '../../ui/button.tsx';
import { ErrorText, PageHeader } from '../../ui/page.tsx';
import { Table, Td, Th } from '../../ui/table.tsx';
import { toast } from '../../ui/toast.tsx';
import { featuresQuery, SOURCE_TEXT } from './features.ts';

/** Organization → Features: what is on for this organization; owners turn the optional ones off or on. */
export default function FeaturesPage() {
  const client = useQueryClient();
  const q = useQuery(featuresQuery);
  const save = useMutation({
    mutationFn: (v: { key: string; on: boolean }) =>
      call(sdk.api.PUT('/api/v1/organization/features', { body: { flags: { [v.key]: v.on } } })),
    onSuccess: (r, v) => {
      client.setQueryData(['features'], r);
      toast.success(`${v.key.replace('feature/', '')} turned ${v.on ? 'on' : 'off'}`);
    },
  });
  const canManage = q.data?.canManage ?? false;
  return (
    <section>
      <PageHeader title="Features" />
      <p className="mb-3 max-w-2xl text-sm text-muted-foreground">
        The features this organization has. Owners may turn optional features off (and back on); the others
        are set by the platform operator.
      </p>
      <ErrorText error={q.error} />
      <ErrorText error={save.error} />
      <Table aria-label="Features">
        <thead>
          <tr>
            <Th>Feature</Th>
            <Th>State</Th>
            <Th>Why</Th>
            <Th>
              <span className="sr-only">Actions</span>
            </Th>
          </tr>
        </thead>
        <tbody>
          {q.data?.flags.map((f) => (
            <tr key={f.key}>
              <Td>
                <div className="font-medium">{f.key}</div>
                <div className="text-xs text-muted-foreground">{f.description}</div>
              </Td>
              <Td>{f.enabled ? 'On' : 'Off'}</Td>
              <Td className="text-muted-foreground">{SOURCE_TEXT[f.source]}</Td>
              <Td>
                {f.ownerToggle && canManage && f.offered ? (
                  <Button
                    size="sm"
                    variant="outline"
                    disabled={save.isPending}
                    aria-label={`${f.enabled ? 'Turn off' : 'Turn on'} ${f.key}`}
                    onClick={() => save.mutate({ key: f.key, on: !f.enabled })}
                  >
                    {f.enabled ? 'Turn off' : 'Turn on'}
                  </Button>
                ) : (
                  <span className="text-xs text-muted-foreground">
                    {f.ownerToggle ? (canManage ? 'not offered' : 'owners only') : 'platform operator'}
                  </span>
                )}
              </Td>
            </tr>
          ))}
        </tbody>
      </Table>
    </section>
  );
}
