import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { API, call, sdk } from '../../api/client.ts';
import { Button } from '../../ui/button.tsx';
import { ErrorText } from '../../ui/page.tsx';
import { Table, Td, Th } from '../../ui/table.tsx';

const size = (bytes: number) =>
  bytes >= 1_048_576 ? `${(bytes / 1_048_576).toFixed(1)} MB` : `${Math.ceil(bytes / 1024)} KB`;

/**
 * Admin → Configuration → Backups: the schedule (AIOPS_BACKUP_*), the newest scheduled backups, and a
 * download of an online backup of the embedded database. On PostgreSQL: pg_dump.
 */
export function BackupsSection() {
  const client = useQueryClient();
  const q = useQuery({
    queryKey: ['admin-backups'],
    queryFn: () => call(sdk.api.GET('/api/v1/admin/backups')),
  });
  const [busy, setBusy] = useState(false);
  const download = async () => {
    setBusy(true);
    try {
      // The session probe renews an expired access cookie; the browser then streams the file to disk.
      await call(sdk.api.GET('/api/v1/auth/session'));
      const a = document.createElement('a');
      a.href = `${API}/admin/backups/download`;
      a.download = '';
      document.body.append(a);
      a.click();
      a.remove();
      void client.invalidateQueries({ queryKey: ['admin-backups'] });
    } finally {
      setBusy(false);
    }
  };
  const b = q.data;
  return (
    <>
      <h2 className="mt-4 mb-2 text-base font-semibold">Backups</h2>
      <ErrorText error={q.error} />
      {b && !b.embedded && (
        <p className="max-w-3xl text-sm text-muted-foreground" data-testid="backups-postgres">
          This server runs on PostgreSQL: back it up with pg_dump or point-in-time recovery (README "Backups
          of the database").
        </p>
      )}
      {b?.embedded && (
        <div className="space-y-2">
          <p className="max-w-3xl text-sm text-muted-foreground">
            A backup of the embedded database is taken while the server runs (requests wait a moment) and
            restores with <code>aiops restore &lt;file&gt;</code>.
          </p>
          <Button type="button" onClick={download} disabled={busy}>
            Download backup
          </Button>
          <p className="text-sm" data-testid="backups-schedule">
            {b.schedule
              ? `Scheduled: every ${b.schedule.everyHours} h into ${b.schedule.dir}, keeping the newest ${b.schedule.keep}.`
              : 'No scheduled backups: set AIOPS_BACKUP_DIR (and AIOPS_BACKUP_EVERY_HOURS, AIOPS_BACKUP_KEEP).'}
          </p>
          {b.recent.length > 0 && (
            <Table>
              <thead>
                <tr>
                  <Th>File</Th>
                  <Th>Size</Th>
                  <Th>Written</Th>
                </tr>
              </thead>
              <tbody>
                {b.recent.map((r) => (
                  <tr key={r.file}>
                    <Td>{r.file}</Td>
                    <Td>{size(r.bytes)}</Td>
                    <Td>{new Date(r.createdAt).toLocaleString()}</Td>
                  </tr>
                ))}
              </tbody>
            </Table>
          )}
        </div>
      )}
    </>
  );
}
