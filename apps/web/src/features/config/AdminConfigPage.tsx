import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { call, sdk } from '../../api/client.ts';
import type { AdminConfig, AdminConfigUpdate } from '../../api/types.ts';
import { Button } from '../../ui/button.tsx';
import { Check, Field, FieldRow, Hint, Input, Select, Textarea } from '../../ui/form.tsx';
import { ErrorText, PageHeader, Panel } from '../../ui/page.tsx';
import { Table, Td, Th } from '../../ui/table.tsx';
import { toast } from '../../ui/toast.tsx';
import { BackupsSection } from './BackupsSection.tsx';

type Flag = AdminConfig['flags'][number];
type Setting = AdminConfig['settings'][number];

const show = (v: unknown) => (v === null || v === undefined ? '' : JSON.stringify(v));

/** Admin → Configuration (platform admins): global flags and settings, per-organization overrides. */
export default function AdminConfigPage() {
  const client = useQueryClient();
  const q = useQuery({
    queryKey: ['admin-config'],
    queryFn: () => call(sdk.api.GET('/api/v1/admin/config')),
  });
  const save = useMutation({
    mutationFn: (body: AdminConfigUpdate) => call(sdk.api.PUT('/api/v1/admin/config', { body })),
    onSuccess: (r) => {
      client.setQueryData(['admin-config'], r);
      // The operator's own organization may be among those changed.
      void client.invalidateQueries({ queryKey: ['features'] });
      toast.success('Configuration saved: every process applies it within a second');
    },
  });
  return (
    <section>
      <PageHeader title="Configuration" />
      <p className="mb-3 max-w-3xl text-sm text-muted-foreground">
        Platform-wide feature flags and runtime settings. Changes are validated, audited and picked up by
        every API and worker process within a second, without a restart.
      </p>
      <ErrorText error={q.error} />
      <ErrorText error={save.error} />
      <h2 className="mb-2 text-base font-semibold">Feature flags</h2>
      {q.data?.flags.map((f) => (
        <FlagForm
          key={f.key}
          flag={f}
          busy={save.isPending}
          onSave={(value) => save.mutate({ flags: { [f.key]: value } })}
        />
      ))}
      <h2 className="mt-4 mb-2 text-base font-semibold">Runtime settings</h2>
      {q.data?.settings.map((s) => (
        <SettingForm
          key={s.key}
          setting={s}
          busy={save.isPending}
          onSave={(value) => save.mutate({ settings: { [s.key]: value } })}
        />
      ))}
      <h2 className="mt-4 mb-2 text-base font-semibold">Per-organization overrides</h2>
      {q.data && (
        <Overrides
          config={q.data}
          busy={save.isPending}
          onSave={(o) => save.mutate({ organizations: [o] })}
        />
      )}
      <BackupsSection />
    </section>
  );
}

function FlagForm({
  flag,
  busy,
  onSave,
}: {
  flag: Flag;
  busy: boolean;
  onSave: (v: Flag['value'] | null) => void;
}) {
  const [enabled, setEnabled] = useState(flag.value.enabled);
  const [percent, setPercent] = useState(String(flag.value.rolloutPercent));
  const [allow, setAllow] = useState(flag.value.allowOrganizations.join('\n'));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onSave({
      enabled,
      rolloutPercent: Number(percent),
      allowOrganizations: allow
        .split(/[\s,]+/)
        .map((s) => s.trim())
        .filter(Boolean),
    });
  };
  return (
    <Panel aria-label={flag.key}>
      <form onSubmit={submit}>
        <div className="mb-2 font-medium">{flag.key}</div>
        <Hint className="mb-2">
          {flag.description}. {flag.ownerToggle ? 'Owners may turn it off for their organization.' : ''}{' '}
          {flag.isSet ? '' : 'Not set: on for every organization.'}
        </Hint>
        <FieldRow>
          <Check>
            <input type="checkbox" checked={enabled} onChange={(e) => setEnabled(e.target.checked)} />
            Enabled
          </Check>
          <Field>
            Rollout (% of organizations)
            <Input
              type="number"
              min={0}
              max={100}
              step="any"
              value={percent}
              onChange={(e) => setPercent(e.target.value)}
            />
          </Field>
          <Field>
            Always on for (organization ids)
            <Textarea rows={1} value={allow} onChange={(e) => setAllow(e.target.value)} />
          </Field>
        </FieldRow>
        <div className="flex gap-2">
          <Button type="submit" size="sm" disabled={busy}>
            Save {flag.key}
          </Button>
          {flag.isSet && (
            <Button type="button" size="sm" variant="outline" disabled={busy} onClick={() => onSave(null)}>
              Reset to default
            </Button>
          )}
        </div>
      </form>
    </Panel>
  );
}

