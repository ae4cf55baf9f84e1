import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { del, get, patch, post } from '../../api/client.ts';
import type { Invitation, Member, Page, Role } from '../../api/types.ts';
import { useCan, useMe } from '../../app/session.tsx';
import { formatTime } from '../../ui/format.ts';
import { ErrorText, PageHeader, Status } from '../../ui/kit.tsx';

const ROLES: Role[] = ['owner', 'admin', 'member', 'viewer'];

/** Members and their roles; invitations by email. */
export default function MembersPage() {
  const me = useMe();
  const client = useQueryClient();
  const canManage = useCan('member:manage');
  const members = useQuery({ queryKey: ['members'], queryFn: () => get<Page<Member>>('/members?limit=500') });
  const invitations = useQuery({
    queryKey: ['invitations'],
    queryFn: () => get<Page<Invitation>>('/invitations?limit=100'),
  });
  const refresh = () => {
    void client.invalidateQueries({ queryKey: ['members'] });
    void client.invalidateQueries({ queryKey: ['invitations'] });
  };
  const setRole = useMutation({
    mutationFn: ({ userId, role }: { userId: string; role: Role }) => patch(`/members/${userId}`, { role }),
    onSuccess: refresh,
  });
  const remove = useMutation({
    mutationFn: (userId: string) => del(`/members/${userId}`),
    onSuccess: refresh,
  });
  const revoke = useMutation({ mutationFn: (id: string) => del(`/invitations/${id}`), onSuccess: refresh });
  const [email, setEmail] = useState('');
  const [role, setInviteRole] = useState<Role>('member');
  const invite = useMutation({
    mutationFn: () => post<Invitation>('/invitations', { email, role }),
    onSuccess: () => {
      setEmail('');
      refresh();
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    invite.mutate();
  };
  return (
    <section>
      <PageHeader title={`Members of ${me.organization.name}`} />
      <ErrorText error={members.error ?? setRole.error ?? remove.error} />
      <table>
        <thead>
          <tr>
            <th>Name</th>
            <th>Email</th>
            <th>Role</th>
            <th>Joined</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {(members.data?.data ?? []).map((m) => (
            <tr key={m.userId}>
              <td>{m.name ?? '—'}</td>
              <td>{m.email}</td>
              <td>
                {canManage ? (
                  <select
                    aria-label={`Role of ${m.email}`}
                    value={m.role}
                    onChange={(e) => setRole.mutate({ userId: m.userId, role: e.target.value as Role })}
                  >
                    {ROLES.map((r) => (
                      <option key={r}>{r}</option>
                    ))}
                  </select>
                ) : (
                  m.role
                )}
              </td>
              <td>{formatTime(m.joinedAt)}</td>
              <td>
                {canManage && m.userId !== me.user?.id && (
                  <button
                    type="button"
                    className="small danger"
                    onClick={() => {
                      if (window.confirm(`Remove ${m.email} from ${me.organization.name}?`))
                        remove.mutate(m.userId);
                    }}
                  >
                    Remove
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Invitations</h2>
      {canManage && (
        <form className="row inline-form" onSubmit={submit} aria-label="Invite someone">
          <label>
            Email
            <input type="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
          </label>
          <label>
            Role
            <select value={role} onChange={(e) => setInviteRole(e.target.value as Role)}>
              {ROLES.map((r) => (
                <option key={r}>{r}</option>
              ))}
            </select>
          </label>
          <button type="submit" disabled={invite.isPending}>
            Send invitation
          </button>
        </form>
      )}
      <ErrorText error={invite.error ?? revoke.error ?? invitations.error} />
      {invite.isSuccess && <p className="ok">Invitation mailed to {invite.data.email}.</p>}
      {invitations.data && invitations.data.data.length === 0 && (
        <p className="hint">No invitations. Invite a teammate by email; they get a link to join.</p>
      )}
      {invitations.data && invitations.data.data.length > 0 && (
        <table>
          <thead>
            <tr>
              <th>Email</th>
              <th>Role</th>
              <th>State</th>
              <th>Expires</th>
              <th />
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
                  <td>{i.email}</td>
                  <td>{i.role}</td>
                  <td>
                    <Status value={state} />
                  </td>
                  <td>{formatTime(i.expiresAt)}</td>
                  <td>
                    {canManage && state === 'pending' && (
                      <button type="button" className="small" onClick={() => revoke.mutate(i.id)}>
                        Revoke
                      </button>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}
