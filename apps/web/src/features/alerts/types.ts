import type { paths } from '@aiops/sdk';
import type { JsonContent } from '../../api/types.ts';

/** The alerts API's shapes, from the SDK's types of its routes (generated from the OpenAPI document). */
export type Rule = JsonContent<paths['/api/v1/alerts/rules']['get']['responses'][200]>['data'][number];
export type AlertRow = JsonContent<paths['/api/v1/alerts']['get']['responses'][200]>['data'][number];
export type Kind = Rule['condition']['kind'];
export type SubjectType = Rule['subjectType'];
export type Severity = Rule['severity'];
/** The inbox's status filter (`unresolved`: open or acknowledged). */
export type StatusFilter = NonNullable<
  NonNullable<paths['/api/v1/alerts']['get']['parameters']['query']>['status']
>;
