import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { call, sdk } from '../../api/client.ts';
import type { Member, Role, Seats } from '../../api/types.ts';
import { useCan, useMe } from '../../app/session.tsx';
import { Button } from '../../ui/button.tsx';
import { ConfirmButton } from '../../ui/confirm.tsx';
import { Field, Input, Select } from '../../ui/form.tsx';
import { formatTime } from '../../ui/format.ts';
import { ErrorText, PageHeader, Status } from '../../ui/page.tsx';
import { SortTh, Table, Td, Th, useSort } from '../../ui/table.tsx';
import { toast } from '../../ui/toast.tsx';

const ROLES: Role[] = ['owner', 'admin', 'member', 'viewer'];

const MEMBER_COLUMNS = {
  name: (m: Member) => m.name,
  email: (m: Member) => m.email,
  role: (m: Member) => m.role,
  joined: (m: Member) => m.joinedAt,
};

/** Members and their roles; invitations by email. */
export default function MembersPage() {
  const me = useMe();
  const client = useQueryClient();
  const canManage = useCan('member:manage');
  const members = useQuery({ queryKey: ['members'], queryFn: () => call(sdk.api.GET('/api/v1/members')) });
  const invitations = useQuery({
    queryKey: ['invitations'],
    queryFn: () => call(sdk.api.GET('/api/v1/invitations', { params: { query: { limit: 100 } } })),
  });
  const seats = useQuery({ queryKey: ['seats'], queryFn: () => call(sdk.api.GET('/api/v1/members/seats')) });
  const refresh = () => {
    void client.invalidateQueries({ queryKey: ['members'] });
    void client.invalidateQueries({ queryKey: ['invitations'] });
    void client.invalidateQueries({ queryKey: ['seats'] });
  };
  const setRole = useMutation({
    mutationFn: ({ userId, role }: { userId: string; role: Role }) =>
      call(sdk.api.PATCH('/api/v1/members/{userId}', { params: { path: { userId } }, body: { role } })),
    onSuccess: refresh,
  });
  const remove = useMutation({
    mutationFn: (userId: string) =>
      call(sdk.api.DELETE('/api/v1/members/{userId}', { params: { path: { userId } } })),
    onSuccess: refresh,
  });
  const revoke = useMutation({
    mutationFn: (id: string) =>
      call(sdk.api.DELETE('/api/v1/invitations/{id}', { params: { path: { id } } })),
    onSuccess: refresh,
  });
  const [email, setEmail] = useState('');
  const [role, setInviteRole] = useState<Role>('member');
  const invite = useMutation({
    mutationFn: () => call(sdk.api.POST('/api/v1/invitations', { body: { email, role } })),
    onSuccess: (i) => {
      toast.success(`Invitation sent: ${i.email}`);
      setEmail('');
      refresh();
    },
    // refused (all seats taken): the counts may have moved since the page loaded
    onError: refresh,
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    invite.mutate();
  };
  const { rows: membersShown, sort } = useSort(members.data?.data ?? [], MEMBER_COLUMNS);
  return (
    <section>
      <PageHeader title={`Members of ${me.organization.name}`} />
      {seats.data && <SeatsLine seats={seats.data} />}
      <ErrorText error={members.error ?? setRole.error ?? remove.error} />
      <Table>
        <thead>
          <tr>
            <SortTh sort={sort} column="name">
              Name
            </SortTh>
            <SortTh sort={sort} column="email">
              Email
            </SortTh>
            <SortTh sort={sort} column="role">
              Role
            </SortTh>
            <SortTh sort={sort} column="joined">
              Joined
            </SortTh>
            <Th />
          </tr>
        </thead>
        <tbody>
          {membersShown.map((m) => (
            <tr key={m.userId}>
              <Td>{m.name ?? '—'}</Td>
              <Td>{m.email}</Td>
              <Td>
                {canManage ? (
                  <Select
                    aria-label={`Role of ${m.email}`}
                    value={m.role}
                    onChange={(e) => setRole.mutate({ userId: m.userId, role: e.target.value as Role })}
                  >
                    {ROLES.map((r) => (
                      <option key={r}>{r}</option>
                    ))}
                  </Select>
                ) : (
                  m.role
                )}
              </Td>
              <Td>{formatTime(m.joinedAt)}</Td>
              <Td>
                {canManage && m.userId !== me.user?.id && (
                  <ConfirmButton
                    label="Remove"
                    size="sm"
                    question={`Remove ${m.email} from ${me.organization.name}?`}
                    onConfirm={() => remove.mutate(m.userId)}
                  />
                )}
              </Td>
            </tr>
          ))}
        </tbody>
      </Table>
      <h2>Invitations</h2>
      {canManage && (
        <form
          className="mb-3 flex flex-wrap items-end gap-3 [&>label]:min-w-32 [&>label]:flex-1"
          onSubmit={submit}
          aria-label="Invite someone"
        >
          <Field>
            Email
            <Input type="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
          </Field>
          <Field>
            Role
            <Select value={role} onChange={(e) => setInviteRole(e.target.value as Role)}>
              {ROLES.map((r) => (
                <option key={r}>{r}</option>
              ))}
            </Select>
          </Field>
          <Button type="submit" disabled={invite.isPending}>
            Send invitation
          </Button>
        </form>
      )}
      <ErrorText error={invite.error ?? revoke.error ?? invitations.error} />
      {invite.isSuccess && (
        <p className="my-1.5 text-sm text-success">Invitation mailed to {invite.data.email}.</p>
      )}
      {invitations.data && invitations.data.data.length === 0 && (
        <p className="text-xs font-normal text-muted-foreground">
          No invitations. Invite a teammate by email; they get a link to join.
        </p>
      )}
      {invitations.data && invitations.data.data.length > 0 && (
        <Table>
          <thead>
            <tr>
              <Th>Email</Th>
              <Th>Role</Th>
              <Th>State</Th>
              <Th>Expires</Th>
              <Th />
            </tr>
          </thead>
          <tbody>
            {invitations.data.data.map((i) => {
              const state = i.acceptedAt
                ? 'accepted'
                : i.revokedAt
                  ? 'revoked'
                  : new Date(i.expiresAt) < new Date()
                    ? 'expired'
                    : 'pending';
              return (
                <tr key={i.id}>
                  <Td>{i.email}</Td>
                  <Td>{i.role}</Td>
                  <Td>
                    <Status value={state} />
                  </Td>
                  <Td>{formatTime(i.expiresAt)}</Td>
                  <Td>
                    {canManage && state === 'pending' && (
                      <Button type="button" size="sm" onClick={() => revoke.mutate(i.id)}>
                        Revoke
                      </Button>
                    )}
                  </Td>
                </tr>
              );
            })}
          </tbody>
        </Table>
      )}
    </section>
  );
}

/** Seats of the plan: members and pending invitations (each holds a seat) against the plan's limit. */
function SeatsLine({ seats }: { seats: Seats }) {
  const full = seats.limit !== null && seats.used >= seats.limit;
  return (
    <p className={`mb-3 text-sm ${full ? 'font-medium text-destructive' : 'text-muted-foreground'}`}>
      Seats: {seats.used} of {seats.limit ?? 'unlimited'} used on the {seats.planName} plan ({seats.members}{' '}
      {seats.members === 1 ? 'member' : 'members'}, {seats.pendingInvitations} pending{' '}
      {seats.pendingInvitations === 1 ? 'invitation' : 'invitations'})
      {full ? '. All seats are taken: upgrade the plan on the Billing page, or revoke an invitation.' : ''}
    </p>
  );
}
