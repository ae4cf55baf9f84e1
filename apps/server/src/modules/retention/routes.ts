import { retentionSettingsSchema, updateRetentionBodySchema } from '@aiops/contracts';
import type { AppModule } from '../../module.ts';
import { getRetention, updateRetention } from './service.ts';

const tags = ['organization'];

/** The organization's retention periods: logs, metrics and executions (issue 14). */
export const retentionModule: AppModule = () => async (app) => {
  app.get(
    '/organization/retention',
    {
      config: { permission: 'organization:read' },
      schema: {
        tags,
        summary: 'Retention periods in days (logs, metrics, executions) and their defaults',
        response: { 200: retentionSettingsSchema },
      },
    },
    async (request) => getRetention(request),
  );
  app.put(
    '/organization/retention',
    {
      config: { permission: 'retention:manage' },
      schema: {
        tags,
        summary: 'Change retention periods (owners); applied by the daily retention job',
        body: updateRetentionBodySchema,
        response: { 200: retentionSettingsSchema },
      },
    },
    async (request) => updateRetention(request, request.body),
  );
};
