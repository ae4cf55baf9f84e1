import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { call, sdk } from '../../api/client.ts';
import { useCan } from '../../app/session.tsx';
import { Button } from '../../ui/button.tsx';
import { Field, Select } from '../../ui/form.tsx';
import { ErrorText } from '../../ui/page.tsx';
import { toast } from '../../ui/toast.tsx';

/** On a completed run's page: its input and output as a new item of a dataset, in one click. */
export function AddToDataset({ runId }: { runId: string }) {
  const client = useQueryClient();
  const can = useCan('workflow:update');
  const list = useQuery({
    queryKey: ['datasets'],
    queryFn: () => call(sdk.api.GET('/api/v1/datasets')),
    enabled: can,
  });
  const [datasetId, setDatasetId] = useState('');
  const target = datasetId || list.data?.data[0]?.id || '';
  const add = useMutation({
    mutationFn: () =>
      call(
        sdk.api.POST('/api/v1/datasets/{id}/items/from-run', {
          params: { path: { id: target } },
          body: { runId },
        }),
      ),
    onSuccess: () => {
      const name = list.data?.data.find((d) => d.id === target)?.name ?? 'the dataset';
      toast.success(`Added to ${name}`);
      void client.invalidateQueries({ queryKey: ['datasets'] });
      void client.invalidateQueries({ queryKey: ['dataset-items', target] });
    },
  });
  if (!can || !list.data?.data.length) return null;
  return (
    <form
      aria-label="Add to dataset"
      className="mt-2 flex items-end gap-2"
      onSubmit={(e) => {
        e.preventDefault();
        add.mutate();
      }}
    >
      <Field>
        Dataset
        <Select value={target} onChange={(e) => setDatasetId(e.target.value)}>
          {list.data.data.map((d) => (
            <option key={d.id} value={d.id}>
              {d.name}
            </option>
          ))}
        </Select>
      </Field>
      <Button type="submit" size="sm" variant="outline" disabled={add.isPending}>
        Add to dataset
      </Button>
      <ErrorText error={add.error} />
    </form>
  );
}
