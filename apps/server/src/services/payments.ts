import { randomUUID } from 'node:crypto';

export type PaymentStatus = 'pending' | 'completed' | 'failed';

export interface ChargeRequest {
  organizationId: string;
  /** Decimal amount as a string ("9.99"): never a float. */
  amount: string;
  currency: string;
  description: string;
  /** Idempotency key: the same reference returns the same transaction. */
  reference: string;
}

export interface PaymentResult {
  status: PaymentStatus;
  transactionId: string;
}

/** How the platform takes money: one provider per deployment; an operator may replace the built-in one. */
export interface PaymentPort {
  name: string;
  charge(req: ChargeRequest): Promise<PaymentResult>;
  refund(transactionId: string, amount: string): Promise<{ status: PaymentStatus; transactionId: string }>;
}

/**
 * The built-in "manual / invoice" provider: no card network. A charge is recorded as pending with a
 * transaction id (the invoice reference) until someone marks it paid; the same reference returns the same
 * transaction. Amounts of zero complete at once. Refunds complete at once (money goes back by hand).
 */
export class ManualPayments implements PaymentPort {
  readonly name = 'manual';
  private readonly byReference = new Map<string, PaymentResult>();

  async charge(req: ChargeRequest): Promise<PaymentResult> {
    const known = this.byReference.get(req.reference);
    if (known) return { ...known };
    const result: PaymentResult = {
      status: /^0+(\.0+)?$/.test(req.amount) ? 'completed' : 'pending',
      transactionId: `manual_${randomUUID()}`,
    };
    this.byReference.set(req.reference, result);
    return { ...result };
  }

  async refund(transactionId: string, _amount: string) {
    return { status: 'completed' as const, transactionId };
  }
}
