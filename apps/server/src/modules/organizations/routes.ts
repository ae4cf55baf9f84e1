import {
  acceptInvitationBodySchema,
  createInvitationBodySchema,
  idParamsSchema,
  invitationSchema,
  invitationTokenParamsSchema,
  listQuerySchema,
  listResponse,
  memberSchema,
  organizationSchema,
  patchMemberBodySchema,
  patchOrganizationBodySchema,
  seatsSchema,
  sessionResponseSchema,
  userIdParamsSchema,
} from '@aiops/contracts';
import { z } from 'zod';
import { authOf } from '../../http/auth.ts';
import { tenant } from '../../http/tenant.ts';
import type { AppModule } from '../../module.ts';
import { sessionBody } from '../auth/routes.ts';
import * as invitations from './invitation-service.ts';
import { countSeats } from './seats.ts';
import * as orgs from './service.ts';

const tags = ['organization'];

/** The caller's organization, its members and invitations. */
export const organizationsModule: AppModule = (deps) => async (app) => {
  app.get(
    '/organization',
    {
      config: { permission: 'organization:read' },
      schema: { tags, summary: 'The organization', response: { 200: organizationSchema } },
    },
    async (request) => orgs.getOrganization(request),
  );
  app.patch(
    '/organization',
    {
      config: { permission: 'authenticated' },
      schema: {
        tags,
        summary: 'Rename (organization:update); change tier or status (billing:manage)',
        body: patchOrganizationBodySchema,
        response: { 200: organizationSchema },
      },
    },
    async (request) => orgs.patchOrganization(request, request.body),
  );
  app.get(
    '/members',
    {
      config: { permission: 'member:read' },
      schema: {
        tags,
        summary: 'Members and their roles',
        response: { 200: z.object({ data: z.array(memberSchema) }) },
      },
    },
    async (request) => ({ data: await orgs.listMembers(request) }),
  );
  app.get(
    '/members/seats',
    {
      config: { permission: 'member:read' },
      schema: {
        tags,
        summary: "Seats of the organization's plan: the limit, members and pending invitations",
        response: { 200: seatsSchema },
      },
    },
    async (request) => {
      const orgId = authOf(request).organizationId;
      return tenant(request, (tx) => countSeats(tx, orgId));
    },
  );
  app.patch(
    '/members/:userId',
    {
      config: { permission: 'member:manage' },
      schema: {
        tags,
        summary: "Change a member's role or extra grants",
        params: userIdParamsSchema,
        body: patchMemberBodySchema,
        response: { 200: memberSchema },
      },
    },
    async (request) => orgs.patchMember(request, request.params.userId, request.body),
  );
  app.delete(
    '/members/:userId',
    {
      config: { permission: 'authenticated' },
      schema: {
        tags,
        summary: 'Remove a member (member:manage), or leave (your own id)',
        params: userIdParamsSchema,
      },
    },
    async (request, reply) => {
      await orgs.removeMember(request, request.params.userId);
      return reply.status(204).send();
    },
  );
  app.post(
    '/invitations',
    {
      config: { permission: 'member:manage' },
      schema: {
        tags,
        summary: 'Invite someone by email',
        body: createInvitationBodySchema,
        response: { 201: invitationSchema },
      },
    },
    async (request, reply) => reply.status(201).send(await invitations.invite(deps, request, request.body)),
  );
  app.get(
    '/invitations',
    {
      config: { permission: 'member:read' },
      schema: {
        tags,
        summary: 'Invitations, newest first',
        querystring: listQuerySchema,
        response: { 200: listResponse(invitationSchema) },
      },
    },
    async (request) => invitations.listInvitations(request, request.query),
  );
  app.delete(
    '/invitations/:id',
    {
      config: { permission: 'member:manage' },
      schema: {
        tags,
        summary: 'Revoke a pending invitation',
        params: idParamsSchema,
        response: { 200: invitationSchema },
      },
    },
    async (request) => invitations.revokeInvitation(request, request.params.id),
  );
  app.post(
    '/invitations/:token/accept',
    {
      config: { permission: 'public' },
      schema: {
        tags,
        summary: 'Accept an invitation (signed in, or with name and password for a new account)',
        params: invitationTokenParamsSchema,
        body: acceptInvitationBodySchema.nullish(),
        response: { 200: sessionResponseSchema },
      },
    },
    async (request, reply) => {
      const r = await invitations.accept(deps, request, request.params.token, request.body ?? {});
      return sessionBody(deps, reply, r, request.body?.cookie);
    },
  );
};
