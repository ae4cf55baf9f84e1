import type { WorkflowDto } from '@aiops/contracts';
import type { WorkflowRow, WorkflowVersionRow } from '@aiops/engine';

export function workflowDto(row: WorkflowRow): WorkflowDto {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    status: row.status,
    version: row.version,
    definition: row.definition,
    executionTimeout: row.executionTimeout,
    maxRetries: row.maxRetries,
    analytics: {
      totalExecutions: row.totalExecutions,
      successfulExecutions: row.successfulExecutions,
      failedExecutions: row.failedExecutions,
      averageDurationMs: row.averageDuration,
      averageCost: row.averageCost === null ? null : Number(row.averageCost),
      lastRunAt: row.lastRunAt?.toISOString() ?? null,
      lastRunStatus: row.lastRunStatus,
    },
    createdBy: row.createdBy,
    updatedBy: row.updatedBy,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export function summaryDto(row: WorkflowRow) {
  const { definition: _definition, ...rest } = workflowDto(row);
  return rest;
}

export function versionDto(v: WorkflowVersionRow) {
  return {
    version: v.version,
    name: v.name,
    description: v.description,
    definition: v.definition,
    changeNote: v.changeNote,
    createdBy: v.createdBy,
    createdAt: v.createdAt.toISOString(),
  };
}
