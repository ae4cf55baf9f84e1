import { AppError, badRequest } from '@aiops/core';
import { conversationAttachments, type Tx } from '@aiops/db';
import { inArray, sql } from 'drizzle-orm';

/** The largest file: 512 KiB (the text's UTF-8 bytes, or the image's decoded bytes). */
export const ATTACHMENT_MAX_BYTES = 512 * 1024;
/** What one organization may store in attachments altogether: 50 MiB. */
export const ATTACHMENTS_ORG_MAX_BYTES = 50 * 1024 * 1024;

export type AttachmentRow = typeof conversationAttachments.$inferSelect;

export function attachmentDto(r: AttachmentRow) {
  return {
    id: r.id,
    name: r.name,
    mediaType: r.mediaType,
    sizeBytes: r.sizeBytes,
    createdAt: r.createdAt.toISOString(),
  };
}

export async function storeAttachment(
  tx: Tx,
  scope: { organizationId: string; userId: string | null },
  body: { name: string; mediaType: string; text?: string | undefined; base64?: string | undefined },
): Promise<AttachmentRow> {
  const image = body.mediaType.startsWith('image/');
  if (image ? body.base64 === undefined : body.text === undefined)
    throw badRequest(image ? 'an image is sent as body.base64' : 'a text file is sent as body.text', {
      issues: [{ path: image ? 'body.base64' : 'body.text', message: 'required for this mediaType' }],
    });
  const data = image ? body.base64! : body.text!;
  const sizeBytes = image ? Buffer.from(data, 'base64').length : Buffer.byteLength(data, 'utf8');
  if (sizeBytes > ATTACHMENT_MAX_BYTES)
    throw new AppError(
      413,
      'payload_too_large',
      `the file is ${sizeBytes} bytes; the most is ${ATTACHMENT_MAX_BYTES}`,
      {
        retryable: false,
        details: { sizeBytes, maxBytes: ATTACHMENT_MAX_BYTES },
      },
    );
  const [used] = await tx
    .select({ bytes: sql<string>`coalesce(sum(${conversationAttachments.sizeBytes}), 0)` })
    .from(conversationAttachments);
  if (Number(used?.bytes ?? 0) + sizeBytes > ATTACHMENTS_ORG_MAX_BYTES)
    throw new AppError(
      413,
      'payload_too_large',
      `the organization's attachments would exceed ${ATTACHMENTS_ORG_MAX_BYTES} bytes: delete some first`,
      {
        retryable: false,
        details: { usedBytes: Number(used?.bytes ?? 0), maxBytes: ATTACHMENTS_ORG_MAX_BYTES },
      },
    );
  const [row] = await tx
    .insert(conversationAttachments)
    .values({
      organizationId: scope.organizationId,
      uploadedBy: scope.userId,
      name: body.name,
      mediaType: body.mediaType,
      sizeBytes,
      data,
    })
    .returning();
  return row!;
}

/** The attachments a message names, all of this organization (an unknown id is a 400). */
export async function loadAttachments(tx: Tx, ids: string[]): Promise<AttachmentRow[]> {
  if (!ids.length) return [];
  const rows = await tx
    .select()
    .from(conversationAttachments)
    .where(inArray(conversationAttachments.id, ids));
  const missing = ids.filter((id) => !rows.some((r) => r.id === id));
  if (missing.length)
    throw badRequest(
      `body.attachments: no attachment ${missing.join(', ')} in this organization (upload it first)`,
      {
        issues: [{ path: 'body.attachments', message: 'unknown attachment' }],
      },
    );
  return ids.map((id) => rows.find((r) => r.id === id)!);
}
