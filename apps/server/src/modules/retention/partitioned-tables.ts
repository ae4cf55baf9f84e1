/** Which retention period governs a table's rows (an organization's `organization_retention` row). */
export type RetentionKind = 'logs' | 'metrics' | 'executions';

export interface PartitionedTable {
  /** A table declared `PARTITION BY RANGE (<column>)` with an `organization_id` column. */
  table: string;
  /** The timestamptz partition key. */
  column: string;
  retention: RetentionKind;
}

/**
 * Every month-partitioned table, one line each (partitions `<table>_yYYYYmMM`, UTC months). The retention
 * job creates upcoming partitions for each, archives expired ones to AIOPS_ARCHIVE_DIR and drops them, and
 * deletes the rows of organizations whose period is shorter than the partitions kept.
 */
export const PARTITIONED_TABLES: PartitionedTable[] = [
  { table: 'agent_metrics', column: 'recorded_at', retention: 'logs' },
];

/** Seed defaults: logs 90 days, metrics 2 years (aggregated), executions 1 year. */
export const RETENTION_DEFAULTS = { logsDays: 90, metricsDays: 730, executionsDays: 365 } as const;

export const DAYS_COLUMN: Record<RetentionKind, 'logs_days' | 'metrics_days' | 'executions_days'> = {
  logs: 'logs_days',
  metrics: 'metrics_days',
  executions: 'executions_days',
};
export const DEFAULT_DAYS: Record<RetentionKind, number> = {
  logs: RETENTION_DEFAULTS.logsDays,
  metrics: RETENTION_DEFAULTS.metricsDays,
  executions: RETENTION_DEFAULTS.executionsDays,
};
