import { readFileSync, writeFileSync } from 'node:fs';
import { connect, type GlobalOptions } from './connect.ts';
import { UsageError } from './workflow-file.ts';

/** `aiops org export <org>`: the organization of the profile's credential, as an archive file. */
export async function orgExport(
  org: string,
  options: GlobalOptions & {
    out?: string;
    includeRuns?: boolean;
    from?: string;
    to?: string;
    password?: string;
  },
): Promise<void> {
  if (!options.out) throw new UsageError('--out <file>: where to write the archive');
  const { client } = connect(options);
  const current = await client.call(client.api.GET('/api/v1/organization'));
  if (![current.id, current.slug, current.name].includes(org)) {
    throw new UsageError(
      `the profile's credential is for organization ${current.name} (${current.slug}, ${current.id}), not ${org}: use a profile of ${org}`,
    );
  }
  const password = options.password ?? process.env.AIOPS_EXPORT_PASSWORD;
  const bytes = await client.call(
    client.api.POST('/api/v1/organization/export', {
      body: {
        includeRuns: options.includeRuns ?? false,
        ...(options.from ? { from: options.from } : {}),
        ...(options.to ? { to: options.to } : {}),
        ...(password ? { password } : {}),
      },
      parseAs: 'arrayBuffer',
    }),
  );
  const buffer = Buffer.from(bytes as unknown as ArrayBuffer);
  writeFileSync(options.out, buffer);
  process.stdout.write(
    `Exported ${current.name} to ${options.out} (${buffer.length} bytes; secrets ${password ? 'encrypted under the password' : 'left out'})\n`,
  );
}

/** `aiops org import <file>`: a new organization, owned by the profile's user, from an archive. */
export async function orgImport(
  file: string,
  options: GlobalOptions & { dryRun?: boolean; password?: string; name?: string; json?: boolean },
): Promise<void> {
  const archive = readFileSync(file).toString('base64');
  const { client } = connect(options);
  const password = options.password ?? process.env.AIOPS_EXPORT_PASSWORD;
  const report = await client.call(
    client.api.POST('/api/v1/organization/import', {
      body: {
        archive,
        dryRun: options.dryRun ?? false,
        ...(password ? { password } : {}),
        ...(options.name ? { name: options.name } : {}),
      },
    }),
  );
  if (options.json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return;
  }
  const lines = [
    report.dryRun
      ? `Dry run: would create organization ${report.organization.name}`
      : `Created organization ${report.organization.name} (${report.organization.id})`,
    ...Object.entries(report.create)
      .filter(([, n]) => n > 0)
      .map(([table, n]) => `  ${table}: ${n}`),
    `  secrets: ${report.secrets.imported} imported, ${report.secrets.omitted} left out`,
    ...report.refused.map((r) => `  refused ${r.table}${r.id ? ` ${r.id}` : ''}: ${r.reason}`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