function SettingForm({
  setting,
  busy,
  onSave,
}: {
  setting: Setting;
  busy: boolean;
  onSave: (v: unknown) => void;
}) {
  const [text, setText] = useState(show(setting.value));
  const [error, setError] = useState<string | null>(null);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (text.trim() === '') return onSave(null);
    try {
      onSave(JSON.parse(text));
      setError(null);
    } catch {
      setError('Not JSON: strings in double quotes ("debug"), numbers as they are');
    }
  };
  return (
    <form onSubmit={submit} className="mb-2 flex flex-wrap items-end gap-2" aria-label={setting.key}>
      <Field className="mb-0 min-w-80 flex-1">
        {setting.key}
        <Input value={text} placeholder="default" onChange={(e) => setText(e.target.value)} />
        <Hint>
          {setting.description}. JSON; empty for the default.
          {setting.perOrganization ? ' Also per organization.' : ''}
        </Hint>
        {error && <span className="text-xs text-destructive">{error}</span>}
      </Field>
      <Button type="submit" size="sm" disabled={busy} className="mb-5">
        Save {setting.key}
      </Button>
    </form>
  );
}

function Overrides({
  config,
  busy,
  onSave,
}: {
  config: AdminConfig;
  busy: boolean;
  onSave: (o: { organizationId: string; key: string; value: unknown }) => void;
}) {
  const keys = [
    ...config.flags.map((f) => f.key),
    ...config.settings.filter((s) => s.perOrganization).map((s) => s.key),
  ];
  const [org, setOrg] = useState('');
  const [key, setKey] = useState(keys[0] ?? '');
  const [value, setValue] = useState('false');
  const isFlag = config.flags.some((f) => f.key === key);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onSave({ organizationId: org.trim(), key, value: isFlag ? value === 'true' : Number(value) });
  };
  return (
    <>
      <form onSubmit={submit} aria-label="Add override">
        <FieldRow>
          <Field>
            Organization id
            <Input required value={org} onChange={(e) => setOrg(e.target.value)} />
          </Field>
          <Field>
            Key
            <Select
              value={key}
              onChange={(e) => {
                setKey(e.target.value);
                setValue(config.flags.some((f) => f.key === e.target.value) ? 'false' : '600');
              }}
            >
              {keys.map((k) => (
                <option key={k}>{k}</option>
              ))}
            </Select>
          </Field>
          {isFlag ? (
            <Field>
              Value
              <Select value={value} onChange={(e) => setValue(e.target.value)}>
                <option value="false">Off</option>
                <option value="true">On</option>
              </Select>
            </Field>
          ) : (
            <Field>
              Value
              <Input type="number" min={1} value={value} onChange={(e) => setValue(e.target.value)} />
            </Field>
          )}
          <Button type="submit" disabled={busy} className="mb-3">
            Set override
          </Button>
        </FieldRow>
      </form>
      <Table aria-label="Overrides">
        <thead>
          <tr>
            <Th>Organization</Th>
            <Th>Set by</Th>
            <Th>Key</Th>
            <Th>Value</Th>
            <Th>
              <span className="sr-only">Actions</span>
            </Th>
          </tr>
        </thead>
        <tbody>
          {config.overrides.length === 0 && (
            <tr>
              <Td colSpan={5} className="text-muted-foreground">
                No overrides.
              </Td>
            </tr>
          )}
          {config.overrides.map((o) => (
            <tr key={`${o.organizationId}${o.layer}${o.key}`}>
              <Td>
                {o.organizationName ?? '—'}
                <div className="text-xs text-muted-foreground">{o.organizationId}</div>
              </Td>
              <Td>{o.layer === 'operator' ? 'operator' : 'owner'}</Td>
              <Td>{o.key}</Td>
              <Td>{show(o.value)}</Td>
              <Td>
                {o.layer === 'operator' && (
                  <Button
                    size="sm"
                    variant="outline"
                    disabled={busy}
                    onClick={() => onSave({ organizationId: o.organizationId, key: o.key, value: null })}
                  >
                    Remove
                  </Button>
                )}
              </Td>
            </tr>
          ))}
        </tbody>
      </Table>
    </>
  );
}
