import type { paths } from '@aiops/sdk';
import { useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { API, apiError, call, sdk } from '../../api/client.ts';
import type { JsonContent } from '../../api/types.ts';
import { switchOrg, useCan } from '../../app/session.tsx';
import { Button } from '../../ui/button.tsx';
import { Check, Field, FieldRow, Hint, Input } from '../../ui/form.tsx';
import { ErrorText, PageHeader } from '../../ui/page.tsx';
import { Table, Td, Th } from '../../ui/table.tsx';
import { toast } from '../../ui/toast.tsx';

type ImportReport = JsonContent<paths['/api/v1/organization/import']['post']['responses'][200]>;

const label = (table: string) => table.replace(/_/g, ' ');

/** POST /organization/export answers a file: fetched as a blob and handed to the browser as a download. */
async function downloadExport(body: Record<string, unknown>): Promise<string> {
  // The session probe renews an expired access cookie (the raw fetch below does not retry after 401).
  await call(sdk.api.GET('/api/v1/auth/session'));
  const res = await fetch(`${API}/organization/export`, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) {
    throw apiError(res, await res.json().catch(() => undefined));
  }
  const name =
    /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1] ??
    'organization.aiops.json.gz';
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  return name;
}

function readBase64(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).replace(/^data:[^,]*,/, ''));
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

function ExportForm() {
  const canExport = useCan('organization:export');
  const [includeRuns, setIncludeRuns] = useState(false);
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const name = await downloadExport({
        includeRuns,
        ...(includeRuns && from ? { from: new Date(`${from}T00:00:00Z`).toISOString() } : {}),
        ...(includeRuns && to ? { to: new Date(`${to}T00:00:00Z`).toISOString() } : {}),
        ...(password ? { password } : {}),
      });
      toast.success(`Exported ${name}`);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form
      aria-label="Export organization"
      className="mb-6 max-w-2xl rounded-lg border bg-card p-4 shadow-xs"
      onSubmit={submit}
    >
      <h2 className="mb-2 font-semibold">Export organization</h2>
      <p className="mb-3 text-sm text-muted-foreground">
        Agents, workflows, triggers, evaluators, datasets, terminology, templates, integrations and settings,
        with every version, in one file. Import it here or on another instance.
      </p>
      <Check>
        <input type="checkbox" checked={includeRuns} onChange={(e) => setIncludeRuns(e.target.checked)} />
        Include runs and logs
      </Check>
      {includeRuns && (
        <FieldRow>
          <Field>
            From (UTC)
            <Input type="date" value={from} onChange={(e) => setFrom(e.target.value)} />
          </Field>
          <Field>
            To (UTC, excluded)
            <Input type="date" value={to} onChange={(e) => setTo(e.target.value)} />
          </Field>
        </FieldRow>
      )}
      <Field>
        Export password (optional)
        <Input
          type="password"
          autoComplete="new-password"
          minLength={8}
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
        <Hint>
          With a password, secrets (integration keys, webhook secrets) are encrypted under it; without one
          they are left out.
        </Hint>
      </Field>
      <ErrorText error={error} />
      {!canExport && <p className="text-sm text-muted-foreground">Only owners and admins can export.</p>}
      <Button type="submit" disabled={!canExport || busy}>
        Export organization
      </Button>
    </form>
  );
}

function ReportTable({ report }: { report: ImportReport }) {
  return (
    <div className="mt-3">
      <Table aria-label="Import report">
        <thead>
          <tr>
            <Th>What</Th>
            <Th>{report.dryRun ? 'Will be created' : 'Created'}</Th>
          </tr>
        </thead>
        <tbody>
          {Object.entries(report.create).map(([table, n]) => (
            <tr key={table}>
              <Td>{label(table)}</Td>
              <Td>{n}</Td>
            </tr>
          ))}
          <tr>
            <Td>secrets</Td>
            <Td>
              {report.secrets.imported} imported, {report.secrets.omitted} left out
            </Td>
          </tr>
        </tbody>
      </Table>
      {report.refused.length > 0 && (
        <ul aria-label="Refused" className="mt-2 list-disc pl-5 text-sm text-destructive">
          {report.refused.map((r, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: the list is fixed once shown
            <li key={i}>
              {label(r.table)}
              {r.id ? ` ${r.id}` : ''}: {r.reason}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function ImportForm() {
  const client = useQueryClient();
  const [file, setFile] = useState<File | null>(null);
  const [password, setPassword] = useState('');
  const [name, setName] = useState('');
  const [report, setReport] = useState<ImportReport | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const send = async (dryRun: boolean) => {
    if (!file) return;
    setBusy(true);
    setError(null);
    try {
      const r = await call(
        sdk.api.POST('/api/v1/organization/import', {
          body: {
            archive: await readBase64(file),
            dryRun,
            ...(password ? { password } : {}),
            ...(name ? { name } : {}),
          },
        }),
      );
      setReport(r);
      if (!dryRun) toast.success(`Created organization ${r.organization.name}`);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form
      aria-label="Import organization"
      className="max-w-2xl rounded-lg border bg-card p-4 shadow-xs"
      onSubmit={(e) => {
        e.preventDefault();
        void send(true);
      }}
    >
      <h2 className="mb-2 font-semibold">Import organization</h2>
      <p className="mb-3 text-sm text-muted-foreground">
        Creates a new organization, owned by you, from an export file. It is checked first; nothing is written
        until you import.
      </p>
      <Field>
        Export file
        <Input
          type="file"
          accept=".gz,.json,application/gzip,application/json"
          onChange={(e) => {
            setFile(e.target.files?.[0] ?? null);
            setReport(null);
          }}
        />
      </Field>
      <FieldRow>
        <Field>
          Export password
          <Input
            type="password"
            autoComplete="off"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </Field>
        <Field>
          New organization name
          <Input value={name} placeholder="as exported" onChange={(e) => setName(e.target.value)} />
        </Field>
      </FieldRow>
      <ErrorText error={error} />
      <div className="flex gap-1.5">
        <Button type="submit" variant="outline" disabled={!file || busy}>
          Check file
        </Button>
        {report?.dryRun && (
          <Button type="button" disabled={busy} onClick={() => void send(false)}>
            Import
          </Button>
        )}
        {report && !report.dryRun && report.organization.id && (
          <Button type="button" onClick={() => void switchOrg(client, report.organization.id!)}>
            Switch to {report.organization.name}
          </Button>
        )}
      </div>
      {report && <ReportTable report={report} />}
    </form>
  );
}

/** Organization export (a file) and import (a new organization from a file). */
export default function TransferPage() {
  return (
    <section>
      <PageHeader title="Export & import" />
      <ExportForm />
      <ImportForm />
    </section>
  );
}
